"""Replacing a database file all at once: the lock, the flushes and the swap.

The importer never writes the live database file. It writes a copy beside it and then
calls these helpers, in this order:

1. :func:`import_lock` — one writer at a time (an exclusive ``flock`` on ``<db>.lock``);
2. :func:`remove_leftovers` — delete the temporary copies of writers that were killed;
3. :func:`flush_to_disk` — the finished copy's bytes reach the disk before the swap;
4. :func:`replace_atomically` — rename the copy over the live file in one step;
5. :func:`flush_directory` — make that rename durable, so that after a power cut the
   folder holds either the old file or the new one.

A reader that has the old file open keeps reading it until it reopens. These helpers
know nothing of the schema or of what is written: they only move files.

Examples
--------
>>> import pathlib, tempfile
>>> folder = pathlib.Path(tempfile.mkdtemp())
>>> live, copy = folder / "study.duckdb", folder / "study.duckdb.import-1.tmp"
>>> _ = copy.write_text("new")
>>> with import_lock(live):
...     flush_to_disk(copy)
...     replace_atomically(copy, live)
...     flush_directory(folder)
>>> live.read_text(), copy.exists()
('new', False)
"""

from __future__ import annotations

import contextlib
import fcntl
import os
import shutil
from collections.abc import Iterator
from pathlib import Path

from analysis.errors import DesistError

__all__ = [
    "flush_directory",
    "flush_to_disk",
    "import_lock",
    "remove_leftovers",
    "replace_atomically",
    "temporary_copy_pattern",
]


@contextlib.contextmanager
def import_lock(db: Path) -> Iterator[None]:
    """Hold the exclusive write lock of ``db`` (the file ``<db>.lock`` beside it).

    Parameters
    ----------
    db
        The database file the lock protects (it need not exist yet).

    Yields
    ------
    None
        While the lock is held; it is released on leaving the block, even on error.

    Raises
    ------
    DesistError
        When another process holds the lock (the lock is never waited for: the user is
        told another import is running).
    """
    lock_path = db.with_name(db.name + ".lock")
    with lock_path.open("a") as handle:
        try:
            fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise DesistError(
                f"another import into {db} is running; wait for it to finish"
            ) from None
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def temporary_copy_pattern(db: Path) -> str:
    """The glob of ``db``'s temporary copies (``<db>.import-<batch>.tmp`` and its ``.wal``,
    ``.spill`` companions), relative to ``db``'s folder.

    Examples
    --------
    >>> temporary_copy_pattern(Path("data/study.duckdb"))
    'study.duckdb.import-*.tmp*'
    """
    return f"{db.name}.import-*.tmp*"


def remove_leftovers(db: Path) -> None:
    """Delete the temporary copies of writers that were killed.

    Call it only while holding :func:`import_lock`: a running writer's copy would be
    deleted otherwise. DuckDB's spill folders are removed with their contents.

    Parameters
    ----------
    db
        The live database file whose leftovers are removed.
    """
    for leftover in db.parent.glob(temporary_copy_pattern(db)):
        if leftover.is_dir() and not leftover.is_symlink():
            shutil.rmtree(leftover, ignore_errors=True)  # DuckDB's spill folder
        else:
            leftover.unlink(missing_ok=True)


def flush_to_disk(path: Path) -> None:
    """Make the bytes written to ``path`` durable (``fsync``) before it is swapped in.

    Parameters
    ----------
    path
        A closed file that was written by this process.

    Raises
    ------
    OSError
        When the disk refuses the data (full, quota exceeded, input/output error).
    """
    with path.open("rb+") as handle:
        os.fsync(handle.fileno())


def flush_directory(folder: Path) -> None:
    """Make a rename inside ``folder`` durable (``fsync`` of the folder itself).

    Parameters
    ----------
    folder
        The folder whose entries changed.
    """
    descriptor = os.open(folder, os.O_RDONLY)
    try:
        os.fsync(descriptor)
    finally:
        os.close(descriptor)


def replace_atomically(new: Path, live: Path) -> None:
    """Rename ``new`` over ``live`` in one step.

    ``os.replace`` is atomic on one filesystem: a reader opening ``live`` gets either
    the old file or the new one, never a mixture. Flush ``new`` first
    (:func:`flush_to_disk`) and the folder afterwards (:func:`flush_directory`); the
    caller does the latter itself because, once the rename is done, the new file stands
    even when that flush fails.

    Parameters
    ----------
    new
        The finished, flushed copy (in the same folder as ``live``).
    live
        The file it replaces (created when missing).
    """
    os.replace(new, live)
