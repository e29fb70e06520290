"""What the sign-in shows: the form, the reasons a sign-in is refused, the user's badge.

Every text in the reader's language; none holds a number from the study (nothing of the
study is read before somebody is signed in). Names typed by the user or sent by a proxy
are never echoed back (a refused name could be anybody's). The logic is
:mod:`dashboard.auth`'s.
"""

from __future__ import annotations

import math

import streamlit as st

from analysis.access.config import AccessConfig
from analysis.access.identity import Session
from analysis.access.roles import Role
from analysis.errors import LoginRefused
from dashboard.i18n import t, tn
from dashboard.safe_text import md_literal


def role_words(role: Role) -> str:
    """The role's name in the reader's language."""
    return {Role.ADMIN: t("administrator"), Role.ANALYST: t("analyst"),
            Role.PLANNER: t("planner"), Role.DONOR: t("donor")}[Role(role)]


def sign_in_title() -> None:
    """The sign-in page's title (once per run)."""
    st.title(t("Sign in to Desistance"))


def sign_in_form() -> tuple[str, str] | None:
    """The user name and password form: ``(name, password)`` when submitted, else None.

    The form is cleared on submit, so the password does not stay in the browser's state.
    """
    with st.form("access-sign-in", clear_on_submit=True, enter_to_submit=True):
        name = st.text_input(t("User name"), key="access-user", autocomplete="username")
        password = st.text_input(t("Password"), type="password", key="access-password",
                                 autocomplete="current-password")
        submitted = st.form_submit_button(t("Sign in"), type="primary", key="access-submit")
    if not submitted:
        return None
    return name.strip(), password


def sign_in_again_button() -> bool:
    """A "Sign in again" button (the proxy or the identity server still vouches)."""
    return st.button(t("Sign in again"), type="primary", key="access-again")


def identity_server_button() -> bool:
    """The button that opens the organisation's identity server (``st.login``)."""
    st.info(t("Sign in with your organisation's account: the button opens its sign-in "
              "page, which brings you back here."), icon=":material/login:")
    return st.button(t("Sign in with the organisation's account"), type="primary",
                     key="access-oidc")


def ended_notice(ended: str | None, config: AccessConfig) -> None:
    """Why the last session ended, above the sign-in (nothing when none ended)."""
    if ended == "idle":
        st.warning(tn("Your session expired after {n} minute without activity. Sign in "
                      "again to go on.",
                      "Your session expired after {n} minutes without activity. Sign in "
                      "again to go on.", config.session_idle_minutes),
                   icon=":material/timer_off:")
    elif ended == "over":
        st.warning(tn("Your session reached its limit of {n} hour. Sign in again to go on.",
                      "Your session reached its limit of {n} hours. Sign in again to go on.",
                      config.session_max_hours),
                   icon=":material/timer_off:")
    elif ended == "account":
        st.warning(t("Your account was disabled or removed, so your session ended."),
                   icon=":material/person_off:")
    elif ended == "signed_out":
        st.info(t("You are signed out."), icon=":material/logout:")


def refused(exc: LoginRefused, method: str) -> None:
    """Why this sign-in is refused, in the reader's language (no data is shown)."""
    reason = exc.reason
    if reason == "no_header" and method == "oidc":
        st.error(t("The organisation's identity server did not say who you are, so nobody "
                   "is signed in. Ask the dashboard's administrator."), icon=":material/lock:")
        return
    if reason == "unknown_or_wrong":
        st.error(t("The user name or the password is wrong."), icon=":material/lock:")
    elif reason == "disabled":
        st.error(t("This account is disabled. Ask the dashboard's administrator to enable "
                   "it."), icon=":material/person_off:")
    elif reason == "throttled":
        minutes = max(1, math.ceil(exc.retry_after / 60))
        st.error(tn("Too many failed sign-ins. Try again in {n} minute.",
                    "Too many failed sign-ins. Try again in {n} minutes.", minutes),
                 icon=":material/timer:")
    elif reason == "no_header":
        st.error(t("The organisation's reverse proxy sent no user name, so nobody is "
                   "signed in. Open the dashboard through the proxy's address."),
                 icon=":material/lock:")
    elif reason == "forged_header":
        st.error(t("This connection did not come through the organisation's reverse proxy, "
                   "so the user name it carries is not trusted and no data are shown. Open "
                   "the dashboard through the proxy's address."), icon=":material/gpp_bad:")
    elif reason == "not_an_account":
        st.error(t("You are known to the organisation, but the dashboard has no account "
                   "for you. Ask the dashboard's administrator to add one."),
                 icon=":material/person_off:")
    else:  # "expired" and anything new: the message says what happened
        st.error(md_literal(exc), icon=":material/lock:")


def user_badge(session: Session, method: str) -> bool:
    """Who is signed in, and their role, in the sidebar; True when "Sign out" is clicked.

    Behind a reverse proxy the proxy signs users in and out: no button there.
    """
    with st.sidebar:
        st.caption(t("Signed in as {user} ({role})", user=md_literal(session.user),
                     role=role_words(session.scope.role)))
        if method == "header":
            return False
        return st.button(t("Sign out"), key="access-sign-out", icon=":material/logout:")


def config_error(exc: Exception) -> None:
    """The access configuration cannot be read: no data, and why (for the administrator)."""
    st.title(t("Sign in to Desistance"))
    st.error(t("The dashboard's access configuration cannot be used, so no data are "
               "shown. The administrator can correct it:"), icon=":material/error:")
    st.code(str(exc), language=None)
