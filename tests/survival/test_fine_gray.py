"""Fine–Gray (analysis.survival.fine_gray) against R finegray() + coxph(weights, cluster).

Goldens: tests/reference/fine_gray_reference.R (R survival 3.5.3), re-run here.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.errors import AnalysisError
from analysis.survival.cox import CoxModel
from analysis.survival.fine_gray import FineGrayModel, finegray_rows
from tests.reference import run_r_script
from tests.survival.test_cox_reference import rel_err

REF = Path(__file__).resolve().parents[1] / "reference"
RTOL = 1e-4  # promised agreement; measured ~1e-11 or better
#: golden case -> (data, ties, cluster column)
CASES = {
    "ties": ("ties", "efron", None),
    "ties_breslow": ("ties", "breslow", None),
    "cluster": ("cluster", "efron", "id"),
}


def _data(name: str) -> pd.DataFrame:
    return pd.read_csv(REF / "data" / f"fine_gray_{name}.csv")


def _golden(case: str) -> dict:
    return json.loads((REF / "golden" / f"fine_gray_{case}.json").read_text())


@pytest.mark.parametrize("case", sorted(CASES))
def test_matches_r_finegray_coxph(case):
    data, ties, cluster = CASES[case]
    golden = _golden(case)
    model = FineGrayModel(ties=ties).fit(_data(data), "time", "status", ["x1", "grp"],
                                         event=1, competing=[2], cluster_col=cluster)
    summary = model.summary
    assert list(summary["term"]) == golden["terms"]
    assert len(model.rows_) == golden["nrow"]
    assert model.rows_["w"].sum() == pytest.approx(golden["weight_sum"], rel=1e-12)
    assert rel_err(summary["coef"], list(golden["coef"].values())) < RTOL
    assert rel_err(summary["se_model"], list(golden["se"].values())) < RTOL
    assert rel_err(summary["se_robust"], list(golden["robust_se"].values())) < RTOL
    assert set(summary["se_type"]) == {"robust"}
    np.testing.assert_allclose(summary["hr"], np.exp(summary["coef"]), rtol=1e-12)


def test_rows_equal_r_finegray_rows():
    df = _data("ties")
    rows = finegray_rows(df, "time", "status", event_value=1, competing_values=[2])
    r = json.loads((REF / "golden" / "fine_gray_ties_rows.json").read_text())
    for column in ("id", "start", "stop", "event"):
        np.testing.assert_array_equal(rows[column].to_numpy(float), np.asarray(r[column], float))
    np.testing.assert_allclose(rows["w"], r["w"], rtol=1e-12)
    np.testing.assert_array_equal(rows["x1"], df["x1"].to_numpy()[rows["id"].to_numpy()])


def test_r_script_reproduces_committed_goldens(tmp_path):
    run_r_script("fine_gray_reference.R", tmp_path)
    committed = sorted(p.name for p in (REF / "golden").glob("fine_gray_*.json"))
    assert sorted(p.name for p in tmp_path.glob("fine_gray_*.json")) == committed
    for name in committed:
        fresh = json.loads((tmp_path / name).read_text())
        kept = json.loads((REF / "golden" / name).read_text())
        assert fresh.keys() == kept.keys()
        for key in ("coef", "se", "robust_se"):
            if key in kept:
                assert list(fresh[key].values()) == pytest.approx(list(kept[key].values()),
                                                                  rel=1e-9)
        if "w" in kept:
            assert fresh["w"] == pytest.approx(kept["w"], rel=1e-9)


def test_without_competing_ends_it_is_the_cox_model():
    """No competing end: every weight is 1 and the fit is the ordinary Cox model."""
    df = _data("ties")
    df = df[df["status"] != 2].reset_index(drop=True)
    fg = FineGrayModel().fit(df, "time", "status", ["x1", "grp"], event=1, competing=[2])
    assert (fg.rows_["w"] == 1).all() and len(fg.rows_) == len(df)
    cox = CoxModel(robust=True).fit(df.assign(event=(df["status"] == 1).astype(int),
                                              id=np.arange(len(df))),
                                    "time", "event", ["x1", "grp"], cluster_col="id")
    cols = ["coef", "se_model", "se_robust"]
    np.testing.assert_allclose(fg.summary[cols], cox.summary[cols], rtol=1e-9)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.tuples(st.integers(1, 6), st.sampled_from([0, 1, 2])), min_size=2,
                max_size=25))
def test_weights_follow_the_censoring_curve(records):
    """Weights lie in (0, 1]; only competing ends get extra rows, all after their time and
    without events; every other row is copied once with weight 1."""
    df = pd.DataFrame(records, columns=["time", "status"])
    if not (df["status"] == 1).any():
        df.loc[0, "status"] = 1
    rows = finegray_rows(df, "time", "status", event_value=1, competing_values=[2])
    assert ((rows["w"] > 0) & (rows["w"] <= 1 + 1e-12)).all()
    assert (rows["start"] < rows["stop"]).all()
    extra = rows[rows.duplicated("id", keep="first")]
    assert set(df.loc[extra["id"].unique(), "status"]) <= {2}
    assert (extra["event"] == 0).all()
    assert (extra["start"].to_numpy() >= df.loc[extra["id"], "time"].to_numpy()).all()
    first = rows.drop_duplicates("id", keep="first")
    assert len(first) == len(df) and (first["w"] == 1).all()


def test_delayed_entry_is_refused():
    df = _data("ties").assign(entry=0.5)
    with pytest.raises(AnalysisError, match="delayed entry.*'entry'"):
        FineGrayModel().fit(df, "time", "status", ["x1"], event=1, competing=[2],
                            entry_col="entry")


@pytest.mark.parametrize("bad", [0.0, -1.0, np.nan])
def test_invalid_times_are_refused_naming_column_and_position(bad):
    df = _data("ties")
    df.loc[5, "time"] = bad
    with pytest.raises(AnalysisError, match="'time' at position 5"):
        finegray_rows(df, "time", "status", 1, [2])


def test_no_event_of_interest_is_refused():
    df = _data("ties")
    with pytest.raises(AnalysisError, match="no row of 'status'"):
        finegray_rows(df[df["status"] != 1], "time", "status", 1, [2])
