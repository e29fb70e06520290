"""Episode rules on hand-made databases: what counts, when follow-up ends, causes.

Every rule is checked on the production path (episodes from ``release_follow_up``) and,
through the wrappers below, against the oracle that computes them from the dates
(tests/survival/episode_oracle.py).
"""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.contract import EVENT_TYPES, FOLLOW_UP_END_REASONS
from analysis.errors import AnalysisError
from analysis.store.schema import migrate
from analysis.survival import episodes as production
from analysis.survival.episodes import EPISODE_COLUMNS, Outcome, Selection
from analysis.survival.follow_up import prepare_for_analysis
from analysis.survival.grouping import resolve_grouping
from tests.survival.episode_oracle import oracle_day_counts, oracle_episodes
from tests.survival.km_db import D, make_db


def build_episodes(con, outcome=None, selection=None, columns=()):
    """:func:`analysis.survival.episodes.build_episodes`, checked against the oracle."""
    frame = production.build_episodes(con, outcome, selection, columns)
    pd.testing.assert_frame_equal(frame, oracle_episodes(con, outcome, selection, columns),
                                  obj="production episodes vs the oracle")
    return frame


def day_counts(con, outcome=None, selection=None, group_sql="'all'"):
    """:func:`analysis.survival.episodes.day_counts`, checked against the oracle."""
    table, types = production.day_counts(con, outcome, selection, group_sql)
    pd.testing.assert_frame_equal(table, oracle_day_counts(con, outcome, selection, group_sql),
                                  obj="production day counts vs the oracle")
    return table, types


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


def test_rows_written_by_hand_need_their_follow_up_facts_derived():
    con = duckdb.connect()
    migrate(con)
    con.execute("INSERT INTO releases (release_id, person_id, release_date, facility, "
                "follow_up_end, batch_id) VALUES ('r1', 'p1', DATE '2020-01-01', 'A', "
                "DATE '2020-12-31', 'b')")
    with pytest.raises(AnalysisError, match=r"in-memory database .* never built.*"
                                            r"prepare_for_analysis\(con\)"):
        production.build_episodes(con)
    with pytest.raises(AnalysisError, match="prepare_for_analysis"):
        production.day_counts(con)
    prepare_for_analysis(con)
    assert one(con, "r1").time == 365


# ------------------------------------------------- production == oracle, on random data

_BASE = D(2020, 1, 1)
_DAY = st.integers(min_value=0, max_value=40)   # a narrow range: ties are common


@st.composite
def _registries(draw):
    """A few people with one to three releases close together, events around them (on
    release days, next-release days, follow-up ends), competing ends and programmes."""
    releases, events, participation = [], set(), {}
    for p in range(draw(st.integers(1, 5))):
        person = f"p{p}"
        own = []
        for _ in range(draw(st.integers(1, 3))):
            day = _BASE + dt.timedelta(days=draw(_DAY))
            release_id = f"r{len(releases)}"
            own.append(release_id)
            releases.append({
                "release_id": release_id, "person_id": person, "release_date": day,
                # may end before the release: times are never negative
                "follow_up_end": day + dt.timedelta(days=draw(st.integers(-3, 45))),
                "follow_up_end_reason": draw(st.sampled_from(FOLLOW_UP_END_REASONS)),
                "sex": draw(st.sampled_from(["F", "M", None])),
                "age_at_release": draw(st.sampled_from([17.5, 30.0, None])),
            })
        for _ in range(draw(st.integers(0, 6))):
            events.add((person, _BASE + dt.timedelta(days=draw(st.integers(-2, 90))),
                        draw(st.sampled_from(EVENT_TYPES))))
        for _ in range(draw(st.integers(0, 2))):
            start = _BASE + dt.timedelta(days=draw(st.integers(-30, 40)))
            participation[(person, "EDU", start)] = (
                draw(st.sampled_from([None, *own])),
                draw(st.sampled_from(["completed", "dropped_out"])))
    return releases, sorted(events), participation


def _random_db(registry) -> duckdb.DuckDBPyConnection:
    releases, events, participation = registry
    con = make_db(releases=releases, events=events, programs=[("EDU", "in_prison")])
    for (person, program, start), (release_id, status) in participation.items():
        con.execute("INSERT INTO participation (person_id, program_id, start_date, "
                    "release_id, status, batch_id) VALUES (?, ?, ?, ?, ?, 'b')",
                    [person, program, start, release_id, status])
    prepare_for_analysis(con, "random")
    return con


#: every type; reincarceration censoring; reincarceration in the outcome
_RANDOM_OUTCOMES = (None, "rearrest,violation", "rearrest,reincarceration")


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registry=_registries())
def test_production_episodes_equal_the_oracle_on_random_registries(registry):
    con = _random_db(registry)
    cohort = Selection(release_to=_BASE + dt.timedelta(days=25))
    program = resolve_grouping(con, "program:EDU")
    for types in _RANDOM_OUTCOMES:
        outcome = Outcome.from_types(types)
        for selection in (None, cohort):
            # the wrappers compare every episode and day count with the oracle
            build_episodes(con, outcome, selection, columns=["sex", "age_band"])
            day_counts(con, outcome, selection, "sex")
        table, _ = production.day_counts(con, outcome, None, program.key_sql, program.params,
                                         label_sql=program.label_sql)
        pd.testing.assert_frame_equal(table, oracle_day_counts(
            con, outcome, None, program.key_sql, program.params, label_sql=program.label_sql))
    con.close()


@settings(max_examples=20, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(registry=_registries(), base=st.sets(st.sampled_from(EPISODE_COLUMNS)))
def test_fewer_base_columns_and_coded_categories_give_the_same_values(registry, base):
    """A model's narrow fetch (some base columns, text covariates as codes) holds what the
    full frame holds: the same rows in the same order, ``release_id`` always."""
    con = _random_db(registry)
    full = production.build_episodes(con, columns=["sex", "age_band", "age_at_release"])
    narrow = production.build_episodes(con, columns=["sex", "age_band", "age_at_release"],
                                       base_columns=tuple(base),
                                       categories=("sex", "age_band", "age_at_release"))
    kept = [c for c in EPISODE_COLUMNS if c == "release_id" or c in base]
    assert list(narrow.columns) == [*kept, "sex", "age_band", "age_at_release"]
    pd.testing.assert_frame_equal(narrow[kept], full[kept])
    # sex is a text column of releases: coded; the derived band and the number are not
    assert isinstance(narrow["sex"].dtype, pd.CategoricalDtype)
    assert list(narrow["sex"].cat.categories) == sorted(full["sex"].dropna().unique())
    assert narrow["sex"].astype(object).where(narrow["sex"].notna(), None).tolist() == \
        full["sex"].astype(object).where(full["sex"].notna(), None).tolist()
    pd.testing.assert_series_equal(narrow["age_band"], full["age_band"])
    pd.testing.assert_series_equal(narrow["age_at_release"], full["age_at_release"])
    con.close()


def test_an_unknown_base_column_is_refused():
    with pytest.raises(AnalysisError, match="unknown episode column.*'shoe_size'"):
        production.build_episodes(single_release(), base_columns=("time", "shoe_size"))


def test_production_equals_the_oracle_on_a_large_seeded_registry():
    """Many people at once, so that rare coincidences (an event on a next-release day
    that is also a competing follow-up end...) occur together in one database."""
    rng = np.random.default_rng(20251201)
    releases, events, participation = [], set(), {}
    for p in range(600):
        person = f"p{p}"
        own = []
        for _ in range(int(rng.integers(1, 4))):
            day = _BASE + dt.timedelta(days=int(rng.integers(0, 40)))
            own.append(f"r{len(releases)}")
            releases.append({
                "release_id": own[-1], "person_id": person, "release_date": day,
                "follow_up_end": day + dt.timedelta(days=int(rng.integers(-3, 45))),
                "follow_up_end_reason": str(rng.choice(FOLLOW_UP_END_REASONS)),
                "sex": str(rng.choice(["F", "M"])), "age_at_release": 30.0})
        for _ in range(int(rng.integers(0, 6))):
            events.add((person, _BASE + dt.timedelta(days=int(rng.integers(-2, 90))),
                        str(rng.choice(EVENT_TYPES))))
        if rng.random() < 0.3:
            start = _BASE + dt.timedelta(days=int(rng.integers(-30, 40)))
            participation[(person, "EDU", start)] = (
                str(rng.choice(own)) if rng.random() < 0.5 else None,
                str(rng.choice(["completed", "dropped_out"])))
    con = _random_db((releases, sorted(events), participation))
    program = resolve_grouping(con, "program:EDU")
    for types in (*_RANDOM_OUTCOMES, "rearrest", "reincarceration", "violation"):
        outcome = Outcome.from_types(types)
        episodes = build_episodes(con, outcome, columns=["sex", "age_band", "release_year"])
        day_counts(con, outcome, Selection(sexes=("F",)), "sex")
        table, _ = production.day_counts(con, outcome, None, program.key_sql, program.params,
                                         label_sql=program.label_sql)
        pd.testing.assert_frame_equal(table, oracle_day_counts(
            con, outcome, None, program.key_sql, program.params, label_sql=program.label_sql))
        if types == "rearrest":  # every way follow-up can end occurs: every rule compared
            assert set(episodes["end_reason"]) == {
                "outcome", "competing", "follow_up_end", "next_release", "reincarceration"}
    con.close()
