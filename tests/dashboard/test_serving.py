"""Served on a network address, the app shows how to start it and nothing of the study.

Issue 12: ``streamlit run /abs/path/dashboard/streamlit_app.py`` from another folder
listens on every interface (no ``.streamlit/config.toml`` is read there) and served the
study to the network. ``desist dashboard`` passes every setting explicitly. Since issue
15 a network address serves the study when access control is configured beside the
database (every reader signs in: tests/dashboard/test_auth.py); without it, the
instructions say how to configure it.
``tests/browser/test_serving.py`` starts real servers both ways.
"""

from __future__ import annotations

import re
import subprocess
import sys
import tomllib

import pytest
from click.testing import CliRunner
from streamlit import config
from streamlit.testing.v1 import AppTest

from analysis.cli import main
from analysis.cli.dashboard_commands import APP, STREAMLIT_SETTINGS, streamlit_arguments
from dashboard.serving import REFUSAL_TITLE, is_loopback_address
from tests.conftest import DEMO_RELEASES
from tests.dashboard.conftest import APP as ROUTER

CONFIG_TOML = APP.parents[1] / ".streamlit" / "config.toml"
TEXT_ELEMENTS = ("title", "header", "subheader", "markdown", "caption", "code", "warning",
                 "info", "error", "success")


def _run_on(address, monkeypatch, db) -> AppTest:
    monkeypatch.setenv("DESIST_DB", str(db))
    config.set_option("server.address", address)  # restored by served_on_loopback
    at = AppTest.from_file(str(ROUTER), default_timeout=90)
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    return at


@pytest.mark.parametrize("address", [None, "", "0.0.0.0", "::", "[::]", "192.168.1.4",
                                     "fe80::1", "dashboard.example.org",
                                     "unix:///tmp/desist.sock"])
def test_a_network_address_gets_the_instructions_and_no_data(address, monkeypatch, tmp_path):
    # A database that does not exist: had the app tried to open it, it would say so.
    at = _run_on(address, monkeypatch, tmp_path / "study.duckdb")
    assert [t.value for t in at.title] == [REFUSAL_TITLE]
    texts = [str(e.value) for kind in TEXT_ELEMENTS for e in at.get(kind)]
    assert any("desist dashboard --db" in text for text in texts)
    # ...and how to serve it to the network: access control first (issue 15).
    assert any("desist users add NAME --role admin" in text for text in texts)
    assert not any(re.search(r"\d", text) for text in texts), texts  # no number at all
    assert not at.error and not at.metric and not at.dataframe and not at.sidebar.children
    assert not at.get("plotly_chart")


@pytest.mark.parametrize("language", ["fr", "ar", "ru", "sr"])
def test_the_instructions_are_translated_and_hold_no_number(language, monkeypatch, tmp_path):
    monkeypatch.setenv("DESIST_DB", str(tmp_path / "study.duckdb"))
    config.set_option("server.address", "0.0.0.0")  # restored by served_on_loopback
    at = AppTest.from_file(str(ROUTER), default_timeout=90)
    at.query_params["lang"] = language
    at.run()
    assert not at.exception, [e.value for e in at.exception]
    assert at.title[0].value not in ("", REFUSAL_TITLE)  # in the reader's language
    texts = [str(e.value) for kind in TEXT_ELEMENTS for e in at.get(kind)]
    assert any("desist serve --host ADDRESS" in text for text in texts)
    assert not any(re.search(r"\d", text) for text in texts), texts


@pytest.mark.parametrize("address", ["127.0.0.1", "localhost", "::1", "127.0.1.1"])
def test_a_loopback_address_shows_the_study(address, monkeypatch, demo_db):
    at = _run_on(address, monkeypatch, demo_db)
    assert at.title[0].value != REFUSAL_TITLE
    assert at.metric[0].value == f"{DEMO_RELEASES:,}"


@pytest.mark.parametrize("address, loopback", [
    ("127.0.0.1", True), ("127.255.0.9", True), ("::1", True), ("[::1]", True),
    ("LOCALHOST", True), (" localhost ", True), (None, False), ("", False), ("0.0.0.0", False),
    ("::", False), ("10.0.0.1", False), ("localhost.example.org", False),
    ("unix://x", False), (0, False),
])
def test_is_loopback_address(address, loopback):
    assert is_loopback_address(address) is loopback


def test_desist_dashboard_passes_every_setting_on_the_command_line(monkeypatch, demo_db):
    import streamlit.web.cli as streamlit_cli

    seen = {}

    def fake_streamlit(**_):
        seen["argv"] = list(sys.argv)
        import os

        seen["db"] = os.environ["DESIST_DB"]

    monkeypatch.setattr(streamlit_cli, "main", fake_streamlit)
    monkeypatch.setattr(sys, "argv", list(sys.argv))
    monkeypatch.delenv("DESIST_DB", raising=False)
    result = CliRunner().invoke(main, ["dashboard", "--db", str(demo_db), "--port", "8611"])
    assert result.exit_code == 0, result.output
    argv = seen["argv"]
    assert argv[:3] == ["streamlit", "run", str(APP)]
    given = dict(zip(argv[3::2], argv[4::2], strict=True))
    assert given["--server.address"] == "127.0.0.1"
    assert given["--server.port"] == "8611"
    assert given["--server.headless"] == "true"
    assert given["--browser.gatherUsageStats"] == "false"
    assert seen["db"] == str(demo_db.resolve())
    assert "http://localhost:8611" in result.output


def test_the_settings_agree_with_the_repository_config():
    toml = tomllib.loads(CONFIG_TOML.read_text(encoding="utf-8"))
    in_file = {f"{section}.{name}": value for section, values in toml.items()
               for name, value in values.items()}
    arguments = streamlit_arguments(8501)
    for name, value in in_file.items():
        expected = str(value).lower() if isinstance(value, bool) else str(value)
        assert STREAMLIT_SETTINGS.get(name) == expected, name
        assert arguments[arguments.index(f"--{name}") + 1] == expected


def test_desist_dashboard_without_a_database_is_invalid_input(tmp_path):
    result = CliRunner().invoke(main, ["dashboard", "--db", str(tmp_path / "none.duckdb")])
    assert result.exit_code == 2
    assert "no study database at" in result.output


def test_the_cli_does_not_import_streamlit():
    code = "import sys, analysis.cli; print('streamlit' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "False"


def test_make_demo_goes_through_desist_dashboard():
    makefile = (APP.parents[1] / "Makefile").read_text(encoding="utf-8")
    recipe = re.search(r"^demo:.*\n((?:\t.*\n)+)", makefile, re.M).group(1)
    assert "desist dashboard --db $(DEMO_DB) --port $(PORT)" in recipe
    assert "streamlit run" not in recipe
