"""Episode rules on hand-made databases: what counts, when follow-up ends, causes."""

from __future__ import annotations

import pytest

from analysis.errors import AnalysisError
from analysis.survival.episodes import (
    EPISODE_COLUMNS,
    Outcome,
    Selection,
    build_episodes,
    day_counts,
)
from analysis.survival.follow_up import follow_up_ready
from tests.survival.km_db import D, make_db

#: every rule is checked with the derived facts computed on the fly and stored by import
pytestmark = pytest.mark.usefixtures("episode_path")


def one(con, release_id, outcome=None, **kw):
    eps = build_episodes(con, outcome, **kw).set_index("release_id")
    return eps.loc[release_id]


def single_release(*events, **release):
    rel = {"release_id": "r1", "person_id": "p1", "release_date": D(2020, 1, 1),
           "follow_up_end": D(2020, 12, 31), **release}
    return make_db(releases=[rel], events=[("p1", d, k) for d, k in events])


def test_event_on_release_day_is_not_an_outcome():
    con = single_release((D(2020, 1, 1), "rearrest"))
    row = one(con, "r1")
    assert (row.event, row.time, row.end_reason) == (0, 365, "follow_up_end")


def test_event_on_follow_up_end_is_included():
    con = single_release((D(2020, 12, 31), "rearrest"))
    row = one(con, "r1")
    assert (row.event, row.cause, row.time) == (1, 1, 365)


def test_event_after_follow_up_end_is_ignored():
    con = single_release((D(2021, 1, 1), "rearrest"))
    row = one(con, "r1")
    assert (row.event, row.time) == (0, 365)


def test_first_event_of_the_chosen_types_wins():
    con = single_release((D(2020, 2, 1), "violation"), (D(2020, 3, 1), "reconviction"),
                         (D(2020, 4, 1), "rearrest"))
    assert one(con, "r1").time == 31                                  # default: every type
    assert one(con, "r1", Outcome.named("reconviction")).time == 60
    assert one(con, "r1", Outcome.from_types("rearrest,reconviction")).time == 60
    assert one(con, "r1", Outcome.named("rearrest")).time == 91


def test_next_release_ends_follow_up_the_day_before():
    con = make_db(
        releases=[
            {"release_id": "r1", "person_id": "p1", "release_date": D(2020, 1, 10)},
            {"release_id": "r2", "person_id": "p1", "release_date": D(2021, 6, 1)},
        ],
        events=[("p1", D(2021, 6, 1), "rearrest"), ("p1", D(2021, 7, 1), "rearrest")],
    )
    eps = build_episodes(con).set_index("release_id")
    # r1 followed through 2021-05-31 (day 507); the event on r2's release day is neither's
    assert (eps.loc["r1", "time"], eps.loc["r1", "event"]) == (507, 0)
    assert eps.loc["r1", "end_reason"] == "next_release"
    assert (eps.loc["r2", "time"], eps.loc["r2", "event"]) == (30, 1)


def test_event_the_day_before_next_release_counts():
    con = make_db(
        releases=[
            {"release_id": "r1", "person_id": "p1", "release_date": D(2020, 1, 1)},
            {"release_id": "r2", "person_id": "p1", "release_date": D(2020, 3, 1)},
        ],
        events=[("p1", D(2020, 2, 29), "rearrest")],
    )
    assert one(con, "r1").event == 1 and one(con, "r1").time == 59


def test_reincarceration_censors_when_not_an_outcome():
    con = single_release((D(2020, 9, 1), "reincarceration"), (D(2020, 10, 1), "rearrest"))
    row = one(con, "r1", Outcome.named("rearrest"))
    assert (row.event, row.time, row.end_reason) == (0, 244, "reincarceration")
    # ... and is the event when it is part of the outcome
    row = one(con, "r1", Outcome.from_types("rearrest,reincarceration"))
    assert (row.event, row.time) == (1, 244)


def test_outcome_on_the_reincarceration_day_still_counts():
    con = single_release((D(2020, 9, 1), "reincarceration"), (D(2020, 9, 1), "rearrest"))
    row = one(con, "r1", Outcome.named("rearrest"))
    assert (row.event, row.time) == (1, 244)


@pytest.mark.parametrize("reason", ["death", "deportation", "emigration"])
def test_competing_end_reason_is_cause_2(reason):
    con = single_release(follow_up_end_reason=reason)
    row = one(con, "r1")
    assert (row.event, row.cause, row.competing_reason, row.end_reason) == (
        0, 2, reason, "competing")


def test_competing_end_is_plain_censoring_when_next_release_comes_first():
    con = make_db(releases=[
        {"release_id": "r1", "person_id": "p1", "release_date": D(2020, 1, 1),
         "follow_up_end": D(2022, 1, 1), "follow_up_end_reason": "death"},
        {"release_id": "r2", "person_id": "p1", "release_date": D(2021, 1, 1),
         "follow_up_end": D(2022, 1, 1), "follow_up_end_reason": "death"},
    ])
    eps = build_episodes(con).set_index("release_id")
    assert eps.loc["r1", "cause"] == 0 and eps.loc["r1", "end_reason"] == "next_release"
    assert eps.loc["r2", "cause"] == 2


def test_outcome_before_competing_end_is_the_outcome():
    con = single_release((D(2020, 5, 1), "rearrest"), follow_up_end_reason="death")
    row = one(con, "r1")
    assert (row.cause, row.competing_reason) == (1, None)


def test_reincarceration_on_a_competing_follow_up_end_leaves_it_competing():
    # ties go to follow_up_end: the death ends follow-up, not the reincarceration
    con = single_release((D(2020, 12, 31), "reincarceration"), follow_up_end_reason="death")
    row = one(con, "r1", Outcome.named("rearrest"))
    assert (row.cause, row.time, row.end_reason, row.competing_reason) == (
        2, 365, "competing", "death")


def test_reincarceration_before_a_competing_end_is_plain_censoring():
    con = single_release((D(2020, 12, 30), "reincarceration"), follow_up_end_reason="death")
    row = one(con, "r1", Outcome.named("rearrest"))
    assert (row.cause, row.time, row.end_reason) == (0, 364, "reincarceration")
    # when reincarceration is the outcome, it is the event
    row = one(con, "r1", Outcome.named("reincarceration"))
    assert (row.cause, row.time, row.end_reason) == (1, 364, "outcome")


def test_competing_end_the_day_before_the_next_release_stays_competing():
    con = make_db(releases=[
        {"release_id": "r1", "person_id": "p1", "release_date": D(2020, 1, 1),
         "follow_up_end": D(2020, 6, 30), "follow_up_end_reason": "deportation"},
        {"release_id": "r2", "person_id": "p1", "release_date": D(2020, 7, 1)},
    ])
    row = one(con, "r1")
    assert (row.cause, row.time, row.end_reason) == (2, 181, "competing")


def test_follow_up_end_before_the_release_gives_time_zero():
    # inconsistent data must not give negative times, on any path
    con = single_release((D(2020, 1, 5), "rearrest"), follow_up_end=D(2019, 12, 1),
                         follow_up_end_reason="death")
    row = one(con, "r1")
    assert (row.event, row.cause, row.time, row.end_reason) == (0, 2, 0, "competing")
    row = one(con, "r1", Outcome.named("rearrest"))
    assert (row.event, row.cause, row.time) == (0, 2, 0)


def test_next_release_the_next_day_gives_time_zero():
    con = make_db(releases=[
        {"release_id": "r1", "person_id": "p1", "release_date": D(2020, 1, 1)},
        {"release_id": "r2", "person_id": "p1", "release_date": D(2020, 1, 2)},
    ])
    assert one(con, "r1").time == 0


def test_other_people_events_do_not_count():
    con = make_db(
        releases=[{"release_id": "r1", "person_id": "p1", "release_date": D(2020, 1, 1)}],
        events=[("p2", D(2020, 2, 1), "rearrest")],
    )
    assert one(con, "r1").event == 0


def test_selection_filters_and_derived_fields():
    con = make_db(releases=[
        {"release_id": "a", "person_id": "p1", "release_date": D(2019, 5, 1), "sex": "F",
         "age_at_release": 19.5},
        {"release_id": "b", "person_id": "p2", "release_date": D(2020, 5, 1), "sex": "M",
         "birth_year": 1980},
        {"release_id": "c", "person_id": "p3", "release_date": D(2021, 5, 1), "sex": "M",
         "facility": "South"},
    ])
    eps = build_episodes(con, columns=["age", "age_band", "release_year", "sex"])
    assert eps.set_index("release_id")["age_band"].to_dict() == {
        "a": "18-24", "b": "35-44", "c": "unknown"}
    assert eps["release_year"].tolist() == [2019, 2020, 2021]
    pick = lambda s: build_episodes(con, selection=s)["release_id"].tolist()  # noqa: E731
    assert pick(Selection(sexes=("M",))) == ["b", "c"]
    assert pick(Selection(facilities=("South",))) == ["c"]
    assert pick(Selection(release_from=D(2020, 1, 1), release_to=D(2020, 12, 31))) == ["b"]
    assert pick(Selection(age_bands=("18-24", "35-44"))) == ["a", "b"]
    assert pick(Selection(release_years=(2019, 2021))) == ["a", "c"]


def test_next_release_is_found_even_outside_the_selection():
    con = make_db(releases=[
        {"release_id": "r1", "person_id": "p1", "release_date": D(2020, 1, 1),
         "facility": "North"},
        {"release_id": "r2", "person_id": "p1", "release_date": D(2020, 7, 1),
         "facility": "South"},
    ])
    row = build_episodes(con, selection=Selection(facilities=("North",))).iloc[0]
    assert row.end_reason == "next_release" and row.time == 181


def test_columns_and_errors():
    con = single_release()
    assert tuple(build_episodes(con).columns) == EPISODE_COLUMNS
    with pytest.raises(AnalysisError, match="unknown release column"):
        build_episodes(con, columns=["shoe_size"])
    with pytest.raises(AnalysisError, match="unknown event type"):
        Outcome.from_types("rearrest,arson")
    with pytest.raises(AnalysisError, match="unknown age band"):
        Selection(age_bands=("20-30",))


def test_day_counts_aggregate_the_episodes():
    con = make_db(
        releases=[{"release_id": f"r{i}", "person_id": f"p{i}", "release_date": D(2020, 1, 1),
                   "follow_up_end_reason": "death" if i == 3 else "data_cutoff",
                   "sex": "F" if i < 2 else "M"} for i in range(5)],
        events=[("p0", D(2020, 1, 11), "rearrest"), ("p2", D(2020, 1, 11), "rearrest")],
    )
    table, types = day_counts(con, group_sql="sex")
    assert types == ("rearrest",)
    records = table.to_dict("records")
    assert records == [
        {"group": "F", "time": 10, "n_event": 1, "n_competing": 0, "n_censored": 0},
        {"group": "F", "time": 1460, "n_event": 0, "n_competing": 0, "n_censored": 1},
        {"group": "M", "time": 10, "n_event": 1, "n_competing": 0, "n_censored": 0},
        {"group": "M", "time": 1460, "n_event": 0, "n_competing": 1, "n_censored": 1},
    ]


def test_the_episode_path_under_test_is_the_one_taken(episode_path):
    con = single_release((D(2020, 5, 1), "rearrest"))
    assert follow_up_ready(con) == (episode_path == "stored")
    assert one(con, "r1").time == 121
