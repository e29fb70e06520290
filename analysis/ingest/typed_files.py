"""Reading the typed table files, Parquet and XLSX, as text cells.

A typed cell becomes the text a clerk would have typed (dates as YYYY-MM-DD, whole
numbers without ``.0``), so that validation treats them as it treats CSV. An XLSX
workbook's uncompressed size and sheet rows are checked from its zip archive before
any XML is parsed (:data:`analysis.contract.LIMITS`).
"""

from __future__ import annotations

import datetime as dt
import zipfile
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.contract import LIST_SEPARATOR, MAX_ROWS, MAX_XLSX_ROWS, MAX_XLSX_UNCOMPRESSED_MB
from analysis.ingest import readers
from analysis.ingest.problems import Problem

_MB = 1_000_000


def _cell_to_text(value) -> str:
    """Text for a typed cell of Parquet/XLSX: dates as YYYY-MM-DD, whole floats without '.0',
    lists as their values separated by ``;``."""
    if isinstance(value, list | tuple | np.ndarray):
        # A Parquet list column (regions, languages): the values as a list cell is written.
        return LIST_SEPARATOR.join(_cell_to_text(v) for v in value)
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


def open_parquet(path: Path):
    """Header, blocks of text cells and line numbers of a Parquet file (or a Problem)."""
    try:
        import pyarrow.parquet as pq

        parquet = pq.ParquetFile(path)
        metadata = parquet.metadata
        columns, rows = metadata.num_columns, metadata.num_rows
        schema = parquet.schema_arrow
    except Exception as exc:  # pyarrow raises many types for a file that is not Parquet
        return Problem(
            "unreadable_file", path.name, f"not a readable Parquet file ({type(exc).__name__})"
        )
    too_wide = readers.check_column_count(path, columns)
    if too_wide is not None:
        return too_wide
    if rows > MAX_ROWS.current():
        return readers.over_limit(path, MAX_ROWS, rows, "the file has too many rows")
    # pandas' index columns (``__index_level_0__``...) are not cells: pandas' own
    # reading makes them the index, so they were never part of the header.
    index_columns = {c for c in (schema.pandas_metadata or {}).get("index_columns", [])
                     if isinstance(c, str)}
    names = [n for n in schema.names if n not in index_columns]

    def blocks():
        try:
            for batch in parquet.iter_batches(batch_size=readers.BLOCK_ROWS, columns=names):
                _, body, _ = _typed_frame_to_text(batch.to_pandas(ignore_metadata=True))
                yield body
        except Exception as exc:  # pyarrow raises many types for a damaged file
            raise readers.UnreadableFile(Problem(
                "unreadable_file", path.name,
                f"not a readable Parquet file ({type(exc).__name__})",
            )) from None

    return tuple(str(n) for n in names), blocks(), lambda n: np.arange(2, n + 2)


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
                return readers.over_limit(
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
                        return readers.over_limit(
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


def read_xlsx(path: Path):
    """Header, the sheet's text cells as one block and line numbers (or a Problem)."""
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
        return (), iter(()), lambda n: np.arange(0)
    # Row 0 of the sheet is line 1 (the header); read with header=None so that
    # duplicated or blank headers are seen as the user wrote them.
    header = tuple(_cell_to_text(v) for v in frame.iloc[0].tolist())
    body = frame.iloc[1:]
    lines = body.index.to_numpy() + 1
    _, cells, _ = _typed_frame_to_text(body.reset_index(drop=True))
    return header, iter((cells,)), lambda n: lines
