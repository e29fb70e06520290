"""Databases as an older version of the schema left them (for the upgrade tests)."""

from __future__ import annotations

import duckdb

from analysis.store.schema import _migrations


def migrate_to(con: duckdb.DuckDBPyConnection, versions: int) -> None:
    """Apply the first ``versions`` migrations only, recording them as ``migrate`` does."""
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR, "
                "applied_at TIMESTAMP)")
    for version, name, sql in _migrations()[:versions]:
        con.execute(sql)
        con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, name])
