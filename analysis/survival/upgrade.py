"""Upgrading a study database file in place: ``desist migrate DB``.

A database written by an older version has an older schema, or a derived follow-up
table (``release_follow_up``) of an older layout, or none; one written by other means
than the importer has a stale table. Analyses refuse such a database and name this
command (:func:`analysis.survival.follow_up.require_current_follow_up`), because
readers open it read-only. :func:`upgrade_database` applies the pending schema
migrations and rebuilds the table, all or nothing, with the importer's lock, temporary
copy, flushes and atomic swap (:mod:`analysis.store.rewrite`): a dashboard that has the
file open keeps reading the old one until it reopens. It changes no record: the
releases, events and programmes are those of the file.
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path

import duckdb

from analysis.errors import DatabaseError
from analysis.store.rewrite import rewrite_database
from analysis.store.schema import SCHEMA_VERSION, migrate, pending_migrations, schema_version
from analysis.survival.follow_up import (
    LAYOUT,
    TABLE,
    follow_up_state,
    has_follow_up_table,
    refresh_follow_up,
    verify_follow_up,
)

__all__ = ["UpgradeReport", "upgrade_database"]


@dataclass(frozen=True)
class UpgradeReport:
    """What :func:`upgrade_database` did to a database file.

    Attributes
    ----------
    db
        The file.
    schema_before, schema_after
        Its schema version before and after.
    migrations
        Names of the migrations applied (empty when none was pending).
    follow_up_before
        Why the follow-up table could not be read before, or None when it could.
    releases
        Rows of the rebuilt follow-up table, or None when it was not rebuilt.
    stored_views_removed
        Stored dashboard results deleted because the records had changed since they
        were computed (the table was stale): the dashboard computes them again.
    """

    db: str
    schema_before: int
    schema_after: int
    migrations: tuple[str, ...]
    follow_up_before: str | None
    releases: int | None
    stored_views_removed: int = 0

    @property
    def changed(self) -> bool:
        """Whether anything was written (False: the database was already current)."""
        return bool(self.migrations) or self.releases is not None

    def as_dict(self) -> dict[str, object]:
        """The report as JSON-ready values (``desist migrate --json``)."""
        return {"db": self.db, "changed": self.changed, "schema_before": self.schema_before,
                "schema_after": self.schema_after, "migrations": list(self.migrations),
                "follow_up_before": self.follow_up_before,
                "follow_up_rebuilt": self.releases is not None, "releases": self.releases,
                "layout": LAYOUT, "stored_views_removed": self.stored_views_removed}


def upgrade_database(db: str | os.PathLike[str]) -> UpgradeReport:
    """Apply pending schema migrations to a database file and rebuild :data:`TABLE`.

    All or nothing, and without disturbing readers: the work is done on a temporary
    copy swapped in atomically under the importer's lock
    (:func:`analysis.store.rewrite.rewrite_database`). Nothing is written when the
    schema is current and the table is current and aligned with ``releases``, so
    running it twice changes nothing the second time. What ``desist migrate`` runs.

    Raises
    ------
    DatabaseError
        When the file is missing, is not a study database (or is newer than this
        program), is damaged, or another import or migration holds its lock.

    Examples
    --------
    >>> import pathlib, tempfile
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "study.duckdb"
    >>> con = duckdb.connect(str(db)); _ = migrate(con)
    >>> _ = con.execute("INSERT INTO releases (release_id, person_id, release_date, "
    ...     "facility, follow_up_end, batch_id) VALUES ('r1', 'p1', DATE '2020-01-01', 'A', "
    ...     "DATE '2020-12-31', 'b')"); con.close()
    >>> upgrade_database(db).releases
    1
    >>> upgrade_database(db).changed
    False
    """
    path = Path(db)
    # what the live file was like, seen under the lock by ``wanted``
    schema_seen: list[int] = []
    why_seen: list[str | None] = []
    layout_seen: list[int] = []

    def wanted(con: duckdb.DuckDBPyConnection) -> bool:
        schema_seen.append(schema_version(con))
        layout, why = follow_up_state(con)  # one pass of the count queries for both
        why_seen.append(_why_not_current_or_aligned(con, why))
        layout_seen.append(layout)
        return schema_seen[0] != SCHEMA_VERSION or why_seen[0] is not None

    def change(con: duckdb.DuckDBPyConnection) -> tuple[tuple[str, ...], int, int]:
        applied = tuple(pending_migrations(con))
        migrate(con)
        if not has_follow_up_table(con):
            # every migration is recorded, yet the table they create is gone
            raise DatabaseError(
                f"{path} has schema version {SCHEMA_VERSION} but no {TABLE} table: it was "
                "altered by other means than Desistance, and nothing was changed. Rebuild it "
                "by importing the original files into a new database"
            )
        releases = refresh_follow_up(con, "migrate")
        removed = 0
        if layout_seen[0] == 0:
            # Rows were written without an import since the table was last built, so
            # results stored for the dashboard may describe other records: drop them.
            row = con.execute("DELETE FROM stored_views").fetchone()
            removed = int(row[0]) if row else 0
        return applied, releases, removed

    done = rewrite_database(path, change, wanted=wanted, check=verify_follow_up,
                            action="migrate")
    if done is None:
        return UpgradeReport(str(path), schema_seen[0], schema_seen[0], (), None, None)
    applied, releases, removed = done
    return UpgradeReport(str(path), schema_seen[0], SCHEMA_VERSION, applied, why_seen[0],
                         releases, removed)


def _why_not_current_or_aligned(con: duckdb.DuckDBPyConnection, why: str | None) -> str | None:
    """``why`` (the follow-up table's problem), or the misalignment
    :func:`verify_follow_up` would find."""
    if why is not None:
        return why
    try:
        verify_follow_up(con)
    except DatabaseError as exc:
        return str(exc)
    return None
