"""In a real browser: the Services and coverage page in Arabic (right to left) and in
French shows its translated title and headings, the coverage table, the map of gaps
drawn from the study's own region outlines, no English, and fetches nothing from
outside this machine (nor does the server)."""

from __future__ import annotations

import duckdb
import pytest

from analysis.i18n import catalog
from tests.browser.test_dashboard import CHART, TABLE, local_only_context, streamlit_server
from tests.browser.test_no_english import (
    GRID,
    EnglishTexts,
    data_values,
    english_problems,
    open_finished,
    shown_texts,
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
    page.wait_for_function(f"document.querySelectorAll('{TABLE}').length >= 5",
                           timeout=180_000)
    title = page.locator('[data-testid="stHeading"] h1').first.inner_text()
    assert title == words["Services and coverage"]
    headings = page.locator('[data-testid="stHeading"]').all_inner_texts()
    for heading in ("Coverage by region", "Services for women", "Referral follow-through"):
        assert any(words[heading] in h for h in headings), heading
    assert page.locator(CHART).count() >= 3  # the map, capacity against demand, the funnel
    assert page.locator(FILLED).count() >= 8  # one filled outline per region
    coverage = page.evaluate(GRID, 0)
    assert words["Releases in the last 12 months"] in coverage
    assert "Capital" in coverage  # a region, from the data
    if direction == "rtl":
        sidebar = page.locator('[data-testid="stSidebar"]').bounding_box()
        main = page.locator('[data-testid="stMain"]').bounding_box()
        assert sidebar["x"] > main["x"], "the sidebar is on the right"
    problems = english_problems(shown_texts(page), EnglishTexts(language), values)
    context.close()
    assert not problems, problems
    assert outside == [], outside
    assert not errors, errors
    assert server_outside.read_text() == "", "the server tried to reach other hosts"
