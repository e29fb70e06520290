"""CoxModel against R survival 3.5.3 goldens (tests/reference/cox_reference.R)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from analysis.survival.cox import CoxModel
from tests.reference import run_r_script

REF = Path(__file__).resolve().parents[1] / "reference"
DATA = REF / "data"
GOLDEN = REF / "golden"
RTOL = 1e-4  # promised agreement; measured agreement is ~1e-8 or better


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(DATA / f"cox_{name}.csv")


ROSSI = ["fin", "age", "race", "wexp", "mar", "paro", "prio"]
TIES = dict(duration_col="time", event_col="event", covariates=["x1", "x2", "grp"],
            reference={"grp": "a"}, strata="stratum", cluster_col="id")
LUNG = dict(duration_col="time", event_col="event", covariates=["age", "sex", "ph.ecog"])
HEART = dict(duration_col="stop", event_col="event", entry_col="start",
             covariates=["age", "year", "surgery", "transplant"])
#: what ``desist cox --covariates age_at_release,sex --programs VOC,JOB`` fits
STUDY = dict(duration_col="stop", event_col="event", entry_col="start",
             covariates=["age_at_release", "sex", "VOC", "JOB"], cluster_col="person_id")

#: case -> (data, model options, fit keywords, prediction profiles, golden term names)
CASES = {
    "lung": ("lung", {}, dict(duration_col="time", event_col="event",
                              covariates=["age", "sex", "ph.ecog"]),
             pd.DataFrame({"age": [60, 70], "sex": [1, 2], "ph.ecog": [1, 0]})),
    "lung_breslow": ("lung", {"ties": "breslow"},
                     dict(duration_col="time", event_col="event",
                          covariates=["age", "sex", "ph.ecog"]), None),
    "heart": ("heart", {}, dict(duration_col="stop", event_col="event", entry_col="start",
                                covariates=["age", "year", "surgery", "transplant"],
                                cluster_col="id"),
              pd.DataFrame({"age": [0, -10], "year": [3, 3], "surgery": [0, 1],
                            "transplant": [0, 1]})),
    "ovarian": ("ovarian", {}, dict(duration_col="futime", event_col="fustat",
                                    covariates=["age", "ecog.ps", "rx"]), None),
    "rossi": ("rossi", {"robust": True},
              dict(duration_col="week", event_col="arrest", covariates=ROSSI),
              pd.DataFrame({"fin": [0, 1], "age": [20, 30], "race": [1, 0], "wexp": [0, 1],
                            "mar": [0, 0], "paro": [1, 1], "prio": [3, 1]})),
    "rossi_breslow": ("rossi", {"ties": "breslow"},
                      dict(duration_col="week", event_col="arrest", covariates=ROSSI), None),
    "ties": ("ties", {}, TIES,
             pd.DataFrame({"x1": [0, 1], "x2": [0, 1], "grp": ["a", "c"],
                           "stratum": ["north", "south"]})),
    "ties_breslow": ("ties", {"ties": "breslow"}, TIES, None),
    "trunc": ("trunc", {}, dict(duration_col="stop", event_col="event", entry_col="start",
                                covariates=["x1", "x2"], cluster_col="id"),
              pd.DataFrame({"x1": [0, 1], "x2": [0, 1]})),
    "lung_robust": ("lung", {"robust": True}, LUNG, None),
    "heart_model": ("heart", {"robust": False}, {**HEART, "cluster_col": "id"}, None),
    "study": ("study", {}, STUDY, None),
    "study_model": ("study", {"robust": False}, STUDY, None),
}
#: (R coxph fit: model SE, R coxph(cluster=) or robust = TRUE fit: robust SE) of one data
SE_PAIRS = [("lung", "lung_robust"), ("heart_model", "heart"), ("study_model", "study")]


def r_term(term: str) -> str:
    """R names factor terms ``grpb``; ours are ``grp[b]``."""
    return term.replace("[", "").replace("]", "")


def fit_case(case: str, solver: str = "phreg") -> tuple[CoxModel, dict]:
    data, options, kw, _ = CASES[case]
    golden = json.loads((GOLDEN / f"cox_{case}.json").read_text())
    return CoxModel(solver=solver, **options).fit(_data(data), **kw), golden


def golden(case: str) -> dict:
    return json.loads((GOLDEN / f"cox_{case}.json").read_text())


def rel_err(actual, expected) -> float:
    actual, expected = np.asarray(actual, float), np.asarray(expected, float)
    return float(np.max(np.abs(actual - expected) / np.maximum(np.abs(expected), 1e-12)))


@pytest.mark.parametrize("solver", ["phreg", "newton"])
@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_r_coxph(case, solver):
    model, golden = fit_case(case, solver)
    s = model.summary
    assert [r_term(t) for t in s["term"]] == golden["terms"]
    assert model.result_.ties == golden["ties"]
    assert (model.n, model.events) == (golden["n"], golden["nevent"])
    assert rel_err(s["coef"], list(golden["coef"].values())) < RTOL
    naive = np.sqrt(np.diag(model.result_.naive_cov))
    assert rel_err(naive, list(golden["se"].values())) < RTOL
    if "robust_se" in golden:
        assert model.result_.robust
        assert rel_err(s["se"], list(golden["robust_se"].values())) < RTOL
    else:
        assert not model.result_.robust
        assert rel_err(s["se"], list(golden["se"].values())) < RTOL
    assert rel_err([model.result_.loglik_null, model.loglik], golden["loglik"]) < 1e-8


@pytest.mark.parametrize("solver", ["phreg", "newton"])
@pytest.mark.parametrize(("model_case", "robust_case"), SE_PAIRS)
def test_both_standard_errors_match_their_r_fit(model_case, robust_case, solver):
    """Whichever SE drives the CIs, se_model is R coxph's and se_robust coxph(cluster=)'s."""
    model_se = list(golden(model_case)["se"].values())
    robust_se = list(golden(robust_case)["robust_se"].values())
    coef = np.array(list(golden(model_case)["coef"].values()))
    z = 1.959963984540054
    for case, se_type, expected_se in ((model_case, "model", model_se),
                                       (robust_case, "robust", robust_se)):
        s = fit_case(case, solver)[0].summary
        assert (s["se_type"] == se_type).all()
        assert rel_err(s["se_model"], model_se) < RTOL
        assert rel_err(s["se_robust"], robust_se) < RTOL
        assert rel_err(s["se"], expected_se) < RTOL
        # R's summary(fit)$conf.int and p-values use fit$var: the chosen kind
        assert rel_err(s["hr_lower"], np.exp(coef - z * np.array(expected_se))) < RTOL
        assert rel_err(s["hr_upper"], np.exp(coef + z * np.array(expected_se))) < RTOL
        assert rel_err(s["p"], 2 * stats.norm.sf(np.abs(coef) / expected_se)) < RTOL


@pytest.mark.parametrize("case", sorted(CASES))
def test_ph_test_matches_cox_zph(case):
    model, golden = fit_case(case)
    zph = model.ph_test()
    assert [r_term(t) for t in zph["term"]] == golden["zph"]["term"]
    assert rel_err(zph["chi2"], golden["zph"]["chisq"]) < RTOL
    assert zph["df"].tolist() == [int(d) for d in golden["zph"]["df"]]
    assert rel_err(zph["p"], golden["zph"]["p"]) < RTOL


@pytest.mark.parametrize("case", [c for c in sorted(CASES) if CASES[c][3] is not None])
def test_predicted_survival_matches_survfit(case):
    model, golden = fit_case(case)
    profiles = CASES[case][3]
    surv = model.predict_survival(profiles, golden["survfit"]["times"])
    expected = np.column_stack(
        [golden["survfit"][f"profile{j + 1}"] for j in range(len(profiles))]
    )
    assert rel_err(surv.to_numpy(), expected) < RTOL


def test_r_script_reproduces_committed_goldens(tmp_path):
    run_r_script("cox_reference.R", tmp_path)
    committed = sorted(p.name for p in GOLDEN.glob("cox_*.json"))
    assert sorted(p.name for p in tmp_path.glob("cox_*.json")) == committed
    for name in committed:
        fresh = json.loads((tmp_path / name).read_text())
        kept = json.loads((GOLDEN / name).read_text())
        _assert_close(fresh, kept, name)


def _assert_close(fresh, kept, where):
    if isinstance(kept, dict):
        assert fresh.keys() == kept.keys(), where
        for key in kept:
            _assert_close(fresh[key], kept[key], f"{where}.{key}")
    elif isinstance(kept, list):
        assert len(fresh) == len(kept), where
        for i, (a, b) in enumerate(zip(fresh, kept, strict=True)):
            _assert_close(a, b, f"{where}[{i}]")
    elif isinstance(kept, float):
        # tolerate last-digit differences between R builds / BLAS
        assert fresh == pytest.approx(kept, rel=1e-9, abs=1e-12), where
    else:
        assert fresh == kept, where



@pytest.mark.parametrize("case", sorted(CASES))
def test_information_is_the_derivative_of_the_score(case):
    """The information regrouped by row equals the numerical Jacobian of the score.

    Independent of R: central differences of the score, which itself matches R's
    coefficients, so a wrong regrouping of the second moments cannot pass.
    """
    from analysis.survival import cox_riskset

    model, _ = fit_case(case, "newton")
    rs, beta = model.result_._rs, model.result_.coef
    info = cox_riskset.risk_sums(rs, beta).info
    h = 1e-6
    numeric = np.column_stack([
        (cox_riskset.risk_sums(rs, beta - h * e).score
         - cox_riskset.risk_sums(rs, beta + h * e).score) / (2 * h)
        for e in np.eye(len(beta))
    ])
    np.testing.assert_allclose(info, numeric, rtol=1e-5, atol=1e-6 * np.abs(info).max())
