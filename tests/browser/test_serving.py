"""The dashboard is served to this machine only, and silently, however it is started.

Both ways start a real server from a folder that is not the repository (so no
``.streamlit/config.toml`` applies):

- ``desist dashboard`` (the documented way) listens on 127.0.0.1 only, makes no outside
  lookup and shows the study;
- a bare ``streamlit run /abs/path/dashboard/streamlit_app.py`` listens on every
  interface: the page only says how to start the dashboard — no number at all, and the
  database is never opened.
"""

from __future__ import annotations

import ipaddress
import os
import re
import socket
import sys
from pathlib import Path

import psutil

from tests.browser.test_dashboard import ROOT, desist_dashboard, local_only_context, serve
from tests.browser.test_report_offline import browser  # noqa: F401  (fixture)
from tests.conftest import DEMO_RELEASES

APP = ROOT / "dashboard" / "streamlit_app.py"


def listening_addresses(pid: int, port: int) -> set[str]:
    """The addresses process ``pid`` (or its children) listens on at TCP ``port``."""
    process = psutil.Process(pid)
    found = set()
    for proc in (process, *process.children(recursive=True)):
        for conn in proc.net_connections(kind="tcp"):
            if conn.status == psutil.CONN_LISTEN and conn.laddr.port == port:
                found.add(conn.laddr.ip)
    return found


def other_local_address() -> str | None:
    """An address of this machine that is not loopback (None when it has none)."""
    for addresses in psutil.net_if_addrs().values():
        for address in addresses:
            if address.family == socket.AF_INET:
                if not ipaddress.ip_address(address.address).is_loopback:
                    return address.address
    return None


def accepts(host: str, port: int) -> bool:
    try:
        with socket.create_connection((host, port), timeout=2):
            return True
    except OSError:
        return False


def open_files(pid: int) -> set[str]:
    return {os.path.realpath(f.path) for f in psutil.Process(pid).open_files()}


def bare_streamlit_run(port: int) -> list[str]:
    """How the issue started it: the app's absolute path, no settings at all."""
    return [sys.executable, "-m", "streamlit", "run", str(APP), "--server.port", str(port)]


def _page_text(browser, url: str, ready: str) -> tuple[str, list[str]]:  # noqa: F811
    """The page's text once ``ready`` (a selector) is drawn, and the outside requests."""
    context, outside = local_only_context(browser)
    page = context.new_page()
    page.goto(url)
    page.wait_for_selector('[data-testid="stHeading"] h1', timeout=60_000)
    page.wait_for_selector(ready, timeout=60_000)
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    text = page.inner_text("body")
    context.close()
    return text, outside


def test_desist_dashboard_listens_on_loopback_only_and_stays_silent(
        browser, demo_db, tmp_path):  # noqa: F811
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    with serve(desist_dashboard, demo_db, workdir, cwd=workdir) as served:
        assert listening_addresses(served.process.pid, served.port) == {"127.0.0.1"}
        other = other_local_address()
        if other is not None:
            assert not accepts(other, served.port), f"reachable on {other}"
        text, outside = _page_text(browser, served.base, '[data-testid="stMetricValue"]')
        assert f"{DEMO_RELEASES:,}" in text  # the study is shown
        assert not outside, outside
        assert served.outside.read_text() == "", "the server tried to reach other hosts"


def test_bare_streamlit_run_elsewhere_shows_only_how_to_start(
        browser, demo_db, tmp_path):  # noqa: F811
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    with serve(bare_streamlit_run, demo_db, workdir, cwd=workdir) as served:
        addresses = listening_addresses(served.process.pid, served.port)
        assert addresses and not any(ipaddress.ip_address(a).is_loopback for a in addresses)
        # The instructions' command block, or (the old behaviour) the study's first number.
        text, _ = _page_text(browser, served.base,
                             '[data-testid="stCode"], [data-testid="stMetricValue"]')
        assert "This dashboard is not served safely" in text
        assert "desist dashboard --db" in text, repr(text)
        # No number from the study (nor any other): the page holds instructions only.
        assert not re.search(r"\d", text), text
        assert str(Path(demo_db).resolve()) not in open_files(served.process.pid)



# ------------------------------------------------- served to the network: access control

PASSWORD = "correct horse battery"
PROXY_SECRET = "known-to-the-proxy-only"


def _study_with_access(demo_db, folder: Path, method: str) -> Path:
    """A copy of the demo study with an access configuration and two accounts."""
    import hashlib
    import shutil

    from argon2 import PasswordHasher

    from analysis.access.accounts import AccountStore
    from analysis.access.config import access_paths, write_default_config

    db = folder / "study.duckdb"
    shutil.copy(demo_db, db)
    config = write_default_config(db, method)
    if method == "header":
        digest = hashlib.sha256(PROXY_SECRET.encode()).hexdigest()
        config.write_text(config.read_text().replace(
            "REPLACE WITH sha256sum OF THE SECRET", digest))
    store = AccountStore(access_paths(db).accounts,
                         hasher=PasswordHasher(time_cost=1, memory_cost=8192, parallelism=1))
    store.add("dan", "donor", password=PASSWORD, projects=("Skills for Work",))
    store.add("ana", "admin", password=PASSWORD)
    return db


def desist_serve(*options: str):
    def command(port: int) -> list[str]:
        return [sys.executable, "-m", "analysis.cli.run", "serve", *options,
                "--port", str(port)]
    return command


def test_desist_serve_on_the_network_asks_to_sign_in_first(browser, demo_db, tmp_path):  # noqa: F811
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    db = _study_with_access(demo_db, tmp_path, "accounts")
    with serve(desist_serve("--host", "0.0.0.0"), db, workdir, cwd=workdir) as served:
        addresses = listening_addresses(served.process.pid, served.port)
        assert addresses and not any(ipaddress.ip_address(a).is_loopback for a in addresses)
        context, outside = local_only_context(browser)
        page = context.new_page()
        page.goto(f"{served.base}/impact")
        page.wait_for_selector('input[type="password"]', timeout=60_000)
        text = page.inner_text("body")
        assert "Sign in to Desistance" in text
        assert not re.search(r"\d", text), text  # nothing of the study before signing in
        assert str(db.resolve()) not in open_files(served.process.pid)
        page.get_by_label("User name").fill("dan")
        page.locator('input[type="password"]').fill(PASSWORD)
        page.get_by_role("button", name="Sign in", exact=True).click()
        page.wait_for_selector('[data-testid="stMetricValue"], .js-plotly-plot',
                               timeout=120_000)
        assert page.locator('[data-testid="stHeading"] h1').first.inner_text() == "Impact"
        assert "Signed in as dan (donor)" in page.inner_text('[data-testid="stSidebar"]')
        context.close()
        assert not outside, outside
        assert served.outside.read_text() == "", "the server tried to reach other hosts"


def _header_page(browser, url: str, headers: dict[str, str], until: str) -> str:  # noqa: F811
    """The page's text once it shows ``until`` and has finished running (a header sign-in
    draws the sign-in title, then reruns as the user: waiting for the end of one run is
    not enough on a busy machine)."""
    context, outside = local_only_context(browser)
    context.set_extra_http_headers(headers)
    page = context.new_page()
    page.goto(url)
    page.wait_for_function("text => document.body.innerText.includes(text)", arg=until,
                           timeout=120_000)
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)
    text = page.inner_text("body")
    context.close()
    assert not outside, outside
    return text


def test_desist_serve_behind_a_proxy_trusts_the_header_only_with_the_secret(
        browser, demo_db, tmp_path):  # noqa: F811
    workdir = tmp_path / "elsewhere"
    workdir.mkdir()
    db = _study_with_access(demo_db, tmp_path, "header")
    with serve(desist_serve(), db, workdir, cwd=workdir) as served:
        assert listening_addresses(served.process.pid, served.port) == {"127.0.0.1"}
        # A direct connection naming a user, without the proxy's secret.
        forged = _header_page(browser, served.base, {"X-Remote-User": "ana"},
                              until="reverse proxy")
        assert "did not come through the organisation's reverse proxy" in forged
        assert not re.search(r"\d", forged), forged
        # The proxy: the user and the secret. A donor starts on the Programmes page.
        text = _header_page(browser, served.base, {"X-Remote-User": "dan",
                                                   "X-Desist-Proxy-Secret": PROXY_SECRET},
                            until="Signed in as dan")
        assert "Signed in as dan (donor)" in text
        assert "Programmes" in text and "Data quality" not in text
        assert "Recidivism over time" not in text  # not in the donor's menu
        refused = _header_page(browser, f"{served.base}/data", {
            "X-Remote-User": "dan", "X-Desist-Proxy-Secret": PROXY_SECRET},
            until="does not cover")
        assert "your account does not cover" in refused
