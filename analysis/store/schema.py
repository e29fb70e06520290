"""Versioned schema: forward-only numbered migrations recorded in ``schema_version``."""

from __future__ import annotations

import datetime as dt
import re
from importlib import resources
from pathlib import Path

import duckdb

from analysis.errors import DatabaseError

_MIGRATION_NAME = re.compile(r"^(\d{3})_([a-z0-9_]+)\.sql$")


def _migrations() -> list[tuple[int, str, str]]:
    """All migrations shipped with the package as (version, name, sql), in order."""
    found = []
    for entry in resources.files("analysis.store").joinpath("migrations").iterdir():
        match = _MIGRATION_NAME.match(entry.name)
        if match:
            found.append((int(match.group(1)), match.group(2), entry.read_text(encoding="utf-8")))
    found.sort()
    versions = [v for v, _, _ in found]
    if versions != list(range(1, len(versions) + 1)):
        raise RuntimeError(f"migrations must be numbered 001, 002, ... without gaps: {versions}")
    return found


#: The schema version this code reads and writes.
SCHEMA_VERSION: int = len(_migrations())


def schema_version(con: duckdb.DuckDBPyConnection) -> int:
    """Schema version of an open database (0 for an empty one)."""
    exists = _one_value(con, "SELECT count(*) FROM information_schema.tables "
                             "WHERE table_name = 'schema_version'")
    if not exists:
        return 0
    return int(_one_value(con, "SELECT coalesce(max(version), 0) FROM schema_version"))


def _one_value(con: duckdb.DuckDBPyConnection, sql: str):
    """The single value of an aggregate query (which always returns one row)."""
    return one_row(con, sql)[0]


def one_row(con: duckdb.DuckDBPyConnection, sql: str,
            params: list | dict | None = None) -> tuple:
    """The single row of an aggregate query (which always returns one).

    ``params`` are the query's ``?`` (a list) or ``$name`` (a dict) parameters.

    Examples
    --------
    >>> con = duckdb.connect()
    >>> one_row(con, "SELECT count(*), max(x) FROM range(?) t(x)", [3])
    (3, 2)
    >>> one_row(con, "SELECT $a + 1", {"a": 1})
    (2,)
    """
    row = con.execute(sql, params if params is not None else []).fetchone()
    # an aggregate always returns one row: None would be a bug in the query, not the data
    assert row is not None, sql
    return row


def pending_migrations(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Names (``"003_follow_up_days"``) of the migrations :func:`migrate` would apply.

    Examples
    --------
    >>> con = duckdb.connect()
    >>> pending_migrations(con)[:2]
    ['001_initial', '002_follow_up']
    >>> _ = migrate(con); pending_migrations(con)
    []
    """
    current = schema_version(con)
    return [f"{version:03d}_{name}" for version, name, _ in _migrations() if version > current]


def migrate(con: duckdb.DuckDBPyConnection) -> int:
    """Apply every migration newer than the database's version; return the new version.

    Runs inside the caller's transaction when there is one, so a failed import
    leaves no half-migrated schema behind.
    """
    con.execute(
        "CREATE TABLE IF NOT EXISTS schema_version ("
        " version INTEGER PRIMARY KEY, name VARCHAR NOT NULL, applied_at TIMESTAMP NOT NULL)"
    )
    current = schema_version(con)
    if current > SCHEMA_VERSION:
        raise DatabaseError(
            f"the database has schema version {current}, newer than this program's "
            f"({SCHEMA_VERSION}); install a newer Desistance to use it"
        )
    for version, name, sql in _migrations():
        if version <= current:
            continue
        con.execute(sql)
        con.execute(
            "INSERT INTO schema_version VALUES (?, ?, ?)",
            [version, name, dt.datetime.now(dt.UTC).replace(tzinfo=None)],
        )
    return SCHEMA_VERSION


def connect_readonly(db: str | Path) -> duckdb.DuckDBPyConnection:
    """Open a study database read-only, after checking it exists and has a known schema.

    Raises
    ------
    DatabaseError
        When the file is missing, is not a DuckDB database, or has an unknown schema.
    """
    path = Path(db)
    if not path.is_file():
        raise DatabaseError(
            f"no database at {path}: build one with 'desist import DATASET_DIR --db {path}' "
            "or 'make demo'"
        )
    try:
        con = duckdb.connect(str(path), read_only=True)
    except duckdb.Error as exc:
        raise DatabaseError(f"cannot open {path} as a DuckDB database: {exc}") from None
    version = schema_version(con)
    if version == 0:
        con.close()
        raise DatabaseError(f"{path} is a DuckDB file but not a Desistance study database")
    if version > SCHEMA_VERSION:
        con.close()
        raise DatabaseError(
            f"{path} has schema version {version}, newer than this program's ({SCHEMA_VERSION})"
        )
    return con
