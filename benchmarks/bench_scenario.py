"""The scale-up scenario's Monte Carlo: 10,000 draws in well under a second.

Usage::

    .venv/bin/python benchmarks/bench_scenario.py [--draws 10000] [--years 5,10,30]
                                                  [--repeat 5] [--db DEMO.duckdb]

Times :func:`analysis.planning.scenario.simulate` alone, given the effects (the impact
evaluations it starts from are timed by the impact benchmarks): an uncertain effect on
reoffending and on returns to custody, an uncertain observed mean time in custody, and
both costs, so every figure of the scenario is computed. It prints the best and median
of ``--repeat`` runs per number of years, against the 1-second target of issue 16.
With ``--db``, it also times the whole ``Study.scenario`` (both impact evaluations, the
custody time read from the records, then the Monte Carlo) on that database.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from analysis.planning.scenario import simulate  # noqa: E402
from analysis.planning.scenario_inputs import CustodyTime, Effect, ScenarioInputs  # noqa: E402

TARGET_SECONDS = 1.0


def inputs(years: int) -> ScenarioInputs:
    """A programme reducing reoffending by 5 points (95% CI 1 to 9) and returns by 3."""
    reoffending = Effect(("rearrest",), 365, "match", -0.05, -0.09, -0.01, 0.01,
                         reportable=True, significant=True)
    returns = Effect(("reincarceration",), 365, "match", -0.03, -0.05, -0.01, 0.004,
                     reportable=True, significant=True)
    custody = CustodyTime(610.0, 25.0, "observed", returns=700, released=540,
                          longest_days=2500.0, still_in_custody=0.0)
    return ScenarioInputs("VOC-METAL", 2000, years, reoffending, returns, custody,
                          cost_per_participant=650.0, custody_cost_per_day=60.0,
                          currency="EUR")


def time_simulation(draws: int, years: int, repeat: int) -> list[float]:
    scenario = inputs(years)
    simulate(scenario, draws=draws)  # warm-up: numpy's first quantile call
    times = []
    for seed in range(repeat):
        started = time.perf_counter()
        simulate(scenario, draws=draws, seed=seed)
        times.append(time.perf_counter() - started)
    return times


def time_study(db: str, draws: int) -> None:
    import analysis as ds

    with ds.open_study(db) as study:
        started = time.perf_counter()
        study.scenario("PROB-SUPPORT", 200, 5, custody_cost_per_day=60.0, draws=draws)
        whole = time.perf_counter() - started
    print(f"Study.scenario on {db} (two impact evaluations + custody time + Monte Carlo): "
          f"{whole:.2f} s")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--draws", type=int, default=10_000)
    parser.add_argument("--years", default="5,10,30")
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--db", default=None, help="also time Study.scenario on this database")
    args = parser.parse_args()
    print(f"Monte Carlo of the scale-up scenario, {args.draws:,} draws "
          f"(target < {TARGET_SECONDS:.0f} s):")
    for years in (int(y) for y in args.years.split(",")):
        times = time_simulation(args.draws, years, args.repeat)
        verdict = "ok" if max(times) < TARGET_SECONDS else "SLOW"
        print(f"  {years:>3} years | best {min(times) * 1000:7.1f} ms | median "
              f"{statistics.median(times) * 1000:7.1f} ms | {verdict}")
    if args.db:
        time_study(args.db, args.draws)


if __name__ == "__main__":
    main()
