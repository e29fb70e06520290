"""Coverage per region: counts, needs, capacity split, each gap reason, disclosure.

Expected numbers are worked out by hand from tests/services/directory_fixture.py.
"""

from __future__ import annotations

import datetime as dt

import duckdb
import pytest

from analysis.disclosure import DisclosurePolicy, determined
from analysis.errors import AnalysisError
from analysis.services.coverage import services_coverage
from analysis.services.vocabulary import NEEDS, SERVICE_TYPES
from analysis.survival.episodes import Selection
from tests.services.directory_fixture import fill


@pytest.fixture(scope="module")
def con():
    connection = fill(duckdb.connect())
    yield connection
    connection.close()


@pytest.fixture(scope="module")
def result(con):
    return services_coverage(con)


def region(result, name):
    (found,) = [r for r in result.regions if r.region == name]
    return found


def test_as_of_defaults_to_the_data_last_day_and_every_region_is_listed(result):
    assert result.as_of == dt.date(2024, 12, 31)
    assert [r.region for r in result.regions] == ["East", "North", "South"]
    assert result.has_services and not result.has_boundaries


def test_releases_in_the_12_months_and_their_needs(result):
    north, south, east = region(result, "North"), region(result, "South"), region(result, "East")
    # the 2023 release of North is outside the 12 months; East's are of 2022
    assert (north.releases_12m, south.releases_12m, east.releases_12m) == (30, 15, 0)
    # North: i % 5 in (0, 1) -> 12 drug offences; n0..n9 women; i >= 22 -> 8 under 25
    assert north.needs == {"drug_offence": 12, "women": 10, "under_25": 8}
    assert south.needs == {"drug_offence": 3, "women": 0, "under_25": 13}


def test_upcoming_releases_count_each_person_once_within_12_months(result):
    # q1 twice in 2025 (counted once), q2 in 2026 (beyond the 12 months)
    assert region(result, "South").upcoming_releases == 1
    assert region(result, "North").upcoming_releases == 0


def test_upcoming_is_none_without_expected_releases():
    con = fill(duckdb.connect())
    con.execute("DELETE FROM expected_releases")
    assert all(r.upcoming_releases is None for r in services_coverage(con).regions)


def test_services_valid_on_the_day_with_capacity_split_between_regions(result):
    north = {s.service_type: s for s in region(result, "North").services}
    # S4 (HIV) ended in June, S5 (employment) starts in 2025: neither counts
    assert list(north) == ["drug_treatment", "housing", "education"]
    # S1: 20 a year over North and South -> 10; S2: 30 over all 3 regions -> 10, plus S6's 7
    assert (north["drug_treatment"].capacity, north["housing"].capacity) == (10, 17)
    assert (north["housing"].providers, north["housing"].services) == (2, 2)
    assert north["education"].capacity is None  # S3's capacity is unknown
    assert not north["housing"].serves_women and north["drug_treatment"].serves_women
    east = region(result, "East").services
    assert [(s.service_type, s.capacity) for s in east] == [("housing", 10)]


def test_each_gap_reason(result):
    north = {(g.service_type, g.reason): g for g in region(result, "North").gaps}
    below = north[("drug_treatment", "capacity_below_demand")]
    assert (below.demand, below.capacity) == (12, 10)  # 12 drug offences, 10 places
    women = north[("housing", "none_for_women")]
    assert (women.demand, women.capacity) == (10, 17)  # 10 women, housing for men only
    assert north[("vocational_training", "no_service")].demand == 8
    assert ("education", "capacity_below_demand") not in north  # capacity unknown
    no_service = {t for t, reason in north if reason == "no_service"}
    assert no_service == set(SERVICE_TYPES) - {"drug_treatment", "housing", "education"}
    assert len(north) == 13 + 2
    south = {(g.service_type, g.reason) for g in region(result, "South").gaps}
    # 3 drug offences, 10 places: no capacity gap; no women released: no women's gap
    assert south == {(t, "no_service") for t in SERVICE_TYPES
                     if t not in ("drug_treatment", "housing")}
    assert region(result, "East").gaps == ()  # no release in the 12 months


def test_gaps_come_in_vocabulary_order(result):
    types = [g.service_type for g in region(result, "North").gaps]
    assert types == sorted(types, key=SERVICE_TYPES.index)


def test_as_of_moves_the_window_and_the_valid_services(con):
    earlier = services_coverage(con, as_of=dt.date(2024, 5, 1))
    south = region(earlier, "South")
    assert south.releases_12m == 15  # all released in March 2024
    assert "hiv" in {s.service_type for s in south.services}  # S4 still open in May
    with pytest.raises(AnalysisError, match="outside the data"):
        services_coverage(con, as_of=dt.date(2030, 1, 1))


def test_selection_restricts_the_releases_and_the_regions(con):
    women = services_coverage(con, selection=Selection(sexes=("F",), regions=("North",)))
    (north,) = women.regions
    assert north.releases_12m == 10 and north.needs["women"] == 10


def test_summary_is_tidy(result):
    summary = result.summary()
    assert list(summary.columns) == ["region", "service_type", "providers", "capacity",
                                     "demand", "gap"]
    row = summary[(summary["region"] == "North") & (summary["service_type"] == "drug_treatment")]
    assert row[["providers", "capacity", "demand"]].iloc[0].tolist() == [1, 10, 12]
    assert row["gap"].iloc[0] == "capacity_below_demand"


def test_json_hides_small_counts_and_counts_revealed_by_subtraction(result):
    shown = result.as_dict(DisclosurePolicy(k=10))
    by_name = {r["region"]: r for r in shown["regions"]}
    north, south = by_name["North"], by_name["South"]
    assert north["releases_12m"] == 30
    assert north["needs"]["drug_offence"] == {"count": 12, "share": pytest.approx(0.4)}
    assert north["needs"]["under_25"] == {"count": None, "share": None}  # 8 < 10
    # South: 13 of 15 under 25 is not small, but 15 - 13 = 2 people would be revealed
    assert south["needs"]["under_25"] == {"count": None, "share": None}
    assert south["needs"]["drug_offence"]["count"] is None  # 3
    assert south["needs"]["women"] == {"count": 0, "share": 0.0}  # zero describes nobody
    assert south["upcoming_releases"] is None  # 1 person
    gaps = {(g["service_type"], g["reason"]): g for g in north["gaps"]}
    assert gaps[("vocational_training", "no_service")]["demand"] is None  # the 8
    assert gaps[("drug_treatment", "capacity_below_demand")]["demand"] == 12
    assert shown["disclosure"]["min_cell"] == 10 and shown["disclosure"]["hidden_values"] > 0
    for name in ("North", "South"):  # no hidden need count can be solved from what is shown
        values, relations, unknown = {}, [], []
        exact = region(result, name)
        values["n"] = exact.releases_12m
        for need in NEEDS:
            values[need], values[("rest", need)] = exact.needs[need], exact.releases_12m - \
                exact.needs[need]
            relations.append(("n", [need, ("rest", need)]))
            unknown.append(("rest", need))
            if by_name[name]["needs"][need]["count"] is None:
                unknown.append(need)
        solved = determined(values, relations, unknown)
        assert not [v for v in solved if 0 < values[v] < 10]


def test_json_shape_of_the_issue(result):
    shown = result.as_dict(DisclosurePolicy(k=1))
    assert {"as_of", "regions", "disclosure"} <= set(shown)
    for entry in shown["regions"]:
        assert {"region", "releases_12m", "upcoming_releases", "needs", "services",
                "gaps"} <= set(entry)
        assert set(entry["needs"]) == set(NEEDS)
        assert all({"service_type", "providers", "capacity"} <= set(s)
                   for s in entry["services"])
        assert all({"service_type", "reason"} <= set(g) for g in entry["gaps"])


def test_a_database_without_regions_is_refused():
    con = duckdb.connect()
    fill(con, services=False)
    con.execute("UPDATE releases SET release_region = NULL")
    con.execute("DELETE FROM expected_releases")
    with pytest.raises(AnalysisError, match="release_region"):
        services_coverage(con)


def test_without_services_every_region_with_releases_lacks_every_type():
    con = fill(duckdb.connect(), services=False)
    result = services_coverage(con)
    assert not result.has_services
    assert {g.reason for g in region(result, "North").gaps} == {"no_service"}
    assert len(region(result, "North").gaps) == len(SERVICE_TYPES)


def test_a_capacity_gap_is_withheld_when_it_would_narrow_a_hidden_demand():
    from analysis.services.coverage import CoverageResult, Gap, RegionCoverage, ServiceSupply

    def published(capacity):
        # 9 drug-offence releases (hidden at k = 10); a capacity of 8 places "below demand"
        # would say the hidden count is exactly 9
        supply = ServiceSupply("drug_treatment", 1, 1, capacity, True)
        west = RegionCoverage("West", 40, None, {"drug_offence": 9, "women": 20,
                                                 "under_25": 20},
                              (supply,), (Gap("drug_treatment", "capacity_below_demand", 9,
                                              capacity),))
        result = CoverageResult(dt.date(2024, 12, 31), (west,), True, False)
        return result.as_dict(DisclosurePolicy(k=10))

    withheld = published(8)
    assert withheld["regions"][0]["needs"]["drug_offence"]["count"] is None
    assert withheld["regions"][0]["gaps"] == []
    assert withheld["disclosure"]["hidden_values"] >= 2  # the count and the gap
    # no places at all: "below demand" says only that someone has the need, as "<10" does
    assert [g["reason"] for g in published(0)["regions"][0]["gaps"]] == [
        "capacity_below_demand"]
