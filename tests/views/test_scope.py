"""Scopes enforced in the views: a donor sees their programmes only, a regional office its
places only, and nobody gets a view of a page their role may not open.

The donor sweep asks every view a donor may reach (the Programmes and Impact pages, and
the sidebar's choices) for a sample of selections, through
:func:`analysis.views.stored.compute` as the dashboard does, and reads the pickled result
byte by byte for any other programme's code, name, project or funder.
"""

from __future__ import annotations

import datetime as dt
import importlib
import inspect
import pickle
import pkgutil

import pandas as pd
import pytest

import analysis.views
from analysis.access.roles import LOCAL, Role, Scope
from analysis.survival.episodes import Outcome, Selection
from analysis.views import choices, impact, portfolio, programs, stored
from analysis.views.filters import ViewFilters
from analysis.views.scope import (
    OutOfScopeError,
    allowed_programs,
    unknown_scope_names,
    view_pages,
)
from analysis.views.stored import compute
from tests.views.test_disclosure_sweep import _audit_impact, _audit_programs

DONOR = Scope(Role.DONOR, user="gf-desk", funders=("Global Fund",))
#: The Global Fund's programmes in the demo (docs/demo-data.md), and its one project that
#: holds nothing else.
DONOR_PROGRAMS = ("COMM-DRUG", "DRUG-TC", "HEALTH-HTH")
PLANNER = Scope(Role.PLANNER, user="capital-office", regions=("Capital",), fixed_min_cell=20)


def _others(con) -> list[str]:
    """Every name a Global Fund donor must never meet: other programmes' codes and names,
    and the projects and funders that are not theirs."""
    rows = con.execute("SELECT program_id, name, project, funder FROM programs").fetchall()
    mine = {r[2] for r in rows if r[0] in DONOR_PROGRAMS} | {"Global Fund"}
    names = set()
    for program_id, name, project, funder in rows:
        if program_id not in DONOR_PROGRAMS:
            names |= {program_id, name}
            names |= {project, funder} - mine
    return sorted(n for n in names if n)


def _donor_filters(selection: Selection | None = None, k: int = 10,
                   outcome: Outcome | None = None) -> ViewFilters:
    return ViewFilters(selection or Selection(), outcome or Outcome(), k, scope=DONOR)


#: (selection, outcome, k) of the sweep: the whole study, women, one facility, one year
#: with another outcome and a larger k.
SWEEP = (
    (Selection(), Outcome(), 10),
    (Selection(sexes=("F",)), Outcome(), 10),
    (Selection(facilities=("Northgate Prison",)), Outcome(), 20),
    (Selection(release_from=dt.date(2022, 1, 1), release_to=dt.date(2022, 12, 31)),
     Outcome.named("reconviction"), 15),
)


def _donor_requests(con):
    yield choices.filter_choices, {}
    yield programs.program_catalog, {}
    yield programs.program_effects, {}
    yield programs.completion_outcomes, {"horizon_days": 365}
    yield impact.impact_subjects, {}
    yield impact.default_subject, {}
    for program in DONOR_PROGRAMS:
        yield impact.impact_page, {"kind": "program", "value": program, "horizon_days": 365}
    yield impact.impact_report, {"kind": "funder", "value": "Global Fund", "horizon_days": 365,
                                 "language": "fr"}
    yield portfolio.impact_portfolio, {"kind": "funder", "value": "Global Fund"}


@pytest.mark.parametrize(("selection", "outcome", "k"), SWEEP,
                         ids=["all", "women", "facility", "2022"])
def test_a_donor_never_meets_another_programme(demo_con, selection, outcome, k):
    forbidden = _others(demo_con)
    assert "VOC-METAL" in forbidden and "European Union" in forbidden
    for view, options in _donor_requests(demo_con):
        try:
            result = compute(demo_con.cursor(), view, _donor_filters(selection, k, outcome),
                             **options)
        except OutOfScopeError as refused:
            pytest.fail(f"{view.__name__} refused the donor's own request: {refused}")
        except analysis.errors.AnalysisError:
            continue  # too few releases to analyse: nothing shown
        dumped = pickle.dumps(result) + str(result).encode()
        leaked = [name for name in forbidden if name.encode() in dumped]
        assert not leaked, f"{view.__name__} {options} shows {leaked}"


def test_a_donor_sees_their_own_programmes_with_the_analysts_numbers(demo_con):
    mine = compute(demo_con.cursor(), programs.program_effects, _donor_filters())
    everyone = compute(demo_con.cursor(), programs.program_effects, ViewFilters())
    assert tuple(mine.table["program_id"]) == DONOR_PROGRAMS
    theirs = everyone.table.set_index("program_id").loc[list(DONOR_PROGRAMS)].reset_index()
    pd.testing.assert_frame_equal(mine.table, theirs)
    catalogue = compute(demo_con.cursor(), programs.program_catalog, _donor_filters())
    assert tuple(catalogue["program_id"]) == DONOR_PROGRAMS
    picked = compute(demo_con.cursor(), impact.default_subject, _donor_filters())
    assert picked.kind == "program" and picked.value in DONOR_PROGRAMS


def test_a_donors_counts_respect_their_k(demo_con):
    assert _donor_filters(k=5).min_cell == 10  # a donor's k is never below 10
    filters = _donor_filters(Selection(sexes=("F",)), k=5)
    assert _audit_programs(demo_con, filters, filters.min_cell, effects=True) == []
    for program in DONOR_PROGRAMS:
        assert _audit_impact(demo_con, filters, filters.min_cell, program) == []


@pytest.mark.parametrize(("view", "options"), [
    (impact.impact_page, {"kind": "program", "value": "VOC-METAL"}),
    (impact.impact_report, {"kind": "program", "value": "NO-SUCH-PROGRAMME"}),
    (impact.impact, {"kind": "funder", "value": "European Union"}),
    # a project of theirs is allowed; one with another funder's programme is not
    (impact.impact_page, {"kind": "project", "value": "Skills for Work"}),
    (portfolio.impact_portfolio, {"kind": "funder", "value": "Ministry of Justice"}),
])
def test_a_donor_asking_for_another_programme_gets_nothing(demo_con, view, options):
    with pytest.raises(OutOfScopeError) as refused:
        compute(demo_con.cursor(), view, _donor_filters(), **options)
    assert options["value"] in str(refused.value)


@pytest.mark.parametrize("view", [
    "overview:overview", "curves:recidivism_curves", "subgroups:subgroups",
    "data_quality:completeness", "data_quality:import_history",
])
def test_a_donor_gets_no_view_of_other_pages(demo_con, view):
    module, name = view.split(":")
    function = getattr(importlib.import_module(f"analysis.views.{module}"), name)
    with pytest.raises(OutOfScopeError):
        compute(demo_con.cursor(), function, _donor_filters())


def test_a_regional_office_sees_its_region_only(demo_con):
    filters = ViewFilters(min_cell=5, scope=PLANNER)
    assert filters.min_cell == 20 and filters.selection.regions == ("Capital",)
    offered = compute(demo_con.cursor(), choices.filter_choices, filters)
    assert offered.regions == ("Capital",)
    capital = set(r[0] for r in demo_con.execute(
        "SELECT DISTINCT facility FROM releases WHERE release_region = 'Capital'").fetchall())
    assert set(offered.facilities) == capital
    from analysis.views.overview import overview

    theirs = compute(demo_con.cursor(), overview, filters)
    asked = ViewFilters(Selection(regions=("Capital",)), min_cell=20)
    assert pickle.dumps(theirs) == pickle.dumps(compute(demo_con.cursor(), overview, asked))
    with pytest.raises(OutOfScopeError, match="Highlands"):
        compute(demo_con.cursor(), overview,
                ViewFilters(Selection(regions=("Highlands",)), scope=PLANNER))
    with pytest.raises(OutOfScopeError):  # no Data page for planners
        from analysis.views.data_quality import database_facts
        compute(demo_con.cursor(), database_facts, filters)


def test_stored_results_never_answer_a_limited_request(demo_db, tmp_path):
    """The importer stores the unrestricted default views: a donor's default programme
    must still be one of theirs, not the ministry's largest."""
    import duckdb

    db = tmp_path / "stored.duckdb"
    db.write_bytes(demo_db.read_bytes())
    with duckdb.connect(str(db)) as con:
        stored.store_default_views(con)
        everyone = compute(con, impact.default_subject, ViewFilters())
        assert everyone.value not in DONOR_PROGRAMS  # else this test proves nothing
        assert compute(con, impact.default_subject, _donor_filters()).value in DONOR_PROGRAMS


#: (con, filters) functions that are building blocks of views, never asked for by a page.
NOT_VIEWS = {"estimates:view_study"}


def test_every_view_serves_named_pages():
    """A view without pages would be refused to everyone but the local analyst, or (worse)
    a new view could be forgotten: every (con, filters) function of analysis.views is
    tagged."""
    untagged = []
    for info in pkgutil.iter_modules(analysis.views.__path__):
        module = importlib.import_module(f"analysis.views.{info.name}")
        for name, function in inspect.getmembers(module, inspect.isfunction):
            if function.__module__ != module.__name__ or name.startswith("_"):
                continue
            parameters = list(inspect.signature(function).parameters)
            key = f"{info.name}:{name}"
            if parameters[:2] == ["con", "filters"] and not view_pages(function) \
                    and key not in NOT_VIEWS:
                untagged.append(key)
    assert untagged == []


def test_the_local_analyst_is_not_limited(demo_con):
    assert allowed_programs(demo_con, LOCAL) is None
    assert ViewFilters().scope == LOCAL and ViewFilters().to_query() == {}
    assert ViewFilters(scope=DONOR).to_query() == {}  # the scope never travels in a link


def test_unknown_scope_names_are_named(demo_con):
    assert unknown_scope_names(demo_con, funders=["Global Fund", "Nobody"],
                               facilities=["Northgate Prison"], regions=["Atlantis"]) == {
        "funders": ("Nobody",), "regions": ("Atlantis",)}
