"""``desist scenario`` and ``Study.scenario`` on the demo database."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

import analysis as ds
from analysis.cli import main

PER_YEAR_KEYS = {"year", "reoffences_avoided", "lower", "upper", "returns_avoided",
                 "bed_years_saved", "net_cost"}


def run(*args: str):
    return CliRunner().invoke(main, ["scenario", *args])


@pytest.fixture(scope="module")
def scenario_json(demo_db):
    result = run("--db", str(demo_db), "--program", "PROB-SUPPORT", "--participants", "200",
                 "--years", "4", "--custody-cost-per-day", "60", "--draws", "2000", "--json")
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_json_has_the_contract_of_issue_16(scenario_json):
    payload = scenario_json
    assert payload["program"].startswith("PROB-SUPPORT")
    assert set(payload["effect"]) == {"reoffending", "returns_to_custody", "custody_days"}
    assert [row["year"] for row in payload["per_year"]] == [1, 2, 3, 4]
    assert all(PER_YEAR_KEYS <= set(row) for row in payload["per_year"])
    assert 0 <= payload["probability_benefit_exceeds_cost"] <= 1
    assert payload["break_even_year"] is None or 1 <= payload["break_even_year"] <= 4
    assert isinstance(payload["notes"], list)
    assert payload["disclosure"]["min_cell"] == 10
    assert payload["cost_per_participant"] == 350 and payload["currency"] == "EUR"
    custody = payload["effect"]["custody_days"]
    assert custody["source"] == "observed" and custody["mean_days"] > 0


def test_effects_are_those_of_the_impact_evaluations(demo_db, scenario_json):
    with ds.open_study(demo_db) as study:
        reoffending = study.impact("PROB-SUPPORT").result
        returns = study.with_outcome("reincarceration").impact("PROB-SUPPORT").result
    shown = scenario_json["effect"]
    assert shown["reoffending"]["difference"] == pytest.approx(reoffending.difference.estimate)
    assert shown["reoffending"]["lower"] == pytest.approx(reoffending.difference.lower)
    assert shown["returns_to_custody"]["difference"] == pytest.approx(
        returns.difference.estimate)
    assert shown["returns_to_custody"]["significant"] == returns.significant
    # the mean figure per year is the participants times the evaluated reduction
    first = scenario_json["per_year"][0]
    assert first["returns_avoided"] == pytest.approx(
        -200 * returns.difference.estimate, rel=0.05, abs=0.5)


def test_study_scenario_with_an_entered_custody_time(demo_db):
    with ds.open_study(demo_db, outcome="reincarceration") as study:
        scenario = study.scenario("PROB-SUPPORT", 100, 2, mean_custody_days=365.25,
                                  draws=1000)
    inputs = scenario.inputs
    # the study's outcome is the reincarceration: one evaluation serves both effects
    assert inputs.reoffending == inputs.returns
    assert inputs.custody.source == "planner" and inputs.custody.se == 0
    assert "custody_cost_not_given" in scenario.notes
    assert scenario.table["net_cost"].isna().all()
    assert list(scenario.summary["quantity"]) == ["reoffending", "returns_to_custody",
                                                  "custody_days"]


def test_text_output_speaks_the_users_language(demo_db):
    result = run("--db", str(demo_db), "--program", "VOC-METAL", "--participants", "50",
                 "--years", "2", "--draws", "500", "--lang", "fr")
    assert result.exit_code == 0, result.output
    assert "Scénario d'extension" in result.output
    assert "Année d'équilibre : ne peut être donnée" in result.output  # no cost per day
    assert "Aucun coût de détention par jour n'a été saisi" in result.output


def test_unknown_programme_is_named_with_the_choices(demo_db):
    result = run("--db", str(demo_db), "--program", "NOPE", "--participants", "10",
                 "--years", "2")
    assert result.exit_code == 2
    assert "unknown programme 'NOPE'" in result.output
    assert "VOC-METAL" in result.output and "PROB-SUPPORT" in result.output


@pytest.mark.parametrize(("option", "value"), [
    ("--participants", "0"), ("--participants", "-3"), ("--participants", "2.5"),
    ("--years", "0"), ("--years", "101"), ("--draws", "0"),
    ("--custody-cost-per-day", "-1"), ("--mean-custody-days", "0"),
])
def test_bad_numbers_are_refused_naming_the_option(demo_db, option, value):
    args = {"--participants": "10", "--years": "2", option: value}
    flat = [item for pair in args.items() for item in pair]
    result = run("--db", str(demo_db), "--program", "VOC-METAL", *flat)
    assert result.exit_code == 2
    assert option in result.output


def test_nan_cost_is_refused(demo_db):
    result = run("--db", str(demo_db), "--program", "VOC-METAL", "--participants", "10",
                 "--years", "2", "--custody-cost-per-day", "nan")
    assert result.exit_code == 2
    assert "custody cost per day must be a finite number" in result.output


def test_participants_and_years_are_required(demo_db):
    result = run("--db", str(demo_db), "--program", "VOC-METAL", "--years", "2")
    assert result.exit_code == 2 and "--participants" in result.output
