"""Import form service: stage uploaded files, validate them, import them.

Layer rule: this module belongs to the *services* layer (``analysis/views/``). It is pure
Python — it never imports streamlit — so the whole flow is tested without a browser.
It is the one view module that writes, and only through
:func:`analysis.ingest.import_dataset` (an atomic file swap: the dashboard keeps
reading the old file until its cache is cleared and it reopens the database).

Flow: :func:`stage_files` saves the uploads in a fresh temporary folder under the
contract's file names (``releases.csv``, ``events.xlsx``...), :func:`validate_staged`
checks them against the contract and the identifiers already in the target database,
:func:`problems_table` lists what is wrong (file, line, column, value, expected), and
:func:`import_staged` imports. :func:`discard` removes the folder. :func:`prepare_upload`
does the first three steps at once for the page.

Writing is allowed only when the dashboard was started with ``DESIST_ALLOW_IMPORT=1``
(:func:`import_allowed`): a dashboard shown to donors must not be able to change data.
"""

from __future__ import annotations

import datetime as dt
import os
import shutil
import tempfile
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import pandas as pd

from analysis.contract import FILE_SUFFIXES, TABLE_ORDER
from analysis.errors import DesistError, InvalidDatasetError
from analysis.ingest import ImportReport, ValidationReport, import_dataset, validate_dataset
from analysis.ingest.importer import known_ids_in
from analysis.views.stored import store_default_views
from analysis.views.words import Note

#: Environment variable that enables the import form.
ALLOW_ENV_VAR = "DESIST_ALLOW_IMPORT"
REQUIRED_TABLES: tuple[str, ...] = ("releases",)
OPTIONAL_TABLES: tuple[str, ...] = tuple(t for t in TABLE_ORDER if t not in REQUIRED_TABLES)
PROBLEM_COLUMNS = ("file", "line", "column", "value", "expected", "message", "kind")


def import_allowed(environ: Mapping[str, str] | None = None) -> bool:
    """True when the app was started with ``DESIST_ALLOW_IMPORT=1``."""
    environ = os.environ if environ is None else environ
    return environ.get(ALLOW_ENV_VAR, "").strip() == "1"


class UploadError(DesistError):
    """An upload cannot be staged (unknown table, unsupported file type, no releases)."""


@dataclass(frozen=True)
class StagedDataset:
    """Uploaded files saved under the contract's names in a fresh folder."""

    folder: Path
    files: dict[str, str]  # table -> file name in the folder


def stage_files(uploads: Mapping[str, tuple[str, bytes]]) -> StagedDataset:
    """Save uploads as a dataset folder in the data-contract format.

    Parameters
    ----------
    uploads
        ``table -> (original file name, content)``; the table is one of
        :data:`analysis.contract.TABLE_ORDER`, and the original name only gives the
        format (``.csv``, ``.parquet`` or ``.xlsx``).

    Raises
    ------
    UploadError
        No releases file, an unknown table or an unsupported file type. Nothing is kept.
    """
    unknown = [t for t in uploads if t not in TABLE_ORDER]
    if unknown:
        raise UploadError(f"unknown table(s) {unknown}; tables are {', '.join(TABLE_ORDER)}")
    if not all(t in uploads for t in REQUIRED_TABLES):
        raise UploadError("a releases file is required (releases.csv, .parquet or .xlsx)")
    names = {}
    for table, (original, _) in uploads.items():
        suffix = Path(original).suffix.lower()
        if suffix not in FILE_SUFFIXES:
            raise UploadError(
                f"{original}: the {table} file must be {', '.join(FILE_SUFFIXES)}, "
                f"not '{suffix or 'no extension'}'")
        names[table] = f"{table}{suffix}"
    folder = Path(tempfile.mkdtemp(prefix="desist-upload-"))
    for table, (_, content) in uploads.items():
        (folder / names[table]).write_bytes(content)
    return StagedDataset(folder, names)


def validate_staged(staged: StagedDataset, db: str | os.PathLike[str], *,
                    key_file: str | os.PathLike[str] | None = None,
                    today: dt.date | None = None) -> ValidationReport:
    """Check the staged files; identifiers already in ``db`` count as known.

    A participation or event of a person imported earlier is then not reported as an
    unknown person — exactly what the import itself will accept.
    """
    known = known_ids_in(Path(db), key_file) if Path(db).is_file() else None
    return validate_dataset(staged.folder, today=today, known=known)


def problems_table(report: ValidationReport, limit: int = 1000) -> pd.DataFrame:
    """The report's problems, one row each: file, line, column, value, expected, message."""
    rows = [p.as_dict() for p in report.problems[:limit]]
    return pd.DataFrame(rows, columns=list(PROBLEM_COLUMNS)).astype({"line": "Int64"})


@dataclass(frozen=True)
class PreparedUpload:
    """Staged uploads and their validation: ``error`` when they could not even be checked."""

    staged: StagedDataset | None
    report: ValidationReport | None
    problems: pd.DataFrame
    error: str | None = None

    @property
    def ok(self) -> bool:
        """True when the files were staged and validation found nothing wrong."""
        return self.error is None and self.report is not None and self.report.ok


def prepare_upload(uploads: Mapping[str, tuple[str, bytes]], db: str | os.PathLike[str], *,
                   key_file: str | os.PathLike[str] | None = None,
                   today: dt.date | None = None) -> PreparedUpload:
    """Stage and validate uploads in one step; problems are returned, never raised.

    The caller owns ``result.staged`` and removes it with :func:`discard`.
    """
    try:
        staged = stage_files(uploads)
    except UploadError as exc:
        return PreparedUpload(None, None, problems_table(ValidationReport("")), str(exc))
    try:
        report = validate_staged(staged, db, key_file=key_file, today=today)
    except DesistError as exc:  # e.g. the database's pseudonymization key is missing
        return PreparedUpload(staged, None, problems_table(ValidationReport("")), str(exc))
    return PreparedUpload(staged, report, problems_table(report))


@dataclass(frozen=True)
class ImportOutcome:
    """What an import did: the report on success, or the reason nothing was written.

    ``message`` is a :class:`~analysis.views.words.Note`: ``imported`` (``batch``,
    ``inserted``, ``rejected``) or ``not_imported`` (``error``, the importer's message).
    """

    ok: bool
    message: Note
    report: ImportReport | None = None
    problems: pd.DataFrame | None = None

    def tables(self) -> pd.DataFrame:
        """Rows read / inserted / updated / unchanged / rejected per table."""
        if self.report is None:
            return pd.DataFrame()
        return pd.DataFrame(
            [{"table": name, **vars(counts)} for name, counts in self.report.tables.items()])


def import_staged(staged: StagedDataset, db: str | os.PathLike[str], *,
                  key_file: str | os.PathLike[str] | None = None,
                  skip_invalid: bool = False, today: dt.date | None = None) -> ImportOutcome:
    """Import the staged folder into ``db`` (all or nothing unless ``skip_invalid``).

    With ``skip_invalid`` the rejected rows and their reasons are written to
    ``rejected_rows.csv`` in the staging folder (they hold raw identifiers, so they stay
    there and are removed with it). Errors the user can fix are returned, not raised.
    """
    rejects = staged.folder / "rejected_rows.csv" if skip_invalid else None
    try:
        # The rejects file sits inside the staged folder on purpose (it is removed with
        # it), which the importer refuses unless told that the caller chose the place.
        report = import_dataset(staged.folder, db, key_file=key_file,
                                skip_invalid=skip_invalid, rejects=rejects, today=today,
                                force_rejects=skip_invalid, after_commit=store_default_views)
    except InvalidDatasetError as exc:
        problems = problems_table(exc.report) if getattr(exc, "report", None) else None
        return ImportOutcome(False, Note("not_imported", {"error": str(exc)}), None, problems)
    except DesistError as exc:
        return ImportOutcome(False, Note("not_imported", {"error": str(exc)}))
    inserted = sum(c.inserted for c in report.tables.values())
    message = Note("imported", {"batch": report.batch_id, "inserted": inserted,
                                "rejected": report.rows_rejected})
    return ImportOutcome(True, message, report)


def discard(staged: StagedDataset) -> None:
    """Remove the staging folder and everything in it."""
    shutil.rmtree(staged.folder, ignore_errors=True)
