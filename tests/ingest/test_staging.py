"""Validation block by block, staged in DuckDB (issue 12, item 10).

A file is read and checked one block of rows at a time, the block's typed columns are
staged in DuckDB, and the checks that need the whole table run there in SQL. These
tests pin what that must not change or break: the same problems, in the same order,
whatever the block size; raw person ids never in DuckDB, not even in a TEMP table;
never more than a block of cells checked at once.
"""

from __future__ import annotations

import csv
import io
import shutil
import tempfile
from pathlib import Path

import duckdb
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.ingest import import_dataset, readers, validate_dataset
from analysis.ingest import validate as validate_module
from analysis.ingest.pseudonymize import Pseudonymizer
from analysis.ingest.validate import check_dataset
from tests.ingest.conftest import PERSONS, TODAY, VALID, write_dataset

FAST = settings(
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)


def _small_blocks(monkeypatch, rows: int = 1) -> None:
    monkeypatch.setattr(readers, "BLOCK_ROWS", rows)
    monkeypatch.setattr(readers, "_ARROW_BLOCK_BYTES", 64)


def _everything(report) -> tuple:
    return ([str(p) for p in report.problems], [str(w) for w in report.warnings],
            report.rows_read, {t: sorted(r) for t, r in report.bad_rows.items()})


# Cells that trip every kind of check, and repeats (so that keys are duplicated).
RELEASE_CELLS = {
    "release_id": st.sampled_from(["R1", "R2", "R1", "", "R\u0420", "RР", " R2", "R\x00"]),
    "person_id": st.sampled_from([*PERSONS, "", "PERSON-ÄÖ-00012З", "P\u200b1"]),
    "release_date": st.sampled_from(["2020-01-10", "2020-13-01", "", "2030-01-01", "1899-12-31"]),
    "facility": st.sampled_from(["North", "", "Nor\x1bth", '"quoted, cell"']),
    "follow_up_end": st.sampled_from(["2023-12-31", "2019-01-01", "x"]),
    "sex": st.sampled_from(["M", "f", "Q", ""]),
    "age_at_release": st.sampled_from(["25", "-1", "2.5", "inf", ""]),
    "prior_convictions": st.sampled_from(["0", "3", "x"]),
    "education_level": st.sampled_from(["primary", "", "sec\tondary"]),
    "risk_score": st.sampled_from(["1.5", "", "high", "1e999"]),
}
EVENT_CELLS = {
    "person_id": st.sampled_from([*PERSONS, "UNKNOWN-1", ""]),
    "event_date": st.sampled_from(["2021-03-01", "2021-03-01", "2021-02-30", ""]),
    "event_type": st.sampled_from(["rearrest", "Rearrest", "reconviction", "nope"]),
}


def _rows(cells: dict) -> st.SearchStrategy:
    return st.lists(st.fixed_dictionaries(cells), min_size=1, max_size=8)


def _write(folder: Path, table: str, rows: list[dict], quoted: bool) -> None:
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\n",
                            quoting=csv.QUOTE_ALL if quoted else csv.QUOTE_MINIMAL)
    writer.writeheader()
    writer.writerows(rows)
    (folder / f"{table}.csv").write_text(out.getvalue(), encoding="utf-8")


@FAST
@given(releases=_rows(RELEASE_CELLS), events=_rows(EVENT_CELLS), quoted=st.booleans(),
       block=st.sampled_from([1, 2, 3]))
def test_the_report_does_not_depend_on_the_block_size(releases, events, quoted, block):
    folder = Path(tempfile.mkdtemp(prefix="desist-blocks-"))
    try:
        write_dataset(folder, programs=VALID["programs"], participation=VALID["participation"])
        _write(folder, "releases", releases, quoted)
        _write(folder, "events", events, quoted)
        whole = _everything(validate_dataset(folder, today=TODAY))
        with pytest.MonkeyPatch.context() as patch:
            _small_blocks(patch, block)
            in_blocks = _everything(validate_dataset(folder, today=TODAY))
        assert in_blocks == whole
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def test_duplicates_and_references_across_blocks_name_the_first_line(tmp_path, monkeypatch):
    header, rows = VALID["releases"]
    rows = [*rows, rows[0]]  # R1 again, three blocks later
    events = (VALID["events"][0], [*VALID["events"][1], ("NOBODY-1", "2021-01-01", "rearrest")])
    folder = write_dataset(tmp_path / "d", releases=(header, rows), events=events)
    _small_blocks(monkeypatch)
    messages = [str(p) for p in validate_dataset(folder, today=TODAY).problems]
    assert messages == [
        "releases.csv, line 6, column 'release_id': release_id R1 already appears on line 2 "
        "(found 'R1'); expected each release_id once",
        "events.csv, line 5, column 'person_id': this person_id has no valid row in releases "
        "(nor in the database) (found 'NOBODY-1'); expected a person_id of the releases table",
    ]


def test_raw_person_ids_never_reach_duckdb_not_even_a_temp_table(tmp_path, monkeypatch):
    header, rows = VALID["events"]
    rows = [*rows, (PERSONS[2] + "-X", "2021-01-01", "rearrest"), rows[0]]
    folder = write_dataset(tmp_path / "d", events=(header, rows))
    _small_blocks(monkeypatch, 2)
    con = duckdb.connect(":memory:")
    report, parsed = check_dataset(folder, today=TODAY, con=con,
                                   pseudonymizer=Pseudonymizer(bytes(32)))
    # the messages still quote the file's own ids ...
    assert [p.value for p in report.problems if p.kind == "unknown_person"] == [
        PERSONS[2] + "-X"]
    # ... but no staged cell holds one
    tables = [name for (name,) in con.execute(
        "SELECT table_name FROM duckdb_tables() WHERE temporary").fetchall()]
    assert {f"desist_stage_{t}_persons" for t in ("releases", "events")} <= set(tables)
    for table in tables:
        cells = con.execute(f'SELECT * FROM "{table}"').fetchall()
        text = repr(cells)
        assert not any(person in text for person in PERSONS), table
        assert "PERSON-" not in text, table


def test_no_more_than_one_block_of_cells_is_checked_at_once(tmp_path, monkeypatch):
    header, rows = VALID["releases"]
    many = [(f"R{i}", f"P{i}", *row[2:]) for i in range(40) for row in rows[:1]]
    folder = write_dataset(tmp_path / "d", releases=(header, many), events=None,
                           participation=None)
    pd.read_csv(folder / "releases.csv", dtype=str).to_parquet(tmp_path / "r.parquet")
    seen: list[int] = []
    real = validate_module.check_block

    def spy(table, positions, covariates, cells, *args):
        if table.name == "releases":
            seen.append(len(cells))
        return real(table, positions, covariates, cells, *args)

    monkeypatch.setattr(validate_module, "check_block", spy)
    monkeypatch.setattr(readers, "BLOCK_ROWS", 7)
    monkeypatch.setattr(readers, "_ARROW_BLOCK_BYTES", 7 * 60)
    for suffix in (".csv", ".parquet"):
        if suffix == ".parquet":
            (folder / "releases.csv").unlink()
            shutil.copy(tmp_path / "r.parquet", folder / "releases.parquet")
        seen.clear()
        report = import_dataset(folder, tmp_path / f"s{suffix}.duckdb", today=TODAY)
        assert report.tables["releases"].inserted == 40
        assert sum(seen) == 40 and max(seen) <= 10 and len(seen) >= 4, (suffix, seen)
