"""The browser benchmark measures what it says, once, on the demo: no timing is asserted.

``benchmarks/bench_browser.py`` prints the figures; here one round on one page (and on
the minimal page) checks that "fully drawn" is reached, that the filter click started a
script run of its own, that the server's run times and the bytes sent are read, and that
the report names every missed target.
"""

from __future__ import annotations

import math

import pytest

from benchmarks.bench_browser import (
    APP,
    MEASURES,
    MINIMAL_APP,
    Timings,
    Wait,
    measure,
    report,
    served,
)
from tests.browser.test_report_offline import browser  # noqa: F401  (fixture)


@pytest.mark.parametrize(("app", "path", "charts"), [(MINIMAL_APP, "", 1), (APP, "", 1)])
def test_one_round_reaches_fully_drawn(browser, demo_db, tmp_path, app, path,  # noqa: F811
                                       charts):
    with served(app, demo_db, tmp_path) as server:
        waits, contents = measure(browser, server, path)
    assert set(waits) == set(MEASURES)
    for name, wait in waits.items():
        assert wait.seconds > 0, name
        # a finite server time: the click (or load) ran the script, and the patch applied
        assert math.isfinite(wait.server) and 0 < wait.server < wait.seconds, name
        assert wait.sent_kb > 0, name
    assert contents["charts"] == charts and contents["points"] > 0 and contents["tables"] >= 1


def _timings(fresh: float, reload: float, filter_seconds: float) -> Timings:
    wait = {"fresh": Wait(fresh, 0.1, 10), "reload": Wait(reload, 0.1, 10),
            "filter": Wait(filter_seconds, 0.1, 10)}
    return Timings(first=wait, rounds={k: [v] for k, v in wait.items()},
                   contents={"charts": 1, "points": 37, "tables": 1})


def test_report_names_every_missed_target():
    lines = report({"minimal": _timings(2.0, 1.0, 0.5), "overview": _timings(2.9, 1.6, 1.2),
                    "data": _timings(3.0, 1.5, 0.9)}, target_filter=1.0)
    misses = [line.strip() for line in lines if "MISSED" in line]
    assert misses == ["MISSED overview reload: 1.60x the minimal page",
                      "MISSED overview filter: 1.20 s (target 1 s)"]
    assert any(line.split()[:1] == ["overview"] and "1.6x" in line for line in lines)


def test_report_names_a_page_no_round_measured():
    lines = report({"minimal": _timings(2.0, 1.0, 0.5), "data": Timings()}, target_filter=1.0)
    assert [line.strip() for line in lines if "MISSED" in line] == [
        "MISSED data: not measured (every round failed)"]


def test_report_says_when_every_target_is_met():
    lines = report({"minimal": _timings(2.0, 1.0, 0.5), "data": _timings(2.0, 1.0, 1.9)},
                   target_filter=2.0)
    assert "  every target met" in lines
