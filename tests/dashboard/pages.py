"""Helpers for the page tests: open one page of the app with AppTest, and one of its tabs.

Pages with tabs (``dashboard.widgets.show_tabs``) draw only the open tab; its widget key
is ``"<page>-tab"`` and its value the tab's label as shown (in the page's language).
"""

from __future__ import annotations

import re
from collections import defaultdict
from collections.abc import Iterator
from pathlib import Path

from streamlit.testing.v1 import AppTest

from analysis.i18n import catalog
from dashboard.safe_text import WORD_JOINER

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py")


def open_page(page: str, query: dict[str, str] | None = None, timeout: float = 60,
              tab: str | None = None) -> AppTest:
    """Run the router, switch to ``app_pages/<page>.py`` and return the finished AppTest.

    ``tab``: the English label of the tab to open (translated into the link's ``lang``).
    """
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    if tab is not None:
        language = (query or {}).get("lang", "en")
        label = tab if language == "en" else catalog(language).get(tab, tab)
        open_tab(at, page, label)
    return at


def tab_key(page: str) -> str:
    """The widget key of ``page``'s tabs."""
    return f"{page}-tab"


def open_tab(at: AppTest, page: str, label: str) -> AppTest:
    """Open the tab shown as ``label`` on ``page`` (already open in ``at``) and run."""
    labels = [tab.label for tab in at.tabs]
    assert label in labels, (label, labels)
    at.session_state[tab_key(page)] = label
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.session_state[tab_key(page)] == label
    return at


def each_tab(at: AppTest, page: str) -> Iterator[AppTest]:
    """``at`` with each of ``page``'s tabs open in turn (just ``at`` for a page without)."""
    labels = [tab.label for tab in at.tabs]
    if not labels:
        yield at
        return
    for label in labels:
        yield open_tab(at, page, label)


def as_read(markdown: str) -> str:
    """A Markdown source as the reader sees it: escapes resolved, word joiners gone.

    Data text reaches Markdown through :func:`dashboard.safe_text.md_literal`.
    """
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


def frames(at: AppTest) -> list:
    """Every DataFrame shown on the page."""
    return [element.value for element in at.dataframe]


#: Element kinds :func:`drawn_in_every_tab` keeps (``at.get(kind)``).
KINDS = ("title", "subheader", "markdown", "caption", "info", "warning", "error",
         "plotly_chart", "download_button", "metric", "expander")


class Drawn:
    """What a page drew in all its tabs, in tab order: ``frames`` (DataFrames), and
    ``get(kind)`` or ``.markdown``, ``.caption``, … as AppTest's (the sidebar's elements
    repeat once a tab)."""

    def __init__(self) -> None:
        self.frames: list = []
        self.tabs: list[str] = []
        self._elements: dict[str, list] = defaultdict(list)

    def get(self, kind: str) -> list:
        return self._elements[kind]

    def __getattr__(self, kind: str) -> list:  # at.markdown, at.caption, … as AppTest's
        if kind in KINDS:
            return self._elements[kind]
        raise AttributeError(kind)


def drawn_in_every_tab(at: AppTest, page: str) -> Drawn:
    """Open each of ``page``'s tabs in turn and keep what each drew (:class:`Drawn`)."""
    drawn = Drawn()
    drawn.tabs = [tab.label for tab in at.tabs]
    for shown in each_tab(at, page):
        drawn.frames += frames(shown)
        for kind in KINDS:
            drawn.get(kind).extend(shown.get(kind))
    return drawn

