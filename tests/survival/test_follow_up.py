"""Stored follow-up facts (release_follow_up): same episodes as on the fly, kept fresh by imports."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest

from analysis.contract import EVENT_TYPES
from analysis.errors import DatabaseError
from analysis.ingest import import_dataset
from analysis.store import connect_readonly
from analysis.store.schema import _migrations, schema_version
from analysis.survival import follow_up
from analysis.survival.episodes import (
    Outcome,
    Selection,
    build_episodes,
    day_counts_sql,
    episodes_sql,
)
from analysis.survival.grouping import resolve_grouping
from tests.survival.km_db import D, make_db

TODAY = dt.date(2025, 1, 1)
#: Everything an episode row derives, as comparable scalars (lists joined as text).
COMPARED = ("release_id, prev_release, next_release, first_event, first_reincarceration, "
            "end_date, time, event, cause, competing_reason, end_reason, age_band, "
            "release_year, array_to_string(programs, ',') AS programs, "
            "array_to_string(programs_completed, ',') AS programs_completed")
OUTCOMES = ("any", "rearrest", "reconviction", "reincarceration", "rearrest,violation")


def _episodes(con, outcome: str, selection: Selection | None, stored: bool) -> pd.DataFrame:
    types = Outcome.from_types(None if outcome == "any" else outcome).resolve(con)
    sql, params = episodes_sql(types, selection, select=COMPARED, follow_up=stored)
    return con.execute(sql + " ORDER BY release_id", params).df()


def _counts(con, outcome: str, by: str | None, stored: bool) -> pd.DataFrame:
    types = Outcome.from_types(None if outcome == "any" else outcome).resolve(con)
    grouping = resolve_grouping(con, by)
    sql, params = day_counts_sql(types, None, grouping.sql, grouping.params, follow_up=stored)
    return con.execute(sql + ' ORDER BY "group", time', params).df()


def _demo_programs(con) -> dict[str, str]:
    return dict(con.execute(
        "SELECT program_id, setting FROM programs WHERE setting IN ('in_prison', 'community') "
        "ORDER BY program_id").fetchall())


def test_the_demo_database_has_fresh_stored_facts_worth_testing(demo_con):
    assert follow_up.follow_up_ready(demo_con)
    fu = demo_con.execute(
        "SELECT count(*) FILTER (WHERE next_release IS NOT NULL), "
        "count(*) FILTER (WHERE prev_release IS NOT NULL), "
        "count(*) FILTER (WHERE len(programs) > 0), "
        "count(*) FILTER (WHERE len(programs_completed) > 0), count(*) "
        "FROM release_follow_up").fetchone()
    # people with several releases, programme participants, completers: all present
    assert min(fu[:4]) > 50 and fu[4] == demo_con.execute(
        "SELECT count(*) FROM releases").fetchone()[0]
    record = json.loads(demo_con.execute(
        "SELECT value FROM metadata WHERE key = 'follow_up_refreshed'").fetchone()[0])
    assert record["releases"] == fu[4] and record["batch_id"]


@pytest.mark.parametrize("outcome", OUTCOMES)
@pytest.mark.parametrize("selection", [
    None,
    Selection(sexes=("F",)),
    Selection(release_from=D(2019, 1, 1), release_to=D(2020, 6, 30), age_bands=("25-34",)),
], ids=["all", "women", "cohort"])
def test_stored_episodes_equal_computed_ones_on_the_demo(demo_con, outcome, selection):
    stored = _episodes(demo_con, outcome, selection, stored=True)
    computed = _episodes(demo_con, outcome, selection, stored=False)
    assert len(stored) > 100
    pd.testing.assert_frame_equal(stored, computed)


@pytest.mark.parametrize("outcome", ("any", "rearrest", "reincarceration"))
def test_stored_day_counts_equal_computed_ones_for_every_breakdown(demo_con, outcome):
    programs = _demo_programs(demo_con)
    assert programs
    for by in (None, "facility", "age_band", "release_year", *(f"program:{p}" for p in programs)):
        stored = _counts(demo_con, outcome, by, stored=True)
        computed = _counts(demo_con, outcome, by, stored=False)
        pd.testing.assert_frame_equal(stored, computed, obj=f"day counts by {by}")
        if by and by.startswith("program:") and programs[by[8:]] == "in_prison":
            # (community programmes start after release: nobody takes part at baseline)
            assert set(stored["group"]) == {"participant", "non-participant"}


def test_build_episodes_takes_the_stored_path_on_imported_databases(demo_con):
    types = Outcome.named("rearrest").resolve(demo_con)
    sql, params = episodes_sql(types, None, select="release_id, time, event, cause",
                               follow_up=False)
    computed = demo_con.execute(sql + " ORDER BY release_id", params).df()
    frame = build_episodes(demo_con, Outcome.named("rearrest"))
    pd.testing.assert_frame_equal(
        frame[["release_id", "time", "event", "cause"]], computed, check_dtype=False)


# ------------------------------------------------------------------ freshness


def _write(folder, name, header, rows):
    folder.mkdir(parents=True, exist_ok=True)
    lines = [",".join(header)] + [",".join(r) for r in rows]
    (folder / f"{name}.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")


def _stored(con) -> pd.DataFrame:
    return con.execute(
        "SELECT f.release_id, f.prev_release, f.next_release, f.first_rearrest, "
        "f.first_reconviction, array_to_string(f.programs, ',') AS programs, "
        "array_to_string(f.programs_completed, ',') AS completed "
        "FROM release_follow_up f ORDER BY release_id").df().set_index("release_id")


def test_a_second_import_refreshes_the_stored_facts(tmp_path):
    db = tmp_path / "study.duckdb"
    first, second = tmp_path / "first", tmp_path / "second"
    rel_header = ("release_id", "person_id", "release_date", "facility", "follow_up_end")
    _write(first, "releases", rel_header, [("R1", "P1", "2020-01-10", "North", "2023-12-31"),
                                           ("R2", "P2", "2020-02-10", "North", "2023-12-31")])
    _write(first, "programs", ("program_id", "name", "category", "setting"),
           [("EDU", "Education", "education", "in_prison")])
    _write(first, "participation", ("person_id", "program_id", "start_date", "status"),
           [("P1", "EDU", "2019-06-01", "completed")])
    _write(first, "events", ("person_id", "event_date", "event_type"),
           [("P1", "2021-03-01", "rearrest")])
    import_dataset(first, db, today=TODAY)
    con = connect_readonly(db)
    assert follow_up.follow_up_ready(con)
    before = _stored(con)
    assert pd.isna(before.loc["R1", "next_release"])
    assert before.loc["R1", "first_rearrest"] == pd.Timestamp("2021-03-01")
    assert (before.loc["R1", "programs"], before.loc["R1", "completed"]) == ("EDU", "EDU")
    eps = build_episodes(con, Outcome.named("rearrest")).set_index("release_id")
    assert (eps.loc["R1", "event"], eps.loc["R1", "time"]) == (1, 416)
    con.close()

    # P1 is released again before the rearrest, took EDU during that second custody
    # period (not completed), and P2 gets a reconviction
    _write(second, "releases", rel_header, [("R3", "P1", "2021-01-05", "South", "2023-12-31")])
    _write(second, "participation", ("person_id", "program_id", "start_date", "status"),
           [("P1", "EDU", "2020-06-01", "dropped_out")])
    _write(second, "events", ("person_id", "event_date", "event_type"),
           [("P2", "2020-06-01", "reconviction")])
    import_dataset(second, db, today=TODAY)
    con = connect_readonly(db)
    assert follow_up.follow_up_ready(con)
    after = _stored(con)
    assert after.loc["R1", "next_release"] == pd.Timestamp("2021-01-05")
    assert after.loc["R3", "prev_release"] == pd.Timestamp("2020-01-10")
    assert after.loc["R3", "first_rearrest"] == pd.Timestamp("2021-03-01")
    assert after.loc["R2", "first_reconviction"] == pd.Timestamp("2020-06-01")
    assert (after.loc["R1", "programs"], after.loc["R1", "completed"]) == ("EDU", "EDU")
    assert after.loc["R3", "programs"] == "EDU" and pd.isna(after.loc["R3", "completed"])
    eps = build_episodes(con, Outcome.named("rearrest")).set_index("release_id")
    assert (eps.loc["R1", "event"], eps.loc["R1", "end_reason"]) == (0, "next_release")
    assert (eps.loc["R3", "event"], eps.loc["R3", "time"]) == (1, 55)
    for outcome in OUTCOMES:
        pd.testing.assert_frame_equal(_episodes(con, outcome, None, stored=True),
                                      _episodes(con, outcome, None, stored=False))
    con.close()


def test_data_written_after_the_refresh_make_the_stored_facts_unused():
    con = make_db(releases=[{"release_id": "r1", "person_id": "p1",
                             "release_date": D(2020, 1, 1)}])
    assert not follow_up.follow_up_ready(con)  # never refreshed
    follow_up.refresh_follow_up(con)
    assert follow_up.follow_up_ready(con)
    con.execute("INSERT INTO events VALUES ('p1', DATE '2020-02-01', 'rearrest', NULL, 'x')")
    assert not follow_up.follow_up_ready(con)
    assert build_episodes(con).loc[0, "time"] == 31  # still right: computed on the fly
    follow_up.refresh_follow_up(con)
    assert follow_up.follow_up_ready(con)
    assert build_episodes(con).loc[0, "time"] == 31


def test_a_schema_1_database_still_works_and_an_import_upgrades_it(tmp_path):
    db = tmp_path / "old.duckdb"
    con = duckdb.connect(str(db))
    version, name, sql = _migrations()[0]
    con.execute(sql)
    con.execute("CREATE TABLE schema_version (version INTEGER PRIMARY KEY, name VARCHAR, "
                "applied_at TIMESTAMP)")
    con.execute("INSERT INTO schema_version VALUES (?, ?, now())", [version, name])
    con.execute("INSERT INTO releases (release_id, person_id, release_date, facility, "
                "follow_up_end, batch_id) VALUES ('r1', 'p1', DATE '2020-01-01', 'North', "
                "DATE '2020-12-31', 'old')")
    con.execute("INSERT INTO events VALUES ('p1', DATE '2020-03-01', 'rearrest', NULL, 'old')")
    con.close()
    con = connect_readonly(db)
    assert schema_version(con) == 1 and not follow_up.follow_up_ready(con)
    assert build_episodes(con)[["time", "event"]].values.tolist() == [[60, 1]]
    con.close()

    folder = tmp_path / "more"
    _write(folder, "releases", ("release_id", "person_id", "release_date", "facility",
                                "follow_up_end"), [("R9", "P9", "2021-01-01", "North",
                                                    "2021-12-31")])
    import_dataset(folder, db, today=TODAY)
    con = connect_readonly(db)
    assert schema_version(con) >= 2 and follow_up.follow_up_ready(con)
    assert build_episodes(con)[["release_id", "time", "event"]].values.tolist() == [
        ["R9", 364, 0], ["r1", 60, 1]]
    con.close()


def test_a_misaligned_table_is_refused():
    con = make_db(releases=[
        {"release_id": f"r{i}", "person_id": f"p{i}", "release_date": D(2020, 1, 1 + i)}
        for i in range(3)])
    follow_up.refresh_follow_up(con)
    follow_up.verify_follow_up(con)
    rows = con.execute("SELECT * FROM release_follow_up ORDER BY release_id DESC").df()
    con.execute("DELETE FROM release_follow_up")
    con.register("rows_df", rows)
    con.execute("INSERT INTO release_follow_up SELECT * FROM rows_df")
    with pytest.raises(DatabaseError, match="out of step"):
        follow_up.verify_follow_up(con)


def test_the_table_has_a_first_event_column_per_event_type():
    con = make_db()
    columns = {r[0] for r in con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'release_follow_up'").fetchall()}
    assert {follow_up.first_event_column(t) for t in EVENT_TYPES} <= columns
