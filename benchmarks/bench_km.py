"""Kaplan–Meier by group on big synthetic study databases: Desistance vs lifelines.

Usage::

    .venv/bin/python benchmarks/bench_km.py [--sizes 1000000,10000000] [--by facility,program:EDU]
                                            [--dir DIR]

For each size a synthetic database is built in DuckDB SQL
(:mod:`benchmarks.synthetic_db`; kept in ``--dir`` and reused when present), then, on
the same file:

* ``desist cold``: :func:`analysis.survival.kaplan_meier.kaplan_meier_from_db` on a fresh
  connection — episodes and per-day counts in DuckDB, KM + CIs + median + log-rank in
  numpy;
* ``desist warm``: the same after :func:`~analysis.survival.episodes.materialize_episodes`
  (the dashboard's path: episodes computed once per outcome, then any breakdown);
* ``lifelines``: the same episodes (with the group label) read from DuckDB into pandas,
  then ``KaplanMeierFitter`` per group (no test, no CIs beyond lifelines' defaults).

It prints seconds, the ratios and the largest difference between the two engines'
survival estimates at 365/730/1095 days.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.survival.episodes import materialize_episodes  # noqa: E402
from analysis.survival.grouping import resolve_grouping  # noqa: E402
from analysis.survival.kaplan_meier import kaplan_meier_from_db  # noqa: E402
from benchmarks.synthetic_db import build_synthetic_db  # noqa: E402

HORIZONS = (365, 730, 1095)


def connect(path: Path) -> duckdb.DuckDBPyConnection:
    con = duckdb.connect(str(path), read_only=True)
    con.execute("SET enable_progress_bar = false")
    return con


def run_lifelines(path: Path, by: str):
    from lifelines import KaplanMeierFitter

    began = time.perf_counter()
    con = connect(path)
    grouping = resolve_grouping(con, by)
    from analysis.survival.episodes import Outcome, episodes_sql

    sql, params = episodes_sql(Outcome().resolve(con), None,
                               select=f'CAST({grouping.sql} AS VARCHAR) AS "group", time, event')
    frame = con.execute(sql, {**params, **grouping.params}).df()
    con.close()
    read = time.perf_counter() - began
    curves = {}
    for group, g in frame.groupby("group"):
        kmf = KaplanMeierFitter().fit(g["time"], g["event"])
        curves[group] = kmf.survival_function_at_times(list(HORIZONS)).to_numpy()
    return time.perf_counter() - began, read, curves


def bench(path: Path, by: str) -> None:
    con = connect(path)
    began = time.perf_counter()
    fitted = kaplan_meier_from_db(con, by)
    cold = time.perf_counter() - began
    con.close()

    con = connect(path)
    began = time.perf_counter()
    cached = materialize_episodes(con)
    build = time.perf_counter() - began
    warm = []
    for _ in range(3):
        began = time.perf_counter()
        kaplan_meier_from_db(con, by, cached=cached)
        warm.append(time.perf_counter() - began)
    con.close()
    warm_best = min(warm)

    ll_total, ll_read, curves = run_lifelines(path, by)
    at = fitted.result.at(HORIZONS)
    diff = max(
        float(np.nanmax(np.abs(at.loc[at["group"] == g, "survival"].to_numpy() - s)))
        for g, s in curves.items()
    )
    groups = len(fitted.result.summary)
    print(f"  by {by:<12} groups {groups:>3} | desist cold {cold:6.2f} s | materialize "
          f"{build:6.2f} s, warm {warm_best:5.2f} s | lifelines {ll_total:6.2f} s "
          f"(read {ll_read:5.2f} s) | lifelines/cold {ll_total / cold:5.1f}x, "
          f"lifelines/warm {ll_total / warm_best:6.1f}x | max |dS| {diff:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--by", default="facility,program:EDU")
    parser.add_argument("--dir", default=None, help="Keep/reuse the databases here.")
    args = parser.parse_args()
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench_km_"))
    folder.mkdir(parents=True, exist_ok=True)
    for n in (int(s) for s in args.sizes.split(",")):
        path = folder / f"synthetic_{n}.duckdb"
        if not path.exists():
            began = time.perf_counter()
            build_synthetic_db(path, n)
            print(f"built {n:,} releases in {time.perf_counter() - began:.1f} s")
        print(f"{n:,} releases ({path}):")
        for by in args.by.split(","):
            bench(path, by)


if __name__ == "__main__":
    main()
