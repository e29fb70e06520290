"""The rejects file of ``desist import --skip-invalid --rejects FILE``.

It lists every row that was left out, with its reasons and its cells exactly as given,
raw person ids included. So it is handled like the source files it came from:

- its path is checked before the import starts (:func:`check_rejects_path`): it never
  replaces the database, its key, lock, write-ahead log or temporary copy, even with
  ``--force``; it replaces an existing file, or is written inside the dataset folder,
  only with ``--force``;
- it is created owner-only (mode 0600) whatever the umask, and never through a
  symlink or over a file that appeared meanwhile (``O_CREAT | O_EXCL``);
- its first line, a comment, says that it holds raw identifiers and must be deleted
  once the rows are corrected (:data:`FIRST_LINE`; :func:`read_rejects` skips it);
- cells that a spreadsheet would run as a formula (``=``, ``+``, ``-``, ``@``, tab,
  carriage return) are neutralised exactly as in the dashboard's downloads
  (:func:`analysis.spreadsheet_safety.neutralize_formulas`);
- it appears only if the import succeeds: the importer writes it before the database
  is swapped in (:func:`write_rejects`), puts it in place just before the swap
  (:meth:`PendingRejects.publish`) and removes it if the import fails after all
  (:meth:`PendingRejects.discard`).
"""

from __future__ import annotations

import contextlib
import csv
import os
import uuid
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from analysis.errors import UnsafeOutputPathError
from analysis.ingest.problems import ValidationReport
from analysis.spreadsheet_safety import neutralize_formulas

#: The file's first line. No comma or semicolon, so that a spreadsheet shows it in one
#: cell whatever its list separator; ``#`` cannot start a formula.
FIRST_LINE = (
    "# CONFIDENTIAL - this file holds raw person identifiers - "
    "delete it once the rejected rows are corrected"
)
#: Owner-only: the file holds raw identifiers.
REJECTS_FILE_MODE = 0o600


def _absolute(path: str | os.PathLike[str]) -> Path:
    """``path`` made absolute and with every symlink resolved (it need not exist)."""
    return Path(os.path.realpath(os.path.abspath(path)))


def database_files(db: Path, key: Path) -> dict[Path, str]:
    """The files that belong to the database and must never be replaced, by description."""
    files: dict[Path, str] = {}
    for folder_of_db in {Path(os.path.abspath(db)), _absolute(db)}:
        files[folder_of_db] = "the study database"
        for suffix, what in ((".key", "the pseudonymization key"),
                             (".lock", "the database's lock file"),
                             (".wal", "the database's write-ahead log"),
                             (".tmp", "DuckDB's temporary folder of the database"),
                             # the served dashboard's files (analysis/access/config.py)
                             (".access.toml", "the access configuration"),
                             (".users.json", "the accounts file"),
                             (".users.json.lock", "the accounts' lock file"),
                             (".audit.jsonl", "the audit trail")):
            files[folder_of_db.with_name(folder_of_db.name + suffix)] = what
    for key_path in {Path(os.path.abspath(key)), _absolute(key)}:
        files[key_path] = "the pseudonymization key"
    return files


def check_rejects_path(
    rejects: str | os.PathLike[str],
    *,
    db: str | os.PathLike[str],
    key: str | os.PathLike[str],
    dataset: str | os.PathLike[str],
    force: bool = False,
) -> Path:
    """Refuse a rejects path that would overwrite something; return it as a ``Path``.

    Called before the import does anything, so a refusal writes nothing at all.
    Symlinks, hard links and relative paths are resolved before comparing.

    Parameters
    ----------
    rejects
        The ``--rejects`` path.
    db, key
        The study database and its key file, as the importer resolves them
        (``--key-file``, else ``$DESIST_KEY_FILE``, else ``<db>.key``).
    dataset
        The dataset folder being imported.
    force
        Allow replacing an existing file, and writing inside the dataset folder.

    Raises
    ------
    UnsafeOutputPathError
        For the database, its key, lock, write-ahead log or temporary copies (even
        with ``force``), an existing folder, and without ``force`` an existing file or
        a path inside the dataset folder.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> check_rejects_path(folder / "study.duckdb.key", db=folder / "study.duckdb",
    ...                    key=folder / "study.duckdb.key", dataset=folder / "data",
    ...                    force=True)
    Traceback (most recent call last):
    ...
    analysis.errors.UnsafeOutputPathError: ...is the pseudonymization key...
    """
    path = Path(rejects)
    resolved = _absolute(path)
    shown = str(path) if Path(os.path.abspath(path)) == resolved else f"{path} (= {resolved})"
    db_path = Path(db)
    for protected, what in database_files(db_path, Path(key)).items():
        if resolved == protected or same_file(resolved, protected):
            raise UnsafeOutputPathError(
                f"--rejects {shown} is {what}; the rejected rows would destroy it. Choose "
                "another file for them (--force does not allow this)"
            )
    for folder_of_db in {Path(os.path.abspath(db_path)).parent, _absolute(db_path).parent}:
        if resolved.parent == folder_of_db and resolved.name.startswith(
                f"{db_path.name}.import-"):
            raise UnsafeOutputPathError(
                f"--rejects {shown} is named like a temporary copy of {db_path}, which the "
                "next import deletes. Choose another file (--force does not allow this)"
            )
    if resolved.is_dir():
        raise UnsafeOutputPathError(
            f"--rejects {shown} is a folder; give the path of a new file, for example "
            f"{path / 'rejects.csv'}"
        )
    if force:
        return path
    dataset_folder = _absolute(dataset)
    if resolved.is_relative_to(dataset_folder):
        raise UnsafeOutputPathError(
            f"--rejects {shown} is inside the dataset folder {dataset}; write it elsewhere "
            "so that it cannot replace a source file or be read as one next time "
            "(or add --force)"
        )
    if os.path.lexists(path):
        raise UnsafeOutputPathError(
            f"--rejects {shown} already exists; choose a new file name, or add --force "
            "to replace it"
        )
    return path


def same_file(a: Path, b: Path) -> bool:
    """Whether both exist and are the same file (a hard link, say)."""
    try:
        return os.path.samefile(a, b)
    except OSError:
        return False


@dataclass
class PendingRejects:
    """A rejects file written but not yet in place (see :func:`write_rejects`)."""

    path: Path  # where the user asked for it
    written: Path  # where it was written: ``path`` itself, or a temporary file beside it
    published: bool = False
    #: The outermost folder made for it (removed again with the file, when empty).
    made_folder: Path | None = None

    def publish(self) -> str:
        """Put the file in place (just before the database is swapped in); return its path."""
        if self.written != self.path:
            os.replace(self.written, self.path)  # --force over an existing file
        self.published = True
        return str(self.path)

    def discard(self) -> None:
        """Remove what was written: the import failed, so it leaves no rejects file.

        A file that ``--force`` already replaced cannot be brought back; every other
        case leaves the folder as it was.
        """
        with contextlib.suppress(FileNotFoundError):
            if not self.published:
                os.unlink(self.written)
            elif self.written == self.path:  # a new file, created by this import
                os.unlink(self.path)
        if self.made_folder is not None:
            folder = self.path.parent
            with contextlib.suppress(OSError):  # stops at the first folder not empty
                while True:
                    folder.rmdir()
                    if folder == self.made_folder:
                        break
                    folder = folder.parent


def write_rejects(
    path: str | os.PathLike[str],
    parsed: dict,
    report: ValidationReport,
    *,
    force: bool = False,
) -> PendingRejects:
    """Write every rejected row of ``parsed`` with its reasons; owner-only, never over a file.

    Parameters
    ----------
    path
        The rejects file, already checked with :func:`check_rejects_path`.
    parsed
        Table name -> :class:`analysis.ingest.validate.ParsedTable`.
    report
        The validation report whose problems give each row's reasons.
    force
        When ``path`` exists (allowed by ``--force``), write beside it and replace it
        only on :meth:`PendingRejects.publish`.

    Returns
    -------
    PendingRejects
        Publish it once the import is sure to succeed; discard it otherwise.
    """
    target = Path(path)
    made_folder = next((folder for folder in reversed(target.parents) if not folder.exists()),
                       None)
    target.parent.mkdir(parents=True, exist_ok=True)
    replaces = force and os.path.lexists(target)
    written = target.with_name(f"{target.name}.{uuid.uuid4().hex[:8]}.partial") if replaces \
        else target
    try:
        # O_EXCL: never through a symlink, never over a file that appeared since the check.
        descriptor = os.open(written, os.O_WRONLY | os.O_CREAT | os.O_EXCL, REJECTS_FILE_MODE)
    except FileExistsError:
        raise UnsafeOutputPathError(
            f"--rejects {target} appeared while the import ran; nothing was changed. Choose "
            "a new file name and run the import again"
        ) from None
    pending = PendingRejects(target, written, made_folder=made_folder)
    try:
        with os.fdopen(descriptor, "w", encoding="utf-8", newline="") as handle:
            handle.write(FIRST_LINE + "\r\n")
            neutralize_formulas(rejected_rows(parsed, report)).to_csv(
                handle, index=False, lineterminator="\r\n"
            )
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        pending.discard()
        raise
    return pending


def rejected_rows(parsed: dict, report: ValidationReport) -> pd.DataFrame:
    """One row per rejected row: table, file, line, reasons, then the row's own cells.

    The cell columns are every column name found in the dataset (lower-cased, in order
    of first appearance); a table without that column leaves it empty.
    """
    reasons: dict[tuple[str, int], list[str]] = {}
    for problem in report.problems:
        if problem.line is not None:
            reasons.setdefault((problem.file, problem.line), []).append(str(problem))
    columns: list[str] = []
    for table in parsed.values():
        for name in table.source.header:
            if name.strip().lower() not in columns:
                columns.append(name.strip().lower())
    rows = []
    for name, table in parsed.items():
        header = [h.strip().lower() for h in table.source.header]
        for row in np.flatnonzero(~table.row_ok):
            line = int(table.source.lines[row])
            cells = dict(zip(header, table.source.cells.iloc[row].tolist(), strict=False))
            why = " | ".join(reasons.get((table.source.name, line), ["rejected"]))
            rows.append([name, table.source.name, line, why, *(cells.get(c, "") for c in columns)])
    return pd.DataFrame(rows, columns=["table", "file", "line", "reasons", *columns],
                        dtype=object)


def read_rejects(path: str | os.PathLike[str]) -> pd.DataFrame:
    """Read a rejects file back (skipping its first, comment line), every cell as text.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> f = pathlib.Path(tempfile.mkdtemp()) / "r.csv"
    >>> _ = f.write_text(FIRST_LINE + "\\ntable,line\\nreleases,3\\n", encoding="utf-8")
    >>> read_rejects(f).to_dict("records")
    [{'table': 'releases', 'line': '3'}]
    """
    return pd.read_csv(path, skiprows=1, dtype=str, keep_default_na=False, encoding="utf-8")


def csv_rows(path: str | os.PathLike[str]) -> list[dict[str, str]]:
    """The rejects file's rows as dictionaries (the standard-library way), comment skipped."""
    with open(path, encoding="utf-8", newline="") as handle:
        handle.readline()
        return list(csv.DictReader(handle))
