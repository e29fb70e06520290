"""Run the Streamlit app headless (AppTest) on the session's demo database."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"


@pytest.fixture()
def app(demo_db, monkeypatch):
    """An AppTest of the router, pointed at the demo database (not yet run)."""
    monkeypatch.setenv("DESIST_DB", str(demo_db))
    return AppTest.from_file(str(APP), default_timeout=90)
