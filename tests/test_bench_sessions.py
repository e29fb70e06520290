"""The sessions benchmark measures what it says, once, on a tiny study: no timing is asserted.

``benchmarks/bench_sessions.py`` prints the figures; here two sessions (an analyst and a
donor) on a study of a few thousand releases check its machinery: the study is built with
the donors' funder, every session is identified by the proxy's header and opens every
page of its role's menu, each page run is parsed to its ``script_finished``, the widgets
keep their values from page to page as in a browser, and errors are counted — a session
whose proxy secret is wrong is one.
"""

from __future__ import annotations

import asyncio
import math
from collections import Counter

import pytest

from benchmarks.bench_sessions import (
    DONOR_FUNDER,
    PLANNER_FACILITY,
    Scopes,
    accounts_for,
    build_database,
    configure_header_access,
    report,
    run,
    servers,
)
from benchmarks.stream_session import StreamSession

ROLES = ("analyst", "donor")
ANALYST_MENU = ["Overview", "Recidivism over time", "Programmes", "Impact",
                "Subgroups and places", "Planning", "Services and coverage", "Data"]
DONOR_MENU = ["Programmes", "Impact"]


@pytest.fixture(scope="module")
def tiny_study(tmp_path_factory):
    return build_database(3_000, tmp_path_factory.mktemp("bench-sessions-cache"))


def test_the_study_names_the_donors_funder(tiny_study):
    import duckdb

    with duckdb.connect(str(tiny_study), read_only=True) as con:
        funded = con.execute("SELECT program_id FROM programs WHERE funder = ? "
                             "ORDER BY program_id", [DONOR_FUNDER]).fetchall()
    assert funded == [("EDU",), ("VOC",)]


@pytest.mark.parametrize("scopes", [Scopes(), Scopes("Global Fund", "Northgate Prison")])
def test_the_scoped_accounts_get_the_scopes_asked_for(tmp_path, scopes):
    """``--donor-funder``/``--planner-facility``: the benchmark can serve another study
    (a demo) with its donors and planners scoped to that study's funder and facility."""
    from analysis.access.accounts import AccountStore

    db = tmp_path / "study.duckdb"
    db.touch()
    accounts = accounts_for(4)
    configure_header_access(db, accounts, "s" * 64, scopes)
    store = AccountStore.for_database(db)
    donor, planner = store.get(accounts[3].name), store.get(accounts[1].name)
    assert (donor.role.value, donor.funders) == ("donor", (scopes.donor_funder,))
    assert (planner.role.value, planner.facilities) == ("planner", (scopes.planner_facility,))
    assert Scopes() == Scopes(DONOR_FUNDER, PLANNER_FACILITY)


def test_two_sessions_open_every_page_of_their_role(tiny_study, tmp_path):
    results = run(tiny_study, 2, roles=ROLES, passes=1, minimal_renders=2, workdir=tmp_path)
    analyst, donor = accounts_for(2, ROLES)
    assert results.pages_by_account == {analyst.name: ANALYST_MENU, donor.name: DONOR_MENU}
    # untimed: the sign-in run (drawing the role's first page) and every other page once
    assert Counter(r.page for r in results.first) == Counter(ANALYST_MENU + DONOR_MENU)
    assert Counter(r.page for r in results.timed) == Counter(ANALYST_MENU + DONOR_MENU)
    assert {r.role for r in results.timed} == set(ROLES)
    assert [r.page for r in results.alone] == ANALYST_MENU  # the first account, alone
    for render in (*results.first, *results.timed, *results.minimal, *results.alone):
        assert render.errors == [], (render.page, render.errors)
        assert render.elements > 0 and render.received > 0, render.page
        assert math.isfinite(render.seconds) and render.seconds > 0, render.page
    assert len(results.minimal) == 2 and {r.page for r in results.minimal} == {""}
    lines = report(results, sessions=2, passes=1)
    assert any(line.split()[:3] == ["all", "pages", "10"] for line in lines), lines  # 8 + 2
    assert any("ratio to the minimal page" in line for line in lines)
    assert any(line.strip().startswith("the timed passes: 10 renders") for line in lines)
    assert any("peak memory" in line for line in lines)
    assert not any(line.strip().startswith("ERROR") for line in lines)


def test_filters_stay_from_page_to_page_and_a_wrong_secret_is_an_error(tiny_study, tmp_path):
    (planner,) = accounts_for(1, ("planner",))

    async def visit(url: str, secret: str) -> tuple[list, list[str]]:
        headers = {"X-Remote-User": planner.name, "X-Desist-Proxy-Secret": secret}
        async with StreamSession(url, headers, timeout=300) as session:
            renders = [await session.open("")]
            renders += [await session.open(p.url_path, p.script_hash) for p in session.pages]
            return renders, session.texts

    with servers(tiny_study, [planner], "the-right-secret", tmp_path) as (dashboard, _):
        renders, texts = asyncio.run(visit(dashboard.url, "the-right-secret"))
        forged, forged_texts = asyncio.run(visit(dashboard.url, "a-wrong-secret"))
        assert dashboard.peak_rss_mb() > 50  # a Streamlit server, read from /proc
    assert [r.errors for r in renders] == [[]] * len(renders)
    # The planner's facility narrows every page; a page that lost the sidebar's values
    # (widgets not sent back) would show the empty selection instead.
    assert "No releases match the selection" not in texts
    # the Overview, then each of the planner's pages (every one but Data)
    assert len(renders) == 8
    # the benchmark's releases have no region: the Services page says what to fill in
    # (a page draws its open tab only: Subgroups and places is its cross-table, 20 elements)
    assert all(r.elements >= 20 for r in renders if r.page != "Services and coverage"), [
        (r.page, r.elements) for r in renders]
    assert any("coverage is described per region" in text for text in texts)
    assert forged[0].errors and "error message" in forged[0].errors[0]
    assert "Overview" not in forged_texts
