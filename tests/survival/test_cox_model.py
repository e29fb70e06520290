"""CoxModel behaviour: coding, errors, immutability, lifelines cross-checks, solvers."""

from __future__ import annotations

import dataclasses
import doctest

import numpy as np
import pandas as pd
import pytest
from lifelines import CoxPHFitter

from analysis.errors import AnalysisError, ModelNotConvergedError
from analysis.survival import cox
from analysis.survival.cox import SUMMARY_COLUMNS, CoxModel
from tests.survival.test_cox_reference import ROSSI, _data


def synthetic(n=3000, seed=7) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    age = rng.uniform(18, 60, n)
    sex = rng.choice(["F", "M"], n, p=[0.2, 0.8])
    offense = rng.choice(["drugs", "property", "violent"], n, p=[0.3, 0.5, 0.2])
    lp = -0.03 * (age - 35) + 0.4 * (sex == "M") + np.where(offense == "violent", 0.3, 0.0)
    t = rng.exponential(700 * np.exp(-lp))
    c = rng.uniform(100, 1500, n)
    return pd.DataFrame({"person_id": rng.integers(0, n // 2, n).astype(str),
                         "time": np.ceil(np.minimum(t, c)), "event": (t <= c).astype(int),
                         "age": age, "sex": sex, "offense": offense})


def test_summary_columns_and_categorical_terms():
    model = CoxModel().fit(synthetic(), "time", "event", ["age", "sex", "offense"])
    s = model.summary
    assert tuple(s.columns) == SUMMARY_COLUMNS
    # default reference = most frequent level: M for sex, property for offense
    assert s["term"].tolist() == ["age", "sex[F]", "offense[drugs]", "offense[violent]"]
    assert np.allclose(s["hr"], np.exp(s["coef"]))
    assert (s["hr_lower"] < s["hr"]).all() and (s["hr"] < s["hr_upper"]).all()
    # person_id present -> robust, clustered by person
    assert model.result_.robust


def test_reference_level_override_flips_sign():
    df = synthetic()
    a = CoxModel().fit(df, "time", "event", ["sex"], reference={"sex": "M"})
    b = CoxModel().fit(df, "time", "event", ["sex"], reference={"sex": "F"})
    assert b.summary["term"].tolist() == ["sex[M]"]
    assert a.summary["coef"].iloc[0] == pytest.approx(-b.summary["coef"].iloc[0], rel=1e-8)


def test_recovers_true_effects():
    s = CoxModel().fit(synthetic(n=6000), "time", "event", ["age", "sex", "offense"],
                       reference={"sex": "F", "offense": "drugs"}).summary.set_index("term")
    assert s.loc["age", "coef"] == pytest.approx(-0.03, abs=0.01)
    assert s.loc["sex[M]", "coef"] == pytest.approx(0.4, abs=0.15)


def test_results_are_immutable():
    model = CoxModel().fit(synthetic(), "time", "event", ["age"])
    with pytest.raises(dataclasses.FrozenInstanceError):
        model.result_.loglik = 0.0
    table = model.summary
    table.loc[0, "coef"] = 99.0  # a copy each time: the fit is untouched
    assert model.summary.loc[0, "coef"] != 99.0


def test_newton_and_phreg_agree():
    df = synthetic()
    kw = dict(covariates=["age", "sex", "offense"], strata=None)
    a = CoxModel(solver="phreg").fit(df, "time", "event", **kw).summary
    b = CoxModel(solver="newton").fit(df, "time", "event", **kw).summary
    np.testing.assert_allclose(a[["coef", "se"]], b[["coef", "se"]], rtol=1e-6)


def test_matches_lifelines_efron():
    df = _data("rossi")
    ours = CoxModel().fit(df, "week", "arrest", ROSSI)
    cph = CoxPHFitter().fit(df, "week", "arrest")
    s = ours.summary.set_index("term")
    np.testing.assert_allclose(s.loc[ROSSI, "coef"], cph.summary.loc[ROSSI, "coef"], rtol=1e-5)
    np.testing.assert_allclose(s.loc[ROSSI, "se"], cph.summary.loc[ROSSI, "se(coef)"], rtol=1e-4)
    assert ours.loglik == pytest.approx(cph.log_likelihood_, rel=1e-8)


def test_matches_lifelines_clustered_robust_without_ties():
    # lifelines' sandwich ignores ties (its docs say so), so compare on continuous times;
    # with ties our robust SEs follow R (see test_cox_reference).
    df = synthetic(n=1500)
    df["time"] += np.random.default_rng(3).uniform(-0.5, 0, len(df))
    df["male"] = (df["sex"] == "M").astype(int)
    ours = CoxModel().fit(df, "time", "event", ["age", "male"], cluster_col="person_id")
    cph = CoxPHFitter().fit(df[["time", "event", "age", "male", "person_id"]], "time", "event",
                            cluster_col="person_id")
    np.testing.assert_allclose(ours.summary["coef"], cph.summary["coef"], rtol=1e-4)
    np.testing.assert_allclose(ours.summary["se"], cph.summary["se(coef)"], rtol=1e-4)


@pytest.mark.parametrize(
    ("change", "kw", "message"),
    [
        (lambda d: d.assign(event=0), {}, "no events"),
        (lambda d: d, {"covariates": ["age", "height"]}, "unknown column"),
        (lambda d: d.assign(k=1.0), {"covariates": ["age", "k"]}, "constant"),
        (lambda d: d.assign(a2=2 * d["age"] + 1), {"covariates": ["age", "a2"]}, "collinear"),
        (lambda d: d.assign(s="x"), {"covariates": ["s"]}, "single level"),
        (lambda d: d, {"covariates": ["sex"], "reference": {"sex": "Z"}}, "does not occur"),
        (lambda d: d.assign(event=2), {}, "0 .censored. or 1"),
    ],
)
def test_clear_errors(change, kw, message):
    df = change(synthetic(n=300))
    kw = {"covariates": ["age"], **kw}
    with pytest.raises(AnalysisError, match=message):
        CoxModel().fit(df, "time", "event", **kw)


def test_collinear_dummies_named():
    df = synthetic(n=300)
    df["male"] = (df["sex"] == "M").astype(int)
    with pytest.raises(AnalysisError, match="'male' is a linear combination"):
        CoxModel().fit(df, "time", "event", ["sex", "male"])


def test_missing_values_dropped_and_counted():
    df = synthetic(n=500)
    df.loc[:9, "age"] = np.nan
    model = CoxModel().fit(df, "time", "event", ["age"])
    assert model.n == 490 and model.result_.n_missing == 10


def test_predict_unknown_level_and_unfitted():
    with pytest.raises(AnalysisError, match="not fitted"):
        _ = CoxModel().summary
    model = CoxModel().fit(synthetic(), "time", "event", ["sex"])
    with pytest.raises(AnalysisError, match="unknown level"):
        model.predict_survival(pd.DataFrame({"sex": ["Q"]}), [100])
    surv = model.predict_survival(pd.DataFrame({"sex": ["F", "M"]}), [0, 100, 500])
    assert (surv.iloc[0] == 1).all() and (surv.diff().iloc[1:] <= 0).all().all()


def test_docstring_examples_run():
    assert doctest.testmod(cox, raise_on_error=False).failed == 0


@pytest.mark.parametrize("solver", ["phreg", "newton"])
def test_infinite_coefficient_is_a_clear_error(solver):
    # everyone with x=1 has the event, nobody with x=0: the MLE of x is +infinity
    df = pd.DataFrame({"t": np.arange(1, 41), "e": [1] * 20 + [0] * 20, "x": [1] * 20 + [0] * 20})
    with pytest.raises(ModelNotConvergedError, match="did not converge"):
        CoxModel(solver=solver).fit(df, "t", "e", ["x"])


def test_warm_start_from_subsample_reaches_the_same_maximum(monkeypatch):
    monkeypatch.setattr(cox, "WARM_START_ROWS", 500)  # 3000 rows > 4 x 500: warm start
    df = synthetic()
    kw = dict(covariates=["age", "sex", "offense"])
    warm = CoxModel(solver="newton").fit(df, "time", "event", **kw).summary
    exact = CoxModel(solver="phreg").fit(df, "time", "event", **kw).summary
    np.testing.assert_allclose(warm[["coef", "se"]], exact[["coef", "se"]], rtol=1e-6)
