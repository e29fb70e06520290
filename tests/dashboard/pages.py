"""Helper for the D2 page tests: open one page of the app with AppTest."""

from __future__ import annotations

import re
from pathlib import Path

from streamlit.testing.v1 import AppTest

from dashboard.safe_text import WORD_JOINER

APP = str(Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py")


def open_page(page: str, query: dict[str, str] | None = None, timeout: float = 60) -> AppTest:
    """Run the router, switch to ``app_pages/<page>.py`` and return the finished AppTest."""
    at = AppTest.from_file(APP, default_timeout=timeout)
    for key, value in (query or {}).items():
        at.query_params[key] = value
    at.run()
    at.switch_page(f"app_pages/{page}.py").run()
    assert not at.exception, [e.value for e in at.exception]
    return at


def as_read(markdown: str) -> str:
    """A Markdown source as the reader sees it: escapes resolved, word joiners gone.

    Data text reaches Markdown through :func:`dashboard.safe_text.md_literal`.
    """
    return re.sub(r"\\(.)", r"\1", markdown).replace(WORD_JOINER, "")


def frames(at: AppTest) -> list:
    """Every DataFrame shown on the page."""
    return [element.value for element in at.dataframe]
