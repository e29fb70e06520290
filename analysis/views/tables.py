"""Table downloads (CSV and XLSX) that are safe to open in a spreadsheet.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can be
run as a formula by Excel or LibreOffice ("CSV/formula injection"): a facility named
``=HYPERLINK(...)`` in an imported file would become a live link in every download.
:func:`neutralize_formulas` prefixes such cells (and column names) with a single
quote, which spreadsheets show as plain text. Numbers stay numbers: a negative number
is written as a number, never as text.

A download is made for computing: counts are numbers (a hidden count is a text label,
``"<10"``, in that cell only) and rates are numbers with their interval in separate
columns. It also says what it is: an XLSX file gets a second sheet, a CSV file a block
of comment lines (starting with ``#``, which ``pandas.read_csv(comment="#")`` skips),
naming the selection, the outcome, the minimum cell size ``k``, the data date and the
tool version (:func:`about_rows`); a chart exported as an image carries the same facts
in a caption drawn into the figure (:func:`captioned_figure`).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import re
import textwrap
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pandas as pd
import plotly.graph_objects as go
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from analysis.charts.style import plotly_text
from analysis.contract import EVENT_TYPES
from analysis.i18n import N_, translator
from analysis.spreadsheet_safety import FORMULA_PREFIXES, neutralize_formulas
from analysis.views.filters import ViewFilters
from analysis.views.scope import EVERY_PAGE, serves
from analysis.views.words import outcome_sentence, outcome_words

__all__ = ["FORMULA_PREFIXES", "DataDates", "about_rows", "captioned_figure",
           "data_dates", "figure_caption", "neutralize_formulas", "to_csv_bytes",
           "to_xlsx_bytes"]

#: Characters Excel refuses in sheet names.
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")
#: What a comment line's label may not hold: it is written bare after ``#``.
_LABEL_BAD = re.compile(r"[\r\n\t,;\"]")
#: Selection field -> its name (English msgid), in the order the sidebar shows them.
SELECTION_FIELDS: tuple[tuple[str, str], ...] = (
    ("facilities", N_("Facility")),
    ("regions", N_("Release region")),
    ("sexes", N_("Sex")),
    ("age_bands", N_("Age band at release")),
    ("offenses", N_("Offense category")),
    ("release_years", N_("Release year")),
    ("release_types", N_("Release type")),
)


@dataclass(frozen=True)
class DataDates:
    """How recent the database is: the data cut-off (the latest end of follow-up by
    cut-off, ISO date) and the end of the latest import (ISO time, UTC); ``None`` when
    unknown."""

    data_cutoff: str | None
    latest_import: str | None


@serves(EVERY_PAGE)
def data_dates(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> DataDates:
    """The :class:`DataDates` of the database (``filters`` unused: one answer for all).

    Examples
    --------
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE releases (follow_up_end DATE, follow_up_end_reason "
    ...                 "VARCHAR); INSERT INTO releases VALUES ('2025-06-30', 'data_cutoff')")
    >>> _ = con.execute("CREATE TABLE import_log (finished_at TIMESTAMP)")
    >>> data_dates(con, ViewFilters())
    DataDates(data_cutoff='2025-06-30', latest_import=None)
    """
    cutoff = con.execute("SELECT max(follow_up_end) FROM releases "
                         "WHERE follow_up_end_reason = 'data_cutoff'").fetchone()
    finished = con.execute("SELECT max(finished_at) FROM import_log").fetchone()
    return DataDates(
        None if cutoff is None or cutoff[0] is None else cutoff[0].isoformat(),
        None if finished is None or finished[0] is None
        else finished[0].isoformat(sep=" ", timespec="seconds"))


def _tool_version() -> str:
    import analysis  # the package version is read on first use

    return f"Desistance {analysis.__version__}"


def _period(filters: ViewFilters) -> str | None:
    sel = filters.selection
    if sel.release_from is None and sel.release_to is None:
        return None
    first = sel.release_from.isoformat() if sel.release_from else "…"
    last = sel.release_to.isoformat() if sel.release_to else "…"
    return f"{first} – {last}"


def _restrictions(filters: ViewFilters, language: str) -> list[tuple[str, str]]:
    """The filters that restrict the releases, as ``(name, values)`` in ``language``."""
    tr = translator(language)
    rows = []
    period = _period(filters)
    if period:
        rows.append((tr("Release period"), period))
    for name, label in SELECTION_FIELDS:
        values = getattr(filters.selection, name)
        if values:
            rows.append((tr(label), ", ".join(str(v) for v in values)))
    return rows


def about_rows(filters: ViewFilters, dates: DataDates, language: str = "en", *,
               title: str | None = None) -> list[tuple[str, str]]:
    """What a download states about itself: ``(label, value)`` pairs in ``language``.

    The table's ``title`` (already in words), the selection (one line per filter, or
    "all releases"), the outcome definition, the minimum cell size ``k``, the data
    cut-off and latest import, and the tool version. Values from the data (facility
    names) are quoted as they are.

    Examples
    --------
    >>> rows = dict(about_rows(ViewFilters(min_cell=20), DataDates("2025-06-30", None)))
    >>> rows["Selection"], rows["Minimum cell size k"][:3], rows["Data cut-off"]
    ('all releases', '20:', '2025-06-30')
    """
    tr = translator(language)
    unknown = tr("unknown")
    rows = [(tr("Table"), title)] if title else []
    rows += _restrictions(filters, language) or [(tr("Selection"), tr("all releases"))]
    rows += [
        (tr("Outcome"), outcome_sentence(filters.outcome.event_types or EVENT_TYPES,
                                         language=language)),
        (tr("Minimum cell size k"), tr(
            "{k}: counts of fewer than {k} people, and numbers from which one could be "
            "worked out, are hidden", k=filters.min_cell)),
        (tr("Data cut-off"), dates.data_cutoff or unknown),
        (tr("Latest import"), dates.latest_import or unknown),
        (tr("Tool version"), _tool_version()),
    ]
    return rows


def figure_caption(filters: ViewFilters, dates: DataDates, language: str = "en") -> str:
    """The one-paragraph caption a chart carries when exported (plain text).

    Examples
    --------
    >>> figure_caption(ViewFilters(), DataDates("2025-06-30", None))[:61]
    'all releases · reoffending: any event · k = 10 · data cut-off'
    """
    tr = translator(language)
    selection = "; ".join(f"{label}: {value}" for label, value in _restrictions(
        filters, language)) or tr("all releases")
    return " · ".join([
        selection,
        tr("reoffending: {events}", events=outcome_words(filters.outcome.event_types,
                                                          language)),
        f"k = {filters.min_cell}",
        tr("data cut-off {date}", date=dates.data_cutoff or tr("unknown")),
        _tool_version(),
    ])


def captioned_figure(fig: go.Figure, caption: str, *, width: int = 110) -> go.Figure:
    """A copy of ``fig`` with ``caption`` drawn under the plot, so that every image made
    from it (the toolbar's PNG or SVG) carries it.

    The caption is wrapped at ``width`` characters and drawn as text (names from the
    data cannot become markup); the bottom margin grows to hold it.

    Examples
    --------
    >>> fig = captioned_figure(go.Figure(), "k = 10 · <b>x</b>")
    >>> fig.layout.annotations[-1].text
    'k = 10 · &lt;b&gt;x&lt;/b&gt;'
    """
    out = go.Figure(fig)
    lines = textwrap.wrap(caption, width) or [""]
    bottom = out.layout.margin.b if out.layout.margin.b is not None else 60
    out.add_annotation(
        text="<br>".join(plotly_text(line) for line in lines), showarrow=False,
        xref="paper", yref="paper", x=0, y=0, xanchor="left", yanchor="top",
        # below the x axis and its title, which use the margin's first ~55 pixels
        yshift=-(bottom - 5), align="left", font={"size": 11, "color": "#555555"})
    out.update_layout(margin={"b": bottom + 16 * len(lines) + 4})
    return out


def _comment_value(value: object) -> str:
    # One physical line per comment (a reader skipping '#' lines must not meet a stray
    # line break), and no formula in the cell a spreadsheet makes of it.
    text = re.sub(r"[\r\n]+", " ", ILLEGAL_CHARACTERS_RE.sub("", str(value)))
    return text if not text.startswith(FORMULA_PREFIXES) else "'" + text


def _comment_lines(about: Sequence[tuple[str, object]]) -> str:
    lines = []
    for label, value in about:
        label_text = _LABEL_BAD.sub(" ", str(label))
        buffer = io.StringIO()
        csv.writer(buffer, quoting=csv.QUOTE_ALL, lineterminator="").writerow(
            [_comment_value(value)])
        lines.append(f"# {label_text},{buffer.getvalue()}\r\n")
    return "".join(lines)


def to_csv_bytes(df: pd.DataFrame, about: Sequence[tuple[str, object]] = ()) -> bytes:
    r"""CSV (UTF-8 with a byte-order mark so Excel reads accents), formulas neutralized.

    Text is quoted and numbers are not, so a spreadsheet or
    ``pandas.read_csv(comment="#")`` reads numbers as numbers, and a ``#`` inside a name
    is not taken for a comment. ``about`` (:func:`about_rows`) comes first, one
    ``# label,"value"`` line per pair. Lines end with CRLF (RFC 4180), which also makes
    the writer quote any value holding a carriage return, so a stray CR cannot split a
    row.

    Examples
    --------
    >>> to_csv_bytes(pd.DataFrame({"n": [5, "<10"]}), [("k", 10)]).decode("utf-8-sig")
    '# k,"10"\r\n"n"\r\n5\r\n"<10"\r\n'
    """
    table = neutralize_formulas(df).to_csv(index=False, lineterminator="\r\n",
                                           quoting=csv.QUOTE_NONNUMERIC)
    return (_comment_lines(about) + table).encode("utf-8-sig")


def _sheet_title(name: str) -> str:
    title = _SHEET_NAME_BAD.sub("_", str(name)).strip("'")[:31]
    return title or "Sheet1"


def _cell(value):
    """A value openpyxl writes as data (never as a formula), or None for missing."""
    if value is None or value is pd.NA or value is pd.NaT:
        return None
    if isinstance(value, float | np.floating):
        return None if np.isnan(value) else float(value)
    if isinstance(value, bool | np.bool_):
        return bool(value)
    if isinstance(value, int | np.integer):
        return int(value)
    if isinstance(value, pd.Timestamp):
        return value.to_pydatetime()
    if isinstance(value, dt.date):
        return value
    return str(value)


def _strip_control(value):
    # Control characters are invalid in XLSX; the text is otherwise kept as is.
    return ILLEGAL_CHARACTERS_RE.sub("", value) if isinstance(value, str) else value


def _clean(df: pd.DataFrame) -> pd.DataFrame:
    clean = df.copy()
    clean.columns = [_strip_control(str(c)) for c in clean.columns]
    for column in range(clean.shape[1]):
        if clean.iloc[:, column].dtype == object or pd.api.types.is_string_dtype(
                clean.iloc[:, column].dtype):
            clean.isetitem(column, clean.iloc[:, column].map(_strip_control).astype(object))
    return neutralize_formulas(clean)  # after cleaning: "\x01=1" must not become "=1"


def to_xlsx_bytes(df: pd.DataFrame, sheet_name: str = "table",
                  about: Sequence[tuple[str, object]] = (),
                  about_sheet: str = "About", *, right_to_left: bool = False) -> bytes:
    """An XLSX workbook: ``df`` on the first sheet (header row, no index), and ``about``
    (:func:`about_rows`) as two columns on a second sheet named ``about_sheet``.
    ``right_to_left``: both sheets open laid out right to left (first column on the
    right), as an Arabic reader expects; the columns keep their logical order.

    Numbers are written as numbers and text as text: openpyxl would otherwise store a
    string beginning with ``=`` as a formula.

    Examples
    --------
    >>> from openpyxl import load_workbook
    >>> data = to_xlsx_bytes(pd.DataFrame({"n": [5, "<10"]}), "t", [("k", "10")])
    >>> book = load_workbook(io.BytesIO(data))
    >>> [c.value for c in book["t"]["A"]], book.sheetnames
    (['n', 5, '<10'], ['t', 'About'])
    """
    safe = _clean(df)
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(sheet_name)
    sheet.sheet_view.rightToLeft = right_to_left
    sheet.append([_cell(c) for c in safe.columns])
    for row in safe.itertuples(index=False, name=None):
        sheet.append([_cell(v) for v in row])
    if about:
        notes = _clean(pd.DataFrame([[str(label), str(value)] for label, value in about]))
        title = _sheet_title(about_sheet)
        extra = book.create_sheet(title if title != sheet.title else f"{title} (2)"[:31])
        extra.sheet_view.rightToLeft = right_to_left
        for row in notes.itertuples(index=False, name=None):
            extra.append([_cell(v) for v in row])
        extra.column_dimensions["A"].width = 28
        extra.column_dimensions["B"].width = 100
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
