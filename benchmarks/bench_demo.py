"""Time and peak memory of the demo generator; calibration of the recovered effects.

``.venv/bin/python benchmarks/bench_demo.py [N ...]`` times generation at 50,000 and
1,000,000 releases (or the sizes given). Each size runs in a fresh subprocess so that
peak resident memory (ru_maxrss) belongs to that size alone; tracemalloc's peak
counts the Python/numpy allocations of the generator.

``.venv/bin/python benchmarks/bench_demo.py --calibrate SEEDS [--releases N]`` fits
the adjusted Cox model (``CoxModel``, Efron ties, model-based SEs) on SEEDS demo
datasets (seeds 1..SEEDS) and prints, per programme coefficient, the mean z-score
against the truth and how often the 95% interval missed it.
"""

from __future__ import annotations

import json
import subprocess
import sys
import tempfile

_CHILD = r"""
import json, resource, sys, tempfile, time, tracemalloc
from analysis.demo import DemoGenerator
n = int(sys.argv[1])
with tempfile.TemporaryDirectory() as out:
    tracemalloc.start()
    began = time.perf_counter()
    summary = DemoGenerator().generate(out, releases=n)
    seconds = time.perf_counter() - began
    _, traced_peak = tracemalloc.get_traced_memory()
    tracemalloc.stop()
    # Again without tracemalloc, whose bookkeeping slows numpy-heavy code.
    began = time.perf_counter()
    DemoGenerator().generate(out, releases=n)
    plain = time.perf_counter() - began
rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
print(json.dumps({"releases": n, "seconds": round(plain, 2),
                  "seconds_traced": round(seconds, 2),
                  "traced_peak_mb": round(traced_peak / 2**20, 1),
                  "max_rss_mb": round(rss_mb, 1), "rows": summary.rows}))
"""


def run(n: int) -> dict:
    with tempfile.TemporaryDirectory():
        done = subprocess.run(
            [sys.executable, "-c", _CHILD, str(n)], check=True, capture_output=True, text=True
        )
    return json.loads(done.stdout.strip().splitlines()[-1])


def calibrate(seeds: int, releases: int) -> None:
    import math
    from pathlib import Path

    import numpy as np

    sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
    from analysis.demo import DemoGenerator, DemoModel, program_effects
    from analysis.survival.cox import CoxModel
    from tests.demo.episodes import (
        CATEGORICAL,
        NUMERIC,
        REFERENCE,
        add_fixed_programmes,
        episodes,
        program_term,
        read_dataset,
        split_time_varying,
    )

    model = DemoModel()
    truth = program_effects(model).set_index("program_id")
    in_prison = [p.program_id for p in model.programs if not p.time_varying]
    varying = [p.program_id for p in model.programs if p.time_varying]
    terms = {program_term(p, s): math.log(truth.loc[p, f"hr_{s}"])
             for p in in_prison for s in ("completed", "dropped_out")}
    terms |= {program_term(p, "active"): math.log(truth.loc[p, "hr_completed"]) for p in varying}
    z: dict[str, list[float]] = {t: [] for t in terms}
    for seed in range(1, seeds + 1):
        with tempfile.TemporaryDirectory() as out:
            DemoGenerator(seed=seed).generate(out, releases=releases)
            tables = read_dataset(Path(out))
        rel = episodes(tables)
        fixed = add_fixed_programmes(rel, tables, in_prison)
        rows = split_time_varying(rel, tables, varying)
        fit = CoxModel(robust=False).fit(
            rows, "exit", "event",
            NUMERIC + CATEGORICAL + fixed + [program_term(p, "active") for p in varying],
            categorical=CATEGORICAL, reference=REFERENCE, entry_col="entry",
        ).summary.set_index("term")
        for term, true in terms.items():
            z[term].append((fit.loc[term, "coef"] - true) / fit.loc[term, "se"])
        print(f"seed {seed}: {sum(abs(v[-1]) >= 1.96 for v in z.values())} interval(s) missed",
              flush=True)
    print(f"{'coefficient':<26} {'mean z':>7} {'missed':>7}")
    for term, values in z.items():
        missed = sum(abs(v) >= 1.96 for v in values)
        print(f"{term:<26} {np.mean(values):>+7.2f} {missed:>4}/{len(values)}")
    total = sum(abs(v) >= 1.96 for values in z.values() for v in values)
    print(f"95% intervals missing the truth: {total} of {len(z) * seeds} "
          f"({100 * total / (len(z) * seeds):.1f}%)")


def main(argv: list[str]) -> None:
    if argv[:1] == ["--calibrate"]:
        releases = int(argv[argv.index("--releases") + 1]) if "--releases" in argv else 40_000
        calibrate(int(argv[1]), releases)
        return
    sizes = [int(a) for a in argv] or [50_000, 1_000_000]
    print(f"{'releases':>10} {'seconds':>8} {'traced peak MB':>15} {'max RSS MB':>11}  rows")
    for n in sizes:
        r = run(n)
        print(f"{r['releases']:>10,} {r['seconds']:>8.2f} {r['traced_peak_mb']:>15.1f} "
              f"{r['max_rss_mb']:>11.1f}  {r['rows']}")


if __name__ == "__main__":
    main(sys.argv[1:])
