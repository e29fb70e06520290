import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.disclosure import DisclosurePolicy, suppress_counts, suppression_mask, truncate_curve

POLICY = DisclosurePolicy(k=10)


def test_cells_below_k_are_shown_as_less_than_k():
    table = pd.DataFrame({"F": [12, 40], "M": [50, 60]}, index=["a", "b"])
    assert suppress_counts(table, POLICY).to_numpy().tolist() == [["12", "50"], ["40", "60"]]
    table.loc["a", "F"] = 4
    shown = suppress_counts(table, POLICY)
    assert shown.loc["a", "F"] == "<10"


def test_zero_is_not_suppressed_and_protects_nothing():
    table = pd.DataFrame({"F": [0, 40], "M": [50, 60]}, index=["a", "b"])
    assert not suppression_mask(table, POLICY).to_numpy().any()


@settings(max_examples=200, derandomize=True, deadline=None)
@given(
    st.integers(2, 5).flatmap(
        lambda r: st.integers(2, 5).flatmap(
            lambda c: st.lists(
                st.lists(st.integers(0, 60), min_size=c, max_size=c), min_size=r, max_size=r
            )
        )
    )
)
def test_no_row_or_column_has_exactly_one_hidden_nonzero_cell(cells):
    table = pd.DataFrame(cells)
    mask = suppression_mask(table, POLICY).to_numpy()
    values = table.to_numpy()
    assert mask[(values > 0) & (values < POLICY.k)].all()
    for lines, vals in ((mask, values), (mask.T, values.T)):
        for hidden, row in zip(lines, vals, strict=True):
            # One hidden cell is only allowed when every other cell of the line is zero
            # (then the total reveals it anyway as a whole-line figure, and the cell is < k
            # only if the total is < k, which the total's own suppression handles).
            if hidden.sum() == 1:
                assert (row[~hidden] == 0).all()


def test_curve_stops_where_fewer_than_k_at_risk():
    curve = pd.DataFrame({"time": np.arange(5), "n_risk": [100, 50, 11, 10, 9]})
    assert truncate_curve(curve, POLICY)["time"].tolist() == [0, 1, 2, 3]


def test_policy_rejects_k_below_one():
    with pytest.raises(ValueError):
        DisclosurePolicy(k=0)
