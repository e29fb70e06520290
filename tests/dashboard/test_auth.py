"""Sign-in to the dashboard: every refusal gets a clear message and no data.

The router runs under AppTest on a copy of the demo database with an access
configuration beside it (``STUDY.duckdb.access.toml``): built-in accounts (wrong
password, unknown user, disabled user, throttling, expired sessions, sign out, a donor's
pages), a trusted proxy's header (through :func:`dashboard.auth.request_headers`, since
AppTest sends no headers) and OIDC claims (through :func:`dashboard.auth.oidc_claims`).
"""

from __future__ import annotations

import hashlib
import re
import shutil
import time

import pytest
import streamlit
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from analysis.access.accounts import AccountStore
from analysis.access.audit import AuditLog
from analysis.access.config import access_paths, scope_for, write_default_config
from analysis.access.identity import Session
from dashboard import auth
from tests.conftest import DEMO_RELEASES
from tests.dashboard.conftest import APP
from tests.dashboard.pages import open_tab

#: Quick to hash: the tests sign in many times (the dashboard verifies any parameters).
CHEAP = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
PASSWORD = "correct horse battery"
SECRET = "proxy-secret-known-to-nginx-only"
TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "code", "warning",
                 "info", "error", "success", "metric")
WRONG = "The user name or the password is wrong."


def _study(tmp_path_factory, demo_db, method: str, replacements=()) -> object:
    db = tmp_path_factory.mktemp(f"access-{method}") / "study.duckdb"
    shutil.copy(demo_db, db)
    config = write_default_config(db, method)
    text = config.read_text(encoding="utf-8")
    for old, new in replacements:
        assert old in text, old
        text = text.replace(old, new)
    config.write_text(text, encoding="utf-8")
    store = AccountStore.for_database(db, hasher=CHEAP)
    store.add("ana", "admin", password=PASSWORD)
    store.add("ali", "analyst", password=PASSWORD)
    store.add("eve", "analyst", password=PASSWORD)
    store.disable("eve")
    store.add("dan", "donor", password=PASSWORD, projects=("Skills for Work",))
    return db


@pytest.fixture(scope="module")
def accounts_db(tmp_path_factory, demo_db):
    return _study(tmp_path_factory, demo_db, "accounts", [("max_failures = 5",
                                                            "max_failures = 3")])


@pytest.fixture(scope="module")
def header_db(tmp_path_factory, demo_db):
    digest = hashlib.sha256(SECRET.encode()).hexdigest()
    return _study(tmp_path_factory, demo_db, "header", [
        ('secret_sha256 = "REPLACE WITH sha256sum OF THE SECRET"',
         f'secret_sha256 = "{digest}"')])


@pytest.fixture(scope="module")
def oidc_db(tmp_path_factory, demo_db):
    db = _study(tmp_path_factory, demo_db, "oidc")
    AccountStore.for_database(db, hasher=CHEAP).add("ana@ministry.example", "analyst")
    return db


@pytest.fixture(autouse=True)
def fresh_throttle():
    auth._throttle.clear()  # one per server process: each test starts with none
    yield
    auth._throttle.clear()


def _app(db, monkeypatch) -> AppTest:
    monkeypatch.setenv("DESIST_DB", str(db))
    return AppTest.from_file(str(APP), default_timeout=90)


def _texts(at: AppTest) -> list[str]:
    return [str(e.value) for kind in TEXT_ELEMENTS for e in at.get(kind)]


def _assert_no_data(at: AppTest, *, said: tuple[str, ...] = ()) -> None:
    """Nobody signed in, and no number on the page (but in the messages ``said``, which
    name the configuration's limits)."""
    assert not at.exception, [e.value for e in at.exception]
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    texts = [text for text in _texts(at) if text not in said]
    assert not any(re.search(r"\d", text) for text in texts), texts
    assert auth.SESSION_KEY not in at.session_state


def _sign_in(at: AppTest, name: str, password: str) -> AppTest:
    at.text_input(key="access-user").input(name)
    at.text_input(key="access-password").input(password)
    return at.button(key="access-submit").click().run()


def _events(db) -> list[tuple[str, str | None]]:
    return [(e["event"], e["user"]) for e in AuditLog.for_database(db).entries()]


def _session(db, name: str, *, started: float, last_seen: float) -> Session:
    account = AccountStore.for_database(db).get(name)
    return Session(name, scope_for(account, auth.load_access_config(db)), started, last_seen)


def test_without_a_session_only_the_sign_in_form_is_shown(accounts_db, monkeypatch):
    at = _app(accounts_db, monkeypatch).run()
    assert at.title[0].value == "Sign in to Desistance"
    assert [w.label for w in at.text_input] == ["User name", "Password"]
    _assert_no_data(at)


def test_the_right_password_opens_the_study_and_is_recorded(accounts_db, monkeypatch):
    at = _sign_in(_app(accounts_db, monkeypatch).run(), "ana", PASSWORD)
    assert not at.exception, [e.value for e in at.exception]
    assert at.metric[0].value == f"{DEMO_RELEASES:,}"
    assert "Signed in as ana (administrator)" in [c.value for c in at.sidebar.caption]
    assert at.session_state[auth.SESSION_KEY].user == "ana"
    entries = AuditLog.for_database(accounts_db).entries(user="ana")
    assert [e["event"] for e in entries][-2:] == ["login", "page_view"]
    assert entries[-1]["details"]["page"] == "overview"


def test_wrong_password_and_unknown_user_get_one_message_and_no_data(accounts_db,
                                                                      monkeypatch):
    wrong = _sign_in(_app(accounts_db, monkeypatch).run(), "ali", "not the password!")
    unknown = _sign_in(_app(accounts_db, monkeypatch).run(), "nobody", PASSWORD)
    for at in (wrong, unknown):
        assert [e.value for e in at.error] == [WRONG]
        _assert_no_data(at)
    assert _events(accounts_db)[-2:] == [("login_failed", "ali"), ("login_failed", None)]


def test_a_disabled_account_is_refused(accounts_db, monkeypatch):
    at = _sign_in(_app(accounts_db, monkeypatch).run(), "eve", PASSWORD)
    assert [e.value for e in at.error] == [
        "This account is disabled. Ask the dashboard's administrator to enable it."]
    _assert_no_data(at)


def test_repeated_failures_are_throttled_even_with_the_right_password(accounts_db,
                                                                       monkeypatch):
    at = _app(accounts_db, monkeypatch).run()
    for _ in range(3):  # max_failures = 3 in this configuration
        at = _sign_in(at, "ali", "not the password!")
        assert [e.value for e in at.error] == [WRONG]
    at = _sign_in(at, "ali", PASSWORD)
    assert [e.value for e in at.error] == [
        "Too many failed sign-ins. Try again in 15 minutes."]  # window_minutes = 15
    assert not at.metric and auth.SESSION_KEY not in at.session_state
    assert _events(accounts_db)[-1] == ("login_failed", "ali")


def test_an_idle_session_expires(accounts_db, monkeypatch):
    at = _app(accounts_db, monkeypatch)
    now = time.time()
    at.session_state[auth.SESSION_KEY] = _session(accounts_db, "ali", started=now - 3600,
                                                  last_seen=now - 31 * 60)
    at.run()
    expired = "Your session expired after 30 minutes without activity. Sign in again to go on."
    assert [w.value for w in at.warning] == [expired]
    assert at.text_input(key="access-password")  # signed out: the form again
    _assert_no_data(at, said=(expired,))
    last = AuditLog.for_database(accounts_db).entries()[-1]
    assert (last["event"], last["user"], last["details"]) == (
        "session_expired", "ali", {"reason": "idle"})


def test_a_session_ends_after_its_maximum_length_even_when_active(accounts_db, monkeypatch):
    at = _app(accounts_db, monkeypatch)
    now = time.time()
    at.session_state[auth.SESSION_KEY] = _session(accounts_db, "ali",
                                                  started=now - 8 * 3600 - 60, last_seen=now)
    at.run()
    over = "Your session reached its limit of 8 hours. Sign in again to go on."
    assert [w.value for w in at.warning] == [over]
    _assert_no_data(at, said=(over,))


def test_an_active_session_is_kept_and_renewed(accounts_db, monkeypatch):
    at = _app(accounts_db, monkeypatch)
    now = time.time()
    at.session_state[auth.SESSION_KEY] = _session(accounts_db, "ali", started=now - 600,
                                                  last_seen=now - 20 * 60)
    at.run()
    assert at.metric[0].value == f"{DEMO_RELEASES:,}"
    assert at.session_state[auth.SESSION_KEY].last_seen >= now


def test_sign_out_ends_the_session(accounts_db, monkeypatch):
    at = _sign_in(_app(accounts_db, monkeypatch).run(), "ali", PASSWORD)
    assert at.metric
    at = at.button(key="access-sign-out").click().run()
    assert [i.value for i in at.info] == ["You are signed out."]
    _assert_no_data(at)
    assert _events(accounts_db)[-1] == ("logout", "ali")


def test_a_disabled_account_loses_its_open_session(accounts_db, monkeypatch, tmp_path):
    store = AccountStore.for_database(accounts_db, hasher=CHEAP)
    store.add("tom", "analyst", password=PASSWORD)
    at = _sign_in(_app(accounts_db, monkeypatch).run(), "tom", PASSWORD)
    assert at.metric
    store.disable("tom")
    at.run()
    assert [w.value for w in at.warning] == [
        "Your account was disabled or removed, so your session ended."]
    _assert_no_data(at)


def test_a_donor_gets_only_programmes_and_impact(accounts_db, monkeypatch):
    offered = []
    navigation = streamlit.navigation

    def recording(pages, **kwargs):
        offered.append([page.title for page in pages])
        return navigation(pages, **kwargs)

    monkeypatch.setattr(streamlit, "navigation", recording)
    at = _sign_in(_app(accounts_db, monkeypatch).run(), "dan", PASSWORD)
    assert not at.exception, [e.value for e in at.exception]
    assert offered[-1] == ["Programmes", "Impact"]
    assert at.title[0].value == "Programmes"  # the donor's first page


@pytest.mark.parametrize("page, title", [("impact", "Impact"), ("data", None)])
def test_the_page_a_link_asked_for_is_opened_once_signed_in(accounts_db, monkeypatch,
                                                             page, title):
    at = _app(accounts_db, monkeypatch)
    at.switch_page(f"app_pages/{page}.py").run()  # the link, before anybody signed in
    assert at.title[0].value == "Sign in to Desistance"
    at = _sign_in(at, "dan", PASSWORD)
    assert not at.exception, [e.value for e in at.exception]
    if title is None:  # a page a donor may not open: refused, as when signed in
        assert "your account does not cover" in at.error[0].value
        assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    else:
        assert at.title[0].value == title


@pytest.mark.parametrize("page", ["data", "overview", "recidivism", "subgroups"])
def test_a_donor_link_to_another_page_shows_a_message_and_no_number(accounts_db,
                                                                    monkeypatch, page):
    at = _app(accounts_db, monkeypatch)
    now = time.time()
    at.session_state[auth.SESSION_KEY] = _session(accounts_db, "dan", started=now,
                                                  last_seen=now)
    at.switch_page(f"app_pages/{page}.py").run()  # as a link to /<page> opens it
    assert not at.exception, [e.value for e in at.exception]
    assert len(at.error) == 1
    assert "your account does not cover" in at.error[0].value
    assert not at.metric and not at.dataframe and not at.get("plotly_chart")
    texts = _texts(at)
    assert not any(re.search(r"\d", text) for text in texts), texts
    last = AuditLog.for_database(accounts_db).entries()[-1]
    assert (last["event"], last["user"], last["details"]) == (
        "access_refused", "dan", {"page": page})


def test_only_an_administrator_may_import(accounts_db, monkeypatch):
    now = time.time()
    shown = {}
    for name in ("ali", "ana"):
        at = _app(accounts_db, monkeypatch)
        at.session_state[auth.SESSION_KEY] = _session(accounts_db, name, started=now,
                                                      last_seen=now)
        at.switch_page("app_pages/data.py").run()
        assert not at.exception, [e.value for e in at.exception]
        open_tab(at, "data", "Import")
        shown[name] = [i.value for i in at.info]
    refused = "Only an administrator may import data. You can still check files here."
    assert refused in shown["ali"]
    assert refused not in shown["ana"]
    assert not any("DESIST_ALLOW_IMPORT" in text for text in shown["ana"])


def test_a_network_address_with_access_control_asks_to_sign_in(accounts_db, monkeypatch):
    streamlit.config.set_option("server.address", "0.0.0.0")  # restored by conftest
    at = _app(accounts_db, monkeypatch).run()
    assert at.title[0].value == "Sign in to Desistance"
    _assert_no_data(at)


# --------------------------------------------------------------- a trusted proxy's header

def _headers(monkeypatch, headers) -> None:
    monkeypatch.setattr(auth, "request_headers", lambda: headers)


@pytest.mark.parametrize("headers", [
    {"X-Remote-User": "ana"},  # a direct connection naming a user
    {"X-Remote-User": "ana", "X-Desist-Proxy-Secret": "a guess"},
    {},
], ids=["no-secret", "wrong-secret", "nothing"])
def test_a_forged_header_on_a_direct_connection_is_refused(header_db, monkeypatch, headers):
    _headers(monkeypatch, headers)
    at = _app(header_db, monkeypatch).run()
    assert len(at.error) == 1
    assert "did not come through the organisation's reverse proxy" in at.error[0].value
    _assert_no_data(at)
    assert _events(header_db)[-1] == ("login_failed", None)


class _RepeatedHeaders(dict):
    """Headers as Streamlit gives them, with the user header sent twice."""

    def get_all(self, name):
        return ["mallory", "ana"] if name.lower() == "x-remote-user" else (
            [self[name]] if name in self else [])


def test_a_user_header_sent_twice_is_refused(header_db, monkeypatch):
    _headers(monkeypatch, _RepeatedHeaders({"X-Remote-User": "ana",
                                            "X-Desist-Proxy-Secret": SECRET}))
    at = _app(header_db, monkeypatch).run()
    assert "did not come through the organisation's reverse proxy" in at.error[0].value
    _assert_no_data(at)


def test_the_proxy_names_the_user(header_db, monkeypatch):
    _headers(monkeypatch, {"X-Remote-User": "dan", "X-Desist-Proxy-Secret": SECRET})
    at = _app(header_db, monkeypatch).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value == "Programmes"
    assert at.session_state[auth.SESSION_KEY].user == "dan"
    assert not [b for b in at.button if b.key == "access-sign-out"]  # the proxy signs out


@pytest.mark.parametrize("user, message", [
    ("", "sent no user name"), ("mallory", "has no account for you"),
    ("eve", "This account is disabled")])
def test_the_proxy_naming_nobody_known_is_refused(header_db, monkeypatch, user, message):
    _headers(monkeypatch, {"X-Remote-User": user, "X-Desist-Proxy-Secret": SECRET})
    at = _app(header_db, monkeypatch).run()
    assert message in at.error[0].value
    _assert_no_data(at)


# ------------------------------------------------------------------------ OIDC claims

def test_oidc_claims_name_the_account(oidc_db, monkeypatch):
    monkeypatch.setattr(auth, "oidc_claims", lambda: {
        "is_logged_in": True, "email": "ana@ministry.example", "email_verified": True})
    at = _app(oidc_db, monkeypatch).run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.metric[0].value == f"{DEMO_RELEASES:,}"
    assert at.session_state[auth.SESSION_KEY].user == "ana@ministry.example"


def test_oidc_not_signed_in_offers_the_identity_server(oidc_db, monkeypatch):
    monkeypatch.setattr(auth, "oidc_claims", lambda: None)
    at = _app(oidc_db, monkeypatch).run()
    assert [b.label for b in at.button] == ["Sign in with the organisation's account"]
    _assert_no_data(at)


@pytest.mark.parametrize("claims, message", [
    ({"email": "ana@ministry.example", "email_verified": False}, "has no account for you"),
    ({"email": "someone@elsewhere.example"}, "has no account for you"),
    ({"name": "Ana"}, "did not say who you are")])
def test_oidc_claims_of_no_account_are_refused(oidc_db, monkeypatch, claims, message):
    monkeypatch.setattr(auth, "oidc_claims", lambda: {"is_logged_in": True, **claims})
    at = _app(oidc_db, monkeypatch).run()
    assert message in at.error[0].value
    _assert_no_data(at)


# ----------------------------------------------------------- audit of deferred downloads

def test_a_deferred_download_is_recorded_when_the_file_is_made(accounts_db, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(accounts_db))
    now = time.time()
    monkeypatch.setattr(auth, "_session",
                        lambda: _session(accounts_db, "ali", started=now, last_seen=now))
    before = len(AuditLog.for_database(accounts_db).entries())
    made = auth.deferred(lambda: b"a,b\n", "download", what="overview-rates", format="csv")
    assert len(AuditLog.for_database(accounts_db).entries()) == before  # not yet made
    assert made() == b"a,b\n"
    last = AuditLog.for_database(accounts_db).entries()[-1]
    assert (last["event"], last["user"], last["details"]) == (
        "download", "ali", {"what": "overview-rates", "format": "csv"})
    assert len(AuditLog.for_database(accounts_db).entries()) == before + 1


def test_without_access_control_nothing_is_recorded(demo_db, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(demo_db))
    make = lambda: b"x"  # noqa: E731
    assert auth.deferred(make, "download", what="t", format="csv") is make
    auth.record("page_view", page="overview")
    assert not access_paths(demo_db).audit.exists()
    assert auth.current_scope().user is None  # LOCAL


def test_a_broken_access_file_shows_why_and_no_data(accounts_db, monkeypatch, tmp_path):
    db = tmp_path / "study.duckdb"
    shutil.copy(accounts_db, db)
    shutil.copy(access_paths(accounts_db).config, access_paths(db).config)
    access_paths(db).accounts.write_text("{not json")
    at = _sign_in(_app(db, monkeypatch).run(), "ana", PASSWORD)
    assert not at.exception, [e.value for e in at.exception]
    assert "access configuration cannot be used" in at.error[0].value
    assert str(access_paths(db).accounts) in at.code[0].value  # names the file
    assert not at.metric and not at.dataframe


def test_one_page_view_per_view_shown(accounts_db, monkeypatch):
    at = _sign_in(_app(accounts_db, monkeypatch).run(), "ali", PASSWORD)

    def views():
        return [e["details"] for e in AuditLog.for_database(accounts_db).entries(user="ali")
                if e["event"] == "page_view"]

    before = len(views())
    at.run()  # a rerun that changes nothing (a chart's format, an expander)
    assert len(views()) == before
    at.switch_page("app_pages/subgroups.py").run()
    assert views()[-1]["page"] == "subgroups"
    at.number_input(key="flt_k").set_value(20).run()
    assert views()[-1] == {"page": "subgroups", "filters": {"k": "20"}, "options": {}}
    assert len(views()) == before + 2
