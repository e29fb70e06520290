"""Importing a dataset folder into a study database, all or nothing.

The live database file is never written in place. An import

1. takes an exclusive lock beside the database (one import at a time),
2. copies the live file to ``<db>.import-<batch>.tmp``,
3. validates the dataset file by file, block by block, staging the checked rows in
   TEMP tables of that copy with person ids already pseudonymized
   (:mod:`analysis.ingest.staging`), and stops there, removing the copy, if anything
   is wrong; else writes the staged rows into the copy's tables, committed table by
   table in slices (with the schema migrations, the refresh of the derived
   ``release_follow_up`` table and the import log),
4. checkpoints and closes that copy, flushes it to disk, and
5. renames it over the live file (``os.replace``, atomic on one filesystem).

The lock, the flushes and the swap are :mod:`analysis.store.atomic`; what runs on the
new copy after its commit (the dashboard's stored views) is the caller's
``after_commit`` step: loading data does not depend on the dashboard.

A reader that has the database open (the dashboard, a notebook) keeps seeing the
old file until it reopens; it never sees a half-imported state and never blocks
the import. A killed import leaves only a ``.tmp`` file, removed by the next one.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import os
import shutil
import uuid
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass, field
from pathlib import Path

import duckdb
import numpy as np

from analysis import __version__
from analysis.contract import TABLE_ORDER, TABLES, normalise_column_name
from analysis.errors import (
    AnalysisError,
    DatabaseError,
    DesistError,
    InvalidDatasetError,
    storage_problem,
)
from analysis.ingest.boundaries import BOUNDARIES_TABLE, ParsedBoundaries
from analysis.ingest.keys import UNINDEXED_TABLES, verify_unique_keys
from analysis.ingest.problems import ValidationReport
from analysis.ingest.pseudonymize import (
    Pseudonymizer,
    PseudonymKeyError,
    check_key_is_private,
    load_or_create_key,
    new_key,
    resolve_key_path,
    save_new_key,
)
from analysis.ingest.rejects import PendingRejects, check_rejects_path, write_rejects
from analysis.ingest.staging import DEFAULT_IMPORT_MEMORY_MB, ROW, import_memory_mb
from analysis.ingest.validate import KnownIds, ParsedTable, check_dataset
from analysis.store.atomic import (
    flush_directory,
    flush_to_disk,
    import_lock,
    remove_leftovers,
    replace_atomically,
)
from analysis.store.location import database_file_mode, owner_only_new_files
from analysis.store.rewrite import absorb_wal
from analysis.store.schema import SCHEMA_VERSION, migrate, schema_version
from analysis.survival.follow_up import refresh_follow_up, verify_follow_up

#: A step run on the new copy once its data are committed, before it is swapped in
#: (the CLI, the dashboard's Data page and the demo builder store the default views:
#: :func:`analysis.views.stored.store_default_views`).
AfterCommit = Callable[[duckdb.DuckDBPyConnection], object]

__all__ = [
    "DEFAULT_IMPORT_MEMORY_MB",
    "AfterCommit",
    "ImportReport",
    "TableCounts",
    "import_dataset",
    "import_memory_mb",
    "known_ids_in",
]


@dataclass(frozen=True)
class TableCounts:
    """What happened to one table's rows in an import."""

    file: str
    read: int
    inserted: int
    updated: int
    unchanged: int
    rejected: int
    duplicates_dropped: int = 0
    #: Rows deleted because the file no longer has them: only the region boundaries,
    #: which a new file replaces wholly (tables are never deleted from).
    removed: int = 0


@dataclass(frozen=True)
class ImportReport:
    """Summary of a finished import."""

    batch_id: str
    db: str
    dataset: str
    mode: str
    tables: dict[str, TableCounts]
    new_covariates: dict[str, str]
    events_before_first_release: int
    rejects_file: str | None
    validation: ValidationReport = field(repr=False)

    @property
    def rows_rejected(self) -> int:
        return sum(c.rejected for c in self.tables.values())

    def as_dict(self) -> dict:
        validation = self.validation.as_dict()
        return {
            "batch_id": self.batch_id,
            "db": self.db,
            "dataset": self.dataset,
            "mode": self.mode,
            "tables": {name: asdict(counts) for name, counts in self.tables.items()},
            "new_covariates": self.new_covariates,
            "events_before_first_release": self.events_before_first_release,
            "rows_rejected": self.rows_rejected,
            "rejects_file": self.rejects_file,
            "problem_counts": self.validation.counts_by_kind(),
            "warning_counts": validation["warning_counts"],
            "warnings": validation["warnings"],
        }


def import_dataset(
    dataset_dir: str | os.PathLike[str],
    db: str | os.PathLike[str],
    *,
    key_file: str | os.PathLike[str] | None = None,
    skip_invalid: bool = False,
    rejects: str | os.PathLike[str] | None = None,
    force_rejects: bool = False,
    today: dt.date | None = None,
    after_commit: AfterCommit | None = None,
) -> ImportReport:
    """Validate a dataset folder and import it into ``db`` atomically.

    Parameters
    ----------
    dataset_dir
        Folder in the data-contract format.
    db
        Study database file; created when missing.
    key_file
        Pseudonymization key (default: ``$DESIST_KEY_FILE``, else ``<db>.key``,
        created on the first import).
    skip_invalid
        Load the valid rows and write every rejected row, with its reasons, to
        ``rejects``. By default one invalid row stops the whole import.
    rejects
        CSV file for rejected rows; required with ``skip_invalid``. Created owner-only;
        never the database's own files, an existing file or a file inside the dataset
        folder (:mod:`analysis.ingest.rejects`).
    force_rejects
        Allow ``rejects`` to replace an existing file or to lie inside the dataset
        folder (never the database, its key, lock, log or temporary copies).
    today
        Dates after this day are refused (default: the computer's date).
    after_commit
        Run on the new file's connection once its data are committed and before it is
        swapped in, e.g. :func:`analysis.views.stored.store_default_views` (the
        dashboard's Programmes and Impact pages then open at once). Its failure never
        undoes the import: an :class:`~analysis.errors.AnalysisError` (the data cannot
        give a result yet) is ignored, anything else is a warning. None: no step.

    Returns
    -------
    ImportReport
        ``batch_id`` (written to every row and to the import log), ``mode``, per
        table the rows inserted, updated, unchanged and rejected (``tables``), the
        covariates added, ``rejects_file`` (or None) and the ``validation`` report,
        warnings included; ``as_dict()`` is the CLI's ``--json``.

    Raises
    ------
    InvalidDatasetError
        When the dataset has problems (``exc.report`` lists them); nothing is written.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "releases.csv").write_text(
    ...     "release_id,person_id,release_date,facility,follow_up_end\\n"
    ...     "R1,P1,2021-03-04,North,2023-12-31\\n")
    >>> report = import_dataset(folder, folder / "study.duckdb")
    >>> report.tables["releases"].inserted
    1
    """
    db_path = Path(db)
    dataset = Path(dataset_dir)
    if skip_invalid and rejects is None:
        raise DesistError("--skip-invalid needs --rejects FILE to write the rejected rows to")
    if skip_invalid:
        # Before anything is written: a refused path must leave no trace.
        rejects = check_rejects_path(
            rejects, db=db_path, key=resolve_key_path(db_path, key_file), dataset=dataset,
            force=force_rejects,
        )
    pending_rejects: PendingRejects | None = None
    try:
        db_path.parent.mkdir(parents=True, exist_ok=True)
        with owner_only_new_files(), import_lock(db_path):
            remove_leftovers(db_path)
            absorb_wal(db_path)
            key_path = resolve_key_path(db_path, key_file)
            existing = _read_existing(db_path)
            if existing.fingerprint and not key_path.exists():
                raise PseudonymKeyError(
                    f"{db_path} was built with a pseudonymization key, but there is no key at "
                    f"{key_path}; give the original key with --key-file"
                )
            # A first import makes a new key, but saves it only once the import has
            # succeeded: a refused dataset must leave nothing behind.
            unsaved_key = not existing.fingerprint and not key_path.exists()
            key = new_key() if unsaved_key else load_or_create_key(key_path, create=False)
            pseudonymizer = Pseudonymizer(key)
            if existing.fingerprint and existing.fingerprint != pseudonymizer.fingerprint:
                raise PseudonymKeyError(
                    f"the key in {key_path} is not the key {db_path} was built with, so the "
                    "people in this import could not be linked to earlier imports; use the original key"
                )
            if not unsaved_key:
                check_key_is_private(key_path)
            known = existing.known_ids(pseudonymizer)
            batch_id = dt.datetime.now(dt.UTC).strftime("%Y%m%dT%H%M%SZ-") + uuid.uuid4().hex[:8]
            tmp = db_path.with_name(f"{db_path.name}.import-{batch_id}.tmp")
            try:
                # The dataset is checked while it is staged on the temporary copy (with
                # pseudonyms only); a refused dataset leaves only that copy, removed below.
                report, parsed, counts, new_covariates, early_events = _write_copy(
                    db_path, tmp, dataset, today, known, pseudonymizer, batch_id, skip_invalid,
                    after_commit,
                )
                rejects_file = None
                if skip_invalid:
                    pending_rejects = write_rejects(rejects, parsed, report, force=force_rejects)
                os.chmod(tmp, database_file_mode(db_path))
                flush_to_disk(tmp)
                if unsaved_key:
                    # Before the swap: a database must never exist without its key.
                    save_new_key(key_path, key)
                if pending_rejects is not None:
                    rejects_file = pending_rejects.publish()
                replace_atomically(tmp, db_path)
                pending_rejects = None  # the import stands: keep the rejects file
                flush_directory(db_path.parent)
            finally:
                for leftover in (tmp, tmp.with_name(tmp.name + ".wal")):
                    leftover.unlink(missing_ok=True)
    except Exception as exc:
        # Disk full, no permission, a damaged file (from the OS or DuckDB, any step):
        # the user can fix it.
        problem = storage_problem(exc, db_path, action="import into")
        if problem is None:
            raise
        raise problem from None
    finally:
        if pending_rejects is not None:
            pending_rejects.discard()  # the import failed: no rejects file either
    return ImportReport(
        batch_id=batch_id,
        db=str(db_path),
        dataset=str(dataset),
        mode="skip_invalid" if skip_invalid else "all_or_nothing",
        tables=counts,
        new_covariates=new_covariates,
        events_before_first_release=early_events,
        rejects_file=rejects_file,
        validation=report,
    )


# ------------------------------------------------------------------------- plumbing


@dataclass(frozen=True)
class _Existing:
    fingerprint: str | None = None
    persons: frozenset[str] = frozenset()
    programs: frozenset[str] = frozenset()
    releases: frozenset[str] = frozenset()
    covariate_kinds: dict[str, str] = field(default_factory=dict)
    expected_covariate_kinds: dict[str, str] = field(default_factory=dict)
    providers: frozenset[str] = frozenset()
    services: dict[str, tuple[dt.date | None, dt.date | None]] = field(default_factory=dict)
    regions: frozenset[str] = frozenset()
    database: Path | None = None

    def known_ids(self, pseudonymizer: Pseudonymizer | None) -> KnownIds:
        return KnownIds(
            persons=self.persons,
            programs=self.programs,
            releases=self.releases,
            covariate_kinds=self.covariate_kinds,
            expected_covariate_kinds=self.expected_covariate_kinds,
            pseudonymize=pseudonymizer.series if pseudonymizer else None,
            # `desist validate --db`: this import's people get the database's pseudonyms,
            # so that a person known only to the database is recognised.
            pseudonymizer=pseudonymizer,
            providers=self.providers,
            services=self.services,
            regions=self.regions,
            database=self.database,
        )


def known_ids_in(db: Path, key_file: str | os.PathLike[str] | None = None) -> KnownIds:
    """Identifiers already in ``db`` (empty when it does not exist), for checking references."""
    existing = _read_existing(db)
    if not existing.fingerprint:
        return existing.known_ids(None)
    key_path = resolve_key_path(db, key_file)
    pseudonymizer = Pseudonymizer(load_or_create_key(key_path, create=False))
    if pseudonymizer.fingerprint != existing.fingerprint:
        # With the wrong key every person would look unknown: say so instead.
        raise PseudonymKeyError(f"the key in {key_path} is not the key {db} was built with")
    check_key_is_private(key_path)
    return existing.known_ids(pseudonymizer)


def _read_existing(db: Path) -> _Existing:
    if not db.exists():
        return _Existing()
    try:
        con = duckdb.connect(str(db), read_only=True)
    except duckdb.Error as exc:
        raise DatabaseError(f"cannot open {db} as a DuckDB database: {exc}") from None
    try:
        version = schema_version(con)
        if version == 0:
            raise DatabaseError(f"{db} exists but is not a Desistance study database")
        if version > SCHEMA_VERSION:
            raise DatabaseError(f"{db} has schema version {version}, newer than this program's")
        fingerprint = con.execute(
            "SELECT value FROM metadata WHERE key = 'key_fingerprint'"
        ).fetchone()

        def column(sql: str) -> frozenset[str]:
            return frozenset(r[0] for r in con.execute(sql).fetchall())

        # A database older than migration 006 has no directory yet (the import adds it).
        directory = version >= _SERVICES_SCHEMA
        return _Existing(
            fingerprint=fingerprint[0] if fingerprint else None,
            persons=column("SELECT DISTINCT person_id FROM releases"),
            programs=column("SELECT program_id FROM programs"),
            releases=column("SELECT release_id FROM releases"),
            covariate_kinds=dict(con.execute("SELECT name, kind FROM covariates").fetchall()),
            expected_covariate_kinds=_extra_column_kinds(con, "expected_releases"),
            providers=column("SELECT provider_id FROM providers") if directory else frozenset(),
            services=({sid: (start, end) for sid, start, end in con.execute(
                "SELECT service_id, valid_from, valid_to FROM services").fetchall()}
                if directory else {}),
            regions=column(_STORED_REGIONS if version >= _EXPECTED_SCHEMA else
                           "SELECT release_region FROM releases WHERE release_region IS NOT NULL"),
            database=db,
        )
    finally:
        con.close()


#: Schema versions that added expected_releases (005) and the services directory (006).
_EXPECTED_SCHEMA, _SERVICES_SCHEMA = 5, 6
_STORED_REGIONS = (
    "SELECT release_region FROM releases WHERE release_region IS NOT NULL UNION "
    "SELECT release_region FROM expected_releases WHERE release_region IS NOT NULL"
)


def _extra_column_kinds(con, table: str) -> dict[str, str]:
    """Kinds of the columns a table has beyond the contract's (its covariates), read from
    their storage: DOUBLE is numeric, anything else categorical. Empty when the table
    does not exist (a database older than the table's migration)."""
    ours = {*TABLES[table].column_names, "batch_id"}
    rows = con.execute(
        "SELECT column_name, data_type FROM information_schema.columns "
        "WHERE table_schema = 'main' AND table_name = ?", [table]).fetchall()
    return {name: "numeric" if kind == "DOUBLE" else "categorical"
            for name, kind in rows if name not in ours}


def _raise_if_unusable(report: ValidationReport, skip_invalid: bool) -> None:
    if report.ok:
        return
    if report.file_level_problems or any(p.line == 1 for p in report.problems):
        raise InvalidDatasetError(
            f"the dataset cannot be imported: {len(report.problems)} problem(s), some affecting "
            "whole files; nothing was written",
            report,
        )
    if not skip_invalid:
        raise InvalidDatasetError(
            f"the dataset has {len(report.problems)} problem(s); nothing was written "
            "(fix them, or use --skip-invalid --rejects FILE to load only the valid rows)",
            report,
        )


def _write_copy(db, tmp, dataset, today, known, pseudonymizer, batch_id, skip_invalid,
                after_commit):
    if db.exists():
        shutil.copyfile(db, tmp)
    started = dt.datetime.now(dt.UTC).replace(tzinfo=None)
    spill = tmp.with_name(tmp.name + ".spill")
    con = duckdb.connect(str(tmp), config=_duckdb_config(spill))
    try:
        # Staged in TEMP tables of the copy, person ids already pseudonymized; the raw
        # cells are kept only for the rejects file.
        report, parsed = check_dataset(dataset, today=today, known=known,
                                       keep_cells=skip_invalid, con=con,
                                       pseudonymizer=pseudonymizer)
        _raise_if_unusable(report, skip_invalid)
        con.execute("BEGIN TRANSACTION")
        migrate(con)
        con.execute(
            "INSERT INTO metadata VALUES ('key_fingerprint', ?), ('created_at', ?) "
            "ON CONFLICT DO NOTHING",
            [pseudonymizer.fingerprint, started.isoformat(timespec="seconds")],
        )
        counts: dict[str, TableCounts] = {}
        new_covariates: dict[str, str] = {}
        for name in TABLE_ORDER:
            table = parsed.get(name)
            if table is None:
                continue
            skipped = ~table.row_ok
            dropped = 0
            if table.exact_duplicates is not None:
                dropped = int((table.exact_duplicates & table.row_ok).sum())
                skipped = skipped | table.exact_duplicates
            if name == "releases":
                new_covariates = _add_covariate_columns(con, table.covariates, batch_id)
            elif name == "expected_releases":
                # Not listed in `covariates`, which describes the columns of releases.
                _add_extra_columns(con, name, table.covariates)
            present = {normalise_column_name(h) for h in table.source.header}
            inserted, updated = _upsert(con, table, np.flatnonzero(skipped), present, batch_id)
            rejected = int((~table.row_ok).sum())
            kept = table.rows - int(skipped.sum())
            counts[name] = TableCounts(
                file=table.source.name,
                read=table.rows,
                inserted=inserted,
                updated=updated,
                unchanged=kept - inserted - updated,
                rejected=rejected,
                duplicates_dropped=dropped,
            )
            _log_file(con, batch_id, name, table.source.sha256, counts[name])
            # Commit each table on its own: the rows of an open transaction stay in
            # DuckDB's memory until the commit, so one transaction for every table ran
            # out of memory at national scale. Still all or nothing: the copy is swapped
            # in only once every step has succeeded, and discarded otherwise.
            con.execute("COMMIT")
            con.execute("CHECKPOINT")
            con.execute("BEGIN TRANSACTION")
        if parsed.boundaries is not None:
            counts[BOUNDARIES_TABLE] = _replace_boundaries(con, parsed.boundaries, batch_id)
            _log_file(con, batch_id, BOUNDARIES_TABLE, parsed.boundaries.sha256,
                      counts[BOUNDARIES_TABLE])
        # The record tables keep no key index (schema 7): check what was written.
        verify_unique_keys(con, [name for name in counts if name in UNINDEXED_TABLES])
        # Derived per-release facts (neighbouring releases, first events, custody-period
        # programmes) depend on every table: rebuild them before the copy is swapped in.
        refresh_follow_up(con, batch_id)
        early_events = int(
            con.execute(
                "SELECT count(*) FROM events e WHERE e.batch_id = ? AND e.event_date < "
                "(SELECT min(r.release_date) FROM releases r WHERE r.person_id = e.person_id)",
                [batch_id],
            ).fetchone()[0]
        )
        summary = {
            "tables": {k: asdict(v) for k, v in counts.items()},
            "new_covariates": new_covariates,
            "events_before_first_release": early_events,
            "problem_counts": report.counts_by_kind(),
        }
        con.execute(
            "INSERT INTO import_log VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
            [
                batch_id,
                started,
                dt.datetime.now(dt.UTC).replace(tzinfo=None),
                str(dataset),
                "skip_invalid" if skip_invalid else "all_or_nothing",
                sum(c.read for c in counts.values()),
                sum(c.inserted for c in counts.values()),
                sum(c.updated for c in counts.values()),
                sum(c.rejected for c in counts.values()),
                json.dumps(summary),
                __version__,
            ],
        )
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
        verify_follow_up(con)  # analyses read it positionally: refuse a misaligned copy
        if after_commit is not None:
            # Views read committed data through their own cursors: compute them now,
            # still on the new file, which is swapped in only once they are stored.
            _run_after_commit(after_commit, con)
            con.execute("CHECKPOINT")
    except (duckdb.OutOfMemoryException, duckdb.TransactionException) as exc:
        # A commit that runs out of memory is reported as a TransactionException.
        if not isinstance(exc, duckdb.OutOfMemoryException) and "failed to allocate" not in str(exc):
            with contextlib.suppress(duckdb.Error):
                con.execute("ROLLBACK")
            raise
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise DesistError(
            f"the import needs more working memory than the {import_memory_mb():,} MB it may "
            "use; nothing was changed. Raise the limit with the environment variable "
            "DESIST_IMPORT_MEMORY_MB (in MB) if the machine has the memory"
        ) from None
    except BaseException:
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        raise
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)
    return report, parsed, counts, new_covariates, early_events


def _log_file(con, batch_id: str, name: str, sha256: str, counts: TableCounts) -> None:
    """The import_files row of one file: what happened to its rows."""
    con.execute(
        "INSERT INTO import_files VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [batch_id, name, counts.file, sha256, counts.read, counts.inserted, counts.updated,
         counts.unchanged, counts.rejected],
    )


def _replace_boundaries(con, boundaries: ParsedBoundaries, batch_id: str) -> TableCounts:
    """Make ``region_boundaries`` hold exactly the file's regions.

    The file is the whole map: a region left out of it is removed (counted in
    ``removed``). A region whose geometry is the same keeps its row and batch; a changed
    one is updated, a new one inserted.
    """
    stored = dict(con.execute("SELECT region, geometry FROM region_boundaries").fetchall())
    incoming = boundaries.geometries
    new = [r for r in incoming if r not in stored]
    changed = [r for r in incoming if r in stored and stored[r] != incoming[r]]
    removed = [r for r in stored if r not in incoming]
    if removed:
        con.executemany("DELETE FROM region_boundaries WHERE region = ?", [[r] for r in removed])
    if changed:
        con.executemany("UPDATE region_boundaries SET geometry = ?, batch_id = ? WHERE region = ?",
                        [[incoming[r], batch_id, r] for r in changed])
    if new:
        con.executemany("INSERT INTO region_boundaries VALUES (?, ?, ?)",
                        [[r, incoming[r], batch_id] for r in new])
    return TableCounts(file=boundaries.name, read=boundaries.features, inserted=len(new),
                       updated=len(changed), unchanged=len(incoming) - len(new) - len(changed),
                       rejected=0, removed=len(removed))


def _duckdb_config(spill: Path) -> dict[str, str]:
    return {"memory_limit": f"{import_memory_mb()}MB", "temp_directory": str(spill)}


#: Up to this many new covariates are added one ALTER TABLE each; more rebuild the table
#: once (DuckDB copies the table's definition for every ALTER of a transaction, so
#: thousands of ALTERs cost minutes and gigabytes).
_ALTER_AT_MOST = 16


def _add_covariate_columns(con, covariates: dict[str, str], batch_id: str) -> dict[str, str]:
    existing = {r[0] for r in con.execute("SELECT name FROM covariates").fetchall()}
    added = {name: kind for name, kind in covariates.items() if name not in existing}
    if not added:
        return added
    _add_columns(con, "releases", added)
    con.executemany(
        "INSERT INTO covariates VALUES (?, ?, ?)",
        [[name, kind, batch_id] for name, kind in added.items()],
    )
    return added


def _add_extra_columns(con, table: str, covariates: dict[str, str]) -> None:
    """Add the extra columns of ``table`` (``expected_releases``) it does not have yet."""
    existing = set(_extra_column_kinds(con, table))
    _add_columns(con, table, {n: k for n, k in covariates.items() if n not in existing})


def _add_columns(con, table: str, added: dict[str, str]) -> None:
    """Add covariate columns (DOUBLE when numeric, else VARCHAR) to ``table``."""
    definitions = [f'"{name}" {"DOUBLE" if kind == "numeric" else "VARCHAR"}'
                   for name, kind in added.items()]
    if len(added) <= _ALTER_AT_MOST:
        for definition in definitions:
            con.execute(f"ALTER TABLE {table} ADD COLUMN {definition}")
    elif definitions:
        _rebuild_with(con, table, definitions)


def _rebuild_with(con, table: str, definitions: list[str]) -> None:
    """Recreate ``table`` with extra columns, keeping its constraints and row order.

    The row order matters for ``releases``: ``release_follow_up`` is aligned with it
    positionally.
    """
    ddl = con.execute(
        "SELECT sql FROM duckdb_tables() WHERE schema_name = 'main' AND table_name = ?",
        [table]).fetchone()[0]
    columns = ddl[ddl.index("(") + 1 : ddl.rindex(")")]
    con.execute(f"CREATE TABLE {table}_rebuilt ({columns}, {', '.join(definitions)})")
    con.execute(f"INSERT INTO {table}_rebuilt BY NAME SELECT * FROM {table} ORDER BY rowid")
    con.execute(f"DROP TABLE {table}")
    con.execute(f"ALTER TABLE {table}_rebuilt RENAME TO {table}")


#: Rows inserted per transaction (see :func:`_upsert`).
_INSERT_SLICE_ROWS = 1_000_000


def _upsert(con, table: ParsedTable, skipped_rows: np.ndarray, present: set[str],
            batch_id: str) -> tuple[int, int]:
    """Insert new rows and update rows whose values changed; return (inserted, updated).

    The rows come from the table's staging (:mod:`analysis.ingest.staging`), without the
    ``skipped_rows`` (rejected, exact copies). Only the columns ``present`` in the file
    are compared and overwritten: a later file without, say, ``sex`` or a covariate
    column must not wipe the stored values. New rows get empty cells (or the contract
    default) for the absent columns.
    """
    name = table.table
    contract = TABLES[name]
    key = list(contract.key)
    compared = [c.name for c in contract.columns if c.name not in key and c.name in present]
    compared += list(table.covariates)
    select = table.stage.select_for_import(table.covariates, skipped_rows)
    if not con.execute(f"SELECT count(*) FROM (SELECT 1 FROM {name} LIMIT 1)").fetchone()[0]:
        # Nothing stored yet (a first import): every row is new, so the rows go straight
        # from the staging, without a copy to compare with (1.1 s of 1M releases).
        written = _insert_in_slices(
            con, name, table.rows,
            f"SELECT s.* EXCLUDE ({ROW}), '{batch_id}' AS batch_id FROM ({select}) s "
            f"WHERE s.{ROW} >= ? AND s.{ROW} < ?")
        table.stage.drop()
        return written, 0
    con.execute(f"CREATE OR REPLACE TEMP TABLE incoming AS SELECT *, '{batch_id}' AS batch_id "
                f"FROM ({select})")
    # Staged rows are no longer needed (references were checked): let DuckDB's memory go.
    table.stage.drop()
    using = ", ".join(f'"{k}"' for k in key)
    same = " AND ".join(f'i."{c}" IS NOT DISTINCT FROM t."{c}"' for c in compared) or "TRUE"
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE changed AS SELECT {using} FROM incoming i "
        f"JOIN {name} t USING ({using}) WHERE NOT ({same})"
    )
    updated = con.execute("SELECT count(*) FROM changed").fetchone()[0]
    if updated:
        assignments = ", ".join(f'"{c}" = i."{c}"' for c in [*compared, "batch_id"])
        match = " AND ".join(f't."{k}" = i."{k}"' for k in key)
        con.execute(
            f"UPDATE {name} AS t SET {assignments} FROM incoming i "
            f"WHERE {match} AND NOT ({same})"
        )
    written = _insert_in_slices(
        con, name, table.rows,
        f"SELECT i.* EXCLUDE ({ROW}) FROM (SELECT * FROM incoming WHERE {ROW} >= ? AND "
        f"{ROW} < ?) i ANTI JOIN {name} t USING ({using})")
    con.execute("DROP TABLE incoming")
    con.execute("DROP TABLE changed")
    return written, int(updated)


def _insert_in_slices(con, name: str, rows: int, select: str) -> int:
    """``INSERT INTO name BY NAME select`` for each slice of the file's rows (``select``
    takes the slice's first and last-but-one row number); the rows written.

    Each slice is committed: the rows of an open transaction stay in DuckDB's memory
    (with the key indexes of schema versions before 7, 10M releases in one commit
    needed more than 2 GB). All or nothing still: the copy is discarded unless every
    step succeeds.
    """
    written = 0
    for first in range(0, max(rows, 1), _INSERT_SLICE_ROWS):
        if first:
            con.execute("COMMIT")
            con.execute("BEGIN TRANSACTION")
        written += con.execute(f"INSERT INTO {name} BY NAME {select}",
                               [first, first + _INSERT_SLICE_ROWS]).fetchone()[0]
    return int(written)


#: DuckDB's working memory, in MB, while the post-commit step runs (at most the import's).
#: The step's queries (the views' episodes) need far less than the import's merges, and
#: DuckDB keeps what it may use filled with cached blocks: with the import's 4,000 MB
#: the Impact page's stored view peaked at 5.2 GB on 3M releases, with 1,000 MB at
#: 4.0 GB, in the same time (docs/import.md). Beyond it DuckDB spills, as the import.
AFTER_COMMIT_MEMORY_MB = 1_000


def _run_after_commit(step: AfterCommit, con: duckdb.DuckDBPyConnection) -> None:
    """Run the caller's post-commit step; the committed import stands whatever it does."""
    try:
        limit = min(import_memory_mb(), AFTER_COMMIT_MEMORY_MB)
        con.execute(f"SET memory_limit = '{limit}MB'")
        step(con)
    except Exception as exc:  # noqa: BLE001 - the import must stand
        # A step that failed half-way must not leave its transaction open on the copy.
        with contextlib.suppress(duckdb.Error):
            con.execute("ROLLBACK")
        if not isinstance(exc, AnalysisError):
            # An AnalysisError means the data cannot give the result yet (e.g. no
            # releases so far): whoever needs it computes it later and says so there.
            name = getattr(step, "__qualname__", repr(step))
            warnings.warn(f"the step after the import ({name}) failed: {exc}", stacklevel=3)
