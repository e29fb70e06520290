"""Weighted Kaplan–Meier (``KaplanMeier().fit(weights=)``) against R and lifelines.

The golden tests/reference/golden/weighted_km_curve.csv comes from
tests/reference/weighted_km_reference.R (R 4.2, survival 3.5.3): survival and weighted
counts from ``survfit(weights =)``, the Xie & Liu standard error and its log-log CI
computed in R from survfit's risk sets; the last test re-runs the script.
"""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from lifelines import KaplanMeierFitter

from analysis.errors import AnalysisError
from analysis.survival.kaplan_meier import KaplanMeier
from analysis.survival.restricted_mean import restricted_mean
from tests.reference import run_r_script

REF = Path(__file__).resolve().parents[1] / "reference"
GOLDEN = REF / "golden" / "weighted_km_curve.csv"
# R writes 15 significant digits; weighted counts reach a few hundred.
TOL = 1e-9
pytestmark = [
    pytest.mark.filterwarnings("ignore:Starting with pandas version 4.0"),
    # lifelines warns that its own (naive) variance is biased for non-integer weights;
    # only its survival and counts are compared here
    pytest.mark.filterwarnings("ignore:It looks like your weights are not integers"),
]


def data() -> pd.DataFrame:
    return pd.read_csv(REF / "data" / "weighted_km.csv")


def weighted_table() -> pd.DataFrame:
    d = data()
    return KaplanMeier().fit(d["time"], d["status"], d["group"], weights=d["weight"]).table


def test_weighted_curve_matches_survfit_weights():
    golden = pd.read_csv(GOLDEN)
    ours = weighted_table()
    assert ours["group"].tolist() == golden["group"].tolist()
    for column in ("time", "n_risk", "n_event", "n_censor", "effective_n", "survival", "se",
                   "lower", "upper"):
        expected = golden[column].to_numpy(dtype=float)
        actual = ours[column].to_numpy(dtype=float)
        assert np.array_equal(np.isnan(actual), np.isnan(expected)), column
        np.testing.assert_allclose(actual, expected, rtol=0, atol=TOL, equal_nan=True,
                                   err_msg=column)


def test_unit_weights_give_r_greenwood_standard_error():
    golden = pd.read_csv(GOLDEN)
    unit = golden["group"] == "unit"
    ours = weighted_table()
    np.testing.assert_allclose(ours.loc[unit.to_numpy(), "se"], golden.loc[unit, "r_se_frequency"],
                               rtol=0, atol=TOL)


@pytest.mark.parametrize("group", ["ipw", "frequency", "constant", "unit", "lastevent"])
def test_weighted_curve_matches_lifelines_weights(group):
    d = data()
    d = d[d["group"] == group]
    ours = KaplanMeier().fit(d["time"], d["status"], weights=d["weight"]).table
    kmf = KaplanMeierFitter().fit(d["time"], d["status"], weights=d["weight"])
    times = ours["time"].to_numpy()
    np.testing.assert_allclose(ours["survival"], kmf.survival_function_.loc[times].iloc[:, 0],
                               rtol=0, atol=1e-12)
    table = kmf.event_table.loc[times]
    np.testing.assert_allclose(ours["n_risk"], table["at_risk"], rtol=0, atol=1e-9)
    np.testing.assert_allclose(ours["n_event"], table["observed"], rtol=0, atol=1e-9)
    # lifelines' "censored" column counts records; "removed" is weighted like ours
    np.testing.assert_allclose(ours["n_censor"], table["removed"] - table["observed"],
                               rtol=0, atol=1e-9)


@pytest.mark.parametrize("scale", [1.0, 0.3, 7.0])
def test_equal_weights_give_the_unweighted_estimate(scale):
    d = data()
    d = d[d["group"] == "ipw"]
    plain = KaplanMeier().fit(d["time"], d["status"]).table
    weighted = KaplanMeier().fit(d["time"], d["status"], weights=np.full(len(d), scale)).table
    for column in ("time", "survival", "se", "lower", "upper"):
        np.testing.assert_allclose(weighted[column], plain[column], rtol=1e-12, atol=1e-15,
                                   equal_nan=True, err_msg=column)
    if scale == 1.0:  # no rounding at all: the same arithmetic on the same numbers
        assert weighted["survival"].equals(plain["survival"])
        assert weighted["se"].equals(plain["se"])


@settings(max_examples=60, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 20), st.booleans(), st.integers(1, 4)),
                min_size=1, max_size=30))
def test_integer_weights_act_as_repeated_records(records):
    """Survival and counts with weight w equal those of the record repeated w times."""
    time, event, weight = (np.array(column) for column in zip(*records, strict=True))
    weighted = KaplanMeier().fit(time, event, weights=weight).table
    repeated = KaplanMeier().fit(np.repeat(time, weight), np.repeat(event, weight)).table
    for column in ("time", "n_risk", "n_event", "n_censor", "survival"):
        np.testing.assert_allclose(weighted[column].to_numpy(dtype=float),
                                   repeated[column].to_numpy(dtype=float), rtol=1e-12)


def test_fit_returns_the_estimator_and_sums_weights_in_the_summary():
    km = KaplanMeier(conf_level=0.9)
    fitted = km.fit([5, 8, 8, 12, 20], [1, 1, 0, 1, 0], weights=[2.0, 1.0, 1.0, 0.5, 0.5])
    assert fitted is km
    row = km.summary.iloc[0]
    assert (row["group"], row["n"], row["events"]) == ("all", 5.0, 3.5)
    assert km.result_.conf_level == 0.9
    assert "effective_n" in km.table and "effective_n" not in KaplanMeier().fit([1], [1]).table


def test_restricted_mean_uses_the_effective_size_of_a_weighted_fit():
    d = data()
    d = d[d["group"] == "ipw"]
    table = KaplanMeier().fit(d["time"], d["status"], weights=d["weight"]).table
    se_weighted = restricted_mean(table, 40).se
    se_counts = restricted_mean(table.drop(columns="effective_n"), 40).se
    assert se_weighted > se_counts  # effective size < sum of weights: a wider interval


@pytest.mark.parametrize(("weights", "entry", "message"), [
    ([1.0, -1.0, 1.0], None, "non-negative"),
    ([1.0, np.nan, 1.0], None, "finite"),
    ([1.0, 1.0], None, "one value per duration"),
    ([1.0, 1.0, 1.0], [0.0, 0.0, 0.0], "entry"),
])
def test_bad_weights_are_refused_with_a_clear_error(weights, entry, message):
    with pytest.raises(AnalysisError, match=message):
        KaplanMeier().fit([3, 5, 8], [1, 0, 1], entry=entry, weights=weights)


def test_r_script_reproduces_the_committed_golden(tmp_path):
    run_r_script("weighted_km_reference.R", tmp_path)
    pd.testing.assert_frame_equal(pd.read_csv(tmp_path / GOLDEN.name), pd.read_csv(GOLDEN),
                                  check_exact=False, rtol=1e-12, atol=1e-12)
