"""Each statsmodels PHReg trap is real (raw PHReg disagrees with R) and neutralised by CoxModel."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from statsmodels.duration.hazard_regression import PHReg

from analysis.errors import AnalysisError
from analysis.survival.cox import CoxModel
from tests.survival.test_cox_reference import _data, fit_case, rel_err


def _raw(df, stop, event, cols, entry=None, **kw):
    return PHReg(df[stop].to_numpy(float), df[cols].to_numpy(float),
                 status=df[event].to_numpy(float),
                 entry=None if entry is None else df[entry].to_numpy(float), **kw)


def test_phreg_defaults_to_breslow_coxmodel_to_efron():
    model, golden = fit_case("rossi")
    raw = _raw(_data("rossi"), "week", "arrest", ["fin", "age", "race", "wexp", "mar",
                                                   "paro", "prio"])
    assert raw.ties == "breslow"
    assert model.result_.ties == "efron"
    assert rel_err(model.params, list(golden["coef"].values())) < 1e-6


def test_phreg_silently_ignores_weights_so_weighted_fits_use_newton():
    df = _data("trunc")
    w = np.random.default_rng(1).uniform(0.5, 2.0, len(df))
    unweighted = _raw(df, "stop", "event", ["x1", "x2"]).fit().params
    weighted = _raw(df, "stop", "event", ["x1", "x2"], weights=w).fit().params
    np.testing.assert_allclose(weighted, unweighted)  # the trap: no error, no effect
    with pytest.raises(AnalysisError, match="PHReg"):
        CoxModel(solver="phreg").fit(df.assign(w=w), "stop", "event", ["x1", "x2"],
                                     weights_col="w")
    model = CoxModel().fit(df.assign(w=w), "stop", "event", ["x1", "x2"], weights_col="w")
    assert model.result_.solver == "newton"
    plain = CoxModel().fit(df, "stop", "event", ["x1", "x2"])
    assert np.abs(model.params.to_numpy() - plain.params.to_numpy()).max() > 1e-3


@pytest.mark.parametrize("case", ["heart", "trunc"])
def test_phreg_entry_boundary_is_fixed(case):
    model, golden = fit_case(case)
    cov = model.summary["term"].tolist()
    raw = _raw(_data(case), "stop", "event", cov, entry="start", ties="efron").fit()
    expected = list(golden["coef"].values())
    assert rel_err(raw.params, expected) > 1e-3  # the trap: at risk at its own entry
    assert rel_err(model.params, expected) < 1e-6


def test_phreg_robust_se_with_entry_is_fixed():
    model, golden = fit_case("trunc")
    df = _data("trunc")
    raw = _raw(df, "stop", "event", ["x1", "x2"], entry="start", ties="efron")
    raw_se = raw.fit(groups=df["id"].to_numpy()).bse
    expected = list(golden["robust_se"].values())
    assert rel_err(raw_se, expected) > 1e-2
    assert rel_err(model.summary["se"], expected) < 1e-6


def test_phreg_baseline_lags_one_event_time_coxmodel_does_not():
    model, golden = fit_case("lung")
    df = _data("lung").dropna(subset=["ph.ecog"])
    raw = _raw(df, "time", "event", ["age", "sex", "ph.ecog"], ties="efron").fit()
    times, cumhaz, _ = raw.baseline_cumulative_hazard[0]
    assert cumhaz[0] == 0.0  # the trap: no hazard at the first event time
    base = model.result_.baseline
    assert base["cumhaz"].iloc[0] > 0
    assert base["time"].iloc[0] == times[0]


def test_rows_at_risk_at_no_event_time_are_dropped_but_counted():
    df = _data("trunc")
    late = pd.DataFrame({"id": [999], "start": [100.0], "stop": [101.0], "event": [0],
                         "x1": [0.3], "x2": [1]})
    base = CoxModel().fit(df, "stop", "event", ["x1", "x2"], entry_col="start",
                          cluster_col="id")
    more = CoxModel().fit(pd.concat([df, late]), "stop", "event", ["x1", "x2"],
                          entry_col="start", cluster_col="id")
    assert more.n == base.n + 1
    np.testing.assert_allclose(more.summary[["coef", "se"]], base.summary[["coef", "se"]],
                               rtol=1e-10)
