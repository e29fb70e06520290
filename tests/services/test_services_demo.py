"""On the demo (which has providers, services and referrals): coverage finds gaps, and the
``service:any`` exposure goes through impact, cox, report and ``services referrals``."""

from __future__ import annotations

import json

import pytest
from click.testing import CliRunner

from analysis.cli import main


def run(*args: str):
    result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 0, result.output
    return result.output


@pytest.fixture(scope="module")
def referrals(demo_db):
    return json.loads(run("services", "referrals", "--db", str(demo_db), "--json",
                          "--by", "release_region"))


def test_coverage_flags_gaps(demo_db):
    shown = json.loads(run("services", "coverage", "--db", str(demo_db), "--json"))
    assert shown["has_services"] and shown["regions"]
    reasons = {g["reason"] for r in shown["regions"] for g in r["gaps"]}
    assert "no_service" in reasons


def test_referrals_compare_people_who_reached_a_service(referrals):
    comparison = referrals["comparison"]
    assert comparison["exposure"] == "service:any"
    assert comparison["impact"] is not None, comparison["reason"]
    impact = comparison["impact"]
    assert impact["landmark_days"] == 90 and impact["cost"] is None
    assert impact["hazard_ratio"]["estimate"] > 0
    total = referrals["total"]
    assert total["attended"] >= total["completed"] > 0


def test_impact_cox_and_report_accept_a_service_exposure(demo_db, tmp_path):
    text = run("impact", "--db", str(demo_db), "--program", "service:any")
    assert "service: any" in text and "hazard ratio" in text
    cox = run("cox", "--db", str(demo_db), "--programs", "service:any", "--covariates",
              "age_at_release,sex", "--json")
    terms = [row["term"] for row in json.loads(cox)["terms"]]
    assert "service:any" in terms
    out = tmp_path / "report.html"
    run("report", "--db", str(demo_db), "--program", "service:any", "--out", str(out))
    assert "service: any" in out.read_text(encoding="utf-8")
