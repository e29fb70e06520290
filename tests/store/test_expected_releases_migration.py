"""Migration 005: every database, old ones after ``desist migrate``, has an empty
``expected_releases`` table with the contract's columns."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
from click.testing import CliRunner

from analysis.cli import main
from analysis.contract import EXPECTED_RELEASES
from analysis.ingest import import_dataset
from analysis.store import SCHEMA_VERSION, migrate
from analysis.store.schema import pending_migrations, schema_version
from tests.store.old_schema import migrate_to

STORED = {
    "person_id": ("VARCHAR", "NO"),
    "expected_release_date": ("DATE", "NO"),
    "facility": ("VARCHAR", "NO"),
    "release_region": ("VARCHAR", "YES"),
    "sex": ("VARCHAR", "YES"),
    "birth_year": ("INTEGER", "YES"),
    "age_at_release": ("DOUBLE", "YES"),
    "offense_category": ("VARCHAR", "YES"),
    "sentence_months": ("DOUBLE", "YES"),
    "prior_convictions": ("INTEGER", "YES"),
    "release_type": ("VARCHAR", "YES"),
    "batch_id": ("VARCHAR", "NO"),
}


def _at_schema_4(db) -> None:
    """A database as version 4 of the schema left it, with one release."""
    con = duckdb.connect(str(db))
    migrate_to(con, 4)
    con.execute("INSERT INTO releases (release_id, person_id, release_date, facility, "
                "follow_up_end, batch_id) VALUES ('r1', 'p1', DATE '2020-01-01', 'North', "
                "DATE '2020-12-31', 'old')")
    con.close()


def _columns(con) -> dict[str, tuple[str, str]]:
    rows = con.execute("SELECT column_name, data_type, is_nullable FROM "
                       "information_schema.columns WHERE table_name = 'expected_releases' "
                       "ORDER BY ordinal_position").fetchall()
    return {name: (kind, nullable) for name, kind, nullable in rows}


def test_the_table_has_the_contract_columns():
    # Its key (person_id, expected_release_date) is the importer's to keep since schema 7
    # (tests/store/test_record_keys_migration.py).
    con = duckdb.connect()
    migrate(con)
    assert _columns(con) == STORED
    assert set(STORED) - {"batch_id"} == set(EXPECTED_RELEASES.column_names)


def test_migrate_adds_it_empty_to_a_schema_4_database(tmp_path):
    db = tmp_path / "old.duckdb"
    _at_schema_4(db)
    con = duckdb.connect(str(db))
    assert pending_migrations(con)[0] == "005_expected_releases"
    assert migrate(con) == SCHEMA_VERSION
    assert con.execute("SELECT count(*) FROM expected_releases").fetchone() == (0,)
    assert con.execute("SELECT release_id FROM releases").fetchall() == [("r1",)]
    con.close()


def test_desist_migrate_upgrades_an_older_file(tmp_path):
    db = tmp_path / "old.duckdb"
    _at_schema_4(db)
    done = CliRunner().invoke(main, ["migrate", str(db), "--json"])
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["migrations"][0] == "005_expected_releases"
    assert report["schema_after"] == SCHEMA_VERSION
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert schema_version(con) == SCHEMA_VERSION and _columns(con) == STORED
        assert con.execute("SELECT count(*) FROM expected_releases").fetchone() == (0,)
    finally:
        con.close()


def test_an_import_into_a_schema_4_database_adds_and_fills_it(tmp_path):
    db = tmp_path / "old.duckdb"
    _at_schema_4(db)
    folder = tmp_path / "more"
    folder.mkdir()
    (folder / "releases.csv").write_text(
        "release_id,person_id,release_date,facility,follow_up_end\n"
        "R9,P9,2021-01-01,North,2021-12-31\n", encoding="utf-8")
    (folder / "expected_releases.csv").write_text(
        "person_id,expected_release_date,facility\nP9,2026-02-01,North\n", encoding="utf-8")
    report = import_dataset(folder, db, today=dt.date(2025, 1, 1))
    assert report.tables["expected_releases"].inserted == 1
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert schema_version(con) == SCHEMA_VERSION
        joined = con.execute("SELECT count(*) FROM expected_releases e JOIN releases r "
                             "USING (person_id) WHERE r.release_id = 'R9'").fetchone()
    finally:
        con.close()
    assert joined == (1,)
