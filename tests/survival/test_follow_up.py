"""Stored follow-up facts (release_follow_up): the episodes read from them equal the
oracle's (computed from the dates), imports keep them fresh, and a database whose table
is missing, older or stale is refused with the command that upgrades it."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import pandas as pd
import pytest

from analysis.contract import EVENT_TYPES
from analysis.errors import AnalysisError, DatabaseError
from analysis.ingest import import_dataset
from analysis.store import connect_readonly
from analysis.store.schema import migrate
from analysis.survival import follow_up
from analysis.survival.episodes import (
    Outcome,
    Selection,
    build_episodes,
    day_counts,
    day_counts_sql,
    episodes_query,
    episodes_sql,
)
from analysis.survival.episodes.cache import _day_counts_outer
from analysis.survival.grouping import resolve_grouping
from tests.survival.episode_oracle import oracle_sql
from tests.survival.km_db import D, make_db

TODAY = dt.date(2025, 1, 1)
#: Everything an episode row derives, as comparable scalars (lists joined as text).
COMPARED = ("release_id, prev_release, next_release, first_event, first_reincarceration, "
            "end_date, time, event, cause, competing_reason, end_reason, age_band, "
            "release_year, array_to_string(programs, ',') AS programs, "
            "array_to_string(programs_completed, ',') AS programs_completed")
OUTCOMES = ("any", "rearrest", "reconviction", "reincarceration", "rearrest,violation")
#: The two forms of the production query (keyword arguments of episodes_sql), each
#: compared with the oracle: with the releases table, and from release_follow_up alone.
STORED_PATHS = {
    "with releases": {},
    "table alone": {"with_releases": False},
}


def _types(con, outcome: str) -> tuple[str, ...]:
    return Outcome.from_types(None if outcome == "any" else outcome).resolve(con)


def _episodes(con, outcome: str, selection: Selection | None, path: dict | None
              ) -> pd.DataFrame:
    """Episodes from a form of the production query, or from the oracle (``None``)."""
    build = oracle_sql if path is None else episodes_sql
    sql, params = build(_types(con, outcome), selection, select=COMPARED, **(path or {}))
    return con.execute(sql + " ORDER BY release_id", params).df()


def _counts(con, outcome: str, by: str | None, path: dict | None, split: bool = False
            ) -> pd.DataFrame:
    """Day counts (``path`` None: the oracle's); ``split``: raw group value per row,
    label after aggregation."""
    grouping = resolve_grouping(con, by)
    group_sql, label_sql = ((grouping.key_sql, grouping.label_sql) if split
                            else (grouping.sql, None))
    if path is None:
        sql, params = oracle_sql(_types(con, outcome), None, tail="GROUP BY ALL",
                                 select=f"{group_sql} AS group_key, time, cause, count(*) AS n")
        sql = _day_counts_outer(sql, label_sql)
        params = {**params, **grouping.params}
    else:
        sql, params = day_counts_sql(_types(con, outcome), None, group_sql, grouping.params,
                                     label_sql=label_sql, **path)
    return con.execute(sql + ' ORDER BY "group", time', params).df()


def _demo_programs(con) -> dict[str, str]:
    return dict(con.execute(
        "SELECT program_id, setting FROM programs WHERE setting IN ('in_prison', 'community') "
        "ORDER BY program_id").fetchall())


def test_the_demo_database_has_fresh_stored_facts_worth_testing(demo_con):
    assert follow_up.follow_up_problem(demo_con) is None
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
    Selection(facilities=("Northgate Prison",), release_types=("conditional",),
              regions=("Capital", "North Coast"), offenses=("drug", "property")),
], ids=["all", "women", "cohort", "place"])
def test_stored_episodes_equal_the_oracle_on_the_demo(demo_con, outcome, selection):
    computed = _episodes(demo_con, outcome, selection, None)
    assert len(computed) > 20
    for name, path in STORED_PATHS.items():
        pd.testing.assert_frame_equal(_episodes(demo_con, outcome, selection, path), computed,
                                      obj=f"episodes from {name}")


@pytest.mark.parametrize("outcome", ("any", "rearrest", "reincarceration", "reconviction,violation"))
def test_stored_day_counts_equal_the_oracle_for_every_breakdown(demo_con, outcome):
    programs = _demo_programs(demo_con)
    assert programs
    for by in (None, "facility", "sex", "follow_up_end_reason", "age_band", "release_year",
               *(f"program:{p}" for p in programs)):
        computed = _counts(demo_con, outcome, by, None)
        assert computed["n_competing"].sum() > 0 and computed["n_event"].sum() > 0
        for name, path in STORED_PATHS.items():
            for split in (False, True):
                pd.testing.assert_frame_equal(
                    _counts(demo_con, outcome, by, path, split), computed,
                    obj=f"day counts by {by} from {name}, split={split}")
        if by and by.startswith("program:") and programs[by[8:]] == "in_prison":
            # (community programmes start after release: nobody takes part at baseline)
            assert set(computed["group"]) == {"participant", "non-participant"}


_CUTOFF = D(2021, 12, 31)


def _edge_cases() -> duckdb.DuckDBPyConnection:
    """Releases on which the day-number rules could go wrong, refreshed as by an import."""
    def release(rid, person, day, end=_CUTOFF, reason="data_cutoff", **kw):
        return {"release_id": rid, "person_id": person, "release_date": day,
                "follow_up_end": end, "follow_up_end_reason": reason, **kw}
    con = make_db(
        releases=[
            release("a1", "pa", D(2020, 1, 1)), release("a2", "pa", D(2020, 1, 2)),
            release("b1", "pb", D(2020, 1, 1), D(2020, 12, 31), "death"),
            release("c1", "pc", D(2020, 1, 1), D(2020, 12, 31), "emigration"),
            release("d1", "pd", D(2020, 1, 1), D(2020, 6, 30), "deportation"),
            release("d2", "pd", D(2020, 7, 1), D(2021, 3, 1), "death"),
            release("e1", "pe", D(2020, 3, 1), D(2020, 2, 1), "death"),
            release("f1", "pf", D(2020, 1, 1)), release("f2", "pf", D(2020, 5, 1)),
            release("g1", "pg", D(2020, 1, 1), D(2020, 3, 1), "death", facility="East"),
            # a competing end on the next release day: the next release ends follow-up first
            release("h1", "ph", D(2020, 1, 1), D(2020, 6, 1), "death"),
            release("h2", "ph", D(2020, 6, 1), D(2021, 1, 1), "death"),
        ],
        events=[
            ("pa", D(2020, 1, 2), "rearrest"),                     # on the next release day
            ("pb", D(2020, 12, 31), "reincarceration"),            # on a competing end
            ("pc", D(2020, 12, 30), "reincarceration"),            # the day before it
            ("pc", D(2020, 12, 30), "rearrest"),                   # with an outcome
            ("pd", D(2020, 6, 30), "violation"),                   # on the competing end
            ("pe", D(2020, 3, 5), "rearrest"),                     # follow-up ended before
            ("pf", D(2020, 1, 1), "reconviction"),                 # on the release day
            ("pf", D(2020, 4, 30), "reincarceration"), ("pf", D(2020, 4, 30), "violation"),
            ("pf", D(2020, 6, 1), "rearrest"), ("pf", D(2021, 1, 1), "reconviction"),
        ],
    )
    follow_up.refresh_follow_up(con, "edge")
    return con


@pytest.mark.parametrize("outcome", (*OUTCOMES, "reconviction,reincarceration", "violation"))
def test_both_forms_give_the_oracle_episodes_on_edge_cases(outcome):
    con = _edge_cases()
    computed = _episodes(con, outcome, None, None)
    assert len(computed) == 12 and (computed["time"] >= 0).all()
    for name, path in STORED_PATHS.items():
        pd.testing.assert_frame_equal(_episodes(con, outcome, None, path), computed,
                                      obj=f"episodes from {name}")
        for by in (None, "facility", "follow_up_end_reason"):
            pd.testing.assert_frame_equal(_counts(con, outcome, by, path, split=True),
                                          _counts(con, outcome, by, None),
                                          obj=f"day counts by {by} from {name}")


def test_the_day_numbers_stored_for_a_release():
    con = _edge_cases()
    rows = con.execute(
        "SELECT release_id, censor_day, competing_end, first_rearrest_day, "
        "first_reconviction_day, first_reincarceration_day, first_violation_day, "
        "first_any_day, facility, sex, follow_up_end_reason "
        "FROM release_follow_up").df().set_index("release_id")
    days = ["censor_day", "competing_end", "first_rearrest_day", "first_reconviction_day",
            "first_reincarceration_day", "first_violation_day", "first_any_day"]
    # followed until the day before the next release (2020 is a leap year); the
    # reconviction on the release day does not count, the next one is a year later
    assert rows.loc["f1", days].tolist() == [120, False, 152, 366, 120, 120, 120]
    assert rows.loc["a1", ["censor_day", "first_rearrest_day"]].tolist() == [0, 1]
    assert rows.loc["b1", ["censor_day", "competing_end"]].tolist() == [365, True]
    # the deportation on 2020-06-30 is the day before the next release: still competing
    assert rows.loc["d1", ["censor_day", "competing_end"]].tolist() == [181, True]
    assert rows.loc["e1", "censor_day"] == 0                       # never negative
    assert rows.loc["h1", ["censor_day", "competing_end"]].tolist() == [151, False]
    # copied release fields, missing values included
    assert rows.loc["g1", ["facility", "follow_up_end_reason"]].tolist() == ["East", "death"]
    assert pd.isna(rows.loc["g1", "sex"]) and pd.isna(rows.loc["g1", "first_any_day"])


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
    assert follow_up.follow_up_problem(con) is None
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
    assert follow_up.follow_up_problem(con) is None
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
        pd.testing.assert_frame_equal(_episodes(con, outcome, None, {}),
                                      _episodes(con, outcome, None, None))
    con.close()


def test_data_written_after_the_refresh_are_refused_until_it_is_rebuilt(tmp_path):
    con = make_db(tmp_path / "hand.duckdb",
                  releases=[{"release_id": "r1", "person_id": "p1",
                             "release_date": D(2020, 1, 1)}])
    assert follow_up.follow_up_layout(con) == follow_up.LAYOUT  # make_db derives it
    con.execute("INSERT INTO events VALUES ('p1', DATE '2020-02-01', 'rearrest', NULL, 'x')")
    assert follow_up.follow_up_layout(con) == 0
    assert "events 1 now, 0 when it was built" in follow_up.follow_up_problem(con)
    for analysis in (build_episodes, day_counts):
        with pytest.raises(AnalysisError, match=r"hand\.duckdb cannot be analysed .* is stale "
                                                r".*Run `desist migrate .*hand\.duckdb`"):
            analysis(con)
    follow_up.prepare_for_analysis(con)
    assert build_episodes(con).loc[0, "time"] == 31


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


# ------------------------------------------------------------------ paths and layouts


def _path_of(con, **query) -> str:
    types = Outcome().resolve(con)
    sql, _ = episodes_query(con, types, **query)
    if "POSITIONAL JOIN" in sql:
        return "stored with releases"
    return "stored, table alone" if follow_up.TABLE in sql else "computed"


def test_the_table_alone_is_read_only_when_it_gives_the_same_columns():
    con = make_db(
        releases=[{"release_id": "r1", "person_id": "p1", "release_date": D(2020, 1, 1),
                   "school": "yes"}],
        events=[("p1", D(2020, 3, 1), "rearrest")], covariates={"school": "categorical"})
    follow_up.refresh_follow_up(con)
    assert follow_up.follow_up_layout(con) == follow_up.LAYOUT
    sex = resolve_grouping(con, "sex")
    assert _path_of(con, select=f"{sex.key_sql}, time, cause", tail="GROUP BY ALL") == (
        "stored, table alone")
    assert _path_of(con, select="time", selection=Selection(age_bands=("unknown",))) == (
        "stored, table alone")
    # a covariate, person_id or every column need releases
    assert _path_of(con, select='"school", time') == "stored with releases"
    assert _path_of(con, select="person_id, time") == "stored with releases"
    assert _path_of(con) == "stored with releases"
    everything, params = episodes_query(con, Outcome().resolve(con))
    assert "school" in con.execute(everything, params).df().columns
    con.execute("INSERT INTO events VALUES ('p1', DATE '2020-02-01', 'rearrest', NULL, 'x')")
    with pytest.raises(AnalysisError, match="in-memory database .* is stale"):
        _path_of(con, select="time")  # stale: refused, never read
    follow_up.refresh_follow_up(con)
    table, _ = day_counts(con)
    assert table[["time", "n_event"]].values.tolist() == [[31, 1]]


def _forget_layout_3(con) -> None:
    """Make the table look refreshed by a version before migration 003."""
    record = json.loads(con.execute(
        "SELECT value FROM metadata WHERE key = ?", [follow_up.METADATA_KEY]).fetchone()[0])
    del record["layout"]
    con.execute("UPDATE metadata SET value = ? WHERE key = ?",
                [json.dumps(record), follow_up.METADATA_KEY])
    con.execute(f"UPDATE {follow_up.TABLE} SET censor_day = NULL, first_any_day = NULL, "
                "competing_end = NULL, first_rearrest_day = NULL, facility = NULL")


def test_a_table_refreshed_before_migration_3_is_refused_until_rebuilt():
    con = _edge_cases()
    expected = {o: build_episodes(con, Outcome.from_types(None if o == "any" else o))
                for o in OUTCOMES}
    counts = day_counts(con, group_sql="facility")[0]
    _forget_layout_3(con)
    assert follow_up.follow_up_layout(con) == 2
    with pytest.raises(AnalysisError, match=r"has layout 2 \(built before migration 003"):
        build_episodes(con)
    follow_up.prepare_for_analysis(con)
    for outcome, frame in expected.items():
        pd.testing.assert_frame_equal(
            build_episodes(con, Outcome.from_types(None if outcome == "any" else outcome)),
            frame)
    pd.testing.assert_frame_equal(day_counts(con, group_sql="facility")[0], counts)


def test_an_empty_database_needs_nothing_derived():
    con = duckdb.connect()
    migrate(con)
    assert follow_up.follow_up_problem(con) is None
    assert build_episodes(con).empty
