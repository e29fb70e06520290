"""A donor, in a real browser, sees only their own programmes, signed in either way.

``desist serve`` serves a copy of the demo study with access control; Debian's chromium
(through Playwright) opens it as the donor account of the Global Fund, which pays for
three of the demo's twelve programmes:

(a) built-in accounts: the donor signs in through the sign-in form;
(b) a trusted reverse proxy (:mod:`tests.browser.auth_proxy`, playing nginx) names the
    donor in ``X-Remote-User`` and proves itself with ``X-Desist-Proxy-Secret``;
(c) a direct connection forging the user header (no secret, or a wrong one) gets a
    clear message and no data.

For (a) and (b): the menu offers only Programmes and Impact; the donor's programme names
are on the page, and no other programme's id or name, project or funder is anywhere — not
in the page's text, its tables, charts or pickers, nor in any byte the server sent over
the WebSocket; the Data page's address and the Impact page's address for another
programme show a message and no number. The audit trail records the sign-ins and, for
(c), one refusal that names nobody.

The last tests keep ``docs/deployment.md`` true to the code: its access configurations
load, its proxy settings name the configured headers, its ``desist`` commands exist
with the options it writes.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import duckdb
import pytest
from argon2 import PasswordHasher
from hypothesis import given
from hypothesis import strategies as st

from analysis.access.accounts import AccountStore
from analysis.access.audit import AuditLog
from analysis.access.config import AccessConfig, parse_access_config, write_default_config
from tests.browser.auth_proxy import AuthProxy
from tests.browser.tabs import STILL
from tests.browser.test_dashboard import local_only_context, serve
from tests.browser.test_no_english import shown_texts
from tests.browser.test_report_offline import browser  # noqa: F401  (fixture)

ROOT = Path(__file__).resolve().parents[2]
DONOR, DONOR_FUNDER = "gf-desk", "Global Fund"
ADMIN = "admin"
PASSWORD = "a long passphrase for tests"
SECRET = "the proxy secret of the tests"
#: Cheap argon2 parameters: the hashes still verify in the server (which rehashes them).
CHEAP = PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1)
MAIN = '[data-testid="stMain"]'
DATA_ELEMENTS = ('[data-testid="stMetric"], [data-testid="stPlotlyChart"], '
                 '[data-testid="stDataFrame"], [data-testid="stTable"]')
CONFIG = AccessConfig(method="header")


# -- the study, its accounts and the servers -------------------------------------------

def programme_names(db: Path) -> tuple[set[str], set[str]]:
    """(the donor's names: programme ids and names, projects, funder;
    every other programme's id, name, project and funder that the donor's do not share)."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute("SELECT program_id, name, project, funder FROM programs").fetchall()
    own = {text for row in rows if row[3] == DONOR_FUNDER for text in row if text}
    others = {text for row in rows if row[3] != DONOR_FUNDER for text in row if text}
    return own, others - own


def study_copy(demo_db: Path, folder: Path) -> Path:
    """A copy of the demo study: its access files must not sit beside the shared one."""
    db = folder / "study.duckdb"
    shutil.copy(demo_db, db)
    return db


def desist_serve(db: Path):
    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "analysis.cli.run", "serve", "--db", str(db),
                "--host", "127.0.0.1", "--port", str(port)]
    return command


@pytest.fixture(scope="module")
def accounts_server(demo_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("access-accounts")
    db = study_copy(demo_db, folder)
    write_default_config(db, method="accounts")
    store = AccountStore.for_database(db, hasher=CHEAP)
    store.add(ADMIN, "admin", password=PASSWORD)  # `desist serve` needs one to start
    store.add(DONOR, "donor", password=PASSWORD, funders=[DONOR_FUNDER])
    with serve(desist_serve(db), db, folder) as served:
        yield served, db


@pytest.fixture(scope="module")
def header_server(demo_db, tmp_path_factory):
    folder = tmp_path_factory.mktemp("access-header")
    db = study_copy(demo_db, folder)
    path = write_default_config(db, method="header")
    digest = hashlib.sha256(SECRET.encode("utf-8")).hexdigest()  # printf %s | sha256sum
    path.write_text(path.read_text(encoding="utf-8").replace(
        "REPLACE WITH sha256sum OF THE SECRET", digest), encoding="utf-8")
    AccountStore.for_database(db).add(DONOR, "donor", funders=[DONOR_FUNDER])
    with serve(desist_serve(db), db, folder) as served:
        yield served, db


# -- the browser -----------------------------------------------------------------------

@contextmanager
def recorded_page(chromium, headers: dict[str, str] | None = None) -> Iterator:
    """A page whose every WebSocket frame from the server is kept (``page.frames_in``);
    requests to other hosts are refused and listed (``page.outside``)."""
    context, outside = local_only_context(chromium)
    if headers:
        context.set_extra_http_headers(headers)
    page = context.new_page()
    frames: list[bytes] = []
    page.on("websocket", lambda socket: socket.on(
        "framereceived", lambda payload: frames.append(
            payload if isinstance(payload, bytes) else payload.encode("utf-8"))))
    page.frames_in, page.outside = frames, outside
    try:
        yield page
    finally:
        context.close()


def settle(page) -> None:
    """Wait until the page's script run has drawn everything (a title or a message)."""
    page.wait_for_selector('[data-testid="stHeading"] h1, [data-testid="stAlert"]',
                           timeout=120_000)
    page.wait_for_function(STILL, timeout=120_000, polling=250)
    assert page.locator('[data-testid="stException"]').count() == 0, page.url


def sign_in(page, name: str, password: str) -> None:
    """Fill the sign-in form and submit it; wait until the page is drawn."""
    page.get_by_label("User name").fill(name)
    page.get_by_label("Password", exact=True).fill(password)
    page.get_by_role("button", name="Sign in", exact=True).click()
    page.wait_for_selector('[data-testid="stSidebarNav"]', timeout=120_000)
    settle(page)


def open_page(page, url: str, *, password: str | None) -> None:
    """Open ``url`` in a new session, signing in through the form when ``password``."""
    page.goto(url)
    if password is not None:
        page.wait_for_selector('[data-testid="stForm"]', timeout=120_000)
        sign_in(page, DONOR, password)
    else:
        settle(page)


def menu(page) -> list[str]:
    return page.locator('[data-testid="stSidebarNav"] a').all_inner_texts()


def picker_options(page) -> list[str]:
    """The options of every select box and multiselect on the page (opened one by one)."""
    found: list[str] = []
    boxes = page.locator(f'{MAIN} [data-testid="stSelectbox"], '
                         f'{MAIN} [data-testid="stMultiSelect"]')
    for index in range(boxes.count()):
        box = boxes.nth(index)
        if not box.is_visible():
            continue
        box.locator("input").first.click()
        options = page.get_by_role("option")
        options.first.wait_for(timeout=30_000)
        found += options.all_inner_texts()
        page.keyboard.press("Escape")
    return found


def sent_names(page, names: set[str]) -> set[str]:
    """Which of ``names`` the server sent to this page, in any WebSocket frame."""
    return {name for name in names
            if any(name.encode("utf-8") in frame for frame in page.frames_in)}


def shows_message_and_no_number(page) -> str:
    """The main area's text, once it is checked to hold a message and no number."""
    main = page.inner_text(MAIN)
    assert page.locator(f'{MAIN} [data-testid="stAlertContentError"], '
                        f'{MAIN} [data-testid="stAlertContentWarning"]').count() >= 1, main
    assert page.locator(DATA_ELEMENTS).count() == 0, main
    assert not re.search(r"\d", main), main
    return main


def drawn_tables_and_charts(page) -> None:
    """Wait until the page's first table and chart are drawn. Streamlit loads the code
    that draws them only when first needed, so on a busy machine their places can stand
    empty well after the run has ended (that is what ``settle`` waits for)."""
    page.locator(f'{MAIN} [data-testid="stDataFrame"] table[role="grid"] td').first.wait_for(
        state="attached", timeout=120_000)
    page.locator(f'{MAIN} [data-testid="stPlotlyChart"] svg').first.wait_for(
        state="attached", timeout=120_000)
    page.wait_for_function(STILL, timeout=120_000, polling=250)


def check_donor_sees_only_their_programmes(chromium, base: str, db: Path, *,
                                           password: str | None) -> None:
    """The donor's visit through the menu: their pages, their names, no other's."""
    own, others = programme_names(db)
    with recorded_page(chromium) as page:
        open_page(page, base + "/", password=password)
        assert menu(page) == ["Programmes", "Impact"]
        assert page.locator('[data-testid="stHeading"] h1').first.inner_text() == "Programmes"
        drawn_tables_and_charts(page)
        texts = "\n".join(shown_texts(page))
        assert {"Drug-dependence treatment (therapeutic community)",
                "Community drug treatment (alternative to custody)"} <= {
            name for name in own if name in texts}, texts
        page.locator('[data-testid="stSidebarNav"] a', has_text="Impact").click()
        # The Programmes page stays drawn until the Impact page's run replaces it: wait
        # for the new page and its picker, not only for a run to end.
        page.wait_for_function(
            "() => [...document.querySelectorAll('[data-testid=\"stHeading\"] h1')]"
            ".some(h => h.innerText === 'Impact')", timeout=120_000, polling=250)
        page.locator(f'{MAIN} [data-testid="stSelectbox"]').first.wait_for(timeout=120_000)
        settle(page)
        options = picker_options(page)
        assert any("Global Fund" in option for option in options), options
        texts += "\n".join(shown_texts(page) + options)
        assert not {name for name in others if name in texts}
        assert sent_names(page, own) >= {DONOR_FUNDER, "DRUG-TC"}  # the frames are read
        assert not sent_names(page, others)
        assert not page.outside, page.outside


#: Addresses a donor may type, and what the message then names.
TYPED = (("/data", "Data"), ("/impact?program=VOC-METAL", "VOC-METAL"))


def check_typed_address(chromium, base: str, db: Path, path: str, asked: str, *,
                        password: str | None) -> None:
    """A typed address (a new session, signed in again where there is a form) for a page
    or a programme out of reach: a message naming what was asked, and no number."""
    _, others = programme_names(db)
    with recorded_page(chromium) as page:
        open_page(page, base + path, password=password)
        main = shows_message_and_no_number(page)
        assert asked in main, main
        # Only what was asked is named back, nothing more of other programmes.
        assert not sent_names(page, others - {asked})


# -- the tests -------------------------------------------------------------------------

def logins(db: Path) -> list[dict]:
    return [e for e in AuditLog.for_database(db).entries(user=DONOR) if e["event"] == "login"]


def test_a_donor_signed_in_by_the_form_sees_only_their_programmes(
        browser, accounts_server):  # noqa: F811
    served, db = accounts_server
    check_donor_sees_only_their_programmes(browser, served.base, db, password=PASSWORD)
    assert {e["details"]["method"] for e in logins(db)} == {"accounts"}
    assert served.outside.read_text() == "", "the server tried to reach other hosts"


@pytest.mark.parametrize(("path", "asked"), TYPED)
def test_a_donor_signed_in_by_the_form_cannot_open_other_addresses(
        browser, accounts_server, path, asked):  # noqa: F811
    served, db = accounts_server
    check_typed_address(browser, served.base, db, path, asked, password=PASSWORD)


def test_a_donor_named_by_the_trusted_proxy_sees_only_their_programmes(
        browser, header_server):  # noqa: F811
    served, db = header_server
    with AuthProxy(served.base, user=DONOR, secret=SECRET) as proxy:
        check_donor_sees_only_their_programmes(browser, proxy.url, db, password=None)
    assert logins(db) and {e["details"]["method"] for e in logins(db)} == {"header"}
    assert served.outside.read_text() == "", "the server tried to reach other hosts"


@pytest.mark.parametrize(("path", "asked"), TYPED)
def test_a_donor_named_by_the_trusted_proxy_cannot_open_other_addresses(
        browser, header_server, path, asked):  # noqa: F811
    served, db = header_server
    with AuthProxy(served.base, user=DONOR, secret=SECRET) as proxy:
        check_typed_address(browser, proxy.url, db, path, asked, password=None)


@pytest.mark.parametrize("route", ["browser header", "proxy without the secret",
                                   "proxy with a wrong secret"])
def test_a_forged_user_header_gets_a_message_and_no_data(
        browser, header_server, route):  # noqa: F811
    served, db = header_server
    own, others = programme_names(db)
    before = len(AuditLog.for_database(db).entries())
    secret = None if route == "proxy without the secret" else "not the secret"

    @contextmanager
    def address() -> Iterator[tuple[str, dict[str, str] | None]]:
        if route == "browser header":  # straight to the dashboard, the header forged
            yield served.base, {CONFIG.user_header: DONOR}
        else:
            with AuthProxy(served.base, user=DONOR, secret=secret) as proxy:
                yield proxy.url, None

    with address() as (base, headers), recorded_page(browser, headers) as page:
        page.goto(base + "/")
        settle(page)
        main = shows_message_and_no_number(page)
        assert "did not come through the organisation's reverse proxy" in main, main
        assert page.locator('[data-testid="stSidebarNav"]').count() == 0
        assert not sent_names(page, own | others)
    refused = [e for e in AuditLog.for_database(db).entries()[before:]
               if e["event"] == "login_failed"]
    assert [e["details"]["reason"] for e in refused] == ["forged_header"]
    assert refused[0]["user"] is None  # the forged name is not believed, not even logged


def test_headers_the_browser_adds_reach_the_dashboard(browser, header_server):  # noqa: F811
    # The control of the "browser header" case above: the same headers with the right
    # secret sign the donor in, so that case was refused for the secret, not ignored.
    served, db = header_server
    headers = {CONFIG.user_header: DONOR, CONFIG.secret_header: SECRET}
    with recorded_page(browser, headers) as page:
        page.goto(served.base + "/")
        settle(page)
        assert menu(page) == ["Programmes", "Impact"]


# -- the test proxy does what nginx does -----------------------------------------------

_HEADER_NAME = st.sampled_from(["X-Remote-User", "x-remote-user", "X-REMOTE-USER",
                                "X-Desist-Proxy-Secret", "x-desist-proxy-secret",
                                "Connection", "Upgrade", "Cookie", "Accept", "X-Other"])
_HEADER_VALUE = st.text(st.characters(min_codepoint=33, max_codepoint=126), max_size=20)


@given(st.lists(st.tuples(_HEADER_NAME, _HEADER_VALUE), max_size=12),
       st.one_of(st.none(), st.just(DONOR)), st.one_of(st.none(), st.just(SECRET)))
def test_the_proxy_replaces_whatever_identity_the_client_sends(sent, user, secret):
    from tornado.httputil import HTTPHeaders

    incoming = HTTPHeaders()
    for name, value in sent:
        incoming.add(name, value)
    proxy = AuthProxy("http://127.0.0.1:9", user=user, secret=secret)
    out = proxy.forwarded_headers(incoming)
    assert out.get_list(CONFIG.user_header) == ([user] if user else [])
    assert out.get_list(CONFIG.secret_header) == ([secret] if secret else [])
    assert not out.get_list("Connection") and not out.get_list("Upgrade")
    kept = [(n.lower(), v) for n, v in sent if n.lower() in ("cookie", "accept", "x-other")]
    assert sorted((n.lower(), v) for n, v in out.get_all()
                  if n.lower() in ("cookie", "accept", "x-other")) == sorted(kept)


# -- docs/deployment.md stays true to the code -----------------------------------------

DEPLOYMENT = (ROOT / "docs" / "deployment.md").read_text(encoding="utf-8")


def test_deployment_access_configurations_load():
    blocks = [b for b in re.findall(r"```toml\n(.*?)```", DEPLOYMENT, flags=re.S)
              if b.startswith("method =")]
    methods = [parse_access_config(b.encode("utf-8"), Path("study.duckdb.access.toml")).method
               for b in blocks]
    assert methods == ["header", "oidc"]


def test_deployment_oidc_files_are_what_desist_serve_accepts(tmp_path):
    from analysis.cli.serve_commands import check_access, oidc_secrets

    (auth,) = [b for b in re.findall(r"```toml\n(.*?)```", DEPLOYMENT, flags=re.S)
               if b.startswith("[auth]")]
    (access,) = [b for b in re.findall(r"```toml\n(.*?)```", DEPLOYMENT, flags=re.S)
                 if b.startswith('method = "oidc"')]
    secrets = tmp_path / "secrets.toml"
    secrets.write_text(auth, encoding="utf-8")
    db = tmp_path / "study.duckdb"
    db.touch()
    (tmp_path / "study.duckdb.access.toml").write_text(
        access.replace("/etc/desistance/secrets.toml", str(secrets)), encoding="utf-8")
    config = check_access(db, "127.0.0.1")
    assert config.method == "oidc" and config.oidc_claim == "email"
    assert oidc_secrets(config, db) == secrets
    # Streamlit's callback path, on the address the readers use
    assert 'redirect_uri = "https://desist.ministry.internal/oauth2callback"' in auth


def test_deployment_proxy_settings_name_the_configured_headers():
    for header in (CONFIG.user_header, CONFIG.secret_header):
        assert f"proxy_set_header {header} " in DEPLOYMENT, header
        assert f"RequestHeader unset {header} early" in DEPLOYMENT, header
    assert "/oauth2callback" in DEPLOYMENT and "/_stcore/stream" in DEPLOYMENT


def test_deployment_desist_commands_exist_with_their_options():
    from analysis.cli import main

    commands = re.findall(r"(?:^|\s|/)desist ((?:users \w+|audit|serve|import)[^\n`|>]*)",
                          DEPLOYMENT, flags=re.M)
    assert len(commands) >= 10, commands
    for command in commands:
        words = command.split()
        found = main.get_command(None, words[0])
        if words[0] == "users":
            found = found.get_command(None, words[1])
        assert found is not None, command
        known = {opt for param in found.params for opt in param.opts}
        asked = {word for word in words if word.startswith("--")}
        assert asked <= known, (command, asked - known)
