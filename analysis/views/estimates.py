"""Disclosure-controlled building blocks shared by the views.

Suppression rules applied here (see :mod:`analysis.disclosure`):

- a group with fewer than ``k`` releases is not estimated: its count shows as ``"<k"``
  and its rates are missing;
- counts of groups that add up to a published total get complementary suppression;
- a Kaplan–Meier value at a horizon is shown only while at least ``k`` releases are
  still at risk there (the curve itself stops at that point), and only when the number
  who reoffended by then is 0 or at least ``k`` (a rate of 3 people out of a shown
  group size would name them; see :func:`analysis.disclosure.rate_discloses`);
- a fixed-horizon rate is shown only when at least ``k`` releases have complete
  follow-up to the horizon and neither its numerator nor its complement is between
  1 and ``k - 1``;
- the people who reoffended by a horizon are shown beside its rate, only where the rate
  is shown, and hidden further (with the rate) while a count from 1 to ``k - 1`` could
  be worked out from them and the totals every reader knows
  (:func:`hidden_reoffended`).

Tables hold numbers: a count is an ``int`` (a hidden one a text label in that cell
only), a rate a share 0–1 with its interval in ``<rate>_lower`` and ``<rate>_upper``
(NaN where not shown; the count beside it says why, with a code of
:data:`analysis.views.words.CELLS`).
"""

from __future__ import annotations

from collections.abc import Hashable, Iterable, Mapping, Sequence

import duckdb
import numpy as np
import pandas as pd

from analysis.constants import DEFAULT_HORIZONS
from analysis.disclosure import (
    DisclosurePolicy,
    determined,
    linked_suppression,
    rate_discloses,
    suppression_mask,
)
from analysis.impact.wording import SECONDARY_LABEL
from analysis.results import events_by_horizon
from analysis.study import Study
from analysis.survival.kaplan_meier import KaplanMeier
from analysis.views.filters import ViewFilters

#: Columns of the views' tables holding a share (0–1): a rate and its 95% interval.
SHARE_COLUMNS: frozenset[str] = frozenset({
    "km_rate", "km_lower", "km_upper", "complete_rate", "complete_lower", "complete_upper",
    "rate_365", "rate_365_lower", "rate_365_upper",
    *(f"within_{d}{end}" for d in DEFAULT_HORIZONS for end in ("", "_lower", "_upper")),
})


def view_study(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> Study:
    """The :class:`~analysis.study.Study` of the filters' outcome and selection on ``con``.

    Views run on a fresh cursor each, and the study borrows it: the episodes it keeps
    for the second and later analyses live exactly as long as the view.
    """
    return Study(con, outcome=filters.outcome, selection=filters.selection)


def group_sizes(day_table: pd.DataFrame) -> pd.Series:
    """Releases per group of a day table (index: group)."""
    removed = day_table["n_event"] + day_table["n_competing"] + day_table["n_censored"]
    return removed.groupby(day_table["group"], sort=True).sum().astype("int64")


def count_labels(sizes: pd.Series, policy: DisclosurePolicy) -> pd.Series:
    """Group counts as numbers, ``"<k"`` where hidden, with complementary suppression
    against their total.

    Examples
    --------
    >>> count_labels(pd.Series({"a": 3, "b": 40, "c": 50}), DisclosurePolicy(k=10)).tolist()
    ['<10', '<10', 50]
    """
    row = sizes.to_frame().T
    # one row: its total is the published total; a column "total" would be the cell itself
    hidden = suppression_mask(row, policy, totals="rows").iloc[0]
    return pd.Series([policy.label if hidden[g] else int(n) for g, n in sizes.items()],
                     index=sizes.index, dtype=object)


def as_numbers(cells: pd.Series) -> pd.Series:
    """Counts written as text (``"5411"``) as numbers; labels (``"<10"``, ``"hidden"``)
    kept as they are, in their cell only.

    Examples
    --------
    >>> as_numbers(pd.Series(["5411", "<10", "hidden", "0"])).tolist()
    [5411, '<10', 'hidden', 0]
    """
    return pd.Series([int(v) if isinstance(v, str) and v.isascii() and v.isdigit() else v
                      for v in cells], index=cells.index, dtype=object)


def hidden_reoffended(sizes: Mapping[Hashable, int], events: Mapping[Hashable, int],
                      shown_sizes: Iterable[Hashable], hidden: Iterable[Hashable],
                      margins: Sequence[Sequence[Hashable]], policy: DisclosurePolicy
                      ) -> set:
    """Groups whose count of people who reoffended must be hidden.

    Each group of ``sizes`` releases splits into ``events`` (shown) and the others;
    each margin (a list of groups: all of them for a one-way breakdown, the rows and
    columns of a cross-table) has its releases and events known to every reader when
    the Overview of that margin shows them (its releases from ``k``, its reoffenders
    when :func:`~analysis.disclosure.rate_discloses` allows). ``shown_sizes`` are the sizes on screen;
    ``hidden`` the counts already hidden (their rate is not shown). Returns those and
    every further one whose showing would let a count from 1 to ``k - 1`` (of releases,
    of reoffenders or of the others) be worked out (:func:`linked_suppression`).

    Examples
    --------
    Three facilities, one with 4 reoffenders: the two others' counts and the known total
    would give it away, so a second one is hidden.

    >>> sorted(hidden_reoffended({"a": 50, "b": 60, "c": 70}, {"a": 4, "b": 30, "c": 20},
    ...                          ["a", "b", "c"], ["a"], [["a", "b", "c"]],
    ...                          DisclosurePolicy(k=10)))
    ['a', 'c']
    """
    values: dict[Hashable, int] = {}
    relations: list[tuple[Hashable, list[Hashable]]] = []
    for g, n in sizes.items():
        values[("n", g)], values[("e", g)] = int(n), int(events.get(g, 0))
        others = int(n) - values[("e", g)]
        # The others of a group (releases minus reoffenders) are linked to nothing else:
        # their relation only matters when they are few (then it must not be solvable).
        # The margins of the others (releases minus reoffenders) follow from those below.
        if policy.hides(others):
            values[("r", g)] = others
            relations.append((("n", g), [("e", g), ("r", g)]))
    known: list[Hashable] = [("n", g) for g in shown_sizes]
    for i, members in enumerate(margins):
        for kind in ("n", "e"):
            values[(kind.upper(), i)] = sum(values[(kind, g)] for g in members)
            relations.append(((kind.upper(), i), [(kind, g) for g in members]))
        n, e = values[("N", i)], values[("E", i)]
        # The margin's releases are taken as known: their own protection is the sizes'
        # suppression, which hiding reoffenders cannot help. Its reoffenders are known
        # when the Overview of the margin shows them, beside a shown rate; else they are
        # unknown, and protected when few.
        known.append(("N", i))
        known += [("E", i)] if not rate_discloses(e, n, policy) else []
    # A margin's reoffenders that the other margins give away whatever the breakdown
    # shows (the selection's total minus the other rows) are no secret it can keep.
    hidden_margins = [("E", i) for i in range(len(margins)) if ("E", i) not in known]
    if hidden_margins:
        blind = (set(values) - set(known)) | set(hidden_margins)
        known += sorted(determined(values, relations, blind) & set(hidden_margins), key=str)
    published = [("e", g) for g in sizes] + known
    hide = linked_suppression(values, relations, policy, published=published, known=known,
                              hidden=[("e", g) for g in hidden])
    return {key[1] for key in hide if key[0] == "e"}


def reoffended_cell(events: int, policy: DisclosurePolicy) -> str:
    """How a hidden count of reoffenders reads: ``"<k"`` when it is from 1 to ``k - 1``,
    else ``"hidden"`` (hidden so that another count cannot be worked out).

    Examples
    --------
    >>> reoffended_cell(3, DisclosurePolicy(k=10)), reoffended_cell(40, DisclosurePolicy(k=10))
    ('<10', 'hidden')
    """
    return policy.label if policy.hides(events) else SECONDARY_LABEL


def km_at_horizons(day_table: pd.DataFrame, horizons, policy: DisclosurePolicy,
                   hidden_groups=()) -> pd.DataFrame:
    """Kaplan–Meier recidivism per group at ``horizons``, suppressed where not disclosable.

    Returns ``group, days, recidivism, lower, upper, n_risk`` (shares 0–1): missing when
    the group is in ``hidden_groups`` or has fewer than ``k`` releases, when fewer than
    ``k`` remain at risk at the horizon, when 1 to ``k - 1`` releases reoffended by the
    horizon (:func:`~analysis.results.events_by_horizon`), or when follow-up does not reach it.
    """
    columns = ["group", "days", "recidivism", "lower", "upper", "n_risk"]
    sizes = group_sizes(day_table)
    keep = [g for g, n in sizes.items() if n >= policy.k and g not in set(hidden_groups)]
    if not keep:
        return pd.DataFrame(columns=columns)
    fitted = KaplanMeier().fit_day_table(day_table[day_table["group"].isin(keep)])
    at = fitted.at(list(horizons)).drop(columns=["lower", "upper"]).rename(
        columns={"recidivism_lower": "lower", "recidivism_upper": "upper"})
    events = events_by_horizon(day_table, horizons)
    too_few = [n_risk < policy.k or rate_discloses(events.get((g, d), 0), sizes[g], policy)
               for g, d, n_risk in zip(at["group"], at["days"], at["n_risk"], strict=True)]
    at.loc[too_few, ["recidivism", "lower", "upper"]] = np.nan
    return at[columns].reset_index(drop=True)


def rates_at(day_table: pd.DataFrame, days: int, policy: DisclosurePolicy,
             size_cells: pd.Series, *, margins: Sequence[Sequence[Hashable]] | None = None,
             not_reached: str = "not_reached", total_shown: bool = True) -> pd.DataFrame:
    """Per group: its releases, the people who reoffended by ``days`` and the
    Kaplan–Meier rate there, disclosure-controlled.

    ``size_cells`` are the groups' release counts as shown (an ``int``, or a label where
    hidden: such a group has no rate). ``margins`` lists the groups whose totals every
    reader knows (default: all groups together). When the selection's own count is
    hidden (``total_shown`` false, see :func:`overall_reoffended`), no group's count is
    shown: their sum would give it away. Returns ``group, releases, reoffended,
    rate, lower, upper`` in the groups' order: ``reoffended`` is an ``int`` beside a shown
    rate, else why the rate is missing — ``"suppressed"`` (group hidden),
    ``not_reached`` (fewer than ``k`` followed that long: the curve stops before),
    ``"<k"`` or ``"hidden"`` (:func:`reoffended_cell`).

    Examples
    --------
    Group ``b`` is followed no longer than 300 days: its 1-year rate is not reached.

    >>> table = pd.DataFrame({"group": ["a", "a", "b", "b"], "time": [100, 900, 50, 300],
    ...                       "n_event": [30, 0, 20, 0], "n_competing": 0,
    ...                       "n_censored": [0, 30, 0, 40]})
    >>> cells = count_labels(group_sizes(table), DisclosurePolicy(k=10))
    >>> rates_at(table, 365, DisclosurePolicy(k=10), cells)[["group", "reoffended"]].values.tolist()
    [['a', 30], ['b', 'not_reached']]
    """
    sizes = group_sizes(day_table)
    shown = [g for g in sizes.index if isinstance(size_cells[g], int | np.integer)]
    km = km_at_horizons(day_table, (days,), policy,
                        hidden_groups=[g for g in sizes.index if g not in shown])
    km = km.set_index("group")
    events = {g: n for (g, _), n in events_by_horizon(day_table, (days,)).items()}
    missing = [g for g in sizes.index if not total_shown
               or not np.isfinite(km["recidivism"].get(g, np.nan))]
    hide = hidden_reoffended(sizes.to_dict(), events, shown, missing,
                             [list(sizes.index)] if margins is None else margins, policy)
    rows = []
    for g in sizes.index:
        if g not in shown:
            cell: object = "suppressed"
        elif km["n_risk"].get(g, 0) < policy.k:
            cell = not_reached
        elif g in hide:
            cell = reoffended_cell(events.get(g, 0), policy)
        else:
            cell = int(events.get(g, 0))
        rate = [km[c].get(g, np.nan) if g not in hide else np.nan
                for c in ("recidivism", "lower", "upper")]
        rows.append([g, size_cells[g], cell, *rate])
    return pd.DataFrame(rows, columns=["group", "releases", "reoffended", "rate", "lower",
                                       "upper"]).astype({"rate": float, "lower": float,
                                                         "upper": float})


def overall_day_table(day_table: pd.DataFrame) -> pd.DataFrame:
    """The groups of a day table pooled into one, ``"all"``."""
    counts = ["n_event", "n_competing", "n_censored"]
    return (day_table.assign(group="all").groupby(["group", "time"], as_index=False)[counts]
            .sum())


def overall_reoffended(day_table: pd.DataFrame, horizons: Sequence[int],
                       policy: DisclosurePolicy) -> tuple[pd.DataFrame, dict]:
    """The whole selection at each horizon: the Kaplan–Meier rate (:func:`km_at_horizons`,
    ``group`` ``"all"``) and the people who reoffended by then, as shown.

    The counts at successive horizons differ by those who reoffended in between, and
    the releases minus a count are those who did not: neither may be from 1 to ``k - 1``
    or be solvable, so a count is shown only beside a shown rate and while that holds
    (:func:`linked_suppression`); a hidden count hides its rate too. Every page showing
    the selection's counts takes them from here, so that they hide the same ones.

    Returns the rates (hidden ones NaN) and ``{days: count or None}``.

    Examples
    --------
    Of 200 releases 40 reoffended in the first year and 45 by the second: the 5 in
    between would be the difference, so one count (the smaller) is hidden.

    >>> table = pd.DataFrame({"group": "a", "time": [100, 500, 800], "n_event": [40, 5, 0],
    ...                       "n_competing": 0, "n_censored": [0, 0, 155]})
    >>> overall_reoffended(table, (365, 730), DisclosurePolicy(k=10))[1]
    {365: None, 730: 45}
    """
    pooled = overall_day_table(day_table)
    km = km_at_horizons(pooled, horizons, policy)
    if km.empty:  # fewer than k releases: nothing estimated
        km = pd.DataFrame({"group": "all", "days": list(horizons), "recidivism": np.nan,
                           "lower": np.nan, "upper": np.nan, "n_risk": 0})
    km = km.set_index("days")
    n = int(group_sizes(pooled).sum()) if len(pooled) else 0
    events = {d: int(c) for (_, d), c in events_by_horizon(pooled, horizons).items()}
    values: dict[Hashable, int] = {"n": n}
    relations: list[tuple[Hashable, list[Hashable]]] = []
    previous = None
    for days in horizons:
        e = events.get(int(days), 0)
        values[("e", days)], values[("r", days)] = e, n - e
        relations.append(("n", [("e", days), ("r", days)]))
        if previous is not None:
            values[("b", days)] = e - values[("e", previous)]
            relations.append((("e", days), [("e", previous), ("b", days)]))
        previous = days
    missing = [("e", d) for d in horizons if not np.isfinite(km["recidivism"].get(d, np.nan))]
    hide = linked_suppression(values, relations, policy,
                              published=["n", *(("e", d) for d in horizons)],
                              known=["n"] if not policy.hides(n) else [], hidden=missing)
    shown = {int(d): None if ("e", d) in hide else events.get(int(d), 0) for d in horizons}
    km.loc[[d for d in km.index if shown.get(int(d)) is None],
           ["recidivism", "lower", "upper"]] = np.nan
    return km.reset_index()[["group", "days", "recidivism", "lower", "upper", "n_risk"]], shown


def overall_rate_at(day_table: pd.DataFrame, days: int, policy: DisclosurePolicy,
                    not_reached: str = "not_reached",
                    horizons: Sequence[int] = DEFAULT_HORIZONS) -> pd.DataFrame:
    """The one row of :func:`rates_at` for all the groups together, ``group`` ``"all"``,
    as :func:`overall_reoffended` shows it at ``days`` (one of ``horizons``)."""
    n = int(group_sizes(day_table).sum()) if len(day_table) else 0
    columns = ["group", "releases", "reoffended", "rate", "lower", "upper"]
    if n == 0:
        return pd.DataFrame([["all", 0, 0, np.nan, np.nan, np.nan]], columns=columns)
    km, counts = overall_reoffended(day_table, horizons, policy)
    row = km[km["days"] == days].iloc[0]
    events = events_by_horizon(overall_day_table(day_table), (days,)).get(("all", days), 0)
    if policy.hides(n):
        cell: object = "suppressed"
    elif row["n_risk"] < policy.k:
        cell = not_reached
    elif counts[days] is None:
        cell = reoffended_cell(events, policy)
    else:
        cell = counts[days]
    return pd.DataFrame([["all", policy.label if policy.hides(n) else n, cell,
                          row["recidivism"], row["lower"], row["upper"]]], columns=columns)


def by_rate(table: pd.DataFrame, rate: str) -> pd.DataFrame:
    """``table`` sorted by ``rate``, highest first, missing rates last (ties keep their
    order)."""
    return table.sort_values(rate, ascending=False, na_position="last",
                             kind="stable").reset_index(drop=True)
