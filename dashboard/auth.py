"""Who is using the dashboard: sign-in, sessions, the user's scope and the audit trail.

With no access configuration beside the study database (``STUDY.duckdb.access.toml``,
:mod:`analysis.access.config`), the dashboard belongs to the single analyst on their own
machine: :func:`require_user` returns :data:`~analysis.access.roles.LOCAL`, and the router
serves loopback addresses only (:mod:`dashboard.serving`). With one, the router calls
:func:`require_user` on every run, before anything reads the database, and it identifies
the user by the configured method:

- ``accounts``: the sign-in form (:mod:`dashboard.login`), checked by
  :func:`analysis.access.identity.sign_in` against the built-in accounts, with one
  :class:`~analysis.access.throttle.LoginThrottle` per server process (repeated failures
  per user name and per client address are refused for a while);
- ``header``: the user named by an authenticating reverse proxy, read from the headers of
  the request that opened the session (:func:`request_headers`) and trusted only when the
  proxy's secret header matches (:func:`analysis.access.identity.header_user`): a direct
  connection that forges the user header is refused;
- ``oidc``: Streamlit's ``st.login`` with the organisation's identity server; the claims
  of ``st.user`` name the account (:func:`analysis.access.identity.oidc_user`).

The signed-in user's :class:`~analysis.access.identity.Session` is kept in
``st.session_state["access_session"]`` (:data:`SESSION_KEY`). It ends after
``session_idle_minutes`` without a run, after ``session_max_hours`` in all, when the
account is disabled or removed, and at "Sign out". Until somebody is signed in, the run
stops (``st.stop()``) with a message and no data.

:func:`record` writes an entry of the audit trail (``STUDY.duckdb.audit.jsonl``,
:mod:`analysis.access.audit`) for the signed-in user; :func:`deferred` does it for a
download made after the page's run.
"""

from __future__ import annotations

import functools
import os
import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any, NoReturn

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analysis.access.accounts import Account, AccountStore
from analysis.access.audit import AuditLog
from analysis.access.config import AccessConfig, access_paths, load_access_config, scope_for
from analysis.access.identity import (
    Session,
    header_user,
    oidc_user,
    session_status,
    sign_in,
    start_session,
)
from analysis.access.roles import LOCAL, Scope
from analysis.access.throttle import LoginThrottle
from analysis.errors import LoginRefused
from analysis.store import resolve_db_path
from dashboard import login

#: Session-state key of the signed-in user's Session (tests may put one there).
SESSION_KEY = "access_session"
#: Why the last session ended ("idle", "over", "signed_out", "account"): said on the form.
_ENDED = "_access_ended"
#: The last page view written to the audit trail in this session (not written twice).
_LAST_VIEW = "_access_last_view"


@functools.lru_cache(maxsize=16)
def _resolved(configured: str, cwd: str) -> Path:
    # As dashboard.cache and `desist serve` resolve it (symbolic links too), so that all
    # three find the same access files; once per configured path and working folder.
    return (Path(cwd) / configured).resolve()


def database_path() -> Path:
    """The study database the dashboard serves (``DESIST_DB``), as an absolute path."""
    return _resolved(str(resolve_db_path(None)), os.getcwd())


@functools.lru_cache(maxsize=8)
def _load(db: str, mtime_ns: int) -> AccessConfig | None:
    # mtime_ns is only part of the key: an edited file is read again on the next run.
    return load_access_config(db)


def access_config() -> AccessConfig | None:
    """The access configuration beside the study database; ``None`` when there is none.

    Read again whenever the file changes. Raises
    :class:`analysis.errors.InvalidAccessConfigError` when the file cannot be used.
    """
    db = database_path()
    try:
        mtime_ns = access_paths(db).config.stat().st_mtime_ns
    except FileNotFoundError:
        return None
    return _load(str(db), mtime_ns)


@st.cache_resource(show_spinner=False)
def _throttle(db: str, max_failures: int, window_seconds: float) -> LoginThrottle:
    # One per server process (shared by every session): failures from another browser
    # tab, or a script opening new sessions, count together.
    return LoginThrottle(max_failures=max_failures, window_seconds=window_seconds)


def login_throttle(config: AccessConfig) -> LoginThrottle:
    """The server process's :class:`LoginThrottle` for this database and configuration."""
    return _throttle(str(database_path()), config.max_failures,
                     config.failure_window_minutes * 60.0)


def request_headers() -> Mapping[str, str]:
    """The headers of the request that opened this session (the reverse proxy's).

    The one place the headers are read: a test replaces this function to send some.
    """
    return st.context.headers


def client_address() -> str | None:
    """The client's address (``None`` on this machine, or behind a proxy on it)."""
    address = st.context.ip_address
    return address if isinstance(address, str) else None  # AppTest gives a mock


def _store() -> AccountStore:
    return AccountStore.for_database(database_path())


def _audit() -> AuditLog:
    return AuditLog.for_database(database_path())


def _session() -> Session | None:
    session = st.session_state.get(SESSION_KEY)
    return session if isinstance(session, Session) else None


def require_user(pages: Sequence[Any] = ()) -> Scope:
    """The scope of the user of this run; stops the run until somebody is signed in.

    No access configuration: :data:`~analysis.access.roles.LOCAL`. Otherwise the
    session's user when the session is still valid (its last activity is now), else the
    configured sign-in: a form, the proxy's header or ``st.login``. A refused or
    missing identity shows why, and ``st.stop()`` ends the run before any data is read.

    ``pages`` (the app's ``st.Page`` objects, none of them the default) are registered,
    hidden, while nobody is signed in, so that the address a link opened
    (``/impact?program=...``) is still the one asked for once the user has signed in;
    none of them is run.
    """
    config = access_config()
    if config is None:
        st.session_state.pop(SESSION_KEY, None)
        return LOCAL
    now = time.time()
    session = _session()
    if session is not None:
        status = session_status(session, config, now)
        account = _store().get(session.user) if status == "active" else None
        if status == "active" and account is not None and not account.disabled:
            session = replace(session, scope=scope_for(account, config), last_seen=now)
            st.session_state[SESSION_KEY] = session
            if login.user_badge(session, config.method):
                sign_out(config)
            return session.scope
        reason = status if status != "active" else "account"
        _end(session, "session_expired" if reason in ("idle", "over") else "logout",
             reason=reason)
    return _identify(config, now, pages)


def _end(session: Session, event: str, **details: Any) -> None:
    _audit().append(event, user=session.user, **details)
    st.session_state.pop(SESSION_KEY, None)
    st.session_state.pop(_LAST_VIEW, None)
    st.session_state[_ENDED] = details.get("reason", "signed_out")


def sign_out(config: AccessConfig) -> None:
    """End this session (the sidebar's "Sign out"), and say so on the sign-in form."""
    session = _session()
    if session is not None:
        _end(session, "logout", reason="signed_out")
    if config.method == "oidc":
        st.logout()  # also forgets the identity server's cookie; opens a new session
    st.rerun()


def _not_signed_in() -> None:
    """The page of the address while nobody is signed in: never run."""


def _stop(pages: Sequence[Any]) -> NoReturn:
    """End a run in which nobody signed in, keeping the address the browser asked for.

    Without a navigation the browser's address falls back to the app's root, and the
    page a link asked for would be lost by the time the user has signed in.
    """
    if pages:
        # The root address opens this placeholder (never run), not a page of the app:
        # after signing in, a link to the root opens the role's first page, a link to a
        # page the role may not open is refused.
        placeholder = st.Page(_not_signed_in, title="Desistance", url_path="sign-in",
                              default=True)
        st.navigation([placeholder, *pages], position="hidden")
    st.stop()
    raise AssertionError("st.stop() returns only outside a Streamlit run")


def _identify(config: AccessConfig, now: float, pages: Sequence[Any]) -> Scope:
    ended = st.session_state.get(_ENDED)
    # The sign-in is drawn in a placeholder, emptied once somebody is signed in: the page
    # is then drawn in this same run. (A rerun instead would lose the page a link asked
    # for: Streamlit reruns the page of the run, and no page was chosen yet.)
    area = st.empty()
    with area.container():
        login.sign_in_title()
        try:
            if config.method == "accounts":
                account = _from_form(config, ended)
            elif config.method == "header":
                account = _from_proxy(config, ended)
            else:
                account = _from_identity_server(config, ended)
        except LoginRefused as exc:
            login.refused(exc, config.method)
            account = None
        if account is None:
            _stop(pages)
    area.empty()
    session = start_session(account, config, now)
    st.session_state[SESSION_KEY] = session
    st.session_state.pop(_ENDED, None)
    if login.user_badge(session, config.method):
        sign_out(config)
    return session.scope


def _from_form(config: AccessConfig, ended: str | None) -> Account | None:
    login.ended_notice(ended, config)
    submitted = login.sign_in_form()
    if submitted is None:
        return None
    name, password = submitted
    return sign_in(_store(), login_throttle(config), _audit(), name, password,
                   client=client_address())


def _from_proxy(config: AccessConfig, ended: str | None) -> Account | None:
    if ended is not None:  # the proxy still vouches for the user: one click signs in again
        login.ended_notice(ended, config)
        if not login.sign_in_again_button():
            return None
    headers = request_headers()
    # A proxy that appends its header instead of replacing it would leave a client's
    # own value beside it: two values are refused, whichever is first.
    get_all = getattr(headers, "get_all", None)
    if get_all is not None and any(len(get_all(name)) > 1
                                   for name in (config.user_header, config.secret_header)):
        _audit().append("login_failed", user=None, reason="forged_header", method="header")
        raise LoginRefused("forged_header", "the proxy's headers were sent twice")
    return header_user(config, _store(), _audit(), headers)


def oidc_claims() -> Mapping[str, object] | None:
    """The identity server's claims about the user (``st.user``); None when not signed in.

    The one place ``st.user`` is read: a test replaces this function.
    """
    user = st.user
    if not user.get("is_logged_in"):
        return None
    return dict(user)


def _from_identity_server(config: AccessConfig, ended: str | None) -> Account | None:
    login.ended_notice(ended, config)
    claims = oidc_claims()
    if claims is None or ended is not None:
        if login.identity_server_button():
            st.session_state.pop(_ENDED, None)
            st.login()
        return None
    return oidc_user(config, _store(), _audit(), claims)


def current_scope() -> Scope:
    """The signed-in user's scope; :data:`~analysis.access.roles.LOCAL` without access
    control.

    Raises :class:`analysis.errors.LoginRefused` when access control is configured and
    nobody is signed in (nothing may be computed for nobody).
    """
    session = _session()
    if session is not None:
        return session.scope
    if access_config() is None:
        return LOCAL
    raise LoginRefused("expired", "nobody is signed in")


def record(event: str, **details: Any) -> None:
    """Write ``event`` to the audit trail for the signed-in user (nothing without access
    control). ``details`` must hold no password and no person identifier."""
    if access_config() is None:
        return
    session = _session()
    _audit().append(event, user=session.user if session else None, **details)


def record_page_view(page: str, filters: Mapping[str, str],
                     options: Mapping[str, str]) -> None:
    """A ``page_view`` entry: the page, its filters (``ViewFilters.to_query()``) and
    options, unless this session's last entry was the same view (a rerun that changed
    nothing, e.g. a chart's format)."""
    view = (page, tuple(sorted(filters.items())), tuple(sorted(options.items())))
    if st.session_state.get(_LAST_VIEW) == view:
        return
    st.session_state[_LAST_VIEW] = view
    record("page_view", page=page, filters=dict(filters), options=dict(options))


def deferred(make: Callable[[], bytes], event: str, **details: Any) -> Callable[[], bytes]:
    """``make``, writing ``event`` to the audit trail each time it makes the file.

    For a download button's deferred data: Streamlit calls it when the button is
    clicked, outside the page's run, where the session is not at hand; the user and the
    database are taken now.
    """
    if access_config() is None:
        return make
    session = _session()
    user = session.user if session else None
    audit = _audit()

    def made() -> bytes:
        data = make()
        audit.append(event, user=user, **details)
        return data

    return made


def asked_page(pages: Mapping[str, Any]) -> str | None:
    """The key of the page of ``pages`` (``st.Page`` by file stem) that this run's
    address or menu click asked for; None when it asked for none of them.

    Streamlit opens its default page when the asked page is not in the navigation (a
    page the role may not open): the router says so instead of showing that page.
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return None
    manager = ctx.pages_manager
    by_hash, by_name = manager.intended_page_script_hash, manager.intended_page_name
    for stem, page in pages.items():
        # A menu click (and AppTest.switch_page) names the page by its script's hash, an
        # address typed by hand by its path.
        if (page._script_hash == by_hash) if by_hash else (by_name == stem):
            return stem
    return None
