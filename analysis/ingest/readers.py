"""Reading one contract table from CSV, Parquet or XLSX into a frame of text cells.

Every cell comes back as a stripped string ("" for empty), so that validation
treats all three formats alike and can quote the user's value back exactly.
Problems that make the whole file unusable are returned, never raised.

The documented limits (:data:`analysis.contract.LIMITS`) are checked before the
expensive work: the file size from the directory entry, the number of columns from
the header line (CSV) or the schema (Parquet), and an XLSX workbook's uncompressed
size and sheet rows from its zip archive, before any XML is parsed.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import hashlib
import io
import zipfile
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.contract import (
    FILE_SUFFIXES,
    MAX_CELL_CHARACTERS,
    MAX_COLUMNS,
    MAX_FILE_MB,
    MAX_ROWS,
    MAX_XLSX_ROWS,
    MAX_XLSX_UNCOMPRESSED_MB,
    TABLE_ORDER,
)
from analysis.ingest.problems import Problem

_MB = 1_000_000


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
    outside = _link_outside_folder(path)
    if outside is not None:
        return outside
    try:
        size = path.stat().st_size
        if size == 0:
            return Problem("empty_file", path.name, "the file is empty (0 bytes)")
        if size > MAX_FILE_MB.current() * _MB:
            return _over_limit(path, MAX_FILE_MB, -(-size // _MB), "the file is too large")
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
    too_wide = _check_column_count(path, len(header))
    if too_wide is not None:
        return too_wide
    too_long = _check_cell_length(path, header, cells, lines)
    if too_long is not None:
        return too_long
    return TableFile(table, path, sha256_of(path), header, cells, lines)


def _over_limit(path: Path, limit, found: int, what: str, *, counted_to_limit=False) -> Problem:
    return Problem(
        "over_limit",
        path.name,
        f"{what}: {limit.refusal(found, counted_to_limit=counted_to_limit)}",
        expected=f"at most {limit.current():,} {limit.unit} ({limit.name})",
    )


def _link_outside_folder(path: Path) -> Problem | None:
    """A symbolic link (or a file under a linked name) that leads out of the dataset folder.

    Only files inside the folder are read: a link could otherwise make an import read
    any file the user can read, and record it under a harmless name.
    """
    folder = path.parent.resolve()
    target = path.resolve()
    if target.parent == folder or folder in target.parents:
        return None
    return Problem(
        "outside_link",
        path.name,
        f"this is a link to {target}, outside the dataset folder {folder}; links out of the "
        "folder are not followed",
        expected="the file itself inside the dataset folder (copy it in instead of linking)",
    )


def _check_column_count(path: Path, columns: int) -> Problem | None:
    if columns <= MAX_COLUMNS.current():
        return None
    return _over_limit(path, MAX_COLUMNS, columns, "the file has too many columns")


def _check_cell_length(path: Path, header, cells: pd.DataFrame, lines) -> Problem | None:
    limit = MAX_CELL_CHARACTERS.current()
    for position in range(cells.shape[1]):
        lengths = cells[position].str.len()
        if len(lengths) and int(lengths.max()) > limit:
            row = int(np.argmax(lengths.to_numpy() > limit))
            return _over_limit(
                path,
                MAX_CELL_CHARACTERS,
                int(lengths.iloc[row]),
                f"line {int(lines[row])}, column '{header[position]}' holds a cell that is "
                "too long",
            )
    return None


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
    if _looks_binary(raw[:4096]):
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


_BINARY_BYTES = bytes([*range(0x00, 0x09), *range(0x0E, 0x20)])


def _looks_binary(head: bytes) -> bool:
    """A zero byte among many control bytes: a spreadsheet, archive or image saved as .csv.

    A few stray control characters in text are left for the validator, which names the
    line and column of each.
    """
    if b"\x00" not in head:
        return False
    controls = len(head) - len(head.translate(None, _BINARY_BYTES))
    return controls > max(4, len(head) // 100)


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


@dataclass(frozen=True)
class _TextFacts:
    """What one streaming pass over a CSV file learns, without holding the file."""

    first_line: str
    newlines: int
    ends_with_newline: bool
    #: a carriage return not followed by a line feed (old Mac line ends, or stray)
    lone_carriage_return: bool
    #: the file holds a double quote somewhere (quoted cells, or a stray one)
    has_quotes: bool


def _scan_text(path: Path) -> _TextFacts | Problem:
    """Check that ``path`` is UTF-8 text, reading it in blocks (memory does not grow with it).

    A file that is not UTF-8 is read whole once more by :func:`_decode`, which names the
    line of the first bad byte.
    """
    with path.open("rb") as handle:
        head = handle.read(4096)
        if _looks_like_utf16(head) or _looks_binary(head):
            return _decode(path)
        decoder = codecs.getincrementaldecoder("utf-8-sig")()
        first_line = bytearray()
        newlines, blank, last, block, lone_cr, quotes = 0, True, b"", head, False, False
        try:
            while block:
                text = decoder.decode(block)
                if blank and text.strip():
                    blank = False
                if newlines == 0:
                    first_line += block.split(b"\n", 1)[0]
                newlines += block.count(b"\n")
                # (a CR ending one block before an LF starting the next counts as lone:
                # that only sends the file to the slower parser)
                lone_cr = lone_cr or block.count(b"\r") != block.count(b"\r\n")
                quotes = quotes or b'"' in block
                last = block[-1:]
                block = handle.read(1 << 20)
            decoder.decode(b"", final=True)
        except UnicodeDecodeError:
            return _decode(path)
    if blank:
        return Problem("empty_file", path.name, "the file holds only blank space")
    return _TextFacts(
        first_line=bytes(first_line).decode("utf-8-sig"),
        newlines=newlines,
        ends_with_newline=last == b"\n",
        lone_carriage_return=lone_cr,
        has_quotes=quotes,
    )


def _read_csv(path: Path):
    facts = _scan_text(path)
    if isinstance(facts, Problem):
        return facts
    first_line = facts.first_line
    delimiter = _sniff_delimiter(first_line)
    # Checked before the whole file is parsed: a file of 20,000 columns costs minutes.
    try:
        columns = len(next(csv.reader(io.StringIO(first_line, newline=""), delimiter=delimiter)))
    except (csv.Error, StopIteration):
        columns = first_line.count(delimiter) + 1  # pandas will say what is wrong with it
    too_wide = _check_column_count(path, columns)
    if too_wide is not None:
        return too_wide
    # every line but the header could be a row (quoted line breaks make it fewer)
    lines_after_header = facts.newlines - (1 if facts.ends_with_newline else 0)
    if lines_after_header > MAX_ROWS.current():
        return _over_limit(path, MAX_ROWS, lines_after_header, "the file has too many rows")
    # Arrow is fast and light, but reads quotes and lone CRs unlike pandas in corner cases
    # (a quote left open at the end of the file...): such files keep pandas' reading.
    plain = not (facts.lone_carriage_return or facts.has_quotes)
    frame = _parse_with_arrow(path, delimiter, columns) if plain else None
    if frame is not None:
        return _split_header(path, facts, delimiter, frame)
    try:
        frame = _parse_with_pandas(path, delimiter)
    except pd.errors.ParserError as exc:
        return Problem(
            "unreadable_file",
            path.name,
            f"the rows do not line up into columns: {exc}".strip(),
            expected=f"every line to have as many '{delimiter}'-separated values as the header",
        )
    except pd.errors.EmptyDataError:
        return Problem("empty_file", path.name, "the file has no header row")
    return _split_header(path, facts, delimiter, frame)


def _split_header(path: Path, facts: _TextFacts, delimiter: str, frame: pd.DataFrame):
    header = tuple(str(v) for v in frame.iloc[0].tolist())
    body = frame.iloc[1:].reset_index(drop=True)
    del frame
    body.columns = range(body.shape[1])
    lines = _line_numbers(path, facts, delimiter, len(body))
    return header, _strip(body), lines


_TEXT = pd.StringDtype(storage="pyarrow", na_value=np.nan)
#: Rows parsed by pandas at a time: its parser makes a Python string per cell, so a
#: whole national file at once would take gigabytes that the text columns do not need.
_PANDAS_CHUNK_ROWS = 200_000


def _parse_with_pandas(path: Path, delimiter: str) -> pd.DataFrame:
    """Every cell as text, parsed by pandas block by block (raises its ParserError)."""
    chunks = pd.read_csv(
        path,
        encoding="utf-8-sig",
        sep=delimiter,
        header=None,
        dtype=str,
        keep_default_na=False,
        na_filter=False,
        skip_blank_lines=True,
        engine="c",
        chunksize=_PANDAS_CHUNK_ROWS,
    )
    with chunks:
        parts = [chunk.astype(_TEXT) for chunk in chunks]
    if not parts:
        raise pd.errors.EmptyDataError("No columns to parse from file")
    return parts[0] if len(parts) == 1 else pd.concat(parts, ignore_index=True)


def _parse_with_arrow(path: Path, delimiter: str, columns: int) -> pd.DataFrame | None:
    """Every cell as text, parsed by Arrow's CSV reader; None when it finds the file irregular.

    Arrow builds the text columns directly, where pandas' parser makes a Python string
    per cell first (gigabytes for ten million rows). Files Arrow refuses (a row with
    more or fewer cells than the header...) are parsed again by pandas, whose error
    message says which line is wrong.
    """
    import pyarrow as pa
    import pyarrow.csv as pacsv

    names = [f"c{i}" for i in range(columns)]
    try:
        table = pacsv.read_csv(
            path,
            read_options=pacsv.ReadOptions(column_names=names),
            parse_options=pacsv.ParseOptions(delimiter=delimiter, newlines_in_values=True),
            convert_options=pacsv.ConvertOptions(
                column_types=dict.fromkeys(names, pa.string()),
                null_values=[],
                strings_can_be_null=False,
                quoted_strings_can_be_null=False,
            ),
        )
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError, pa.ArrowTypeError):
        return None
    frame = table.to_pandas(types_mapper={pa.string(): _TEXT, pa.large_string(): _TEXT}.get)
    frame.columns = range(frame.shape[1])
    return frame


def _line_numbers(path: Path, facts: _TextFacts, delimiter: str, n_rows: int) -> np.ndarray:
    """Line of each data row; exact even when quoted cells hold line breaks or blank lines exist."""
    physical = facts.newlines + (0 if facts.ends_with_newline else 1)
    if physical == n_rows + 1:  # the common case: one line per row, no blank lines
        return np.arange(2, n_rows + 2)
    numbers = []
    # newline="" lets the csv module see a lone '\r' inside a cell instead of failing on it.
    with path.open(encoding="utf-8-sig", newline="") as handle:
        reader = csv.reader(handle, delimiter=delimiter)
        start = 1
        try:
            for index, row in enumerate(reader):
                if index > 0 and any(cell.strip() for cell in row):
                    numbers.append(start)
                start = reader.line_num + 1
        except csv.Error:
            # pandas parsed the file, so only the line numbers are uncertain: count rows.
            return np.arange(2, n_rows + 2)
    numbers = numbers[:n_rows] + [numbers[-1] if numbers else 2] * (n_rows - len(numbers))
    return np.asarray(numbers, dtype=np.int64)


def _strip(frame: pd.DataFrame) -> pd.DataFrame:
    """Cells without surrounding white space; a column that has none is not copied."""
    columns = {}
    for position in frame.columns:
        column = frame[position].astype(str)
        stripped = column.str.strip()
        # keep the original buffers when nothing changed (a national file's columns are
        # hundreds of megabytes each)
        columns[position] = column if bool((stripped == column).all()) else stripped
    return pd.DataFrame(columns, index=frame.index)


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
        import pyarrow.parquet as pq

        metadata = pq.read_metadata(path)
        columns, rows = metadata.num_columns, metadata.num_rows
    except Exception as exc:  # pyarrow raises many types for a file that is not Parquet
        return Problem(
            "unreadable_file", path.name, f"not a readable Parquet file ({type(exc).__name__})"
        )
    too_wide = _check_column_count(path, columns)
    if too_wide is not None:
        return too_wide
    if rows > MAX_ROWS.current():
        return _over_limit(path, MAX_ROWS, rows, "the file has too many rows")
    try:
        frame = pd.read_parquet(path)
    except Exception as exc:  # pyarrow raises many types for a file that is not Parquet
        return Problem(
            "unreadable_file", path.name, f"not a readable Parquet file ({type(exc).__name__})"
        )
    return _typed_frame_to_text(frame)


#: Sheet rows as the XML writes them: ``<row ...>``, also with a namespace prefix.
_ROW_TAGS: tuple[bytes, ...] = (b"<row ", b"<row>", b":row ", b":row>")


def _check_xlsx_archive(path: Path) -> Problem | None:
    """Refuse a workbook whose parsing could exhaust memory or time, before parsing it.

    The uncompressed sizes come from the zip directory; reading an entry never yields
    more than its declared size (:mod:`zipfile` stops there), so a zip bomb that lies
    about its size is cut off too. Sheet rows are counted in the decompressed stream
    and the count stops as soon as it passes the limit.
    """
    try:
        with zipfile.ZipFile(path) as archive:
            entries = archive.infolist()
            total = sum(entry.file_size for entry in entries)
            if total > MAX_XLSX_UNCOMPRESSED_MB.current() * _MB:
                return _over_limit(
                    path,
                    MAX_XLSX_UNCOMPRESSED_MB,
                    -(-total // _MB),
                    "the workbook is too large once uncompressed",
                )
            max_rows = MAX_XLSX_ROWS.current()
            for entry in entries:
                if entry.filename.startswith("xl/worksheets/") and entry.filename.endswith(".xml"):
                    rows = _count_sheet_rows(archive, entry, stop_after=max_rows)
                    if rows > max_rows:
                        return _over_limit(
                            path, MAX_XLSX_ROWS, rows, "a sheet of the workbook has too many rows",
                            counted_to_limit=True,
                        )
    except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, RuntimeError,
            EOFError, ValueError) as exc:
        return Problem(
            "unreadable_file", path.name, f"not a readable XLSX workbook ({type(exc).__name__})"
        )
    return None


def _count_sheet_rows(archive: zipfile.ZipFile, entry: zipfile.ZipInfo, stop_after: int) -> int:
    """``<row>`` elements of one sheet's XML, counting no further than ``stop_after + 1``."""
    rows = 0
    tail = b""
    with archive.open(entry) as handle:
        while chunk := handle.read(1 << 20):
            data = tail + chunk
            # Tags wholly inside the kept tail were counted with the previous chunk.
            rows += sum(data.count(tag) - tail.count(tag) for tag in _ROW_TAGS)
            if rows > stop_after:
                return rows
            tail = data[-5:]
    return rows


def _read_xlsx(path: Path):
    refused = _check_xlsx_archive(path)
    if refused is not None:
        return refused
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
