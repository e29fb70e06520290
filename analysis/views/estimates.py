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
  1 and ``k - 1``.
"""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd

from analysis.disclosure import DisclosurePolicy, rate_discloses, suppression_mask
from analysis.results import events_by_horizon
from analysis.study import Study
from analysis.survival.kaplan_meier import KaplanMeier
from analysis.views.filters import ViewFilters


def format_rate(value: float | None, lower: float | None = None,
                upper: float | None = None) -> str:
    """A share as ``'23.4% (21.0–25.9)'``; ``''`` when missing (suppressed or not reached).

    Examples
    --------
    >>> format_rate(0.2345, 0.21, 0.259)
    '23.4% (21.0–25.9)'
    >>> format_rate(float("nan"))
    ''
    """
    if value is None or not np.isfinite(value):
        return ""
    text = f"{value * 100:.1f}%"
    if lower is not None and upper is not None and np.isfinite(lower) and np.isfinite(upper):
        text += f" ({lower * 100:.1f}–{upper * 100:.1f})"
    return text


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
    """Group counts as text, with complementary suppression against their total.

    Examples
    --------
    >>> count_labels(pd.Series({"a": 3, "b": 40, "c": 50}), DisclosurePolicy(k=10)).tolist()
    ['<10', '<10', '50']
    """
    row = sizes.to_frame().T
    # one row: its total is the published total; a column "total" would be the cell itself
    hidden = suppression_mask(row, policy, totals="rows").iloc[0]
    return pd.Series([policy.label if hidden[g] else f"{int(n)}" for g, n in sizes.items()],
                     index=sizes.index, dtype=object)


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
