"""Run the Streamlit app headless (AppTest) on the session's demo database."""

from __future__ import annotations

from pathlib import Path

import pytest
from streamlit import config
from streamlit.testing.v1 import AppTest

APP = Path(__file__).resolve().parents[2] / "dashboard" / "streamlit_app.py"


@pytest.fixture(autouse=True)
def served_on_loopback():
    """Serve the app under test on 127.0.0.1, whatever folder pytest runs from.

    The router shows the study only on a loopback address (:mod:`dashboard.serving`), and
    Streamlit reads the address from the *current* folder's ``.streamlit/config.toml``.
    """
    saved = config.get_option("server.address")
    config.set_option("server.address", "127.0.0.1")
    yield
    config.set_option("server.address", saved)


@pytest.fixture()
def app(demo_db, monkeypatch):
    """An AppTest of the router, pointed at the demo database (not yet run)."""
    monkeypatch.setenv("DESIST_DB", str(demo_db))
    return AppTest.from_file(str(APP), default_timeout=90)
