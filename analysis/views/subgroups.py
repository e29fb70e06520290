"""Subgroups and places: 1-year reoffending by sex × age band × offense, by facility, by
release region and by release cohort.

Rates are 1 − Kaplan–Meier survival at 365 days with a 95% CI. Disclosure control:
groups with fewer than ``k`` releases are suppressed; release counts get complementary
suppression (in the cross-table within each row of sex × age band and within each
offense column; in the one-way tables against their total), and a group whose count is
hidden has its rate hidden too; a rate is also hidden when fewer than ``k`` releases
remain at risk at one year (not followed long enough). Beside each rate, the people who
reoffended within the year, hidden with their rate where they, the others of the group,
or a count worked out from them and the margins would be from 1 to ``k - 1``
(:func:`analysis.views.estimates.rates_at`).

Each table starts with the overall line (code ``all`` in the first column), then
its groups by rate, highest first (release cohorts in year order).

The results are language-free (column codes; the charts drawn by
:func:`comparison_figure` in the reader's language).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.charts import rate_plot
from analysis.disclosure import suppression_mask
from analysis.i18n import N_, translator
from analysis.study import Study
from analysis.survival.grouping import crossed
from analysis.views.estimates import (
    by_rate,
    count_labels,
    group_sizes,
    overall_rate_at,
    rates_at,
    view_study,
)
from analysis.views.filters import ViewFilters
from analysis.views.scope import serves

CROSS_FIELDS: tuple[str, ...] = ("sex", "age_band", "offense_category")
_SEP = " | "
#: The first cell of a table's overall line (a code of analysis.views.words.CELLS:
#: "all releases").
OVERALL = "all"
#: Columns of a rate at one year in the tables: the count beside it, then the estimate.
RATE_COLUMNS: tuple[str, ...] = ("releases", "reoffended_365", "rate_365", "rate_365_lower",
                                 "rate_365_upper")
#: Breakdown field -> its name, and the chart title of its comparison.
COMPARISON_WORDS: dict[str, tuple[str, str]] = {
    "facility": (N_("Facility"), N_("Reoffending within 1 year, by facility")),
    "release_region": (N_("Release region"),
                       N_("Reoffending within 1 year, by release region")),
    "release_year": (N_("Release year"), N_("Reoffending within 1 year, by release year")),
}


@dataclass(frozen=True)
class Comparison:
    """One breakdown (``field``) compared: ``rates`` (numeric, for the chart:
    ``<field>, releases, recidivism, lower, upper``) and ``table`` (the overall line,
    then ``<field>`` and :data:`RATE_COLUMNS`, by rate)."""

    field: str
    rates: pd.DataFrame
    table: pd.DataFrame
    smallest_group: int | None


@dataclass(frozen=True)
class Subgroups:
    """Everything the Subgroups and places page shows."""

    cross_table: pd.DataFrame
    facilities: Comparison
    regions: Comparison
    cohorts: Comparison
    suppressed_label: str


def _as_table(rows: pd.DataFrame, keys: pd.DataFrame) -> pd.DataFrame:
    """``keys`` (label columns) then :data:`RATE_COLUMNS` from :func:`rates_at` rows."""
    values = rows[["releases", "reoffended", "rate", "lower", "upper"]].reset_index(drop=True)
    values.columns = list(RATE_COLUMNS)
    return pd.concat([keys.reset_index(drop=True), values], axis=1)


def _count_shown(overall: pd.DataFrame) -> bool:
    return isinstance(overall["reoffended"].iloc[0], int | np.integer)


def _with_overall(table: pd.DataFrame, overall: pd.DataFrame, labels: list[str],
                  *, sort: bool) -> pd.DataFrame:
    keys = pd.DataFrame([[OVERALL] + [""] * (len(labels) - 1)], columns=labels)
    first = _as_table(overall, keys)
    rest = by_rate(table, "rate_365") if sort else table
    return pd.concat([first, rest], ignore_index=True)


def _compare(day_table: pd.DataFrame, filters: ViewFilters, label: str,
             overall: pd.DataFrame) -> Comparison:
    policy = filters.policy
    sizes = group_sizes(day_table)
    labels = count_labels(sizes, policy)
    rows = rates_at(day_table, 365, policy, labels, not_reached="not_followed",
                    total_shown=_count_shown(overall))
    names = pd.DataFrame({label: [str(g) for g in sizes.index]})
    rates = pd.DataFrame({
        label: names[label], "releases": labels.to_numpy(),
        "recidivism": rows["rate"].to_numpy(), "lower": rows["lower"].to_numpy(),
        "upper": rows["upper"].to_numpy()})
    table = _with_overall(_as_table(rows, names), overall, [label],
                          sort=label != "release_year")
    hidden = [g for g in sizes.index if labels[g] == policy.label]
    visible = sizes[[g for g in sizes.index if g not in hidden and sizes[g] >= policy.k]]
    return Comparison(label, rates, table, int(visible.min()) if len(visible) else None)


def comparison_figure(comparison: Comparison, language: str = "en") -> go.Figure:
    """The 1-year rates of ``comparison``, titled and labelled in ``language``."""
    tr = translator(language)
    name, title = COMPARISON_WORDS[comparison.field]
    return rate_plot(comparison.rates, label=comparison.field,
                     horizontal=comparison.field != "release_year", title=tr(title),
                     label_title=tr(name), language=language)


def _cross_table(study: Study, filters: ViewFilters, overall: pd.DataFrame) -> pd.DataFrame:
    policy = filters.policy
    table = study.day_counts(crossed([study.grouping(field) for field in CROSS_FIELDS], _SEP))
    columns = [*CROSS_FIELDS, *RATE_COLUMNS]
    if table.empty:
        return pd.DataFrame(columns=columns)
    sizes = group_sizes(table)
    keys = pd.DataFrame([g.split(_SEP) for g in sizes.index], columns=list(CROSS_FIELDS))
    keys["group"] = sizes.index
    keys["n"] = sizes.to_numpy()
    grid = keys.pivot_table(index=["sex", "age_band"], columns="offense_category",
                            values="n", aggfunc="sum", fill_value=0)
    mask = suppression_mask(grid, policy)
    hidden = {_SEP.join((s, a, o)) for (s, a) in grid.index for o in grid.columns
              if mask.loc[(s, a), o]}
    cells = pd.Series([policy.label if g in hidden else int(n) for g, n in sizes.items()],
                      index=sizes.index, dtype=object)
    # The margins a reader knows: each row (sex, age band) and each offense column.
    margins = [list(part["group"]) for _, part in keys.groupby(["sex", "age_band"])]
    margins += [list(part["group"]) for _, part in keys.groupby("offense_category")]
    rows = rates_at(table, 365, policy, cells, margins=margins, not_reached="not_followed",
                    total_shown=_count_shown(overall))
    cross = _as_table(rows, keys[list(CROSS_FIELDS)])
    return _with_overall(cross, overall, list(CROSS_FIELDS), sort=True)


@serves("subgroups")
def subgroups(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> Subgroups:
    """Cross-table and comparisons of facilities, regions and release cohorts."""
    study = view_study(con, filters)
    # the overall line of every table: the whole selection
    overall = overall_rate_at(study.day_counts(), 365, filters.policy, "not_followed")

    def compare(by: str) -> Comparison:
        return _compare(study.day_counts(by), filters, by, overall)

    return Subgroups(
        cross_table=_cross_table(study, filters, overall),
        facilities=compare("facility"),
        regions=compare("release_region"),
        cohorts=compare("release_year"),
        suppressed_label=filters.policy.label,
    )
