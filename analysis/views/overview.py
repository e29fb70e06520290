"""Overview page: how many releases, how long they are followed, how many reoffend.

Definitions
-----------
- *Releases* are the selected releases; *people* the distinct (pseudonymized) persons
  among them. Both are suppressed below ``k``.
- *Median follow-up* is the **reverse Kaplan–Meier** median: the Kaplan–Meier median of
  the time to the end of observation (data cut-off, next release, reincarceration),
  treating a reoffence or a competing end (death, deportation, emigration) as
  censoring. Unlike the plain median of observed times it is not shortened by people
  who reoffend early.
- *Recidivism at 1, 2, 3 years* is 1 − Kaplan–Meier survival with a 95% log-log CI
  (:mod:`analysis.survival.kaplan_meier`), shown while at least ``k`` releases are at
  risk at the horizon. Beside it, the *complete follow-up* rate
  (:mod:`analysis.survival.fixed_horizon`): the share reoffending among releases that
  could be watched for the whole period, with an exact CI. Its count of releases is
  hidden when it, or the releases left out (selected minus complete), is from 1 to
  ``k - 1``; its rate when the reoffenders or the non-reoffenders among them are.
- *Trend by release cohort*: the 1-year Kaplan–Meier rate per release year; cohorts
  with fewer than ``k`` releases are suppressed (with complementary suppression of
  their counts); recent cohorts not yet followed for a year have no rate.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.charts import rate_plot
from analysis.constants import DAYS_PER_MONTH, DEFAULT_HORIZONS
from analysis.disclosure import SMALL_SAMPLE, rate_discloses
from analysis.errors import AnalysisError
from analysis.i18n import translator
from analysis.impact.wording import SECONDARY_LABEL
from analysis.results_rates import complete_counts_hidden
from analysis.store.schema import one_row
from analysis.survival.episodes import episodes_sql
from analysis.survival.kaplan_meier import KaplanMeier
from analysis.views.estimates import (
    count_labels,
    format_rate,
    group_sizes,
    km_at_horizons,
    view_study,
)
from analysis.views.filters import ViewFilters
from analysis.views.words import outcome_sentence

__all__ = ["Overview", "cohort_figure", "outcome_sentence", "overview"]


@dataclass(frozen=True)
class Overview:
    """Headline figures of a selection (``None`` = suppressed or not estimable).

    Numbers and codes only: the tables' headers and coded cells are rendered by
    :func:`analysis.views.words.render_table` (the horizons named there), the chart by :func:`cohort_figure` and the outcome sentence
    by :func:`outcome_sentence`, in the reader's language.

    Attributes
    ----------
    releases, people : int or None
        Counts, ``None`` when below ``k``.
    median_follow_up_months : float or None
        Reverse Kaplan–Meier median follow-up, in months.
    horizons : DataFrame
        One row per horizon: ``days, recidivism, lower, upper`` (Kaplan–Meier),
        ``complete_rate, complete_lower, complete_upper, complete_n`` (fixed horizon;
        ``complete_n`` as text, ``"<k"`` when suppressed), shares 0–1.
    horizon_table : DataFrame
        The same for display and download: ``within`` (days), ``km_rate``,
        ``complete_rate`` (formatted, or the code ``not_reached``), ``complete_n``.
    cohorts : DataFrame
        ``release_year, releases`` (text), ``recidivism, lower, upper`` (1 year).
    cohort_table : DataFrame
        ``release_year, releases, rate_365``: formatted rates, or the codes
        ``suppressed`` and ``not_followed``.
    event_types : tuple of str
        The outcome's event types (the outcome sentence names them).
    small_sample : bool
        True when estimates rest on fewer than 100 releases.
    suppressed_label : str
        How a suppressed count reads (``"<k"``).
    """

    releases: int | None
    people: int | None
    median_follow_up_months: float | None
    horizons: pd.DataFrame
    horizon_table: pd.DataFrame
    cohorts: pd.DataFrame
    cohort_table: pd.DataFrame
    event_types: tuple[str, ...]
    small_sample: bool
    suppressed_label: str


def reverse_km_median_days(day_table: pd.DataFrame) -> float:
    """Median potential follow-up (days) by reverse Kaplan–Meier; NaN when not reached."""
    reverse = day_table.assign(
        n_event=day_table["n_censored"],
        n_censored=day_table["n_event"] + day_table["n_competing"],
        n_competing=0,
        group="all",
    )
    reverse = reverse.groupby(["group", "time"], as_index=False).sum()
    return float(KaplanMeier().fit_day_table(reverse).summary["median"].iloc[0])


def _horizon_frames(day_table, complete, policy):
    km = km_at_horizons(day_table, DEFAULT_HORIZONS, policy)
    releases = int(group_sizes(day_table).sum())
    hidden_n = complete_counts_hidden(complete, releases, policy)
    rows = []
    for days in DEFAULT_HORIZONS:
        k_row = km[km["days"] == days]
        c_row = complete[complete["days"] == days].iloc[0]
        # "41.2% of 17" names the 7 who reoffended: the rate rule hides it
        shown = not rate_discloses(c_row["events"], c_row["n"], policy) and (
            days not in hidden_n)
        n_text = (policy.label if policy.hides(c_row["n"]) else SECONDARY_LABEL
                  ) if days in hidden_n else f"{int(c_row['n'])}"
        rows.append({
            "days": days,
            "recidivism": float(k_row["recidivism"].iloc[0]) if len(k_row) else np.nan,
            "lower": float(k_row["lower"].iloc[0]) if len(k_row) else np.nan,
            "upper": float(k_row["upper"].iloc[0]) if len(k_row) else np.nan,
            "complete_rate": float(c_row["rate"]) if shown else np.nan,
            "complete_lower": float(c_row["lower"]) if shown else np.nan,
            "complete_upper": float(c_row["upper"]) if shown else np.nan,
            "complete_n": n_text,
        })
    frame = pd.DataFrame(rows)
    table = pd.DataFrame({
        "within": frame["days"],
        "km_rate": [format_rate(r.recidivism, r.lower, r.upper) or "not_reached"
                    for r in frame.itertuples()],
        "complete_rate": [format_rate(r.complete_rate, r.complete_lower, r.complete_upper)
                          or "not_reached" for r in frame.itertuples()],
        "complete_n": frame["complete_n"],
    })
    return frame, table


def cohort_figure(result: Overview, language: str = "en") -> go.Figure:
    """The 1-year rate by release cohort, titled and labelled in ``language``."""
    tr = translator(language)
    return rate_plot(result.cohorts, label="release_year", horizontal=False,
                     title=tr("Reoffending within 1 year, by release cohort"),
                     label_title=tr("Release year"), language=language)


def _cohort_frames(by_year, policy):
    sizes = group_sizes(by_year)
    labels = count_labels(sizes, policy)
    hidden = [g for g in sizes.index if labels[g] == policy.label]
    km = km_at_horizons(by_year, (365,), policy, hidden_groups=hidden).set_index("group")
    cohorts = pd.DataFrame({
        "release_year": [str(g) for g in sizes.index],
        "releases": labels.to_numpy(),
        "recidivism": [km["recidivism"].get(g, np.nan) for g in sizes.index],
        "lower": [km["lower"].get(g, np.nan) for g in sizes.index],
        "upper": [km["upper"].get(g, np.nan) for g in sizes.index],
    })
    table = pd.DataFrame({
        "release_year": cohorts["release_year"],
        "releases": cohorts["releases"],
        "rate_365": [
            format_rate(r.recidivism, r.lower, r.upper)
            or ("suppressed" if r.releases == policy.label else "not_followed")
            for r in cohorts.itertuples()],
    })
    return cohorts, table


def overview(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> Overview:
    """Headline figures for the selection (see the module docstring for definitions).

    Raises
    ------
    AnalysisError
        When no release matches the filters.
    """
    policy = filters.policy
    study = view_study(con, filters)
    cached = study.cached_episodes()  # four analyses of the same episodes follow
    day_table = study.day_counts()
    if day_table.empty:
        raise AnalysisError("no releases match the selection: widen the filters")
    sql, params = episodes_sql(cached.event_types, filters.selection,
                               select="count(*), count(DISTINCT person_id)",
                               source=cached.table)
    releases, people = one_row(con, sql, params)
    complete = study.fixed_horizon_rates(DEFAULT_HORIZONS).rates
    horizons, horizon_table = _horizon_frames(day_table, complete, policy)
    cohorts, cohort_table = _cohort_frames(
        study.day_counts("release_year"), policy)
    shown = releases >= policy.k
    median = reverse_km_median_days(day_table) / DAYS_PER_MONTH if shown else np.nan
    return Overview(
        releases=int(releases) if shown else None,
        people=int(people) if people >= policy.k else None,
        median_follow_up_months=None if not np.isfinite(median) else round(float(median), 1),
        horizons=horizons,
        horizon_table=horizon_table,
        cohorts=cohorts,
        cohort_table=cohort_table,
        event_types=tuple(cached.event_types),
        small_sample=releases < SMALL_SAMPLE,
        suppressed_label=policy.label,
    )
