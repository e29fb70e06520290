"""Import form service: staging uploads, validation report, import, permission switch."""

from __future__ import annotations

import io

import duckdb
import pandas as pd
import pytest

from analysis.views.import_form import (
    UploadError,
    discard,
    import_allowed,
    import_staged,
    prepare_upload,
    stage_files,
)
from analysis.views.words import render_note
from tests.ingest.conftest import TODAY, VALID, replace_cell, write_dataset


def _csv(header, rows) -> bytes:
    frame = pd.DataFrame(list(rows), columns=list(header))
    return frame.to_csv(index=False).encode()


def _uploads(**overrides) -> dict[str, tuple[str, bytes]]:
    tables = {**VALID, **overrides}
    return {name: (f"my_{name}_export.csv", _csv(*content))
            for name, content in tables.items() if content is not None}


def test_import_needs_the_environment_switch():
    assert not import_allowed({})
    assert not import_allowed({"DESIST_ALLOW_IMPORT": "yes"})
    assert import_allowed({"DESIST_ALLOW_IMPORT": "1"})


def test_staging_uses_the_contract_names_in_a_fresh_folder():
    first, second = stage_files(_uploads()), stage_files(_uploads(events=None))
    try:
        assert first.folder != second.folder
        assert sorted(p.name for p in first.folder.iterdir()) == [
            "events.csv", "participation.csv", "programs.csv", "releases.csv"]
        assert "events" not in second.files
    finally:
        discard(first)
        discard(second)
    assert not first.folder.exists()


def test_staging_refuses_what_the_contract_cannot_read():
    with pytest.raises(UploadError, match="releases file is required"):
        stage_files({"events": ("events.csv", b"x")})
    with pytest.raises(UploadError, match="must be"):
        stage_files({"releases": ("releases.json", b"{}")})
    with pytest.raises(UploadError, match="unknown table"):
        stage_files({"releases": ("r.csv", b""), "people": ("p.csv", b"")})


def test_a_good_dataset_validates_and_imports(tmp_path):
    db = tmp_path / "study.duckdb"
    prepared = prepare_upload(_uploads(), db, today=TODAY)
    try:
        assert prepared.ok and prepared.problems.empty
        outcome = import_staged(prepared.staged, db, today=TODAY)
    finally:
        discard(prepared.staged)
    assert outcome.ok and outcome.message.code == "imported"
    assert render_note(outcome.message).startswith("Imported batch")
    assert render_note(outcome.message, "fr").startswith("Lot ")
    counts = outcome.tables().set_index("table")
    assert counts.loc["releases", "inserted"] == len(VALID["releases"][1])
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM releases").fetchone()[0] == 4
        assert con.execute("SELECT count(*) FROM import_log").fetchone()[0] == 1


def test_a_bad_dataset_reports_file_line_column_and_writes_nothing(tmp_path):
    db = tmp_path / "study.duckdb"
    bad = replace_cell("releases", 1, "release_date", "10/02/2020")
    prepared = prepare_upload(_uploads(releases=bad), db, today=TODAY)
    try:
        assert not prepared.ok and prepared.error is None
        row = prepared.problems.iloc[0]
        assert (row["file"], row["line"], row["column"]) == ("releases.csv", 3, "release_date")
        assert row["kind"] == "bad_date" and row["expected"]
        outcome = import_staged(prepared.staged, db, today=TODAY)
    finally:
        discard(prepared.staged)
    assert not outcome.ok and outcome.message.code == "not_imported"
    assert render_note(outcome.message).startswith("Nothing was imported: ")
    assert outcome.problems is not None and len(outcome.problems) >= 1
    assert not db.exists()


def test_skip_invalid_imports_the_valid_rows(tmp_path):
    db = tmp_path / "study.duckdb"
    bad = replace_cell("releases", 3, "release_date", "2021-13-40")
    prepared = prepare_upload(_uploads(releases=bad), db, today=TODAY)
    try:
        outcome = import_staged(prepared.staged, db, today=TODAY, skip_invalid=True)
        assert (prepared.staged.folder / "rejected_rows.csv").exists()
    finally:
        discard(prepared.staged)
    assert outcome.ok and outcome.report.rows_rejected == 1


def test_validation_knows_the_people_already_in_the_database(tmp_path):
    db = tmp_path / "study.duckdb"
    first = prepare_upload(_uploads(), db, today=TODAY)
    import_staged(first.staged, db, today=TODAY)
    discard(first.staged)
    # a later delivery of events alone refers to people imported before
    releases_again = VALID["releases"]
    later = prepare_upload({"releases": ("r.csv", _csv(*releases_again)),
                            "events": ("e.csv", _csv(*VALID["events"]))}, db, today=TODAY)
    try:
        assert later.ok
    finally:
        discard(later.staged)


def test_xlsx_uploads_are_read(tmp_path):
    header, rows = VALID["releases"]
    buffer = io.BytesIO()
    pd.DataFrame(list(rows), columns=list(header)).to_excel(buffer, index=False)
    prepared = prepare_upload({"releases": ("Releases 2024.XLSX", buffer.getvalue())},
                              tmp_path / "s.duckdb", today=TODAY)
    try:
        assert prepared.staged.files == {"releases": "releases.xlsx"}
        assert prepared.report is not None and prepared.report.rows_read["releases"] == 4
    finally:
        discard(prepared.staged)


def test_a_missing_key_is_reported_not_raised(tmp_path):
    db = tmp_path / "study.duckdb"
    first = prepare_upload(_uploads(), db, today=TODAY)
    import_staged(first.staged, db, today=TODAY)
    discard(first.staged)
    db.with_name(db.name + ".key").unlink()
    prepared = prepare_upload(_uploads(), db, today=TODAY)
    try:
        assert not prepared.ok and "key" in prepared.error
    finally:
        discard(prepared.staged)


def test_helpers_write_the_same_dataset(tmp_path):
    # the uploads above are the importer tests' valid dataset, byte for byte in content
    folder = write_dataset(tmp_path / "d")
    staged = stage_files(_uploads())
    try:
        for name in ("releases", "events"):
            ours = pd.read_csv(staged.folder / f"{name}.csv", dtype=str)
            theirs = pd.read_csv(folder / f"{name}.csv", dtype=str)
            pd.testing.assert_frame_equal(ours, theirs)
    finally:
        discard(staged)
