"""Changing an existing study database all at once, without disturbing its readers.

:func:`rewrite_database` is the importer's way of writing (:mod:`analysis.store.atomic`)
for a change that needs no dataset, such as ``desist migrate``: under the write lock it
asks the caller whether anything must change (on a read-only connection, so a database
that is already current is never copied), and if so copies the live file to
``<db>.import-<id>.tmp``, runs the change there in one transaction, checkpoints and
closes the copy, flushes it and renames it over the live file. A failure at any step
leaves the live file as it was, and a reader keeps reading the old file until it
reopens. The temporary copy matches :func:`~analysis.store.atomic.temporary_copy_pattern`,
so the copy of a killed run is removed by the next writer.

This module knows the file plumbing only: what changes is the caller's ``change``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import TypeVar

import duckdb

from analysis.errors import (
    DatabaseError,
    DesistError,
    storage_problem,
)
from analysis.store.atomic import (
    flush_directory,
    flush_to_disk,
    import_lock,
    remove_leftovers,
    replace_atomically,
)
from analysis.store.location import database_file_mode, owner_only_new_files
from analysis.store.schema import connect_readonly

__all__ = ["absorb_wal", "rewrite_database"]

Result = TypeVar("Result")
Connection = duckdb.DuckDBPyConnection


def absorb_wal(db: Path) -> None:
    """Fold a write-ahead log left beside the live file (by a crashed writer) into it.

    Only the main file is copied, and a stale ``.wal`` beside the swapped-in file would
    make it unreadable, so the log is checkpointed first. Call it under the write lock.

    Raises
    ------
    DatabaseError
        When the log cannot be folded in (typically a program still has the database
        open for writing).
    """
    wal = db.with_name(db.name + ".wal")
    if not wal.exists() or not db.exists():
        return
    try:
        con = duckdb.connect(str(db))
        try:
            con.execute("CHECKPOINT")
        finally:
            con.close()
    except duckdb.Error as exc:
        raise DatabaseError(
            f"{db} has unsaved changes in {wal.name} that cannot be saved now "
            f"({exc}); close every program using the database and run the command again"
        ) from None


def rewrite_database(
    db: str | os.PathLike[str],
    change: Callable[[Connection], Result],
    *,
    wanted: Callable[[Connection], bool],
    check: Callable[[Connection], object] | None = None,
    action: str = "change",
) -> Result | None:
    """Apply ``change`` to the database file ``db`` all or nothing, if ``wanted`` says so.

    Parameters
    ----------
    db
        An existing study database file.
    change
        Run on a writable connection to the temporary copy, inside one transaction;
        its return value is returned.
    wanted
        Run first, on a read-only connection to the live file: ``False`` means nothing
        needs to change, and nothing is written.
    check
        Run on the copy after the commit, before the swap; it raises to refuse the copy.
    action
        What the change is, for messages ("migrate" gives "cannot migrate FILE: ...").

    Returns
    -------
    object or None
        What ``change`` returned, or ``None`` when ``wanted`` said no.

    Raises
    ------
    DatabaseError
        When the file is missing, is not a study database, is damaged, is locked by
        another writer, or the disk refuses the copy; the live file is unchanged.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> from analysis.store.schema import migrate
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "study.duckdb"
    >>> con = duckdb.connect(str(db)); _ = migrate(con); con.close()
    >>> def add_note(con):
    ...     return con.execute("INSERT INTO metadata VALUES ('note', 'x')").fetchone()[0]
    >>> def has_no_note(con):
    ...     return not con.execute("SELECT count(*) FROM metadata WHERE key = 'note'"
    ...                            ).fetchone()[0]
    >>> rewrite_database(db, add_note, wanted=has_no_note)
    1
    >>> rewrite_database(db, add_note, wanted=has_no_note) is None  # already there
    True
    """
    path = Path(db)
    try:
        with owner_only_new_files(), _write_lock(path, action):
            remove_leftovers(path)
            absorb_wal(path)
            reader = connect_readonly(path)
            try:
                needed = wanted(reader)
            finally:
                reader.close()
            if not needed:
                return None
            return _rewrite_copy(path, change, check)
    except Exception as exc:
        problem = storage_problem(exc, path, action=action)
        if problem is None:
            raise
        raise problem from None


@contextlib.contextmanager
def _write_lock(db: Path, action: str) -> Iterator[None]:
    """:func:`~analysis.store.atomic.import_lock`, refused with this command's words."""
    if not db.is_file():
        # Before the lock: taking it would leave a stray ``.lock`` beside a typo.
        raise DatabaseError(f"cannot {action} {db}: there is no database file at {db}")
    stack = contextlib.ExitStack()
    try:
        stack.enter_context(import_lock(db))
    except DesistError:
        raise DatabaseError(
            f"cannot {action} {db}: another import or migration of it is running; wait "
            "for it to finish and run the command again"
        ) from None
    with stack:
        yield


def _rewrite_copy(path: Path, change: Callable[[Connection], Result],
                  check: Callable[[Connection], object] | None) -> Result:
    tmp = path.with_name(f"{path.name}.import-{uuid.uuid4().hex[:12]}.tmp")
    try:
        shutil.copyfile(path, tmp)
        con = duckdb.connect(str(tmp))
        try:
            con.execute("BEGIN TRANSACTION")
            try:
                result = change(con)
                con.execute("COMMIT")
            except BaseException:
                with contextlib.suppress(duckdb.Error):
                    con.execute("ROLLBACK")
                raise
            con.execute("CHECKPOINT")
            if check is not None:
                check(con)
        finally:
            con.close()
        os.chmod(tmp, database_file_mode(path))
        flush_to_disk(tmp)
        replace_atomically(tmp, path)
        flush_directory(path.parent)
        return result
    finally:
        for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
            leftover.unlink(missing_ok=True)
