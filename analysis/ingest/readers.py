"""Reading one contract table from CSV, Parquet or XLSX into a frame of text cells.

Every cell comes back as a stripped string ("" for empty), so that validation
treats all three formats alike and can quote the user's value back exactly.
Problems that make the whole file unusable are returned, never raised.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.contract import FILE_SUFFIXES, TABLE_ORDER
from analysis.ingest.problems import Problem


@dataclass(frozen=True)
class TableFile:
    """A table as read from its file: header, text cells and each row's line number."""

    table: str
    path: Path
    sha256: str
    header: tuple[str, ...]
    cells: pd.DataFrame  # one column per header entry, all strings
    lines: np.ndarray  # line number (as a spreadsheet shows it) of each data row

    @property
    def name(self) -> str:
        return self.path.name


def find_table_files(dataset_dir: Path) -> tuple[dict[str, list[Path]], list[Path]]:
    """Map each contract table to the files that could hold it; also list ignored files."""
    found: dict[str, list[Path]] = {t: [] for t in TABLE_ORDER}
    ignored: list[Path] = []
    for path in sorted(dataset_dir.iterdir()):
        if not path.is_file() or path.name.startswith("."):
            continue
        stem, suffix = path.stem.lower(), path.suffix.lower()
        if suffix in FILE_SUFFIXES and stem in found:
            found[stem].append(path)
        else:
            ignored.append(path)
    return found, ignored


def sha256_of(path: Path) -> str:
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def read_table_file(table: str, path: Path) -> TableFile | Problem:
    """Read ``path`` as the contract table ``table``; a :class:`Problem` if it cannot be."""
    suffix = path.suffix.lower()
    try:
        if path.stat().st_size == 0:
            return Problem("empty_file", path.name, "the file is empty (0 bytes)")
        if suffix == ".csv":
            result = _read_csv(path)
        elif suffix == ".parquet":
            result = _read_parquet(path)
        else:
            result = _read_xlsx(path)
    except OSError as exc:
        return Problem("unreadable_file", path.name, f"cannot read the file: {exc.strerror}")
    if isinstance(result, Problem):
        return result
    header, cells, lines = result
    if not header:
        return Problem("empty_file", path.name, "the file has no header row")
    return TableFile(table, path, sha256_of(path), header, cells, lines)


def _decode(path: Path) -> str | Problem:
    raw = path.read_bytes()
    if _looks_like_utf16(raw[:4096]):
        # Excel's "Unicode Text" and some database exports write UTF-16.
        return Problem(
            "wrong_encoding",
            path.name,
            "the file is UTF-16 text, not UTF-8 (save the file as 'CSV UTF-8')",
            line=1,
            expected="UTF-8 text",
        )
    if b"\x00" in raw[:4096]:
        return Problem(
            "unreadable_file",
            path.name,
            "this is a binary file, not a CSV table",
            expected="a text file with one header line and comma-separated values",
        )
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = raw[: exc.start].count(b"\n") + 1
        return Problem(
            "wrong_encoding",
            path.name,
            f"byte 0x{raw[exc.start]:02x} is not valid UTF-8 (save the file as 'CSV UTF-8')",
            line=line,
            expected="UTF-8 text",
        )
    return text


def _looks_like_utf16(head: bytes) -> bool:
    """A UTF-16 byte-order mark, or ASCII text with a zero byte beside every character."""
    if head[:2] in (b"\xff\xfe", b"\xfe\xff"):
        return True
    pairs = head[: len(head) // 2 * 2]
    if len(pairs) < 8:
        return False
    even, odd = pairs[0::2], pairs[1::2]
    return even.count(0) == len(even) or odd.count(0) == len(odd)


def _sniff_delimiter(first_line: str) -> str:
    # Spreadsheets in French, Serbian or Russian locales save CSV with ';'.
    counts = {d: first_line.count(d) for d in (",", ";", "\t")}
    best = max(counts, key=counts.get)
    return best if counts[best] > 0 else ","


def _read_csv(path: Path):
    text = _decode(path)
    if isinstance(text, Problem):
        return text
    if not text.strip():
        return Problem("empty_file", path.name, "the file holds only blank space")
    first_line = text.split("\n", 1)[0]
    delimiter = _sniff_delimiter(first_line)
    try:
        frame = pd.read_csv(
            io.StringIO(text),
            sep=delimiter,
            header=None,
            dtype=str,
            keep_default_na=False,
            na_filter=False,
            skip_blank_lines=True,
            engine="c",
        )
    except pd.errors.ParserError as exc:
        return Problem(
            "unreadable_file",
            path.name,
            f"the rows do not line up into columns: {exc}".strip(),
            expected=f"every line to have as many '{delimiter}'-separated values as the header",
        )
    except pd.errors.EmptyDataError:
        return Problem("empty_file", path.name, "the file has no header row")
    header = tuple(str(v) for v in frame.iloc[0].tolist())
    body = frame.iloc[1:].reset_index(drop=True)
    body.columns = range(body.shape[1])
    lines = _line_numbers(text, delimiter, len(body))
    return header, _strip(body), lines


def _line_numbers(text: str, delimiter: str, n_rows: int) -> np.ndarray:
    """Line of each data row; exact even when quoted cells hold line breaks or blank lines exist."""
    physical = text.count("\n") + (0 if text.endswith("\n") else 1)
    if physical == n_rows + 1:  # the common case: one line per row, no blank lines
        return np.arange(2, n_rows + 2)
    numbers = []
    # newline="" lets the csv module see a lone '\r' inside a cell instead of failing on it.
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    start = 1
    try:
        for index, row in enumerate(reader):
            if index > 0 and any(cell.strip() for cell in row):
                numbers.append(start)
            start = reader.line_num + 1
    except csv.Error:
        # pandas parsed the file, so only the line numbers are uncertain: count rows instead.
        return np.arange(2, n_rows + 2)
    numbers = numbers[:n_rows] + [numbers[-1] if numbers else 2] * (n_rows - len(numbers))
    return np.asarray(numbers, dtype=np.int64)


def _strip(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.apply(lambda col: col.astype(str).str.strip())


def _cell_to_text(value) -> str:
    """Text for a typed cell of Parquet/XLSX: dates as YYYY-MM-DD, whole floats without '.0'."""
    if value is None or (isinstance(value, float) and np.isnan(value)) or value is pd.NaT:
        return ""
    if isinstance(value, pd.Timestamp | dt.datetime):
        if (value.hour, value.minute, value.second, value.microsecond) == (0, 0, 0, 0):
            return value.strftime("%Y-%m-%d")
        return value.isoformat(sep=" ")
    if isinstance(value, dt.date):
        return value.isoformat()
    if isinstance(value, float | np.floating) and float(value).is_integer():
        return str(int(value))
    return str(value).strip()


def _column_to_text(column: pd.Series) -> list[str] | pd.Series:
    """Vectorised where the type allows (dates, numbers, text), cell by cell otherwise."""
    if pd.api.types.is_datetime64_any_dtype(column):
        midnight = column.isna() | (column == column.dt.normalize())
        if bool(midnight.all()):
            return column.dt.strftime("%Y-%m-%d").fillna("")
    elif pd.api.types.is_integer_dtype(column) or pd.api.types.is_bool_dtype(column):
        return column.astype(str).where(column.notna(), "")
    elif pd.api.types.is_string_dtype(column) and column.dtype != object:
        return column.fillna("").astype(str).str.strip()
    return [_cell_to_text(v) for v in column.tolist()]


def _typed_frame_to_text(frame: pd.DataFrame):
    header = tuple(str(c) for c in frame.columns)
    body = pd.DataFrame(
        {i: _column_to_text(frame.iloc[:, i]) for i in range(frame.shape[1])},
        index=range(len(frame)),
        dtype=str,
    )
    return header, body, np.arange(2, len(frame) + 2)


def _read_parquet(path: Path):
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a file that is not Parquet
        return Problem(
            "unreadable_file", path.name, f"not a readable Parquet file ({type(exc).__name__})"
        )
    return _typed_frame_to_text(frame)


def _read_xlsx(path: Path):
    try:
        frame = pd.read_excel(path, sheet_name=0, header=None, dtype=object, engine="openpyxl")
    except Exception as exc:  # openpyxl/zipfile raise many types for a file that is not XLSX
        return Problem(
            "unreadable_file", path.name, f"not a readable XLSX workbook ({type(exc).__name__})"
        )
    frame = frame.dropna(how="all")
    if frame.empty:
        return (), pd.DataFrame(), np.arange(0)
    # Row 0 of the sheet is line 1 (the header); read with header=None so that
    # duplicated or blank headers are seen as the user wrote them.
    header = tuple(_cell_to_text(v) for v in frame.iloc[0].tolist())
    body = frame.iloc[1:]
    lines = body.index.to_numpy() + 1
    _, cells, _ = _typed_frame_to_text(body.reset_index(drop=True))
    return header, cells, lines
