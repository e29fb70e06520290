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
- *People who reoffended*, beside each rate: those seen to reoffend by the horizon
  (all releases, beside the Kaplan–Meier rate; those with complete follow-up, beside
  its rate). A count is shown only beside a shown rate, and hidden with it while it, the
  releases minus it, the reoffences between two horizons, or those of releases without
  complete follow-up would be from 1 to ``k - 1`` or solvable
  (:func:`analysis.views.estimates.overall_reoffended`). Where a rate is missing, the
  count's cell says why: ``not_reached`` (fewer than ``k`` followed that long),
  ``suppressed`` (too few releases), ``"<k"`` or ``hidden``.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.charts import rate_plot
from analysis.constants import DAYS_PER_MONTH, DEFAULT_HORIZONS
from analysis.disclosure import (
    SMALL_SAMPLE,
    DisclosurePolicy,
    linked_suppression,
    rate_discloses,
)
from analysis.errors import AnalysisError
from analysis.i18n import translator
from analysis.impact.wording import SECONDARY_LABEL
from analysis.results import events_by_horizon
from analysis.results_rates import complete_counts_hidden
from analysis.store.schema import one_row
from analysis.survival.episodes import episodes_sql
from analysis.survival.kaplan_meier import KaplanMeier
from analysis.views.estimates import (
    count_labels,
    group_sizes,
    overall_day_table,
    overall_reoffended,
    rates_at,
    reoffended_cell,
    view_study,
)
from analysis.views.filters import ViewFilters
from analysis.views.scope import serves
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
        ``reoffended`` (by then, all releases), ``complete_rate, complete_lower,
        complete_upper, complete_n, complete_reoffended`` (fixed horizon); shares 0–1
        (NaN where not shown), counts as ``int`` or a label or code where hidden.
    horizon_table : DataFrame
        The same for display and download: ``within`` (days), ``reoffended``,
        ``km_rate, km_lower, km_upper``, ``complete_n, complete_reoffended``,
        ``complete_rate, complete_lower, complete_upper``.
    cohorts : DataFrame
        ``release_year, releases``, ``recidivism, lower, upper`` (1 year), for the chart.
    cohort_table : DataFrame
        ``release_year, releases, reoffended_365, rate_365, rate_365_lower,
        rate_365_upper`` (codes ``suppressed`` and ``not_followed`` in
        ``reoffended_365`` where the rate is missing).
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


def _complete_hidden(releases: int, complete: pd.DataFrame, shown_events: dict,
                     hidden_n: set, policy) -> set[int]:
    """Horizons whose complete-follow-up reoffenders (and so rate) must be hidden.

    Of the releases with complete follow-up (``n``), ``events`` reoffended and the rest
    did not; of all who reoffended by the horizon (shown beside the Kaplan–Meier rate),
    ``n``'s events are a part and releases without complete follow-up the rest: none may
    be from 1 to ``k - 1`` and solvable.
    """
    values: dict = {"releases": releases}
    relations: list = []
    known: list = [] if policy.hides(releases) else ["releases"]
    missing = []
    for row in complete.itertuples():
        d, n, e = int(row.days), int(row.n), int(row.events)
        values.update({("n", d): n, ("x", d): releases - n, ("ce", d): e, ("cr", d): n - e})
        relations += [("releases", [("n", d), ("x", d)]), (("n", d), [("ce", d), ("cr", d)])]
        if shown_events.get(d) is not None:
            values[("e", d)] = int(shown_events[d])
            values[("ie", d)] = int(shown_events[d]) - e
            relations.append((("e", d), [("ce", d), ("ie", d)]))
            known.append(("e", d))
        if d in hidden_n:
            missing.append(("ce", d))
        else:
            known.append(("n", d))
        if d in hidden_n or n < policy.k or rate_discloses(e, n, policy):
            missing.append(("ce", d))
    hide = linked_suppression(values, relations, policy,
                              published=[*(("ce", int(d)) for d in complete["days"]), *known],
                              known=known, hidden=missing)
    return {key[1] for key in hide if key[0] == "ce"}


def _reason(n_risk, hidden_group: bool, events: int, policy) -> object:
    """Why a rate at a horizon is missing, as the code of the count beside it."""
    if hidden_group:
        return "suppressed"
    if n_risk < policy.k:
        return "not_reached"
    return reoffended_cell(events, policy)


def _horizon_frames(day_table: pd.DataFrame, complete: pd.DataFrame, policy: DisclosurePolicy
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    km, shown = overall_reoffended(day_table, DEFAULT_HORIZONS, policy)
    releases = int(group_sizes(day_table).sum())
    hidden_n = complete_counts_hidden(complete, releases, policy)
    hidden_ce = _complete_hidden(releases, complete, shown, hidden_n, policy)
    events = {d: n for (_, d), n in events_by_horizon(
        overall_day_table(day_table), DEFAULT_HORIZONS).items()}
    rows = []
    for days in DEFAULT_HORIZONS:
        k_row = km[km["days"] == days].iloc[0]
        c_row = complete[complete["days"] == days].iloc[0]
        c_shown = days not in hidden_ce
        n_text: object = (policy.label if policy.hides(c_row["n"]) else SECONDARY_LABEL
                          ) if days in hidden_n else int(c_row["n"])
        if c_shown:
            c_cell: object = int(c_row["events"])
        elif c_row["n"] < policy.k:  # fewer than k could be watched that long
            c_cell = "not_reached"
        elif days in hidden_n:  # hidden with the count of releases beside it
            c_cell = SECONDARY_LABEL
        else:
            c_cell = reoffended_cell(int(c_row["events"]), policy)
        rows.append({
            "days": days,
            "recidivism": float(k_row["recidivism"]),
            "lower": float(k_row["lower"]),
            "upper": float(k_row["upper"]),
            "reoffended": shown[days] if shown[days] is not None else _reason(
                k_row["n_risk"], policy.hides(releases), events.get(days, 0), policy),
            "complete_rate": float(c_row["rate"]) if c_shown else np.nan,
            "complete_lower": float(c_row["lower"]) if c_shown else np.nan,
            "complete_upper": float(c_row["upper"]) if c_shown else np.nan,
            "complete_n": n_text,
            "complete_reoffended": c_cell,
        })
    frame = pd.DataFrame(rows).astype({"reoffended": object, "complete_n": object,
                                       "complete_reoffended": object})
    table = pd.DataFrame({
        "within": frame["days"],
        "reoffended": frame["reoffended"],
        "km_rate": frame["recidivism"], "km_lower": frame["lower"],
        "km_upper": frame["upper"],
        "complete_n": frame["complete_n"],
        "complete_reoffended": frame["complete_reoffended"],
        "complete_rate": frame["complete_rate"], "complete_lower": frame["complete_lower"],
        "complete_upper": frame["complete_upper"],
    })
    return frame, table


def cohort_figure(result: Overview, language: str = "en") -> go.Figure:
    """The 1-year rate by release cohort, titled and labelled in ``language``."""
    tr = translator(language)
    return rate_plot(result.cohorts, label="release_year", horizontal=False,
                     title=tr("Reoffending within 1 year, by release cohort"),
                     label_title=tr("Release year"), language=language)


def _cohort_frames(by_year, policy, total_shown: bool):
    sizes = group_sizes(by_year)
    labels = count_labels(sizes, policy)
    rows = rates_at(by_year, 365, policy, labels, not_reached="not_followed",
                    total_shown=total_shown)
    years = [str(g) for g in sizes.index]
    cohorts = pd.DataFrame({
        "release_year": years,
        "releases": labels.to_numpy(),
        "recidivism": rows["rate"].to_numpy(),
        "lower": rows["lower"].to_numpy(),
        "upper": rows["upper"].to_numpy(),
    })
    table = pd.DataFrame({
        "release_year": years,
        "releases": labels.to_numpy(),
        "reoffended_365": rows["reoffended"].to_numpy(),
        "rate_365": rows["rate"].to_numpy(),
        "rate_365_lower": rows["lower"].to_numpy(),
        "rate_365_upper": rows["upper"].to_numpy(),
    })
    return cohorts, table


@serves("overview")
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
        study.day_counts("release_year"), policy,
        total_shown=isinstance(horizons["reoffended"].iloc[0], int | np.integer))
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
