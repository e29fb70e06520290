"""Migration 007: the person-level tables lose their PRIMARY KEY index, and nothing else.

The rows (in their order: release_follow_up is aligned with releases row by row), the
covariate columns, the NOT NULL constraints and the defaults stay as they were. The keys
are then kept by the importer (tests/ingest/test_keys.py).
"""

from __future__ import annotations

import json

import duckdb
import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.ingest.keys import UNINDEXED_TABLES
from analysis.store import SCHEMA_VERSION, migrate
from analysis.store.schema import pending_migrations
from analysis.survival.follow_up import verify_follow_up
from tests.store.old_schema import migrate_to

ROWS = {
    # releases out of key order, so that "the same order" is not "sorted"
    "releases": "INSERT INTO releases (release_id, person_id, release_date, facility, "
                "follow_up_end, batch_id, risk_band) VALUES "
                "('r3', 'p2', DATE '2021-03-01', 'North', DATE '2022-01-01', 'b', 'high'), "
                "('r1', 'p1', DATE '2020-01-01', 'South', DATE '2022-01-01', 'b', NULL), "
                "('r2', 'p1', DATE '2020-06-01', 'North', DATE '2022-01-01', 'b', 'low')",
    "participation": "INSERT INTO participation VALUES "
                     "('p2', 'edu', DATE '2020-05-01', NULL, 'completed', 40, 'r3', 'b'), "
                     "('p1', 'edu', DATE '2019-05-01', NULL, NULL, NULL, NULL, 'b')",
    "events": "INSERT INTO events VALUES ('p1', DATE '2020-02-01', 'rearrest', NULL, 'b'), "
              "('p2', DATE '2021-04-01', 'reconviction', 'theft', 'b')",
    "expected_releases": "INSERT INTO expected_releases (person_id, expected_release_date, "
                         "facility, batch_id, wing) VALUES "
                         "('p3', DATE '2026-02-01', 'North', 'b', 'east')",
    "referrals": "INSERT INTO referrals VALUES "
                 "('p1', 's1', DATE '2020-01-05', 'attended', 'r1', DATE '2020-01-20', 'b')",
}


def _at_schema_6(db) -> None:
    """A database as version 6 of the schema left it, with rows in every record table."""
    con = duckdb.connect(str(db))
    migrate_to(con, 6)
    # a covariate and an extra column, added as the importer adds them
    con.execute("ALTER TABLE releases ADD COLUMN risk_band VARCHAR")
    con.execute("INSERT INTO covariates VALUES ('risk_band', 'categorical', 'b')")
    con.execute("ALTER TABLE expected_releases ADD COLUMN wing VARCHAR")
    for sql in ROWS.values():
        con.execute(sql)
    con.close()


def _contents(con) -> dict[str, list[tuple]]:
    return {t: con.execute(f"SELECT * FROM {t} ORDER BY rowid").fetchall() for t in ROWS}


def _columns(con, table: str) -> list[tuple]:
    return con.execute("SELECT column_name, data_type, is_nullable, column_default FROM "
                       "information_schema.columns WHERE table_name = ? "
                       "ORDER BY ordinal_position", [table]).fetchall()


def _keys(con) -> set[str]:
    return {t for (t,) in con.execute(
        "SELECT table_name FROM duckdb_constraints() "
        "WHERE constraint_type IN ('PRIMARY KEY', 'UNIQUE')").fetchall()}


def test_the_indexes_go_and_rows_columns_and_constraints_stay(tmp_path):
    db = tmp_path / "six.duckdb"
    _at_schema_6(db)
    con = duckdb.connect(str(db))
    before = _contents(con)
    columns = {t: _columns(con, t) for t in ROWS}
    assert set(UNINDEXED_TABLES) <= _keys(con)
    assert pending_migrations(con) == ["007_record_keys_checked_by_importer"]

    assert migrate(con) == SCHEMA_VERSION
    assert _contents(con) == before
    assert {t: _columns(con, t) for t in ROWS} == columns
    assert not set(UNINDEXED_TABLES) & _keys(con)
    # the small tables keep theirs
    assert {"programs", "covariates", "metadata", "services", "providers"} <= _keys(con)
    # NOT NULL still refused, the default still given
    with pytest.raises(duckdb.ConstraintException):
        con.execute("INSERT INTO releases (release_id, person_id, release_date, facility, "
                    "follow_up_end, batch_id) VALUES (NULL, 'p', DATE '2020-01-01', 'N', "
                    "DATE '2021-01-01', 'b')")
    con.execute("INSERT INTO releases (release_id, person_id, release_date, facility, "
                "follow_up_end, batch_id) VALUES ('r9', 'p', DATE '2020-01-01', 'N', "
                "DATE '2021-01-01', 'b')")
    assert con.execute("SELECT follow_up_end_reason FROM releases WHERE release_id = 'r9'"
                       ).fetchone() == ("data_cutoff",)
    con.close()


def test_a_migrated_table_is_the_one_a_new_database_has():
    old = duckdb.connect()
    migrate_to(old, 6)
    migrate(old)
    new = duckdb.connect()
    migrate(new)
    for table in UNINDEXED_TABLES:
        assert _columns(old, table) == _columns(new, table), table


def test_desist_migrate_upgrades_a_schema_6_file_and_aligns_the_follow_up(tmp_path):
    db = tmp_path / "six.duckdb"
    _at_schema_6(db)
    with duckdb.connect(str(db)) as con:
        before = _contents(con)
    done = CliRunner().invoke(main, ["migrate", str(db), "--json"])
    assert done.exit_code == 0, done.output
    assert "007_record_keys_checked_by_importer" in json.loads(done.output)["migrations"]
    with duckdb.connect(str(db), read_only=True) as con:
        assert _contents(con) == before
        verify_follow_up(con)  # row i of the follow-up table is release i
        assert con.execute("SELECT count(*) FROM release_follow_up").fetchone() == (3,)
