"""The data dictionary written beside every export (``FILE.dictionary.md``).

A Markdown file a researcher reads, and a reviewer can diff: what the rows are (kind,
outcome and event types, selection, what was left out), every column (name, type,
units, meaning), the database's data date, the version of Desistance, and the R and
Stata lines that refit the model. tests/export/test_export_refit.py runs its R block
through tests/reference/export_refit.R, so the documented R lines are the ones checked
against ``desist km``/``desist cox``. Text from the data (programme names, levels) is
escaped so that Markdown shows it as text.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pandas as pd

from analysis.contract import COMPETING_END_REASONS, RELEASES
from analysis.export.rows import GROUP_COLUMN, ExportRows
from analysis.survival.episodes import AGE_BANDS, Selection

#: What the dictionary file is called: the export's path plus this.
DICTIONARY_SUFFIX = ".dictionary.md"
DAYS = "days since release"

_FIXED: dict[str, tuple[str | None, str]] = {
    "release_id": (None, "Identifier of the release, as imported. One release is one "
                         "episode."),
    "person_id": (None, "The person's pseudonymized identifier: the keyed hash stored at "
                        "import, never the raw identifier. A person may have several "
                        "releases; robust standard errors are clustered by it."),
    "release_date": (None, "Day of release: time zero of follow-up."),
    "end_date": (None, "Last day of this release's follow-up (the event day when the "
                       "outcome happened)."),
    "time": (DAYS, "Days from release to the first outcome event, or to the end of "
                   "follow-up without one."),
    "cause": (None, "0 = censored; 1 = the outcome; 2 = a competing end (follow-up ended "
                    f"by {', '.join(COMPETING_END_REASONS)}): the causes of desist cif."),
    "competing_reason": (None, "For cause 2, why follow-up ended "
                               f"({', '.join(COMPETING_END_REASONS)}); otherwise empty."),
    "end_reason": (None, "The rule that ended follow-up: outcome, competing, follow_up_end, "
                         "next_release (the day before the person's next release) or "
                         "reincarceration (back in custody, when that is not part of the "
                         "outcome)."),
    "start": (DAYS, "Start of the interval (start, stop]: the row covers the days after "
                    "start up to and including stop."),
    "stop": (DAYS, "End of the interval (start, stop]."),
    "age": ("years", "Age at release: age_at_release, else release year minus birth "
                     "year."),
    "age_band": (None, "Band of the whole-year age at release: "
                       f"{', '.join(b[0] for b in AGE_BANDS)}, or unknown."),
    "release_year": (None, "Calendar year of release_date (a categorical covariate)."),
    GROUP_COLUMN: (None, "The release's group in desist km --by, labelled as km labels "
                         "it (a missing value is the group unknown)."),
}
_UNITS = {"age_at_release": "years", "sentence_months": "months", "birth_year": "year"}


@dataclass(frozen=True)
class ColumnEntry:
    """One line of the dictionary's column table."""

    name: str
    source: str
    type: str
    units: str
    meaning: str


def markdown_text(text: object) -> str:
    """Data-supplied text shown as text in Markdown (no emphasis, links or table cells).

    Examples
    --------
    >>> markdown_text("*VOC* | [x](y)")
    '\\\\*VOC\\\\* \\\\| \\\\[x\\\\](y)'
    """
    return re.sub(r"([\\`*_{}\[\]<>|#!~])", r"\\\1", str(text)).replace("\n", " ")


def column_type(column: pd.Series) -> str:
    """``date``, ``integer``, ``number`` or ``text``: what a column holds."""
    if pd.api.types.is_datetime64_any_dtype(column):
        return "date"
    if pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column):
        return "integer"
    if pd.api.types.is_numeric_dtype(column):
        return "number"
    return "text"


def _event_meaning(rows: ExportRows) -> str:
    types = " or ".join(rows.event_types) or "(no event type: nobody has the outcome)"
    if rows.kind == "episodes":
        return (f"1 = the outcome (the first {types} after release) happened on day time; "
                "0 = censored on day time (competing ends included, as desist km "
                "treats them).")
    return (f"1 = the outcome (the first {types} after release) happened on day stop; "
            "only a release's last row can have 1.")


def _programme_meaning(rows: ExportRows, program: str, names: dict[str, str]) -> str:
    name = markdown_text(names.get(program, program))
    which = "completed participation" if rows.participation == "completed" else \
        "any participation"
    if program in rows.time_varying_programs:
        span = ("from the day after its start date to its end date" if rows.exposure
                == "current" else "from the day after its start date to the end of "
                "follow-up")
        return (f"Programme {name} (post-release or community), time-varying: 1 on the "
                f"rows when the person is in it ({rows.exposure}: {span}), else 0.")
    return (f"Programme {name}: 1 if the person took part ({which}) during the custody "
            "period that ended with this release, else 0 (fixed for the release).")


def column_entries(rows: ExportRows, names: dict[str, str], portable: dict[str, str],
                   kinds: dict[str, str]) -> list[ColumnEntry]:
    """Every column of the export, in file order.

    ``names`` maps programme ids to their names, ``portable`` column names to their
    names in the file, ``kinds`` covariates to ``numeric``/``categorical``.
    """
    contract = RELEASES.by_name
    entries = []
    for column in rows.frame.columns:
        units, meaning = _FIXED.get(column, (None, ""))
        source = "episode"
        if column == "event":
            meaning = _event_meaning(rows)
        elif column in rows.programs:
            source, meaning = "programme", _programme_meaning(rows, column, names)
        elif column in rows.covariates or column == rows.strata:
            source = "covariate" if column in rows.covariates else "stratum"
            if column in contract and not meaning:
                meaning = contract[column].description
            elif not meaning:
                kind = kinds.get(column, "numeric")
                meaning = f"Covariate imported with the releases ({kind})."
            units = units or _UNITS.get(column)
            if column in rows.categorical:
                meaning += (" Categorical; reference level "
                            f"{markdown_text(rows.categorical[column])}.")
        elif column in ("release_id", "person_id", "release_date"):
            source = "release"
        entries.append(ColumnEntry(portable[column], source, column_type(rows.frame[column]),
                                   units or "", meaning))
    return entries


def selection_text(selection: Selection) -> str:
    """The selection in words (``all releases`` when unrestricted)."""
    if selection.is_empty:
        return "all releases"
    parts = []
    for name, value in vars(selection).items():
        if value not in (None, ()):
            shown = ", ".join(map(str, value)) if isinstance(value, tuple) else str(value)
            parts.append(f"{name} = {markdown_text(shown)}")
    return "; ".join(parts)


@dataclass(frozen=True)
class ExportFacts:
    """What the dictionary says about where the rows come from."""

    file_name: str
    fmt: str
    command: str
    database: str
    data_date: str | None
    version: str
    exported_at: str


def _kind_words(rows: ExportRows) -> str:
    if rows.kind == "episodes":
        return ("episodes: one row per release, the rows desist km counts (time zero = "
                "release date; the outcome is the first event of the listed types after "
                "release; see docs/metrics.md)")
    varying = ", ".join(map(markdown_text, rows.time_varying_programs))
    split = (f"; time-varying programmes ({varying}) split a release into several rows"
             if varying else "; one (0, time] row per release")
    return "counting-process rows (start, stop]: the rows desist cox fits" + split


def _left_out(rows: ExportRows) -> str:
    if rows.kind == "episodes":
        return "nothing (small groups are not refused: this is the analyst's own data)"
    return (f"{rows.n_missing} releases with a missing covariate or stratum value; "
            f"{rows.dropped_zero_time} releases with zero days of follow-up (at risk at no "
            "event time, so the model does not see them; R's Surv(start, stop) refuses "
            "them)")


def dictionary_markdown(rows: ExportRows, entries: list[ColumnEntry], facts: ExportFacts,
                        renamed: dict[str, str], r_code: list[str],
                        stata_code: list[str]) -> str:
    """The whole dictionary file.

    Examples
    --------
    >>> import pandas as pd
    >>> from analysis.export.rows import ExportRows
    >>> rows = ExportRows("episodes", pd.DataFrame({"time": [3]}), ("rearrest",), Selection())
    >>> facts = ExportFacts("e.csv", "csv", "desist export episodes", "s.duckdb",
    ...                     "2025-06-30", "1.0", "2026-12-01 22:00 UTC")
    >>> text = dictionary_markdown(rows, [ColumnEntry("time", "episode", "integer", DAYS,
    ...                            "Days.")], facts, {}, ["library(survival)"], [])
    >>> text.splitlines()[0], "| `time` | episode | integer | days since release | Days. |" in text
    ('# Data dictionary: e.csv', True)
    """
    people = rows.frame["person_id"].nunique() if "person_id" in rows.frame else 0
    lines = [
        f"# Data dictionary: {markdown_text(facts.file_name)}",
        "",
        "| | |",
        "|---|---|",
        f"| File | `{facts.file_name}` ({facts.fmt}) |",
        f"| Rows | {len(rows.frame)} rows: {rows.n_releases} releases of {people} people |",
        f"| What a row is | {_kind_words(rows)} |",
        f"| Outcome | the first {' or '.join(rows.event_types) or '(none)'} after release "
        f"(event types: {', '.join(rows.event_types) or 'none'}) |",
        f"| Selection | {selection_text(rows.selection)} |",
        f"| Left out | {_left_out(rows)} |",
    ]
    if rows.programs:
        lines.append(f"| Programme exposure | post-release and community programmes: "
                     f"{rows.exposure}; in-prison programmes: {rows.participation} "
                     "participation |")
    lines += [
        f"| Data date | {facts.data_date or 'unknown (no release)'} (the latest "
        "follow_up_end: the extract's cut-off) |",
        f"| Database | `{facts.database}` |",
        f"| Made by | Desistance {facts.version}, {facts.exported_at}: `{facts.command}` |",
        "",
        "## Columns",
        "",
        "Times are whole days since release (day 0 = the release date).",
        "",
        "| column | source | type | units | meaning |",
        "|---|---|---|---|---|",
    ]
    lines += [f"| `{e.name}` | {e.source} | {e.type} | {e.units} | {e.meaning} |"
              for e in entries]
    if renamed:
        lines += ["", "Renamed so that R and Stata keep the names (letters, digits and _): "
                  + "; ".join(f"{markdown_text(old)} is `{new}`"
                              for old, new in renamed.items()) + "."]
    lines += ["", "## Refit in R", "",
              "Run in the folder that holds the file (tested: these lines give desist "
              f"{'km' if rows.kind == 'episodes' else 'cox'}'s numbers).", "",
              "```r", *r_code, "```", "", "## Refit in Stata", "",
              "Not run by Desistance's tests (no Stata there).", "",
              "```stata", *stata_code, "```", "", "## Privacy", "",
              "Every row is one release of one person: individual-level records, with "
              "the pseudonymized person_id as stored (never a raw identifier). Counts "
              "below the minimum cell size k are not suppressed, because the file is the "
              "analyst's own data; anything published from it must follow the "
              "minimum-cell rule (see docs/export.md). The file is owner-only (mode 0600).",
              ""]
    return "\n".join(lines)
