"""Referral follow-through: the funnel, days to first contact, ownership, disclosure.

Expected numbers are worked out by hand from tests/services/directory_fixture.py.
"""

from __future__ import annotations

from collections.abc import Hashable

import duckdb
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.disclosure import DisclosurePolicy, determined
from analysis.errors import AnalysisError
from analysis.services.follow_through import (
    FollowThroughResult,
    follow_through_hidden,
    referral_follow_through,
)
from analysis.survival.episodes import Selection
from tests.services.directory_fixture import fill

STATUS = ("referred", "referred_only", "attended", "completed", "declined", "not_available",
          "contact_date_unknown")


@pytest.fixture(scope="module")
def con():
    connection = fill(duckdb.connect())
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def result(con):
    return referral_follow_through(con)


def row(result, service_type, region):
    rows = result.rows
    found = rows[(rows["service_type"] == service_type) & (rows["region"] == region)]
    assert len(found) == 1
    return found.iloc[0].to_dict()


def test_funnel_by_service_type_and_region(result):
    assert list(zip(result.rows["service_type"], result.rows["region"], strict=True)) == [
        ("drug_treatment", "North"), ("housing", "East"), ("housing", "North")]
    housing = row(result, "housing", "North")
    # n0..n11 completed, n12..n19 attended (reached 20), n20..n22 declined, n23..n29 referred
    assert {k: housing[k] for k in STATUS} == {
        "referred": 30, "referred_only": 7, "attended": 20, "completed": 12, "declined": 3,
        "not_available": 0, "contact_date_unknown": 4}
    assert (housing["people"], housing["people_reached"]) == (30, 20)
    # dated contacts: 6 at day 10, 4 at day 20, 6 at day 45 -> median 20; within 30: 10
    assert housing["median_days_to_contact"] == 20 and housing["contact_within_30"] == 10
    drug = row(result, "drug_treatment", "North")
    assert {k: drug[k] for k in ("referred", "referred_only", "attended", "completed",
                                 "declined")} == {
        "referred": 25, "referred_only": 12, "attended": 10, "completed": 10, "declined": 3}
    assert drug["median_days_to_contact"] == 5 and drug["contact_within_30"] == 10


def test_a_referral_without_release_belongs_to_the_latest_release_before_it(result):
    # n0's 2022 housing referral follows the East release, not the North one of 2024
    east = row(result, "housing", "East")
    assert (east["referred"], east["declined"], east["people"]) == (1, 1, 1)


def test_total_adds_statuses_and_counts_people_once(result):
    total = result.total
    assert {k: total[k] for k in STATUS} == {
        "referred": 56, "referred_only": 19, "attended": 30, "completed": 22,
        "declined": 7, "not_available": 0, "contact_date_unknown": 4}
    for name in STATUS:
        assert total[name] == result.rows[name].sum()
    # n0..n29 referred; n0..n21 reached one service or the other
    assert (total["people"], total["people_reached"]) == (30, 22)
    # earliest dated contact per person: n0..n5 day 10, n6..n11 day 45, n12..n21 day 5
    assert total["contact_within_30"] == 16 and total["median_days_to_contact"] == 10


def test_breakdowns_and_selection(con):
    by_region = referral_follow_through(con, by=("release_region",))
    assert by_region.rows["region"].tolist() == ["East", "North"]
    women = referral_follow_through(con, by=(), selection=Selection(sexes=("F",)))
    assert women.rows.empty
    # n0..n9 are the women: 10 housing + 10 drug referrals in 2024, and n0's of 2022
    assert women.total["referred"] == 21
    with pytest.raises(AnalysisError, match="choose among"):
        referral_follow_through(con, by=("colour",))


def test_no_referrals_says_how_to_add_them():
    with pytest.raises(AnalysisError, match="providers, services and referrals"):
        referral_follow_through(fill(duckdb.connect(), referrals=False))


def relations_of(rows: list[dict]) -> tuple[dict, list, list]:
    """The published counts' relations, written here independently of the module."""
    values: dict[Hashable, float] = {}
    relations: list = []
    unpublished = []
    for key, record in rows:
        for name, value in record.items():
            values[(key, name)] = value
        for rest, total, part in (("att_rest", "attended", "completed"),
                                  ("dated", "attended", "contact_date_unknown"),
                                  ("not_reached", "people", "people_reached"),
                                  ("later", "people_reached", "contact_within_30")):
            values[(key, rest)] = record[total] - record[part]
            relations.append(((key, total), [(key, part), (key, rest)]))
            unpublished.append((key, rest))
        relations.append(((key, "referred"), [(key, n) for n in (
            "referred_only", "attended", "declined", "not_available")]))
    keys = [key for key, _ in rows if key != "total"]
    for name in STATUS:
        relations.append((("total", name), [(key, name) for key in keys]))
    return values, relations, unpublished


def assert_nothing_small_solvable(exact: FollowThroughResult, shown: dict, k: int) -> None:
    counts = ("referred", "referred_only", "attended", "completed", "declined",
              "not_available", "contact_date_unknown", "people", "people_reached",
              "contact_within_30")
    exact_rows = [(i, {n: int(r[n]) for n in counts})
                  for i, r in enumerate(exact.rows.to_dict("records"))]
    exact_rows.append(("total", {n: int(exact.total[n]) for n in counts}))
    values, relations, unknown = relations_of(exact_rows)
    for i, published in [*enumerate(shown["rows"]), ("total", shown["total"])]:
        for name in counts:
            if published[name] is None:
                unknown.append((i, name))
            else:
                assert published[name] == values[(i, name)]
    solved = determined(values, relations, unknown)
    assert not [v for v in solved if 0 < values[v] < k]
    assert not [v for v in values if v not in unknown and 0 < values[v] < k]


def test_json_hides_small_statuses_and_the_counts_that_would_reveal_them(result):
    shown = result.as_dict(DisclosurePolicy(k=10))
    drug, east, housing = shown["rows"]
    # drug treatment, North: declined is the one small status (3); shown beside referred
    # 25, referred_only 12, attended 10 and not_available 0 it would be 25 - 12 - 10 - 0,
    # so one more of those is hidden
    assert drug["declined"] is None
    assert sum(drug[n] is None for n in ("referred", "referred_only", "attended",
                                         "not_available")) >= 1
    assert housing["declined"] is None and housing["referred_only"] is None  # 3 and 7
    # attended 20 - completed 12 = the 8 who attended without completing
    assert housing["attended"] is None or housing["completed"] is None
    assert east["referred"] is None and east["people"] is None  # one person
    assert housing["median_days_to_contact"] == 20  # 16 dated contacts >= 10
    assert shown["disclosure"]["hidden_values"] == sum(
        value is None for r in [*shown["rows"], shown["total"]] for name, value in r.items()
        if name in STATUS or name in ("people", "people_reached", "contact_within_30"))
    assert_nothing_small_solvable(result, shown, 10)


def test_exactly_one_small_status_gets_a_complement():
    records = [{"referred": 40, "referred_only": 15, "attended": 20, "completed": 20,
                "declined": 5, "not_available": 0, "contact_date_unknown": 0, "people": 40,
                "people_reached": 20, "contact_within_30": 20}]
    total = dict(records[0])
    hide = follow_through_hidden(records, total, DisclosurePolicy(k=10))
    assert (0, "declined") in hide and ("total", "declined") in hide
    # 40 - 15 - 20 - 0 would give the 5: a second count of each relation goes too
    assert len({n for r, n in hide if r == 0} & {"referred", "referred_only", "attended"}) >= 1


def test_analyst_output_hides_nothing(result):
    shown = result.as_dict(DisclosurePolicy(k=1))
    assert shown["rows"][2]["declined"] == 3 and shown["disclosure"]["hidden_values"] == 0


counts = st.integers(min_value=0, max_value=40)


@given(st.lists(st.tuples(counts, counts, counts, counts, counts, counts, counts),
                min_size=1, max_size=4), st.integers(min_value=2, max_value=12))
def test_no_hidden_count_can_be_recovered(raw, k):
    rows = []
    for referred_only, attended_rest, completed, declined, na, undated_share, late in raw:
        attended = attended_rest + completed
        undated = min(undated_share, attended)
        people_reached = min(attended, completed + late)
        rows.append({"referred_only": referred_only, "attended": attended,
                     "completed": completed, "declined": declined, "not_available": na,
                     "contact_date_unknown": undated,
                     "referred": referred_only + attended + declined + na,
                     "people": referred_only + people_reached,
                     "people_reached": people_reached,
                     "contact_within_30": min(people_reached, late),
                     "median_days_to_contact": None, "dated_contacts": 0})
    frame = pd.DataFrame(rows)
    total = {n: int(frame[n].sum()) for n in STATUS}
    total.update(people=int(frame["people"].sum()), people_reached=int(
        frame["people_reached"].sum()), contact_within_30=int(frame["contact_within_30"].sum()),
        median_days_to_contact=None, dated_contacts=0)
    exact = FollowThroughResult(("service_type",), frame.assign(service_type="x"), total)
    assert_nothing_small_solvable(exact, exact.as_dict(DisclosurePolicy(k=k)), k)
