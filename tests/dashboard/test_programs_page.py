"""Programmes page: catalogue, forest plot, completers vs dropouts, filters, suppression."""

from __future__ import annotations

import pytest

from tests.dashboard.pages import frames, open_page


@pytest.fixture(autouse=True)
def _database(demo_db, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(demo_db))


def test_page_shows_catalogue_hazard_ratios_and_completion():
    at = open_page("programs")
    assert [t.value for t in at.title] == ["Programmes"]
    headers = [h.value for h in at.subheader]
    assert {"Catalogue", "Reoffending by programme: hazard ratios",
            "Completers and dropouts"} <= set(headers)
    assert len(at.get("plotly_chart")) == 1
    catalogue, effects, completion = frames(at)[:3]
    assert "VOC-METAL" in set(catalogue["Programme code"])
    assert (effects["Estimate status"] == "estimated").sum() >= 8
    assert "Completers' rate" in completion.columns
    assert len(at.get("download_button")) >= 6  # CSV + XLSX under each table


def test_a_filter_changes_the_numbers():
    everyone = frames(open_page("programs"))[0]
    women = frames(open_page("programs", {"sex": "F"}))[0]
    assert list(everyone["Participants"]) != list(women["Participants"])


def test_a_large_k_suppresses_counts_and_estimates():
    at = open_page("programs", {"k": "1000"})
    catalogue, effects = frames(at)[:2]
    assert (catalogue[["Completed", "Dropped out"]] == "<1000").any().any()
    assert (effects["Estimate status"] == "suppressed").any()
    assert effects.loc[effects["Estimate status"] == "suppressed", "Adjusted hazard ratio"].isna().all()
