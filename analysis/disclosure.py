"""Statistical disclosure control: no number shown outside the analyst's screen
may describe fewer than ``k`` people.

Rules (the dashboard, reports and exports all apply them through this module):

- a count or a rate computed from fewer than ``k`` people is *suppressed*
  (shown as ``"<k"``);
- **complementary suppression**: when a table has a total, a single suppressed
  cell in a row could be recovered by subtraction, so the next-smallest cell of
  that row is suppressed too (repeated until no row holds exactly one
  suppressed cell);
- survival curves stop where fewer than ``k`` people remain at risk;
- estimates from fewer than ``SMALL_SAMPLE`` people carry a warning.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

DEFAULT_MIN_CELL = 10
SMALL_SAMPLE = 100


@dataclass(frozen=True)
class DisclosurePolicy:
    """Minimum cell size ``k`` and the small-sample warning threshold.

    Examples
    --------
    >>> DisclosurePolicy(k=5).label
    '<5'
    """

    k: int = DEFAULT_MIN_CELL
    small_sample: int = SMALL_SAMPLE

    def __post_init__(self) -> None:
        if self.k < 1:
            raise ValueError("the minimum cell size k must be at least 1")

    @property
    def label(self) -> str:
        return f"<{self.k}"

    def is_small(self, n: int) -> bool:
        return n < self.small_sample


def primary_suppression(counts: pd.DataFrame, policy: DisclosurePolicy) -> pd.DataFrame:
    """Boolean mask of cells with 0 < count < k (zero is not disclosive of anyone)."""
    values = counts.to_numpy(dtype=float)
    return pd.DataFrame(
        (values > 0) & (values < policy.k), index=counts.index, columns=counts.columns
    )


def suppression_mask(counts: pd.DataFrame, policy: DisclosurePolicy,
                     totals: str = "both") -> pd.DataFrame:
    """Cells to hide in a two-way table of counts whose row and column totals are published.

    Starts from :func:`primary_suppression`, then, while some row or column has
    exactly one hidden cell, also hides the smallest visible non-zero cell of
    that row or column, so no hidden cell can be recovered from the totals.
    ``totals`` says which totals are published: ``"both"`` (default), ``"rows"``
    (each row's total only) or ``"columns"`` (each column's total only, e.g. numbers
    at risk per time point, whose sum over groups is the overall number at risk).

    Examples
    --------
    >>> table = pd.DataFrame({"F": [3, 40], "M": [50, 60]}, index=["a", "b"])
    >>> suppression_mask(table, DisclosurePolicy(k=10)).to_numpy().tolist()
    [[True, True], [True, True]]
    """
    if totals not in ("both", "rows", "columns"):
        raise ValueError("totals must be 'both', 'rows' or 'columns'")
    values = counts.to_numpy(dtype=float)
    hidden = primary_suppression(counts, policy).to_numpy().copy()
    axes = {"both": (1, 0), "rows": (1,), "columns": (0,)}[totals]
    changed = True
    while changed:
        changed = False
        for axis in axes:  # 1: within rows, 0: within columns
            lines = hidden if axis == 1 else hidden.T
            vals = values if axis == 1 else values.T
            for i in range(lines.shape[0]):
                if lines[i].sum() != 1:
                    continue
                candidates = np.where(~lines[i] & (vals[i] > 0), vals[i], np.inf)
                if not np.isfinite(candidates).any():
                    continue  # the rest of the line is zeros: nothing to protect with
                lines[i, int(np.argmin(candidates))] = True
                changed = True
    return pd.DataFrame(hidden, index=counts.index, columns=counts.columns)


def suppress_counts(counts: pd.DataFrame, policy: DisclosurePolicy,
                    totals: str = "both") -> pd.DataFrame:
    """The table as text, with hidden cells shown as ``"<k"`` (see :func:`suppression_mask`)."""
    mask = suppression_mask(counts, policy, totals)
    shown = counts.astype("Int64").astype(str)
    return shown.mask(mask, policy.label)


def truncate_curve(
    curve: pd.DataFrame, policy: DisclosurePolicy, n_risk_col: str = "n_risk"
) -> pd.DataFrame:
    """Drop the tail of a survival curve where fewer than ``k`` people remain at risk.

    Examples
    --------
    >>> curve = pd.DataFrame({"time": [1, 2, 3], "n_risk": [30, 12, 4]})
    >>> truncate_curve(curve, DisclosurePolicy(k=10))["time"].tolist()
    [1, 2]
    """
    keep = curve[n_risk_col].to_numpy() >= policy.k
    # Once the risk set falls below k it never grows again within a group.
    cut = int(np.argmin(keep)) if not keep.all() else len(keep)
    return curve.iloc[:cut].copy()
