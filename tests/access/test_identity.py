"""Who is this request: accounts (throttled), the trusted header, OIDC claims, sessions."""

from __future__ import annotations

import hashlib

import pytest

from analysis.access.config import AccessConfig
from analysis.access.identity import (
    Session,
    header_user,
    oidc_user,
    session_status,
    sign_in,
    start_session,
    throttle_for,
    touched,
)
from analysis.access.roles import Role
from analysis.access.throttle import LoginThrottle
from analysis.errors import LoginRefused
from tests.access.conftest import PASSWORD

SECRET = "proxy-secret-0123456789"
HEADER = AccessConfig(method="header", secret_sha256=hashlib.sha256(SECRET.encode()).hexdigest())


class Clock:
    now = 0.0

    def __call__(self):
        return self.now


def _last(audit):
    return audit.entries()[-1]


def test_a_right_password_signs_in_and_is_logged(store, audit):
    store.add("ana", "analyst", password=PASSWORD)
    account = sign_in(store, LoginThrottle(), audit, "ana", PASSWORD, client="10.0.0.7")
    assert account.name == "ana"
    entry = _last(audit)
    assert (entry["event"], entry["user"], entry["details"]) == (
        "login", "ana", {"method": "accounts", "client": "10.0.0.7"})


def test_a_wrong_password_is_logged_with_its_reason(store, audit):
    store.add("ana", "analyst", password=PASSWORD)
    with pytest.raises(LoginRefused, match="unknown user or wrong password"):
        sign_in(store, LoginThrottle(), audit, "ana", "wrong password", client="10.0.0.7")
    entry = _last(audit)
    assert (entry["event"], entry["user"], entry["details"]["reason"]) == (
        "login_failed", "ana", "unknown_or_wrong")


def test_an_unknown_name_is_not_logged_as_typed(store, audit):
    # Someone typing their password into the name field must not leave it in the log.
    with pytest.raises(LoginRefused):
        sign_in(store, LoginThrottle(), audit, PASSWORD, "x", client=None)
    assert _last(audit)["user"] is None
    assert PASSWORD not in audit.path.read_text()


def test_throttled_even_with_the_right_password_and_logged_so(store, audit):
    store.add("ana", "analyst", password=PASSWORD)
    clock = Clock()
    throttle = LoginThrottle(max_failures=3, window_seconds=900, clock=clock)
    for _ in range(3):
        with pytest.raises(LoginRefused):
            sign_in(store, throttle, audit, "ana", "wrong password", client="10.0.0.7")
    clock.now = 100.0
    with pytest.raises(LoginRefused) as refused:
        sign_in(store, throttle, audit, "ana", PASSWORD, client="10.0.0.9")
    assert refused.value.reason == "throttled"
    assert refused.value.retry_after == pytest.approx(800)
    assert _last(audit)["details"]["reason"] == "throttled"
    clock.now = 901.0
    assert sign_in(store, throttle, audit, "ana", PASSWORD, client="10.0.0.9").name == "ana"


def test_one_address_guessing_many_names_is_throttled(store, audit):
    store.add("bob", "analyst", password=PASSWORD)
    throttle = LoginThrottle(max_failures=2, window_seconds=900)
    for name in ("ana", "carl"):
        with pytest.raises(LoginRefused):
            sign_in(store, throttle, audit, name, "guess guess guess", client="10.6.6.6")
    with pytest.raises(LoginRefused, match="too many failed sign-ins"):
        sign_in(store, throttle, audit, "bob", PASSWORD, client="10.6.6.6")
    assert sign_in(store, throttle, audit, "bob", PASSWORD, client="10.0.0.1").name == "bob"


def test_a_disabled_account_is_refused(store, audit):
    store.add("eu", "donor", password=PASSWORD, funders=["EU"])
    store.disable("eu")
    with pytest.raises(LoginRefused) as refused:
        sign_in(store, LoginThrottle(), audit, "eu", PASSWORD, client=None)
    assert refused.value.reason == "disabled"
    assert _last(audit)["details"]["reason"] == "disabled"


def test_the_throttle_follows_the_configuration():
    throttle = throttle_for(AccessConfig(method="accounts", max_failures=2,
                                         failure_window_minutes=3))
    assert (throttle.max_failures, throttle.window_seconds) == (2, 180)


# --- trusted header -------------------------------------------------------------------

def test_the_proxy_names_the_user(store, audit):
    store.add("ana", "planner", regions=["North"])
    account = header_user(HEADER, store, audit, {"x-remote-user": " ana ",
                                                 "x-desist-proxy-secret": SECRET})
    assert account.regions == ("North",)
    assert (_last(audit)["event"], _last(audit)["details"]) == ("login", {"method": "header"})


@pytest.mark.parametrize("headers", [
    {"X-Remote-User": "ana"},
    {"X-Remote-User": "ana", "X-Desist-Proxy-Secret": "guess"},
    {"X-Remote-User": "ana", "X-Desist-Proxy-Secret": SECRET + " "},
    {"X-Remote-User": "ana", "X-Desist-Proxy-Secret": HEADER.secret_sha256},
])
def test_a_request_without_the_proxy_secret_is_forged(store, audit, headers):
    store.add("ana", "admin")
    with pytest.raises(LoginRefused) as refused:
        header_user(HEADER, store, audit, headers)
    assert refused.value.reason == "forged_header"
    assert _last(audit)["user"] is None and _last(audit)["details"]["reason"] == "forged_header"


@pytest.mark.parametrize(("name", "reason"), [("", "no_header"), ("ghost", "not_an_account"),
                                              ("off", "disabled")])
def test_header_refusals(store, audit, name, reason):
    store.add("off", "analyst")
    store.disable("off")
    headers = {"X-Desist-Proxy-Secret": SECRET, **({"X-Remote-User": name} if name else {})}
    with pytest.raises(LoginRefused) as refused:
        header_user(HEADER, store, audit, headers)
    assert refused.value.reason == reason


# --- OIDC -----------------------------------------------------------------------------

def test_oidc_claims_name_the_account(store, audit):
    store.add("ana@ministry.example", "analyst")
    claims = {"email": "ana@ministry.example", "email_verified": True}
    assert oidc_user(AccessConfig(method="oidc"), store, audit, claims).role is Role.ANALYST
    config = AccessConfig(method="oidc", oidc_claim="preferred_username")
    store.add("ana", "admin")
    assert oidc_user(config, store, audit, {"preferred_username": "ana"}).role is Role.ADMIN


@pytest.mark.parametrize(("claims", "reason"), [
    ({}, "no_header"),
    ({"email": 5}, "no_header"),
    ({"email": "ana@ministry.example", "email_verified": False}, "not_an_account"),
    ({"email": "who@else.example"}, "not_an_account"),
])
def test_oidc_refusals(store, audit, claims, reason):
    store.add("ana@ministry.example", "analyst")
    with pytest.raises(LoginRefused) as refused:
        oidc_user(AccessConfig(method="oidc"), store, audit, claims)
    assert refused.value.reason == reason
    assert _last(audit)["details"] == {"reason": reason, "method": "oidc"}


# --- sessions -------------------------------------------------------------------------

def test_sessions_go_idle_and_end():
    from analysis.access.accounts import Account

    config = AccessConfig(method="accounts", session_idle_minutes=30, session_max_hours=2)
    session = start_session(Account("eu", Role.DONOR, funders=("EU",)), config, now=0.0)
    assert isinstance(session, Session) and session.scope.funders == ("EU",)
    assert session_status(session, config, now=30 * 60) == "active"
    assert session_status(session, config, now=30 * 60 + 1) == "idle"
    session = touched(session, now=100 * 60)
    assert session_status(session, config, now=110 * 60) == "active"
    assert session_status(session, config, now=2 * 3600 + 1) == "over"
