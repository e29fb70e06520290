"""Time each dashboard view on a 50,000-release demo database (cold and warm cache).

Builds the demo in a temporary folder with :mod:`analysis.demo`, then times every view
function of the six pages as the dashboard calls it (a fresh cursor per call). "Cold" is
the first call on a new cursor (what a cache miss costs); "cached" is a ``st.cache_data``
hit, which only unpickles the stored result, so it is timed as a pickle round trip.
The views the importer stores (:mod:`analysis.views.stored`) are also timed as read
from storage. Finally each page is rendered headless (Streamlit's AppTest) twice, the
second run being the render time with warm caches: once on the database as imported
(the slow pages' default views stored), once on a copy without stored views (what a
first visit costs when nothing was stored, e.g. a database imported with
``desist import --no-stored-views``).

    .venv/bin/python benchmarks/bench_dashboard.py [--releases 50000]
"""

from __future__ import annotations

import argparse
import pickle
import shutil
import tempfile
import time
from pathlib import Path

import duckdb

from analysis.demo.build import build_demo
from analysis.store import connect_readonly
from analysis.survival.episodes import Selection
from analysis.views import stored
from analysis.views.choices import filter_choices
from analysis.views.curves import recidivism_curves
from analysis.views.data_quality import completeness, follow_up_coverage
from analysis.views.filters import ViewFilters
from analysis.views.impact import impact_page
from analysis.views.overview import overview
from analysis.views.programs import completion_outcomes, program_catalog, program_effects
from analysis.views.subgroups import subgroups

CASES = (
    ("choices", filter_choices, {}),
    ("overview", overview, {}),
    ("curves (none, km)", recidivism_curves, {}),
    ("curves (facility, cif)", recidivism_curves, {"breakdown": "facility", "method": "cif"}),
    ("curves (program:VOC-METAL)", recidivism_curves, {"breakdown": "program:VOC-METAL"}),
    ("subgroups", subgroups, {}),
    ("programme catalogue", program_catalog, {}),
    ("programme hazard ratios", program_effects, {}),
    ("completers vs dropouts", completion_outcomes, {}),
    ("impact VOC-METAL (match+iptw)", impact_page, {"value": "VOC-METAL"}),
    ("data: follow-up coverage", follow_up_coverage, {}),
    ("data: completeness", completeness, {}),
)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=50_000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as folder:
        db = Path(folder) / "demo.duckdb"
        start = time.perf_counter()
        build_demo(db, releases=args.releases, seed=3)
        print(f"demo database: {args.releases:,} releases built in "
              f"{time.perf_counter() - start:.1f} s")
        con = connect_readonly(db)
        for label, filters in (("all releases", ViewFilters()),
                               ("women only", ViewFilters(Selection(sexes=("F",))))):
            print(f"\n{label}:")
            print(f"  {'view':30s} {'cold (s)':>9s} {'cached (s)':>11s}")
            for name, function, options in CASES:
                cursor = con.cursor()
                start = time.perf_counter()
                result = function(cursor, filters, **options)
                cold = time.perf_counter() - start
                cursor.close()
                start = time.perf_counter()
                pickle.loads(pickle.dumps(result))
                warm = time.perf_counter() - start
                print(f"  {name:30s} {cold:9.3f} {warm:11.4f}")
        print(f"\n  {'stored view (as imported)':30s} {'computed (s)':>12s} {'read (s)':>9s}")
        for view, options in stored.default_requests(con)[:3]:
            row = con.execute("SELECT seconds FROM stored_views WHERE view = ? AND request = ?",
                              [stored.view_key(view),
                               stored.request_key(ViewFilters(), options)]).fetchone()
            start = time.perf_counter()
            assert stored.lookup(con.cursor(), view, ViewFilters(), options) is not None
            print(f"  {stored.view_key(view):30s} {row[0]:12.3f} "
                  f"{time.perf_counter() - start:9.3f}")
        con.close()
        bare = Path(folder) / "without_stored_views.duckdb"
        shutil.copyfile(db, bare)
        with duckdb.connect(str(bare)) as writer:
            writer.execute("DELETE FROM stored_views")
        print("\npages on the database as imported (slow default views stored):")
        time_pages(db)
        print("\npages on a copy without stored views (everything computed on first visit):")
        time_pages(bare)


def time_pages(db: Path) -> None:
    """Whole-page render (AppTest, headless) per page: first run, then with warm caches."""
    import os

    from streamlit.testing.v1 import AppTest

    os.environ["DESIST_DB"] = str(db)
    app_file = Path(__file__).resolve().parents[1] / "dashboard" / "streamlit_app.py"
    app = AppTest.from_file(str(app_file), default_timeout=300)
    start = time.perf_counter()
    app.run()  # the router opens the Overview page: its first render
    first_overview = time.perf_counter() - start
    print(f"\n  {'page render (AppTest)':30s} {'first (s)':>9s} {'warm (s)':>11s}")
    for page in ("overview", "recidivism", "subgroups", "programs", "impact", "data"):
        times = [first_overview] if page == "overview" else []
        while len(times) < 2:
            start = time.perf_counter()
            app.switch_page(f"app_pages/{page}.py").run()
            times.append(time.perf_counter() - start)
            if app.exception:
                raise SystemExit(f"{page}: {app.exception}")
        print(f"  {page:30s} {times[0]:9.3f} {times[1]:11.3f}")


if __name__ == "__main__":
    main()
