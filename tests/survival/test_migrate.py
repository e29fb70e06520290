"""``desist migrate DB``: older databases are refused by readers with the command that
upgrades them; the command upgrades them all or nothing, to the results of a fresh
import, and a second run changes nothing."""

from __future__ import annotations

import datetime as dt
import json
import shutil

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.errors import AnalysisError, DatabaseError
from analysis.ingest import import_dataset
from analysis.store import connect_readonly
from analysis.store.atomic import import_lock
from analysis.store.schema import SCHEMA_VERSION, schema_version
from analysis.survival import follow_up, upgrade
from analysis.survival.episodes import Outcome, build_episodes, day_counts
from analysis.survival.kaplan_meier import kaplan_meier_from_db
from tests.store.old_schema import migrate_to

OUTCOMES = (None, "rearrest", "reincarceration", "rearrest,reconviction")


def _write(folder, name, header, rows):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header)] + [",".join(r) for r in rows]
    (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


@pytest.fixture(scope="module")
def fresh(tmp_path_factory):
    """A database made by the importer: what a migrated database must equal."""
    folder = tmp_path_factory.mktemp("dataset")
    _write(folder, "releases",
           ("release_id", "person_id", "release_date", "facility", "sex", "follow_up_end",
            "follow_up_end_reason"),
           [("R1", "P1", "2020-01-10", "North", "F", "2022-12-31", "data_cutoff"),
            ("R2", "P1", "2021-01-05", "North", "F", "2022-12-31", "data_cutoff"),
            ("R3", "P2", "2020-02-01", "South", "M", "2021-03-01", "death"),
            ("R4", "P3", "2020-03-01", "South", "M", "2022-12-31", "data_cutoff"),
            ("R5", "P4", "2020-04-01", "North", "M", "2022-12-31", "data_cutoff")])
    _write(folder, "programs", ("program_id", "name", "category", "setting"),
           [("EDU", "Education", "education", "in_prison")])
    _write(folder, "participation", ("person_id", "program_id", "start_date", "status"),
           [("P1", "EDU", "2019-06-01", "completed"), ("P3", "EDU", "2019-01-01", "ongoing")])
    _write(folder, "events", ("person_id", "event_date", "event_type"),
           [("P1", "2020-06-01", "reincarceration"), ("P1", "2020-07-01", "rearrest"),
            ("P1", "2021-01-05", "rearrest"), ("P2", "2020-05-01", "reconviction"),
            ("P4", "2020-09-01", "rearrest")])
    db = tmp_path_factory.mktemp("fresh") / "fresh.duckdb"
    import_dataset(folder, db, today=dt.date(2025, 1, 1))
    return db


def _results(db) -> dict:
    con = connect_readonly(db)
    try:
        out = {}
        for types in OUTCOMES:
            outcome = Outcome.from_types(types)
            out[f"episodes {types}"] = build_episodes(con, outcome, columns=["sex"])
            out[f"km {types}"] = kaplan_meier_from_db(con, "sex", outcome,
                                                      min_group_size=1).day_table
        return out
    finally:
        con.close()


def _layout_2(db) -> None:
    """As refreshed by a version before migration 003: a record without "layout"."""
    con = duckdb.connect(str(db))
    record = json.loads(con.execute("SELECT value FROM metadata WHERE key = ?",
                                    [follow_up.METADATA_KEY]).fetchone()[0])
    del record["layout"]
    con.execute("UPDATE metadata SET value = ? WHERE key = ?",
                [json.dumps(record), follow_up.METADATA_KEY])
    con.execute(f"UPDATE {follow_up.TABLE} SET censor_day = NULL, first_any_day = NULL")
    con.close()


def _schema_1(db) -> None:
    """The same records in a database of schema version 1 (no follow-up table)."""
    old = db.with_name("schema1.tmp.duckdb")
    shutil.move(db, old)
    con = duckdb.connect(str(db))
    migrate_to(con, 1)
    con.execute(f"ATTACH '{old}' AS src (READ_ONLY)")
    for table in ("metadata", "import_log", "import_files", "covariates", "programs",
                  "participation", "events"):
        con.execute(f"INSERT INTO {table} SELECT * FROM src.{table}")
    con.execute("DELETE FROM metadata WHERE key = ?", [follow_up.METADATA_KEY])
    con.execute("INSERT INTO releases SELECT * FROM src.releases ORDER BY rowid")
    con.close()
    old.unlink()


def _stale(db) -> None:
    """A row written by other means than an import, after the last refresh."""
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO events VALUES ('P4', DATE '2020-10-01', 'violation', NULL, 'x')")
    con.close()


def _store_a_view(db) -> None:
    con = duckdb.connect(str(db))
    con.execute("INSERT INTO stored_views VALUES ('views:page', '{}', 'batch', 'code', 'x', "
                "1.0, now())")
    con.close()


def _stored_views(db) -> int:
    with connect_readonly(db) as con:
        return con.execute("SELECT count(*) FROM stored_views").fetchone()[0]


def _migrate(*args):
    return CliRunner().invoke(main, ["migrate", *map(str, args)])


@pytest.mark.parametrize("make_old, why", [
    (_layout_2, "has layout 2"),
    (_schema_1, "is missing (the database has schema version 1"),
], ids=["layout 2", "schema 1"])
def test_an_older_database_is_refused_then_migrated_to_the_fresh_results(
        fresh, tmp_path, make_old, why):
    db = tmp_path / "old study.duckdb"
    shutil.copyfile(fresh, db)
    make_old(db)
    con = connect_readonly(db)
    with pytest.raises(AnalysisError) as refused:
        kaplan_meier_from_db(con, "sex", min_group_size=1)
    con.close()
    message = str(refused.value)
    assert message.startswith(f"{db} cannot be analysed until it is upgraded") and why in message
    assert f"Run `desist migrate '{db}'`" in message  # quoted: the name has a space

    done = _migrate(db)
    assert done.exit_code == 0, done.output
    assert done.output.startswith(f"Upgraded {db}:") and "rebuilt the follow-up table: 5" in done.output
    after, expected = _results(db), _results(fresh)
    for name, frame in expected.items():
        pd.testing.assert_frame_equal(after[name], frame, obj=name)
    con = connect_readonly(db)
    assert schema_version(con) == SCHEMA_VERSION
    assert follow_up.follow_up_layout(con) == follow_up.LAYOUT
    con.close()

    before = db.read_bytes()
    again = _migrate(db)
    assert again.exit_code == 0 and "is already current" in again.output
    assert db.read_bytes() == before  # idempotent: not even rewritten
    assert sorted(p.name for p in tmp_path.iterdir()) == [db.name, db.name + ".lock"]


def test_a_stale_table_is_rebuilt_and_the_report_says_why(fresh, tmp_path):
    db = tmp_path / "stale.duckdb"
    shutil.copyfile(fresh, db)
    _store_a_view(db)
    _stale(db)
    with connect_readonly(db) as con, pytest.raises(AnalysisError, match="is stale"):
        build_episodes(con)
    done = _migrate(db, "--json")
    assert done.exit_code == 0, done.output
    report = json.loads(done.output)
    assert report["changed"] and report["follow_up_rebuilt"] and report["migrations"] == []
    assert report["follow_up_before"].startswith("is stale (events 6 now, 5 when it was built")
    assert (report["schema_before"], report["schema_after"], report["releases"]) == (
        SCHEMA_VERSION, SCHEMA_VERSION, 5)
    # computed before the records changed: removed, the dashboard computes it again
    assert report["stored_views_removed"] == 1 and _stored_views(db) == 0
    assert json.loads(_migrate(db, "--json").output)["changed"] is False


def test_a_fresh_import_needs_no_migration(fresh, tmp_path):
    db = tmp_path / "copy.duckdb"
    shutil.copyfile(fresh, db)
    report = upgrade.upgrade_database(db)
    assert not report.changed and report.schema_before == SCHEMA_VERSION


def test_a_reader_that_has_the_file_open_is_not_disturbed(fresh, tmp_path):
    db = tmp_path / "open.duckdb"
    shutil.copyfile(fresh, db)
    _store_a_view(db)
    _layout_2(db)
    reader = connect_readonly(db)
    assert _migrate(db).exit_code == 0
    assert _stored_views(db) == 1  # same records: the stored results still hold
    # the open connection still reads the old file, whole; a new one reads the new file
    assert reader.execute("SELECT count(*) FROM releases").fetchone()[0] == 5
    assert follow_up.follow_up_layout(reader) == 2
    reader.close()
    with connect_readonly(db) as con:
        assert follow_up.follow_up_layout(con) == follow_up.LAYOUT


def test_a_failed_migration_changes_nothing(fresh, tmp_path, monkeypatch):
    db = tmp_path / "fail.duckdb"
    shutil.copyfile(fresh, db)
    _schema_1(db)
    before = db.read_bytes()

    def broken(con, batch_id=None):
        raise RuntimeError("power cut")

    monkeypatch.setattr(upgrade, "refresh_follow_up", broken)
    with pytest.raises(RuntimeError, match="power cut"):
        upgrade.upgrade_database(db)
    assert db.read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == [db.name, db.name + ".lock"]


def test_a_database_whose_table_was_dropped_by_hand_is_refused_clearly(fresh, tmp_path):
    db = tmp_path / "dropped.duckdb"
    shutil.copyfile(fresh, db)
    con = duckdb.connect(str(db))
    con.execute(f"DROP TABLE {follow_up.TABLE}")
    con.close()
    before = db.read_bytes()
    done = _migrate(db)
    assert done.exit_code == 2
    assert f"has schema version {SCHEMA_VERSION} but no release_follow_up table" in done.output
    assert db.read_bytes() == before


def test_missing_foreign_and_locked_files_exit_2(fresh, tmp_path):
    missing = _migrate(tmp_path / "nothing.duckdb")
    assert missing.exit_code == 2 and "there is no database file at" in missing.output
    assert not (tmp_path / "nothing.duckdb.lock").exists()

    text = tmp_path / "notes.duckdb"
    text.write_text("not a database")
    done = _migrate(text)
    assert done.exit_code == 2 and "cannot open" in done.output and "DuckDB" in done.output
    assert text.read_text() == "not a database"

    other = tmp_path / "other.duckdb"
    duckdb.connect(str(other)).close()
    done = _migrate(other)
    assert done.exit_code == 2 and "not a Desistance study database" in done.output

    db = tmp_path / "busy.duckdb"
    shutil.copyfile(fresh, db)
    _layout_2(db)
    with import_lock(db):
        done = _migrate(db)
    assert done.exit_code == 2 and "another import or migration of it is running" in done.output
    with connect_readonly(db) as con:
        assert follow_up.follow_up_layout(con) == 2  # untouched


def test_upgrade_errors_are_database_errors(tmp_path):
    with pytest.raises(DatabaseError, match="no database file"):
        upgrade.upgrade_database(tmp_path / "none.duckdb")


# ------------------------------------------- an import upgrades an older database too

TODAY = dt.date(2025, 1, 1)


def _database_at_schema(db, versions: int) -> None:
    """A database migrated to its first ``versions`` migrations only, with one release
    (r1, released 2020-01-01) rearrested on day 60, written without the importer."""
    con = duckdb.connect(str(db))
    migrate_to(con, versions)
    con.execute("INSERT INTO releases (release_id, person_id, release_date, facility, "
                "follow_up_end, batch_id) VALUES ('r1', 'p1', DATE '2020-01-01', 'North', "
                "DATE '2020-12-31', 'old')")
    con.execute("INSERT INTO events VALUES ('p1', DATE '2020-03-01', 'rearrest', NULL, 'old')")
    con.close()


def _import_one_more_release(tmp_path, db) -> None:
    """Import release R9 (2021-01-01, followed to 2021-12-31) through the importer."""
    folder = tmp_path / "more"
    _write(folder, "releases", ("release_id", "person_id", "release_date", "facility",
                                "follow_up_end"), [("R9", "P9", "2021-01-01", "North",
                                                    "2021-12-31")])
    import_dataset(folder, db, today=TODAY)


def test_a_schema_1_database_is_refused_by_readers_and_an_import_upgrades_it(tmp_path):
    db = tmp_path / "old.duckdb"
    _database_at_schema(db, 1)
    con = connect_readonly(db)
    assert schema_version(con) == 1 and follow_up.follow_up_layout(con) == 0
    with pytest.raises(AnalysisError) as refused:
        build_episodes(con)
    assert str(refused.value).startswith(f"{db} cannot be analysed until it is upgraded: "
                                         "its derived follow-up table (release_follow_up) "
                                         "is missing (the database has schema version 1")
    assert f"Run `desist migrate {db}`" in str(refused.value)
    con.close()

    _import_one_more_release(tmp_path, db)
    con = connect_readonly(db)
    assert schema_version(con) >= 2 and follow_up.follow_up_problem(con) is None
    assert build_episodes(con)[["release_id", "time", "event"]].values.tolist() == [
        ["R9", 364, 0], ["r1", 60, 1]]
    con.close()


def test_a_schema_2_database_is_upgraded_to_day_numbers_by_the_next_import(tmp_path):
    db = tmp_path / "v2.duckdb"
    _database_at_schema(db, 2)
    con = connect_readonly(db)
    assert schema_version(con) == 2 and follow_up.follow_up_layout(con) == 0
    with pytest.raises(AnalysisError, match="never built.*desist migrate"):
        build_episodes(con)
    con.close()

    _import_one_more_release(tmp_path, db)
    con = connect_readonly(db)
    assert schema_version(con) == SCHEMA_VERSION and follow_up.follow_up_layout(con) == follow_up.LAYOUT
    assert con.execute(f"SELECT release_id, censor_day, first_rearrest_day FROM "
                       f"{follow_up.TABLE} ORDER BY 1").fetchall() == [
        ("R9", 364, None), ("r1", 365, 60)]
    table, _ = day_counts(con)
    assert table[["time", "n_event", "n_censored"]].values.tolist() == [[60, 1, 0],
                                                                        [364, 0, 1]]
    con.close()
