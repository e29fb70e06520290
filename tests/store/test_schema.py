"""Schema migrations, schema_version, read-only connections and database path resolution."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pytest

from analysis.errors import DatabaseError
from analysis.store import (
    DEFAULT_DB,
    SCHEMA_VERSION,
    connect_readonly,
    migrate,
    resolve_db_path,
    schema_version,
)

TABLES = {
    "schema_version",
    "providers",
    "services",
    "referrals",
    "region_boundaries",
    "metadata",
    "import_log",
    "import_files",
    "releases",
    "covariates",
    "programs",
    "participation",
    "events",
    "release_follow_up",
    "stored_views",
    "expected_releases",
}


def _tables(con) -> set[str]:
    return {
        r[0] for r in con.execute("SELECT table_name FROM information_schema.tables").fetchall()
    }


@pytest.fixture
def built(tmp_path) -> Path:
    path = tmp_path / "s.duckdb"
    con = duckdb.connect(str(path))
    migrate(con)
    con.close()
    return path


def test_migrate_creates_every_table_and_records_the_version(tmp_path):
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    assert schema_version(con) == 0
    assert migrate(con) == SCHEMA_VERSION >= 1
    assert _tables(con) == TABLES
    assert schema_version(con) == SCHEMA_VERSION
    rows = con.execute("SELECT version, name FROM schema_version ORDER BY version").fetchall()
    assert rows[0] == (1, "initial") and len(rows) == SCHEMA_VERSION


def test_migrate_twice_changes_nothing(tmp_path):
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    migrate(con)
    before = con.execute("SELECT * FROM schema_version").fetchall()
    migrate(con)
    assert con.execute("SELECT * FROM schema_version").fetchall() == before


def test_migrate_refuses_a_newer_database(tmp_path):
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    migrate(con)
    con.execute("INSERT INTO schema_version VALUES (?, 'future', now())", [SCHEMA_VERSION + 1])
    with pytest.raises(DatabaseError, match="newer"):
        migrate(con)


def test_migrate_inside_a_rolled_back_transaction_leaves_nothing(tmp_path):
    con = duckdb.connect(str(tmp_path / "s.duckdb"))
    con.execute("BEGIN TRANSACTION")
    migrate(con)
    con.execute("ROLLBACK")
    assert schema_version(con) == 0 and _tables(con) == set()


def test_test_databases_can_be_built_without_the_importer(built):
    import pandas as pd

    frame = pd.DataFrame(
        {
            "release_id": ["R1"],
            "person_id": ["abc"],
            "release_date": [pd.Timestamp("2020-01-01")],
            "facility": ["North"],
            "follow_up_end": [pd.Timestamp("2021-01-01")],
            "batch_id": ["t"],
        }
    )
    con = duckdb.connect(str(built))
    con.register("frame", frame)
    con.execute("INSERT INTO releases BY NAME SELECT * FROM frame")
    assert con.execute("SELECT follow_up_end_reason FROM releases").fetchall() == [("data_cutoff",)]


def test_connect_readonly_reads_and_refuses_writes(built):
    con = connect_readonly(built)
    assert schema_version(con) == SCHEMA_VERSION
    with pytest.raises(duckdb.Error):
        con.execute("INSERT INTO metadata VALUES ('a', 'b')")
    con.close()


def test_two_readers_at_once(built):
    first, second = connect_readonly(built), connect_readonly(built)
    assert first.execute("SELECT 1").fetchone() == second.execute("SELECT 1").fetchone()
    first.close()
    second.close()


def test_connect_readonly_missing_file_says_how_to_build_one(tmp_path):
    with pytest.raises(DatabaseError, match="desist import"):
        connect_readonly(tmp_path / "missing.duckdb")


def test_connect_readonly_refuses_a_file_that_is_not_duckdb(tmp_path):
    path = tmp_path / "notes.duckdb"
    path.write_bytes(b"hello, not a database" * 100)
    with pytest.raises(DatabaseError, match="cannot open"):
        connect_readonly(path)


def test_connect_readonly_refuses_an_unrelated_duckdb_file(tmp_path):
    path = tmp_path / "other.duckdb"
    con = duckdb.connect(str(path))
    con.execute("CREATE TABLE t (x INTEGER)")
    con.close()
    with pytest.raises(DatabaseError, match="not a Desistance study database"):
        connect_readonly(path)


def test_connect_readonly_refuses_a_newer_schema(built):
    con = duckdb.connect(str(built))
    con.execute("INSERT INTO schema_version VALUES (?, 'future', now())", [SCHEMA_VERSION + 1])
    con.close()
    with pytest.raises(DatabaseError, match="newer"):
        connect_readonly(built)


def test_db_path_resolution_order(monkeypatch):
    monkeypatch.delenv("DESIST_DB", raising=False)
    assert resolve_db_path(None) == DEFAULT_DB == Path("data") / "demo.duckdb"
    assert resolve_db_path("") == DEFAULT_DB
    monkeypatch.setenv("DESIST_DB", "  ")
    assert resolve_db_path(None) == DEFAULT_DB
    monkeypatch.setenv("DESIST_DB", "/srv/env.duckdb")
    assert resolve_db_path(None) == Path("/srv/env.duckdb")
    assert resolve_db_path("given.duckdb") == Path("given.duckdb")
    assert resolve_db_path(Path("/x/p.duckdb")) == Path("/x/p.duckdb")


def test_cli_uses_the_same_resolution(monkeypatch):
    from analysis.cli.common import resolved_db

    monkeypatch.setenv("DESIST_DB", "/srv/env.duckdb")
    assert resolved_db(None) == Path("/srv/env.duckdb")
    assert resolved_db("cli.duckdb") == Path("cli.duckdb")
