"""Impact page services: the donor's matched comparison of a programme or project.

Layer rule: this module belongs to the *services* layer (``analysis/views/``). It is pure
Python — it never imports streamlit — and every function takes ``(con, filters,
**options)`` and returns a small frozen dataclass (or a string) that is already
disclosure-controlled with ``filters.min_cell``. The results hold numbers and codes;
the dashboard pages word them in the reader's language with :func:`headline_text`,
:func:`reason_texts`, :func:`note_texts`, :func:`attrition_rows`, :func:`balance_rows`
and :func:`cost_text`.

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

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import TypedDict

import duckdb
import pandas as pd

from analysis.errors import AnalysisError
from analysis.i18n import translator
from analysis.impact.adjustment import Adjustment, resolve_covariates
from analysis.impact.cost import CostEffectiveness, cost_statement
from analysis.impact.evaluation import ImpactEvaluation, ImpactResult, PreparedEvaluation
from analysis.impact.power import DetectableEffect, minimum_detectable_effect
from analysis.impact.publication import (
    cost_shown,
    estimates_table,
    for_publication,
    hidden_counts,
    rates_table,
)
from analysis.impact.report import build_report_html, build_report_pdf
from analysis.impact.report_context import ReportContext, data_date
from analysis.impact.rules import Reason, Verdict
from analysis.impact.wording import (
    attrition_table,
    impact_sentence,
    reason_text,
    verdict_reasons,
)
from analysis.survival.episodes import episodes_query
from analysis.views.filters import Rejection, ViewFilters
from analysis.views.scope import allowed_programs, serves
from analysis.views.terms import term_label

#: Screen formats of a comparison's rates table (``ImpactResult.rates``): the Impact
#: page's and the Services page's comparison (``dashboard.widgets.show_table``).
RATE_FORMATS = {"rate": "percent", "rate_lower": "percent", "rate_upper": "percent",
                "days_free_mean": "%.0f"}

#: What the Impact page evaluates; each is also the URL parameter naming one.
SUBJECT_KINDS: tuple[str, ...] = ("program", "project", "funder")


class SubjectArguments(TypedDict, total=False):
    """What :meth:`Subject.arguments` gives :class:`ImpactEvaluation`: one of the two."""

    program: str
    project: str


@dataclass(frozen=True)
class Subject:
    """One thing a donor can evaluate: a programme, or all programmes of a project/funder."""

    kind: str  # program | project | funder
    value: str
    label: str

    def arguments(self) -> SubjectArguments:
        """Keyword arguments of :class:`ImpactEvaluation` (projects and funders alike)."""
        return {"program": self.value} if self.kind == "program" else {"project": self.value}


def subject_label(subject: Subject, language: str = "en") -> str:
    """How the page's select box names ``subject``: "VOC-METAL — Metalwork",
    "Project: Skills for Work", "Funder: Global Fund" (the names are the data's).

    Examples
    --------
    >>> subject_label(Subject("funder", "Global Fund", "funder: Global Fund"), "fr")
    'Bailleur de fonds : Global Fund'
    """
    tr = translator(language)
    if subject.kind == "project":
        return tr("Project: {name}", name=subject.value)
    if subject.kind == "funder":
        return tr("Funder: {name}", name=subject.value)
    return subject.label


@serves("impact", scope_aware=True)
def impact_subjects(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> tuple[Subject, ...]:
    """Programmes, then projects, then funders, as the page's select box offers them
    (each in the order of its code or name; :func:`default_subject` picks the first shown)."""
    catalogue = con.execute(
        "SELECT program_id, name, project, funder FROM programs ORDER BY program_id").df()
    allowed = allowed_programs(con, filters.scope)
    if allowed is not None:
        # A donor: their programmes, and the projects and funders all of whose
        # programmes are theirs (nothing else is named, not even in the picker).
        others = catalogue[~catalogue["program_id"].isin(list(allowed))]
        catalogue = catalogue[catalogue["program_id"].isin(list(allowed))]
    subjects = [Subject("program", row.program_id, f"{row.program_id} — {row.name}")
                for row in catalogue.itertuples()]
    for kind in ("project", "funder"):
        for value in sorted(catalogue[kind].dropna().unique()):
            if allowed is None or value not in set(others[kind].dropna()):
                subjects.append(Subject(kind, value, f"{kind}: {value}"))
    return tuple(subjects)


@serves("impact", scope_aware=True)
def default_subject(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> Subject | None:
    """The programme the Impact page opens on: the one with the most participants.

    Participants are counted as the Programmes page's catalogue counts them
    (:func:`analysis.views.programs.program_catalog`): participation records of the
    releases in the selection, or of a selected person when the record names no release.
    Ties go to the first programme code; ``None`` when the database has no programme.
    Only which programme leads is used, never its count, so nothing needs suppressing.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> default_subject(con, ViewFilters()) is None
    True
    """
    subjects = impact_subjects(con, filters)
    if not subjects:
        return None
    sql, params = episodes_query(con, (), filters.selection, select="release_id, person_id")
    programmes = {s.value: s for s in subjects if s.kind == "program"}
    if not programmes:
        return subjects[0]
    params = {**params, "shown_programs": list(programmes)}
    leader = con.execute(
        f"""
        WITH chosen AS ({sql})
        SELECT p.program_id
        FROM programs p LEFT JOIN participation pa
          ON pa.program_id = p.program_id
         AND (pa.release_id IN (SELECT release_id FROM chosen)
              OR (pa.release_id IS NULL AND pa.person_id IN (SELECT person_id FROM chosen)))
        WHERE list_contains($shown_programs, p.program_id)
        GROUP BY p.program_id
        ORDER BY count(pa.program_id) DESC, p.program_id
        LIMIT 1
        """,
        params,
    ).fetchone()
    return programmes.get(leader[0]) if leader else subjects[0]


def linked_subject(subjects: tuple[Subject, ...], params: Mapping[str, object]
                   ) -> tuple[Subject | None, tuple[Rejection, ...]]:
    """The subject a link names (``?program=``, ``?project=`` or ``?funder=``), if any.

    Returns the first of :data:`SUBJECT_KINDS` present whose value is one of
    ``subjects``, and a :class:`~analysis.views.filters.Rejection` (``used=None``: the
    page names what it shows instead) for every value present that is not.

    Examples
    --------
    >>> metal = Subject("program", "VOC-METAL", "VOC-METAL — Metalwork")
    >>> linked_subject((metal,), {"program": "VOC-METAL"})
    (Subject(kind='program', value='VOC-METAL', label='VOC-METAL — Metalwork'), ())
    >>> linked_subject((metal,), {"funder": "Nobody"})[1]
    (Rejection(field='funder', value='Nobody', used=None),)
    """
    found, unknown = None, []
    for kind in SUBJECT_KINDS:
        value = params.get(kind)
        if isinstance(value, list | tuple):  # repeated parameters: the last counts
            value = value[-1] if value else None
        if value is None or str(value) == "":
            continue
        match = next((s for s in subjects if (s.kind, s.value) == (kind, str(value))), None)
        if match is None:
            unknown.append(Rejection(kind, str(value), None))
        elif found is None:
            found = match
    return found, tuple(unknown)


@dataclass(frozen=True)
class Headline:
    """The numbers of an evaluation's headline; :func:`headline_text` words them.

    ``participants_with_outcomes`` is the label (``"<k"``) when disclosure control hides
    it, so that no language can write the number.
    """

    participant_rate: float
    comparison_rate: float
    difference_lower: float
    difference_upper: float
    horizon_days: int
    verdict: Verdict
    participants_with_outcomes: int | str


def _headline(result: ImpactResult) -> Headline:
    """The headline numbers of a published result (:func:`for_publication`)."""
    part, comp = result.participants, result.comparison
    return Headline(part.rate, comp.rate, result.difference.lower, result.difference.upper,
                    result.horizon_days, result.verdict,
                    result.hidden_labels.get("participants_with_outcomes", part.with_outcome))


def headline_text(headline: Headline | None, language: str = "en") -> str:
    """The plain-words headline in ``language`` (``""`` for none)."""
    if headline is None:
        return ""
    return impact_sentence(
        participant_rate=headline.participant_rate, comparison_rate=headline.comparison_rate,
        difference_lower=headline.difference_lower, difference_upper=headline.difference_upper,
        horizon_days=headline.horizon_days, verdict=headline.verdict,
        participants_with_outcomes=headline.participants_with_outcomes, language=language)


#: The effect measures of :func:`~analysis.impact.publication.estimates_table` -> codes
#: (their words: :data:`analysis.views.words.CELLS`).
_MEASURE_CODES = {
    "difference in rate (percentage points)": "rate_difference",
    "hazard ratio": "hazard_ratio",
    "difference in days free of reoffending": "days_free_difference",
    "difference in reoffences per 100 people": "reoffences_per_100_difference",
}
def _coded_estimates(result: ImpactResult) -> pd.DataFrame:
    """The estimates with their measure as a code (worded by
    :func:`analysis.views.words.render_table`)."""
    table = estimates_table(result)
    table["measure"] = [_MEASURE_CODES.get(m, m) for m in table["measure"]]
    return table


def _coded_rates(result: ImpactResult, policy, hidden) -> pd.DataFrame:
    """Both groups' rates, the reoffenders' column under the code ``reoffended``."""
    table = rates_table(result, policy, hidden)
    return table.rename(columns={c: "reoffended" for c in table.columns
                                 if str(c).startswith("reoffended ")})


@dataclass(frozen=True)
class ImpactView:
    """What the Impact page shows, disclosure-controlled and language-free.

    Numbers and codes only: the headline as its numbers (:class:`Headline`, worded by
    :func:`headline_text`), the rules' verdict and the notes as
    :class:`~analysis.impact.rules.Reason` codes (:func:`reason_texts`), the attrition
    steps as codes (:func:`attrition_rows`), the cost as its numbers
    (:func:`cost_text`), the estimates' measures as codes. One
    stored result serves every language.

    When the evaluation cannot run (no participants in the selection, a project mixing
    custody and post-release programmes...), ``error`` says why and the tables are empty.
    When the result is not reportable (fewer than 60 participants with outcomes),
    ``rates``, ``estimates`` and ``curves`` are empty and the verdict's reasons explain it.
    """

    label: str
    horizon_days: int
    method: str
    event_types: tuple[str, ...]
    headline: Headline | None
    reportable: bool
    significant: bool
    verdict: Verdict | None
    small_sample: bool
    notes: tuple[Reason, ...]
    rates: pd.DataFrame
    estimates: pd.DataFrame
    curves: pd.DataFrame
    balance: pd.DataFrame
    overlap: pd.DataFrame
    attrition: pd.DataFrame
    cost: CostEffectiveness | None
    comparison_rate: float | None
    participants_with_outcomes: int | None  # None when hidden (disclosure control)
    error: str | None = None
    #: Which covariates were adjusted for, and which were left out and why.
    adjustment: Adjustment | None = None

    @property
    def ok(self) -> bool:
        return self.error is None


def reason_texts(verdict: Verdict | None, language: str = "en") -> list[str]:
    """The rules' reasons of a verdict in ``language`` (none without a verdict)."""
    return [] if verdict is None else verdict_reasons(verdict, language)


def note_texts(notes, language: str = "en") -> list[str]:
    """Notes on who was compared (:class:`~analysis.impact.rules.Reason`) in ``language``."""
    return [reason_text(note, language) for note in notes]


def attrition_rows(view: ImpactView, language: str = "en") -> pd.DataFrame:
    """The attrition steps in ``language``: ``step, participants, comparison, note``."""
    if view.attrition.empty:
        return view.attrition
    return attrition_table(view.attrition, language)


def balance_rows(view: ImpactView, language: str = "en") -> pd.DataFrame:
    """The balance in ``language``: ``covariate`` (in words), ``smd_before``, ``smd_after``.

    The covariates are worded by :func:`analysis.views.terms.term_label`
    (``age_at_release`` -> "age at release", ``sex[F]`` -> "sex: female"), for the
    balance chart and its table.

    Examples
    --------
    >>> import dataclasses
    >>> view = dataclasses.replace(_empty("VOC", 365, ""), balance=pd.DataFrame(
    ...     {"covariate": ["age_at_release", "sex[F]"], "smd_before": [0.3, -0.2],
    ...      "smd_after": [0.02, 0.01]}))
    >>> balance_rows(view, "fr")["covariate"].tolist()
    ['âge à la libération', 'sexe : femme']
    """
    balance = view.balance
    if balance.empty:
        return balance
    return balance.assign(covariate=[term_label(str(term), language)
                                     for term in balance["covariate"]])


def cost_text(cost: CostEffectiveness | None, language: str = "en") -> str | None:
    """The cost statement in ``language`` (None when no cost is shown)."""
    return None if cost is None else cost_statement(cost, language)


def _empty(label: str, horizon: int, error: str) -> ImpactView:
    nothing = pd.DataFrame()
    return ImpactView(label, horizon, "match", (), None, False, False, None, False, (),
                      nothing, nothing, nothing, nothing, nothing, nothing, None, None, 0,
                      error)


def _prepare(con, filters: ViewFilters, subject: Subject, horizon_days: int,
             covariates: tuple[str, ...] | None = None) -> PreparedEvaluation:
    """The cohort and propensity score both methods start from (built once per page);
    ``covariates`` ``None`` is the default adjustment set."""
    return ImpactEvaluation(
        **subject.arguments(), horizon_days=horizon_days,
        outcome=filters.outcome, selection=filters.selection, covariates=covariates,
    ).prepare(con)


@serves("impact")
def impact_covariates(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> tuple[str, ...]:
    """Every covariate an evaluation may adjust for (the Impact page's choice): the
    release fields, the derived ones and the dataset's extra covariates, by name.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> "prior_convictions" in impact_covariates(con, ViewFilters())
    True
    """
    return resolve_covariates(con).available


def _subject(kind: str, value: str) -> Subject:
    if kind not in SUBJECT_KINDS:
        raise AnalysisError(f"kind must be one of {', '.join(SUBJECT_KINDS)}, not {kind!r}")
    return Subject(kind, value, value if kind == "program" else f"{kind} {value}")


@serves("impact")
def impact(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *, kind: str = "program",
           value: str, horizon_days: int = 365,
           covariates: tuple[str, ...] | None = None) -> ImpactView:
    """The primary (matched) impact evaluation of a programme, project or funder.

    Parameters
    ----------
    kind, value
        ``("program", "VOC-METAL")``, ``("project", "Skills for Work")`` or
        ``("funder", "Global Fund")``.
    horizon_days
        Follow-up horizon of the headline rate: one of
        :data:`~analysis.constants.DEFAULT_HORIZONS`.
    covariates
        The adjustment set (``None``: the default set; an unknown name is the error).
    """
    subject = _subject(kind, value)
    try:
        prepared = _prepare(con, filters, subject, horizon_days, covariates)
    except AnalysisError as exc:
        return _empty(subject.label, horizon_days, str(exc))
    return _matched_view(_method_result(prepared, "match"), subject, filters, horizon_days)


def _method_result(prepared: PreparedEvaluation, method: str) -> ImpactResult | AnalysisError:
    """The evaluation by ``method``, or the reason it could not run."""
    try:
        return prepared.result(method)
    except AnalysisError as exc:
        return exc


def _matched_view(result: ImpactResult | AnalysisError, subject: Subject, filters: ViewFilters,
                  horizon_days: int) -> ImpactView:
    policy = filters.policy
    if isinstance(result, AnalysisError):
        return _empty(subject.label, horizon_days, str(result))
    reportable = result.reportable
    shown = for_publication(result, policy)
    hidden = hidden_counts(result, policy)
    return ImpactView(
        label=result.program,
        horizon_days=result.horizon_days,
        method=result.method,
        event_types=result.event_types,
        headline=_headline(shown),
        reportable=reportable,
        significant=result.significant,
        verdict=shown.verdict,
        small_sample=policy.is_small(result.counts["eligible"]),
        notes=tuple(shown.notes),
        rates=_coded_rates(result, policy, hidden) if reportable else pd.DataFrame(),
        estimates=_coded_estimates(result) if reportable else pd.DataFrame(),
        curves=shown.curves if reportable else pd.DataFrame(),
        balance=result.balance[["covariate", "smd_before", "smd_after"]].copy(),
        overlap=shown.overlap,
        attrition=shown.attrition,
        cost=result.cost if cost_shown(result, policy, hidden) else None,
        comparison_rate=result.comparison.rate if reportable else None,
        participants_with_outcomes=None if ("participants", "with_outcome") in hidden
        else result.counts["participants_with_outcomes"],
        adjustment=result.adjustment,
    )


@dataclass(frozen=True)
class Sensitivity:
    """The inverse-probability-weighted (IPTW) result beside the matched one (numbers
    and codes: :func:`headline_text`, :func:`note_texts`)."""

    headline: Headline | None
    reportable: bool
    estimates: pd.DataFrame
    error: str | None = None
    notes: tuple[Reason, ...] = field(default=())


@serves("impact")
def impact_sensitivity(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                       kind: str = "program", value: str, horizon_days: int = 365,
                       covariates: tuple[str, ...] | None = None) -> Sensitivity:
    """The same evaluation with inverse-probability weighting (the sensitivity method).

    The Impact page gets it with the matched result from :func:`impact_page`.
    """
    subject = _subject(kind, value)
    try:
        prepared = _prepare(con, filters, subject, horizon_days, covariates)
    except AnalysisError as exc:
        return Sensitivity(None, False, pd.DataFrame(), str(exc))
    return _weighted_view(_method_result(prepared, "iptw"), filters)


def _weighted_view(result: ImpactResult | AnalysisError, filters: ViewFilters) -> Sensitivity:
    if isinstance(result, AnalysisError):
        return Sensitivity(None, False, pd.DataFrame(), str(result))
    estimates = _coded_estimates(result) if result.reportable else pd.DataFrame()
    shown = for_publication(result, filters.policy)
    return Sensitivity(_headline(shown), result.reportable, estimates,
                       notes=tuple(shown.notes))


@dataclass(frozen=True)
class ImpactPage:
    """Everything the Impact page computes: the matched result and the weighted one."""

    primary: ImpactView
    sensitivity: Sensitivity


@serves("impact")
def impact_page(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *, kind: str = "program",
                value: str, horizon_days: int = 365,
                covariates: tuple[str, ...] | None = None) -> ImpactPage:
    """:func:`impact` and :func:`impact_sensitivity` together, as the Impact page shows them.

    Both methods start from the same cohort and propensity model, the slow part on a
    large database, so the page asks for them together and they are built once. The
    results are those of the two views called separately, and the same in every
    language (the page words them): the importer stores one per subject
    (:mod:`analysis.views.stored`).
    """
    subject = _subject(kind, value)
    try:
        prepared = _prepare(con, filters, subject, horizon_days, covariates)
    except AnalysisError as exc:
        return ImpactPage(_empty(subject.label, horizon_days, str(exc)),
                          Sensitivity(None, False, pd.DataFrame(), str(exc)))
    return ImpactPage(
        _matched_view(_method_result(prepared, "match"), subject, filters, horizon_days),
        _weighted_view(_method_result(prepared, "iptw"), filters))


def _report_context(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> ReportContext:
    """The sidebar's selection and the data's date, for a report's title and pages."""
    return ReportContext(filters.selection, data_date(con))


@serves("impact")
def impact_report(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                  kind: str = "program", value: str, horizon_days: int = 365,
                  language: str = "en", covariates: tuple[str, ...] | None = None) -> str:
    """The offline HTML report of the matched evaluation (curves cut at ``k`` at risk).

    Built on demand (the page's download button calls it when clicked), in ``language``
    (a document to hand on, not a stored result): the file inlines the plotting library
    and weighs about 5 MB. The report hides counts below ``k`` the
    same way as the page (:func:`analysis.impact.publication.for_publication`), and
    names the sidebar's selection and the data's date under its title.
    """
    result = _prepare(con, filters, _subject(kind, value), horizon_days,
                      covariates).result("match")
    return build_report_html(result, policy=filters.policy, language=language,
                             context=_report_context(con, filters))


@serves("impact")
def impact_report_pdf(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                      kind: str = "program", value: str, horizon_days: int = 365,
                      language: str = "en",
                      covariates: tuple[str, ...] | None = None) -> bytes:
    """:func:`impact_report` as an A4 PDF (static charts, numbered pages, each with the
    selection and the data's date): :func:`analysis.impact.report.build_report_pdf`.

    Raises :class:`analysis.pdf_report.PdfUnavailable` when Playwright or Chromium is
    missing (the message says what to install).
    """
    result = _prepare(con, filters, _subject(kind, value), horizon_days,
                      covariates).result("match")
    return build_report_pdf(result, policy=filters.policy, language=language,
                            context=_report_context(con, filters))


@serves("impact")
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
