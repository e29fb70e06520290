"""Names from the data are shown as text on every page, never as Markdown or HTML.

Issue 12: a programme named ``![t](http://OTHER-HOST/x.png)`` was rendered as an image in
the Impact page heading (the browser fetched it). Each Markdown element of every page
is rendered here with a CommonMark parser (raw HTML on, as a permissive renderer would)
on the hostile study of :mod:`tests.dashboard.hostile`: no image, link or formatting may
come out of a name. ``tests/browser/test_dashboard.py`` checks the same in chromium.
"""

from __future__ import annotations

import html
import re

import pytest
from hypothesis import given
from hypothesis import strategies as st
from markdown_it import MarkdownIt

from dashboard.safe_text import MARKDOWN_CHARACTERS, WORD_JOINER, md_literal
from tests.dashboard.hostile import OTHER_HOST, hostile_db  # noqa: F401  (fixture)
from tests.dashboard.pages import each_tab, open_page

MARKDOWN = MarkdownIt("commonmark").enable(["table", "strikethrough"])
#: Element kinds whose text Streamlit renders as Markdown.
MARKDOWN_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "warning",
                     "info", "error", "success")
#: What a rendered name must never produce (the templates' own **bold** and `code` are
#: allowed; the property tests above show that no name makes either).
INJECTED = ("<img", "<a ", "<b>", "<i>", "<sup>", "<span", "<em>", "<del>",
            "<h1", "<h2", "<blockquote", "<ul", "<ol", "<table")

# Letters, Markdown's punctuation, spaces, line breaks and a few controls.
_TEXT = st.lists(st.sampled_from([*"ab1 ", *MARKDOWN_CHARACTERS, *",;'\"@%/?", "\n", "\t",
                                   "\x1b", "www.", "http://", "<b>", "![x](y)", "&amp;"]),
                 max_size=30).map("".join)


def _as_read(text: str) -> str:
    """What a reader should see: each run of controls one space, outer spaces gone."""
    return re.sub(r"[\x00-\x1f]+", " ", text).strip()


@given(_TEXT)
def test_any_text_renders_as_exactly_its_characters(text):
    rendered = MARKDOWN.render(md_literal(text))
    expected = _as_read(text)
    if not expected:
        assert rendered == ""
        return
    escaped = html.escape(expected, quote=False).replace('"', "&quot;")
    # Spaces inside the text may be collapsed at line ends only; none are here.
    assert rendered.replace(WORD_JOINER, "") == f"<p>{escaped}</p>\n"


@given(_TEXT)
def test_no_address_can_become_a_link(text):
    shown = md_literal(text).replace("\\", "")  # as the parser reads it, escapes resolved
    # GFM's autolinks need "://", "www." or "@" right before a letter.
    assert not re.search(r"://|www\.|@(?!\u2060)", shown, re.IGNORECASE), shown


@pytest.mark.parametrize("value, shown", [
    ("![t](http://other-host.invalid/x.png)", "![t](http://other-host.invalid/x.png)"),
    ("<b>North</b> & Co", "<b>North</b> & Co"),
    ("Marigold &amp; women", "Marigold &amp; women"),
    ("**bold** _it_ `code` ~~x~~ $x$ :red[y]", "**bold** _it_ `code` ~~x~~ $x$ :red[y]"),
    ("# title\n- item\n1. one", "# title - item 1. one"),
    (None, ""),
])
def test_examples(value, shown):
    rendered = MARKDOWN.render(md_literal(value)).replace(WORD_JOINER, "")
    assert rendered == (f"<p>{html.escape(shown, quote=False)}</p>\n" if shown else "")


def _markdown_texts(at) -> list[str]:
    # The Data page's methodology sections are the project's own documentation.
    documentation = {str(e.value) for expander in at.expander for e in expander.markdown}
    return [str(element.value) for kind in MARKDOWN_ELEMENTS for element in at.get(kind)
            if str(element.value) not in documentation]


def _assert_shown_as_text(at, where: str) -> None:
    texts = _markdown_texts(at)
    assert texts, where
    for text in texts:
        rendered = MARKDOWN.render(text)
        assert not any(tag in rendered for tag in INJECTED), (where, text, rendered)
        assert f"http://{OTHER_HOST}" not in text, (where, text)  # no autolink either


@pytest.mark.parametrize("page, query", [
    ("overview", {}),
    ("recidivism", {"by": "education_level"}),
    ("recidivism", {"by": "facility"}),
    ("programs", {}),
    ("impact", {}),
    ("subgroups", {}),
    ("planning", {}),
    ("services", {}),
    ("data", {}),
])
def test_every_page_shows_hostile_names_as_text(hostile_db, monkeypatch, page, query):  # noqa: F811
    monkeypatch.setenv("DESIST_DB", str(hostile_db))
    at = open_page(page, query, timeout=180)
    for shown in each_tab(at, page):  # a page draws only its open tab
        _assert_shown_as_text(shown, f"{page}, tab {shown.session_state[f'{page}-tab']}"
                              if shown.tabs else page)


def test_impact_heading_names_the_programme_literally(hostile_db, monkeypatch):  # noqa: F811
    monkeypatch.setenv("DESIST_DB", str(hostile_db))
    at = open_page("impact", {"program": "COMM-DRUG"}, timeout=180)
    heading = MARKDOWN.render(at.subheader[0].value).replace(WORD_JOINER, "")
    assert (f"![COMM-DRUG](http://{OTHER_HOST}/COMM-DRUG.png) &lt;b&gt;Community drug "
            "treatment (alternative to custody)&lt;/b&gt; &amp; co") in heading
