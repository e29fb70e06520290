"""A real browser opens the services guide: Arabic right to left, French words, no request.

Uses Debian's chromium (installed by tests/system-packages.sh) through Playwright; no
browser is downloaded. Every request the page makes is routed: the only one allowed is
the guide's own file, anything else is refused and fails the test.
"""

from __future__ import annotations

import os
import shutil

import pytest

from analysis.services.guide import write_guide
from tests.services.test_guide import HOSTILE_TAG, directory_db

CHROMIUM = os.environ.get("DESIST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
#: A name that would load an image if it were ever inserted as markup.
IMAGE_TAG = '<img src="http://example.invalid/tracker.png">'

#: Where each region heading's text sits inside its heading box (left and right gaps).
_HEADING_GAPS = """
() => [...document.querySelectorAll('section.region > h2')].map(heading => {
    const box = heading.getBoundingClientRect();
    const range = document.createRange();
    range.selectNodeContents(heading);
    const text = range.getBoundingClientRect();
    return {left: text.left - box.left, right: box.right - text.right,
            heading: heading.innerText};
})
"""


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"no chromium at {CHROMIUM}: install Debian's 'chromium' package "
            "(tests/system-packages.sh does)")
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


@pytest.fixture(scope="module")
def guides(tmp_path_factory):
    folder = tmp_path_factory.mktemp("guide")
    con = directory_db()
    con.execute("INSERT INTO providers VALUES ('P-IMG', ?, 'ngo', ['South'], NULL, NULL, "
                "NULL, NULL, 'b1')", [IMAGE_TAG])
    try:
        return {language: write_guide(con, language, folder / f"guide-{language}.html")
                for language in ("ar", "fr")}
    finally:
        con.close()


@pytest.fixture()
def opened(browser, guides):
    """Open a guide; yields (page, requests) where requests are every URL asked for."""
    contexts = []

    def open_guide(language: str):
        path = guides[language]
        context = browser.new_context(viewport={"width": 1000, "height": 900})
        contexts.append(context)
        requests: list[str] = []
        refused: list[str] = []
        context.on("request", lambda request: requests.append(request.url))

        def only_the_file(route):
            if route.request.url == path.as_uri():
                route.continue_()
            else:
                refused.append(route.request.url)
                route.abort()

        context.route("**/*", only_the_file)
        page = context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        page.goto(path.as_uri(), wait_until="load")
        page.wait_for_timeout(300)  # any late request (an image, a font) would show now
        assert not errors, errors
        return page, requests, refused, path

    yield open_guide
    for context in contexts:
        context.close()


@pytest.mark.parametrize("language", ["ar", "fr"])
def test_the_guide_asks_for_nothing_but_itself(opened, language):
    page, requests, refused, path = opened(language)
    assert refused == []
    assert requests == [path.as_uri()]
    # the hostile names are on the page as their characters, not as elements
    text = page.inner_text("body")
    assert HOSTILE_TAG in text and IMAGE_TAG in text
    assert page.locator("img, b, script, link, iframe").count() == 0


def test_the_arabic_guide_reads_right_to_left_with_headings_at_the_right(opened):
    page, *_ = opened("ar")
    assert page.evaluate("document.documentElement.dir") == "rtl"
    assert page.evaluate("document.documentElement.lang") == "ar"
    assert page.evaluate("getComputedStyle(document.body).direction") == "rtl"
    gaps = page.evaluate(_HEADING_GAPS)
    assert [g["heading"] for g in gaps] == ["جميع المناطق", "Capital", "North Coast", "South"]
    for gap in gaps:  # flush with the right edge, far from the left one
        assert gap["right"] < 2 and gap["left"] > 300, gap
    assert "جميع المناطق" in page.inner_text("nav")


def test_the_french_guide_shows_french_words_from_the_left(opened):
    page, *_ = opened("fr")
    assert page.evaluate("document.documentElement.dir") == ""
    assert page.evaluate("getComputedStyle(document.body).direction") == "ltr"
    text = page.inner_text("body")
    for words in ("Répertoire des services après la libération", "Toutes les régions",
                  "Sommaire", "Comment utiliser ce guide", "logement",
                  "traitement des addictions", "organisation non gouvernementale",
                  "Places par an", "Téléphone", "Autres organisations"):
        assert words in text, words
    for gap in page.evaluate(_HEADING_GAPS):
        assert gap["left"] < 2 and gap["right"] > 300, gap


def test_printed_each_region_starts_a_new_page(opened):
    page, *_ = opened("fr")
    page.emulate_media(media="print")
    breaks = page.evaluate("[...document.querySelectorAll('section.region')]"
                           ".map(s => getComputedStyle(s).breakBefore)")
    assert breaks == ["page"] * 4
    # the contents link to each region
    page.emulate_media(media="screen")
    page.click("nav a[href='#region-3']")
    assert page.evaluate("location.hash") == "#region-3"
