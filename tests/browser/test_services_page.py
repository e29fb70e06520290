"""In a real browser: the Services and coverage page in Arabic (right to left) and in
French shows its translated title and, tab by tab, its headings, the coverage table, the
map of gaps drawn from the study's own region outlines and the other tabs' charts and
tables, no English, and fetches nothing from outside this machine (nor does the
server)."""

from __future__ import annotations

import duckdb
import pytest

from analysis.i18n import catalog
from tests.browser.grid import table_cells
from tests.browser.tabs import OPEN_PANEL, each_tab, tab_labels
from tests.browser.test_dashboard import CHART, TABLE, local_only_context, streamlit_server
from tests.browser.test_no_english import (
    EnglishTexts,
    data_values,
    english_problems,
    open_finished,
    texts_in_view,
)
from tests.browser.test_report_offline import browser  # noqa: F401  (fixture)
from tests.views.test_services_views import services_study

DOCUMENT = "() => [document.documentElement.lang, document.documentElement.dir]"
#: The filled outlines of a plotly scatter drawn with fill="toself".
FILLED = ".js-plotly-plot .scatterlayer .js-fill"


def _service_values(db) -> set[str]:
    """Text the services tables supply (names, contacts, languages): data, not English."""
    with duckdb.connect(str(db), read_only=True) as con:
        rows = con.execute(
            "SELECT name FROM providers UNION SELECT phone FROM providers "
            "UNION SELECT email FROM providers UNION SELECT website FROM providers "
            "UNION SELECT name FROM services "
            "UNION SELECT array_to_string(languages, ', ') FROM services").fetchall()
    return {v for (v,) in rows if v}


@pytest.fixture(scope="module")
def served(tmp_path_factory, demo_db):
    folder = tmp_path_factory.mktemp("services-streamlit")
    db = services_study(demo_db, folder)
    with streamlit_server(db, folder) as started:
        yield (*started, data_values(db) | _service_values(db))


#: Each tab and the charts and tables it draws at least (the first region is chosen):
#: the map of gaps and the coverage table; capacity against demand, the region's
#: services and who offers them; women's services; the referral funnel and its table;
#: the comparison's attrition.
TABS = (("Coverage by region", 1, 1), ("Services in the region", 1, 2),
        ("Services for women", 0, 1), ("Referral follow-through", 1, 1),
        ("Reoffending compared", 0, 1))
#: True once the open tab holds at least ``charts`` charts and ``tables`` tables.
DRAWN = f"""([charts, tables]) =>
  document.querySelectorAll('{OPEN_PANEL} {CHART}').length >= charts
  && document.querySelectorAll('{OPEN_PANEL} {TABLE}').length >= tables"""


@pytest.mark.parametrize(("language", "direction"), [("ar", "rtl"), ("fr", "ltr")])
def test_the_services_page_in_arabic_and_french_draws_the_map_offline(
        browser, served, language, direction):  # noqa: F811
    address, server_outside, values = served
    words = catalog(language)
    context, outside = local_only_context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_finished(page, f"{address}/services?lang={language}", CHART)
    page.wait_for_function(f"() => ({DOCUMENT})().join() === '{language},{direction}'",
                           timeout=60_000)
    title = page.locator('[data-testid="stHeading"] h1').first.inner_text()
    assert title == words["Services and coverage"]
    assert tab_labels(page) == [words[label] for label, _, _ in TABS]
    if direction == "rtl":
        sidebar = page.locator('[data-testid="stSidebar"]').bounding_box()
        main = page.locator('[data-testid="stMain"]').bounding_box()
        assert sidebar["x"] > main["x"], "the sidebar is on the right"
    texts: list[str] = []
    headings: list[str] = []
    # Only the open tab is drawn: each is opened, and read once its run has finished.
    for (label, charts, tables), (shown, _content) in zip(TABS, each_tab(page), strict=True):
        assert shown == words[label]
        page.wait_for_function(DRAWN, arg=[charts, tables], timeout=120_000, polling=250)
        headings += page.locator(f'{OPEN_PANEL} [data-testid="stHeading"]').all_inner_texts()
        if label == "Coverage by region":
            assert page.locator(FILLED).count() >= 8  # one filled outline per region
            coverage = table_cells(page, 0)
            assert words["Releases in the last 12 months"] in coverage
            assert "Capital" in coverage  # a region, from the data
        texts += texts_in_view(page)
    for heading in ("Coverage by region", "Services for women", "Referral follow-through"):
        assert any(words[heading] in h for h in headings), heading
    problems = english_problems(texts, EnglishTexts(language), values)
    context.close()
    assert not problems, problems
    assert outside == [], outside
    assert not errors, errors
    assert server_outside.read_text() == "", "the server tried to reach other hosts"
