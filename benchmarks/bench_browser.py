"""What a person waits for on each dashboard page, in a real browser, beside a minimal page.

Serves the dashboard (``dashboard/streamlit_app.py``) and a minimal Streamlit page
(``benchmarks/minimal_app.py``: one sidebar filter, one plotly chart, one table) with the
same settings as ``desist dashboard``, opens them in Debian's chromium through Playwright
(no browser is downloaded; ``DESIST_CHROMIUM`` names another executable), and times three
things for every page:

fresh
    a new browser context (empty HTTP cache, new Streamlit session) from ``goto`` to
    fully drawn: what someone opening a shared link waits for;
reload
    the same tab reloaded (browser cache warm, new session): pressing F5;
filter
    the sidebar's "Sex" filter given its first value (women; a click on the option) to fully
    drawn, with the server's caches already holding that selection's results.

*Fully drawn* means, all at once: the browser is connected to the server; Streamlit's
script state (``data-test-script-state`` on ``[data-testid=stApp]``) is ``notRunning``
after at least one script run finished since the page was loaded or the filter clicked;
no element is stale (``[data-stale=true]``) or still a lazy-loading skeleton
(``stSkeleton``); every visible plotly chart has drawn its ``svg.main-svg``; every
visible table (``stDataFrame``) has its canvas; then two animation frames so that it is
painted. Hidden tab panels are not waited for (a person does not see them).

Before the timed rounds, one untimed round opens every page and applies the filter once:
its times are printed as "first" (a new server's caches cold for that page and that
selection, the stored default views excepted). The timed rounds then alternate the
minimal page and the dashboard's pages, so that load on the machine falls on both alike;
each figure is the median of ``--repeat`` rounds, printed beside the minimal page's
median and the ratio. Targets (issue 14): every page within 1.5x the minimal page, a
filter change under 1 s on 50,000 releases and under 2 s on 1,000,000. The load average
is printed before and after: figures from a busy machine are not comparable with a
quiet one's.

A second table says where the time goes: the server's script run within each wait
(timed inside the server: :data:`TIME_SCRIPT_RUNS`), the kilobytes sent over the
websocket, and the charts, chart points and tables the page drew. The rest of a wait is
the browser's: loading Streamlit's and plotly's JavaScript, then drawing.

The database is ``--db``, else a demo of ``--rows`` releases built once (through the
normal import path, default views stored, as after ``desist demo``) and kept in
``--cache`` for the next run::

    .venv/bin/python benchmarks/bench_browser.py                     # 50,000-release demo
    .venv/bin/python benchmarks/bench_browser.py --rows 1000000      # builds it once (minutes)
    .venv/bin/python benchmarks/bench_browser.py --db data/demo.duckdb --repeat 9 --pages impact
"""

from __future__ import annotations

import argparse
import contextlib
import math
import os
import re
import statistics
import subprocess
import sys
import tempfile
import time
import urllib.request
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import parse_qs, urlparse

from playwright.sync_api import TimeoutError as PlaywrightTimeoutError

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run as a script, too

from analysis.cli.dashboard_commands import APP, streamlit_arguments  # noqa: E402
from benchmarks.ports import free_port  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
MINIMAL_APP = Path(__file__).resolve().parent / "minimal_app.py"
CHROMIUM = os.environ.get("DESIST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                 "--disable-background-networking", "--disable-component-update",
                 "--disable-sync"]
#: (name printed, URL path) of every dashboard page, and of the curves broken down by
#: facility: the chart with the most points (a step per day with an event, per group).
PAGES = (("overview", ""), ("recidivism", "recidivism"), ("by-facility", "recidivism?by=facility"),
         ("subgroups", "subgroups"), ("programmes", "programs"), ("impact", "impact"),
         ("planning", "planning"), ("services", "services"), ("data", "data"))
MEASURES = ("fresh", "reload", "filter")
#: The filter changed: both apps have a sidebar multiselect with this label, whose first
#: value (``F``, however the dashboard words it) is clicked; both then have ``sex=F`` in
#: the URL. Streamlit's own "Select all" line heads the list: it is not a value.
FILTER_LABEL, FILTER_QUERY, SELECT_ALL = "Sex", ("sex", ["F"]), "Select all"
TIMEOUT_MS = 600_000  # a first visit on a million releases computes for minutes

#: Runs in every document before its own scripts: counts finished script runs, so that
#: the end of the run a click started is never mistaken for the end of the run before.
COUNT_RUNS = """
window.__benchRunsDone = 0;
new MutationObserver(changes => {
  for (const change of changes) {
    const state = change.target.getAttribute('data-test-script-state');
    if (state === 'notRunning' && change.oldValue !== 'notRunning') window.__benchRunsDone++;
  }
}).observe(document, {subtree: true, attributes: true, attributeOldValue: true,
                      attributeFilter: ['data-test-script-state']});
"""
#: True once a script run has started (or ended) after ``runsBefore`` finished ones.
RUN_STARTED = """runsBefore => window.__benchRunsDone > runsBefore
  || document.querySelector('[data-testid="stApp"]')
       ?.getAttribute('data-test-script-state') === 'running'"""
#: A filter click starts its run at once; one that has not within this time was lost.
CLICK_STARTS_A_RUN_MS = 20_000
CLICK_ATTEMPTS = 3
#: True when the page is fully drawn (see the module docstring); argument: runs wanted.
FULLY_DRAWN = """runsWanted => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-connection-state') !== 'CONNECTED'
      || app.getAttribute('data-test-script-state') !== 'notRunning'
      || window.__benchRunsDone < runsWanted) return false;
  if (document.querySelector('[data-stale="true"], [data-testid="stSkeleton"]')) return false;
  const visible = element => element.getClientRects().length > 0;
  for (const chart of document.querySelectorAll('[data-testid="stPlotlyChart"]'))
    if (visible(chart) && !chart.querySelector('svg.main-svg')) return false;
  for (const table of document.querySelectorAll('[data-testid="stDataFrame"]'))
    if (visible(table) && !table.querySelector('canvas')) return false;
  return true;
}"""
PAINTED = "() => new Promise(r => requestAnimationFrame(() => requestAnimationFrame(r)))"
#: What the drawn page holds: charts, the points in their traces, tables.
CONTENTS = """() => {
  const charts = [...document.querySelectorAll('[data-testid="stPlotlyChart"] .js-plotly-plot')];
  // _fullData: the traces as plotly.js decoded them (data may hold base64 arrays).
  const points = charts.flatMap(chart => chart._fullData || [])
    .reduce((sum, trace) => sum + (trace._length || 0), 0);
  return {charts: charts.length, points: points,
          tables: document.querySelectorAll('[data-testid="stDataFrame"]').length};
}"""
#: Loaded into each server (``sitecustomize``, found first on its PYTHONPATH): appends the
#: seconds of every script run to ``$DESIST_BENCH_RUN_LOG``, so that the server's share of
#: a wait can be told from the browser's. Streamlit's internals change between versions:
#: when the patch does not apply, the server column reads "nan" and nothing else changes.
TIME_SCRIPT_RUNS = """
import os, time
try:
    from streamlit.runtime.scriptrunner import script_runner as _runner
    _run_script = _runner.ScriptRunner._run_script
    def _timed_run(self, rerun_data):
        start = time.perf_counter()
        try:
            return _run_script(self, rerun_data)
        finally:
            with open(os.environ["DESIST_BENCH_RUN_LOG"], "a") as log:
                log.write(f"{time.perf_counter() - start:.6f}\\n")
    _runner.ScriptRunner._run_script = _timed_run
except Exception:
    pass
"""


@dataclass(frozen=True)
class Wait:
    """One measured wait: wall seconds to fully drawn, the server's script-run seconds
    within it (``nan`` when unknown) and the kilobytes the server sent to the browser."""

    seconds: float
    server: float
    sent_kb: float


@dataclass
class Timings:
    """The waits measured on one page: the untimed round's and every timed round's."""

    first: dict[str, Wait] = field(default_factory=dict)
    rounds: dict[str, list[Wait]] = field(default_factory=lambda: {m: [] for m in MEASURES})
    contents: dict[str, int] = field(default_factory=lambda: dict.fromkeys(
        ("charts", "points", "tables"), 0))

    def median(self, measure: str, what: str = "seconds") -> float:
        """Median over the timed rounds (``nan`` when every round failed)."""
        values = [getattr(wait, what) for wait in self.rounds[measure]]
        return statistics.median(values) if values else float("nan")

    def first_seconds(self, measure: str) -> float:
        return self.first[measure].seconds if measure in self.first else float("nan")



@dataclass(frozen=True)
class Server:
    """A served app: its URL, the file its script-run seconds are appended to, its log."""

    url: str
    run_log: Path
    log: Path

    def last_error(self) -> str:
        """The last line of the server's log that names an error (colours removed)."""
        lines = re.sub(r"\x1b\[[0-9;]*m", "", self.log.read_text(errors="replace"))
        errors = [line.strip(" │") for line in lines.splitlines() if "Error" in line]
        return errors[-1] if errors else "(nothing in the server's log)"


@contextlib.contextmanager
def served(app: Path, db: Path, workdir: Path) -> Iterator[Server]:
    """``streamlit run app`` with the dashboard's settings on a free port against ``db``."""
    port = free_port()
    (workdir / "sitecustomize.py").write_text(TIME_SCRIPT_RUNS)
    log, run_log = workdir / f"{app.stem}.log", workdir / f"{app.stem}-runs.log"
    run_log.write_text("")
    env = {**os.environ, "DESIST_DB": str(db), "DESIST_BENCH_RUN_LOG": str(run_log),
           "PYTHONPATH": os.pathsep.join(filter(None, [str(workdir),
                                                       os.environ.get("PYTHONPATH")]))}
    with open(log, "w") as out:
        process = subprocess.Popen([sys.executable, "-m", "streamlit",
                                    *streamlit_arguments(port, app)],
                                   cwd=ROOT, env=env, stdout=out, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 120
        while True:
            with contextlib.suppress(OSError), urllib.request.urlopen(
                    f"{url}/_stcore/health", timeout=2) as reply:
                if reply.read() == b"ok":
                    break
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"{app.name} did not start; its log:\n{log.read_text()}")
            time.sleep(0.2)
        yield Server(url, run_log, log)
    finally:
        process.terminate()
        try:
            process.wait(timeout=15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def wait_drawn(page, runs_wanted: int = 1) -> None:
    """Block until ``page`` is fully drawn (module docstring) after ``runs_wanted`` runs."""
    page.wait_for_function(FULLY_DRAWN, arg=runs_wanted, polling="raf", timeout=TIMEOUT_MS)
    page.evaluate(PAINTED)
    errors = page.locator('[data-testid="stException"], [data-testid="stAlertContentError"]')
    if errors.count():
        raise RuntimeError(f"{page.url} shows an error: {errors.first.inner_text()[:500]}")


class Probe:
    """Times one action on a page: wall clock, the server's script runs, bytes received."""

    def __init__(self, page, server: Server):
        self.page, self.server, self.received = page, server, 0
        page.on("websocket", lambda socket: socket.on("framereceived", self._count))

    def _count(self, payload) -> None:
        self.received += len(payload)

    def _server_seconds(self, offset: int) -> float:
        # The browser can see a run's end a moment before the server has logged it.
        deadline = time.monotonic() + 2
        while True:
            lines = self.server.run_log.read_text()[offset:].split()
            if lines or time.monotonic() > deadline:
                return sum(map(float, lines)) if lines else float("nan")
            time.sleep(0.02)

    def time(self, action, runs_wanted: int | None = None) -> Wait:
        """Run ``action`` and wait until drawn after one more script run than before."""
        offset, self.received = len(self.server.run_log.read_text()), 0
        if runs_wanted is None:
            runs_wanted = 1  # a new document counts its runs from zero
        start = time.perf_counter()
        # an action may say when it really began (a lost click retried: from the retry)
        began = action()
        if isinstance(began, float):
            start = began
        wait_drawn(self.page, runs_wanted)
        seconds = time.perf_counter() - start
        return Wait(seconds, self._server_seconds(offset), self.received / 1000)


def apply_filter(page, probe: Probe) -> Wait:
    """Give the sidebar's "Sex" filter its first value; the wait from the click to drawn."""
    box = page.locator('[data-testid="stSidebar"] [data-testid="stMultiSelect"]').filter(
        has=page.get_by_text(FILTER_LABEL, exact=True))
    runs_before = page.evaluate("window.__benchRunsDone")

    def click_first_option() -> float:
        # On a busy machine a click can be lost (the list redrawn under the pointer) and
        # no script runs: the list is opened and the option clicked again, timed from the
        # click that started a run.
        for _ in range(CLICK_ATTEMPTS):
            box.locator("input").click()  # opening the list runs no script
            options = page.get_by_role("option")  # the open list is this filter's
            options.first.wait_for(timeout=30_000)
            clicked = time.perf_counter()
            options.filter(has_not_text=SELECT_ALL).first.click()
            try:
                page.wait_for_function(RUN_STARTED, arg=runs_before, polling=50,
                                       timeout=CLICK_STARTS_A_RUN_MS)
                return clicked
            except PlaywrightTimeoutError:
                continue
        raise RuntimeError(f"{CLICK_ATTEMPTS} clicks on the {FILTER_LABEL!r} filter "
                           "started no script run")

    wait = probe.time(click_first_option, runs_before + 1)
    page.keyboard.press("Escape")
    key, wanted = FILTER_QUERY
    if parse_qs(urlparse(page.url).query).get(key) != wanted:
        raise RuntimeError(f"the filter click did not select {key}={wanted[0]}: {page.url}")
    return wait


def measure(browser, server: Server, path: str = "") -> tuple[dict[str, Wait], dict[str, int]]:
    """One round on one page, in a new browser context: its waits and what it drew.

    Returns the ``fresh``, ``reload`` and ``filter`` waits, and the charts, chart points
    and tables of the page as first drawn.

    Examples
    --------
    With the dashboard served by :func:`served` and a launched Playwright ``browser``:

    >>> waits, contents = measure(browser, server, "impact")  # doctest: +SKIP
    >>> round(waits["fresh"].seconds, 1), contents["charts"]  # doctest: +SKIP
    (2.1, 3)
    """
    url = f"{server.url}/{path}"
    context = browser.new_context(viewport={"width": 1400, "height": 1000})
    context.add_init_script(COUNT_RUNS)
    try:
        page = context.new_page()
        probe = Probe(page, server)
        waits = {"fresh": probe.time(lambda: page.goto(url, wait_until="commit"))}
        contents = page.evaluate(CONTENTS)
        waits["reload"] = probe.time(lambda: page.reload(wait_until="commit"))
        waits["filter"] = apply_filter(page, probe)
        return waits, contents
    finally:
        context.close()


def run(db: Path, pages: Sequence[tuple[str, str]], repeat: int, workdir: Path
        ) -> tuple[dict[str, Timings], list[str]]:
    """Serve both apps and measure: one untimed round, then ``repeat`` timed rounds.

    Returns the timings and the rounds that failed (a page showing an error, a wait
    timing out): a failed round is left out of the medians and reported.
    """
    from playwright.sync_api import Error as PlaywrightError
    from playwright.sync_api import sync_playwright

    failures: list[str] = []

    timings = {name: Timings() for name in ("minimal", *(name for name, _ in pages))}
    (workdir / "minimal").mkdir()
    (workdir / "dashboard").mkdir()
    with (served(MINIMAL_APP, db, workdir / "minimal") as minimal,
          served(APP, db, workdir / "dashboard") as dashboard,
          sync_playwright() as playwright):
        browser = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        targets = {"minimal": (minimal, ""), **{name: (dashboard, path) for name, path in pages}}
        for round_number in range(repeat + 1):
            for name, (server, path) in targets.items():
                try:
                    waits, contents = measure(browser, server, path)
                except (RuntimeError, PlaywrightError) as exc:
                    failures.append(f"{name}, round {round_number or 'untimed'}: "
                                    f"{str(exc).splitlines()[0][:200]}; server log: "
                                    f"{server.last_error()[:300]}")
                    print(f"  FAILED {failures[-1]}", flush=True)
                    continue
                if round_number == 0:
                    timings[name].first, timings[name].contents = waits, contents
                else:
                    for key, wait in waits.items():
                        timings[name].rounds[key].append(wait)
            print(f"  round {round_number or 'untimed'} done, load average {_load()}",
                  flush=True)
        browser.close()
    return timings, failures


def _load() -> str:
    return " ".join(f"{value:.2f}" for value in os.getloadavg())


def report(timings: dict[str, Timings], target_filter: float) -> list[str]:
    """Two tables: the waits beside the minimal page's with ratios and the targets, then
    where the time goes (server script runs, bytes sent, what is drawn)."""
    minimal = timings["minimal"]
    lines = ["what a person waits for (s, median; ratio to the minimal page):",
             f"  {'page':11s}" + "".join(f"{m:>16s}" for m in MEASURES)
             + f"{'first fresh':>13s}{'first filter':>14s}"]
    misses = []
    for name, timing in timings.items():
        cells = ""
        for measure_name in MEASURES:
            seconds = timing.median(measure_name)
            ratio = seconds / minimal.median(measure_name)
            cells += f"{seconds:9.2f} ({ratio:3.1f}x)"
            if name != "minimal" and measure_name != "filter" and ratio > 1.5:
                misses.append(f"{name} {measure_name}: {ratio:.2f}x the minimal page")
        if name != "minimal" and any(math.isnan(timing.median(m)) for m in MEASURES):
            misses.append(f"{name}: not measured (every round failed)")
        if name != "minimal" and timing.median("filter") > target_filter:
            misses.append(f"{name} filter: {timing.median('filter'):.2f} s "
                          f"(target {target_filter:g} s)")
        lines.append(f"  {name:11s}{cells}{timing.first_seconds('fresh'):13.2f}"
                     f"{timing.first_seconds('filter'):14.2f}")
    lines.append("  targets: fresh and reload within 1.5x the minimal page; filter under "
                 f"{target_filter:g} s")
    lines += [f"  MISSED {miss}" for miss in misses] or ["  every target met"]
    lines += ["", "where the time goes (medians): server = the server's script run (s), "
              "kB = sent over the websocket;", "  drawn = charts / points in their traces / "
              "tables on the page as first drawn",
              f"  {'page':11s}" + "".join(f"{m + ' server':>15s}{'kB':>7s}" for m in MEASURES)
              + f"{'drawn':>16s}"]
    for name, timing in timings.items():
        cells = "".join(f"{timing.median(m, 'server'):15.3f}{timing.median(m, 'sent_kb'):7.0f}"
                        for m in MEASURES)
        drawn = "{charts} / {points:,} / {tables}".format(**timing.contents)
        lines.append(f"  {name:11s}{cells}{drawn:>16s}")
    return lines


def demo_database(rows: int, cache: Path) -> Path:
    """The demo of ``rows`` releases in ``cache`` (built through the import path if absent)."""
    from analysis.demo.build import build_demo

    db = cache / f"demo-{rows}.duckdb"
    if not db.exists():
        cache.mkdir(parents=True, exist_ok=True)
        print(f"building a demo of {rows:,} releases in {db} (kept for the next run)…",
              flush=True)
        start = time.perf_counter()
        build_demo(db, releases=rows)  # an all-or-nothing import: no half-built file
        print(f"  built in {time.perf_counter() - start:.0f} s", flush=True)
    return db


def _stored_views_note(con) -> str:
    """Whether the importer's stored default views serve this code (they shape "first")."""
    from analysis.views import stored
    from analysis.views.filters import ViewFilters

    requests = stored.default_requests(con)
    usable = sum(stored.lookup(con, view, ViewFilters(), options) is not None
                 for view, options in requests)
    if usable == len(requests):
        return f"stored default views: all {usable} usable (as right after an import)"
    return (f"stored default views: {usable} of {len(requests)} usable (the others were "
            "stored by other code: first visits compute them; delete the database to "
            "rebuild it)")


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=50_000,
                        help="releases in the demo database built when --db is not given")
    parser.add_argument("--db", type=Path, help="an existing study database instead")
    parser.add_argument("--cache", type=Path,
                        default=Path(tempfile.gettempdir()) / "desist-bench-browser",
                        help="folder keeping built demo databases between runs")
    parser.add_argument("--repeat", type=int, default=5, help="timed rounds (median shown)")
    parser.add_argument("--pages", nargs="+", choices=[name for name, _ in PAGES],
                        default=[name for name, _ in PAGES])
    args = parser.parse_args(argv)
    if not os.path.exists(CHROMIUM):
        parser.error(f"no chromium at {CHROMIUM}: install Debian's 'chromium' package "
                     "(or set DESIST_CHROMIUM)")
    if args.db is not None and not args.db.exists():
        parser.error(f"--db {args.db}: no such file")
    db = args.db or demo_database(args.rows, args.cache)
    from analysis.store import connect_readonly

    with connect_readonly(db) as con:
        (releases,) = con.execute("SELECT count(*) FROM releases").fetchall()[0]
        stored_note = _stored_views_note(con)
    pages = [(name, path) for name, path in PAGES if name in args.pages]
    print(f"browser benchmark: {db} ({releases:,} releases), {args.repeat} timed rounds, "
          f"{os.cpu_count()} cores, load average {_load()} (1, 5, 15 min)\n{stored_note}",
          flush=True)
    with tempfile.TemporaryDirectory() as folder:
        timings, failures = run(db, pages, args.repeat, Path(folder))
    print("\n" + "\n".join(report(timings, 1.0 if releases <= 100_000 else 2.0)))
    print(f"\nload average after: {_load()} (1, 5, 15 min; {os.cpu_count()} cores)")
    if failures:
        print("\nfailed rounds (left out of the medians):\n"
              + "\n".join(f"  {failure}" for failure in failures))
        sys.exit(1)


if __name__ == "__main__":
    main()
