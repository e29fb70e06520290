"""Documented input limits: checked before the work starts, refused with exit 2 naming the
limit and the environment variable that raises it."""

from __future__ import annotations

import json
import zipfile

import duckdb
import openpyxl
import pandas as pd
import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.contract import LIMITS, MAX_COLUMNS
from analysis.errors import DesistError, InvalidDatasetError
from analysis.ingest import import_dataset, validate_dataset
from tests.ingest.conftest import TODAY, VALID, file_digest, write_dataset


def _only(report, kind="over_limit"):
    found = [p for p in report.problems if p.kind == kind]
    assert len(found) == 1, report.summary_lines()
    return found[0]


def _wide_releases(columns: int, rows: int = 3):
    header, valid_rows = VALID["releases"]
    extra = [f"cov_{i}" for i in range(columns - len(header))]
    return (*header, *extra), [(*r, *(str(j) for j in range(len(extra)))) for r in valid_rows[:rows]]


def test_too_many_columns_are_refused_naming_the_limit_and_its_setting(tmp_path, monkeypatch):
    monkeypatch.delenv("DESIST_MAX_COLUMNS", raising=False)
    folder = write_dataset(tmp_path / "d", releases=_wide_releases(MAX_COLUMNS.default + 1))
    problem = _only(validate_dataset(folder, today=TODAY))
    assert problem.file == "releases.csv"
    assert "501 columns" in problem.message and "limit of 500 columns" in problem.message
    assert "DESIST_MAX_COLUMNS=501" in problem.message


def test_the_command_line_exits_2_and_the_setting_allows_the_file(tmp_path, monkeypatch):
    folder = write_dataset(tmp_path / "d", releases=_wide_releases(40))
    monkeypatch.setenv("DESIST_MAX_COLUMNS", "30")
    runner = CliRunner()
    refused = runner.invoke(main, ["validate", str(folder), "--json"], catch_exceptions=False)
    assert refused.exit_code == 2
    payload = json.loads(refused.output)
    assert payload["problem_counts"] == {"over_limit": 1}
    assert "DESIST_MAX_COLUMNS" in payload["problems"][0]["message"]
    monkeypatch.setenv("DESIST_MAX_COLUMNS", "40")
    assert runner.invoke(main, ["validate", str(folder)], catch_exceptions=False).exit_code == 0


def test_parquet_columns_are_counted_from_the_schema_before_reading(tmp_path, monkeypatch):
    folder = write_dataset(tmp_path / "d", releases=None)
    header, rows = _wide_releases(12)
    pd.DataFrame(rows, columns=header).to_parquet(folder / "releases.parquet")
    monkeypatch.setenv("DESIST_MAX_COLUMNS", "11")

    def never(*_a, **_k):
        raise AssertionError("the whole file was read before its columns were counted")

    monkeypatch.setattr(pd, "read_parquet", never)
    assert "DESIST_MAX_COLUMNS" in _only(validate_dataset(folder, today=TODAY)).message


def test_a_cell_over_the_length_limit_names_its_line_and_column(tmp_path, monkeypatch):
    header, rows = VALID["releases"]
    rows = [list(r) for r in rows]
    rows[2][header.index("facility")] = "N" * 101
    folder = write_dataset(tmp_path / "d", releases=(header, rows))
    monkeypatch.setenv("DESIST_MAX_CELL_CHARS", "100")
    problem = _only(validate_dataset(folder, today=TODAY))
    assert "line 4, column 'facility'" in problem.message
    assert "101 characters" in problem.message and "DESIST_MAX_CELL_CHARS" in problem.message
    monkeypatch.setenv("DESIST_MAX_CELL_CHARS", "101")
    assert validate_dataset(folder, today=TODAY).ok


def test_a_file_over_the_size_limit_is_refused_before_it_is_read(tmp_path, monkeypatch):
    header, rows = VALID["releases"]
    many = [(f"R{i}", *rows[0][1:]) for i in range(20_000)]
    folder = write_dataset(tmp_path / "d", tables={"releases": (header, many)})
    assert (folder / "releases.csv").stat().st_size > 1_000_000
    monkeypatch.setenv("DESIST_MAX_FILE_MB", "1")
    monkeypatch.setattr(pd, "read_csv", lambda *a, **k: pytest.fail("the file was parsed"))
    problem = _only(validate_dataset(folder, today=TODAY))
    assert "limit of 1 MB" in problem.message and "DESIST_MAX_FILE_MB=2" in problem.message


def _write_xlsx(path, header, rows):
    book = openpyxl.Workbook()
    sheet = book.active
    sheet.append(list(header))
    for row in rows:
        sheet.append(list(row))
    book.save(path)


def test_xlsx_zip_bomb_is_refused_from_the_archive_directory(tmp_path, monkeypatch):
    folder = write_dataset(tmp_path / "d", releases=None)
    path = folder / "releases.xlsx"
    _write_xlsx(path, *VALID["releases"])
    with zipfile.ZipFile(path, "a", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/media/padding.bin", b" " * 3_000_000)
    monkeypatch.setenv("DESIST_MAX_XLSX_MB", "2")
    monkeypatch.setattr(pd, "read_excel", lambda *a, **k: pytest.fail("the workbook was parsed"))
    problem = _only(validate_dataset(folder, today=TODAY))
    assert "uncompressed" in problem.message and "DESIST_MAX_XLSX_MB=4" in problem.message


def test_xlsx_rows_are_counted_in_the_archive_before_parsing(tmp_path, monkeypatch):
    folder = write_dataset(tmp_path / "d", releases=None)
    header, rows = VALID["releases"]
    many = [(f"R{i}", *rows[i % len(rows)][1:]) for i in range(30)]
    _write_xlsx(folder / "releases.xlsx", header, many)
    monkeypatch.setenv("DESIST_MAX_XLSX_ROWS", "25")
    monkeypatch.setattr(pd, "read_excel", lambda *a, **k: pytest.fail("the workbook was parsed"))
    problem = _only(validate_dataset(folder, today=TODAY))
    assert "more than 25 rows" in problem.message and "DESIST_MAX_XLSX_ROWS=" in problem.message
    monkeypatch.undo()
    monkeypatch.setenv("DESIST_MAX_XLSX_ROWS", "31")
    assert validate_dataset(folder, today=TODAY).ok


def test_row_tags_split_across_read_chunks_are_counted_once(tmp_path):
    from analysis.ingest.typed_files import _count_sheet_rows

    path = tmp_path / "sheet.zip"
    row = b'<row r="1"><c r="A1"><v>1</v></c></row>'
    body = b"<sheetData>" + row * 100_000 + b"<x:row>" * 7 + b"</sheetData>"
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        archive.writestr("xl/worksheets/sheet1.xml", body)
    with zipfile.ZipFile(path) as archive:
        entry = archive.getinfo("xl/worksheets/sheet1.xml")
        assert _count_sheet_rows(archive, entry, stop_after=10**9) == 100_007
        assert _count_sheet_rows(archive, entry, stop_after=10) <= 100_007


@pytest.mark.parametrize("value", ["many", "0", "-5", "1.5"])
def test_a_limit_setting_that_is_not_a_positive_whole_number_is_a_user_error(monkeypatch, value):
    for limit in LIMITS:
        monkeypatch.setenv(limit.setting, value)
        with pytest.raises(DesistError, match=limit.setting):
            limit.current()


def test_a_thousand_covariates_import_with_the_limit_raised(tmp_path, db, monkeypatch):
    monkeypatch.setenv("DESIST_MAX_COLUMNS", "1100")
    header, rows = VALID["releases"]
    names = [f"score_{i}" for i in range(1000)]
    folder = write_dataset(
        tmp_path / "d",
        releases=(
            (*header, *names),
            [(*r, *(str((k + j) % 7) if j % 2 else f"v{k}" for j in range(1000)))
             for k, r in enumerate(rows)],
        ),
    )
    report = import_dataset(folder, db, today=TODAY)
    assert len(report.new_covariates) == 1002  # with education_level and risk_score
    with duckdb.connect(str(db), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM covariates").fetchone()[0] == 1002
        assert con.execute(
            "SELECT score_1, score_998 FROM releases WHERE release_id = 'R2'"
        ).fetchone() == (2.0, "v1")
        # the NOT NULL constraints and the default survived the rebuild of the table
        ddl = con.execute("SELECT sql FROM duckdb_tables() WHERE table_name = 'releases'"
                          ).fetchone()[0]
        assert "release_id VARCHAR NOT NULL" in ddl
        assert "follow_up_end_reason VARCHAR DEFAULT('data_cutoff') NOT NULL" in ddl


def test_many_new_covariates_on_an_existing_database_keep_rows_and_order(
    tmp_path, existing_db, monkeypatch
):
    with duckdb.connect(str(existing_db), read_only=True) as con:
        before = con.execute("SELECT release_id, education_level FROM releases").fetchall()
    header, rows = VALID["releases"]
    names = [f"extra_{i}" for i in range(40)]
    new_rows = [(f"N{k}", *r[1:]) for k, r in enumerate(rows)]
    folder = write_dataset(
        tmp_path / "d",
        releases=((*header, *names), [(*r, *(str(j) for j in range(40))) for r in new_rows]),
    )
    import_dataset(folder, existing_db, today=TODAY)
    with duckdb.connect(str(existing_db), read_only=True) as con:
        after = con.execute("SELECT release_id, education_level FROM releases").fetchall()
        assert after[: len(before)] == before
        assert con.execute("SELECT count(*) FROM releases WHERE extra_39 = 39").fetchone()[0] == 4


def test_refused_limits_change_nothing(tmp_path, existing_db, monkeypatch):
    folder = write_dataset(tmp_path / "d", releases=_wide_releases(30))
    monkeypatch.setenv("DESIST_MAX_COLUMNS", "20")
    before = file_digest(existing_db)
    with pytest.raises(InvalidDatasetError):
        import_dataset(folder, existing_db, today=TODAY)
    assert file_digest(existing_db) == before


def test_rows_are_counted_before_parsing_in_csv_and_parquet(tmp_path, monkeypatch):
    header, rows = VALID["releases"]
    many = [(f"R{i}", *rows[0][1:]) for i in range(12)]
    csv_folder = write_dataset(tmp_path / "csv", tables={"releases": (header, many)})
    parquet_folder = tmp_path / "parquet"
    parquet_folder.mkdir()
    pd.DataFrame(many, columns=header).to_parquet(parquet_folder / "releases.parquet")
    monkeypatch.setenv("DESIST_MAX_ROWS", "11")
    for folder in (csv_folder, parquet_folder):
        problem = _only(validate_dataset(folder, today=TODAY))
        assert "12 rows" in problem.message and "DESIST_MAX_ROWS=12" in problem.message
    monkeypatch.setenv("DESIST_MAX_ROWS", "12")
    assert validate_dataset(csv_folder, today=TODAY).ok
    assert validate_dataset(parquet_folder, today=TODAY).ok
