"""``desist services coverage|referrals|guide``: JSON shapes, text in every language, refusals.

The database is tests/services/directory_fixture.py's (numbers worked out there).
"""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.i18n import LANGUAGES
from analysis.services.guide_html import service_type_words
from tests.services.directory_fixture import fixture_db
from tests.test_cli_start import HEAVY, _loaded_by


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return fixture_db(tmp_path_factory.mktemp("services") / "study.duckdb")


@pytest.fixture(scope="module")
def bare_db(tmp_path_factory):
    """The same releases without any services directory."""
    return fixture_db(tmp_path_factory.mktemp("bare") / "study.duckdb", services=False)


def run(*args: str):
    return CliRunner().invoke(main, ["services", *args])


def test_coverage_json_has_the_issue_shape(db):
    result = run("coverage", "--db", str(db), "--json")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["as_of"] == "2024-12-31" and shown["disclosure"]["min_cell"] == 10
    assert shown["has_expected_releases"] is True
    north = {r["region"]: r for r in shown["regions"]}["North"]
    assert set(north) >= {"region", "releases_12m", "upcoming_releases", "needs", "services",
                          "gaps"}
    assert north["releases_12m"] == 30
    assert north["needs"]["women"] == {"count": 10, "share": pytest.approx(1 / 3)}
    assert [s["service_type"] for s in north["services"]] == ["drug_treatment", "housing",
                                                              "education"]
    assert {"service_type": "drug_treatment", "reason": "capacity_below_demand",
            "demand": 12, "capacity": 10} in north["gaps"]


def test_coverage_as_of_and_min_cell(db):
    result = run("coverage", "--db", str(db), "--json", "--as-of", "2024-05-01",
                 "--min-cell", "5")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert shown["as_of"] == "2024-05-01" and shown["disclosure"]["min_cell"] == 5
    bad = run("coverage", "--db", str(db), "--as-of", "2031-01-01")
    assert bad.exit_code == 2 and "outside the data" in bad.output


def test_referrals_json_shape_without_the_comparison(db):
    result = run("referrals", "--db", str(db), "--json", "--no-compare")
    assert result.exit_code == 0, result.output
    shown = json.loads(result.output)
    assert set(shown) == {"disclosure", "by", "rows", "total", "comparison"}
    assert shown["by"] == ["service_type", "region"] and shown["comparison"] is None
    for entry in shown["rows"]:
        assert set(entry) == {"service_type", "region", "referred", "referred_only",
                              "attended", "completed", "declined", "not_available",
                              "contact_date_unknown", "people", "people_reached",
                              "contact_within_30", "median_days_to_contact"}
    assert shown["total"]["referred"] == 56 and shown["total"]["declined"] is None


def test_referrals_comparison_gives_its_reason_when_it_cannot_be_made(db):
    result = run("referrals", "--db", str(db), "--json", "--by", "release_region")
    assert result.exit_code == 0, result.output
    comparison = json.loads(result.output)["comparison"]
    assert comparison["exposure"] == "service:any" and comparison["impact"] is None
    assert comparison["reason"]  # too few people in this small fixture
    assert comparison["reached_referrals"] == 30
    assert comparison["from_referral_date"] is None  # 4 without a contact date


@pytest.mark.parametrize("language", LANGUAGES)
def test_text_output_in_every_language(db, language):
    coverage = run("coverage", "--db", str(db), "--lang", language)
    assert coverage.exit_code == 0, coverage.output
    # data-supplied region names as recorded; the coded service types in words
    assert "North" in coverage.output and "drug_treatment" not in coverage.output
    assert service_type_words("drug_treatment", language) in coverage.output
    referrals = run("referrals", "--db", str(db), "--lang", language)
    assert referrals.exit_code == 0, referrals.output
    assert "service:any" in referrals.output
    assert service_type_words("drug_treatment", language) in referrals.output
    if language == "fr":
        assert "traitement des addictions" in coverage.output
        assert "lacunes" in coverage.output and "orientés" in referrals.output


def test_a_database_without_services_says_how_to_add_them(bare_db):
    referrals = run("referrals", "--db", str(bare_db))
    assert referrals.exit_code == 2
    assert "add the files providers, services and referrals" in referrals.output
    guide = run("guide", "--db", str(bare_db), "--out", "guide.html")
    assert guide.exit_code == 2 and "providers and services" in guide.output
    coverage = run("coverage", "--db", str(bare_db))
    assert coverage.exit_code == 0 and "No service is recorded" in coverage.output


def test_bad_options_are_refused(db):
    assert run("referrals", "--db", str(db), "--by", "colour").exit_code == 2
    assert run("guide", "--db", str(db), "--out", "guide.txt").exit_code == 2


def test_service_exposures_in_cox_and_impact_are_checked(db):
    cox = CliRunner().invoke(main, ["cox", "--db", str(db), "--programs", "service:hiv"])
    assert cox.exit_code == 2
    assert "service:any, service:drug_treatment, service:housing" in cox.output
    impact = CliRunner().invoke(main, ["impact", "--db", str(db), "--program",
                                       "service:tuberculosis"])
    assert impact.exit_code == 2 and "service:housing" in impact.output


def test_help_loads_no_analysis_stack():
    assert _loaded_by(["services", "--help"], HEAVY) == []
    assert _loaded_by(["services", "referrals", "--help"], HEAVY) == []


def test_guide_writes_the_directory(db, tmp_path):
    out = tmp_path / "guide.html"
    result = run("guide", "--db", str(db), "--lang", "fr", "--out", str(out))
    assert result.exit_code == 0, result.output
    assert str(out) in result.output
    assert "Open Door" in out.read_text(encoding="utf-8")  # a provider of the fixture
