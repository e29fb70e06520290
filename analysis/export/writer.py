"""Write an export: the rows in their format, and the data dictionary beside them."""

from __future__ import annotations

import datetime as dt
import os
import re
from dataclasses import dataclass
from pathlib import Path

import duckdb

from analysis.errors import UnsafeOutputPathError
from analysis.export.dictionary import (
    DICTIONARY_SUFFIX,
    ExportFacts,
    column_entries,
    column_type,
    dictionary_markdown,
)
from analysis.export.files import PendingFile, check_output_path
from analysis.export.formats import FORMATS, Format, write_frame
from analysis.export.names import portable_names
from analysis.export.refit_code import r_lines, stata_lines
from analysis.export.rows import ExportRows
from analysis.impact.report_context import data_date
from analysis.survival.cox_study import available_covariates


@dataclass(frozen=True)
class ExportResult:
    """What was written.

    Attributes
    ----------
    data_file, dictionary_file : Path
    rows, releases : int
    columns : tuple of str
        The file's column names (portable names, :mod:`analysis.export.names`).
    renamed : dict
        Original name -> name in the file, for the columns whose name changed.
    """

    data_file: Path
    dictionary_file: Path
    rows: int
    releases: int
    columns: tuple[str, ...]
    renamed: dict[str, str]

    def as_dict(self) -> dict:
        """The ``desist export --json`` payload."""
        return {"file": str(self.data_file), "dictionary": str(self.dictionary_file),
                "rows": self.rows, "releases": self.releases, "columns": list(self.columns),
                "renamed": self.renamed}


def dictionary_path(out: str | os.PathLike[str]) -> Path:
    """Where the dictionary of ``out`` goes: beside it, ``FILE.dictionary.md``.

    Examples
    --------
    >>> str(dictionary_path("exports/cox.dta"))
    'exports/cox.dta.dictionary.md'
    """
    out = Path(out)
    return out.with_name(out.name + DICTIONARY_SUFFIX)


def format_of(out: str | os.PathLike[str], fmt: str | None) -> Format:
    """``fmt``, else the format the file name ends with.

    Examples
    --------
    >>> format_of("rows.DTA", None), format_of("rows.txt", "csv")
    ('dta', 'csv')
    """
    chosen = fmt or Path(out).suffix.lstrip(".").lower()
    for known in FORMATS:
        if chosen == known:
            return known
    raise UnsafeOutputPathError(
        f"--out {out}: say which format with --format ({', '.join(FORMATS)}), or end the "
        "file name with .parquet, .csv or .dta")


def check_export_paths(out: str | os.PathLike[str], *, db: Path, key: Path,
                       force: bool = False) -> tuple[Path, Path]:
    """Check the export and its dictionary before anything is read (see :mod:`.files`)."""
    data_file = check_output_path(out, db=db, key=key, force=force)
    dictionary = check_output_path(dictionary_path(out), db=db, key=key, force=force,
                                   option="the dictionary of --out,")
    return data_file, dictionary


def _plain(meaning: str) -> str:
    return re.sub(r"\\(.)", r"\1", meaning)  # a Stata label is not Markdown


def write_export(con: duckdb.DuckDBPyConnection, rows: ExportRows,
                 out: str | os.PathLike[str], fmt: Format, *, db: Path, key: Path,
                 force: bool = False, command: str = "desist export") -> ExportResult:
    """Write ``rows`` to ``out`` as ``fmt`` and the dictionary beside it, each atomically.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        The study database the rows came from (for programme names and the data date).
    rows : ExportRows
        From :func:`~analysis.export.rows.episode_rows` or
        :func:`~analysis.export.rows.counting_process_rows`.
    out : path
    fmt : {"parquet", "csv", "dta"}
    db, key : Path
        The database and its key file: never overwritten.
    force : bool
        Replace existing files.
    command : str
        The command line written into the dictionary.

    Returns
    -------
    ExportResult
    """
    import analysis  # the version is read on first use

    data_file, dictionary_file = check_export_paths(out, db=db, key=key, force=force)
    portable = portable_names(rows.frame.columns, stata=fmt == "dta")
    frame = rows.frame.rename(columns=portable)
    text_columns = [portable[c] for c in rows.frame.columns
                    if column_type(rows.frame[c]) == "text"]
    names = dict(con.execute("SELECT program_id, name FROM programs").fetchall())
    entries = column_entries(rows, names, portable, available_covariates(con))
    latest = data_date(con)
    facts = ExportFacts(
        data_file.name, fmt, command, db.name, latest.isoformat() if latest else None,
        analysis.__version__,
        dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC"))
    renamed = {old: new for old, new in portable.items() if old != new}
    markdown = dictionary_markdown(
        rows, entries, facts, renamed,
        r_lines(rows, data_file.name, fmt, portable, text_columns),
        stata_lines(rows, data_file.name, fmt, portable, text_columns))
    title = f"Desistance {rows.kind} export; see {dictionary_file.name}"
    data = PendingFile(data_file, lambda path: write_frame(
        frame, path, fmt, labels={e.name: _plain(e.meaning) for e in entries}, title=title))
    try:
        dictionary = PendingFile(dictionary_file,
                                 lambda path: path.write_text(markdown, encoding="utf-8"))
    except BaseException:
        data.discard()
        raise
    try:
        data.publish(force=force)
    except BaseException:
        dictionary.discard()
        raise
    try:
        dictionary.publish(force=force)
    except BaseException:
        if not force:  # the data file is new: take it back rather than leave it alone
            os.unlink(data_file)
        raise
    return ExportResult(data_file, dictionary_file, len(frame), rows.n_releases,
                        tuple(frame.columns), renamed)
