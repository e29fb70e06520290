"""The router, the sidebar filters and D1's pages, run headless with AppTest."""

from __future__ import annotations

import pytest
from streamlit.testing.v1 import AppTest

from tests.conftest import DEMO_RELEASES
from tests.dashboard.conftest import APP
from tests.dashboard.pages import as_read, each_tab

ALL_PAGES = ("overview", "recidivism", "programs", "impact", "subgroups", "planning", "services", "data")


def metrics(app) -> dict[str, str]:
    return {m.label: m.value for m in app.metric}


def test_every_page_of_the_router_runs(app):
    app.run()
    assert not app.exception
    assert app.title[0].value == "Overview"
    for name in ALL_PAGES:
        app.switch_page(f"app_pages/{name}.py").run()
        assert not app.exception, (name, app.exception)
        assert not app.error, (name, [e.value for e in app.error])
        assert app.title, name


def test_overview_headline_and_a_filter_change(app):
    app.run()
    before = metrics(app)
    assert before["Releases"] == f"{DEMO_RELEASES:,}"
    assert before["Reoffended within 1 year"].endswith("%")
    assert "Reoffending means the first" in app.markdown[0].value
    assert len(app.get("download_button")) == 4  # CSV + XLSX for two tables
    app.sidebar.multiselect(key="flt_sexes").set_value(["F"]).run()
    after = metrics(app)
    assert int(after["Releases"].replace(",", "")) < DEMO_RELEASES
    assert after["Reoffended within 1 year"] != before["Reoffended within 1 year"]
    assert app.query_params["sex"] in ("F", ["F"])


def test_tiny_selection_is_suppressed_with_a_warning(app):
    app.run()
    app.sidebar.multiselect(key="flt_facilities").set_value(["Probation Service"])
    app.sidebar.multiselect(key="flt_sexes").set_value(["F"])
    app.sidebar.multiselect(key="flt_age_bands").set_value(["55+"]).run()
    assert not app.exception
    shown = metrics(app)
    assert shown["Releases"] == "<10" and shown["People"] == "<10"
    assert shown["Reoffended within 1 year"] == "suppressed"
    assert any("Small sample" in w.value for w in app.warning)


def test_link_opens_the_same_view_and_k_is_configurable(demo_db, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(demo_db))
    app = AppTest.from_file(str(APP), default_timeout=90)
    app.query_params["sex"] = "F"
    app.query_params["k"] = "600"
    app.query_params["facility"] = "No such prison"
    app.run()
    assert not app.exception
    assert app.sidebar.multiselect(key="flt_sexes").value == ["F"]
    assert app.sidebar.multiselect(key="flt_facilities").value == []
    assert app.sidebar.number_input(key="flt_k").value == 600
    women = metrics(app)["Releases"]
    assert women == "<600" or int(women.replace(",", "")) >= 600
    assert app.query_params["k"] in ("600", ["600"])


@pytest.mark.parametrize("method", ["km", "cif"])
def test_recidivism_page_by_sex(app, method):
    app.run()
    app.switch_page("app_pages/recidivism.py").run()
    app.selectbox(key="rec_by").set_value("sex")
    app.radio(key="rec_method").set_value(method).run()
    assert not app.exception
    assert any("Log-rank test across the 2 groups" in as_read(m.value) for m in app.markdown)
    assert app.query_params["by"] in ("sex", ["sex"])
    assert len(app.get("plotly_chart")) == 1
    assert len(app.dataframe) == 2  # numbers at risk, horizons


def test_recidivism_page_shows_small_groups_as_suppressed(app):
    app.run()
    app.sidebar.multiselect(key="flt_sexes").set_value(["F"])
    app.sidebar.number_input(key="flt_k").set_value(60).run()
    app.switch_page("app_pages/recidivism.py").run()
    app.selectbox(key="rec_by").set_value("age_band").run()
    assert not app.exception
    assert any("Not estimated (fewer than 60 releases): " in i.value
               and "55+" in as_read(i.value) for i in app.info)
    assert app.dataframe[1].value.set_index("Group").loc["55+", "Releases"] == "<60"


def test_subgroups_page(app):
    app.run()
    app.switch_page("app_pages/subgroups.py").run()
    assert not app.exception
    assert app.title[0].value == "Subgroups and places"
    # only the open tab is drawn: the cross-table first, then each tab when opened
    drawn = {}
    for opened in each_tab(app, "subgroups"):
        label = opened.session_state["subgroups-tab"]
        drawn[label] = (len(opened.dataframe), len(opened.get("plotly_chart")))
        if label == "Sex × age band × offense":
            assert (opened.dataframe[0].value["Releases"] == "<10").any()
    assert drawn == {"Sex × age band × offense": (1, 0),
                     "Facilities and regions": (2, 2),  # facilities, regions
                     "Release cohorts": (1, 1)}


def test_missing_database_is_explained(monkeypatch, tmp_path):
    monkeypatch.setenv("DESIST_DB", str(tmp_path / "none.duckdb"))
    app = AppTest.from_file(str(APP), default_timeout=30).run()
    assert not app.exception
    assert "no database" in app.error[0].value
