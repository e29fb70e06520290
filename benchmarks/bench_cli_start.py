"""Start-up time of the ``desist`` command, beside a bare Python and ``import pandas``.

Usage::

    .venv/bin/python benchmarks/bench_cli_start.py [--repeat 7]

Each line is the median wall-clock time of ``--repeat`` fresh processes (after one
untimed run that warms the operating system's file cache), so it is what a user waits
for at the prompt. ``python -c pass`` is the floor no command can go below and
``python -c "import pandas"`` is the cost that loading the analysis stack would add;
the ratio column compares each command with the latter. The issue's target is
``desist --help`` and ``desist validate --help`` under 0.5 s on a quiet 2-core machine
(check ``uptime`` first: a loaded machine makes every figure larger).
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import time
from pathlib import Path

BIN = Path(sys.executable).parent
DESIST = str(BIN / "desist")
PYTHON = sys.executable

#: (label, command line); the first two are there for scale.
COMMANDS: list[tuple[str, list[str]]] = [
    ("python -c pass", [PYTHON, "-c", "pass"]),
    ('python -c "import pandas"', [PYTHON, "-c", "import pandas"]),
    ('python -c "import analysis"', [PYTHON, "-c", "import analysis"]),
    ("desist --help", [DESIST, "--help"]),
    ("desist validate --help", [DESIST, "validate", "--help"]),
    ("desist km --help", [DESIST, "km", "--help"]),
]

TARGET_SECONDS = 0.5


def time_once(command: list[str]) -> float:
    """Seconds from starting ``command`` to its exit (it must succeed)."""
    start = time.perf_counter()
    subprocess.run(command, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - start


def median_seconds(command: list[str], repeat: int) -> float:
    """Median of ``repeat`` fresh runs of ``command``, after one warm-up run."""
    time_once(command)
    return statistics.median(time_once(command) for _ in range(repeat))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=7, help="fresh processes per command")
    args = parser.parse_args()
    figures = {label: median_seconds(command, args.repeat) for label, command in COMMANDS}
    pandas_seconds = figures['python -c "import pandas"']
    print(f"median of {args.repeat} fresh processes each; target for desist --help: "
          f"< {TARGET_SECONDS} s")
    print(f"{'command':<30} {'seconds':>8} {'/ import pandas':>16}")
    for label, seconds in figures.items():
        print(f"{label:<30} {seconds:>8.3f} {seconds / pandas_seconds:>16.2f}")


if __name__ == "__main__":
    main()
