"""Table downloads (CSV and XLSX) that are safe to open in a spreadsheet.

A text cell starting with ``=``, ``+``, ``-``, ``@``, a tab or a carriage return can be
run as a formula by Excel or LibreOffice ("CSV/formula injection"): a facility named
``=HYPERLINK(...)`` in an imported file would become a live link in every download.
:func:`neutralize_formulas` prefixes such cells (and column names) with a single
quote, which spreadsheets show as plain text. Numbers stay numbers: a negative number
is written as a number, never as text.
"""

from __future__ import annotations

import datetime as dt
import io
import re

import numpy as np
import pandas as pd
from openpyxl import Workbook
from openpyxl.cell.cell import ILLEGAL_CHARACTERS_RE

from analysis.spreadsheet_safety import FORMULA_PREFIXES, neutralize_formulas

__all__ = ["FORMULA_PREFIXES", "neutralize_formulas", "to_csv_bytes", "to_xlsx_bytes"]

#: Characters Excel refuses in sheet names.
_SHEET_NAME_BAD = re.compile(r"[\[\]:*?/\\]")


def to_csv_bytes(df: pd.DataFrame) -> bytes:
    """CSV (UTF-8 with a byte-order mark so Excel reads accents), formulas neutralized.

    Lines end with CRLF (RFC 4180), which also makes the writer quote any value holding a
    carriage return, so a stray CR cannot split a row.
    """
    return neutralize_formulas(df).to_csv(index=False, lineterminator="\r\n").encode(
        "utf-8-sig")


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


def to_xlsx_bytes(df: pd.DataFrame, sheet_name: str = "table") -> bytes:
    """An XLSX workbook with one sheet holding ``df`` (header row, no index).

    Text is written as text: openpyxl would otherwise store a string beginning with
    ``=`` as a formula.
    """
    clean = df.copy()
    clean.columns = [_strip_control(str(c)) for c in clean.columns]
    for column in range(clean.shape[1]):
        if clean.iloc[:, column].dtype == object or pd.api.types.is_string_dtype(
                clean.iloc[:, column].dtype):
            clean.isetitem(column, clean.iloc[:, column].map(_strip_control).astype(object))
    safe = neutralize_formulas(clean)  # after cleaning: "\x01=1" must not become "=1"
    book = Workbook()
    sheet = book.active
    sheet.title = _sheet_title(sheet_name)
    sheet.append([_cell(c) for c in safe.columns])
    for row in safe.itertuples(index=False, name=None):
        sheet.append([_cell(v) for v in row])
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()
