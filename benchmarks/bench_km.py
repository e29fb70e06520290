"""Kaplan–Meier by group on big synthetic study databases: Desistance vs lifelines.

Usage::

    .venv/bin/python benchmarks/bench_km.py [--sizes 1000000,10000000] [--by facility,program:EDU]
                                            [--dir DIR] [--repeat 3]

For each size a synthetic database is built in DuckDB SQL, including the derived
``release_follow_up`` table refreshed exactly as an import does
(:mod:`benchmarks.synthetic_db`; its time is printed separately; kept in ``--dir`` and
reused when present, rebuilt when its derived table has an older layout). Then, on the
same file, for each breakdown:

* ``desist``: :func:`analysis.survival.kaplan_meier.kaplan_meier_from_db` from scratch on
  a fresh read-only connection — episodes from the stored facts and per-day counts in
  DuckDB, KM + Greenwood + log-log CIs + median + log-rank in numpy (best of
  ``--repeat`` runs, each on a new connection);
* ``warm``: after :func:`~analysis.survival.episodes.materialize_episodes` (the
  dashboard's cache: episodes computed once per outcome, then any breakdown);
* ``lifelines``: the group label, time and event of every release read from the same
  DuckDB file into pandas through the same query builder and path as ``desist``
  (:func:`~analysis.survival.episodes.episodes_query`; that read is included in its
  time and shown), then ``KaplanMeierFitter`` per group (survival only: no test).

It prints seconds, the ratio lifelines / desist and the largest difference between the
two engines' survival estimates at 365/730/1095 days.
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

from analysis.survival import follow_up  # noqa: E402
from analysis.survival.episodes import (  # noqa: E402
    Outcome,
    episodes_query,
    materialize_episodes,
)
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
    # the same query builder as desist, on the same (fastest) path
    sql, params = episodes_query(con, Outcome().resolve(con), None,
                                 select=f'CAST({grouping.sql} AS VARCHAR) AS "group", time, event',
                                 params=grouping.params)
    frame = con.execute(sql, params).df()
    con.close()
    read = time.perf_counter() - began
    curves = {}
    for group, g in frame.groupby("group"):
        kmf = KaplanMeierFitter().fit(g["time"], g["event"])
        curves[group] = kmf.survival_function_at_times(list(HORIZONS)).to_numpy()
    return time.perf_counter() - began, read, curves


def time_desist(path: Path, by: str):
    """Seconds for KM by ``by`` from a fresh connection, and the fitted result."""
    con = connect(path)
    try:
        began = time.perf_counter()
        fitted = kaplan_meier_from_db(con, by)
        seconds = time.perf_counter() - began
    finally:
        con.close()
    return seconds, fitted


def bench(path: Path, by: str, repeat: int) -> None:
    runs = [time_desist(path, by) for _ in range(repeat)]
    cold = min(seconds for seconds, _ in runs)
    fitted = runs[0][1]

    con = connect(path)
    began = time.perf_counter()
    cached = materialize_episodes(con)
    build = time.perf_counter() - began
    warm = []
    for _ in range(repeat):
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
    print(f"  by {by:<12} groups {groups:>2} | desist {cold:5.2f} s | materialize {build:5.2f} s + warm {warm_best:4.2f} s | "
          f"lifelines {ll_total:6.2f} s (read {ll_read:5.2f} s) | lifelines/desist "
          f"{ll_total / cold:5.1f}x | max |dS| {diff:.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000000,10000000")
    parser.add_argument("--by", default="facility,program:EDU")
    parser.add_argument("--dir", default=None, help="Keep/reuse the databases here.")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    folder = Path(args.dir) if args.dir else Path(tempfile.mkdtemp(prefix="bench_km_"))
    folder.mkdir(parents=True, exist_ok=True)
    for n in (int(s) for s in args.sizes.split(",")):
        path = folder / f"synthetic_{n}.duckdb"
        con = connect(path) if path.exists() else None
        fresh = con is not None and follow_up.follow_up_layout(con) == follow_up.LAYOUT
        if con is not None:
            con.close()
        if not fresh:  # missing, or its derived table is missing or of an older layout
            built = build_synthetic_db(path, n)
            print(f"built {n:,} releases in {built.seconds:.1f} s (of which refresh of "
                  f"release_follow_up, as an import does, {built.refresh_seconds:.1f} s)")
        print(f"{n:,} releases ({path}):")
        for by in args.by.split(","):
            bench(path, by, args.repeat)


if __name__ == "__main__":
    main()
