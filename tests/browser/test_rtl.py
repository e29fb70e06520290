"""In a real browser: the document takes the interface's language and direction, Arabic
lays the page out right to left, filter chips lose the end of a long name (not its start),
and a link's unusable values are named in one translated notice, not Streamlit's dialog."""

from __future__ import annotations

from urllib.parse import quote

import pytest

from tests.browser.test_dashboard import local_only_context, streamlit_server
from tests.browser.test_report_offline import browser  # noqa: F401  (fixture)

#: Long facility names of the demo: their chips in the sidebar are cut.
LONG_NAMES = ("Marigold Women's Prison", "Hillcrest High-Security Prison")
CHIPS = '[data-testid="stMultiSelectTagsContainer"] [data-tag] > span[title]'
DOCUMENT = "() => [document.documentElement.lang, document.documentElement.dir]"

#: For each chip: its direction and overflow styles, whether its text is cut, and whether
#: its first and its last letter lie inside the chip (a cut name loses one of the two).
CHIP_GEOMETRY = """(selector) => [...document.querySelectorAll(selector)].map(span => {
    const box = span.getBoundingClientRect(), text = span.firstChild, style = getComputedStyle(span);
    const letter = (i) => { const r = document.createRange(); r.setStart(text, i);
                            r.setEnd(text, i + 1); return r.getBoundingClientRect(); };
    const inside = (r) => r.left >= box.left - 0.5 && r.right <= box.right + 0.5;
    return {text: span.textContent, overflow: style.textOverflow, bidi: style.unicodeBidi,
            cut: span.scrollWidth > span.clientWidth,
            first: inside(letter(0)), last: inside(letter(text.length - 1))};
})"""


@pytest.fixture(scope="module")
def server(tmp_path_factory, request):
    demo_db = request.getfixturevalue("demo_db")
    with streamlit_server(demo_db, tmp_path_factory.mktemp("rtl-streamlit")) as started:
        yield started[0]


def _open(page, url: str) -> None:
    page.goto(url)
    page.wait_for_selector('[data-testid="stHeading"] h1', timeout=60_000)
    page.wait_for_function(
        "!document.querySelector('[data-testid=\"stStatusWidget\"]')", timeout=120_000)


def test_arabic_sets_the_document_right_to_left_and_chips_keep_a_name_s_start(
        browser, server):  # noqa: F811
    context, outside = local_only_context(browser)
    page = context.new_page()
    facilities = ",".join(quote(name) for name in LONG_NAMES)
    _open(page, f"{server}/?lang=ar&facility={facilities}")
    page.wait_for_function(f"() => ({DOCUMENT})().join() === 'ar,rtl'", timeout=30_000)

    sidebar = page.locator('[data-testid="stSidebar"]').bounding_box()
    main = page.locator('[data-testid="stMain"]').bounding_box()
    assert sidebar["x"] > main["x"], "the sidebar is on the right"
    assert page.evaluate("getComputedStyle(document.querySelector("
                         "'[data-testid=\"stSidebar\"]')).direction") == "rtl"

    # The chips are drawn after the document's direction is set: wait for both of them.
    page.wait_for_function(f"document.querySelectorAll('{CHIPS}').length === {len(LONG_NAMES)}",
                           timeout=60_000)
    chips = page.evaluate(CHIP_GEOMETRY, CHIPS)
    assert sorted(chip["text"] for chip in chips) == sorted(LONG_NAMES)
    assert any(chip["cut"] for chip in chips), "the test needs a name too long for its chip"
    for chip in chips:
        # "Marigold Women'…", never "…old Women's Prison"
        assert chip["first"], chip
        assert chip["last"] or chip["cut"], chip
        assert chip["overflow"] == "ellipsis" and chip["bidi"] == "plaintext", chip

    # The table's buttons follow the page: the first (CSV) is the right-most.
    csv = page.locator('[data-testid="stDownloadButton"]', has_text="CSV").first.bounding_box()
    xlsx = page.locator('[data-testid="stDownloadButton"]', has_text="XLSX").first.bounding_box()
    assert csv["x"] > xlsx["x"]
    assert outside == []
    context.close()


def test_switching_back_to_english_sets_the_document_left_to_right(browser, server):  # noqa: F811
    context, _ = local_only_context(browser)
    page = context.new_page()
    _open(page, f"{server}/?lang=ar")
    page.wait_for_function(f"() => ({DOCUMENT})().join() === 'ar,rtl'", timeout=30_000)
    page.locator('[data-testid="stSidebar"] [data-testid="stSelectbox"]').first.click()
    page.get_by_role("option", name="English").click()
    page.wait_for_function(f"() => ({DOCUMENT})().join() === 'en,ltr'", timeout=30_000)
    page.wait_for_selector('h1:has-text("Overview")', timeout=60_000)
    assert page.evaluate("getComputedStyle(document.querySelector("
                         "'[data-testid=\"stSidebar\"]')).direction") == "ltr"
    context.close()


def test_an_unknown_page_and_bad_values_are_named_in_one_translated_notice(
        browser, server):  # noqa: F811
    context, _ = local_only_context(browser)
    page = context.new_page()
    _open(page, f"{server}/no-such-page?lang=fr&k=abc")
    page.wait_for_function(f"() => ({DOCUMENT})().join() === 'fr,ltr'", timeout=30_000)
    assert page.locator("h1").first.inner_text() == "Vue d'ensemble"
    notices = page.locator('[data-testid="stAlert"]', has_text="no-such-page")
    assert notices.count() == 1
    text = notices.inner_text()
    assert "Il n'y a pas de page « no-such-page »" in text
    assert "« abc »" in text and "k = 10 est utilisé" in text
    # Streamlit's own "Page not found" dialog (always in English) is not shown.
    assert page.locator('[role="dialog"]').count() == 0
    context.close()
