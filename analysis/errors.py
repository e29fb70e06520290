"""Exceptions the product raises for problems a user can fix.

Every :class:`DesistError` is shown to the user as a plain message (the CLI exits
with status 2); anything else is an internal error (exit status 1).
"""

from __future__ import annotations

import errno
import os
import re
from pathlib import Path


class DesistError(Exception):
    """A problem with the user's input or environment, explained in the message.

    The CLI prints the message and exits with :attr:`exit_code` (2); the dashboard
    shows it as an error box. Any other exception is an internal error.

    Parameters
    ----------
    message : str
        What went wrong and what to do, naming the file, line and field when there
        is one.

    Examples
    --------
    >>> try:
    ...     raise DesistError("releases.csv line 4, field release_date: expected a date")
    ... except DesistError as problem:
    ...     print(problem, "-> exit", problem.exit_code)
    releases.csv line 4, field release_date: expected a date -> exit 2
    """

    exit_code = 2


class DatabaseError(DesistError):
    """The study database is missing, unreadable or of an unknown schema."""


class InvalidDatasetError(DesistError):
    """A dataset failed validation; ``report`` holds every problem found."""

    def __init__(self, message: str, report=None):
        super().__init__(message)
        self.report = report


class AnalysisError(DesistError):
    """An analysis cannot be done as asked (unknown field, no events, group too small...).

    Parameters
    ----------
    message : str
        Why, and what to ask instead.

    Examples
    --------
    >>> import analysis as ds
    >>> isinstance(ds.AnalysisError("no such field"), ds.DesistError)
    True
    """


class ModelNotConvergedError(AnalysisError):
    """A model's fit did not converge (e.g. a coefficient running off to infinity).

    Distinct from a model that cannot be estimated at all (no events, everyone with the
    outcome): the data allow the model, the estimation did not settle, so the result
    says "did not converge" rather than "not estimable".

    Examples
    --------
    >>> isinstance(ModelNotConvergedError("did not converge"), AnalysisError)
    True
    """


class UnsafeOutputPathError(DesistError):
    """An output file (``--rejects``) would overwrite something that must be kept."""


class DiskFullError(DesistError):
    """The device holding a file the command writes ran out of space."""


class DamagedDatabaseError(DatabaseError):
    """The study database file is damaged, truncated or not a DuckDB database."""


#: DuckDB messages that mean the database file itself is bad, not the program.
_DAMAGED_DATABASE_SIGNS = (
    "could not read enough bytes from file",
    "is not a valid duckdb database file",
    "corrupt database file",
    "does not match stored checksum",
    "database file is too small",
)
_NO_SPACE_SIGNS = ("no space left on device", "disk quota exceeded")
_QUOTED_FILE = re.compile(r'file "([^"]+)"')


def _causes(exc: BaseException | None):
    """``exc`` and the exceptions it was raised from or while handling."""
    seen: set[int] = set()
    while exc is not None and id(exc) not in seen:
        seen.add(id(exc))
        yield exc
        exc = exc.__cause__ or exc.__context__


#: DuckDB's exceptions for failed reads and writes of its files (by name: no import here).
_DUCKDB_STORAGE_ERRORS = {"IOException", "FatalException", "Error", "InternalException"}


def _is_storage_error(exc: BaseException) -> bool:
    """An OS error, or DuckDB failing to read or write a file (not a bad query or value)."""
    kind = type(exc)
    return isinstance(exc, OSError) or (
        kind.__module__.lstrip("_").startswith("duckdb") and kind.__name__ in _DUCKDB_STORAGE_ERRORS
    )


def is_no_space(exc: BaseException) -> bool:
    """Whether ``exc`` (or its cause) is a full disk or an exhausted quota.

    Examples
    --------
    >>> import errno
    >>> is_no_space(OSError(errno.ENOSPC, "No space left on device"))
    True
    >>> is_no_space(OSError('Could not write file "x": No space left on device'))
    True
    >>> is_no_space(ValueError("bad value"))
    False
    """
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.errno in (errno.ENOSPC, errno.EDQUOT):
            return True
        if _is_storage_error(cause) and any(
                sign in str(cause).lower() for sign in _NO_SPACE_SIGNS):
            return True
    return False


def is_damaged_database(exc: BaseException) -> bool:
    """Whether ``exc`` is DuckDB reporting a damaged, truncated or foreign file.

    Examples
    --------
    >>> is_damaged_database(IOError('Could not read enough bytes from file "s.duckdb"'))
    True
    >>> is_damaged_database(KeyError("releases"))
    False
    """
    return any(
        _is_storage_error(cause) and sign in str(cause).lower()
        for cause in _causes(exc)
        for sign in _DAMAGED_DATABASE_SIGNS
    )


def file_named_in(exc: BaseException) -> str | None:
    """The file an OS or DuckDB error names, if any (``OSError.filename``, ``file "..."``)."""
    for cause in _causes(exc):
        if isinstance(cause, OSError) and cause.filename:
            return os.fsdecode(cause.filename)
        match = _QUOTED_FILE.search(str(cause))
        if match:
            return match.group(1)
    return None


def mount_point(path: str | os.PathLike[str]) -> Path:
    """The mount point of the device holding ``path`` (or of its nearest existing parent).

    Examples
    --------
    >>> mount_point("/")
    PosixPath('/')
    """
    current = Path(os.path.abspath(path))
    while not current.exists() and current != current.parent:
        current = current.parent
    device = current.stat().st_dev
    while current != current.parent and current.parent.stat().st_dev == device:
        current = current.parent
    return current


def no_space_error(where: str | os.PathLike[str], *, action: str) -> DiskFullError:
    """The message for a full disk: what failed, and which device to free space on.

    ``action`` says what could not be done ("cannot import into study.duckdb"); ``where``
    is the file or folder that was being written.

    Examples
    --------
    >>> str(no_space_error("/", action="cannot import into /s.duckdb"))[:70]
    'cannot import into /s.duckdb: no space left on the device; nothing was'
    """
    folder = Path(os.path.abspath(where))
    if not folder.is_dir():
        folder = folder.parent
    try:
        device = f"the device mounted at {mount_point(folder)}"
    except OSError:
        device = "that device"
    return DiskFullError(
        f"{action}: no space left on the device; nothing was changed. {folder} is on "
        f"{device}, which is full: free some space there (an import needs room for a "
        "second copy of the database) and run the command again"
    )


def damaged_database_error(db: str | os.PathLike[str] | None, exc: BaseException
                           ) -> DamagedDatabaseError:
    """The message for a database file DuckDB cannot read: name the file, say what to do."""
    named = file_named_in(exc)
    name = named or (os.fspath(db) if db is not None else "the database file")
    # The import works on a temporary copy: name the live file the user knows.
    if db is not None and ".import-" in Path(name).name:
        name = os.fspath(db)
    if db is not None and named is not None and name != os.fspath(db) and not _same_path(
            name, db):
        # DuckDB was reading another file (a dataset file it was asked to read).
        return DamagedDatabaseError(
            f"{name} is damaged or truncated ({_first_line(exc)}); nothing was changed. "
            "Replace it with a complete copy and run the command again"
        )
    return DamagedDatabaseError(
        f"{name} is damaged, truncated or not a DuckDB database ({_first_line(exc)}); "
        "nothing was changed. Restore it from a backup, or rebuild it by importing the "
        "original files into a new database"
    )


def _same_path(a: str | os.PathLike[str], b: str | os.PathLike[str]) -> bool:
    return os.path.realpath(a) == os.path.realpath(b)


def _first_line(exc: BaseException) -> str:
    return str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__


def storage_problem(exc: BaseException, path: str | os.PathLike[str], *, action: str
                    ) -> DesistError | None:
    """The message a user can act on for a failure while writing ``path``, else None.

    Disk full, no permission, a folder where a file should be, a damaged database: an
    OSError or DuckDB's own report of one, from any step. ``action`` words it ("import
    into", "upgrade"): "cannot import into data/study.duckdb: ...; nothing was changed".
    Anything else (a :class:`DesistError` already explained, or a bug) gives None: the
    caller re-raises it.

    Examples
    --------
    >>> print(storage_problem(PermissionError(13, "Permission denied", "s.duckdb"),
    ...                       "s.duckdb", action="upgrade"))
    cannot upgrade s.duckdb: Permission denied (s.duckdb); nothing was changed
    >>> storage_problem(ValueError("a bug"), "s.duckdb", action="upgrade") is None
    True
    """
    if isinstance(exc, DesistError):
        return None
    if isinstance(exc, OSError):
        if is_no_space(exc):
            return no_space_error(exc.filename or path, action=f"cannot {action} {path}")
        where = f" ({exc.filename})" if exc.filename else ""
        return DatabaseError(
            f"cannot {action} {path}: {exc.strerror or exc}{where}; nothing was changed")
    if is_no_space(exc):
        return no_space_error(file_named_in(exc) or path, action=f"cannot {action} {path}")
    if is_damaged_database(exc):
        return damaged_database_error(path, exc)
    return None



class InvalidAccessConfigError(DesistError):
    """An access file beside the study database (``STUDY.duckdb.access.toml``, the
    accounts file) cannot be used: the message names the file, the line or field, and what
    was expected.

    Examples
    --------
    >>> isinstance(InvalidAccessConfigError("s.duckdb.access.toml: bad"), DesistError)
    True
    """


class LoginRefused(DesistError):
    """Nobody is signed in: why (:attr:`reason`, a code of :attr:`REASONS`), in words
    for the command line (:attr:`message`), and when to try again (:attr:`retry_after`).

    An unknown user and a wrong password share one reason, ``"unknown_or_wrong"``, so that
    the answer does not tell which account names exist.

    Parameters
    ----------
    reason
        One of :attr:`REASONS`.
    message
        English words for the command line and the logs; the dashboard renders its own
        from ``reason``.
    retry_after
        Seconds before another attempt may succeed (``"throttled"``), else 0.

    Examples
    --------
    >>> refused = LoginRefused("throttled", "too many failed sign-ins", retry_after=42.0)
    >>> refused.reason, refused.retry_after, str(refused)
    ('throttled', 42.0, 'too many failed sign-ins')
    """

    #: Why a sign-in may be refused: the dashboard words each one in the user's language.
    REASONS = ("unknown_or_wrong", "disabled", "throttled", "no_header", "forged_header",
               "not_an_account", "expired")

    def __init__(self, reason: str, message: str, *, retry_after: float = 0.0) -> None:
        if reason not in self.REASONS:
            raise ValueError(f"unknown sign-in refusal {reason!r}; expected one of "
                             f"{', '.join(self.REASONS)}")
        super().__init__(message)
        self.reason = reason
        self.message = message
        self.retry_after = float(retry_after)
