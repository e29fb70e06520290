"""The file plumbing of an import: one writer at a time, leftovers removed, atomic swap."""

from __future__ import annotations

import pytest

from analysis.errors import DesistError
from analysis.store.atomic import (
    flush_directory,
    flush_to_disk,
    import_lock,
    remove_leftovers,
    replace_atomically,
)


def test_a_second_writer_is_refused_while_the_lock_is_held(tmp_path):
    db = tmp_path / "study.duckdb"
    with import_lock(db):
        with pytest.raises(DesistError, match="another import into .*study.duckdb is running"):
            with import_lock(db):
                pass
    with import_lock(db):  # released on leaving the block
        pass


def test_the_lock_is_released_when_the_block_fails(tmp_path):
    db = tmp_path / "study.duckdb"
    with pytest.raises(RuntimeError), import_lock(db):
        raise RuntimeError("the import failed")
    with import_lock(db):
        pass


def test_leftovers_of_killed_imports_are_removed_and_nothing_else(tmp_path):
    db = tmp_path / "study.duckdb"
    db.write_text("live")
    keep = [db, tmp_path / "study.duckdb.key", tmp_path / "other.duckdb.import-1.tmp"]
    for path in keep[1:]:
        path.write_text("keep")
    copy = tmp_path / "study.duckdb.import-20250101T000000Z-ab.tmp"
    copy.write_text("half")
    (tmp_path / (copy.name + ".wal")).write_text("log")
    spill = tmp_path / (copy.name + ".spill")
    spill.mkdir()
    (spill / "block").write_text("x")
    remove_leftovers(db)
    assert sorted(p.name for p in tmp_path.iterdir()) == sorted(p.name for p in keep)


def test_the_copy_replaces_the_live_file_in_one_step(tmp_path):
    live, copy = tmp_path / "study.duckdb", tmp_path / "study.duckdb.import-1.tmp"
    live.write_text("old")
    copy.write_text("new")
    flush_to_disk(copy)
    replace_atomically(copy, live)
    flush_directory(tmp_path)
    assert live.read_text() == "new"
    assert not copy.exists()


def test_a_flush_that_the_disk_refuses_is_an_os_error(tmp_path):
    with pytest.raises(OSError):
        flush_to_disk(tmp_path / "missing")
