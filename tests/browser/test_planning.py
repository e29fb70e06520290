"""In a real browser: the Planning page in Arabic (right to left) and in French shows its
translated title, the forecast table and, in each of its tabs, a chart and a table, no
English, and fetches nothing from outside this machine (nor does the server)."""

from __future__ import annotations

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

DOCUMENT = "() => [document.documentElement.lang, document.documentElement.dir]"


@pytest.fixture(scope="module")
def served(tmp_path_factory, demo_db):
    with streamlit_server(demo_db, tmp_path_factory.mktemp("planning-streamlit")) as started:
        yield (*started, data_values(demo_db))


#: Each tab's chart and table: the forecast, its backtest, the hazard, the scenario.
TABS = ("Expected reoffences", "How far to trust it", "When support matters",
        "Scale-up scenario")


@pytest.mark.parametrize(("language", "direction"), [("ar", "rtl"), ("fr", "ltr")])
def test_the_planning_page_in_arabic_and_french_stays_offline(
        browser, served, language, direction):  # noqa: F811
    address, server_outside, values = served
    words = catalog(language)
    context, outside = local_only_context(browser)
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    open_finished(page, f"{address}/planning?lang={language}", CHART)
    page.wait_for_function(f"() => ({DOCUMENT})().join() === '{language},{direction}'",
                           timeout=60_000)
    assert page.locator('[data-testid="stHeading"] h1').first.inner_text() == words["Planning"]
    assert tab_labels(page) == [words[label] for label in TABS]
    if direction == "rtl":
        sidebar = page.locator('[data-testid="stSidebar"]').bounding_box()
        main = page.locator('[data-testid="stMain"]').bounding_box()
        assert sidebar["x"] > main["x"], "the sidebar is on the right"
    texts: list[str] = []
    # Only the open tab is drawn: each is opened, and read once its run has finished.
    for label, _content in each_tab(page):
        for drawn in (CHART, TABLE):  # the chart and the table of the tab
            page.locator(f"{OPEN_PANEL} {drawn}").first.wait_for(state="attached",
                                                                 timeout=120_000)
        if label == words["Expected reoffences"]:
            headings = page.locator('[data-testid="stHeading"]').all_inner_texts()
            assert any(words["Expected first reoffences and returns to custody"] in h
                       for h in headings), headings
            # the forecast table (a canvas grid: read from its accessible table)
            forecast = table_cells(page, 0)
            assert words["Expected returns to custody"] in forecast
            assert words["Months ahead"] in forecast
            assert "Capital" in forecast  # a region, from the data
        texts += texts_in_view(page)
    problems = english_problems(texts, EnglishTexts(language), values)
    context.close()
    assert not problems, problems
    assert outside == [], outside
    assert not errors, errors
    assert server_outside.read_text() == "", "the server tried to reach other hosts"
