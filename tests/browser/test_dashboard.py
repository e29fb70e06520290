"""A real browser opens every dashboard page with every request outside localhost blocked.

Starts ``streamlit run dashboard/streamlit_app.py`` on a free port against the demo
database, drives Debian's chromium with Playwright (no browser is downloaded), and fails
if the app tried to reach any other host (fonts, telemetry, CDNs) or showed an error.
Screenshots go to ``$DESIST_ARTIFACTS`` when it is set.
"""

from __future__ import annotations

import contextlib
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlparse

import pytest

from tests.browser.test_report_offline import browser  # noqa: F401  (fixture)
from tests.conftest import DEMO_RELEASES

ROOT = Path(__file__).resolve().parents[2]
LOCAL_HOSTS = {"127.0.0.1", "localhost"}
CHART = ".js-plotly-plot .main-svg"
TABLE = '[data-testid="stDataFrame"]'
#: (url path, what the finished page must show)
PAGES = (("", CHART), ("recidivism", CHART), ("subgroups", CHART), ("programs", CHART),
         ("impact", CHART), ("data", TABLE))


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


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


@contextlib.contextmanager
def streamlit_server(db: Path, workdir: Path, **env_extra: str):
    """``streamlit run`` with the project's settings on a free port against ``db``.

    Yields ``(base URL, path of the log of outside hosts the server tried to reach)``.
    """
    port = _free_port()
    log = workdir / "server.log"
    outside = workdir / "outside-hosts.log"
    outside.write_text("")
    (workdir / "sitecustomize.py").write_text(NETWORK_GUARD)
    env = {**os.environ, "DESIST_DB": str(db), "DESIST_NETWORK_LOG": str(outside),
           "PYTHONPATH": os.pathsep.join([str(workdir), os.environ.get("PYTHONPATH", "")]),
           **env_extra}
    with open(log, "w") as out:
        # no --server.address: the one in .streamlit/config.toml is part of what is tested
        proc = subprocess.Popen(
            [sys.executable, "-m", "streamlit", "run", "dashboard/streamlit_app.py",
             "--server.port", str(port)],
            cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
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
        yield base, outside
    finally:
        proc.terminate()
        try:
            proc.wait(timeout=15)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
    assert proc.returncode is not None


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    demo_db = request.getfixturevalue("demo_db")
    with streamlit_server(demo_db, tmp_path_factory.mktemp("streamlit")) as started:
        yield started


def test_every_page_renders_offline(browser, server):  # noqa: F811
    server, server_outside = server
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    outside: list[str] = []

    def only_local(route):
        if urlparse(route.request.url).hostname in LOCAL_HOSTS:
            route.continue_()
        else:
            outside.append(route.request.url)
            route.abort()

    context.route("**/*", only_local)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    artifacts = os.environ.get("DESIST_ARTIFACTS")
    for path, finished in PAGES:
        page.goto(f"{server}/{path}")
        page.wait_for_selector('[data-testid="stSidebar"]', timeout=60_000)
        page.wait_for_selector('[data-testid="stHeading"] h1', timeout=60_000)
        page.wait_for_selector(finished, state="attached", timeout=120_000)
        page.wait_for_function(  # the script run has finished
            "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=60_000)
        assert page.locator('[data-testid="stException"]').count() == 0, path
        assert page.locator('[data-testid="stAlertContentError"]').count() == 0, path
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
