"""Rewriting a database file all or nothing (analysis.store.rewrite)."""

from __future__ import annotations

import duckdb
import pytest

from analysis.errors import DatabaseError
from analysis.store.atomic import import_lock
from analysis.store.rewrite import rewrite_database
from analysis.store.schema import migrate


@pytest.fixture
def db(tmp_path):
    path = tmp_path / "study.duckdb"
    con = duckdb.connect(str(path))
    migrate(con)
    con.close()
    return path


def _add_note(con):
    con.execute("INSERT INTO metadata VALUES ('note', 'written')")
    return "done"


def _notes(db) -> list:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute("SELECT value FROM metadata WHERE key = 'note'").fetchall()


def _files(db) -> list[str]:
    return sorted(p.name for p in db.parent.iterdir())


def test_the_change_is_swapped_in_and_its_result_returned(db):
    assert rewrite_database(db, _add_note, wanted=lambda con: True) == "done"
    assert _notes(db) == [("written",)]
    assert _files(db) == ["study.duckdb", "study.duckdb.lock"]


def test_nothing_is_written_when_nothing_is_wanted(db):
    before = db.stat().st_mtime_ns, db.read_bytes()
    assert rewrite_database(db, _add_note, wanted=lambda con: False) is None
    assert (db.stat().st_mtime_ns, db.read_bytes()) == before


@pytest.mark.parametrize("where", ["change", "check"])
def test_a_failure_leaves_the_live_file_and_no_copy(db, where):
    before = db.read_bytes()

    def fail(con):
        raise RuntimeError(f"{where} failed")

    change, check = (fail, None) if where == "change" else (_add_note, fail)
    with pytest.raises(RuntimeError, match=f"{where} failed"):
        rewrite_database(db, change, wanted=lambda con: True, check=check)
    assert db.read_bytes() == before and _notes(db) == []
    assert _files(db) == ["study.duckdb", "study.duckdb.lock"]


def test_leftover_copies_of_a_killed_run_are_removed(db):
    leftover = db.with_name(db.name + ".import-killed.tmp")
    leftover.write_text("half a copy")
    rewrite_database(db, _add_note, wanted=lambda con: False)
    assert not leftover.exists()


def test_a_locked_a_missing_and_a_foreign_file_are_refused(db, tmp_path):
    with import_lock(db), pytest.raises(DatabaseError, match="cannot migrate .*another "
                                                               "import or migration"):
        rewrite_database(db, _add_note, wanted=lambda con: True, action="migrate")
    with pytest.raises(DatabaseError, match="no database file at"):
        rewrite_database(tmp_path / "none.duckdb", _add_note, wanted=lambda con: True)
    foreign = tmp_path / "foreign.duckdb"
    duckdb.connect(str(foreign)).close()
    with pytest.raises(DatabaseError, match="not a Desistance study database"):
        rewrite_database(foreign, _add_note, wanted=lambda con: True)
    assert _notes(db) == []
