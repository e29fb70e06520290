"""Adjusted hazard ratios on big synthetic study databases: Desistance vs lifelines.

Usage::

    .venv/bin/python benchmarks/bench_cox.py [--sizes 100000,1000000] [--lifelines-max N]

For each size it builds a synthetic DuckDB study database in SQL (default: one release
per person, 7 covariates incl. categorical ones, two in-prison programmes with known
hazard ratios 0.8 and 1.25; ``--builder shared``: ``benchmarks/synthetic_db.py``), with
the derived ``release_follow_up`` table refreshed as an import does, then times, on the
same file:

* ``desist``: :func:`analysis.survival.cox_study.fit_study_cox` — episodes and programme
  exposures in DuckDB, Efron Cox fit, robust SEs clustered by person and the
  ``cox.zph``-style PH test (``solver="auto"``: PHReg up to 20k rows, the vectorised
  Newton solver above);
* ``desist Newton`` / ``desist PHReg``: the same with the other solver (PHReg only up
  to ``--phreg-max`` releases: its risk sets are built with Python loops);
* ``lifelines``: the same episodes read into pandas, indicator coding, then
  ``CoxPHFitter`` (Efron, robust SEs clustered by person) — no PH test.

It prints seconds, the ratio lifelines / desist and the largest difference between
the two engines' log hazard ratios.
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd

from analysis.store.schema import migrate
from analysis.survival import cox
from analysis.survival.cox_study import fit_study_cox
from analysis.survival.episodes import Outcome, build_episodes
from analysis.survival.exposures import add_exposures
from analysis.survival.follow_up import refresh_follow_up, verify_follow_up

COVARIATES = ["age_at_release", "sex", "prior_convictions", "offense_category",
              "sentence_months", "facility", "release_year"]
PROGRAMS = ["VOC", "EDU"]
#: with ``--builder shared`` (benchmarks/synthetic_db.py, shared with the KM benchmark:
#: 10% second releases, so robust SEs really cluster; no known programme effects)
SHARED_COVARIATES = ["age_at_release", "sex", "prior_convictions", "offense_category",
                     "sentence_months", "facility", "release_region"]
SHARED_PROGRAMS = ["EDU"]


def build_db(path: Path, n: int, seed: int = 1) -> None:
    """A synthetic study database built entirely in DuckDB SQL."""
    con = duckdb.connect(str(path))
    migrate(con)
    con.execute(f"SELECT setseed({1 / (seed + 1)})")
    con.execute(f"""
        CREATE TEMP TABLE gen AS
        SELECT i,
               DATE '2015-01-01' + CAST(floor(random() * 2500) AS INTEGER) AS release_date,
               18 + random() * 45 AS age,
               CASE WHEN random() < 0.12 THEN 'F' ELSE 'M' END AS sex,
               CAST(floor(-ln(random()) * 2) AS INTEGER) AS priors,
               ['drugs', 'property', 'violent', 'public_order', 'other'][
                   1 + CAST(floor(random() * 5) AS INTEGER)] AS offense,
               1 + random() * 60 AS sentence,
               ['North', 'South', 'East', 'West', 'Central', 'Open'][
                   1 + CAST(floor(random() * 6) AS INTEGER)] AS facility,
               random() < 0.3 AS voc, random() < 0.2 AS edu,
               random() AS u
        FROM range({n}) t(i)
    """)
    # hazard: Weibull-ish baseline via exponential on a log scale, known log-HRs
    con.execute("""
        CREATE TEMP TABLE gen2 AS
        SELECT *, CAST(ceil(-ln(u) * 900 * exp(-(
                   -0.025 * (age - 35) + 0.35 * (sex = 'M')::INT + 0.08 * priors
                   + CASE offense WHEN 'property' THEN 0.3 WHEN 'violent' THEN -0.2 ELSE 0 END
                   + ln(0.8) * voc::INT + ln(1.25) * edu::INT))) AS INTEGER) AS t_event
        FROM gen
    """)
    con.execute("""
        INSERT INTO releases (release_id, person_id, release_date, facility, follow_up_end,
                              sex, age_at_release, offense_category, sentence_months,
                              prior_convictions, batch_id)
        SELECT 'r' || i, 'p' || i, release_date, facility, DATE '2023-12-31', sex,
               round(age, 1), offense, round(sentence, 1), priors, 'bench'
        FROM gen2
    """)
    con.execute("""
        INSERT INTO events
        SELECT 'p' || i, release_date + t_event, 'rearrest', NULL, 'bench'
        FROM gen2 WHERE release_date + t_event <= DATE '2023-12-31'
    """)
    con.execute("""
        INSERT INTO programs (program_id, name, category, setting, batch_id) VALUES
        ('VOC', 'Vocational training', 'vocational', 'in_prison', 'bench'),
        ('EDU', 'Education', 'education', 'in_prison', 'bench')
    """)
    con.execute("""
        INSERT INTO participation (person_id, program_id, start_date, end_date, status, batch_id)
        SELECT 'p' || i, 'VOC', release_date - 200, release_date - 20, 'completed', 'bench'
        FROM gen2 WHERE voc
        UNION ALL
        SELECT 'p' || i, 'EDU', release_date - 300, release_date - 100, 'completed', 'bench'
        FROM gen2 WHERE edu
    """)
    # the derived per-release facts, refreshed as an import does
    con.execute("BEGIN TRANSACTION")
    refresh_follow_up(con, "bench")
    con.execute("COMMIT")
    con.execute("CHECKPOINT")
    verify_follow_up(con)
    con.close()


def run_desist(path: Path, solver: str = "auto", covariates=COVARIATES, programs=PROGRAMS):
    con = duckdb.connect(str(path), read_only=True)
    start = time.perf_counter()
    study = fit_study_cox(con, covariates, programs=programs, outcome=Outcome(), solver=solver)
    seconds = time.perf_counter() - start
    con.close()
    return seconds, study.model.params


def run_lifelines(path: Path, covariates=COVARIATES, programs=PROGRAMS):
    from lifelines import CoxPHFitter

    con = duckdb.connect(str(path), read_only=True)
    start = time.perf_counter()
    episodes = build_episodes(con, Outcome(), columns=covariates)
    frame = add_exposures(con, episodes, programs).frame
    con.close()
    frame = frame[["person_id", "time", "event", *covariates, *programs]].dropna()
    text = [c for c in covariates if c in ("sex", "offense_category", "facility",
                                            "release_year", "release_region")]
    frame[text] = frame[text].astype(str)
    x = pd.get_dummies(frame, columns=text, drop_first=True, dtype=float)
    cph = CoxPHFitter().fit(x, "time", "event", cluster_col="person_id")
    return time.perf_counter() - start, cph.params_


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--sizes", default="100000,1000000")
    parser.add_argument("--lifelines-max", type=int, default=1_000_000,
                        help="skip lifelines above this many releases")
    parser.add_argument("--builder", choices=["own", "shared"], default="own",
                        help="own: known programme effects; shared: benchmarks/synthetic_db.py")
    parser.add_argument("--phreg-max", type=int, default=100_000,
                        help="also time the PHReg solver up to this many releases")
    args = parser.parse_args()
    sizes = [int(s) for s in args.sizes.split(",")]
    shared = args.builder == "shared"
    covariates = SHARED_COVARIATES if shared else COVARIATES
    programs = SHARED_PROGRAMS if shared else PROGRAMS
    with tempfile.TemporaryDirectory() as tmp:
        for n in sizes:
            path = Path(tmp) / f"bench_{n}.duckdb"
            start = time.perf_counter()
            if shared:
                try:
                    from benchmarks.synthetic_db import build_synthetic_db
                except ModuleNotFoundError:  # run as a script: benchmarks/ is on sys.path
                    from synthetic_db import build_synthetic_db
                build_synthetic_db(path, n)
            else:
                build_db(path, n)
            print(f"\n{n:,} releases (database built in {time.perf_counter() - start:.1f} s)")
            # first call in the process (cold caches), then the median of three more
            first, ours = run_desist(path, "auto", covariates, programs)
            repeats = sorted(run_desist(path, "auto", covariates, programs)[0] for _ in range(3))
            seconds = repeats[1]
            solver = "newton" if n > cox.PHREG_MAX_ROWS else "phreg"
            print(f"  desist (auto -> {solver}, incl. PH test) {seconds:8.2f} s median of 3 "
                  f"({repeats[0]:.2f}-{repeats[2]:.2f}; first call {first:.2f} s)")
            if not shared:
                truth = {"VOC": np.log(0.8), "EDU": np.log(1.25)}
                for p, value in truth.items():
                    print(f"    HR {p}: {np.exp(ours[p]):.3f} (true {np.exp(value):.3f})")
            if n <= cox.PHREG_MAX_ROWS:
                nt_seconds, nt = run_desist(path, "newton", covariates, programs)
                print(f"  desist Newton solver              {nt_seconds:8.2f} s, "
                      f"max |coef diff| vs PHReg {np.max(np.abs(nt - ours)):.1e}")
            elif n <= args.phreg_max:
                ph_seconds, ph = run_desist(path, "phreg", covariates, programs)
                print(f"  desist PHReg solver               {ph_seconds:8.2f} s, "
                      f"max |coef diff| vs Newton {np.max(np.abs(ph - ours)):.1e}")
            if n <= args.lifelines_max:
                ll_seconds, theirs = run_lifelines(path, covariates, programs)
                common = [*programs, "age_at_release", "prior_convictions", "sentence_months"]
                diff = max(abs(ours[k] - theirs[k]) for k in common)
                print(f"  lifelines CoxPHFitter             {ll_seconds:8.2f} s "
                      f"(x{ll_seconds / seconds:.1f} desist), max |coef diff| {diff:.1e}")

if __name__ == "__main__":
    main()
