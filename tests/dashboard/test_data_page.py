"""Data page: quality tables, database facts, methodology, import form switch."""

from __future__ import annotations

import pytest

from analysis.store import SCHEMA_VERSION
from tests.dashboard.pages import frames, open_page, open_tab


@pytest.fixture(autouse=True)
def _database(demo_db, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(demo_db))
    monkeypatch.delenv("DESIST_ALLOW_IMPORT", raising=False)


def test_quality_tables_and_facts():
    at = open_page("data")
    labels = {m.label: m.value for m in at.metric}
    assert labels["Pseudonymization key fingerprint"] not in ("", "none")
    assert labels["Schema version"] == f"{SCHEMA_VERSION} (program: {SCHEMA_VERSION})"
    shown = frames(at)
    assert any("Filled (%)" in f.columns for f in shown)
    assert any("Whole years of follow-up available" in f.columns for f in shown)
    log = next(f for f in shown if "Mode" in f.columns)
    assert list(log["Mode"]) == ["all or nothing"]  # the mode code, in words
    assert not at.expander  # the methodology is drawn when its tab is opened
    open_tab(at, "data", "Methodology")
    titles = [e.label for e in at.expander]
    assert any(t.startswith("Kaplan–Meier recidivism") for t in titles)
    assert not frames(at)  # and the quality tables are no longer drawn


def test_follow_up_coverage_follows_the_selection():
    bands = "Whole years of follow-up available"
    everyone = next(f for f in frames(open_page("data")) if bands in f.columns)
    recent = next(f for f in frames(open_page("data", {"from": "2023-01-01"}))
                  if bands in f.columns)
    assert list(everyone["Releases"]) != list(recent["Releases"])


def test_import_is_off_unless_enabled(monkeypatch):
    at = open_page("data", tab="Import")
    assert any("Importing is switched off" in i.value for i in at.info)
    monkeypatch.setenv("DESIST_ALLOW_IMPORT", "1")
    at = open_page("data", tab="Import")
    assert not any("Importing is switched off" in i.value for i in at.info)
    assert len(at.get("file_uploader")) == 8  # releases and the seven optional tables
