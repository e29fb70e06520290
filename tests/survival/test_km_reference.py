"""Kaplan–Meier, log-rank and cumulative incidence agree with R `survival` and lifelines.

Goldens in tests/reference/golden/km_*.csv come from tests/reference/km_reference.R
(R 4.2, survival 3.5.3); the last test re-runs the script and checks it reproduces them.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from lifelines import KaplanMeierFitter
from lifelines.statistics import multivariate_logrank_test

from analysis.survival.competing_risks import CumulativeIncidence
from analysis.survival.kaplan_meier import KaplanMeier
from analysis.survival.logrank import logrank_test
from tests.reference import run_r_script

REF = Path(__file__).resolve().parents[1] / "reference"
DATA = REF / "data"
GOLDEN = REF / "golden"
TOL = 1e-6
# lifelines 0.30 calls pandas in a way pandas 4 will refuse; not our concern here.
pytestmark = pytest.mark.filterwarnings("ignore:Starting with pandas version 4.0")
CASES = ["aml", "lung", "veteran", "ties", "allcensored", "zero_events", "trunc"]


def data(case: str) -> pd.DataFrame:
    frame = pd.read_csv(DATA / f"km_{case}.csv")
    frame["group"] = frame["group"].astype(str)
    return frame


def fitted(case: str, pooled: bool = False) -> pd.DataFrame:
    d = data(case)
    entry = d["entry"] if "entry" in d else None
    km = KaplanMeier().fit(d["time"], d["status"], None if pooled else d["group"], entry=entry)
    return km


def assert_close(actual, expected, what):
    actual = np.asarray(actual, dtype=float)
    expected = np.asarray(expected, dtype=float)
    assert actual.shape == expected.shape, what
    assert np.array_equal(np.isnan(actual), np.isnan(expected)), what
    ok = ~np.isnan(expected)
    np.testing.assert_allclose(actual[ok], expected[ok], rtol=0, atol=TOL, err_msg=what)


@pytest.mark.parametrize("case", CASES)
def test_km_curve_matches_survfit(case):
    golden = pd.read_csv(GOLDEN / f"km_{case}_curve.csv")
    golden["group"] = golden["group"].astype(str)
    for pooled in (False, True):
        table = fitted(case, pooled).table
        want = golden[(golden["group"] == "(pooled)") == pooled]
        assert len(table) == len(want), (case, pooled)
        for col in ("time", "n_risk", "n_event", "n_censor", "survival", "se", "lower",
                    "upper"):
            assert_close(table[col], want[col], f"{case} pooled={pooled} {col}")
        if not pooled:
            assert table["group"].tolist() == want["group"].tolist()


@pytest.mark.parametrize("case", CASES)
def test_quantiles_match_quantile_survfit(case):
    golden = pd.read_csv(GOLDEN / f"km_{case}_quantiles.csv")
    golden["group"] = golden["group"].astype(str)
    for pooled in (False, True):
        q = fitted(case, pooled).quantiles((0.25, 0.5, 0.75))
        want = golden[(golden["group"] == "(pooled)") == pooled]
        for col in ("time", "lower", "upper"):
            assert_close(q[col], want[col], f"{case} pooled={pooled} quantile {col}")


def test_median_in_summary_is_the_r_median():
    km = fitted("aml")
    golden = pd.read_csv(GOLDEN / "km_aml_quantiles.csv")
    med = golden[(golden["p"] == 0.5) & (golden["group"] != "(pooled)")]
    assert_close(km.summary["median"], med["time"], "median")
    assert_close(km.summary["median_lower"], med["lower"], "median lower")


def test_logrank_matches_survdiff():
    golden = pd.read_csv(GOLDEN / "km_logrank.csv")
    assert len(golden) >= 15
    for row in golden.itertuples(index=False):
        d = data(row.case)
        if row.test == "stratified":
            res = logrank_test(d["time"], d["status"], d["group"], strata=d["strata"])
        else:
            res = logrank_test(d["time"], d["status"], d["group"], p=float(row.test[4:]))
        assert abs(res.chi2 - row.chisq) < TOL, (row.case, row.test)
        assert res.df == row.df, (row.case, row.test)


@pytest.mark.parametrize("case", ["aml", "veteran", "ties"])
@pytest.mark.parametrize("pq", [(0, 0), (1, 0), (0, 1), (1, 1), (0.5, 2)])
def test_fleming_harrington_matches_lifelines(case, pq):
    d = data(case)
    ours = logrank_test(d["time"], d["status"], d["group"], p=pq[0], q=pq[1])
    theirs = multivariate_logrank_test(d["time"], d["group"], d["status"],
                                       weightings="fleming-harrington", p=pq[0], q=pq[1])
    assert abs(ours.chi2 - theirs.test_statistic) < 1e-6 * max(1, theirs.test_statistic)
    assert ours.df == theirs.degrees_of_freedom


@pytest.mark.parametrize("case", ["aml", "lung", "ties", "allcensored"])
def test_km_matches_lifelines(case):
    d = data(case)
    ours = fitted(case, pooled=True).table
    kmf = KaplanMeierFitter().fit(d["time"], d["status"])
    sf = kmf.survival_function_.iloc[1:] if kmf.survival_function_.index[0] == 0 else \
        kmf.survival_function_
    assert_close(ours["survival"], sf.iloc[:, 0].to_numpy(), f"{case} survival")
    ci = kmf.confidence_interval_.loc[ours["time"].to_numpy()]
    has_ci = (ours["survival"] < 1) & (ours["survival"] > 0)
    assert_close(ours["lower"][has_ci], ci.iloc[:, 0][has_ci.to_numpy()], f"{case} lower")
    assert_close(ours["upper"][has_ci], ci.iloc[:, 1][has_ci.to_numpy()], f"{case} upper")


def test_cumulative_incidence_matches_survfit_multistate():
    golden = pd.read_csv(GOLDEN / "km_cr_cif.csv")
    d = data("cr")
    states = d["cause"].map({0: "censored", 1: "reoffence", 2: "competing"})
    result = CumulativeIncidence().fit(d["time"], states, d["group"]).result_
    table = result.table.sort_values(["group", "cause", "time"]).reset_index(drop=True)
    want = golden.sort_values(["group", "cause", "time"]).reset_index(drop=True)
    assert len(table) == len(want)
    for col in ("time", "n_risk", "cif", "se", "lower", "upper"):
        assert_close(table[col], want[col], f"cif {col}")


def test_cif_and_survival_add_up_to_one():
    d = data("cr")
    states = d["cause"].map({0: "censored", 1: "reoffence", 2: "competing"})
    table = CumulativeIncidence().fit(d["time"], states).result_.table
    total = table.pivot(index="time", columns="cause", values="cif").sum(axis=1)
    any_cause = (d["cause"] > 0).astype(int)
    km = KaplanMeier().fit(d["time"], any_cause).table.set_index("time")["survival"]
    assert_close(total + km.loc[total.index], np.ones(len(total)), "CIFs + S")


def test_r_script_reproduces_committed_goldens(tmp_path):
    run_r_script("km_reference.R", tmp_path)
    committed = sorted(p.name for p in GOLDEN.glob("km_*.csv"))
    assert len(committed) == 16
    assert sorted(p.name for p in tmp_path.glob("km_*.csv")) == committed
    for name in committed:
        fresh, kept = pd.read_csv(tmp_path / name), pd.read_csv(GOLDEN / name)
        pd.testing.assert_frame_equal(fresh, kept, check_exact=False, rtol=1e-12, atol=1e-12)
