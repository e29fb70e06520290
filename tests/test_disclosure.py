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


def _solvable_small_cells(values, mask, k=10):
    """Hidden cells of 1 to k - 1 that the row and column totals pin down exactly."""
    from analysis.disclosure import determined

    rows, cols = values.shape
    cells = {(i, j): int(values[i, j]) for i in range(rows) for j in range(cols)}
    relations = [(("row", i), [(i, j) for j in range(cols)]) for i in range(rows)]
    relations += [(("col", j), [(i, j) for i in range(rows)]) for j in range(cols)]
    cells.update({("row", i): int(values[i].sum()) for i in range(rows)})
    cells.update({("col", j): int(values[:, j].sum()) for j in range(cols)})
    hidden = [(i, j) for i in range(rows) for j in range(cols) if mask[i, j]]
    return [c for c in determined(cells, relations, hidden) if 0 < cells[c] < k]


def test_a_hidden_cell_cannot_be_solved_through_a_chain_of_lines():
    # Regression: every line held two hidden cells, yet row 1's total gave 55 and then
    # column 1's total gave the 7 below it (the line rule alone missed it).
    table = pd.DataFrame([[0, 0], [0, 55], [50, 0], [7, 7]])
    mask = suppression_mask(table, POLICY).to_numpy()
    assert _solvable_small_cells(table.to_numpy(), mask) == []


@settings(max_examples=150, derandomize=True, deadline=None)
@given(st.integers(2, 5).flatmap(lambda r: st.integers(2, 5).flatmap(
    lambda c: st.lists(st.lists(st.sampled_from([0, 0, 3, 7, 12, 25, 40]), min_size=c,
                                max_size=c), min_size=r, max_size=r))))
def test_no_small_cell_can_be_solved_from_the_totals(cells):
    values = np.array(cells)
    if ((values.sum(axis=1) > 0) & (values.sum(axis=1) < 10)).any() or (
            (values.sum(axis=0) > 0) & (values.sum(axis=0) < 10)).any():
        return  # a small total is itself hidden by whoever publishes it
    mask = suppression_mask(pd.DataFrame(values), POLICY).to_numpy()
    assert _solvable_small_cells(values, mask) == []


def test_linked_suppression_protects_a_chain():
    from analysis.disclosure import linked_suppression

    # eligible 3005 -> matched 3002: the 3 unmatched are not shown but the difference is
    values = {"eligible": 3005, "matched": 3002, "unmatched": 3}
    hidden = linked_suppression(values, [("eligible", ["matched", "unmatched"])], POLICY,
                                published=["eligible", "matched"])
    assert hidden == {"matched"}
    # a known total is never hidden: the other part goes instead
    hidden = linked_suppression({"t": 50, "a": 4, "b": 46}, [("t", ["a", "b"])], POLICY,
                                known=["t"])
    assert hidden == {"a", "b"}


@pytest.mark.parametrize("numerator, denominator, hidden", [
    (7, 17, True),     # "41.2% of 17"
    (0, 17, False),    # zero describes nobody
    (17, 17, False),   # all of them: the complement is zero
    (12, 17, True),    # the 5 who did not reoffend
    (50, 100, False),
    (5, 9, True),      # the group itself is below k
])
def test_rate_rule(numerator, denominator, hidden):
    from analysis.disclosure import rate_discloses

    assert rate_discloses(numerator, denominator, POLICY) is hidden


def test_published_outputs_refuse_k_below_5():
    from analysis.disclosure import MIN_CELL_FLOOR, published_min_cell
    from analysis.errors import AnalysisError

    assert MIN_CELL_FLOOR == 5
    with pytest.raises(AnalysisError, match="at least 5, not 4"):
        published_min_cell(4)
    assert published_min_cell(1, unsafe=True) == 1


def test_group_summary_hides_a_small_drop_between_horizons():
    from analysis.disclosure import group_summary_hidden

    events, at_risk = group_summary_hidden(300, {"reoffence": 150, "competing": 5},
                                           [200, 196, 100], POLICY)
    assert events == {"competing"}  # 5 deaths; the rest is not published
    assert 1 in at_risk  # 200 - 196 = 4 left between the first two horizons
