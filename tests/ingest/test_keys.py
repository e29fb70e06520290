"""The importer keeps the record tables' keys, which no index enforces since schema 7."""

from __future__ import annotations

import duckdb
import pytest

from analysis.errors import InvalidDatasetError
from analysis.ingest import import_dataset, importer
from analysis.ingest.keys import UNINDEXED_TABLES, DuplicateKeyError, duplicated_keys
from tests.ingest.conftest import TODAY, VALID, file_digest, replace_cell, write_dataset

RECORD_TABLES = ("releases", "participation", "events")


def _duplicates(db) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: duplicated_keys(con, t) for t in RECORD_TABLES}


def _rows(db) -> dict[str, int]:
    with duckdb.connect(str(db), read_only=True) as con:
        return {t: con.execute(f"SELECT count(*) FROM {t}").fetchone()[0]
                for t in RECORD_TABLES}


def test_importing_the_same_files_again_stores_each_key_once(tmp_path, existing_db):
    before = _rows(existing_db)
    report = import_dataset(write_dataset(tmp_path / "again"), existing_db, today=TODAY)
    assert all(c.inserted == 0 for c in report.tables.values())
    assert _rows(existing_db) == before
    assert _duplicates(existing_db) == dict.fromkeys(RECORD_TABLES, 0)


def test_a_stored_key_with_new_values_is_updated_not_added(tmp_path, existing_db):
    before = _rows(existing_db)
    folder = write_dataset(tmp_path / "changed",
                           releases=replace_cell("releases", 0, "facility", "Elsewhere"))
    report = import_dataset(folder, existing_db, today=TODAY)
    assert report.tables["releases"].updated == 1
    assert report.tables["releases"].inserted == 0
    assert _rows(existing_db) == before
    assert _duplicates(existing_db) == dict.fromkeys(RECORD_TABLES, 0)


def test_an_exact_copy_within_a_file_is_stored_once(tmp_path, db):
    header, rows = VALID["events"]
    folder = write_dataset(tmp_path / "copy", events=(header, [*rows, rows[0]]))
    report = import_dataset(folder, db, today=TODAY)
    assert report.tables["events"].duplicates_dropped == 1
    assert _duplicates(db) == dict.fromkeys(RECORD_TABLES, 0)


def test_one_key_with_two_values_within_a_file_is_refused_and_nothing_written(tmp_path, db):
    header, rows = VALID["releases"]
    other = list(rows[0])
    other[header.index("facility")] = "Elsewhere"
    folder = write_dataset(tmp_path / "twice", releases=(header, [*rows, tuple(other)]))
    with pytest.raises(InvalidDatasetError) as refused:
        import_dataset(folder, db, today=TODAY)
    (problem,) = refused.value.report.problems
    assert (problem.file, problem.column) == ("releases.csv", "release_id")
    assert not db.exists()


def _writing_every_row_twice(monkeypatch):
    """A bug in the importer: each insert runs twice."""
    insert = importer._insert_in_slices

    def twice(con, name, rows, select):
        written = insert(con, name, rows, select)
        if name in UNINDEXED_TABLES:  # the others still have their index
            insert(con, name, rows, select)
        return written

    monkeypatch.setattr(importer, "_insert_in_slices", twice)


def _forgetting_the_stored_keys(monkeypatch):
    """A bug in the importer: rows whose key is stored already are added again."""
    insert = importer._insert_in_slices

    def every_row(con, name, rows, select):
        if name in UNINDEXED_TABLES:  # the others still have their index
            select = select.split(" ANTI JOIN ")[0]
        return insert(con, name, rows, select)

    monkeypatch.setattr(importer, "_insert_in_slices", every_row)


def test_a_bug_that_writes_a_key_twice_is_caught_and_nothing_changes(
        tmp_path, existing_db, monkeypatch):
    before = file_digest(existing_db)
    _forgetting_the_stored_keys(monkeypatch)
    folder = write_dataset(tmp_path / "new", releases=replace_cell("releases", 0, "release_id",
                                                                    "R-NEW"))
    with pytest.raises(DuplicateKeyError, match="releases .*release_id.*nothing was changed"):
        import_dataset(folder, existing_db, today=TODAY)
    assert file_digest(existing_db) == before


def test_a_first_import_with_that_bug_leaves_no_database(tmp_path, db, monkeypatch):
    _writing_every_row_twice(monkeypatch)
    with pytest.raises(DuplicateKeyError):
        import_dataset(write_dataset(tmp_path / "d"), db, today=TODAY)
    assert not db.exists()
