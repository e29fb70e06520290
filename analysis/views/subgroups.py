"""Subgroups and places: 1-year reoffending by sex × age band × offense, by facility, by
release region and by release cohort.

Rates are 1 − Kaplan–Meier survival at 365 days with a 95% CI. Disclosure control:
groups with fewer than ``k`` releases are suppressed; release counts get complementary
suppression (in the cross-table within each row of sex × age band and within each
offense column; in the one-way tables against their total), and a group whose count is
hidden has its rate hidden too; a rate is also hidden when fewer than ``k`` releases
remain at risk at one year.

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
    count_labels,
    format_rate,
    group_sizes,
    km_at_horizons,
    view_study,
)
from analysis.views.filters import ViewFilters

CROSS_FIELDS: tuple[str, ...] = ("sex", "age_band", "offense_category")
_SEP = " | "
#: How a hidden or unavailable rate reads in the tables.
NOT_SHOWN = "—"
#: Breakdown field -> its name, and the chart title of its comparison.
COMPARISON_WORDS: dict[str, tuple[str, str]] = {
    "facility": (N_("Facility"), N_("Reoffending within 1 year, by facility")),
    "release_region": (N_("Release region"),
                       N_("Reoffending within 1 year, by release region")),
    "release_year": (N_("Release year"), N_("Reoffending within 1 year, by release year")),
}


@dataclass(frozen=True)
class Comparison:
    """One breakdown (``field``) compared: ``rates`` (numeric), ``table`` (display:
    ``<field>, releases, rate_365``)."""

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


def _compare(day_table: pd.DataFrame, filters: ViewFilters, label: str) -> Comparison:
    policy = filters.policy
    sizes = group_sizes(day_table)
    labels = count_labels(sizes, policy)
    hidden = [g for g in sizes.index if labels[g] == policy.label]
    km = km_at_horizons(day_table, (365,), policy, hidden_groups=hidden).set_index("group")
    rates = pd.DataFrame({
        label: [str(g) for g in sizes.index],
        "releases": labels.to_numpy(),
        "recidivism": [km["recidivism"].get(g, np.nan) for g in sizes.index],
        "lower": [km["lower"].get(g, np.nan) for g in sizes.index],
        "upper": [km["upper"].get(g, np.nan) for g in sizes.index],
    })
    table = pd.DataFrame({
        label: rates[label],
        "releases": rates["releases"],
        "rate_365": [
            format_rate(r.recidivism, r.lower, r.upper) or NOT_SHOWN
            for r in rates.itertuples()],
    })
    visible = sizes[[g for g in sizes.index if g not in hidden and sizes[g] >= policy.k]]
    return Comparison(label, rates, table, int(visible.min()) if len(visible) else None)


def comparison_figure(comparison: Comparison, language: str = "en") -> go.Figure:
    """The 1-year rates of ``comparison``, titled and labelled in ``language``."""
    tr = translator(language)
    name, title = COMPARISON_WORDS[comparison.field]
    return rate_plot(comparison.rates, label=comparison.field,
                     horizontal=comparison.field != "release_year", title=tr(title),
                     label_title=tr(name), language=language)


def _cross_table(study: Study, filters: ViewFilters) -> pd.DataFrame:
    policy = filters.policy
    table = study.day_counts(crossed([study.grouping(field) for field in CROSS_FIELDS], _SEP))
    columns = [*CROSS_FIELDS, "releases", "rate_365"]
    if table.empty:
        return pd.DataFrame(columns=columns)
    sizes = group_sizes(table)
    keys = pd.DataFrame([g.split(_SEP) for g in sizes.index], columns=list(CROSS_FIELDS))
    keys["n"] = sizes.to_numpy()
    grid = keys.pivot_table(index=["sex", "age_band"], columns="offense_category",
                            values="n", aggfunc="sum", fill_value=0)
    mask = suppression_mask(grid, policy)
    hidden = {_SEP.join((s, a, o)) for (s, a) in grid.index for o in grid.columns
              if mask.loc[(s, a), o]}
    km = km_at_horizons(table, (365,), policy, hidden_groups=hidden).set_index("group")
    rows = []
    for group, n in sizes.items():
        sex, band, offense = group.split(_SEP)
        shown = group not in hidden
        rows.append([sex, band, offense, f"{int(n)}" if shown else policy.label,
                     format_rate(km["recidivism"].get(group), km["lower"].get(group),
                                 km["upper"].get(group)) or NOT_SHOWN
                     if shown else NOT_SHOWN])
    return pd.DataFrame(rows, columns=columns)


def subgroups(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> Subgroups:
    """Cross-table and comparisons of facilities, regions and release cohorts."""
    study = view_study(con, filters)

    def compare(by: str) -> Comparison:
        return _compare(study.day_counts(by), filters, by)

    return Subgroups(
        cross_table=_cross_table(study, filters),
        facilities=compare("facility"),
        regions=compare("release_region"),
        cohorts=compare("release_year"),
        suppressed_label=filters.policy.label,
    )
