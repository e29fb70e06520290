"""The last check of an import: every record's key is unique in the written copy.

The person-level tables (releases, participation, events, expected_releases, referrals)
keep no PRIMARY KEY index since schema version 7: DuckDB maintained one on every insert
and wrote it on every commit, 9 of the 47 seconds of a million-release import
(``analysis/store/migrations/007_record_keys_checked_by_importer.sql``). The importer
guarantees the keys of :mod:`analysis.contract` instead: rows sharing a key within a
file are refused or rejected (:mod:`analysis.ingest.validate`), and only rows whose key
is not stored yet are added (:mod:`analysis.ingest.importer`). :func:`verify_unique_keys`
checks the outcome on the copy, before it may replace the live file, as the index did:
a failure is a bug of those steps, never the user's data, and nothing is changed.

Examples
--------
>>> import duckdb
>>> from analysis.store import migrate
>>> con = duckdb.connect(); _ = migrate(con)
>>> _ = con.execute("INSERT INTO events VALUES ('p', DATE '2020-01-01', 'rearrest', NULL, 'b'),"
...                 " ('p', DATE '2020-01-01', 'rearrest', NULL, 'b')")
>>> verify_unique_keys(con, ["events"])
Traceback (most recent call last):
...
analysis.ingest.keys.DuplicateKeyError: the import would have stored 1 key of events twice or more (person_id, event_date, event_type); nothing was changed. This is a bug of Desistance's import: please report it
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb

from analysis.contract import TABLES
from analysis.store.schema import one_row

#: The tables whose key no index enforces (migration 007): those this module checks.
UNINDEXED_TABLES: tuple[str, ...] = ("releases", "participation", "events",
                                     "expected_releases", "referrals")


class DuplicateKeyError(RuntimeError):
    """A written table holds two rows with one key: a bug, reported as an internal error."""


def duplicated_keys(con: duckdb.DuckDBPyConnection, table: str) -> int:
    """How many keys of ``table`` (its contract key) more than one row has."""
    columns = ", ".join(f'"{c}"' for c in TABLES[table].key)
    return int(one_row(con, f"SELECT count(*) FROM (SELECT {columns} FROM {table} "
                            f"GROUP BY ALL HAVING count(*) > 1)")[0])


def verify_unique_keys(con: duckdb.DuckDBPyConnection, tables: Iterable[str]) -> None:
    """Raise :class:`DuplicateKeyError` when a key of one of ``tables`` is not unique.

    Every row is checked, not only the new ones: at a million releases and events the
    check takes about 0.4 s, a tenth of what the indexes cost.
    """
    for table in tables:
        repeated = duplicated_keys(con, table)
        if repeated:
            noun = "key" if repeated == 1 else "keys"
            raise DuplicateKeyError(
                f"the import would have stored {repeated:,} {noun} of {table} twice or more "
                f"({', '.join(TABLES[table].key)}); nothing was changed. This is a bug of "
                "Desistance's import: please report it"
            )
