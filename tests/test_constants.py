"""Shared constants have one home (analysis/constants.py) and every user reads it."""

from __future__ import annotations

import inspect
import re
import subprocess
import sys
from pathlib import Path

from analysis import api, constants
from analysis.constants import DAYS_PER_MONTH, DAYS_PER_YEAR, DEFAULT_HORIZONS

ANALYSIS = Path(__file__).resolve().parents[1] / "analysis"
# A second copy of a shared number, as it was written before it had a home.
COPIES = {
    "default horizons": re.compile(r"365,\s*730,\s*1095"),
    "days per month": re.compile(r"30\.4375|365\.25\s*/\s*12"),
    "old name of the minimum cell size": re.compile(r"\bDEFAULT_MIN_GROUP_SIZE\b"),
}
# The one place each may still appear: the home itself, and the documented old name.
ALLOWED = {
    "default horizons": {"constants.py"},
    "days per month": {"constants.py"},
    "old name of the minimum cell size": {"kaplan_meier.py"},
}


def test_no_module_redeclares_a_shared_constant():
    found = []
    for path in ANALYSIS.rglob("*.py"):
        text = path.read_text(encoding="utf-8")
        for what, pattern in COPIES.items():
            if pattern.search(text) and path.name not in ALLOWED[what]:
                found.append(f"{path.relative_to(ANALYSIS.parent)}: {what}")
    assert found == []


def test_values_and_their_meaning():
    assert DEFAULT_HORIZONS == (365, 730, 1095)
    assert DAYS_PER_MONTH == 30.4375 == DAYS_PER_YEAR / 12
    assert inspect.signature(api.fixed_horizon_rates).parameters["horizons"].default \
        is DEFAULT_HORIZONS


def test_cli_horizons_default_comes_from_the_constant():
    from analysis.cli.survival_commands import DEFAULT_HORIZONS as CLI_DEFAULT

    assert CLI_DEFAULT == ",".join(str(days) for days in DEFAULT_HORIZONS)


def test_the_constants_module_is_light():
    code = ("import sys, analysis.constants; "
            "print(sorted(m for m in ('numpy', 'pandas', 'scipy', 'duckdb') if m in sys.modules))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"
    assert constants.__doc__ and "docs/metrics.md" in constants.__doc__
