"""Weighted CoxModel (case weights) against R coxph(weights=, cluster=) goldens.

Goldens: tests/reference/weighted_cox_reference.R (R survival 3.5.3), re-run here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import CoxPHFitter

from analysis.errors import AnalysisError
from analysis.survival.cox import CoxModel
from tests.reference import run_r_script
from tests.survival.test_cox_reference import rel_err

REF = Path(__file__).resolve().parents[1] / "reference"
RTOL = 1e-4  # promised agreement; measured ~1e-8 or better
TIES = dict(duration_col="time", event_col="event", covariates=["x1", "x2", "grp"],
            reference={"grp": "a"}, strata="stratum", cluster_col="id")
TRUNC = dict(duration_col="stop", event_col="event", entry_col="start",
             covariates=["x1", "x2"], strata="stratum", cluster_col="id")
ROSSI = dict(duration_col="week", event_col="arrest",
             covariates=["fin", "age", "race", "wexp", "mar", "paro", "prio"])
#: golden case -> (data, ties, fit keywords)
CASES = {
    "ties": ("ties", "efron", TIES),
    "ties_breslow": ("ties", "breslow", TIES),
    "trunc": ("trunc", "efron", TRUNC),
    "trunc_breslow": ("trunc", "breslow", TRUNC),
    "rossi": ("rossi", "efron", ROSSI),
}


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / "data" / f"weighted_cox_{name}.csv")


def _golden(case: str) -> dict:
    return json.loads((REF / "golden" / f"weighted_cox_{case}.json").read_text())


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_r_weighted_coxph(case):
    data, ties, kw = CASES[case]
    golden = _golden(case)
    fit = CoxModel(ties=ties, robust=True).fit(_data(data), weights_col="w", **kw).result_
    assert fit.solver == "newton" and fit.weights == "w"
    assert [t.replace("[", "").replace("]", "") for t in fit.design.columns] == golden["terms"]
    assert (fit.n, fit.events) == (golden["n"], golden["nevent"])
    assert rel_err(fit.coef, list(golden["coef"].values())) < RTOL
    assert rel_err(fit.se_model, list(golden["se"].values())) < RTOL
    assert rel_err(fit.se_robust, list(golden["robust_se"].values())) < RTOL
    assert rel_err([fit.loglik_null, fit.loglik], golden["loglik"]) < 1e-8


def test_r_script_reproduces_committed_goldens(tmp_path):
    run_r_script("weighted_cox_reference.R", tmp_path)
    committed = sorted(p.name for p in (REF / "golden").glob("weighted_cox_*.json"))
    assert sorted(p.name for p in tmp_path.glob("weighted_cox_*.json")) == committed
    for name in committed:
        fresh = json.loads((tmp_path / name).read_text())
        kept = json.loads((REF / "golden" / name).read_text())
        assert fresh.keys() == kept.keys()
        for key in ("coef", "se", "robust_se"):
            assert list(fresh[key].values()) == pytest.approx(list(kept[key].values()),
                                                              rel=1e-9)


def test_unit_weights_give_the_unweighted_fit():
    df = _data("trunc").assign(w=1.0)
    weighted = CoxModel().fit(df, weights_col="w", **TRUNC).summary
    plain = CoxModel(solver="newton").fit(df, **TRUNC).summary
    cols = ["coef", "se_model", "se_robust"]
    np.testing.assert_allclose(weighted[cols], plain[cols], rtol=1e-10)


def test_integer_breslow_weights_equal_replicated_rows():
    """Breslow: a weight of k is k copies of the row (coef and model SE; clusters kept)."""
    df = _data("rossi")
    weighted = CoxModel(ties="breslow").fit(df, weights_col="w", **ROSSI).summary
    copies = df.loc[df.index.repeat(df["w"].astype(int))]
    plain = CoxModel(ties="breslow", solver="newton").fit(copies, **ROSSI).summary
    np.testing.assert_allclose(weighted[["coef", "se_model"]], plain[["coef", "se_model"]],
                               rtol=1e-8)


def test_lifelines_efron_coefficients_agree():
    """lifelines CoxPHFitter(weights_col=) uses Efron with weights as R for the
    coefficients; its robust SE ignores ties, so only coefficients are compared."""
    df = _data("rossi")
    cph = CoxPHFitter().fit(df[[*ROSSI["covariates"], "week", "arrest", "w"]],
                            "week", "arrest", weights_col="w", robust=True)
    ours = CoxModel().fit(df, weights_col="w", **ROSSI).params
    np.testing.assert_allclose(ours.to_numpy(), cph.params_[ours.index].to_numpy(), rtol=1e-4)


@pytest.mark.parametrize("bad", [-1.0, 0.0, np.nan, np.inf])
def test_invalid_weights_are_refused_naming_the_column(bad):
    df = _data("ties")
    df.loc[7, "w"] = bad
    with pytest.raises(AnalysisError, match="weights column 'w'.*position 7"):
        CoxModel().fit(df, weights_col="w", **TIES)


def test_phreg_solver_refuses_weights():
    with pytest.raises(AnalysisError, match="PHReg"):
        CoxModel(solver="phreg").fit(_data("ties"), weights_col="w", **TIES)


def test_ph_test_is_refused_for_weighted_fits():
    model = CoxModel().fit(_data("ties"), weights_col="w", **TIES)
    with pytest.raises(AnalysisError, match="weighted by 'w'"):
        model.ph_test()


@settings(max_examples=40, deadline=None)
@given(st.lists(st.one_of(st.floats(allow_nan=True, allow_infinity=True),
                          st.text(max_size=3)), min_size=1, max_size=6))
def test_weight_validator_accepts_exactly_positive_finite_numbers(values):
    from analysis.survival.cox import _check_weights

    series = pd.Series(values, dtype=object)
    numbers = pd.to_numeric(series, errors="coerce").astype(float)
    valid = bool((np.isfinite(numbers) & (numbers > 0)).all())
    if valid:
        _check_weights(series, "w")
    else:
        with pytest.raises(AnalysisError, match="weights column 'w'"):
            _check_weights(series, "w")
