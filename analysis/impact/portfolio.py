"""A funder's or project's portfolio: every programme's own evaluation, side by side.

Each programme is evaluated on its own (the same matched comparison as its single
report, :class:`~analysis.impact.evaluation.ImpactEvaluation`), then shown as one row
and one line of a forest plot, as the UK Justice Data Lab publishes its results: the
verdict under the reporting rules (:mod:`analysis.impact.rules`), the cost per
reoffence avoided (:mod:`analysis.impact.cost`) and the notes that limit what may be
said. Pooling the programmes instead would hide which of them works (and a funder's
programmes may mix custody and after-release ones, which need different comparisons).

Disclosure control is that of the single report
(:func:`analysis.impact.publication.for_publication`): a participants' count of 1 to
``k - 1`` (or one that would reveal such a count) is a label, a rate that would reveal
one is missing, the cost goes when the number of participants is hidden, and nothing
but the verdict and its reasons is shown for a result the rules do not report.

:func:`publish_portfolio` keeps codes and numbers only, disclosure-controlled (one
:class:`PublishedPortfolio` serves every language, and the dashboard can cache it);
:func:`portfolio_words` and :func:`forest_rows` write its table in a language.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd

from analysis.disclosure import DisclosurePolicy, published_min_cell
from analysis.errors import AnalysisError
from analysis.i18n import N_, translator
from analysis.impact.evaluation import ImpactResult
from analysis.impact.publication import for_publication, rates_table
from analysis.impact.rules import Reason
from analysis.impact.wording import SECONDARY_LABEL, SMALL_SAMPLE, reason_text

PORTFOLIO_KINDS = ("project", "funder")

#: Status codes of a programme's row -> their words.
STATUS_WORDS = {
    "reduction": N_("Significant reduction in reoffending"),
    "increase": N_("Significant increase in reoffending"),
    "no_difference": N_("No significant difference"),
    "not_reported": N_("Not reported (reporting rules)"),
    "not_evaluated": N_("Could not be evaluated"),
}

_MISSING = "–"


@dataclass(frozen=True)
class PortfolioEntry:
    """One programme of a portfolio: its evaluation, or why it could not run."""

    program_id: str
    name: str
    result: ImpactResult | None
    error: str | None = None


@dataclass(frozen=True)
class Portfolio:
    """The programmes of a project or funder (``kind``), each evaluated on its own."""

    kind: str
    name: str
    horizon_days: int
    entries: tuple[PortfolioEntry, ...]


def portfolio_programmes(con: duckdb.DuckDBPyConnection, kind: str,
                         name: str) -> tuple[tuple[str, str], ...]:
    """``(program_id, name)`` of every programme of project or funder ``name``.

    Examples
    --------
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE programs AS SELECT * FROM (VALUES ('A', 'Alpha', "
    ...     "'Skills', 'EU'), ('B', 'Beta', 'Jobs', 'EU')) t(program_id, name, project, funder)")
    >>> portfolio_programmes(con, "funder", "EU")
    (('A', 'Alpha'), ('B', 'Beta'))
    >>> portfolio_programmes(con, "project", "Health")
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: no programme has project 'Health'; projects: Jobs, Skills
    """
    if kind not in PORTFOLIO_KINDS:
        raise AnalysisError(f"a portfolio is a project or a funder, not {kind!r}")
    # kind is one of two column names, checked above: never text from the caller
    rows = con.execute(f"SELECT program_id, name FROM programs WHERE {kind} = ? "
                       "ORDER BY program_id", [name]).fetchall()
    if not rows:
        known = [r[0] for r in con.execute(
            f"SELECT DISTINCT {kind} FROM programs WHERE {kind} IS NOT NULL ORDER BY 1"
        ).fetchall()]
        raise AnalysisError(f"no programme has {kind} '{name}'; {kind}s: "
                            f"{', '.join(known) or 'none imported'}")
    return tuple((str(pid), str(label)) for pid, label in rows)


def evaluate_portfolio(con: duckdb.DuckDBPyConnection, kind: str, name: str, *,
                       horizon_days: int,
                       evaluate: Callable[[str], ImpactResult]) -> Portfolio:
    """Evaluate every programme of project or funder ``name`` with ``evaluate(program_id)``.

    ``evaluate`` is the single report's evaluation (the same outcome, selection,
    horizon and method for every programme); a programme it refuses
    (:class:`~analysis.errors.AnalysisError`: no participant in the selection...) gets
    a row saying why.
    """
    entries = []
    for program_id, label in portfolio_programmes(con, kind, name):
        try:
            entries.append(PortfolioEntry(program_id, label, evaluate(program_id)))
        except AnalysisError as exc:
            entries.append(PortfolioEntry(program_id, label, None, str(exc)))
    return Portfolio(kind, name, horizon_days, tuple(entries))


@dataclass(frozen=True)
class PublishedPortfolio:
    """A portfolio as it may leave the analyst's desk: :func:`portfolio_table` under
    ``min_cell``, and what every programme was evaluated with (outcome, method)."""

    kind: str
    name: str
    horizon_days: int
    event_types: tuple[str, ...]
    method: str
    min_cell: int
    table: pd.DataFrame


def publish_portfolio(portfolio: Portfolio, policy: DisclosurePolicy) -> PublishedPortfolio:
    """The portfolio's table under ``policy``, with the evaluations' outcome and method.

    A ``k`` below the publication floor is refused, as for every report, even when no
    programme could be evaluated.
    """
    published_min_cell(policy.k, setting="the minimum cell size k", unsafe_option=None)
    evaluated = [e.result for e in portfolio.entries if e.result is not None]
    event_types = tuple(evaluated[0].event_types) if evaluated else ()
    method = evaluated[0].method if evaluated else "match"
    return PublishedPortfolio(portfolio.kind, portfolio.name, portfolio.horizon_days,
                              event_types, method, policy.k, portfolio_table(portfolio, policy))


def _status(result: ImpactResult) -> str:
    if not result.reportable:
        return "not_reported"
    if not result.significant:
        return "no_difference"
    return "reduction" if result.difference.estimate < 0 else "increase"


def _row(entry: PortfolioEntry, policy: DisclosurePolicy) -> dict:
    row: dict[str, object] = {
        "program_id": entry.program_id, "name": entry.name, "participants": _MISSING,
        **dict.fromkeys(("participant_rate", "comparison_rate", "difference",
                         "difference_lower", "difference_upper", "hr", "hr_lower",
                         "hr_upper", "cost_per_reoffence_avoided", "cost_lower",
                         "cost_upper"), np.nan),
        "currency": None, "cost": "none", "notes": (), "error": entry.error,
    }
    if entry.result is None:
        return {**row, "status": "not_evaluated"}
    result = entry.result
    shown = for_publication(result, policy)
    notes = list(shown.verdict.reasons)
    if policy.is_small(result.counts["eligible"]):
        notes.append(Reason(SMALL_SAMPLE, {"minimum": policy.small_sample}))
    row.update(status=_status(result), notes=tuple(notes))
    rates = rates_table(result, policy)
    row["participants"] = str(rates["people"].iloc[0])
    if not result.reportable:
        return row
    d, hr = result.difference, result.hazard_ratio
    row.update(participant_rate=rates["rate"].iloc[0], comparison_rate=rates["rate"].iloc[1],
               difference=100 * d.estimate, difference_lower=100 * d.lower,
               difference_upper=100 * d.upper, hr=hr.estimate, hr_lower=hr.lower,
               hr_upper=hr.upper)
    cost = shown.cost  # None when it would reveal a hidden number of participants
    if cost is not None:
        row["currency"] = cost.currency
        if cost.cost_per_reoffence_avoided is not None and cost.cost_per_reoffence_avoided_range:
            low, high = cost.cost_per_reoffence_avoided_range
            row.update(cost="shown", cost_per_reoffence_avoided=cost.cost_per_reoffence_avoided,
                       cost_lower=low, cost_upper=np.nan if high is None else high)
        else:
            row["cost"] = "no_reduction"
    return row


def portfolio_table(portfolio: Portfolio, policy: DisclosurePolicy) -> pd.DataFrame:
    """One row per programme, disclosure-controlled, in codes and numbers.

    Columns: ``program_id, name, participants`` (text: a count or its label),
    ``participant_rate, comparison_rate`` (shares), ``difference, difference_lower,
    difference_upper`` (percentage points), ``hr, hr_lower, hr_upper``,
    ``cost_per_reoffence_avoided, cost_lower, cost_upper, currency``, ``cost``
    (``shown``, ``no_reduction``: no reduction shown, so no cost per reoffence avoided,
    or ``none``: no cost recorded or hidden), ``notes`` (:class:`Reason` tuples),
    ``error`` (why a programme could not be evaluated) and ``status``
    (:data:`STATUS_WORDS`). Numbers are missing where the rules or the minimum cell size
    withhold them.
    """
    return pd.DataFrame([_row(entry, policy) for entry in portfolio.entries])


def _interval(value: float, low: float, high: float, fmt: Callable[[float], str],
              tr) -> str:
    """"-2.4 (-3.5 to -1.2)"; each number isolated in a right-to-left language, so its
    minus sign stays in front of it."""
    if pd.isna(value):
        return _MISSING
    if pd.isna(low) or pd.isna(high):
        return fmt(value)
    return tr("{estimate} ({low} to {high})", estimate=fmt(value), low=fmt(low),
              high=fmt(high))


def _people(value: object, tr) -> str:
    """A count in the language's digits, its label ("<10"), or "hidden" in words."""
    text = str(value)
    if text.isdigit():
        return tr.number(int(text))
    return tr(SECONDARY_LABEL) if text == SECONDARY_LABEL else text


def _signed(value: float, tr) -> str:
    text = tr.number(value, 1)
    return f"+{text}" if round(value, 1) > 0 else text


def _cost_words(row, tr) -> str:
    if row.cost == "shown":
        # the currency once, after the estimate: "4,007 EUR (2,670 to 8,025)"
        def money(value: float) -> str:
            return _MISSING if pd.isna(value) else tr.number(value)

        return tr("{estimate} ({low} to {high})",
                  estimate=f"{money(row.cost_per_reoffence_avoided)} {row.currency}",
                  low=money(row.cost_lower), high=money(row.cost_upper))
    if row.cost == "no_reduction":
        return tr("none: no reduction shown")
    return _MISSING


def note_words(row, language: str = "en") -> str:
    """A row's notes in ``language``, one sentence after the other."""
    tr = translator(language)
    texts = [reason_text(reason, language) for reason in row.notes]
    if row.error:
        # the evaluation's own message (it names the programme and the cause)
        texts.append(tr("Why: {reason}", reason=row.error))
    return " ".join(texts)


def portfolio_words(table: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """:func:`portfolio_table` as a reader sees it, in ``language``.

    Examples
    --------
    >>> table = pd.DataFrame([{"program_id": "A", "name": "Alpha", "participants": "<10",
    ...     "participant_rate": np.nan, "comparison_rate": np.nan, "difference": np.nan,
    ...     "difference_lower": np.nan, "difference_upper": np.nan, "hr": np.nan,
    ...     "hr_lower": np.nan, "hr_upper": np.nan, "cost": "none", "currency": None,
    ...     "cost_per_reoffence_avoided": np.nan, "cost_lower": np.nan, "cost_upper": np.nan,
    ...     "notes": (), "error": None, "status": "not_reported"}])
    >>> portfolio_words(table, "fr").iloc[0].tolist()[:4]
    ['A', 'Alpha', '<10', 'Non publié (règles de publication)']
    """
    tr = translator(language)

    def pct(value: float) -> str:
        return _MISSING if pd.isna(value) else tr.percent(value, 1)

    def ratio(value: float) -> str:
        return tr.number(value, 2)

    rows = []
    for row in table.itertuples(index=False):
        rows.append((row.program_id, row.name, _people(row.participants, tr),
                     tr(STATUS_WORDS[row.status]),
                     pct(row.participant_rate), pct(row.comparison_rate),
                     _interval(row.difference, row.difference_lower, row.difference_upper,
                               lambda v: _signed(v, tr), tr),
                     _interval(row.hr, row.hr_lower, row.hr_upper, ratio, tr),
                     _cost_words(row, tr), note_words(row, language)))
    return pd.DataFrame(rows, columns=[
        tr("Programme"), tr("Name"), tr("Participants"), tr("Verdict"),
        tr("Participants who reoffended"), tr("Comparison who reoffended"),
        tr("Difference (percentage points, 95% CI)"), tr("Hazard ratio (95% CI)"),
        tr("Cost per reoffence avoided"), tr("Notes")])


def portfolio_numbers(table: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """:func:`portfolio_table` for computing: headers and verdicts in ``language``,
    numbers as numbers (shares, percentage points, ratios, money), each bound of a 95%
    interval in its own column. Counts stay text (``"<10"`` where hidden).

    Examples
    --------
    >>> table = pd.DataFrame([{"program_id": "A", "name": "Alpha", "participants": "1200",
    ...     "participant_rate": .3, "comparison_rate": .35, "difference": -5.0,
    ...     "difference_lower": -7.0, "difference_upper": -3.0, "hr": .8, "hr_lower": .7,
    ...     "hr_upper": .9, "cost": "none", "currency": None, "cost_per_reoffence_avoided":
    ...     np.nan, "cost_lower": np.nan, "cost_upper": np.nan, "notes": (), "error": None,
    ...     "status": "reduction"}])
    >>> shown = portfolio_numbers(table, "fr")
    >>> shown.columns[7], float(shown.iloc[0, 7])
    ('Différence (points de pourcentage) : borne inférieure à 95 %', -7.0)
    """
    tr = translator(language)
    difference, ratio, cost = (tr("Difference (percentage points)"), tr("Hazard ratio"),
                               tr("Cost per reoffence avoided"))

    def bounds(measure: str, column: str) -> dict:
        return {tr("{measure}: lower 95% limit", measure=measure): table[f"{column}_lower"],
                tr("{measure}: upper 95% limit", measure=measure): table[f"{column}_upper"]}

    return pd.DataFrame({
        tr("Programme"): table["program_id"], tr("Name"): table["name"],
        tr("Participants"): [_people(v, tr) for v in table["participants"]],
        tr("Verdict"): [tr(STATUS_WORDS[code]) for code in table["status"]],
        tr("Participants who reoffended"): table["participant_rate"],
        tr("Comparison who reoffended"): table["comparison_rate"],
        difference: table["difference"], **bounds(difference, "difference"),
        ratio: table["hr"], **bounds(ratio, "hr"),
        cost: table["cost_per_reoffence_avoided"], **bounds(cost, "cost"),
        tr("Currency"): table["currency"],
        tr("Notes"): [note_words(row, language) for row in table.itertuples(index=False)],
    })


def forest_rows(table: pd.DataFrame, language: str = "en") -> pd.DataFrame:
    """One forest-plot line per programme: ``term, hr, hr_lower, hr_upper``.

    A programme whose result is withheld keeps its line, with no estimate and its
    status in its label, so the plot lists every programme of the table. The rows come
    last first: plotly draws the first category at the bottom, and the plot reads
    top-down in the table's order.

    Examples
    --------
    >>> table = pd.DataFrame({"program_id": ["A", "B"], "status": ["reduction",
    ...     "not_reported"], "hr": [0.8, np.nan], "hr_lower": [0.7, np.nan],
    ...     "hr_upper": [0.9, np.nan]})
    >>> forest_rows(table)["term"].tolist()
    ['B – Not reported (reporting rules)', 'A']
    """
    tr = translator(language)
    terms = [pid if not pd.isna(hr) else f"{pid} – {tr(STATUS_WORDS[status])}"
             for pid, hr, status in zip(table["program_id"], table["hr"], table["status"],
                                        strict=True)]
    rows = pd.DataFrame({"term": terms, "hr": table["hr"], "hr_lower": table["hr_lower"],
                         "hr_upper": table["hr_upper"]})
    return rows.iloc[::-1].reset_index(drop=True)
