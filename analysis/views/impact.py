"""Impact page services: the donor's matched comparison of a programme or project.

Layer rule: this module belongs to the *services* layer (``analysis/views/``). It is pure
Python — it never imports streamlit — and every function takes ``(con, filters,
**options)`` and returns a small frozen dataclass (or a string) that is already
disclosure-controlled with ``filters.min_cell``. The dashboard pages only display them.

Which sidebar filters apply
---------------------------
The whole sidebar selection (period, facility, region, sex, age band, offense) restricts
the **pool of releases** the evaluation starts from — participants and comparison people
alike — and the outcome's event types define reoffending. The evaluation then applies
its own availability rule inside that pool (same facilities and period as the
participants; see :mod:`analysis.impact.cohort`).

Disclosure control
------------------
Counts between 1 and ``k - 1`` are shown as ``"<k"`` (attrition, group sizes, numbers who
reoffended, numbers inside the attrition notes), and a count that would reveal one by
subtraction along the attrition chain reads ``"hidden"``
(:func:`analysis.impact.publication.hidden_counts`); a group's rate is hidden when its
reoffenders or non-reoffenders number 1 to ``k - 1``; curves stop where fewer than ``k``
remain at risk; propensity-score bins holding fewer than ``k`` people of a group are not
drawn. Results from fewer than 60 participants with outcomes follow the impact rules of
:mod:`analysis.impact.rules` (no result reported), and results from fewer than 100
participants carry a small-sample warning.
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace

import duckdb
import pandas as pd

from analysis.errors import AnalysisError
from analysis.impact.evaluation import ImpactEvaluation, ImpactResult, PreparedEvaluation
from analysis.impact.power import DetectableEffect, minimum_detectable_effect
from analysis.impact.publication import (
    cost_shown,
    estimates_table,
    for_publication,
    hidden_counts,
    hide_small_mentions,
    rates_table,
    suppress_numbers_in_text,
)
from analysis.impact.report import build_report_html
from analysis.impact.rules import Verdict, judge
from analysis.impact.wording import impact_sentence
from analysis.views.filters import ViewFilters

SUBJECT_KINDS: tuple[str, ...] = ("program", "project", "funder")


@dataclass(frozen=True)
class Subject:
    """One thing a donor can evaluate: a programme, or all programmes of a project/funder."""

    kind: str  # program | project | funder
    value: str
    label: str

    def arguments(self) -> dict[str, str]:
        """Keyword arguments of :class:`ImpactEvaluation` (projects and funders alike)."""
        return {"program": self.value} if self.kind == "program" else {"project": self.value}


def impact_subjects(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> tuple[Subject, ...]:
    """Programmes, then projects, then funders, as the page's select box offers them."""
    catalogue = con.execute(
        "SELECT program_id, name, project, funder FROM programs ORDER BY program_id").df()
    subjects = [Subject("program", row.program_id, f"{row.program_id} — {row.name}")
                for row in catalogue.itertuples()]
    for kind in ("project", "funder"):
        for value in sorted(catalogue[kind].dropna().unique()):
            subjects.append(Subject(kind, value, f"{kind}: {value}"))
    return tuple(subjects)


@dataclass(frozen=True)
class ImpactView:
    """What the Impact page shows, disclosure-controlled.

    When the evaluation cannot run (no participants in the selection, a project mixing
    custody and post-release programmes...), ``error`` says why and the tables are empty.
    When the result is not reportable (fewer than 60 participants with outcomes),
    ``rates``, ``estimates`` and ``curves`` are empty and ``reasons`` explain it.
    """

    label: str
    horizon_days: int
    method: str
    event_types: tuple[str, ...]
    headline: str
    reportable: bool
    significant: bool
    reasons: tuple[str, ...]
    small_sample: bool
    notes: tuple[str, ...]
    rates: pd.DataFrame
    estimates: pd.DataFrame
    curves: pd.DataFrame
    balance: pd.DataFrame
    overlap: pd.DataFrame
    attrition: pd.DataFrame
    cost_statement: str | None
    cost: dict | None
    comparison_rate: float | None
    participants_with_outcomes: int | None  # None when hidden (disclosure control)
    error: str | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def _empty(label: str, horizon: int, error: str) -> ImpactView:
    nothing = pd.DataFrame()
    return ImpactView(label, horizon, "match", (), "", False, False, (), False, (), nothing,
                      nothing, nothing, nothing, nothing, nothing, None, None, None, 0, error)


def _prepare(con, filters: ViewFilters, subject: Subject,
             horizon_days: int) -> PreparedEvaluation:
    """The cohort and propensity score both methods start from (built once per page)."""
    return ImpactEvaluation(
        **subject.arguments(), horizon_days=horizon_days,
        outcome=filters.outcome, selection=filters.selection,
    ).prepare(con)


def _in_language(result: ImpactResult, language: str) -> tuple[str, Verdict]:
    """The headline and the rules' verdict of ``result`` written in ``language``.

    Both are rebuilt from the result's numbers exactly as the evaluation builds them, so
    in English they are the result's own ``summary_text`` and ``verdict``.
    """
    part, comp = result.participants, result.comparison
    verdict = judge(part.with_outcome, part.reoffended, comp.reoffended, result.difference.p,
                    language=language)
    headline = impact_sentence(
        participant_rate=part.rate, comparison_rate=comp.rate,
        difference_lower=result.difference.lower, difference_upper=result.difference.upper,
        horizon_days=result.horizon_days, verdict=verdict,
        participants_with_outcomes=part.with_outcome, language=language)
    return headline, verdict


def _subject(kind: str, value: str) -> Subject:
    if kind not in SUBJECT_KINDS:
        raise AnalysisError(f"kind must be one of {', '.join(SUBJECT_KINDS)}, not {kind!r}")
    return Subject(kind, value, value if kind == "program" else f"{kind} {value}")


def impact(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *, kind: str = "program",
           value: str, horizon_days: int = 365, language: str = "en") -> ImpactView:
    """The primary (matched) impact evaluation of a programme, project or funder.

    Parameters
    ----------
    kind, value
        ``("program", "VOC-METAL")``, ``("project", "Skills for Work")`` or
        ``("funder", "Global Fund")``.
    horizon_days
        Follow-up horizon of the headline rate: one of
        :data:`~analysis.constants.DEFAULT_HORIZONS`.
    language
        Language of the headline and of the rules' reasons: ``en`` (default), ``fr``,
        ``ar``, ``ru`` or ``sr`` (:mod:`analysis.impact.wording_locales`). Tables, notes
        and error messages stay in English.
    """
    subject = _subject(kind, value)
    try:
        prepared = _prepare(con, filters, subject, horizon_days)
    except AnalysisError as exc:
        return _empty(subject.label, horizon_days, str(exc))
    return _matched_view(_method_result(prepared, "match"), subject, filters, horizon_days,
                         language)


def _method_result(prepared: PreparedEvaluation, method: str) -> ImpactResult | AnalysisError:
    """The evaluation by ``method``, or the reason it could not run."""
    try:
        return prepared.result(method)
    except AnalysisError as exc:
        return exc


def _matched_view(result: ImpactResult | AnalysisError, subject: Subject, filters: ViewFilters,
                  horizon_days: int, language: str) -> ImpactView:
    policy = filters.policy
    if isinstance(result, AnalysisError):
        return _empty(subject.label, horizon_days, str(result))
    reportable = result.reportable
    headline, verdict = _in_language(result, language)
    shown = for_publication(replace(result, summary_text=headline, verdict=verdict), policy)
    hidden = hidden_counts(result, policy)
    cost = result.cost if cost_shown(result, policy, hidden) else None
    return ImpactView(
        label=result.program,
        horizon_days=result.horizon_days,
        method=result.method,
        event_types=result.event_types,
        headline=shown.summary_text,
        reportable=reportable,
        significant=result.significant,
        reasons=shown.verdict.reasons,
        small_sample=policy.is_small(result.counts["eligible"]),
        notes=shown.notes,
        rates=rates_table(result, policy, hidden) if reportable else pd.DataFrame(),
        estimates=estimates_table(result) if reportable else pd.DataFrame(),
        curves=shown.curves if reportable else pd.DataFrame(),
        balance=result.balance[["covariate", "smd_before", "smd_after"]].copy(),
        overlap=shown.overlap,
        attrition=shown.attrition,
        cost_statement=cost.statement if cost is not None else None,
        cost={k: v for k, v in cost.as_dict().items() if k != "statement"} if cost else None,
        comparison_rate=result.comparison.rate if reportable else None,
        participants_with_outcomes=None if ("participants", "with_outcome") in hidden
        else result.counts["participants_with_outcomes"],
    )


@dataclass(frozen=True)
class Sensitivity:
    """The inverse-probability-weighted (IPTW) result beside the matched one."""

    headline: str
    reportable: bool
    estimates: pd.DataFrame
    error: str | None = None
    notes: tuple[str, ...] = field(default=())


def impact_sensitivity(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                       kind: str = "program", value: str, horizon_days: int = 365,
                       language: str = "en") -> Sensitivity:
    """The same evaluation with inverse-probability weighting (the sensitivity method).

    The Impact page gets it with the matched result from :func:`impact_page`.
    """
    subject = _subject(kind, value)
    try:
        prepared = _prepare(con, filters, subject, horizon_days)
    except AnalysisError as exc:
        return Sensitivity("", False, pd.DataFrame(), str(exc))
    return _weighted_view(_method_result(prepared, "iptw"), filters, language)


def _weighted_view(result: ImpactResult | AnalysisError, filters: ViewFilters,
                   language: str) -> Sensitivity:
    if isinstance(result, AnalysisError):
        return Sensitivity("", False, pd.DataFrame(), str(result))
    estimates = estimates_table(result) if result.reportable else pd.DataFrame()
    headline, _ = _in_language(result, language)
    return Sensitivity(hide_small_mentions(headline, filters.policy),
                       result.reportable, estimates,
                       notes=tuple(suppress_numbers_in_text(n, filters.policy)
                                   for n in result.notes))


@dataclass(frozen=True)
class ImpactPage:
    """Everything the Impact page computes: the matched result and the weighted one."""

    primary: ImpactView
    sensitivity: Sensitivity


def impact_page(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *, kind: str = "program",
                value: str, horizon_days: int = 365, language: str = "en") -> ImpactPage:
    """:func:`impact` and :func:`impact_sensitivity` together, as the Impact page shows them.

    Both methods start from the same cohort and propensity model, the slow part on a
    large database, so the page asks for them together and they are built once. The
    results are those of the two views called separately.
    """
    return impact_pages(con, filters, kind=kind, value=value, horizon_days=horizon_days,
                        languages=(language,))[language]


def impact_pages(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                 kind: str = "program", value: str, horizon_days: int = 365,
                 languages: tuple[str, ...] = ("en",)) -> dict[str, ImpactPage]:
    """:func:`impact_page` in each of ``languages``, evaluating once.

    Only the headline and the rules' reasons depend on the language; the importer
    stores the page in every language the dashboard speaks (:mod:`analysis.views.stored`).
    """
    subject = _subject(kind, value)
    try:
        prepared = _prepare(con, filters, subject, horizon_days)
    except AnalysisError as exc:
        return {language: ImpactPage(_empty(subject.label, horizon_days, str(exc)),
                                     Sensitivity("", False, pd.DataFrame(), str(exc)))
                for language in languages}
    matched, weighted = _method_result(prepared, "match"), _method_result(prepared, "iptw")
    return {language: ImpactPage(
                _matched_view(matched, subject, filters, horizon_days, language),
                _weighted_view(weighted, filters, language))
            for language in languages}


def impact_report(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                  kind: str = "program", value: str, horizon_days: int = 365) -> str:
    """The offline HTML report of the matched evaluation (curves cut at ``k`` at risk).

    Built on demand (the page's download button calls it when clicked): the file inlines
    the plotting library and weighs about 5 MB. The report hides counts below ``k`` the
    same way as the page (:func:`analysis.impact.publication.for_publication`).
    """
    result = _prepare(con, filters, _subject(kind, value), horizon_days).result("match")
    return build_report_html(result, policy=filters.policy)


def planning(con: duckdb.DuckDBPyConnection | None, filters: ViewFilters, *,
             participants: int, base_rate: float, comparison_ratio: float = 1.0,
             power: float = 0.8) -> DetectableEffect:
    """Minimum detectable effect of a planned evaluation (see :mod:`analysis.impact.power`).

    Uses no data; it has the view shape so the page calls it like every other view.

    Examples
    --------
    >>> round(planning(None, ViewFilters(), participants=200, base_rate=0.4).per_100, 1)
    13.2
    """
    return minimum_detectable_effect(participants, base_rate, comparison_ratio=comparison_ratio,
                                     power=power)
