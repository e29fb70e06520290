"""A real browser opens every dashboard page with every request outside localhost blocked.

Starts ``streamlit run dashboard/streamlit_app.py`` on a free port against the demo
database, drives Debian's chromium with Playwright (no browser is downloaded), and fails
if the app tried to reach any other host (fonts, telemetry, CDNs) or showed an error.
The same holds on a study whose names carry Markdown, HTML and plotly markup
(:mod:`tests.dashboard.hostile`), served by ``desist dashboard`` from another folder:
every name reads as its characters and no element is injected.
Screenshots go to ``$DESIST_ARTIFACTS`` when it is set.
"""

from __future__ import annotations

import contextlib
import os
import re
import subprocess
import sys
import time
import urllib.request
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlparse

import pytest

from benchmarks.ports import free_port
from tests.browser.tabs import each_view, open_page
from tests.browser.test_report_offline import browser  # noqa: F401  (fixture)
from tests.conftest import DEMO_RELEASES
from tests.dashboard.hostile import (  # noqa: F401  (hostile_db: fixture)
    FACILITIES,
    OTHER_HOST,
    REGIONS,
    hostile_db,
    program_name,
)

ROOT = Path(__file__).resolve().parents[2]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}


def local_only_context(chromium, viewport: dict[str, int] | None = None):
    """A browser context that lists every request to a host not on this machine.

    The requests are watched, not intercepted: a route would turn the browser's cache off
    and send every script and style of every page through this process, which made each
    page take seconds to open. The browser cannot reach another host all the same: it is
    launched resolving every name but this machine's to nothing (``CHROMIUM_ARGS``).
    """
    context = chromium.new_context(viewport=viewport or {"width": 1400, "height": 1000})
    outside: list[str] = []

    def note_outside(request):
        if urlparse(request.url).hostname not in LOCAL_HOSTS:
            outside.append(request.url)

    context.on("request", note_outside)
    return context, outside
CHART = ".js-plotly-plot .main-svg"
TABLE = '[data-testid="stDataFrame"]'
#: (url path, what the finished page must show). A page with tabs draws only its first
#: tab when it opens: the Subgroups page's is a table (sex × age band × offense).
PAGES = (("", CHART), ("recidivism", CHART), ("subgroups", TABLE), ("programs", CHART),
         ("impact", CHART), ("planning", CHART), ("services", CHART), ("data", TABLE))



#: Loaded into the server process (``sitecustomize``): records every attempt to resolve
#: or connect to a host other than this machine, so a test can prove the server itself
#: (not only the browser) stays offline.
NETWORK_GUARD = """
import os, socket
_log = os.environ["DESIST_NETWORK_LOG"]
_LOCAL = ("127.", "::1", "localhost", "0.0.0.0", "::")
def _record(host):
    host = str(host)
    if not host.startswith(_LOCAL) and host not in ("", "None"):
        with open(_log, "a") as out:
            out.write(host + "\\n")
_connect, _getaddrinfo = socket.socket.connect, socket.getaddrinfo
def connect(self, address):
    if isinstance(address, tuple):
        _record(address[0])
    return _connect(self, address)
def getaddrinfo(host, *args, **kwargs):
    _record(host)
    return _getaddrinfo(host, *args, **kwargs)
socket.socket.connect, socket.getaddrinfo = connect, getaddrinfo
"""


@dataclass(frozen=True)
class Served:
    """A running dashboard server: its URL, port, process and outside-hosts log."""

    base: str
    port: int
    process: subprocess.Popen
    outside: Path


@contextlib.contextmanager
def serve(command: Callable[[int], list[str]], db: Path, workdir: Path, *, cwd: Path = ROOT,
          **env_extra: str) -> Iterator[Served]:
    """Run ``command(port)`` (a dashboard server) from ``cwd`` on a free port against ``db``.

    The server process records every outside host it tries to reach (``NETWORK_GUARD``).
    """
    port = free_port()
    log = workdir / "server.log"
    outside = workdir / "outside-hosts.log"
    outside.write_text("")
    (workdir / "sitecustomize.py").write_text(NETWORK_GUARD)
    env = {**os.environ, "DESIST_DB": str(db), "DESIST_NETWORK_LOG": str(outside),
           "PYTHONPATH": os.pathsep.join([str(workdir), os.environ.get("PYTHONPATH", "")]),
           **env_extra}
    with open(log, "w") as out:
        proc = subprocess.Popen(command(port), cwd=cwd, env=env, stdout=out,
                                stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                with urllib.request.urlopen(f"{base}/_stcore/health", timeout=2) as reply:
                    if reply.read() == b"ok":
                        break
            except OSError:
                pass
            if proc.poll() is not None or time.monotonic() > deadline:
                pytest.fail(f"streamlit did not start:\n{log.read_text()}")
            time.sleep(0.3)
        yield Served(base, port, proc, outside)
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode is not None


@contextlib.contextmanager
def streamlit_server(db: Path, workdir: Path, **env_extra: str):
    """``streamlit run`` with the project's settings on a free port against ``db``.

    Yields ``(base URL, path of the log of outside hosts the server tried to reach)``.
    """
    def command(port: int) -> list[str]:
        # no --server.address: the one in .streamlit/config.toml is part of what is tested
        return [sys.executable, "-m", "streamlit", "run", "dashboard/streamlit_app.py",
                "--server.port", str(port)]

    with serve(command, db, workdir, **env_extra) as served:
        yield served.base, served.outside


def desist_dashboard(port: int) -> list[str]:
    """The documented way: ``desist dashboard`` (the database comes from DESIST_DB)."""
    return [sys.executable, "-m", "analysis.cli.run", "dashboard", "--port", str(port)]


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    demo_db = request.getfixturevalue("demo_db")
    with streamlit_server(demo_db, tmp_path_factory.mktemp("streamlit")) as started:
        yield started


def test_every_page_renders_offline(browser, server):  # noqa: F811
    server, server_outside = server
    context, outside = local_only_context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    artifacts = os.environ.get("DESIST_ARTIFACTS")
    for path, finished in PAGES:
        open_page(page, f"{server}/{path}", finished)
        assert page.locator('[data-testid="stSidebar"]').count() == 1, path
        # Only the open tab is drawn: every tab is opened, and checked once it is drawn.
        for tab in each_view(page):
            assert page.locator('[data-testid="stException"]').count() == 0, (path, tab)
            assert page.locator('[data-testid="stAlertContentError"]').count() == 0, (path, tab)
        if path == "":
            values = page.locator('[data-testid="stMetricValue"]').all_inner_texts()
            assert values[0] == f"{DEMO_RELEASES:,}"
            assert sum(v.endswith("%") for v in values) == 3, values
        if artifacts:
            os.makedirs(artifacts, exist_ok=True)
            page.screenshot(path=os.path.join(artifacts, f"dashboard-{path or 'overview'}.png"),
                            full_page=True)
    assert not outside, outside
    assert server_outside.read_text() == "", "the server tried to reach other hosts"
    assert not errors, errors
    context.close()


def test_a_table_download_is_made_when_clicked(browser, server):  # noqa: F811
    # The files are made on request (deferred), not on every run: the click must still
    # give a person the typed file, with its block saying what it holds.
    address, _ = server
    context, outside = local_only_context(browser)
    page = context.new_page()
    page.goto(f"{address}/")
    page.wait_for_selector('[data-testid="stDownloadButton"]', timeout=120_000)
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
    # The button by its label, and the click dispatched on it rather than at its place:
    # while the sidebar settles the main column can still move sideways, and a click at
    # the CSV button's former centre once landed on the XLSX button beside it.
    csv = page.locator('[data-testid="stDownloadButton"] button', has_text="CSV").first
    with page.expect_download(timeout=60_000) as caught:
        csv.dispatch_event("click")
    download = caught.value
    assert download.suggested_filename == "overview-horizons.csv"
    text = Path(download.path()).read_text(encoding="utf-8-sig")
    assert text.startswith("#") and "Desistance" in text
    assert not outside, outside
    context.close()


#: (url path, what the finished page must show, literal texts it must show as characters,
#: in any of its tabs). A page with tabs opens on its first: the Subgroups page's is a
#: table; the facilities' and regions' names are in its second.
HOSTILE_PAGES = (
    ("", CHART, ()),
    ("recidivism?by=education_level", CHART,
     ("<b>primary</b>", f"![s](http://{OTHER_HOST}/secondary.png)")),
    ("recidivism?by=facility", CHART, (FACILITIES["Northgate Prison"],)),
    ("subgroups", TABLE, (*FACILITIES.values(), REGIONS["Highlands"])),
    ("programs", CHART, ()),
    # the page opens on the largest programme; the link names the hostile one
    ("impact?program=COMM-DRUG", CHART, (program_name(
        "COMM-DRUG", "Community drug treatment (alternative to custody)"),)),
    ("data", TABLE, ()),
)

#: Elements the hostile names would create if they were rendered: anything that points
#: at the other host, HTML formatting in the page's text, plotly's <b>/<i>/<br>/<a>.
#: What comes before "<br>" in the names that hold one (their first line if it were read).
BROKEN_NAME_STARTS = [re.sub(r"<[^>]*>", "", name.split("<br>")[0])
                      for name in (*FACILITIES.values(), *REGIONS.values()) if "<br>" in name]
INJECTED = f"""() => {{
    const main = document.querySelector('[data-testid="stMain"]');
    const found = [...document.querySelectorAll(
        '[src*="{OTHER_HOST}"], [href*="{OTHER_HOST}"], [style*="color:red"], '
        + '[style*="color: red"]')].map(e => e.outerHTML.slice(0, 120));
    found.push(...[...main.querySelectorAll('b, i, sup, sub, img, a[href^="http"]')]
        .map(e => e.outerHTML.slice(0, 120)));
    found.push(...[...document.querySelectorAll(
        'svg a, svg [style*="font-weight:bold"], svg [style*="italic"]')]
        .map(e => e.outerHTML.slice(0, 120)));
    // Our charts wrap long labels into lines (tspan.line) after escaping them; a line
    // break read from a name would split it where the name says <br> and drop the
    // "<br>" itself, so a wrapped label holding such a name must show "<br>" as text.
    for (const text of document.querySelectorAll('svg text')) {{
        const lines = [...text.querySelectorAll('tspan.line')];
        if (!lines.length) continue;
        const joined = lines.map(t => t.textContent).join(' ');
        for (const before of {BROKEN_NAME_STARTS!r}) {{
            if (joined.includes(before) && !joined.includes('<br>')) found.push(joined);
        }}
    }}
    return found;
}}"""
#: Every text drawn: the page's text and the charts' SVG text (tick labels, legends).
SHOWN_TEXT = """() => document.body.innerText + '\\n' + [...document.querySelectorAll('svg text')]
    .map(t => t.textContent).join('\\n')"""


@pytest.fixture(scope="module")
def hostile_server(tmp_path_factory, hostile_db):  # noqa: F811
    # The documented way, from a folder with no .streamlit/config.toml.
    workdir = tmp_path_factory.mktemp("hostile-streamlit")
    with serve(desist_dashboard, hostile_db, workdir, cwd=workdir) as served:
        yield served


def test_names_with_markup_read_as_text_on_every_page(browser, hostile_server):  # noqa: F811
    context, outside = local_only_context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    for path, finished, literal in HOSTILE_PAGES:
        open_page(page, f"{hostile_server.base}/{path}", finished)
        shown = ""
        # Only the open tab is drawn: every tab is opened, and checked once it is drawn.
        for tab in each_view(page):
            assert page.locator('[data-testid="stException"]').count() == 0, (path, tab)
            assert page.evaluate(INJECTED) == [], (path, tab)
            # Word joiners keep addresses from becoming links; the reader does not see them.
            shown += page.evaluate(SHOWN_TEXT).replace("\u2060", "")
        for text in literal:
            assert text in shown, (path, text)
    assert not outside, outside
    assert hostile_server.outside.read_text() == "", "the server tried to reach other hosts"
    assert not errors, errors
    context.close()
