"""Every page as every role (Streamlit AppTest): what each may open, and that a donor's
pages never name another programme nor show a count below the donor's k.

The study is a copy of the session's demo database with an access configuration and one
account per role beside it; each run starts signed in (a Session in the session state,
as the sign-in form leaves it: tests/dashboard/test_auth.py tests the form itself).
"""

from __future__ import annotations

import re
import shutil

import pytest
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from analysis.access.accounts import AccountStore
from analysis.access.audit import AuditLog
from analysis.access.config import load_access_config, write_default_config
from analysis.access.identity import start_session
from tests.dashboard.conftest import APP
from tests.dashboard.pages import as_read, each_tab

PAGES = ("overview", "recidivism", "programs", "impact", "subgroups", "planning", "services", "data")
#: The pages each role may open (docs/access.md).
OPENS = {
    "admin": set(PAGES),
    "analyst": set(PAGES),
    "planner": set(PAGES) - {"data"},
    "donor": {"programs", "impact"},
}
DONOR_PROGRAMS = ("COMM-DRUG", "DRUG-TC", "HEALTH-HTH")  # the Global Fund's, in the demo
PASSWORD = "correct horse battery staple"


@pytest.fixture(scope="module")
def served_study(demo_db, tmp_path_factory):
    """A copy of the demo with access control: one account per role."""
    db = tmp_path_factory.mktemp("roles") / "study.duckdb"
    shutil.copy(demo_db, db)
    write_default_config(db)
    store = AccountStore.for_database(db, hasher=PasswordHasher(time_cost=1,
                                                                memory_cost=8192))
    store.add("amina", "admin", password=PASSWORD)
    store.add("ana", "analyst", password=PASSWORD)
    store.add("capital", "planner", password=PASSWORD, regions=("Capital",))
    store.add("gf-desk", "donor", password=PASSWORD, funders=("Global Fund",))
    return db


def _run_as(db, name: str, page: str | None, monkeypatch, query=None) -> AppTest:
    monkeypatch.setenv("DESIST_DB", str(db))
    account = AccountStore.for_database(db).get(name)
    at = AppTest.from_file(str(APP), default_timeout=120)
    at.session_state["access_session"] = start_session(account, load_access_config(db))
    for key, value in (query or {}).items():
        at.query_params[key] = value
    if page is None:
        return at.run()
    # Before the first run, as a link to /<page> opens it (a page the role may not open
    # is then not in the navigation, and the router says so).
    return at.switch_page(f"app_pages/{page}.py").run()


def _nodes(node):
    yield node
    children = getattr(node, "children", None) or {}
    for child in children.values():
        yield from _nodes(child)


def _page_text(at: AppTest) -> str:
    """Everything the run sent to the browser, as text: elements, options, charts, tables."""
    parts = [str(getattr(node, "proto", "")) for node in _nodes(at._tree)]
    parts += [frame.value.to_string() for frame in at.dataframe]
    return "\n".join(parts)


def _forbidden_names(con) -> list[str]:
    rows = con.execute("SELECT program_id, name, project, funder FROM programs").fetchall()
    theirs = {r[2] for r in rows if r[0] in DONOR_PROGRAMS} | {"Global Fund"}
    names = set()
    for program_id, name, project, funder in rows:
        if program_id not in DONOR_PROGRAMS:
            names |= {program_id, name} | ({project, funder} - theirs)
    return sorted(n for n in names if n)


@pytest.mark.parametrize("role", sorted(OPENS))
@pytest.mark.parametrize("page", PAGES)
def test_every_page_as_every_role(served_study, monkeypatch, role, page):
    name = {"admin": "amina", "analyst": "ana", "planner": "capital", "donor": "gf-desk"}[role]
    at = _run_as(served_study, name, page, monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    main = " ".join(str(getattr(n, "proto", "")) for n in _nodes(at._tree.main))
    if page in OPENS[role]:
        assert at.title, f"{role} cannot open {page}"
        assert not re.search(r"does not cover|not among", main)
    else:
        assert at.error or at.warning, f"{role} opened {page} without a word"
        assert not at.dataframe and not at.get("plotly_chart") and not at.metric


@pytest.mark.parametrize("page", ["programs", "impact"])
def test_a_donor_page_names_no_other_programme(served_study, demo_con, monkeypatch, page):
    at = _run_as(served_study, "gf-desk", page, monkeypatch)
    text = "\n".join(_page_text(shown) for shown in each_tab(at, page))  # every tab
    leaked = [n for n in _forbidden_names(demo_con) if n in text]
    assert not leaked
    assert any(p in text for p in DONOR_PROGRAMS)
    k = at.session_state["filters"].min_cell
    assert k >= 10


def test_a_donor_link_to_another_programme_shows_no_number(served_study, monkeypatch):
    at = _run_as(served_study, "gf-desk", "impact", monkeypatch,
                 query={"program": "VOC-METAL"})
    assert at.error and "VOC-METAL" in as_read(at.error[0].value)
    assert not at.dataframe and not at.metric and not at.get("plotly_chart")
    last = AuditLog.for_database(served_study).entries()[-1]
    assert (last["event"], last["user"], last["details"]) == (
        "access_refused", "gf-desk", {"link": {"program": "VOC-METAL"}})


def test_a_planner_link_to_another_region_shows_no_number(served_study, monkeypatch):
    at = _run_as(served_study, "capital", None, monkeypatch, query={"region": "Highlands"})
    assert at.error and "Highlands" in as_read(at.error[0].value)
    assert not at.dataframe and not at.metric
    last = AuditLog.for_database(served_study).entries()[-1]
    assert (last["event"], last["details"]) == ("access_refused", {"link": {"region": "Highlands"}})


def test_a_planners_k_is_the_one_set_for_them(served_study, monkeypatch):
    at = _run_as(served_study, "capital", "overview", monkeypatch, query={"k": "5"})
    assert at.session_state["filters"].min_cell == 10  # [min_cell] planner, by default
    assert not at.number_input  # nothing to change


def test_a_donors_navigation_holds_their_pages_only(served_study, monkeypatch):
    at = _run_as(served_study, "gf-desk", None, monkeypatch)
    assert not at.exception
    assert at.title and at.title[0].value == "Programmes"  # their first page


def test_a_view_refusing_the_scope_shows_the_message_and_no_number(served_study,
                                                                    monkeypatch):
    """Defence in depth: whatever a page asks, a refusal of the views themselves is one
    translated message, not a number nor an English error."""
    from analysis.views import scope as view_scope
    from dashboard import cache

    def refuse(con, view, filters, options):
        raise view_scope.OutOfScopeError("facility", "Elsewhere Prison")

    monkeypatch.setattr(view_scope, "check", refuse)
    cache._cached_view.clear()
    at = _run_as(served_study, "capital", "overview", monkeypatch, query={"lang": "fr"})
    assert not at.exception, [e.value for e in at.exception]
    assert at.error and "Elsewhere Prison" in as_read(at.error[0].value)
    assert "votre compte ne couvre pas" in at.error[0].value
    assert not at.dataframe and not at.metric and not at.get("plotly_chart")
