"""Adjustment sets the analyst chooses (issue 17), on the public Rossi recidivism data.

docs/examples/rossi/convert_rossi.py turns lifelines' Rossi data into an import; the
tests import it once, then evaluate the financial aid (``FIN-AID``) with the old
standard-only adjustment and with the new default set, which adds the dataset's extra
covariates race, wexp, mar and paro. The figures checked are those quoted in
docs/impact.md.
"""

from __future__ import annotations

import importlib.util
import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.errors import AnalysisError
from analysis.impact.cohort import DEFAULT_COVARIATES, MIN_KNOWN_SHARE
from analysis.impact.evaluation import ImpactEvaluation
from analysis.store import connect_readonly

ROOT = Path(__file__).resolve().parents[2]
GOLDEN_IPTW = json.loads((ROOT / "tests/reference/golden/iptw_rossi.json").read_text())
STANDARD = ",".join(DEFAULT_COVARIATES)
HORIZON = "364"  # the study's 52 weeks of follow-up


def _converter():
    spec = importlib.util.spec_from_file_location(
        "convert_rossi", ROOT / "docs/examples/rossi/convert_rossi.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def _import(folder: Path, db: Path) -> None:
    result = CliRunner().invoke(main, ["import", str(folder), "--db", str(db)])
    assert result.exit_code == 0, result.output


@pytest.fixture(scope="module")
def rossi_data() -> pd.DataFrame:
    return _converter().rossi()


@pytest.fixture(scope="module")
def rossi_db(tmp_path_factory, rossi_data) -> Path:
    folder = tmp_path_factory.mktemp("rossi")
    _converter().convert(rossi_data, folder / "dataset")
    _import(folder / "dataset", folder / "rossi.duckdb")
    return folder / "rossi.duckdb"


def _impact(db: Path, *options: str) -> dict:
    result = CliRunner().invoke(main, ["impact", "--db", str(db), "--program", "FIN-AID",
                                       "--horizon", HORIZON, "--json", *options])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_default_set_adds_the_extras_and_changes_the_estimate(rossi_db):
    standard = _impact(rossi_db, "--covariates", STANDARD)
    default = _impact(rossi_db)
    assert standard["adjustment"]["used"] == ["age_at_release", "prior_convictions"]
    assert standard["adjustment"]["default_set"] is False
    assert default["adjustment"]["default_set"] is True
    assert default["adjustment"]["used"] == ["age_at_release", "prior_convictions",
                                             "mar", "paro", "race", "wexp"]
    reasons = {item["covariate"]: item["reason"] for item in default["adjustment"]["left_out"]}
    assert reasons == {"sex": "constant", "offense_category": "empty",
                       "sentence_months": "empty", "facility": "constant",
                       "release_year": "constant"}
    # Balance covers every covariate used.
    assert {row["covariate"] for row in default["balance"]} == {
        "age_at_release", "prior_convictions", "mar", "paro", "race", "wexp"}
    # The figures of docs/impact.md (matched hazard ratio, robust SE by pair).
    assert standard["hazard_ratio"]["estimate"] == pytest.approx(0.7986, abs=5e-5)
    assert default["hazard_ratio"]["estimate"] == pytest.approx(0.7265, abs=5e-5)
    assert standard["counts"]["matched"] == 202 and default["counts"]["matched"] == 200


def test_iptw_weights_are_r_glm_att_weights(rossi_db):
    # The weights of the IPTW method are R's glm ATT weights for both sets (1e-6): the
    # same data and the same score model as tests/reference/matchit_reference.R.
    con = connect_readonly(rossi_db)
    try:
        for name, covariates in (("standard", DEFAULT_COVARIATES), ("default", None)):
            prepared = ImpactEvaluation(program="FIN-AID", horizon_days=364,
                                        covariates=covariates).prepare(con)
            scores = prepared.propensity.scores_
            weights = np.where(prepared.treated, 1.0, scores / (1 - scores))
            row = prepared.cohort.frame["release_id"].str[1:].astype(int).to_numpy() - 1
            expected = np.asarray(GOLDEN_IPTW[name]["weights"])[row]
            np.testing.assert_allclose(weights, expected, rtol=0, atol=1e-6)
    finally:
        con.close()


def test_unknown_covariate_is_named_with_the_available_ones(rossi_db):
    result = CliRunner().invoke(main, ["impact", "--db", str(rossi_db), "--program",
                                       "FIN-AID", "--horizon", HORIZON,
                                       "--covariates", "age_at_release,drug_use"])
    assert result.exit_code == 2
    assert "unknown covariate 'drug_use'" in result.output
    assert "wexp" in result.output and "prior_convictions" in result.output


def test_few_known_and_redundant_extras_are_left_out_with_their_reason(tmp_path, rossi_data):
    data = rossi_data.copy()
    converter = _converter()
    converter.convert(data, tmp_path / "dataset")
    releases = pd.read_csv(tmp_path / "dataset" / "releases.csv")
    rng = np.random.default_rng(17)
    # known for 70% of the men: below the default set's 80%
    releases["drug_use"] = np.where(rng.random(len(releases)) < 0.7,
                                    rng.integers(0, 2, len(releases)), np.nan)
    releases["parole"] = releases["paro"]  # the same column twice: redundant
    releases.to_csv(tmp_path / "dataset" / "releases.csv", index=False)
    _import(tmp_path / "dataset", tmp_path / "rossi.duckdb")
    default = _impact(tmp_path / "rossi.duckdb")["adjustment"]
    left = {item["covariate"]: item for item in default["left_out"]}
    assert default["min_known_share"] == MIN_KNOWN_SHARE
    assert left["drug_use"]["reason"] == "few_known"
    assert left["drug_use"]["known_share"] == pytest.approx(
        releases["drug_use"].notna().mean())
    assert left["parole"]["reason"] == "redundant"
    assert "parole" in default["redundant_terms"]
    assert "drug_use" not in default["used"] and "paro" in default["used"]
    # Named by the analyst, a covariate known for 70% is used: its unknown values enter as
    # a missing-value indicator and no release is dropped for them.
    chosen = _impact(tmp_path / "rossi.duckdb", "--covariates", "age_at_release,drug_use")
    assert chosen["adjustment"]["used"] == ["age_at_release", "drug_use"]
    assert chosen["counts"]["eligible"] == 216
    assert {"drug_use", "drug_use[missing]"} <= {row["covariate"] for row in chosen["balance"]}


def test_text_output_says_what_was_used_and_left_out(rossi_db):
    result = CliRunner().invoke(main, ["impact", "--db", str(rossi_db), "--program",
                                       "FIN-AID", "--horizon", HORIZON, "--lang", "fr"])
    assert result.exit_code == 0, result.output
    english = CliRunner().invoke(main, ["impact", "--db", str(rossi_db), "--program",
                                        "FIN-AID", "--horizon", HORIZON]).output
    assert ("Adjusted for: age_at_release, prior_convictions, mar, paro, race, wexp "
            "(the default set)") in english
    assert "Left out: sex (a single value among the releases compared)" in english
    assert "Adjusted for" not in result.output and "Left out" not in result.output


def test_an_empty_request_is_refused_by_name_not_ignored(rossi_db):
    con = connect_readonly(rossi_db)
    try:
        with pytest.raises(AnalysisError, match="unknown covariate 'Age'"):
            ImpactEvaluation(program="FIN-AID", covariates=["Age"]).prepare(con)
    finally:
        con.close()


@pytest.mark.parametrize("name", ["standard", "default"])
def test_iptw_reports_the_weighted_marginal_hazard_ratio_of_r(rossi_db, name):
    # R: coxph(Surv(week, arrest) ~ fin, weights = ATT weight, cluster = id), in
    # tests/reference/matchit_reference.R; weeks here are days (x 7): the same model.
    con = connect_readonly(rossi_db)
    try:
        covariates = DEFAULT_COVARIATES if name == "standard" else None
        result = ImpactEvaluation(program="FIN-AID", horizon_days=364, method="iptw",
                                  covariates=covariates).fit(con)
    finally:
        con.close()
    golden = GOLDEN_IPTW[name]
    hr = result.hazard_ratio
    assert hr.estimate == pytest.approx(golden["hr"], rel=1e-4)
    assert hr.se_robust == pytest.approx(golden["se_robust"], rel=1e-4)
    assert hr.se_model == pytest.approx(golden["se_model"], rel=1e-4)
