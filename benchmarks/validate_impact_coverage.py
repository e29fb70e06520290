"""Coverage of the impact evaluation's 95% intervals over repeated simulations.

Each replication simulates a prison system where taking part in one in-prison
programme depends on age, prior convictions and offense (so a naive comparison
is biased), and the programme multiplies the re-arrest hazard by a known
``TRUE_HR``. The true effect on the treated at the horizon (ATT: participants'
one-year re-arrest rate minus what it would have been without the programme) is
computed exactly from the model over a very large sample of participants. Each
replication runs :class:`analysis.impact.evaluation.ImpactEvaluation` (matching,
then weighting) on a fresh in-memory study database and records whether the 95%
CI of the rate difference covers the true ATT. Target: 93–97% coverage.

Usage::

    .venv/bin/python benchmarks/validate_impact_coverage.py [--reps 200] [--n 3000]
"""

from __future__ import annotations

import argparse
import time

import duckdb
import numpy as np
import pandas as pd

from analysis.impact.evaluation import ImpactEvaluation
from analysis.store.schema import migrate
from analysis.survival.follow_up import prepare_for_analysis

HORIZON = 365
TRUE_HR = 0.75
BASE_DAILY_HAZARD = 0.0012
OFFENSES = np.array(["drug", "property", "violent"])


def _people(rng: np.random.Generator, n: int) -> pd.DataFrame:
    age = rng.uniform(18, 60, n)
    priors = rng.poisson(2.0, n)
    offense = rng.choice(OFFENSES, n, p=[0.35, 0.45, 0.20])
    linear_t = -1.0 - 0.04 * (age - 35) + 0.25 * (priors - 2) + 0.6 * (offense == "drug")
    treated = rng.random(n) < 1 / (1 + np.exp(-linear_t))
    risk = np.exp(
        -0.03 * (age - 35)
        + 0.18 * priors
        + 0.4 * (offense == "drug")
        - 0.3 * (offense == "violent")
    )
    return pd.DataFrame(
        {"age": age, "priors": priors, "offense": offense, "treated": treated, "risk": risk}
    )


def true_att(n: int = 2_000_000, seed: int = 1) -> float:
    """Participants' rate minus their rate without the programme, exactly from the model."""
    people = _people(np.random.default_rng(seed), n)
    risk = people.loc[people["treated"], "risk"].to_numpy()
    with_programme = 1 - np.exp(-BASE_DAILY_HAZARD * risk * TRUE_HR * HORIZON)
    without = 1 - np.exp(-BASE_DAILY_HAZARD * risk * HORIZON)
    return float((with_programme - without).mean())


def _database(rng: np.random.Generator, n: int) -> duckdb.DuckDBPyConnection:
    people = _people(rng, n)
    hazard = BASE_DAILY_HAZARD * people["risk"] * np.where(people["treated"], TRUE_HR, 1.0)
    days_to_event = np.ceil(rng.exponential(1 / hazard))
    follow_up = rng.integers(400, 1500, n)
    release = pd.Timestamp("2021-01-01") + pd.to_timedelta(rng.integers(0, 365, n), unit="D")
    ids = [f"p{i}" for i in range(n)]
    releases = pd.DataFrame(
        {
            "release_id": [f"r{i}" for i in range(n)],
            "person_id": ids,
            "release_date": release.date,
            "facility": "Central",
            "follow_up_end": (release + pd.to_timedelta(follow_up, unit="D")).date,
            "age_at_release": people["age"].round(1),
            "prior_convictions": people["priors"],
            "offense_category": people["offense"],
            "batch_id": "sim",
        }
    )
    treated = people["treated"].to_numpy()
    participation = pd.DataFrame(
        {
            "person_id": np.asarray(ids)[treated],
            "program_id": "P",
            "start_date": (release[treated] - pd.Timedelta(days=120)).date,
            "end_date": (release[treated] - pd.Timedelta(days=30)).date,
            "status": "completed",
            "batch_id": "sim",
        }
    )
    observed = days_to_event <= follow_up
    events = pd.DataFrame(
        {
            "person_id": np.asarray(ids)[observed],
            "event_date": (
                release[observed] + pd.to_timedelta(days_to_event[observed], unit="D")
            ).date,
            "event_type": "rearrest",
            "batch_id": "sim",
        }
    )
    con = duckdb.connect()
    migrate(con)
    con.execute(
        "INSERT INTO programs VALUES ('P', 'Programme', 'vocational', 'in_prison', 'S', 'F', 100, 'EUR', 'sim')"
    )
    for table, frame in (
        ("releases", releases),
        ("participation", participation),
        ("events", events),
    ):
        con.register("rows", frame)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM rows")
        con.unregister("rows")
    prepare_for_analysis(con)  # derive the follow-up table, as an import does
    return con


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=200)
    parser.add_argument("--n", type=int, default=3000, help="releases per replication")
    parser.add_argument("--seed", type=int, default=2024)
    args = parser.parse_args()
    truth = true_att()
    print(f"true ATT at {HORIZON} days: {100 * truth:+.2f} per 100 participants (HR {TRUE_HR})")
    rng = np.random.default_rng(args.seed)
    rows = []
    started = time.perf_counter()
    for rep in range(args.reps):
        con = _database(rng, args.n)
        for method in ("match", "iptw"):
            result = ImpactEvaluation(
                program="P",
                method=method,
                covariates=("age_at_release", "prior_convictions", "offense_category"),
            ).fit(con)
            d = result.difference
            naive = result.naive["participants"]["rate"] - result.naive["comparison"]["rate"]
            rows.append(
                {
                    "rep": rep,
                    "method": method,
                    "estimate": d.estimate,
                    "covered": d.lower <= truth <= d.upper,
                    "hr_covered": result.hazard_ratio.lower <= TRUE_HR <= result.hazard_ratio.upper,
                    "naive": naive,
                }
            )
        con.close()
    table = pd.DataFrame(rows)
    print(f"{args.reps} replications of {args.n} releases in {time.perf_counter() - started:.0f} s")
    for method, part in table.groupby("method"):
        print(
            f"{method:>6}: coverage of the rate-difference 95% CI {100 * part['covered'].mean():.1f}% "
            f"(target 93-97%), mean estimate {100 * part['estimate'].mean():+.2f} per 100 "
            f"(bias {100 * (part['estimate'].mean() - truth):+.2f}); adjusted HR CI covers {TRUE_HR}: "
            f"{100 * part['hr_covered'].mean():.1f}%"
        )
    naive = table[table["method"] == "match"]["naive"]
    print(
        f" naive: mean difference {100 * naive.mean():+.2f} per 100 (bias {100 * (naive.mean() - truth):+.2f})"
    )


if __name__ == "__main__":
    main()
