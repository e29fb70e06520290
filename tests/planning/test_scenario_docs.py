"""The worked example of docs/planning.md (section "Scenario") is what the code computes.

The inputs and the per-year figures are read from the document's two tables, and the
probability and break-even year of the example with uncertainty from its text, so the
document cannot drift from the code.
"""

from __future__ import annotations

import math
import re
from pathlib import Path

import pytest
from scipy.stats import norm

from analysis.planning.scenario import simulate
from analysis.planning.scenario_inputs import Z95, CustodyTime, Effect, ScenarioInputs

DOC = Path(__file__).resolve().parents[2] / "docs" / "planning.md"


def section() -> str:
    text = DOC.read_text(encoding="utf-8")
    match = re.search(r"<!-- scenario:begin -->(.*?)<!-- scenario:end -->", text, re.S)
    assert match, f"{DOC}: no scenario section between its markers"
    return match.group(1)


def number(cell: str) -> float:
    """A number as the document writes it: grouping commas, a typographic minus."""
    return float(cell.strip().replace(",", "").replace("\N{MINUS SIGN}", "-"))


def inputs_table() -> dict[str, float]:
    """`name` -> value of the inputs table."""
    rows = re.findall(r"^\|[^|`]*`(\w+)`\s*\|\s*([^|]+?)\s*\|\s*$", section(), re.M)
    assert rows, f"{DOC}: the worked example's inputs table is missing"
    return {name: number(value) for name, value in rows}


def per_year_table() -> list[dict[str, float]]:
    lines = [line for line in section().splitlines() if line.startswith("| ")]
    header_at = next(i for i, line in enumerate(lines) if line.startswith("| year |"))
    header = [cell.strip() for cell in lines[header_at].strip("|").split("|")]
    rows = []
    for line in lines[header_at + 1:]:
        cells = [cell.strip() for cell in line.strip("|").split("|")]
        if not cells[0].isdigit():
            break
        rows.append(dict(zip(header, map(number, cells), strict=True)))
    return rows


def known(difference: float, types: tuple[str, ...]) -> Effect:
    return Effect(types, 365, "match", difference, difference, difference, 0.001,
                  reportable=True, significant=True)


def worked_example() -> ScenarioInputs:
    given = inputs_table()
    return ScenarioInputs(
        "example", int(given["participants"]), int(given["years"]),
        known(given["reoffending"], ("rearrest",)),
        known(given["returns"], ("reincarceration",)),
        CustodyTime.entered(given["custody_days"]),
        cost_per_participant=given["cost_per_participant"],
        custody_cost_per_day=given["custody_cost_per_day"])


COLUMNS = {"reoffences avoided": "reoffences_avoided", "returns avoided": "returns_avoided",
           "bed-years saved": "bed_years_saved", "programme cost": "programme_cost",
           "custody cost avoided": "custody_cost_avoided", "net cost": "net_cost",
           "cumulative net cost": "cumulative_net_cost"}


def test_worked_example_table_is_what_the_code_computes():
    result = simulate(worked_example(), draws=100)
    documented = per_year_table()
    assert [row["year"] for row in documented] == result.table["year"].tolist()
    for row, (_, computed) in zip(documented, result.table.iterrows(), strict=True):
        for words, column in COLUMNS.items():
            assert row[words] == pytest.approx(computed[column]), (row["year"], words)


def test_worked_example_totals_and_break_even_are_what_the_text_says():
    text = section()
    result = simulate(worked_example(), draws=100)
    assert f"**break-even year is {result.break_even_year}**" in text
    bed_years = result.totals["bed_years_saved"]["mean"]
    avoided = result.totals["custody_cost_avoided"]["mean"]
    cost = result.totals["programme_cost"]["mean"]
    assert f"save\n15 × 2 = {bed_years:.0f} bed-years" in text
    assert f"worth 30 × 36,525 = {avoided:,.0f} against\na programme cost of {cost:,.0f}" \
        in text
    assert result.probability_benefit_exceeds_cost == 1.0


def test_example_with_uncertainty_matches_the_normal_distribution():
    text = section()
    match = re.search(r"CI of (\S+) to\s+(\S+) \(standard error.*?the stay ([\d.]+) days and "
                      r"the cost ([\d,]+)\s+per participant.*?\*\*([\d.]+)\*\*.*?in \*\*year "
                      r"(\d)\*\*", text, re.S)
    assert match, f"{DOC}: the example with uncertainty has changed shape"
    lower, upper, days, cost, probability, year = match.groups()
    lower, upper = number(lower), number(upper)
    difference = (lower + upper) / 2
    returns = Effect(("reincarceration",), 365, "match", difference, lower, upper, 0.001,
                     reportable=True, significant=True)
    example = worked_example()
    inputs = ScenarioInputs(example.program, example.participants, example.years,
                            example.reoffending, returns, CustodyTime.entered(number(days)),
                            cost_per_participant=number(cost),
                            custody_cost_per_day=example.custody_cost_per_day)
    se = (upper - lower) / (2 * Z95)
    threshold = number(cost) / (number(days) * inputs.custody_cost_per_day)
    analytic = norm.sf((threshold + difference) / se)
    assert round(analytic, 3) == float(probability)
    result = simulate(inputs, draws=10_000, seed=2026)
    mc_error = math.sqrt(analytic * (1 - analytic) / 10_000)
    assert result.probability_benefit_exceeds_cost == pytest.approx(analytic, abs=4 * mc_error)
    assert result.break_even_year == int(year)
    path = re.search(r"mean\s+cumulative net cost \(([^)]*)\)", text)
    assert path, f"{DOC}: the mean cumulative net cost of the example is missing"
    documented = [number(v) for v in path.group(1).split(", ")]
    sd = inputs.participants * se * 36_525  # one year's cost avoided per unit of effect
    assert result.table["cumulative_net_cost"].tolist() == pytest.approx(
        documented, abs=4 * 2.5 * sd / math.sqrt(10_000))
