"""Finding the study database (``--db``, else ``DESIST_DB``, else ``data/demo.duckdb``),
the permissions its file gets, and naming it in messages (which file a connection
reads; the command that upgrades it).
"""

from __future__ import annotations

import contextlib
import os
import shlex
import stat
from collections.abc import Iterator
from pathlib import Path

import duckdb

#: The demo database, relative to the working directory (the repository root).
DEFAULT_DB = Path("data") / "demo.duckdb"
DB_ENV_VAR = "DESIST_DB"


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """Return the database path every entry point uses.

    Parameters
    ----------
    db
        An explicit path (the CLI's ``--db``). When ``None`` the ``DESIST_DB``
        environment variable is used, and when that is unset or empty the demo
        database ``data/demo.duckdb``.

    Examples
    --------
    >>> str(resolve_db_path("study.duckdb"))
    'study.duckdb'
    """
    if db is not None and str(db) != "":
        return Path(db)
    from_env = os.environ.get(DB_ENV_VAR, "").strip()
    if from_env:
        return Path(from_env)
    return DEFAULT_DB


#: A new study database: only its owner may read or write it, whatever the umask.
NEW_DATABASE_MODE = 0o600
#: Bits an import keeps from the file it replaces: the group's read permission, so a
#: database shared read-only with a group (0640) stays shared.
_KEPT_DATABASE_BITS = stat.S_IRGRP


def database_file_mode(live: str | os.PathLike[str]) -> int:
    """Mode of the file an import swaps in over ``live``: 0600, or 0640 if it was shared.

    Others never get any access, and nobody but the owner may write, even when the
    old file (made by an older version under ``umask 000``) allowed it.

    Examples
    --------
    >>> oct(database_file_mode("/no/such/study.duckdb"))
    '0o600'
    """
    try:
        old = stat.S_IMODE(os.stat(live).st_mode)
    except FileNotFoundError:
        return NEW_DATABASE_MODE
    return NEW_DATABASE_MODE | (old & _KEPT_DATABASE_BITS)


@contextlib.contextmanager
def owner_only_new_files() -> Iterator[None]:
    """Create every file in this block owner-only (umask 077), whatever the umask was.

    DuckDB creates the database copy, its write-ahead log and its spill files itself,
    with the process umask; only a umask reaches them. The umask is per process, so in
    a threaded program (the dashboard) files other threads create meanwhile are also
    owner-only: stricter, never looser.
    """
    previous = os.umask(0o077)
    os.umask(previous | 0o077)
    try:
        yield
    finally:
        os.umask(previous)


def database_file(con: duckdb.DuckDBPyConnection) -> str | None:
    """The file of ``con``'s database, or None for an in-memory one.

    Examples
    --------
    >>> database_file(duckdb.connect()) is None
    True
    """
    row = con.execute("SELECT path FROM duckdb_databases() "
                      "WHERE database_name = current_database()").fetchone()
    return row[0] if row and row[0] else None


def migrate_command(db: str | os.PathLike[str] | None) -> str:
    """The command that upgrades ``db``, quoted for a shell (``DB`` when unknown).

    Examples
    --------
    >>> migrate_command("data/my study.duckdb")
    "desist migrate 'data/my study.duckdb'"
    """
    return "desist migrate " + (shlex.quote(os.fspath(db)) if db is not None else "DB")
