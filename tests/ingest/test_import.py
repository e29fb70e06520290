"""Importing a valid dataset: formats, counts, covariates, re-import, updates, import log."""

from __future__ import annotations

import csv
import json

import duckdb
import pandas as pd
import pytest

from analysis.errors import DesistError, InvalidDatasetError, UnsafeOutputPathError
from analysis.ingest import import_dataset
from analysis.ingest.readers import sha256_of
from analysis.ingest.rejects import csv_rows
from tests.ingest.conftest import (
    PERSONS,
    TODAY,
    VALID,
    file_digest,
    replace_cell,
    write_dataset,
)


def _query(db, sql, params=None):
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql, params or []).fetchall()
    finally:
        con.close()


def _row_counts(db) -> dict[str, int]:
    return {
        t: _query(db, f"SELECT count(*) FROM {t}")[0][0]
        for t in ("releases", "programs", "participation", "events", "covariates")
    }


def test_csv_dataset_imports_with_counts_per_table(dataset, db):
    report = import_dataset(dataset, db, today=TODAY)
    counts = {
        name: (c.read, c.inserted, c.updated, c.unchanged, c.rejected)
        for name, c in report.tables.items()
    }
    assert counts == {
        "releases": (4, 4, 0, 0, 0),
        "programs": (2, 2, 0, 0, 0),
        "participation": (2, 2, 0, 0, 0),
        "events": (3, 3, 0, 0, 0),
    }
    assert _row_counts(db) == {
        "releases": 4,
        "programs": 2,
        "participation": 2,
        "events": 3,
        "covariates": 2,
    }
    assert report.mode == "all_or_nothing"
    assert report.rows_rejected == 0


def test_values_are_typed_and_codes_normalised(tmp_path, db):
    folder = write_dataset(tmp_path / "d", releases=replace_cell("releases", 0, "sex", "m"))
    import_dataset(folder, db, today=TODAY)
    row = _query(
        db,
        "SELECT release_date, follow_up_end, sex, age_at_release, prior_convictions, "
        "follow_up_end_reason FROM releases WHERE release_id = 'R1'",
    )[0]
    assert str(row[0]) == "2020-01-10" and str(row[1]) == "2023-12-31"
    assert row[2] == "M"  # codes are stored as the contract spells them
    assert row[3] == 25.0 and row[4] == 2
    assert row[5] == "data_cutoff"  # the contract's default for an absent column
    types = dict(
        _query(
            db,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'releases'",
        )
    )
    assert types["release_date"] == "DATE" and types["prior_convictions"] == "INTEGER"


def test_extra_release_columns_become_queryable_covariates(dataset, db):
    report = import_dataset(dataset, db, today=TODAY)
    assert report.new_covariates == {"education_level": "categorical", "risk_score": "numeric"}
    assert dict(_query(db, "SELECT name, kind FROM covariates")) == report.new_covariates
    values = dict(_query(db, "SELECT release_id, risk_score FROM releases"))
    assert values == {"R1": 3.5, "R2": 1.0, "R3": None, "R4": 8.25}
    levels = _query(db, "SELECT education_level FROM releases ORDER BY release_id")
    assert [v for (v,) in levels] == ["primary", "secondary", "primary", "none"]
    types = dict(
        _query(
            db,
            "SELECT column_name, data_type FROM information_schema.columns "
            "WHERE table_name = 'releases'",
        )
    )
    assert types["risk_score"] == "DOUBLE" and types["education_level"] == "VARCHAR"


def _write_typed(folder, writer):
    """The valid dataset, each table written by ``writer(frame, path_without_suffix)``."""
    folder.mkdir()
    for table, (header, rows) in VALID.items():
        frame = pd.DataFrame(list(rows), columns=list(header))
        writer(frame, folder / table)
    return folder


def _contents(db) -> dict:
    return {
        t: sorted(map(tuple, _query(db, f"SELECT * EXCLUDE (batch_id) FROM {t}")), key=str)
        for t in ("releases", "programs", "participation", "events")
    }


def _typed(frame: pd.DataFrame) -> pd.DataFrame:
    """Give the frame the types a spreadsheet or Parquet writer would: dates, numbers."""
    frame = frame.copy()
    for column in frame:
        if column.endswith("date") or column == "follow_up_end":
            frame[column] = pd.to_datetime(frame[column])
        elif column in (
            "age_at_release",
            "prior_convictions",
            "hours",
            "risk_score",
            "cost_per_participant",
        ):
            frame[column] = pd.to_numeric(frame[column].replace("", None))
    return frame


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_same_data_as_parquet_and_xlsx_gives_the_same_database(tmp_path, dataset, fmt):
    def write(frame, stem):
        typed = _typed(frame)
        if fmt == "parquet":
            typed.to_parquet(stem.with_suffix(".parquet"), index=False)
        else:
            typed.to_excel(stem.with_suffix(".xlsx"), index=False)

    folder = _write_typed(tmp_path / fmt, write)
    key = tmp_path / "shared.key"
    csv_db, other_db = tmp_path / "csv.duckdb", tmp_path / f"{fmt}.duckdb"
    import_dataset(dataset, csv_db, key_file=key, today=TODAY)
    report = import_dataset(folder, other_db, key_file=key, today=TODAY)
    assert report.tables["releases"].file == f"releases.{fmt}"
    assert _contents(other_db) == _contents(csv_db)
    assert dict(_query(other_db, "SELECT name, kind FROM covariates")) == {
        "education_level": "categorical",
        "risk_score": "numeric",
    }


def test_semicolon_csv_from_european_spreadsheets_imports(tmp_path, dataset, db):
    folder = tmp_path / "semicolon"
    folder.mkdir()
    for path in dataset.iterdir():
        (folder / path.name).write_text(path.read_text().replace(",", ";"), encoding="utf-8")
    import_dataset(folder, db, today=TODAY)
    assert _row_counts(db)["releases"] == 4


def test_reimporting_the_same_files_adds_nothing(dataset, db):
    import_dataset(dataset, db, today=TODAY)
    before = _row_counts(db)
    contents = _contents(db)
    report = import_dataset(dataset, db, today=TODAY)
    for name, counts in report.tables.items():
        assert (counts.inserted, counts.updated, counts.rejected) == (0, 0, 0), name
        assert counts.unchanged == counts.read, name
    assert _row_counts(db) == before
    assert _contents(db) == contents
    assert _query(db, "SELECT count(*) FROM import_log")[0][0] == 2


def test_changed_rows_are_updated_and_new_rows_inserted(tmp_path, dataset, db):
    import_dataset(dataset, db, today=TODAY)
    header, rows = replace_cell("releases", 1, "facility", "West")
    rows = [
        *rows,
        ("R5", "PERSON-NEW-1", "2021-01-01", "North", "2023-12-31", "M", "30", "1", "primary", "2"),
    ]
    second = write_dataset(tmp_path / "second", releases=(header, rows))
    report = import_dataset(second, db, today=TODAY)
    counts = report.tables["releases"]
    assert (counts.read, counts.inserted, counts.updated, counts.unchanged) == (5, 1, 1, 3)
    assert _query(db, "SELECT facility FROM releases WHERE release_id = 'R2'") == [("West",)]
    assert _row_counts(db)["releases"] == 5
    batches = _query(db, "SELECT release_id, batch_id FROM releases ORDER BY release_id")
    assert batches[1][1] == report.batch_id and batches[4][1] == report.batch_id
    assert batches[0][1] != report.batch_id  # unchanged rows keep their first batch


def test_incremental_import_links_to_people_already_in_the_database(tmp_path, dataset, db):
    import_dataset(dataset, db, today=TODAY)
    only_events = write_dataset(
        tmp_path / "events-only",
        tables={"releases": VALID["releases"]},
    )
    (only_events / "events.csv").write_text(
        f"person_id,event_date,event_type\n{PERSONS[2]},2023-05-05,rearrest\n", encoding="utf-8"
    )
    report = import_dataset(only_events, db, today=TODAY)
    assert report.tables["events"].inserted == 1
    linked = _query(
        db,
        "SELECT count(*) FROM events e JOIN releases r USING (person_id) "
        "WHERE r.release_id = 'R4' AND e.event_date = DATE '2023-05-05'",
    )
    assert linked == [(1,)]


def test_events_before_first_release_are_kept_and_counted(dataset, db):
    report = import_dataset(dataset, db, today=TODAY)
    assert report.events_before_first_release == 1
    assert _query(db, "SELECT count(*) FROM events WHERE event_date = DATE '2018-01-01'") == [(1,)]
    summary = json.loads(_query(db, "SELECT summary_json FROM import_log")[0][0])
    assert summary["events_before_first_release"] == 1


def test_exact_duplicate_events_are_dropped_and_counted(tmp_path, db):
    header, rows = VALID["events"]
    folder = write_dataset(tmp_path / "d", events=(header, [*rows, rows[0]]))
    report = import_dataset(folder, db, today=TODAY)
    assert report.tables["events"].duplicates_dropped == 1
    assert report.tables["events"].inserted == 3
    assert _row_counts(db)["events"] == 3


def test_import_log_records_files_hashes_and_counts(dataset, db):
    report = import_dataset(dataset, db, today=TODAY)
    log = _query(
        db,
        "SELECT batch_id, source_dir, mode, rows_read, rows_inserted, rows_rejected FROM import_log",
    )
    assert log == [(report.batch_id, str(dataset), "all_or_nothing", 11, 11, 0)]
    files = _query(
        db,
        "SELECT table_name, file_name, sha256, rows_read, rows_inserted FROM import_files "
        "ORDER BY table_name",
    )
    assert files == [
        ("events", "events.csv", sha256_of(dataset / "events.csv"), 3, 3),
        ("participation", "participation.csv", sha256_of(dataset / "participation.csv"), 2, 2),
        ("programs", "programs.csv", sha256_of(dataset / "programs.csv"), 2, 2),
        ("releases", "releases.csv", sha256_of(dataset / "releases.csv"), 4, 4),
    ]


def test_skip_invalid_loads_valid_rows_and_writes_every_rejected_row(tmp_path, db):
    header, rows = VALID["releases"]
    bad_rows = [
        *rows,
        ("R5", "P-5", "2021-13-01", "North", "2023-12-31", "M", "30", "1", "none", "1"),
        ("R6", "P-6", "2021-01-01", "North", "2023-12-31", "Q", "30", "1", "none", "1"),
    ]
    eh, erows = VALID["events"]
    folder = write_dataset(
        tmp_path / "d",
        releases=(header, bad_rows),
        events=(eh, [*erows, ("P-5", "2022-01-01", "rearrest")]),
    )
    rejects = tmp_path / "out" / "rejects.csv"
    report = import_dataset(folder, db, skip_invalid=True, rejects=rejects, today=TODAY)
    assert report.mode == "skip_invalid"
    assert report.tables["releases"].rejected == 2 and report.tables["releases"].inserted == 4
    # The event of a person whose only release was rejected is rejected too.
    assert report.tables["events"].rejected == 1 and report.tables["events"].inserted == 3
    assert _row_counts(db)["releases"] == 4
    # csv_rows skips the confidentiality notice on the first line
    written = csv_rows(rejects)
    assert [(r["table"], r["line"]) for r in written] == [
        ("releases", "6"),
        ("releases", "7"),
        ("events", "5"),
    ]
    assert "release_date" in written[0]["reasons"] and "2021-13-01" in written[0]["reasons"]
    assert written[1]["sex"] == "Q" and "one of F, M, X, U" in written[1]["reasons"]
    assert "no valid row in releases" in written[2]["reasons"]
    assert _query(db, "SELECT mode, rows_rejected FROM import_log") == [("skip_invalid", 3)]


def test_skip_invalid_needs_a_rejects_file(dataset, db):
    with pytest.raises(DesistError, match="--rejects"):
        import_dataset(dataset, db, skip_invalid=True, today=TODAY)
    assert not db.exists()


def test_skip_invalid_still_refuses_file_level_problems(tmp_path, db, dataset):
    import_dataset(dataset, db, today=TODAY)
    before = file_digest(db)
    header, rows = VALID["releases"]
    folder = write_dataset(
        tmp_path / "d", releases=((*header, "passport_no"), [(*r, "X1") for r in rows])
    )
    with pytest.raises(InvalidDatasetError):
        import_dataset(folder, db, skip_invalid=True, rejects=tmp_path / "r.csv", today=TODAY)
    assert file_digest(db) == before
    assert not (tmp_path / "r.csv").exists()


def test_covariate_that_was_numeric_cannot_become_text(tmp_path, dataset, db):
    import_dataset(dataset, db, today=TODAY)
    before = file_digest(db)
    folder = write_dataset(
        tmp_path / "d", releases=replace_cell("releases", 0, "risk_score", "high")
    )
    with pytest.raises(InvalidDatasetError) as caught:
        import_dataset(folder, db, today=TODAY)
    assert caught.value.report.counts_by_kind() == {"conflicting_covariate": 1}
    assert file_digest(db) == before


def test_write_ahead_log_left_by_a_crashed_writer_is_kept_not_lost(dataset, db):
    import subprocess
    import sys

    import_dataset(dataset, db, today=TODAY)
    # Another program writes and dies before checkpointing: its .wal stays beside the file.
    subprocess.run(
        [
            sys.executable,
            "-c",
            "import duckdb, os, sys; con = duckdb.connect(sys.argv[1]); "
            "con.execute(\"INSERT INTO programs VALUES ('WAL', 'n', 'education', 'in_prison', "
            "NULL, NULL, NULL, NULL, 'manual')\"); os._exit(0)",
            str(db),
        ],
        check=True,
    )
    assert db.with_name(db.name + ".wal").exists()
    import_dataset(dataset, db, today=TODAY)
    assert not db.with_name(db.name + ".wal").exists()
    programs = {r[0] for r in _query(db, "SELECT program_id FROM programs")}
    assert programs == {"EDU", "VOC", "WAL"}


def test_wal_of_a_database_held_open_by_a_writer_is_refused_cleanly(dataset, db):

    import_dataset(dataset, db, today=TODAY)
    writer = duckdb.connect(str(db))
    try:
        writer.execute("INSERT INTO metadata VALUES ('note', 'x')")
        assert db.with_name(db.name + ".wal").exists()
        before = file_digest(db)
        import subprocess
        import sys

        done = subprocess.run(
            [
                sys.executable,
                "-c",
                "import sys; from analysis.ingest import import_dataset; "
                "import_dataset(sys.argv[1], sys.argv[2])",
                str(dataset),
                str(db),
            ],
            capture_output=True,
            text=True,
        )
        assert done.returncode != 0
        assert "close every program using the database" in done.stderr, done.stderr[-800:]
        assert file_digest(db) == before
    finally:
        writer.close()


def test_unwritable_places_are_user_errors_and_change_nothing(tmp_path, dataset, db):
    from analysis.errors import DatabaseError
    from analysis.ingest.pseudonymize import PseudonymKeyError

    blocker = tmp_path / "a-file"
    blocker.write_text("x")
    with pytest.raises(DatabaseError, match="cannot import into"):
        import_dataset(dataset, blocker / "study.duckdb", today=TODAY)
    with pytest.raises(PseudonymKeyError, match="cannot read the key file"):
        import_dataset(dataset, db, key_file=tmp_path, today=TODAY)
    assert not db.exists()
    import_dataset(dataset, db, today=TODAY)
    before = file_digest(db)
    bad = write_dataset(tmp_path / "bad", releases=replace_cell("releases", 0, "sex", "Q"))
    # A folder as the rejects file is refused before any work starts.
    with pytest.raises(UnsafeOutputPathError, match="is a folder"):
        import_dataset(bad, db, skip_invalid=True, rejects=tmp_path, today=TODAY)
    assert file_digest(db) == before
    assert not list(db.parent.glob("*.tmp*"))


@pytest.mark.parametrize("fmt", ["parquet", "xlsx"])
def test_problems_in_parquet_and_xlsx_name_the_spreadsheet_line(tmp_path, fmt):
    from analysis.ingest import validate_dataset

    header, rows = replace_cell("releases", 2, "sex", "Q")
    frame = _typed(pd.DataFrame(rows, columns=list(header)))
    folder = tmp_path / fmt
    folder.mkdir()
    path = folder / f"releases.{fmt}"
    if fmt == "parquet":
        frame.to_parquet(path, index=False)
    else:
        frame.to_excel(path, index=False)
    report = validate_dataset(folder, today=TODAY)
    (problem,) = report.problems
    assert (problem.file, problem.line, problem.column, problem.value) == (
        f"releases.{fmt}",
        4,
        "sex",
        "Q",
    )


def test_columns_left_out_of_a_later_file_keep_their_stored_values(tmp_path, dataset, db):
    import_dataset(dataset, db, today=TODAY)
    # A later export with fewer columns, one facility changed and one new release.
    header = ("release_id", "person_id", "release_date", "facility", "follow_up_end")
    rows = [r[:5] for r in VALID["releases"][1]]
    rows[0] = (*rows[0][:3], "West", rows[0][4])
    rows.append(("R9", "PERSON-NEW-9", "2021-01-01", "North", "2023-12-31"))
    later = write_dataset(tmp_path / "later", tables={"releases": (header, rows)})
    report = import_dataset(later, db, today=TODAY)
    counts = report.tables["releases"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 1, 3)
    stored = _query(
        db,
        "SELECT release_id, facility, sex, age_at_release, risk_score, education_level, "
        "follow_up_end_reason FROM releases ORDER BY release_id",
    )
    assert stored[0] == ("R1", "West", "M", 25.0, 3.5, "primary", "data_cutoff")
    assert stored[-1] == ("R9", "North", None, None, None, None, "data_cutoff")
    # An empty cell in a column that is present does mean "unknown now".
    header, rows = replace_cell("releases", 0, "sex", "")
    emptied = write_dataset(tmp_path / "emptied", tables={"releases": (header, rows)})
    assert import_dataset(emptied, db, today=TODAY).tables["releases"].updated == 1
    assert _query(db, "SELECT sex FROM releases WHERE release_id = 'R1'") == [(None,)]


# ---------------------------------------------------------------- bounded memory paths


def _stored_releases(db):
    return _query(db, "SELECT * EXCLUDE (person_id, batch_id) FROM releases ORDER BY release_id")


def test_quoted_and_plain_csv_files_import_alike(tmp_path, monkeypatch):
    """Plain files are parsed by Arrow, quoted ones by pandas in blocks: same database."""
    from analysis.ingest import readers

    plain = write_dataset(tmp_path / "plain")
    quoted = write_dataset(tmp_path / "quoted")
    for path in quoted.glob("*.csv"):
        rows = list(csv.reader(path.open(encoding="utf-8", newline="")))
        with path.open("w", encoding="utf-8", newline="") as handle:
            csv.writer(handle, quoting=csv.QUOTE_ALL, lineterminator="\n").writerows(rows)
    monkeypatch.setattr(readers, "BLOCK_ROWS", 2)  # several blocks per file
    import_dataset(plain, tmp_path / "a.duckdb", today=TODAY)
    import_dataset(quoted, tmp_path / "b.duckdb", today=TODAY)
    assert _stored_releases(tmp_path / "a.duckdb") == _stored_releases(tmp_path / "b.duckdb")


def test_lines_stay_exact_when_pandas_reads_in_blocks(tmp_path, monkeypatch):
    from analysis.ingest import readers
    from analysis.ingest.validate import validate_dataset

    header, rows = VALID["releases"]
    rows = [list(r) for r in rows]
    rows[0][header.index("facility")] = "North\nWing"  # a quoted line break: pandas path
    rows[3][header.index("release_date")] = "2020-13-01"
    folder = write_dataset(tmp_path / "d", releases=(header, rows))
    monkeypatch.setattr(readers, "BLOCK_ROWS", 1)
    [problem] = validate_dataset(folder, today=TODAY).problems
    assert (problem.kind, problem.line, problem.column) == ("bad_date", 6, "release_date")


def test_an_import_without_rejects_lets_the_raw_cells_go(tmp_path):
    from analysis.ingest.validate import check_dataset

    folder = write_dataset(tmp_path / "d")
    _, kept = check_dataset(folder, today=TODAY)
    _, light = check_dataset(folder, today=TODAY, keep_cells=False)
    assert all(len(t.source.cells) == t.rows for t in kept.values())
    assert all(len(t.source.cells) == 0 for t in light.values())
    assert {n: t.row_ok.tolist() for n, t in kept.items()} == {
        n: t.row_ok.tolist() for n, t in light.items()}


def test_duckdb_spills_beside_the_copy_and_leaves_nothing(tmp_path, dataset, db, monkeypatch):
    monkeypatch.setenv("DESIST_IMPORT_MEMORY_MB", "100")
    import_dataset(dataset, db, today=TODAY)
    assert sorted(p.name for p in db.parent.iterdir()) == [
        "study.duckdb", "study.duckdb.key", "study.duckdb.lock"]


def test_a_killed_imports_spill_folder_is_removed_by_the_next_import(tmp_path, dataset, db):
    leftover = db.parent / "study.duckdb.import-20250101T000000Z-dead.tmp.spill"
    leftover.mkdir(parents=True)
    (leftover / "duckdb_temp_block-1.block").write_bytes(b"x" * 10)
    import_dataset(dataset, db, today=TODAY)
    assert not leftover.exists()


@pytest.mark.parametrize("value", ["lots", "50"])
def test_an_import_memory_setting_that_is_not_usable_is_a_user_error(dataset, db, monkeypatch,
                                                                     value):
    monkeypatch.setenv("DESIST_IMPORT_MEMORY_MB", value)
    with pytest.raises(DesistError, match="DESIST_IMPORT_MEMORY_MB"):
        import_dataset(dataset, db, today=TODAY)
    assert not db.exists()


def test_duckdb_out_of_memory_is_a_user_error_naming_the_setting(dataset, db, monkeypatch):
    import analysis.ingest.importer as importer

    def exhausted(con, batch_id):
        raise duckdb.OutOfMemoryException("Out of Memory Error: failed to allocate")

    monkeypatch.setattr(importer, "refresh_follow_up", exhausted)
    monkeypatch.setenv("DESIST_IMPORT_MEMORY_MB", "500")
    with pytest.raises(DesistError, match="500 MB.*DESIST_IMPORT_MEMORY_MB"):
        import_dataset(dataset, db, today=TODAY)
    assert not db.exists() and not list(db.parent.glob("*.tmp*"))
