"""Planning page (Streamlit AppTest): the forecast with its backtest, the hazard and the
scenario, in every language; its inputs in the URL; small counts hidden; roles."""

from __future__ import annotations

import shutil

import pytest
from argon2 import PasswordHasher
from streamlit.testing.v1 import AppTest

from analysis.access.accounts import AccountStore
from analysis.access.config import load_access_config, write_default_config
from analysis.access.identity import start_session
from analysis.store import connect_readonly
from analysis.views.filters import ViewFilters
from analysis.views.planning_scenario import planning_scenario, scenario_programmes
from dashboard.i18n import catalog
from tests.dashboard.conftest import APP
from tests.dashboard.pages import as_read, each_tab, frames, open_page
from tests.dashboard.test_i18n import _english_words, _figure_texts

PASSWORD = "correct horse battery staple"
TITLE = "Planning"


@pytest.fixture(autouse=True)
def _database(demo_db, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(demo_db))


def _notices(at: AppTest) -> list[str]:
    return [as_read(info.value) for info in at.info if "link" in str(info.proto.icon)]


def _texts(at: AppTest) -> list[str]:
    return [*(m.value for m in at.markdown), *(c.value for c in at.caption),
            *(i.value for i in at.info), *(w.value for w in at.warning),
            *(s.value for s in at.subheader)]


TABS = ("Expected reoffences", "How far to trust it", "When support matters",
        "Scale-up scenario")


def _tables(at: AppTest) -> list:
    """The first table of each tab, each tab opened in turn (a page draws only its open
    tab); the page is left on its last tab."""
    return [frames(shown)[0] for shown in each_tab(at, "planning")]


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_the_page_shows_forecast_backtest_hazard_and_scenario_in_the_language(language):
    at = open_page("planning", {"lang": language} if language != "en" else {}, timeout=180)
    words = catalog(language)
    assert [t.value for t in at.title] == [words.get(TITLE, TITLE)]
    assert [tab.label for tab in at.tabs] == [words.get(s, s) for s in TABS]
    whole, pieces = _english_words(language)
    found, tables, subheaders, charts, downloads = [], [], [], 0, 0
    for shown in each_tab(at, "planning"):
        assert len(shown.get("plotly_chart")) == 1  # one chart a tab
        charts += 1
        tables.append(frames(shown)[0])
        subheaders += [s.value for s in shown.subheader]
        downloads += len(shown.get("download_button"))
        if language == "en":
            continue
        found += [("header", c) for frame in frames(shown) for c in frame.columns
                  if str(c) in whole]
        found += [("chart", text) for chart in shown.get("plotly_chart")
                  for text in _figure_texts(chart) if text in whole]
        found += [("text", piece) for text in _texts(shown) for piece in pieces
                  if piece in as_read(text)]
    forecast, backtest, hazard, scenario = tables
    # everyone together, then the eight regions, at three horizons
    assert len(forecast) == 3 * (1 + 8) and len(backtest) > 0 and len(hazard) > 0
    assert len(scenario) == 5  # years of the default scenario
    expected = [words.get(s, s) for s in (
        "Expected first reoffences and returns to custody",
        "When support matters: reoffending month by month after release",
        "Scale-up scenario: what if more people took part?")]
    assert [s for s in subheaders if s in expected] == expected  # each in its tab, once
    assert downloads >= 8  # CSV and XLSX under each table
    assert not found, found
    if language == "en":
        assert "Expected returns to custody" in forecast.columns
        assert any("docs/planning.md" in c.value for c in at.caption)


def test_a_link_opens_on_its_tab_and_an_unknown_tab_is_named():
    at = open_page("planning", {"tab": "hazard"}, timeout=180)
    assert at.session_state["planning-tab"] == "When support matters"
    assert "Reoffended in the month" in frames(at)[0].columns
    at.sidebar.selectbox(key="lang").set_value("fr").run()  # the tab stays, in French
    assert at.session_state["planning-tab"] == catalog("fr")["When support matters"]
    assert at.query_params["tab"] in ("hazard", ["hazard"])
    at.sidebar.multiselect(key="flt_sexes").set_value(["F"]).run()  # and with a filter
    assert at.session_state["planning-tab"] == catalog("fr")["When support matters"]
    at = open_page("planning", {"tab": "scenario", "lang": "fr"}, timeout=180)
    assert at.session_state["planning-tab"] == catalog("fr")["Scale-up scenario"]
    at = open_page("planning", {"tab": "nowhere"}, timeout=180)
    assert at.session_state["planning-tab"] == "Expected reoffences"
    (notice,) = _notices(at)
    assert notice == "This page has no tab “nowhere”: Expected reoffences is shown."
    assert "tab" not in at.query_params


def test_the_inputs_come_from_the_link_and_stay_in_it():
    link = {"by": "sex", "program": "VOC-WOOD", "participants": "250", "years": "3",
            "cost_per_day": "80", "custody_days": "400", "tab": "scenario"}
    at = open_page("planning", {**link, "tab": "forecast"}, timeout=180)
    forecast, *_ = frames(at)
    assert set(forecast["Sex"][3:]) == {"female", "male"}
    assert list(forecast["Sex"][:3]) == ["all releases"] * 3
    at = open_page("planning", link, timeout=180)  # the scenario's inputs are on its tab
    assert not _notices(at)
    assert at.selectbox(key="plan_by").value == "sex"
    assert at.selectbox(key="plan_program").value == "VOC-WOOD"
    assert at.number_input(key="plan_participants").value == 250
    assert at.number_input(key="plan_cost_per_day").value == 80.0
    for key, value in link.items():
        assert at.query_params[key] in (value, [value]), key
    assert len(frames(at)[0]) == 3  # three years
    # a change is written to the link
    at.number_input(key="plan_participants").set_value(300)
    at.button[0].click().run()  # the form's "Compute"
    assert at.query_params["participants"] in ("300", ["300"])


def test_a_bad_link_value_is_named_in_one_notice_and_the_page_still_shows():
    at = open_page("planning", {"by": "nowhere", "participants": "abc",
                                "program": "NOPE", "tab": "scenario"}, timeout=180)
    notices = _notices(at)
    assert len(at.info) >= 1 and len(notices) == 1
    for value in ("nowhere", "abc", "NOPE"):
        assert value in notices[0]
    assert "Release region" in notices[0]  # what is shown instead of the breakdown
    assert at.selectbox(key="plan_by").value == "release_region"
    assert at.number_input(key="plan_participants").value == 100
    assert len(frames(at)) == 1  # the scenario's table


def test_a_bad_scenario_value_in_the_link_is_named_with_what_is_used_instead():
    at = open_page("planning", {"years": "0", "cost_per_day": "-5",
                                "custody_days": "soon", "tab": "scenario"}, timeout=180)
    (notice,) = _notices(at)
    assert "“0” years, not a whole number from 1 to 30: 5 is used" in notice
    assert "“-5” is not an amount from 0 to 1000000: the cost is left empty" in notice
    assert "“soon” is not a number from 1 to 36500" in notice
    assert "time observed in the records is used" in notice
    assert at.number_input(key="plan_years").value == 5
    assert at.number_input(key="plan_cost_per_day").value is None


def test_a_large_k_hides_small_counts():
    at = open_page("planning", {"k": "100", "by": "facility"}, timeout=180)
    forecast, backtest, hazard, _ = _tables(at)
    upcoming = forecast["Upcoming releases (next 12 months)"].astype(str)
    assert "<100" in set(upcoming)
    assert all(v in ("<100", "hidden", "0") or int(v) >= 100 for v in upcoming)
    counts = hazard["Reoffended in the month"].astype(str)
    assert counts.isin(["<100", "hidden"]).any()
    assert all(v in ("<100", "hidden", "0") or int(v) >= 100 for v in counts)
    assert any("<100" in c.value for c in open_page("planning", {"k": "100"}).caption)


def test_groups_too_small_for_a_forecast_are_named_not_shown():
    at = open_page("planning", {"k": "1000", "by": "facility"}, timeout=180)
    assert any("No forecast for groups of fewer than 1000 people" in as_read(i.value)
               and "Northgate Prison" in as_read(i.value) for i in at.info)
    # only everyone together, at three horizons: no facility has 1,000 people
    assert list(frames(at)[0]["Facility"]) == ["all releases"] * 3


def test_a_scenario_whose_effect_is_not_significant_says_it_may_change_nothing(demo_db):
    with connect_readonly(demo_db) as con:
        codes = list(scenario_programmes(con, ViewFilters())["program_id"])
        unproven = next(code for code in codes
                        if planning_scenario(con, ViewFilters(), program=code).may_change_nothing)
    at = open_page("planning", {"program": unproven, "tab": "scenario"}, timeout=180)
    warnings = [as_read(w.value) for w in at.warning]
    assert any("may change nothing" in w and unproven in w for w in warnings)


@pytest.fixture(scope="module")
def served_study(demo_db, tmp_path_factory):
    """A copy of the demo with access control: a regional planner and a donor."""
    db = tmp_path_factory.mktemp("planning-roles") / "study.duckdb"
    shutil.copy(demo_db, db)
    write_default_config(db)
    store = AccountStore.for_database(db, hasher=PasswordHasher(time_cost=1,
                                                                memory_cost=8192))
    store.add("capital", "planner", password=PASSWORD, regions=("Capital",))
    store.add("gf-desk", "donor", password=PASSWORD, funders=("Global Fund",))
    return db


def _run_as(db, name: str, monkeypatch) -> AppTest:
    monkeypatch.setenv("DESIST_DB", str(db))
    account = AccountStore.for_database(db).get(name)
    at = AppTest.from_file(str(APP), default_timeout=180)
    at.session_state["access_session"] = start_session(account, load_access_config(db))
    return at.switch_page("app_pages/planning.py").run()


def test_a_regional_planner_sees_only_their_region(served_study, monkeypatch):
    at = _run_as(served_study, "capital", monkeypatch)
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [TITLE]
    forecast, backtest, hazard, _ = _tables(at)
    for table in (forecast, backtest, hazard):
        assert set(table["Release region"]) == {"Capital"}


def test_a_donor_cannot_open_the_page(served_study, monkeypatch):
    at = _run_as(served_study, "gf-desk", monkeypatch)
    assert at.error or at.warning
    assert not at.dataframe and not at.get("plotly_chart")
    assert TITLE not in [t.value for t in at.title]
