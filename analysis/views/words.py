r"""The words of the views' results, rendered at the edge in the reader's language.

Views return numbers and codes: tables keyed by column codes (``"within"``,
``"releases"``), cells holding a code where a word is meant (``"suppressed"``,
``"hidden"``, ``"not_estimable"``), and notes as :class:`Note` (a code and its numbers).
Whoever shows a result renders it here, through the one translation mechanism
(:mod:`analysis.i18n`): the dashboard, and any other front end, in the reader's
language. Stored and cached results are therefore the same in every language.

The English texts are marked with :func:`~analysis.i18n.N_` so that the catalogs
(``analysis/i18n/locales/<lang>/views.json``) translate every one of them.

Examples
--------
>>> table = pd.DataFrame({"release_year": ["2020"], "releases": ["hidden"]})
>>> list(render_table(table, "fr").columns), render_table(table, "fr").iloc[0, 1]
(['Année de libération', 'Libérations'], 'masqué')
>>> render_note(Note("dropped_zero_time", {"count": "<10"}), "en")
'<10 releases followed for zero days are left out of the models with time-varying programmes.'
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from analysis.contract import COMPETING_END_REASONS
from analysis.i18n import N_, translator
from analysis.i18n.vocabulary import (  # noqa: F401 - re-exported for the views and CLI
    EVENT_WORDS,
    event_words,
    joining_translator,
    or_list,
    outcome_words,
)
from analysis.impact.rules import Reason
from analysis.impact.wording import SECONDARY_LABEL, reason_text
from analysis.views.terms import VALUE_WORDS, value_label

#: Column code -> its header (English msgid). A column not named here keeps its name
#: (data columns named by the data, e.g. a covariate).
COLUMNS: dict[str, str] = {
    # Overview
    "within": N_("Within"),
    "km_rate": N_("Reoffended (Kaplan–Meier)"),
    "km_lower": N_("Kaplan–Meier, lower 95% limit"),
    "km_upper": N_("Kaplan–Meier, upper 95% limit"),
    "complete_rate": N_("Reoffended, complete follow-up only"),
    "complete_lower": N_("Complete follow-up, lower 95% limit"),
    "complete_upper": N_("Complete follow-up, upper 95% limit"),
    "complete_n": N_("Releases with complete follow-up"),
    "complete_reoffended": N_("People who reoffended, complete follow-up only"),
    "release_year": N_("Release year"),
    "releases": N_("Releases"),
    "reoffended_365": N_("People who reoffended within 1 year"),
    "rate_365": N_("Reoffended within 1 year"),
    "rate_365_lower": N_("Within 1 year, lower 95% limit"),
    "rate_365_upper": N_("Within 1 year, upper 95% limit"),
    # Recidivism over time
    "group": N_("Group"),
    "reoffended_730": N_("People who reoffended within 2 years"),
    "reoffended_1095": N_("People who reoffended within 3 years"),
    "within_365": N_("Reoffended within 1 year"),
    "within_365_lower": N_("Within 1 year, lower 95% limit"),
    "within_365_upper": N_("Within 1 year, upper 95% limit"),
    "within_730": N_("Reoffended within 2 years"),
    "within_730_lower": N_("Within 2 years, lower 95% limit"),
    "within_730_upper": N_("Within 2 years, upper 95% limit"),
    "within_1095": N_("Reoffended within 3 years"),
    "within_1095_lower": N_("Within 3 years, lower 95% limit"),
    "within_1095_upper": N_("Within 3 years, upper 95% limit"),
    # Subgroups and places
    "sex": N_("Sex"),
    "age_band": N_("Age band"),
    "offense_category": N_("Offense category"),
    "facility": N_("Facility"),
    "release_region": N_("Release region"),
    # Programmes
    "program_id": N_("Programme code"),
    "name": N_("Name"),
    "category": N_("Category"),
    "setting": N_("Setting"),
    "project": N_("Project"),
    "funder": N_("Funder"),
    "participants": N_("Participants"),
    "completed": N_("Completed"),
    "dropped_out": N_("Dropped out"),
    "ongoing": N_("Ongoing"),
    "other": N_("Other status"),
    "exposure": N_("Exposure"),
    "status": N_("Estimate status"),
    # the Cox models' estimates (their JSON and CLI keys keep the models' notation)
    "hr": N_("Hazard ratio"),
    "hr_lower": N_("Hazard ratio, lower"),
    "hr_upper": N_("Hazard ratio, upper"),
    "p": N_("p-value"),
    "se_type": N_("Standard error used"),
    "se_model": N_("Standard error, model-based"),
    "se_robust": N_("Standard error, robust"),
    "adj_hr": N_("Adjusted hazard ratio"),
    "adj_hr_lower": N_("Adjusted hazard ratio, lower"),
    "adj_hr_upper": N_("Adjusted hazard ratio, upper"),
    "adj_p": N_("Adjusted p-value"),
    "adj_se_type": N_("Adjusted: standard error used"),
    "adj_se_model": N_("Adjusted: standard error, model-based"),
    "adj_se_robust": N_("Adjusted: standard error, robust"),
    "completed_n": N_("Completers"),
    "completed_rate": N_("Completers' rate"),
    "completed_lower": N_("Completers' rate, lower"),
    "completed_upper": N_("Completers' rate, upper"),
    "not_completed_n": N_("Non-completers"),
    "not_completed_rate": N_("Non-completers' rate"),
    "not_completed_lower": N_("Non-completers' rate, lower"),
    "not_completed_upper": N_("Non-completers' rate, upper"),
    "note": N_("Note"),
    # Data
    "years_available": N_("Whole years of follow-up available"),
    "years": N_("Years of follow-up"),
    "share_pct": N_("Share of releases (%)"),
    "table": N_("Table"),
    "column": N_("Column"),
    "rows": N_("Rows"),
    "missing": N_("Missing"),
    "complete_pct": N_("Filled (%)"),
    "batch_id": N_("Import batch"),
    "started_at": N_("Started"),
    "finished_at": N_("Finished"),
    "mode": N_("Mode"),
    "tool_version": N_("Tool version"),
    "rows_read": N_("Rows read"),
    "rows_inserted": N_("Inserted"),
    "rows_updated": N_("Updated"),
    "rows_unchanged": N_("Unchanged"),
    "rows_rejected": N_("Rejected"),
    "table_name": N_("Table"),
    "file_name": N_("File"),
    "file": N_("File"),
    "line": N_("Line"),
    "value": N_("Value"),
    "expected": N_("Expected"),
    "message": N_("Problem"),
    "kind": N_("Kind"),
    "read": N_("Rows read"),
    "inserted": N_("Inserted"),
    "updated": N_("Updated"),
    "unchanged": N_("Unchanged"),
    "rejected": N_("Rejected"),
    # Impact
    "people": N_("People"),
    "reoffended": N_("People who reoffended"),
    "rate": N_("Rate"),
    "rate_lower": N_("Rate, lower"),
    "rate_upper": N_("Rate, upper"),
    "days_free_mean": N_("Mean days free of reoffending"),
    "measure": N_("Measure"),
    "estimate": N_("Estimate"),
    "lower": N_("Lower"),
    "upper": N_("Upper"),
    "step": N_("Step"),
    "comparison": N_("Comparison"),
    "covariate": N_("Covariate"),
    "term": N_("Term"),
    "model": N_("Model"),
    "smd_before": N_("SMD before"),
    "smd_after": N_("SMD after"),
}

#: Cell code -> its words. Only cells of :data:`CODED_COLUMNS` are read as codes: a
#: facility called "hidden" stays "hidden".
CELLS: dict[str, str] = {
    SECONDARY_LABEL: N_("hidden"),
    "suppressed": N_("suppressed"),
    "not_reached": N_("not followed long enough"),
    "not_followed": N_("not yet followed 1 year"),
    "estimated": N_("estimated"),
    "not_estimable": N_("not estimable"),
    "not_converged": N_("model did not converge"),
    "at_release": N_("at release"),
    # the settings of the data contract's programmes
    "in_prison": N_("in prison"),
    "post_release": N_("after release"),
    "community": N_("in the community"),
    "time_varying": N_("time-varying (from start)"),
    "participants": N_("participants"),
    "comparison": N_("comparison"),
    # the one group of a breakdown by nothing (analysis.survival.grouping)
    "all": N_("all releases"),
    # the effect measures of an impact evaluation
    "rate_difference": N_("difference in rate (percentage points)"),
    "hazard_ratio": N_("hazard ratio"),
    "days_free_difference": N_("difference in days free of reoffending"),
    "reoffences_per_100_difference": N_("difference in reoffences per 100 people"),
}

#: Columns whose text cells may hold a code of :data:`CELLS` (counts and rates hidden
#: by disclosure control, statuses); every other column is data and shown as it is.
CODED_COLUMNS: frozenset[str] = frozenset({
    "releases", "complete_n", "complete_reoffended", "reoffended_365",
    "km_rate", "complete_rate", "rate_365",
    "reoffended_730", "reoffended_1095",
    "participants", "completed", "dropped_out", "ongoing", "other", "exposure", "status",
    "reoffended",
    "setting",
    "completed_n", "not_completed_n", "rows", "missing", "rows_read", "rows_inserted",
    "rows_updated", "rows_unchanged", "rows_rejected", "people", "comparison", "measure",
    *VALUE_WORDS,
})
#: Columns of counts held as text (``"5411"``, ``"<10"``): shown with the language's
#: thousands separators on screen (:mod:`analysis.views.display`).
COUNT_COLUMNS: frozenset[str] = frozenset({
    "releases", "complete_n", "complete_reoffended", "reoffended_365",
    "reoffended_730", "reoffended_1095",
    "participants", "completed", "dropped_out", "ongoing", "other",
    "reoffended", "completed_n", "not_completed_n", "rows", "missing", "rows_read",
    "rows_inserted", "rows_updated", "rows_unchanged", "rows_rejected", "people",
    "comparison", "read", "inserted", "updated", "unchanged", "rejected",
})

#: Note code -> its text (English msgid; fields filled from the note's ``params``).
NOTES: dict[str, str] = {
    "all_groups_hidden": N_("Every group has fewer than {k} releases: nothing can be shown."),
    "logrank": N_("Log-rank test across the {groups} groups shown: chi² = {chi2} on {df} "
                  "df, p = {p}"),
    "logrank_small_p": N_("Log-rank test across the {groups} groups shown: chi² = {chi2} on "
                          "{df} df, p < 0.001"),
    "logrank_cif": N_("Log-rank test across the {groups} groups shown: chi² = {chi2} on "
                      "{df} df, p = {p} (compares the hazards of reoffending; competing "
                      "ends censored)"),
    "logrank_cif_small_p": N_("Log-rank test across the {groups} groups shown: chi² = "
                              "{chi2} on {df} df, p < 0.001 (compares the hazards of "
                              "reoffending; competing ends censored)"),
    "one_group": N_("One group only: there is nothing to compare, so no log-rank test."),
    "two_models": N_(
        "Two Cox models are fitted over all programmes with enough participants at once, "
        "not one per programme, to keep the page fast: the unadjusted hazard ratio holds "
        "the other programmes fixed; the adjusted one also accounts for age, sex, prior "
        "convictions, offense category, sentence length, facility and release year. "
        "Programmes after release are time-varying exposures (exposed only from their "
        "start)."),
    "standard_errors": N_(
        "Both standard errors are those of the log hazard ratio: model-based (as R "
        "coxph) and robust, clustered by person because people have several releases "
        "(as R coxph(cluster = person_id)). The confidence intervals and p-values use "
        "the robust one."),
    "models_failed": N_("The models could not be fitted on this selection: {error}"),
    "models_not_converged": N_(
        "The models did not converge on this selection: a programme or covariate may "
        "separate people with and without a reoffence perfectly. Narrow or widen the "
        "selection, or ask an analyst to merge rare categories."),
    "dropped_zero_time": N_("{count} releases followed for zero days are left out of the "
                            "models with time-varying programmes."),
    "descriptive_completion": N_(
        "Completers and non-completers differ in more than the programme (motivation, "
        "sentence length, transfers), so this comparison is descriptive, not an effect."),
    "no_participants": N_("no participants in the selection"),
    "group_hidden": N_("a group has fewer than {k} releases: not shown"),
    "group_small": N_("fewer than {n} releases in a group: uncertain"),
    "imported": N_("Imported batch {batch}: {inserted} new rows, {rejected} rejected."),
    "not_imported": N_("Nothing was imported: {error}"),
}


@dataclass(frozen=True)
class Note:
    """A note of a result: a code of :data:`NOTES` and the values its text quotes.

    ``params`` holds numbers and already-suppressed count labels (``"<10"``), never
    words; an error message from the estimation (``models_failed``) is quoted as is.
    """

    code: str
    params: Mapping[str, object] = field(default_factory=dict)


def render_note(note: Note | Reason | str, language: str = "en") -> str:
    """The text of ``note`` in ``language`` (a plain string passes through).

    A :class:`~analysis.impact.rules.Reason` (an impact rule's note, such as
    :data:`~analysis.impact.rules.MULTIPLE_COMPARISONS` when several programmes are
    compared) is worded by :func:`analysis.impact.wording.reason_text`.

    Examples
    --------
    >>> render_note(Note("group_hidden", {"k": 10}), "fr")
    'un groupe compte moins de 10 libérations : non affiché'
    >>> from analysis.impact.rules import MULTIPLE_COMPARISONS
    >>> render_note(MULTIPLE_COMPARISONS) == reason_text(MULTIPLE_COMPARISONS)
    True
    """
    if isinstance(note, str):
        return note
    if isinstance(note, Reason):
        return reason_text(note, language)
    return translator(language)(NOTES[note.code], **dict(note.params))


def render_notes(notes: Iterable[Note | Reason | str], language: str = "en") -> list[str]:
    """:func:`render_note` of each note."""
    return [render_note(note, language) for note in notes]


def column_header(column: str, language: str = "en") -> str:
    """The header of a column code (numbers-at-risk months included), else the code.

    Examples
    --------
    >>> column_header("releases", "ru"), column_header("at_6", "en"), column_header("x")
    ('Освобождения', '6 months', 'x')
    """
    tr = translator(language)
    if column in COLUMNS:
        return tr(COLUMNS[column])
    if column.startswith("at_") and column[3:].isdigit():
        return tr.plural("{n} month", "{n} months", int(column[3:]))
    return column


def render_cell(value: object, language: str = "en") -> object:
    """A coded cell in words; anything else as it is."""
    if isinstance(value, str) and value in CELLS:
        return translator(language)(CELLS[value])
    return value


#: Columns holding a horizon in days, shown as "1 year", "180 days".
HORIZON_COLUMNS: frozenset[str] = frozenset({"within"})


def render_table(table: pd.DataFrame, language: str = "en", *,
                 note_params: Mapping[str, object] | None = None,
                 coded: Iterable[str] = ()) -> pd.DataFrame:
    """``table`` with its headers and coded cells in ``language`` (a copy).

    Cells of :data:`CODED_COLUMNS` holding a :data:`CELLS` code, or a contract code of
    :data:`~analysis.views.terms.VALUE_WORDS` for their column, are translated, the
    days of :data:`HORIZON_COLUMNS` named (:func:`horizon_span`), and the headers
    rendered by :func:`column_header`. A ``note`` column holds codes of :data:`NOTES`,
    written with ``note_params``. ``coded`` names more columns of codes (the groups of
    an impact evaluation: ``participants``, ``comparison``). Two codes with the same
    header (``file``, ``file_name``) never meet in one table.
    """
    shown = table.copy()
    coded = CODED_COLUMNS | set(coded)
    for column in shown.columns:
        if column == "note":
            shown[column] = [render_note(Note(v, note_params or {}), language)
                             if isinstance(v, str) and v in NOTES else v
                             for v in shown[column]]
        elif column in HORIZON_COLUMNS:
            shown[column] = [horizon_span(int(days), language) for days in shown[column]]
        elif column in coded and (pd.api.types.is_object_dtype(shown[column])
                                  or pd.api.types.is_string_dtype(shown[column])):
            shown[column] = shown[column].map(
                lambda v, c=column: render_cell(value_label(c, v, language), language))
    shown.columns = [column_header(str(c), language) for c in shown.columns]
    return shown


def horizon_span(days: int, language: str = "en") -> str:
    """``365 -> '1 year'``, ``730 -> '2 years'``, ``180 -> '180 days'`` in ``language``.

    A span, for a column header or cell; the impact wording's
    :func:`analysis.impact.wording.horizon_words` says "within a year" in a sentence.

    Examples
    --------
    >>> horizon_span(730), horizon_span(180), horizon_span(365, "ru")
    ('2 years', '180 days', '1 год')
    """
    tr = translator(language)
    years, rest = divmod(int(days), 365)
    if rest == 0 and years:
        return tr.plural("{n} year", "{n} years", years)
    return tr.plural("{n} day", "{n} days", int(days))


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
    tr = joining_translator(language)
    reasons = or_list([event_words(r, language) for r in COMPETING_END_REASONS], language)
    ends = [tr("the data cut-off"), tr("{reasons} (competing ends)", reasons=reasons),
            tr("the person's next release")]
    if "reincarceration" not in event_types:
        ends.append(tr("a reincarceration (not counted as reoffending)"))
    what = (or_list([event_words(e, language) for e in event_types], language)
            if event_types else tr("event (none recorded)"))
    return tr("Reoffending means the first {what} recorded after release; follow-up of "
              "a release ends at {ends}.", what=what, ends=or_list(ends, language))
