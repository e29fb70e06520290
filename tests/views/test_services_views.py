"""Services and coverage views: disclosure control on every count, the user's regions,
the link's filters, and a study with services, referrals and region outlines.

:func:`services_study` (a copy of the demo with hand-made services) is shared with the
page tests (``tests/dashboard/test_services_page.py``, ``tests/browser/``).
"""

from __future__ import annotations

import datetime as dt
import json
import shutil
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.access.roles import Role, Scope
from analysis.services.coverage import CoverageResult, Gap, RegionCoverage, ServiceSupply
from analysis.services.follow_through import FollowThroughResult
from analysis.store import connect_readonly
from analysis.views import stored
from analysis.views.filters import ViewFilters
from analysis.views.scope import OutOfScopeError
from analysis.views.services import (
    ServicesCoverage,
    ServicesFollowThrough,
    ServicesSpan,
    coverage_tables,
    follow_through_rows,
    services_coverage_view,
    services_follow_through,
)
from analysis.views.services_directory import services_directory
from analysis.views.services_link import parse_services_query
from analysis.views.services_words import coverage_rows, directory_rows, follow_rows

#: A provider and a service whose names would fetch, link or restyle if rendered.
HOSTILE_PROVIDER = "<b>Hope</b> & ![p](http://other-host.invalid/p.png)"
HOSTILE_SERVICE = "[Beds](http://other-host.invalid/s) **now** <i>x</i>"


def _square(x: float, y: float) -> str:
    ring = [[x, y], [x + 1, y], [x + 1, y + 1], [x, y + 1], [x, y]]
    return json.dumps({"type": "Polygon", "coordinates": [ring]})


def add_services(con: duckdb.DuckDBPyConnection, *, boundaries: bool = True) -> str:
    """Replace the study's services with hand-made ones; returns the busiest region.

    In the busiest region: drug treatment for 5 people a year (below demand), housing
    for men only and legal aid (everywhere; nothing known of the legal aid but its type),
    employment for women in two regions; referrals of some
    releases of every region (half of them reached). Each region gets a square outline when
    ``boundaries``.
    """
    for table in ("referrals", "services", "providers", "region_boundaries"):
        con.execute(f"DELETE FROM {table}")
    regions = [r[0] for r in con.execute(
        "SELECT release_region FROM releases GROUP BY 1 ORDER BY count(*) DESC, 1").fetchall()]
    busiest, second = regions[0], regions[1]
    con.execute("INSERT INTO providers VALUES ('P1', ?, 'ngo', ['all'], '+1 555 0100', "
                "'help@hope.invalid', NULL, 'https://hope.invalid', 'test')",
                [HOSTILE_PROVIDER])
    con.execute("INSERT INTO providers VALUES ('P2', 'Ministry of Labour', 'government', "
                "['all'], NULL, NULL, NULL, NULL, 'test')")
    con.execute("INSERT INTO services VALUES ('S1', 'P1', 'drug_treatment', ?, [?], 'both', "
                "['ar', 'fr'], 5, NULL, NULL, 'test')", [HOSTILE_SERVICE, busiest])
    con.execute("INSERT INTO services VALUES ('S2', 'P2', 'housing', 'Hostel', ['all'], "
                "'men', NULL, 200, NULL, NULL, 'test')")
    con.execute("INSERT INTO services VALUES ('S3', 'P2', 'employment', 'Jobs', [?, ?], "
                "'women', ['en'], 30, DATE '2000-01-01', NULL, 'test')", [busiest, second])
    # every 6th release of the busiest region, every 12th of the others (dated before
    # the data's last year, so that their follow-up is long enough to compare)
    # a national service whose name, languages and capacity are unknown
    con.execute("INSERT INTO services VALUES ('S4', 'P1', 'legal_aid', NULL, ['all'], "
                "'both', NULL, NULL, NULL, NULL, 'test')")
    released = con.execute(
        "SELECT person_id, release_id, release_date FROM releases "
        "WHERE hash(release_id) % (CASE WHEN release_region = ? THEN 6 ELSE 12 END) = 0 "
        "AND release_date < (SELECT max(release_date) - INTERVAL 1 YEAR FROM releases) "
        "ORDER BY release_id", [busiest]).fetchall()
    statuses = ("completed", "attended", "referred", "declined", "completed", "attended",
                "not_available", "attended")
    for i, (person, release, day) in enumerate(released):
        status = statuses[i % len(statuses)]
        service = ("S1", "S2", "S3")[i % 3]
        referred = day + dt.timedelta(days=5)
        contact = referred + dt.timedelta(days=7 + i % 40) if status in (
            "attended", "completed") else None
        con.execute("INSERT INTO referrals VALUES (?, ?, ?, ?, ?, ?, 'test')",
                    [person, service, referred, status, release, contact])
    if boundaries:
        for i, region in enumerate(regions):
            con.execute("INSERT INTO region_boundaries VALUES (?, ?, 'test')",
                        [region, _square(i % 4, i // 4)])
    return busiest


def services_study(demo_db: Path, folder: Path, *, services: bool = True,
                   boundaries: bool = True) -> Path:
    """A copy of the demo database with :func:`add_services` (or with no service at
    all when not ``services``)."""
    db = folder / "services.duckdb"
    shutil.copy(demo_db, db)
    with duckdb.connect(str(db)) as con:
        if services:
            add_services(con, boundaries=boundaries)
        else:
            for table in ("referrals", "services", "providers", "region_boundaries"):
                con.execute(f"DELETE FROM {table}")
    return db


@pytest.fixture(scope="module")
def study(demo_db, tmp_path_factory) -> Path:
    return services_study(demo_db, tmp_path_factory.mktemp("services-views"))


def _region(name, releases, *, women=0, drug=0, young=0, upcoming=None, services=(),
            gaps=()) -> RegionCoverage:
    return RegionCoverage(name, releases, upcoming,
                          {"drug_offence": drug, "women": women, "under_25": young},
                          tuple(services), tuple(gaps))


def test_small_counts_read_the_label_and_what_would_reveal_them_is_hidden():
    result = CoverageResult(dt.date(2024, 12, 31), (
        _region("North", 50, women=3, drug=20, young=45, upcoming=4,
                services=[ServiceSupply("drug_treatment", 1, 1, 5, True)],
                gaps=[Gap("drug_treatment", "capacity_below_demand", 20, 5)]),
        _region("South", 6, women=6, drug=0, young=2, upcoming=40),
    ), True, False)
    table, supply, gaps = coverage_tables(result, ViewFilters())
    north, south = (table.set_index("region").loc[r] for r in ("North", "South"))
    assert north["releases_12m"] == 50 and north["upcoming_releases"] == "<10"
    assert north["women"] == "<10" and pd.isna(north["women_share"])
    # 45 of 50 under 25: the other 5 would be 50 - 45, so the 45 is hidden as well
    assert north["under_25"] == "hidden" and pd.isna(north["under_25_share"])
    assert north["drug_offence"] == 20 and north["drug_offence_share"] == pytest.approx(0.4)
    assert south["releases_12m"] == "<10" and south["women"] == "<10"
    assert south["upcoming_releases"] == 40 and south["drug_offence"] == 0
    assert list(table["region"]) == ["North", "South"]  # most releases first
    assert supply.loc[0, "demand"] == 20 and gaps.loc[0, "reason"] == "capacity_below_demand"
    empty = pd.DataFrame(columns=["region", "geometry"])
    shown = coverage_rows(ServicesCoverage(result.as_of, True, False, table, supply, gaps,
                                           empty, "<10"), "fr")
    assert "hidden" not in shown.astype(str).to_numpy().ravel().tolist()
    assert "masqué" in shown.astype(str).to_numpy().ravel().tolist()


def test_a_regional_planner_sees_only_their_regions():
    result = CoverageResult(dt.date(2024, 12, 31), (
        _region("North", 50), _region("South", 60)), True, False)
    planner = ViewFilters(scope=Scope(Role.PLANNER, regions=("North",)))
    table, _, _ = coverage_tables(result, planner)
    assert list(table["region"]) == ["North"]


def _follow(rows: list[dict]) -> FollowThroughResult:
    frame = pd.DataFrame(rows)
    total = {c: int(frame[c].sum()) for c in frame.columns
             if c not in ("service_type", "region", "median_days_to_contact")}
    total["median_days_to_contact"] = float("nan")
    return FollowThroughResult(("service_type", "release_region"), frame, total)


def _funnel(region, referred, attended, completed, declined, not_available, people,
            within_30, median=20.0):
    return {"service_type": "housing", "region": region, "referred": referred,
            "referred_only": referred - attended - declined - not_available,
            "attended": attended, "completed": completed, "declined": declined,
            "not_available": not_available, "contact_date_unknown": 0, "people": people,
            "people_reached": attended, "contact_within_30": within_30,
            "median_days_to_contact": median, "dated_contacts": attended}


def test_the_funnel_hides_small_counts_and_those_that_give_them_away():
    result = _follow([_funnel("North", 100, 60, 30, 4, 20, 90, 25),
                      _funnel("South", 30, 6, 2, 10, 10, 30, 3, median=9.0)])
    rows = follow_through_rows(result, ViewFilters()).set_index("region")
    north, south = rows.loc["North"], rows.loc["South"]
    assert north["declined"] == "<10" and north["referred"] == 100
    assert south["attended"] == "<10" and south["completed"] == "<10"
    assert pd.isna(south["attended_share"]) and pd.isna(south["median_days_to_contact"])
    assert north["median_days_to_contact"] == 20.0
    # with the waiting referrals not shown, North's 4 declined cannot be worked out
    assert {north["attended"], north["not_available"]} <= {60, 20, "hidden"}
    planner = ViewFilters(scope=Scope(Role.PLANNER, regions=("South",)))
    assert list(follow_through_rows(result, planner)["region"]) == ["South"]
    worded = follow_rows(ServicesFollowThrough(rows.reset_index(), "<10"), language="ar")
    assert len(worded) == 2 and "hidden" not in worded.astype(str).to_numpy().ravel()


SPAN = ServicesSpan(dt.date(2018, 1, 1), dt.date(2024, 12, 31))


def test_the_link_values_that_cannot_be_used_are_named_with_what_is_used():
    choice, rejected = parse_services_query(
        {"service_region": "Atlantis", "service_type": "magic", "as_of": "yesterday"},
        ("North", "South"), ("housing",), SPAN)
    assert (choice.region, choice.service_type, choice.as_of) == ("", "", "")
    assert [(r.field, r.value, r.used) for r in rejected] == [
        ("service_region", "Atlantis", "North"), ("service_type", "magic", None),
        ("as_of", "yesterday", "2024-12-31")]
    choice, rejected = parse_services_query(
        {"service_region": "South", "service_type": "housing", "as_of": "2020-02-29"},
        ("North", "South"), ("housing",), SPAN)
    assert not rejected and choice.to_query() == {
        "service_region": "South", "service_type": "housing", "as_of": "2020-02-29"}


@given(st.dictionaries(st.sampled_from(["service_region", "service_type", "as_of", "x"]),
                       st.text(max_size=12)))
def test_any_link_gives_a_usable_choice_and_names_each_value_it_drops(params):
    regions, types = ("North", "South"), ("housing", "hiv")
    choice, rejected = parse_services_query(params, regions, types, SPAN)
    assert choice.region in ("", *regions) and choice.service_type in ("", *types)
    assert choice.as_of == "" or SPAN.first <= dt.date.fromisoformat(choice.as_of) <= SPAN.last
    dropped = {r.field for r in rejected}
    for key, kept in (("service_region", choice.region), ("service_type", choice.service_type),
                      ("as_of", choice.as_of)):
        asked = params.get(key, "")
        assert (key in dropped) == bool(asked and not kept), (key, asked)


def _numbers(frame: pd.DataFrame, columns) -> list[int]:
    return [int(v) for c in columns for v in frame[c]
            if isinstance(v, int) and not isinstance(v, bool)]


def test_on_a_study_with_services_every_count_respects_k_and_the_gaps_are_found(study):
    with connect_readonly(study) as con:
        shown = services_coverage_view(con, ViewFilters())
        follow = services_follow_through(con, ViewFilters())
        busiest = shown.regions[0]
        directory = services_directory(con, ViewFilters(), region=busiest)
    assert shown.has_services and shown.has_boundaries
    assert set(shown.boundaries["region"]) == set(shown.regions)
    reasons = {(g.service_type, g.reason) for g in shown.gaps.itertuples()
               if g.region == busiest}
    assert ("drug_treatment", "capacity_below_demand") in reasons
    assert ("housing", "none_for_women") in reasons
    assert ("hiv", "no_service") in reasons
    counts = _numbers(shown.regions_table, ("releases_12m", "upcoming_releases",
                                            "drug_offence", "women", "under_25"))
    counts += _numbers(follow.rows, ("referred", "attended", "completed", "declined",
                                     "not_available", "people", "contact_within_30"))
    assert counts and all(n == 0 or n >= 10 for n in counts)
    assert busiest in set(follow.rows["region"])
    assert HOSTILE_PROVIDER in set(directory["provider"])
    words = directory_rows(directory, "drug_treatment", "en")
    assert list(words["Service"]) == [HOSTILE_SERVICE]
    assert list(words["Provider"]) == [HOSTILE_PROVIDER]


def test_through_compute_a_planner_gets_their_region_and_a_donor_nothing(study):
    with connect_readonly(study) as con:
        regions = services_coverage_view(con, ViewFilters()).regions
        planner = ViewFilters(scope=Scope(Role.PLANNER, regions=(regions[1],)))
        shown = stored.compute(con, services_coverage_view, planner)
        assert shown.regions == (regions[1],)
        assert set(shown.boundaries["region"]) == {regions[1]}
        assert stored.compute(con, services_directory, planner, region=regions[0]).empty
        follow = stored.compute(con, services_follow_through, planner).rows
        assert set(follow["region"]) == {regions[1]}
        donor = ViewFilters(scope=Scope(Role.DONOR, funders=("EU",)))
        with pytest.raises(OutOfScopeError):
            stored.compute(con, services_coverage_view, donor)


def test_without_services_the_view_says_so_and_follow_through_is_empty(demo_db, tmp_path):
    db = services_study(demo_db, tmp_path, services=False)
    with connect_readonly(db) as con:
        shown = services_coverage_view(con, ViewFilters())
        follow = services_follow_through(con, ViewFilters())
    assert not shown.has_services and not shown.has_boundaries and follow.rows.empty
