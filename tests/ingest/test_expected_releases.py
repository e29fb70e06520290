"""The optional table ``expected_releases``: validation, pseudonyms, all-or-nothing import,
re-imports and covariates."""

from __future__ import annotations

import datetime as dt
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.contract import EXPECTED_RELEASES
from analysis.errors import InvalidDatasetError
from analysis.ingest import import_dataset, validate_dataset
from tests.ingest.conftest import PERSONS, TODAY, folder_state, write_dataset, write_table

FAST = settings(
    derandomize=True,
    max_examples=40,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

HEADER = ("person_id", "expected_release_date", "facility", "release_region", "sex",
          "age_at_release", "prior_convictions", "education_level", "release_type")
ROWS = (
    # A person of releases.csv, back in custody: their pseudonym must join releases.
    (PERSONS[0], "2025-09-01", "North", "Capital", "M", "29.5", "4", "primary", "conditional"),
    # New people; one due before TODAY (a past date is accepted).
    ("NEW-1", "2026-03-15", "South", "", "f", "", "", "secondary", ""),
    ("NEW-2", "2024-11-30", "East", "Hills", "", "51", "0", "", "end_of_sentence"),
)
FILE = "expected_releases.csv"


def _with_expected(folder: Path, header=HEADER, rows=ROWS) -> Path:
    write_dataset(folder)
    write_table(folder, "expected_releases", header, rows)
    return folder


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _problems(folder: Path) -> list:
    return [p for p in validate_dataset(folder, today=TODAY).problems if p.file == FILE]


def test_the_table_exists_empty_without_a_file(dataset, db):
    import_dataset(dataset, db, today=TODAY)
    assert _rows(db, "SELECT count(*) FROM expected_releases") == [(0,)]


def test_imported_rows_stored_with_contract_types_and_joinable_pseudonyms(tmp_path, db):
    report = import_dataset(_with_expected(tmp_path / "d"), db, today=TODAY)
    counts = report.tables["expected_releases"]
    assert (counts.read, counts.inserted, counts.rejected) == (3, 3, 0)
    types = dict(_rows(db, "SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_name = 'expected_releases'"))
    assert types == {
        "person_id": "VARCHAR", "expected_release_date": "DATE", "facility": "VARCHAR",
        "release_region": "VARCHAR", "sex": "VARCHAR", "birth_year": "INTEGER",
        "age_at_release": "DOUBLE", "offense_category": "VARCHAR", "sentence_months": "DOUBLE",
        "prior_convictions": "INTEGER", "release_type": "VARCHAR", "batch_id": "VARCHAR",
        "education_level": "VARCHAR",
    }
    stored = _rows(db, "SELECT expected_release_date, facility, sex, age_at_release, "
                       "prior_convictions FROM expected_releases ORDER BY facility")
    assert stored == [
        (dt.date(2024, 11, 30), "East", None, 51.0, 0),
        (dt.date(2025, 9, 1), "North", "M", 29.5, 4),
        (dt.date(2026, 3, 15), "South", "F", None, None),
    ]
    # The returning person's pseudonym is the one of their releases; the new ones have none.
    joined = _rows(db, "SELECT e.facility, count(r.release_id) FROM expected_releases e "
                       "LEFT JOIN releases r USING (person_id) GROUP BY ALL ORDER BY 1")
    assert joined == [("East", 0), ("North", 2), ("South", 0)]
    raw = db.read_bytes()
    for person in (PERSONS[0], "NEW-1", "NEW-2"):
        assert person.encode() not in raw
    # Covariates of releases are listed in `covariates`; expected_releases adds none there.
    assert {name for (name,) in _rows(db, "SELECT name FROM covariates")} == {
        "education_level", "risk_score"}


def test_dates_after_today_are_accepted_only_here(tmp_path):
    far = [(PERSONS[1], "2031-12-31", "North", "", "", "", "", "", "")]
    assert _problems(_with_expected(tmp_path / "a", rows=far)) == []
    folder = write_dataset(tmp_path / "b", events=(("person_id", "event_date", "event_type"),
                                                   ((PERSONS[0], "2031-12-31", "rearrest"),)))
    kinds = [p.kind for p in validate_dataset(folder, today=TODAY).problems]
    assert kinds == ["future_date"]


@pytest.mark.parametrize(
    ("column", "value", "kind", "expected"),
    [
        ("expected_release_date", "2026-02-30", "bad_date", "a date written YYYY-MM-DD"),
        ("expected_release_date", "15/03/2026", "bad_date", "a date written YYYY-MM-DD"),
        ("expected_release_date", "", "missing_value", "a date written YYYY-MM-DD"),
        ("facility", "", "missing_value", "a non-empty text value"),
        ("sex", "male", "unknown_code", "one of F, M, X, U"),
        ("age_at_release", "7", "bad_number", "a number from 10 to 110"),
        ("prior_convictions", "1.5", "bad_number", "a whole number from 0 to 500"),
    ],
)
def test_bad_cells_name_file_line_column_and_what_was_expected(tmp_path, column, value,
                                                               kind, expected):
    rows = [list(r) for r in ROWS]
    rows[1][HEADER.index(column)] = value
    [problem] = _problems(_with_expected(tmp_path / "d", rows=rows))
    assert (problem.kind, problem.line, problem.column, problem.expected) == (
        kind, 3, column, expected)
    assert str(problem).startswith(f"{FILE}, line 3, column '{column}'")


@pytest.mark.parametrize(
    ("extra", "kind", "words"),
    [
        ("release_id", "unknown_column", "belongs to releases"),
        ("follow_up_end", "unknown_column", "no follow-up yet"),
        ("Last Name", "identifier_column", "direct identifier"),
        ("batch_id", "bad_column_name", "reserved"),
    ],
)
def test_refused_columns(tmp_path, extra, kind, words):
    header = (*HEADER, extra)
    rows = [(*r, "x") for r in ROWS]
    [problem] = _problems(_with_expected(tmp_path / "d", header=header, rows=rows))
    assert (problem.kind, problem.line, problem.column) == (kind, 1, extra)
    assert words in problem.message


def test_missing_required_column(tmp_path):
    header = tuple(h for h in HEADER if h != "facility")
    rows = [tuple(c for h, c in zip(HEADER, r, strict=True) if h != "facility") for r in ROWS]
    [problem] = _problems(_with_expected(tmp_path / "d", header=header, rows=rows))
    assert (problem.kind, problem.column) == ("missing_column", "facility")


def test_same_key_twice_exact_copy_dropped_different_values_refused(tmp_path, db):
    copy = _with_expected(tmp_path / "a", rows=(*ROWS, ROWS[1]))
    report = import_dataset(copy, db, today=TODAY)
    assert report.tables["expected_releases"].duplicates_dropped == 1
    clash = (ROWS[1][0], ROWS[1][1], "West", *ROWS[1][3:])
    [problem] = _problems(_with_expected(tmp_path / "b", rows=(*ROWS, clash)))
    assert (problem.kind, problem.line) == ("duplicate_id", 5)
    assert problem.value == "NEW-1 / 2026-03-15"  # the file's own id, quoted back


def test_a_bad_expected_release_writes_nothing_at_all(tmp_path, existing_db):
    before = folder_state(existing_db.parent)
    rows = [list(r) for r in ROWS]
    rows[2][1] = "2026-13-01"
    folder = _with_expected(tmp_path / "d", rows=rows)
    with pytest.raises(InvalidDatasetError):
        import_dataset(folder, existing_db, today=TODAY)
    assert folder_state(existing_db.parent) == before
    fresh = tmp_path / "new" / "study.duckdb"
    with pytest.raises(InvalidDatasetError):
        import_dataset(folder, fresh, today=TODAY)
    assert not fresh.exists()


def test_reimport_upserts_by_person_and_date_and_deletes_nothing(tmp_path, existing_db):
    first = import_dataset(_with_expected(tmp_path / "a"), existing_db, today=TODAY)
    assert first.tables["expected_releases"].inserted == 3
    again = import_dataset(_with_expected(tmp_path / "b"), existing_db, today=TODAY)
    assert again.tables["expected_releases"].unchanged == 3
    # Moved to another facility: updated. Postponed: a new row beside the old one. Left
    # out of the file: kept. A file without `sex` keeps the stored sex.
    header = tuple(h for h in HEADER if h != "sex")
    moved = (PERSONS[0], "2025-09-01", "West", "Capital", "29.5", "4", "primary", "conditional")
    postponed = ("NEW-1", "2026-06-15", "South", "", "", "", "secondary", "")
    later = import_dataset(_with_expected(tmp_path / "c", header, (moved, postponed)),
                           existing_db, today=TODAY)
    counts = later.tables["expected_releases"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (1, 1, 0)
    stored = _rows(existing_db, "SELECT expected_release_date, facility, sex "
                                "FROM expected_releases ORDER BY 1")
    assert stored == [
        (dt.date(2024, 11, 30), "East", None),
        (dt.date(2025, 9, 1), "West", "M"),
        (dt.date(2026, 3, 15), "South", "F"),
        (dt.date(2026, 6, 15), "South", None),
    ]


def test_covariates_keep_the_kind_they_have_in_releases(tmp_path, db):
    # risk_score is numeric in releases.csv: text in expected_releases is refused.
    header = (*HEADER, "risk_score")
    rows = [(*r, s) for r, s in zip(ROWS, ("2", "high", ""), strict=True)]
    folder = _with_expected(tmp_path / "a", header=header, rows=rows)
    [problem] = _problems(folder)
    assert problem.kind == "conflicting_covariate"
    assert "numeric in releases" in problem.message
    # Numbers in a column that is text in releases are stored as text, like releases'.
    header = (*HEADER, "risk_score", "wing")
    rows = [(*r, "2", w) for r, w in zip(ROWS, ("A", "3", ""), strict=True)]
    import_dataset(_with_expected(tmp_path / "b", header=header, rows=rows), db, today=TODAY)
    types = dict(_rows(db, "SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_name = 'expected_releases'"))
    assert (types["risk_score"], types["education_level"], types["wing"]) == (
        "DOUBLE", "VARCHAR", "VARCHAR")
    # A later import keeps the stored kind of an expected-only column.
    rows = [(*r, "2", "x") for r in ROWS]
    import_dataset(_with_expected(tmp_path / "c", header=header, rows=rows), db, today=TODAY)
    numbers_in_text = [(*r, "2", "7") for r in ROWS]
    later = import_dataset(_with_expected(tmp_path / "d", header=header, rows=numbers_in_text),
                           db, today=TODAY)
    assert later.tables["expected_releases"].updated == 3
    assert _rows(db, "SELECT DISTINCT wing FROM expected_releases") == [("7",)]


def test_a_parquet_file_with_real_dates(tmp_path, db):
    import pandas as pd

    folder = write_dataset(tmp_path / "d")
    pd.DataFrame({"person_id": ["NEW-9"], "expected_release_date": [dt.date(2027, 1, 31)],
                  "facility": ["North"], "prior_convictions": [2]}).to_parquet(
        folder / "expected_releases.parquet")
    import_dataset(folder, db, today=TODAY)
    assert _rows(db, "SELECT expected_release_date, prior_convictions FROM "
                     "expected_releases") == [(dt.date(2027, 1, 31), 2)]


def test_an_expected_release_needs_no_earlier_release(tmp_path):
    strangers = [("NEVER-RELEASED", "2025-08-01", "North", "", "", "", "", "", "")]
    assert validate_dataset(_with_expected(tmp_path / "d", rows=strangers), today=TODAY).ok


# ------------------------------------------------------------------------- properties

DATE_TEXT = st.one_of(
    st.dates().map(dt.date.isoformat),
    st.dates().map(lambda d: d.strftime("%d/%m/%Y")),
    st.from_regex(r"\A[0-9]{4}-[0-9]{2}-[0-9]{2}\Z"),
    st.text(max_size=12),
).filter(lambda text: text == text.strip())  # the reader trims cells: keep the oracle simple


def _is_contract_date(text: str) -> bool:
    try:
        parsed = dt.date.fromisoformat(text)
    except ValueError:
        return False
    return (len(text) == 10 and text[4] == "-" and text[7] == "-"
            and parsed >= dt.date(1900, 1, 1))


@pytest.fixture(scope="module")
def scratch():
    root = Path(tempfile.mkdtemp(prefix="desist-expected-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


@FAST
@given(text=DATE_TEXT, today=st.dates(min_value=dt.date(1990, 1, 1)))
def test_expected_release_date_is_accepted_iff_it_is_a_date(scratch, text, today):
    folder = Path(tempfile.mkdtemp(dir=scratch))
    write_table(folder, "releases", ("release_id", "person_id", "release_date", "facility",
                                     "follow_up_end"),
                [("R1", "P1", "1980-01-01", "North", "1980-06-01")])
    write_table(folder, "expected_releases", ("person_id", "expected_release_date", "facility"),
                [("P1", text, "North")])
    problems = validate_dataset(folder, today=today).problems
    if _is_contract_date(text):
        assert problems == [], [str(p) for p in problems]
    else:
        assert problems, text
        for problem in problems:
            assert (problem.file, problem.line, problem.column) == (
                FILE, 2, "expected_release_date")
            assert problem.kind in {"bad_date", "missing_value", "control_character"}
    shutil.rmtree(folder)


CELL = st.one_of(st.sampled_from(["", "2026-01-01", "M", "x", "-1", "1e309", "42", "é", '"']),
                 st.text(max_size=8))


@FAST
@given(rows=st.lists(st.lists(CELL, min_size=len(EXPECTED_RELEASES.columns),
                              max_size=len(EXPECTED_RELEASES.columns)), max_size=5))
def test_random_rows_are_imported_whole_or_not_at_all(scratch, rows):
    folder = Path(tempfile.mkdtemp(dir=scratch))
    write_dataset(folder)
    write_table(folder, "expected_releases", EXPECTED_RELEASES.column_names, rows)
    report = validate_dataset(folder, today=TODAY)
    for problem in report.problems:
        assert problem.file == FILE and str(problem).startswith(FILE)
        if problem.line is not None:  # a cell or a column: say what was expected
            assert problem.expected
    db = folder / "db" / "study.duckdb"
    try:
        imported = import_dataset(folder, db, today=TODAY)
    except InvalidDatasetError:
        assert not report.ok and not db.exists()
    else:
        assert report.ok
        counts = imported.tables["expected_releases"]
        stored = _rows(db, "SELECT count(*) FROM expected_releases")[0][0]
        assert stored == counts.inserted == counts.read - counts.duplicates_dropped
    shutil.rmtree(folder)
