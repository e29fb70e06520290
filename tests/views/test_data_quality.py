"""Data page services: completeness, follow-up coverage, import log, facts, methodology."""

from __future__ import annotations

import datetime as dt

import pandas as pd

from analysis.contract import TABLE_ORDER
from analysis.store import SCHEMA_VERSION
from analysis.survival.episodes import Selection
from analysis.views.data_quality import (
    completeness,
    database_facts,
    follow_up_coverage,
    import_history,
    method_sections,
)
from analysis.views.filters import ViewFilters
from tests.conftest import DEMO_RELEASES


def test_completeness_covers_every_contract_table(demo_con):
    table = completeness(demo_con, ViewFilters())
    assert set(table["table"]) == set(TABLE_ORDER)
    releases = table[table["table"] == "releases"].set_index("column")
    assert releases.loc["release_id", "rows"] == str(DEMO_RELEASES)
    assert releases.loc["release_id", "complete_pct"] == 100.0
    assert "batch_id" not in set(table["column"])
    assert table["complete_pct"].between(0, 100).all()
    # a column with something missing never rounds up to a full 100.0
    partial = table[table["missing"] != "0"]
    assert (partial["complete_pct"] <= 99.9).all()
    missing = pd.to_numeric(table["missing"], errors="coerce")
    assert not ((missing > 0) & (missing < 10)).any()


def test_follow_up_coverage_adds_up_and_follows_the_selection(demo_con):
    everyone = follow_up_coverage(demo_con, ViewFilters())
    assert everyone.releases == str(DEMO_RELEASES)
    assert list(everyone.bands["years_available"]) == ["0", "1", "2", "3", "4", "5+"]
    bands = pd.to_numeric(everyone.bands["releases"], errors="coerce")
    if bands.notna().all():
        assert bands.sum() == DEMO_RELEASES
    shares = everyone.complete.set_index("years")["share_pct"]
    assert 0 < shares[3] <= shares[2] <= shares[1] <= 100
    recent = follow_up_coverage(
        demo_con, ViewFilters(selection=Selection(release_from=dt.date(2022, 1, 1))))
    assert int(recent.releases) < DEMO_RELEASES
    assert recent.complete.set_index("years")["share_pct"][3] < shares[3]


def test_follow_up_coverage_suppresses_a_tiny_selection(demo_con):
    one_week = Selection(release_from=dt.date(2020, 3, 2), release_to=dt.date(2020, 3, 8))
    tiny = follow_up_coverage(demo_con, ViewFilters(selection=one_week, min_cell=50))
    assert tiny.releases == "<50"
    assert tiny.complete["share_pct"].isna().all()
    assert set(tiny.bands["releases"]) <= {"<50", "0", "hidden"}


def test_import_history_lists_the_demo_import(demo_con):
    history = import_history(demo_con, ViewFilters())
    assert len(history.batches) == 1
    batch = history.batches.iloc[0]
    assert batch["mode"] == "all_or_nothing" and batch["rows_rejected"] == "0"
    # the demo also has region outlines (regions.geojson), which are not a table
    assert set(history.files["table_name"]) == set(TABLE_ORDER) | {"region_boundaries"}
    programs = history.files.set_index("table_name").loc["programs"]
    # 12 programmes: visible at k = 10, hidden at k = 20
    assert programs["rows_read"] == "12"
    strict = import_history(demo_con, ViewFilters(min_cell=20)).files.set_index("table_name")
    assert strict.loc["programs", "rows_read"] == "<20"


def test_database_facts(demo_con):
    facts = database_facts(demo_con, ViewFilters())
    assert facts.schema_version == SCHEMA_VERSION == facts.program_schema_version
    assert facts.key_fingerprint and len(facts.key_fingerprint) >= 8
    assert facts.created_at


def test_method_sections_come_from_the_docs(tmp_path):
    sections = method_sections(None, ViewFilters())
    titles = [s.title for s in sections]
    assert any(t.startswith("Kaplan–Meier recidivism") for t in titles)
    assert {s.document for s in sections} == {"metrics.md", "impact.md"}
    (tmp_path / "metrics.md").write_text("# M\nintro\n## One\nfirst\n## Two\nsecond\n")
    custom = method_sections(None, ViewFilters(), folder=str(tmp_path))
    assert [(s.title, s.markdown) for s in custom] == [("One", "first"), ("Two", "second")]


def test_a_file_count_cannot_be_recovered_from_its_import():
    # one import of two files: 3 rejected rows in one file, 40 in the other; the import's
    # 43 minus the 40 would give the 3 away
    import pandas as pd

    from analysis.disclosure import DisclosurePolicy
    from analysis.views.data_quality import _suppressed_log

    parts = ["rows_inserted", "rows_updated", "rows_unchanged", "rows_rejected"]
    batches = pd.DataFrame({"batch_id": ["b1"], "rows_read": [1043], "rows_inserted": [1000],
                            "rows_updated": [0], "rows_unchanged": [0], "rows_rejected": [43]})
    files = pd.DataFrame({"batch_id": ["b1", "b1"], "rows_read": [503, 540],
                          "rows_inserted": [500, 500], "rows_updated": [0, 0],
                          "rows_unchanged": [0, 0], "rows_rejected": [3, 40]})
    shown_batches, shown_files = _suppressed_log(batches, files, parts, DisclosurePolicy(k=10))
    assert shown_files["rows_rejected"].tolist()[0] == "<10"
    assert not (shown_batches["rows_rejected"].iloc[0].isdigit()
                and shown_files["rows_rejected"].iloc[1].isdigit())


def test_the_directory_counts_organisations_and_places_not_people(demo_con):
    # the demo's 8 region outlines and its services are shown as they are at any k,
    # and hide nothing else (programmes stay visible at k = 10)
    files = import_history(demo_con, ViewFilters(min_cell=50)).files.set_index("table_name")
    assert files.loc["region_boundaries", "rows_read"] == "8"
    assert int(files.loc["services", "rows_read"]) > 0
    shown = import_history(demo_con, ViewFilters()).files.set_index("table_name")
    assert shown.loc["programs", "rows_read"] == "12"
    table = completeness(demo_con, ViewFilters(min_cell=50))
    services = table[table["table"] == "services"]
    assert not services["rows"].str.startswith("<").any()
    assert not (services["rows"] == "hidden").any()
