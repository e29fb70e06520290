"""Services and coverage page (Streamlit AppTest): coverage, services, women, referral
follow-through and the comparison, in English, French and Arabic; an empty state naming
the files to add; the filters in the URL; names from the data shown as text."""

from __future__ import annotations

import json
import shutil

import pytest
from argon2 import PasswordHasher
from markdown_it import MarkdownIt
from streamlit.testing.v1 import AppTest

from analysis.access.accounts import AccountStore
from analysis.access.config import load_access_config, write_default_config
from analysis.access.identity import start_session
from analysis.charts.style import plotly_text
from analysis.store import connect_readonly
from analysis.views.filters import ViewFilters
from analysis.views.services import services_coverage_view, services_span
from dashboard.i18n import catalog
from tests.dashboard.conftest import APP
from tests.dashboard.hostile import REGIONS, hostile_db  # noqa: F401  (fixture)
from tests.dashboard.pages import Drawn, as_read, drawn_in_every_tab, frames, open_page
from tests.dashboard.test_i18n import _english_words, _figure_texts
from tests.views.test_services_views import HOSTILE_PROVIDER, HOSTILE_SERVICE, services_study

TITLE = "Services and coverage"
SECTIONS = ("Coverage by region", "Services for women", "Referral follow-through",
            "Reoffending of those who reached a service")
TABS = ("Coverage by region", "Services in the region", "Services for women",
        "Referral follow-through", "Reoffending compared")


@pytest.fixture(scope="module")
def study(demo_db, tmp_path_factory):
    return services_study(demo_db, tmp_path_factory.mktemp("services-page"))


@pytest.fixture(scope="module")
def regions(study):
    """The regions as the page lists them, the data's span, and a region other than the
    first where the employment service is offered."""
    with connect_readonly(study) as con:
        shown = services_coverage_view(con, ViewFilters())
        (employment,) = con.execute("SELECT regions FROM services WHERE service_id = 'S3'"
                                    ).fetchone()
        other = next(r for r in shown.regions[1:] if r in employment)
        return shown.regions, services_span(con, ViewFilters()), other


def _notices(at: AppTest) -> list[str]:
    return [as_read(info.value) for info in at.info if "link" in str(info.proto.icon)]


def _texts(at: AppTest | Drawn) -> list[str]:
    return [*(m.value for m in at.markdown), *(c.value for c in at.caption),
            *(i.value for i in at.info), *(w.value for w in at.warning),
            *(s.value for s in at.subheader)]


@pytest.mark.parametrize("language", ["en", "fr", "ar"])
def test_the_page_shows_coverage_services_follow_through_and_comparison(study, monkeypatch,
                                                                        language):
    monkeypatch.setenv("DESIST_DB", str(study))
    page = open_page("services", {"lang": language} if language != "en" else {}, timeout=240)
    words = catalog(language)
    assert [t.value for t in page.title] == [words.get(TITLE, TITLE)]
    assert len(page.get("plotly_chart")) == 1  # only the open tab is drawn: the map
    at = drawn_in_every_tab(page, "services")
    assert at.tabs == [words.get(s, s) for s in TABS]
    subheaders = [s.value for s in at.get("subheader")]
    for section in SECTIONS:
        assert words.get(section, section) in subheaders
    assert len(at.get("plotly_chart")) == 3  # the map, capacity against demand, the funnel
    coverage, supply, directory, women, follow = at.frames[:5]
    assert len(coverage) == 8 and len(women) == 8 and len(follow) > 0
    assert len(directory) == 4  # two services of the region, two national
    honesty = words.get("**Honesty rules:** {verdict}.", "**Honesty rules:** {verdict}.")
    assert any(m.value.startswith(honesty.split("{")[0]) for m in at.get("markdown"))
    if language == "en":
        assert "Releases in the last 12 months" in coverage.columns
        assert any("docs/services.md" in c.value for c in at.get("caption"))
        return
    whole, pieces = _english_words(language)
    found = [("header", c) for frame in at.frames for c in frame.columns if str(c) in whole]
    found += [("chart", text) for chart in at.get("plotly_chart")
              for text in _figure_texts(chart) if text in whole]
    found += [("text", piece) for text in _texts(at) for piece in pieces
              if piece in as_read(text)]
    assert not found, found


def test_without_services_the_page_says_which_files_to_add(demo_db, tmp_path, monkeypatch):
    db = services_study(demo_db, tmp_path, services=False)
    monkeypatch.setenv("DESIST_DB", str(db))
    at = drawn_in_every_tab(open_page("services", timeout=240), "services")
    said = " ".join(as_read(i.value) for i in at.get("info"))
    for file in ("providers.csv", "services.csv", "referrals.csv", "regions.geojson"):
        assert file in said
    assert not at.get("plotly_chart")  # no map without outlines, no service to chart
    assert len(at.frames[0]) == 8  # the releases and needs of every region still show


def test_the_filters_come_from_the_link_and_stay_in_it(study, regions, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(study))
    names, span, other = regions
    as_of = span.last.replace(day=1).isoformat()
    link = {"service_region": other, "service_type": "employment", "as_of": as_of}
    at = open_page("services", link, timeout=240)
    assert not _notices(at)
    assert at.selectbox(key="svc_region").value == other
    assert at.selectbox(key="svc_type").value == "employment"
    assert at.date_input(key="svc_as_of").value.isoformat() == as_of
    for key, value in link.items():
        assert at.query_params[key] in (value, [value]), key
    supply = frames(open_page("services", {**link, "tab": "region"}, timeout=240))[0]
    assert list(supply["Service type"]) == ["employment support"]
    assert any(as_of in c.value for c in at.caption)
    at.selectbox(key="svc_type").set_value("housing").run()
    assert at.query_params["service_type"] in ("housing", ["housing"])
    at.selectbox(key="svc_region").set_value(names[0]).run()  # the default: left out
    assert "service_region" not in at.query_params


def test_bad_link_values_are_named_in_one_notice(study, regions, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(study))
    at = open_page("services", {"service_region": "Atlantis", "service_type": "magic",
                                "as_of": "1900-01-01"}, timeout=240)
    (notice,) = _notices(at)
    for value in ("Atlantis", "magic", "1900-01-01", regions[0][0], regions[1].last.isoformat()):
        assert value in notice, value
    assert at.selectbox(key="svc_region").value == regions[0][0]
    assert at.selectbox(key="svc_type").value == ""


COVERAGE_COUNTS = ("Releases in the last 12 months", "Expected releases in the next 12 months",
                   "Releases: drug offence", "Releases: women", "Releases: under 25")
FOLLOW_COUNTS = ("Referred", "Reached (attended or completed)", "Completed", "Declined",
                 "Not available", "People referred", "Reached within 30 days of release")


def test_a_large_k_hides_small_counts(study, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(study))
    at = drawn_in_every_tab(open_page("services", {"k": "100"}, timeout=240), "services")
    coverage, follow = at.frames[0], at.frames[4]
    cells = [str(v) for frame, columns in ((coverage, COVERAGE_COUNTS), (follow, FOLLOW_COUNTS))
             for column in columns for v in frame[column]]
    assert "<100" in cells
    assert all(v in ("<100", "hidden", "None") or int(v) == 0 or int(v) >= 100
               for v in cells), cells
    assert any("<100" in c.value for c in at.get("caption"))


MARKDOWN = MarkdownIt("commonmark")
INJECTED = ("<img", "<a ", "<b>", "<i>")


@pytest.fixture(scope="module")
def hostile_study(hostile_db, tmp_path_factory):  # noqa: F811 - the fixture
    """The hostile study (names of regions carry markup) with the hand-made services."""
    return services_study(hostile_db, tmp_path_factory.mktemp("services-hostile"))


def test_names_from_the_data_are_shown_as_written(hostile_study, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(hostile_study))
    page = open_page("services", {"service_type": "drug_treatment"}, timeout=240)
    region = page.selectbox(key="svc_region").value
    assert region in REGIONS.values()
    at = drawn_in_every_tab(page, "services")
    directory = at.frames[2]
    assert list(directory["Provider"]) == [HOSTILE_PROVIDER]
    assert list(directory["Service"]) == [HOSTILE_SERVICE]
    assert region in set(at.frames[0]["Release region"])
    assert any(as_read(s.value) == f"Services in {region}" for s in at.get("subheader"))
    for kind in ("title", "subheader", "markdown", "caption", "warning", "info"):
        for element in at.get(kind):
            rendered = MARKDOWN.render(str(element.value))
            assert not any(tag in rendered for tag in INJECTED), rendered
    names = [name for chart in at.get("plotly_chart") for name in _trace_names(chart)]
    assert plotly_text(region) in names  # the map's outline of the region, as text
    assert region not in names


def _trace_names(chart) -> list[str]:
    return [trace.get("name") or "" for trace in json.loads(chart.proto.spec)["data"]]


@pytest.fixture(scope="module")
def served_study(study, tmp_path_factory):
    """The services study with access control: a regional planner and a donor."""
    db = tmp_path_factory.mktemp("services-roles") / "study.duckdb"
    shutil.copy(study, db)
    write_default_config(db)
    store = AccountStore.for_database(db, hasher=PasswordHasher(time_cost=1,
                                                                memory_cost=8192))
    store.add("capital", "planner", password="correct horse battery staple",
              regions=("Capital",))
    store.add("gf-desk", "donor", password="correct horse battery staple",
              funders=("Global Fund",))
    return db


def _run_as(db, name: str, monkeypatch, query: dict | None = None) -> AppTest:
    monkeypatch.setenv("DESIST_DB", str(db))
    account = AccountStore.for_database(db).get(name)
    at = AppTest.from_file(str(APP), default_timeout=240)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.session_state["access_session"] = start_session(account, load_access_config(db))
    return at.switch_page("app_pages/services.py").run()


def test_a_regional_planner_sees_only_their_region(served_study, regions, monkeypatch):
    other = next(r for r in regions[0] if r != "Capital")
    at = _run_as(served_study, "capital", monkeypatch, {"service_region": other})
    assert not at.exception, [e.value for e in at.exception]
    assert [t.value for t in at.title] == [TITLE]
    # the other region of the link reads as one that does not exist
    (notice,) = _notices(at)
    assert other in notice and "not among the regions shown" in notice
    at = drawn_in_every_tab(at, "services")
    coverage, supply, directory, women, follow = at.frames[:5]
    for table in (coverage, women, follow):
        assert set(table["Release region"]) == {"Capital"}
    map_names = [n for chart in at.get("plotly_chart") for n in _trace_names(chart)]
    assert "Capital" in map_names and other not in map_names


def test_a_donor_cannot_open_the_page(served_study, monkeypatch):
    at = _run_as(served_study, "gf-desk", monkeypatch)
    assert at.error or at.warning
    assert not at.dataframe and not at.get("plotly_chart")
    assert TITLE not in [t.value for t in at.title]
