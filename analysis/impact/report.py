"""The donor's impact report: an offline, printable HTML file built from an :class:`ImpactResult`.

Every word is rendered in the report's language through :mod:`analysis.i18n`
(catalogs ``report.json`` for the report's own titles, headers and captions,
``results.json`` for the headline, the rules, the notes and the cost statement);
numbers use the language's separators (:meth:`~analysis.i18n.Translator.number`).
What comes from the data (programme codes and names, facilities, categories) is
shown as it is.
"""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis.charts import balance_plot, overlap_plot, step_curves
from analysis.disclosure import DisclosurePolicy
from analysis.html_report import Section, render_html
from analysis.i18n import N_, Translator, translator
from analysis.i18n.vocabulary import outcome_words
from analysis.impact.cost import cost_statement
from analysis.impact.evaluation import ImpactResult
from analysis.impact.publication import estimates_table, for_publication, rates_table
from analysis.impact.report_context import ReportContext
from analysis.impact.rules import ALPHA, MIN_OUTCOMES_PER_GROUP, MIN_PARTICIPANTS, Reason
from analysis.impact.wording import (
    SMALL_SAMPLE,
    attrition_table,
    covariate_words,
    horizon_words,
    reason_text,
)

#: The method, for a reader who will not open docs/impact.md.
METHOD_NOTES = (
    N_("Participants are compared with people released from the same facilities in the same "
       "period who did not take part. A propensity score (logistic regression on recorded "
       "characteristics: by default age, sex, prior convictions, offense, sentence length, "
       "facility, release year and every further covariate of the dataset known for at "
       "least 80% of the people compared) describes how "
       "likely each person was to take part; each participant is matched to the "
       "non-participant with the closest score, within 0.2 standard deviations of its logit "
       "(primary method). Inverse-probability weighting is the sensitivity method."),
    N_("Reoffending rates are Kaplan–Meier estimates, so people whose follow-up is still short "
       "count for the time they were observed. The hazard ratio comes from a Cox model in the "
       "compared sample, adjusted for the same covariates, with robust standard errors."),
    N_("Participants and comparison people can still differ in ways the records do not show "
       "(motivation, family support). The comparison removes differences in the recorded "
       "characteristics only."),
)

#: Measure of :func:`~analysis.impact.publication.estimates_table` -> (its words, format).
_MEASURES = {
    "difference in rate (percentage points)": (
        N_("Difference in rate (percentage points)"), 1, True),
    "hazard ratio": (N_("Hazard ratio"), 2, False),
    "difference in days free of reoffending": (
        N_("Difference in days free of reoffending"), 0, True),
    "difference in reoffences per 100 people": (
        N_("Difference in reoffences per 100 people"), 1, True),
}

_GROUPS = {"participants": N_("Participants"), "comparison": N_("Comparison")}
_METHODS = {"match": N_("matching"), "iptw": N_("inverse-probability weighting")}
_MISSING = "–"


def _pct(value: float | None, tr: Translator) -> str:
    return _MISSING if value is None or pd.isna(value) else tr.percent(value, 1)


def _signed(value: float, digits: int, tr: Translator) -> str:
    text = tr.number(value, digits)
    return f"+{text}" if round(value, digits) > 0 else text


def _count(value, tr: Translator) -> str:
    """A count, or the label of a hidden one ("hidden" in the report's language)."""
    if isinstance(value, str) and not value.isdigit():
        return tr(N_("hidden")) if value == "hidden" else value
    return tr.number(int(value))


def _rates_table(result: ImpactResult, policy: DisclosurePolicy, tr: Translator) -> pd.DataFrame:
    rates = rates_table(result, policy)
    reoffended = rates.columns[2]
    when = horizon_words(result.horizon_days, language=tr.language)
    return pd.DataFrame({
        tr("Group"): [tr(_GROUPS[g]) for g in rates["group"]],
        tr("Number of people"): [_count(v, tr) for v in rates["people"]],
        tr("Who reoffended {when}", when=when): [_count(v, tr) for v in rates[reoffended]],
        tr("Share who reoffended {when}", when=when): [_pct(v, tr) for v in rates["rate"]],
        tr("95% confidence interval"): [
            _MISSING if pd.isna(lo) else tr("{low} to {high}", low=_pct(lo, tr),
                                            high=_pct(hi, tr))
            for lo, hi in zip(rates["rate_lower"], rates["rate_upper"], strict=True)],
        tr("Days free of reoffending (mean)"): [
            _MISSING if pd.isna(d) else tr.number(d) for d in rates["days_free_mean"]],
    })


def _p_value(p: float | None, tr: Translator) -> str:
    if p is None or pd.isna(p):
        return _MISSING
    return f"<{tr.number(0.001, 3)}" if p < 0.001 else tr.number(p, 3)


def _estimates_table(result: ImpactResult, tr: Translator) -> pd.DataFrame:
    rows = []
    for row in estimates_table(result).itertuples(index=False):
        words, digits, signed = _MEASURES[row.measure]

        def fmt(value: float, digits=digits, signed=signed) -> str:
            return _signed(value, digits, tr) if signed else tr.number(value, digits)

        rows.append((tr(words), fmt(row.estimate),
                     tr("{low} to {high}", low=fmt(row.lower), high=fmt(row.upper)),
                     _p_value(row.p, tr)))
    return pd.DataFrame(rows, columns=[tr("Measure"), tr("Point estimate"),
                                       tr("95% confidence interval"), "p"])


def _attrition_table(result: ImpactResult, tr: Translator) -> pd.DataFrame:
    table = attrition_table(result.attrition, tr.language)
    return pd.DataFrame({
        tr("Step"): table["step"],
        tr("Participants"): [_count(v, tr) for v in table["participants"]],
        tr("Comparison"): [_count(v, tr) for v in table["comparison"]],
        tr("Note"): table["note"],
    })


def _balance(result: ImpactResult, tr: Translator) -> tuple[pd.DataFrame, pd.DataFrame]:
    """(the balance table as shown, the balance with covariates in words for the chart)."""
    balance = result.balance.assign(covariate=[
        covariate_words(term, tr.language) for term in result.balance["covariate"]])
    table = pd.DataFrame({
        tr("Characteristic"): balance["covariate"],
        tr("Before adjustment"): [tr.number(v, 3) for v in balance["smd_before"]],
        tr("After adjustment"): [tr.number(v, 3) for v in balance["smd_after"]],
    })
    return table, balance


def method_notes(tr: Translator) -> tuple[str, ...]:
    """The method section's paragraphs in ``tr``'s language (the single and the portfolio
    reports share them)."""
    rules = tr.plural(
        "Rules: no result is reported for fewer than {n} participant with outcomes; a "
        "difference is called significant only when p ≤ {alpha} and each group has at least "
        "{outcomes} people who reoffended.",
        "Rules: no result is reported for fewer than {n} participants with outcomes; a "
        "difference is called significant only when p ≤ {alpha} and each group has at least "
        "{outcomes} people who reoffended.",
        MIN_PARTICIPANTS, alpha=tr.number(ALPHA, 2), outcomes=MIN_OUTCOMES_PER_GROUP)
    return (tr(METHOD_NOTES[0]), tr(METHOD_NOTES[1]), rules, tr(METHOD_NOTES[2]))


def report_subtitle(tr: Translator, event_types: tuple[str, ...], horizon_days: int,
                    method: str) -> str:
    """The line under a report's title: outcome, horizon, method and the day it was made."""
    return tr("Outcome: {events} · {horizon} · method: {method} · {date}",
              events=outcome_words(tuple(event_types), tr.language),
              horizon=tr.plural("horizon {n} day", "horizon {n} days", horizon_days),
              method=tr(_METHODS.get(method, method)),
              date=dt.date.today().isoformat())


def build_report_html(result: ImpactResult, *, policy: DisclosurePolicy | None = None,
                      language: str = "en", context: ReportContext | None = None,
                      static: bool = False) -> str:
    """The complete HTML report in ``language`` (en, fr, ar, ru, sr), safe to hand to a donor.

    Curves stop where fewer than ``k`` people remain at risk, and every count of 1 to
    ``k - 1`` people is shown as ``"<k"`` (:func:`analysis.impact.publication.for_publication`).

    Parameters
    ----------
    result : ImpactResult
        A fitted evaluation (:meth:`ImpactEvaluation.fit`), as computed: the minimum
        cell size is applied here. The tables, estimates and curves are shown only when
        the rules allow the result to be reported (``result.reportable``); the
        attrition, balance and method sections always are.
    policy : DisclosurePolicy, optional
        Minimum cell size ``k`` and small-sample threshold (default
        ``DisclosurePolicy()``: ``k`` = 10). A ``k`` below 5 is refused
        (:class:`~analysis.errors.AnalysisError`): a report is meant for publication.
    language : str, optional
        Language of every word of the report: ``"en"`` (default), ``"fr"``, ``"ar"``
        (right to left), ``"ru"`` or ``"sr"``; any other is refused (``ValueError``).
    context : ReportContext, optional
        The selection and the data's date, written under the title (default: none).
    static : bool, optional
        Charts without toolbar or hover, for printing (:func:`build_report_pdf`).

    Returns
    -------
    str
        A complete, self-contained HTML document (``<html lang=...>``; charts' script
        embedded, so it opens offline), ready to write to a ``.html`` file.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> from analysis.impact.evaluation import ImpactEvaluation
    >>> from analysis.store import connect_readonly
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=1500, seed=1)
    >>> result = ImpactEvaluation(program="VOC-METAL").fit(connect_readonly(db))
    >>> page = build_report_html(result, language="fr")
    >>> page.startswith('<!DOCTYPE html>\\n<html lang="fr">')
    True
    >>> "<h1>Impact de VOC-METAL (Vocational training: metalwork)</h1>" in page
    True
    >>> build_report_html(result, policy=DisclosurePolicy(k=3))
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: the minimum cell size k must be at least 5, not 3: counts of fewer than 5 people may not leave the analyst's desk
    """
    tr = translator(language)
    policy = policy or DisclosurePolicy()
    result = for_publication(result, policy)  # also cuts the curves at k at risk
    warnings = result.reasons(language)
    if result.counts["eligible"] < policy.small_sample:
        warnings.append(reason_text(Reason(SMALL_SAMPLE, {"minimum": policy.small_sample}),
                                    language))
    reportable = result.reportable
    sections = [
        Section(
            tr("Result"),
            headline=result.headline(language),
            warnings=tuple(warnings),
            tables=((tr("Reoffending"), _rates_table(result, policy, tr)),
                    (tr("Estimates"), _estimates_table(result, tr))) if reportable else (),
            figures=(step_curves(result.curves, value="recidivism", series_codes=True,
                                 title=tr("Share who reoffended, by days since release"),
                                 language=language),) if reportable else (),
        ),
    ]
    if result.cost is not None:
        sections.append(Section(tr("Cost-effectiveness"),
                                paragraphs=(cost_statement(result.cost, language),)))
    sections.append(Section(
        tr("Who was compared, step by step"),
        paragraphs=tuple(result.note_texts(language)),
        tables=((tr("Attrition at every step"), _attrition_table(result, tr)),),
    ))
    table, balance = _balance(result, tr)
    sections.append(Section(
        tr("Balance of the comparison"),
        paragraphs=(tr("Standardized mean differences of each characteristic between "
                       "participants and the comparison group, before and after adjustment; "
                       "below {threshold} counts as balanced.", threshold=tr.number(0.1, 1)),),
        tables=((tr("Standardized mean differences"), table),),
        figures=(balance_plot(balance, language=language),
                 overlap_plot(result.overlap, language=language)),
    ))
    # Which covariates this evaluation adjusted for, and which it left out and why.
    adjustment = tuple(result.adjustment.describe(language)) if result.adjustment else ()
    sections.append(Section(tr("Method"), paragraphs=(*method_notes(tr), *adjustment)))
    subtitle = report_subtitle(tr, result.event_types, result.horizon_days, result.method)
    return render_html(tr("Impact of {programme}", programme=result.program), sections,
                       subtitle=subtitle, language=language,
                       context=context.lines(language) if context else (), static=static)


def build_report_pdf(result: ImpactResult, *, policy: DisclosurePolicy | None = None,
                     language: str = "en", context: ReportContext | None = None) -> bytes:
    """The report of :func:`build_report_html` as an A4 PDF, for a board meeting.

    The same content and disclosure control, with static charts; every page repeats the
    title, the selection and the data's date, and is numbered
    (:func:`analysis.pdf_report.print_pdf`, which needs Playwright and Chromium).

    Parameters
    ----------
    result, policy, language
        As for :func:`build_report_html`.
    context : ReportContext, optional
        The selection and the data's date (default: every release, no date).

    Returns
    -------
    bytes
        The PDF file.

    Raises
    ------
    analysis.pdf_report.PdfUnavailable
        Playwright or Chromium is missing (the message says what to install).

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> from analysis.impact.evaluation import ImpactEvaluation
    >>> from analysis.store import connect_readonly
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=1500, seed=1)
    >>> result = ImpactEvaluation(program="VOC-METAL").fit(connect_readonly(db))
    >>> build_report_pdf(result, language="sr").startswith(b"%PDF")
    True
    """
    from analysis.pdf_report import PageMargins, print_pdf

    context = context or ReportContext()
    page = build_report_html(result, policy=policy, language=language, context=context,
                             static=True)
    title = translator(language)("Impact of {programme}", programme=result.program)
    return print_pdf(page, PageMargins(context.header(title, language), language))
