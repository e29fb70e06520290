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
from analysis.contract import COMPETING_END_REASONS
from analysis.disclosure import SMALL_SAMPLE, linked_suppression, rate_discloses
from analysis.errors import AnalysisError
from analysis.survival.episodes import episodes_sql
from analysis.survival.fixed_horizon import fixed_horizon_rates_from_db
from analysis.survival.kaplan_meier import KaplanMeier
from analysis.views.estimates import (
    count_labels,
    episodes_cache,
    format_rate,
    group_sizes,
    grouped_day_counts,
    horizon_label,
    km_at_horizons,
)
from analysis.views.filters import ViewFilters

#: Shown for a count hidden only so that a smaller hidden count cannot be recovered.
SECONDARY_LABEL = "hidden"


@dataclass(frozen=True)
class Overview:
    """Headline figures of a selection (``None`` = suppressed or not estimable).

    Attributes
    ----------
    releases, people : int or None
        Counts, ``None`` when below ``k``.
    median_follow_up_months : float or None
        Reverse Kaplan–Meier median follow-up, in months.
    horizons : DataFrame
        One row per horizon: ``horizon, recidivism, lower, upper`` (Kaplan–Meier),
        ``complete_rate, complete_lower, complete_upper, complete_n`` (fixed horizon;
        ``complete_n`` as text, ``"<k"`` when suppressed), shares 0–1.
    horizon_table : DataFrame
        The same, formatted for display and download.
    cohorts : DataFrame
        ``release_year, releases`` (text), ``recidivism, lower, upper`` (1 year).
    cohort_table : DataFrame
        The same, formatted.
    cohort_figure : plotly Figure
    definition : str
        The outcome in one sentence.
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
    cohort_figure: go.Figure
    definition: str
    small_sample: bool
    suppressed_label: str


@dataclass(frozen=True)
class _OutcomeWords:
    """The outcome sentence in one language (written by developers: needs native review)."""

    sentence: str  # {what} {ends}
    comma: str
    or_: str
    terms: dict[str, str]  # event types and competing end reasons
    none: str
    cut_off: str
    competing: str  # {reasons}
    next_release: str
    reincarceration: str


_OUTCOME_WORDS: dict[str, _OutcomeWords] = {
    "en": _OutcomeWords(
        "Reoffending means the first {what} recorded after release; follow-up of a release "
        "ends at {ends}.", ", ", " or ", {}, "event (none recorded)", "the data cut-off",
        "{reasons} (competing ends)", "the person's next release",
        "a reincarceration (not counted as reoffending)"),
    "fr": _OutcomeWords(
        "La récidive est le premier événement enregistré après la libération parmi : {what} ; "
        "le suivi d'une libération s'arrête à la première de ces dates : {ends}.", ", ", " ou ",
        {"rearrest": "nouvelle arrestation", "reconviction": "nouvelle condamnation",
         "reincarceration": "réincarcération", "violation": "violation des conditions",
         "death": "décès", "deportation": "expulsion", "emigration": "émigration"},
        "aucun événement enregistré", "la date d'arrêt des données",
        "{reasons} (fins concurrentes)", "la libération suivante de la personne",
        "une réincarcération (non comptée comme récidive)"),
    "ar": _OutcomeWords(
        "تعني العودة إلى الجريمة أول حدث يُسجَّل بعد الإفراج من بين: {what}؛ وتنتهي متابعة "
        "الإفراج عند أول ما يحدث من: {ends}.", "، ", " أو ",
        {"rearrest": "إعادة الاعتقال", "reconviction": "إدانة جديدة",
         "reincarceration": "إعادة السجن", "violation": "مخالفة شروط الإفراج",
         "death": "الوفاة", "deportation": "الترحيل", "emigration": "الهجرة"},
        "لا حدث مسجَّل", "تاريخ توقف البيانات", "{reasons} (نهايات متنافسة)",
        "الإفراج التالي عن الشخص نفسه", "إعادة السجن (لا تُحتسب عودة إلى الجريمة)"),
    "ru": _OutcomeWords(
        "Повторное правонарушение — первое из событий, зарегистрированных после "
        "освобождения: {what}; наблюдение заканчивается при первом из следующих: {ends}.",
        ", ", " или ",
        {"rearrest": "повторный арест", "reconviction": "повторное осуждение",
         "reincarceration": "повторное лишение свободы", "violation": "нарушение условий",
         "death": "смерть", "deportation": "депортация", "emigration": "эмиграция"},
        "событие не зарегистрировано", "дата среза данных",
        "{reasons} (конкурирующие исходы)", "следующее освобождение того же человека",
        "повторное лишение свободы (не считается повторным правонарушением)"),
    "sr": _OutcomeWords(
        "Povratništvo je prvi događaj zabeležen posle otpuštanja od sledećih: {what}; "
        "praćenje otpuštanja završava se prvim od sledećih: {ends}.", ", ", " ili ",
        {"rearrest": "ponovno hapšenje", "reconviction": "ponovna osuda",
         "reincarceration": "ponovno zatvaranje", "violation": "kršenje uslova",
         "death": "smrt", "deportation": "deportacija", "emigration": "iseljenje"},
        "nijedan događaj nije zabeležen", "datum preseka podataka",
        "{reasons} (konkurentni ishodi)", "sledeće otpuštanje iste osobe",
        "ponovno zatvaranje (ne računa se kao povratništvo)"),
}


def _or_list(words, language: _OutcomeWords = _OUTCOME_WORDS["en"]) -> str:
    words = [language.terms.get(w, w.replace("_", " ")) for w in words]
    if len(words) <= 1:
        return "".join(words)
    return language.comma.join(words[:-1]) + language.or_ + words[-1]


def outcome_sentence(event_types: tuple[str, ...], *, language: str = "en") -> str:
    """The outcome definition in one sentence, in ``language`` (en, fr, ar, ru, sr).

    Event types and end reasons the sentence does not know are quoted as recorded.

    Examples
    --------
    >>> outcome_sentence(("rearrest", "reconviction"))[:62]
    'Reoffending means the first rearrest or reconviction recorded '
    >>> outcome_sentence(("rearrest",), language="fr")[:58]
    'La récidive est le premier événement enregistré après la l'
    """
    if language not in _OUTCOME_WORDS:
        raise AnalysisError(f"language must be one of {', '.join(_OUTCOME_WORDS)}, "
                            f"not {language!r}")
    words = _OUTCOME_WORDS[language]
    ends = [words.cut_off,
            words.competing.format(reasons=_or_list(COMPETING_END_REASONS, words)),
            words.next_release]
    if "reincarceration" not in event_types:
        ends.append(words.reincarceration)
    what = _or_list(event_types, words) if event_types else words.none
    return words.sentence.format(what=what, ends=_or_list(ends, words))


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


def complete_counts_hidden(complete: pd.DataFrame, releases: int, policy) -> set:
    """Horizons whose count of releases with complete follow-up must be hidden.

    Each horizon splits the selected releases (a published total) into those with
    complete follow-up (shown) and those excluded (not shown): ``releases = n + excluded``.
    """
    values = {"releases": int(releases)}
    relations = []
    for row in complete.itertuples():
        values[("n", row.days)] = int(row.n)
        values[("excluded", row.days)] = int(row.excluded)
        relations.append(("releases", [("n", row.days), ("excluded", row.days)]))
    published = ["releases", *(("n", d) for d in complete["days"])]
    hidden = linked_suppression(values, relations, policy, published=published)
    return {key[1] for key in hidden if key != "releases"}


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
            "horizon": horizon_label(days),
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
        "Within": frame["horizon"],
        "Reoffended (Kaplan–Meier, 95% CI)": [
            format_rate(r.recidivism, r.lower, r.upper) or "suppressed / not reached"
            for r in frame.itertuples()],
        "Reoffended, complete follow-up only (95% CI)": [
            format_rate(r.complete_rate, r.complete_lower, r.complete_upper)
            or "suppressed / not reached" for r in frame.itertuples()],
        "Releases with complete follow-up": frame["complete_n"],
    })
    return frame, table


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
        "Release year": cohorts["release_year"],
        "Releases": cohorts["releases"],
        "Reoffended within 1 year (95% CI)": [
            format_rate(r.recidivism, r.lower, r.upper)
            or ("suppressed" if r.releases == policy.label else "not yet followed 1 year")
            for r in cohorts.itertuples()],
    })
    figure = rate_plot(cohorts, label="release_year", horizontal=False,
                       title="Reoffending within 1 year, by release cohort",
                       label_title="Release year")
    return cohorts, table, figure


def overview(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
             language: str = "en") -> Overview:
    """Headline figures for the selection (see the module docstring for definitions).

    ``language`` is that of the outcome sentence (``definition``): en, fr, ar, ru or sr.

    Raises
    ------
    AnalysisError
        When no release matches the filters.
    """
    policy = filters.policy
    cached = episodes_cache(con, filters)
    day_table = grouped_day_counts(con, filters, None, cached)
    if day_table.empty:
        raise AnalysisError("no releases match the selection: widen the filters")
    sql, params = episodes_sql(cached.event_types, filters.selection,
                               select="count(*), count(DISTINCT person_id)",
                               source=cached.table)
    releases, people = con.execute(sql, params).fetchone()
    complete = fixed_horizon_rates_from_db(con, DEFAULT_HORIZONS, selection=filters.selection,
                                           cached=cached)
    horizons, horizon_table = _horizon_frames(day_table, complete, policy)
    cohorts, cohort_table, figure = _cohort_frames(
        grouped_day_counts(con, filters, "release_year", cached), policy)
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
        cohort_figure=figure,
        definition=outcome_sentence(cached.event_types, language=language),
        small_sample=releases < SMALL_SAMPLE,
        suppressed_label=policy.label,
    )
