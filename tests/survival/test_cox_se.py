"""``desist cox`` labels its standard errors, and ``--se`` picks the one behind the CIs.

The study database of :mod:`tests.reference.cox_study` has several releases per person
and a time-varying post-release programme; R fitted the same counting-process rows with
``coxph`` (golden ``cox_study_model.json``: model SE) and ``coxph(cluster = person_id)``
(``cox_study.json``: robust SE).
"""

from __future__ import annotations

import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy import stats

from analysis.cli import main
from analysis.errors import AnalysisError
from analysis.survival.cox import CoxModel
from analysis.survival.cox_study import fit_study_cox
from tests.reference import cox_study
from tests.survival.test_cox_reference import GOLDEN, RTOL, r_term, rel_err

ARGS = ["--covariates", ",".join(cox_study.COVARIATES), "--programs",
        ",".join(cox_study.PROGRAMS)]
Z = stats.norm.ppf(0.975)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return cox_study.load(tmp_path_factory.mktemp("cox-se") / "study.duckdb")


@pytest.fixture(scope="module")
def r_fits():
    """R's ``coxph`` (model SE) and ``coxph(cluster = person_id)`` (robust SE)."""
    return {kind: json.loads((GOLDEN / f"cox_{case}.json").read_text())
            for kind, case in (("model", "study_model"), ("robust", "study"))}


def cox_json(db, *args) -> dict:
    result = CliRunner().invoke(main, ["cox", "--db", db, *ARGS, "--json", *args])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_golden_data_is_what_desist_cox_fits(db):
    """The rows R fitted are the rows the engine builds from the study database."""
    con = duckdb.connect(db, read_only=True)
    try:
        built = cox_study.model_frame(con)
    finally:
        con.close()
    committed = pd.read_csv(cox_study.FRAME)
    pd.testing.assert_frame_equal(built.astype(committed.dtypes.to_dict()), committed)


def test_json_labels_both_standard_errors_robust_by_default(db, r_fits):
    out = cox_json(db)
    assert (out["se_type"], out["se_robust_cluster"]) == ("robust", "person_id")
    terms = out["terms"]
    assert [r_term(t["term"]) for t in terms] == r_fits["model"]["terms"]
    model_se = list(r_fits["model"]["se"].values())
    robust_se = list(r_fits["robust"]["robust_se"].values())
    assert rel_err([t["se_model"] for t in terms], model_se) < RTOL
    assert rel_err([t["se_robust"] for t in terms], robust_se) < RTOL
    assert all(t["se_type"] == "robust" and t["se"] == t["se_robust"] for t in terms)
    # the two differ on this data: the check cannot pass with one copied into the other
    assert rel_err(robust_se, model_se) > 0.03
    coef = np.array([t["coef"] for t in terms])
    assert rel_err(coef, list(r_fits["robust"]["coef"].values())) < RTOL
    assert rel_err([t["hr_lower"] for t in terms], np.exp(coef - Z * np.array(robust_se))) < RTOL
    assert rel_err([t["hr_upper"] for t in terms], np.exp(coef + Z * np.array(robust_se))) < RTOL


def test_se_model_gives_coxph_intervals_and_keeps_both_columns(db, r_fits):
    robust, model = cox_json(db), cox_json(db, "--se", "model")
    assert (model["se_type"], model["se_robust_cluster"]) == ("model", "person_id")
    model_se = np.array(list(r_fits["model"]["se"].values()))
    for by_model, by_robust, expected_se in zip(model["terms"], robust["terms"], model_se,
                                                 strict=True):
        assert by_model["se_type"] == "model" and by_model["se"] == by_model["se_model"]
        # same fit, same two standard errors; only the one in use changes
        for key in ("coef", "hr", "se_model", "se_robust"):
            assert by_model[key] == pytest.approx(by_robust[key], rel=1e-12)
        coef = by_model["coef"]
        assert by_model["hr_lower"] == pytest.approx(np.exp(coef - Z * expected_se), rel=RTOL)
        assert by_model["hr_upper"] == pytest.approx(np.exp(coef + Z * expected_se), rel=RTOL)
        assert by_model["p"] == pytest.approx(2 * stats.norm.sf(abs(coef) / expected_se),
                                              rel=RTOL)
        # the intervals widen or narrow exactly as the chosen standard error does
        width = {name: np.log(fit["hr_upper"] / fit["hr_lower"])
                 for name, fit in (("model", by_model), ("robust", by_robust))}
        assert width["model"] / width["robust"] == pytest.approx(
            by_model["se_model"] / by_model["se_robust"], rel=1e-9)
        assert width["model"] != pytest.approx(width["robust"], rel=5e-3)


def test_text_report_shows_both_and_names_the_one_in_use(db):
    for choice, used in (("robust", "se_robust"), ("model", "se_model")):
        result = CliRunner().invoke(main, ["cox", "--db", db, *ARGS, "--se", choice])
        assert result.exit_code == 0, result.output
        header = next(line for line in result.output.splitlines() if line.startswith("term"))
        assert header.split()[-2:] == ["se_model", "se_robust"]
        assert f"se_type: {choice}" in result.output
        assert f"CIs and p-values use {used}" in result.output


def test_help_documents_the_default():
    result = CliRunner().invoke(main, ["cox", "--help"])
    text = " ".join(result.output.split())
    assert "--se [robust|model]" in text and "[default: robust]" in text
    assert "clustered by person" in text


def test_unknown_se_choice_exits_2(db):
    result = CliRunner().invoke(main, ["cox", "--db", db, *ARGS, "--se", "sandwich"])
    assert result.exit_code == 2
    assert "robust" in result.output and "model" in result.output


def test_api_refuses_an_unknown_se_choice(db):
    con = duckdb.connect(db, read_only=True)
    try:
        with pytest.raises(AnalysisError, match="se must be one of robust, model"):
            fit_study_cox(con, ["sex"], se="naive")
    finally:
        con.close()


def test_model_se_fit_keeps_rows_with_unknown_person():
    """Asking for model SEs must not drop rows only because their person is unknown:
    the implicit person_id cluster then serves se_robust alone (a cluster per such row)."""
    frame = pd.read_csv(cox_study.FRAME)
    frame.loc[frame.index[:40], "person_id"] = None
    kw = dict(duration_col="stop", event_col="event", entry_col="start",
              covariates=["age_at_release", "sex", "VOC", "JOB"])
    model = CoxModel(robust=False).fit(frame, **kw)
    assert model.n == len(frame) and model.result_.se_type == "model"
    complete = CoxModel(robust=False).fit(frame.iloc[40:], **kw)
    assert model.params.to_numpy() != pytest.approx(complete.params.to_numpy())
    assert np.isfinite(model.summary["se_robust"]).all()
