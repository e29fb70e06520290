"""Statistical disclosure control: no number shown outside the analyst's screen
may describe fewer than ``k`` people.

Rules (the dashboard, reports and exports all apply them through this module):

- a count or a rate computed from fewer than ``k`` people is *suppressed*
  (shown as ``"<k"``);
- **complementary suppression**: when a table has a total, a single suppressed
  cell in a row could be recovered by subtraction, so the next-smallest cell of
  that row is suppressed too (repeated until no row holds exactly one
  suppressed cell);
- **linked tables** (an attrition chain, numbers at risk over time, a rate beside its
  denominator): every "before = after + removed" or "total = sum of parts" is a
  relation, and :func:`linked_suppression` hides cells until no count from 1 to
  ``k - 1`` (shown or not, e.g. a number removed between two steps) can be solved
  from the shown numbers (checked by linear algebra, not by a rule of thumb);
- a **rate** is hidden when its denominator is below ``k`` or its numerator, or the
  complement (denominator − numerator), is between 1 and ``k - 1``
  (:func:`rate_discloses`): "97% of 100" names the 3 who did not reoffend as surely
  as "3% of 100" names the 3 who did. A numerator of 0 (or a complement of 0) is
  shown, as a zero count is (zero people are described by it);
- survival curves stop where fewer than ``k`` people remain at risk;
- estimates from fewer than ``SMALL_SAMPLE`` people carry a warning.

Minimum cell size
-----------------
One name everywhere: *minimum cell size* ``k`` (``--min-cell`` on the command line,
``k`` in a dashboard link, :attr:`DisclosurePolicy.k`). :data:`DEFAULT_MIN_CELL` is
the default and :data:`MIN_CELL_FLOOR` the smallest value any output meant to leave the
analyst's desk accepts (:func:`published_min_cell`); only the CLI's
``--unsafe-analyst-output`` goes lower, and its JSON says so (:func:`disclosure_block`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd

# Defined in analysis.constants (which imports nothing, for fast CLI help); importable
# from here too, beside the rules that apply them.
from analysis.constants import DEFAULT_MIN_CELL, MIN_CELL_FLOOR
from analysis.errors import AnalysisError

SMALL_SAMPLE = 100


@dataclass(frozen=True)
class DisclosurePolicy:
    """Minimum cell size ``k`` and the small-sample warning threshold.

    Parameters
    ----------
    k : int, optional
        Counts from 1 to ``k - 1`` are hidden (shown as ``<k``), and so is every number
        that would let one be worked out (default 10; outputs meant for publication
        refuse less than 5, see :func:`published_min_cell`).
    small_sample : int, optional
        Below this many releases a result is flagged as indicative only.

    Examples
    --------
    >>> policy = DisclosurePolicy(k=5)
    >>> policy.label, policy.hides(3), policy.hides(0), policy.hides(5)
    ('<5', True, False, False)
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

    def hides(self, n) -> bool:
        """True for a count from 1 to ``k - 1`` (zero describes nobody and is shown)."""
        return 0 < int(n) < self.k


def published_min_cell(k: int, *, setting: str = "--min-cell", unsafe: bool = False,
                       unsafe_option: str | None = "--unsafe-analyst-output") -> int:
    """``k`` when an output meant for publication may use it, else a clear error.

    Refuses ``k`` below :data:`MIN_CELL_FLOOR` (unless ``unsafe``, the analyst's own
    unpublishable output, which still needs ``k >= 1``); the message names
    ``unsafe_option`` as the way out when the output has one.

    Examples
    --------
    >>> published_min_cell(10)
    10
    >>> published_min_cell(1, unsafe=True)
    1
    """
    k = int(k)
    floor = 1 if unsafe else MIN_CELL_FLOOR
    if k < floor:
        raise AnalysisError(
            f"{setting} must be at least {floor}, not {k}: counts of fewer than "
            f"{MIN_CELL_FLOOR} people may not leave the analyst's desk"
            + ("" if unsafe or unsafe_option is None else
               f" ({unsafe_option} allows it, for the analyst's own screen only)"))
    return k


def disclosure_block(k: int, *, unsafe: bool = False, hidden: int = 0) -> dict:
    """The ``"disclosure"`` field of every JSON output.

    ``suppressed`` says whether the output was disclosure-controlled at all (``k > 1``);
    ``hidden_values`` how many values were withheld (shown as ``null``);
    ``unsafe_analyst_output`` is true when ``k`` is below :data:`MIN_CELL_FLOOR`
    (``--unsafe-analyst-output``): such output must not be published.

    Examples
    --------
    >>> disclosure_block(10, hidden=2)["suppressed"]
    True
    """
    block = {
        "min_cell": int(k),
        "suppressed": int(k) > 1,
        "hidden_values": int(hidden),
        "hidden_as": None,
        "unsafe_analyst_output": bool(unsafe),
        "rule": (f"counts from 1 to {int(k) - 1} people, and any number from which one could "
                 "be recovered (a total minus its parts, a rate of such a count), are null"
                 if int(k) > 1 else "no disclosure control: analyst output, not for publication"),
    }
    if unsafe:
        block["warning"] = ("unsafe analyst output: not disclosure-controlled to the "
                            f"publication minimum of {MIN_CELL_FLOOR}; do not publish or share")
    return block


def rate_discloses(numerator, denominator, policy: DisclosurePolicy) -> bool:
    """True when the share ``numerator / denominator`` would reveal fewer than ``k`` people.

    Hidden when the denominator is below ``k``, or the numerator or the complement
    (``denominator - numerator``) is between 1 and ``k - 1``.

    Examples
    --------
    >>> policy = DisclosurePolicy(k=10)
    >>> rate_discloses(7, 17, policy), rate_discloses(0, 17, policy), rate_discloses(97, 100, policy)
    (True, False, True)
    """
    numerator, denominator = int(numerator), int(denominator)
    return (denominator < policy.k or policy.hides(numerator)
            or policy.hides(denominator - numerator))


def determined(values: Mapping[Hashable, float], relations: Iterable[tuple[Hashable, Sequence]],
               unknown: Iterable[Hashable]) -> set:
    """The ``unknown`` variables that the relations and the other values pin down exactly.

    Each relation ``(total, parts)`` says ``total = sum(parts)``. A variable is
    determined when every solution of the relations, given the known values, gives it
    the same value: its coordinate vanishes in the null space of the relations restricted
    to the unknowns.

    Examples
    --------
    >>> sorted(determined({"t": 10, "a": 3, "b": 7}, [("t", ["a", "b"])], ["a"]))
    ['a']
    >>> sorted(determined({"t": 10, "a": 3, "b": 7}, [("t", ["a", "b"])], ["a", "b"]))
    []
    """
    unknown = list(dict.fromkeys(unknown))
    if not unknown:
        return set()
    column = {v: i for i, v in enumerate(unknown)}
    rows = []
    for total, parts in relations:
        row = np.zeros(len(unknown))
        if total in column:
            row[column[total]] += 1.0
        for part in parts:
            if part in column:
                row[column[part]] -= 1.0
        if row.any():
            rows.append(row)
    if not rows:
        return set()
    matrix = np.array(rows)
    _, singular, vt = np.linalg.svd(matrix)
    rank = int((singular > 1e-9 * max(1.0, singular.max())).sum())
    null = vt[rank:]
    if null.shape[0] == 0:
        return set(unknown)
    return {v for v, i in column.items() if np.abs(null[:, i]).max() < 1e-9}


def _complement_for(leak, values, relations, unknown: set, visible: set):
    """The visible count to hide so that ``leak`` can no longer be solved.

    Searches outwards from ``leak`` through the relations (a step further only through
    counts already unknown) and takes the nearest, then smallest (non-zero first)
    visible count whose hiding frees ``leak``; when none does alone, the nearest
    smallest one (the caller then looks again). ``None`` when no visible count is
    linked to it.
    """
    frontier, seen_vars, seen_rel = {leak}, {leak}, set()
    ranked: list = []
    while frontier:
        level = [i for i, (total, parts) in enumerate(relations)
                 if i not in seen_rel and frontier & {total, *parts}]
        seen_rel.update(level)
        pool = [v for i in level for v in (relations[i][0], *relations[i][1])]
        fresh = {v for v in pool if v in visible} - set(ranked)
        ranked += sorted(fresh, key=lambda v: (values[v] == 0, values[v], str(v)))
        frontier = {v for v in pool if v in unknown and v not in seen_vars}
        seen_vars |= frontier
    for candidate in ranked:
        if leak not in determined(values, relations, unknown | {candidate}):
            return candidate
    return ranked[0] if ranked else None


def linked_suppression(values: Mapping[Hashable, float],
                       relations: Sequence[tuple[Hashable, Sequence]],
                       policy: DisclosurePolicy, *, published: Iterable | None = None,
                       known: Iterable = (), hidden: Iterable = ()) -> set:
    """Published numbers to hide so that no count from 1 to ``k - 1`` is shown or solvable.

    Parameters
    ----------
    values
        Every count involved, shown or not (e.g. the number removed between two steps).
    relations
        ``(total, parts)`` pairs meaning ``total = sum(parts)``.
    published
        The counts that would be shown (default: all of ``values``); the others are
        unknown to a reader, but must not be solvable either when they are small.
    known
        Published counts a reader knows from elsewhere (a total shown on another page):
        never hidden here.
    hidden
        Counts already hidden (e.g. by another rule).

    Returns
    -------
    set
        Published counts to hide: every one from 1 to ``k - 1``, then, while a small
        count (shown or not) can still be solved, the smallest visible non-zero count of
        a relation holding it (a zero only when nothing else is left).

    Examples
    --------
    Eligible 3005, matched 3002: the 3 unmatched are not shown, but the difference
    would give them away, so matched is hidden too.

    >>> values = {"eligible": 3005, "matched": 3002, "unmatched": 3}
    >>> sorted(linked_suppression(values, [("eligible", ["matched", "unmatched"])],
    ...                           DisclosurePolicy(k=10), published=["eligible", "matched"]))
    ['matched']
    """
    known = set(known)
    published = set(values if published is None else published) | known
    hide = {v for v in published if v not in known and policy.hides(values[v])} | (
        set(hidden) & published)
    secret = {v for v in values if v not in known and policy.hides(values[v])}
    relations = [(total, tuple(parts)) for total, parts in relations]
    given_up: set = set()
    while True:
        unknown = (set(values) - published) | hide
        leaks = sorted((determined(values, relations, unknown) & secret) - given_up, key=str)
        if not leaks:
            return hide
        leak = leaks[0]
        choice = _complement_for(leak, values, relations, unknown, published - hide - known)
        if choice is None:
            given_up.add(leak)  # only known totals pin it: their own suppression is due
            continue
        hide.add(choice)


#: The key of the total in :func:`parts_to_hide` (no caller's part is named so).
_KNOWN_TOTAL = ("known total",)


def parts_to_hide(parts: Mapping[Hashable, int], policy: DisclosurePolicy) -> set:
    """Parts of a total that is published elsewhere, to hide: every one from 1 to
    ``k - 1``, and as many others as needed so that none of those can be worked out by
    subtracting the shown parts from the total (:func:`linked_suppression`).

    Examples
    --------
    Groups of 500, 3 and 40 whose total the pooled figure shows: the 3 goes, and the 40
    with it (else 543 - 500 - 40 = 3).

    >>> sorted(parts_to_hide({"A": 500, "B": 3, "C": 40}, DisclosurePolicy(k=10)))
    ['B', 'C']
    """
    values: dict[Hashable, float] = {**parts, _KNOWN_TOTAL: sum(parts.values())}
    return linked_suppression(values, [(_KNOWN_TOTAL, list(parts))], policy,
                              known=[_KNOWN_TOTAL])


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
    # The line rule above is the classic heuristic; a pattern of hidden cells can still
    # let one be solved from the totals (a "bridge" between two blocks), so the result
    # is checked exactly and completed where needed.
    cells: dict[Hashable, float] = {(i, j): float(values[i, j]) for i in range(values.shape[0])
             for j in range(values.shape[1])}
    relations = []
    if totals in ("both", "rows"):
        relations += [(("row", i), [(i, j) for j in range(values.shape[1])])
                      for i in range(values.shape[0])]
        cells.update({("row", i): float(values[i].sum()) for i in range(values.shape[0])})
    if totals in ("both", "columns"):
        relations += [(("col", j), [(i, j) for i in range(values.shape[0])])
                      for j in range(values.shape[1])]
        cells.update({("col", j): float(values[:, j].sum()) for j in range(values.shape[1])})
    already = {(i, j) for i, j in zip(*np.nonzero(hidden), strict=True)}
    margins = {v for v in cells if isinstance(v, tuple) and isinstance(v[0], str)}
    for i, j in linked_suppression(cells, relations, policy, known=margins, hidden=already):
        hidden[i, j] = True
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


def group_summary_hidden(n: int, events: Mapping[str, int], n_risk: Sequence[int],
                         policy: DisclosurePolicy) -> tuple[set, set]:
    """Which event counts and numbers at risk of one group's summary to hide.

    A group of ``n`` releases (shown) splits into each cause's events and the rest
    (``n = sum(events) + others``), and shrinks from one horizon to the next
    (``n = at_risk[0] + left_0``, ``at_risk[i] = at_risk[i + 1] + left_i``, horizons in
    increasing order): none of those counts may be 1 to ``k - 1`` or solvable.

    Returns the causes and the horizon positions to hide.

    Examples
    --------
    >>> group_summary_hidden(200, {"reoffence": 4}, [150, 146], DisclosurePolicy(k=10))
    ({'reoffence'}, {1})
    """
    values: dict[Hashable, int] = {
        "n": int(n), "others": int(n) - sum(int(v) for v in events.values())}
    values.update({("events", c): int(v) for c, v in events.items()})
    relations: list[tuple[Hashable, list[Hashable]]] = [
        ("n", [("events", c) for c in events] + ["others"])]
    previous: Hashable = "n"
    for i, at_risk in enumerate(n_risk):
        values[("at_risk", i)] = int(at_risk)
        values[("left", i)] = values[previous] - int(at_risk)
        relations.append((previous, [("at_risk", i), ("left", i)]))
        previous = ("at_risk", i)
    published: list[Hashable] = ["n", *(("events", c) for c in events), *(("at_risk", i)
                                                          for i in range(len(n_risk)))]
    hidden = linked_suppression(values, relations, policy, published=published, known=["n"])
    return ({key[1] for key in hidden if key[0] == "events"},
            {key[1] for key in hidden if key[0] == "at_risk"})


def model_counts(n: int, events: int, policy: DisclosurePolicy,
                 left_out: Mapping[str, int] | None = None) -> dict:
    """A model's counts as they may be shown: ``None`` where hidden.

    ``n`` releases split into ``events`` and the rest, so the events are hidden when
    they or the rest number 1 to ``k - 1``; ``n`` is hidden below ``k``. Counts of
    releases ``left_out`` (missing covariates...) are hidden from 1 to ``k - 1``.

    Examples
    --------
    >>> model_counts(500, 497, DisclosurePolicy(k=10))
    {'n': 500, 'events': None}
    """
    shown = {"n": int(n) if int(n) >= policy.k else None,
             "events": None if policy.hides(events) or policy.hides(int(n) - int(events))
             or int(n) < policy.k else int(events)}
    for name, value in (left_out or {}).items():
        shown[name] = None if policy.hides(value) else int(value)
    return shown
