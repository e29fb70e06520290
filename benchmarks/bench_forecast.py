"""Forecast by region on 1M releases plus 100k upcoming releases: Desistance vs lifelines.

Usage::

    .venv/bin/python benchmarks/bench_forecast.py [--releases 1000000] [--expected 100000]
                                                  [--dir DIR] [--repeat 3]
    .venv/bin/python benchmarks/bench_forecast.py --coverage [--db data/demo.duckdb]

The first form builds (or reuses, in ``--dir``) a synthetic study database
(:mod:`benchmarks.synthetic_db`) and adds ``--expected`` upcoming releases over the year
after its data cutoff. Then, on a fresh read-only connection each time (best of
``--repeat``):

* ``desist``: ``Study.forecast(by="release_region", backtest=False)`` — the counts in
  DuckDB (fitting window, four twelve-month periods, at-risk people and upcoming
  releases), 400 bootstrap curves per region, the 90% intervals for 3, 6 and 12 months;
* ``with backtest``: the same with the backtest beside it (what the dashboard shows);
* ``lifelines``: what an analyst would otherwise write — read time, event and region of
  every release into pandas (from the same query builder), ``KaplanMeierFitter`` per
  region, and the point forecast ``sum (S(s) - S(s + H)) / S(s)`` over the people at
  risk and ``1 - S(H - u)`` over the upcoming releases (no competing ends, no interval).

The target (issue 16) is under 2 s for ``desist``.

``--coverage`` recomputes the backtest coverage figures of docs/planning.md: the share of
region x horizon cells whose observed count lies inside the 90% interval, over the
quarterly as-of dates 2020-12-31 ... 2024-06-30 of the demo, for rearrest and for returns
to custody.
"""

from __future__ import annotations

import argparse
import datetime as dt
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.planning.backtest import backtest_from_db  # noqa: E402
from analysis.planning.forecast import add_months  # noqa: E402
from analysis.study import Study  # noqa: E402
from analysis.survival.episodes import Outcome, episodes_query  # noqa: E402
from benchmarks.synthetic_db import build_synthetic_db  # noqa: E402

CUTOFF = dt.date(2024, 12, 31)
HORIZON_DAYS = (90, 181, 365)


def add_expected_releases(path: Path, count: int) -> None:
    """``count`` upcoming releases over the year after the cutoff (replaced if present)."""
    con = duckdb.connect(str(path))
    try:
        con.execute("DELETE FROM expected_releases")
        con.execute(f"""
            INSERT INTO expected_releases (person_id, expected_release_date, facility,
                                           release_region, sex, age_at_release, batch_id)
            SELECT md5('expected' || CAST(i AS VARCHAR)) || md5(CAST(i AS VARCHAR)),
                   DATE '{CUTOFF}' + CAST(1 + hash(i, 11) % 365 AS INTEGER),
                   'F' || CAST(i % 10 AS VARCHAR),
                   'Region' || CAST(hash(i, 5) % 5 AS VARCHAR),
                   CASE WHEN hash(i, 7) % 10 = 0 THEN 'F' ELSE 'M' END,
                   18 + hash(i, 13) % 45, 'bench'
            FROM range({count}) t(i)""")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET enable_progress_bar = false")
    return con


def time_desist(path: Path, backtest: bool) -> tuple[float, object]:
    con = connect(path)
    try:
        began = time.perf_counter()
        fitted = Study(con, outcome="rearrest").forecast(by="release_region",
                                                         backtest=backtest)
        return time.perf_counter() - began, fitted
    finally:
        con.close()


def run_lifelines(path: Path) -> tuple[float, dict[str, float]]:
    """Point forecast for 12 months per region with lifelines' Kaplan–Meier."""
    from lifelines import KaplanMeierFitter

    began = time.perf_counter()
    con = connect(path)
    types = Outcome.named("rearrest").resolve(con)
    sql, params = episodes_query(con, types, None,
                                 select="release_region AS region, time, event, "
                                        f"date_diff('day', release_date, DATE '{CUTOFF}') AS since")
    frame = con.execute(sql, params).df()
    upcoming = con.execute(
        "SELECT release_region AS region, date_diff('day', CAST(? AS DATE), expected_release_date) AS u "
        "FROM expected_releases", [CUTOFF]).df()
    con.close()
    expected = {}
    for region, rows in frame.groupby("region"):
        kmf = KaplanMeierFitter().fit(rows["time"], rows["event"])
        at_risk = rows[(rows["event"] == 0) & (rows["time"] >= rows["since"])]
        since = at_risk["since"].to_numpy()
        now = kmf.survival_function_at_times(since).to_numpy()
        later = kmf.survival_function_at_times(since + 365).to_numpy()
        coming = upcoming.loc[upcoming["region"] == region, "u"].to_numpy()
        new = 1 - kmf.survival_function_at_times(np.maximum(365 - coming, 0)).to_numpy()
        expected[str(region)] = float(((now - later) / np.where(now > 0, now, 1)).sum()
                                      + new[coming <= 365].sum())
    return time.perf_counter() - began, expected


def bench(args: argparse.Namespace) -> None:
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench_forecast_"))
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"synthetic_{args.releases}.duckdb"
    if not path.exists():
        built = build_synthetic_db(path, args.releases)
        print(f"built {args.releases:,} releases in {built.seconds:.1f} s")
    add_expected_releases(path, args.expected)
    runs = [time_desist(path, backtest=False) for _ in range(args.repeat)]
    best = min(seconds for seconds, _ in runs)
    fitted = runs[0][1]
    with_backtest = min(time_desist(path, backtest=True)[0] for _ in range(args.repeat))
    lifelines_seconds, lifelines_expected = run_lifelines(path)
    same_method = _like_lifelines(path)
    table = fitted.table[fitted.table["months"] == 12].set_index("group")
    people = int(fitted.groups["at_risk"].sum())
    upcoming = int(fitted.groups["upcoming_releases"].sum())
    print(f"{args.releases:,} releases, {people:,} at risk on {fitted.as_of}, "
          f"{upcoming:,} upcoming releases, {len(fitted.groups)} regions")
    print(f"  desist forecast by region (3/6/12 months, 90% intervals): {best:5.2f} s "
          f"(target < 2 s); with the backtest {with_backtest:5.2f} s")
    print(f"  lifelines Kaplan-Meier point forecast (12 months, no interval, no competing "
          f"ends): {lifelines_seconds:5.2f} s; lifelines / desist {lifelines_seconds / best:4.1f}x")
    print("    12 months   desist [90% interval]   desist as lifelines' method (all years, "
          "no level)   lifelines (competing ends censored)")
    for region, value in sorted(lifelines_expected.items()):
        ours = table.loc[region]
        print(f"    {region:<10} {ours['expected']:9.1f} [{ours['lower']}, {ours['upper']}]"
              f"   {same_method[region]:9.1f}   {value:9.1f}")


def _like_lifelines(path: Path) -> dict[str, float]:
    """Desistance's point forecast with lifelines' assumptions: curves from every year,
    no level (the only differences left are the competing ends)."""
    from analysis.planning import forecast

    saved, forecast.LEVEL_YEARS = forecast.LEVEL_YEARS, 0
    try:
        con = connect(path)
        fitted = Study(con, outcome="rearrest").forecast(by="release_region", months=(12,),
                                                         backtest=False, window_years=None)
        con.close()
    finally:
        forecast.LEVEL_YEARS = saved
    return dict(zip(fitted.table["group"], fitted.table["expected"], strict=True))


def coverage(args: argparse.Namespace) -> None:
    con = connect(Path(args.db))
    try:
        for outcome in ("rearrest", "reincarceration"):
            study = Study(con, outcome=outcome)
            cached, grouping = study.cached_episodes(), study.grouping("release_region")
            covered = []
            day = dt.date(2020, 12, 31)
            while day <= dt.date(2024, 6, 30):
                tested = backtest_from_db(con, grouping, study.outcome, study.selection, day,
                                          (3, 6, 12), cached=cached)
                covered.extend(tested.table["covered"].tolist())
                print(f"  {outcome:<15} as of {day}: {tested.coverage:5.1%}")
                day = add_months(day, 3)
            print(f"{outcome}: {np.mean(covered):.1%} of {len(covered)} region x horizon "
                  "cells inside their 90% interval")
    finally:
        con.close()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--releases", type=int, default=1_000_000)
    parser.add_argument("--expected", type=int, default=100_000)
    parser.add_argument("--dir", default=None, help="Keep/reuse the database here.")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--coverage", action="store_true",
                        help="Recompute the backtest coverage of docs/planning.md instead.")
    parser.add_argument("--db", default="data/demo.duckdb", help="For --coverage.")
    args = parser.parse_args()
    coverage(args) if args.coverage else bench(args)


if __name__ == "__main__":
    main()
