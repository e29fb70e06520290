"""Every kind of bad input gives a clear problem (file, line, column, value, expected)
and leaves the database byte-for-byte unchanged."""

from __future__ import annotations

import pytest

from analysis.errors import InvalidDatasetError
from analysis.ingest import import_dataset, validate_dataset
from tests.ingest.conftest import (
    PERSONS,
    TODAY,
    VALID,
    file_digest,
    folder_state,
    replace_cell,
    write_dataset,
    write_table,
)


def _with_extra_column(table: str, column: str, value: str = "x"):
    header, rows = VALID[table]
    return (*header, column), [(*r, value) for r in rows]


def _without_column(table: str, column: str):
    header, rows = VALID[table]
    keep = [i for i, name in enumerate(header) if name != column]
    return tuple(header[i] for i in keep), [tuple(r[i] for i in keep) for r in rows]


# (id, overrides for write_dataset, kind, file, line, column, value, words in `expected`)
ROW_CASES = [
    (
        "bad-date",
        {"releases": replace_cell("releases", 1, "release_date", "2020-13-10")},
        "bad_date",
        "releases.csv",
        3,
        "release_date",
        "2020-13-10",
        "YYYY-MM-DD",
    ),
    (
        "date-in-other-format",
        {"releases": replace_cell("releases", 0, "release_date", "10/01/2020")},
        "bad_date",
        "releases.csv",
        2,
        "release_date",
        "10/01/2020",
        "YYYY-MM-DD",
    ),
    (
        "date-before-1900",
        {"events": replace_cell("events", 2, "event_date", "1850-01-01")},
        "bad_date",
        "events.csv",
        4,
        "event_date",
        "1850-01-01",
        "YYYY-MM-DD",
    ),
    (
        "text-in-number",
        {"releases": replace_cell("releases", 2, "age_at_release", "twenty")},
        "bad_number",
        "releases.csv",
        4,
        "age_at_release",
        "twenty",
        "a number from 10 to 110",
    ),
    (
        "fraction-in-integer",
        {"releases": replace_cell("releases", 0, "prior_convictions", "3.5")},
        "bad_number",
        "releases.csv",
        2,
        "prior_convictions",
        "3.5",
        "a whole number",
    ),
    (
        "negative-number",
        {"releases": replace_cell("releases", 0, "prior_convictions", "-1")},
        "bad_number",
        "releases.csv",
        2,
        "prior_convictions",
        "-1",
        "from 0 to 500",
    ),
    (
        "negative-hours",
        {"participation": replace_cell("participation", 1, "hours", "-4")},
        "bad_number",
        "participation.csv",
        3,
        "hours",
        "-4",
        "at least 0",
    ),
    (
        "unknown-sex-code",
        {"releases": replace_cell("releases", 1, "sex", "Q")},
        "unknown_code",
        "releases.csv",
        3,
        "sex",
        "Q",
        "one of F, M, X, U",
    ),
    (
        "unknown-event-type",
        {"events": replace_cell("events", 0, "event_type", "arrest")},
        "unknown_code",
        "events.csv",
        2,
        "event_type",
        "arrest",
        "rearrest",
    ),
    (
        "unknown-category",
        {"programs": replace_cell("programs", 0, "category", "yoga")},
        "unknown_code",
        "programs.csv",
        2,
        "category",
        "yoga",
        "education",
    ),
    (
        "missing-value",
        {"releases": replace_cell("releases", 3, "facility", "")},
        "missing_value",
        "releases.csv",
        5,
        "facility",
        "",
        "non-empty",
    ),
    (
        "duplicate-release-id",
        {"releases": replace_cell("releases", 2, "release_id", "R1")},
        "duplicate_id",
        "releases.csv",
        4,
        "release_id",
        "R1",
        "each release_id once",
    ),
    (
        "duplicate-program-id",
        {"programs": replace_cell("programs", 1, "program_id", "EDU")},
        "duplicate_id",
        "programs.csv",
        3,
        "program_id",
        "EDU",
        "each program_id once",
    ),
    (
        "event-of-unknown-person",
        {"events": replace_cell("events", 1, "person_id", "NOBODY-1")},
        "unknown_person",
        "events.csv",
        3,
        "person_id",
        "NOBODY-1",
        "releases",
    ),
    (
        "participation-of-unknown-person",
        {"participation": replace_cell("participation", 0, "person_id", "NOBODY-2")},
        "unknown_person",
        "participation.csv",
        2,
        "person_id",
        "NOBODY-2",
        "releases",
    ),
    (
        "participation-unknown-program",
        {"participation": replace_cell("participation", 1, "program_id", "GHOST")},
        "unknown_program",
        "participation.csv",
        3,
        "program_id",
        "GHOST",
        "programs",
    ),
    (
        "follow-up-before-release",
        {"releases": replace_cell("releases", 0, "follow_up_end", "2019-01-01")},
        "date_order",
        "releases.csv",
        2,
        "follow_up_end",
        "2019-01-01",
        "on or after release_date",
    ),
    (
        "end-before-start",
        {"participation": replace_cell("participation", 0, "end_date", "2019-01-01")},
        "date_order",
        "participation.csv",
        2,
        "end_date",
        "2019-01-01",
        "on or after start_date",
    ),
    (
        "future-release",
        {"releases": replace_cell("releases", 1, "release_date", "2030-01-01")},
        "future_date",
        "releases.csv",
        3,
        "release_date",
        "2030-01-01",
        "already happened",
    ),
    (
        "future-event",
        {"events": replace_cell("events", 0, "event_date", "2025-01-02")},
        "future_date",
        "events.csv",
        2,
        "event_date",
        "2025-01-02",
        "already happened",
    ),
]


# (id, overrides, kind, file, column, words in `expected`)
HEADER_CASES = [
    (
        "missing-column",
        {"releases": _without_column("releases", "facility")},
        "missing_column",
        "releases.csv",
        "facility",
        "release_id",
    ),
    (
        "unknown-column-in-events",
        {"events": _with_extra_column("events", "severity")},
        "unknown_column",
        "events.csv",
        "severity",
        "only person_id",
    ),
    (
        "duplicate-column",
        {
            "programs": (
                ("program_id", "name", "category", "setting", "name"),
                [("EDU", "a", "education", "in_prison", "b")],
            )
        },
        "duplicate_column",
        "programs.csv",
        "name",
        "each column once",
    ),
    (
        "bad-covariate-name",
        {"releases": _with_extra_column("releases", "risk score (2020)")},
        "bad_column_name",
        "releases.csv",
        "risk score (2020)",
        "lower-case letters",
    ),
]

IDENTIFIER_COLUMNS = [
    ("releases", "name"),
    ("releases", "National ID"),
    ("releases", "passport"),
    ("releases", "address"),
    ("releases", "phone"),
    ("releases", "email"),
    ("releases", "date_of_birth"),
    ("releases", "Prenom"),
    ("releases", "JMBG"),
    ("releases", "first_name"),
    ("events", "nom"),
    ("participation", "telefon"),
]


def _assert_refused(folder, db, kind, file, *, line=None, column=None, value=None, expected=()):
    """Validation reports the problem, import raises, and the database does not change."""
    report = validate_dataset(folder, today=TODAY)
    assert not report.ok
    matching = [p for p in report.problems if p.kind == kind]
    assert matching, report.summary_lines()
    problem = matching[0]
    assert problem.file == file
    if line is not None:
        assert problem.line == line
    if column is not None:
        assert problem.column == column
    if value is not None:
        assert problem.value == value
    for word in expected:
        assert word in (problem.expected or ""), problem
    text = str(problem)
    assert file in text and (column is None or column in text)
    if value:
        assert f"'{value}'" in text
    before = folder_state(db.parent)
    with pytest.raises(InvalidDatasetError) as caught:
        import_dataset(folder, db, today=TODAY)
    # The import also checks references against the database, so it may find fewer
    # follow-on problems than validation alone; the problem itself is always there.
    assert str(problem) in {str(p) for p in caught.value.report.problems}
    assert "nothing was written" in str(caught.value)
    assert folder_state(db.parent) == before
    return problem


def test_valid_dataset_has_no_problems(dataset):
    report = validate_dataset(dataset, today=TODAY)
    assert report.ok, report.summary_lines()
    assert report.rows_read == {"releases": 4, "programs": 2, "participation": 2, "events": 3}


@pytest.mark.parametrize(
    "overrides, kind, file, line, column, value, expected",
    [case[1:-1] + ((case[-1],),) for case in ROW_CASES],
    ids=[case[0] for case in ROW_CASES],
)
def test_bad_cell_is_reported_and_nothing_is_written(
    tmp_path, existing_db, overrides, kind, file, line, column, value, expected
):
    folder = write_dataset(tmp_path / "bad", **overrides)
    _assert_refused(
        folder, existing_db, kind, file, line=line, column=column, value=value, expected=expected
    )


@pytest.mark.parametrize(
    "overrides, kind, file, column, expected",
    [case[1:-1] + ((case[-1],),) for case in HEADER_CASES],
    ids=[case[0] for case in HEADER_CASES],
)
def test_bad_header_is_reported_and_nothing_is_written(
    tmp_path, existing_db, overrides, kind, file, column, expected
):
    folder = write_dataset(tmp_path / "bad", **overrides)
    _assert_refused(folder, existing_db, kind, file, line=1, column=column, expected=expected)


@pytest.mark.parametrize(
    "table, column", IDENTIFIER_COLUMNS, ids=[f"{t}-{c}" for t, c in IDENTIFIER_COLUMNS]
)
def test_direct_identifier_columns_are_refused(tmp_path, existing_db, table, column):
    folder = write_dataset(tmp_path / "bad", **{table: _with_extra_column(table, column)})
    problem = _assert_refused(
        folder,
        existing_db,
        "identifier_column",
        f"{table}.csv",
        line=1,
        column=column,
        expected=("remove this column",),
    )
    assert "direct identifier" in problem.message


def test_problem_message_names_everything_a_clerk_needs():
    from analysis.ingest import Problem

    text = str(
        Problem(
            "bad_date",
            "releases.csv",
            "not a valid date",
            7,
            "release_date",
            "2020-13-10",
            "a date written YYYY-MM-DD",
        )
    )
    assert text == (
        "releases.csv, line 7, column 'release_date': not a valid date "
        "(found '2020-13-10'); expected a date written YYYY-MM-DD"
    )


def test_every_problem_in_a_file_is_listed_not_only_the_first(tmp_path):
    header, rows = VALID["releases"]
    rows = [list(r) for r in rows]
    for row in rows:
        row[header.index("release_date")] = "not-a-date"
    folder = write_dataset(tmp_path / "d", releases=(header, rows))
    report = validate_dataset(folder, today=TODAY)
    assert [p.line for p in report.problems if p.kind == "bad_date"] == [2, 3, 4, 5]


def test_missing_releases_file(tmp_path, existing_db):
    folder = write_dataset(tmp_path / "bad", releases=None)
    _assert_refused(
        folder,
        existing_db,
        "missing_file",
        "releases.csv",
        expected=("releases.csv, releases.parquet or releases.xlsx",),
    )


def test_two_files_for_one_table(tmp_path, existing_db):
    folder = write_dataset(tmp_path / "bad")
    (folder / "events.xlsx").write_bytes(b"whatever")
    _assert_refused(
        folder, existing_db, "ambiguous_file", "events.csv", expected=("exactly one file",)
    )


def test_missing_folder_is_reported(tmp_path):
    report = validate_dataset(tmp_path / "nowhere", today=TODAY)
    assert report.counts_by_kind() == {"missing_file": 1}


@pytest.mark.parametrize(
    "content, message",
    [
        (b"", "empty"),
        (b"   \n\n  \n", "blank"),
    ],
)
def test_empty_files(tmp_path, existing_db, content, message):
    folder = write_dataset(tmp_path / "bad")
    (folder / "events.csv").write_bytes(content)
    problem = _assert_refused(folder, existing_db, "empty_file", "events.csv")
    assert message in problem.message


def test_releases_with_header_but_no_rows(tmp_path, existing_db):
    folder = write_dataset(tmp_path / "bad", releases=(VALID["releases"][0], []))
    problem = _assert_refused(folder, existing_db, "empty_file", "releases.csv")
    assert "no data rows" in problem.message


def test_latin1_file_is_refused_with_the_line_of_the_bad_byte(tmp_path, existing_db):
    folder = write_dataset(tmp_path / "bad")
    header, rows = VALID["programs"]
    rows = [*rows, ("LAW", "Aide juridique à Mornaguia", "legal_aid", "in_prison", "", "")]
    write_table(folder, "programs", header, rows, encoding="latin-1")
    problem = _assert_refused(
        folder, existing_db, "wrong_encoding", "programs.csv", line=4, expected=("UTF-8",)
    )
    assert "0xe0" in problem.message and "CSV UTF-8" in problem.message


@pytest.mark.parametrize("encoding", ["utf-16", "utf-16-le", "utf-16-be"])
def test_utf16_file_is_refused_as_wrong_encoding(tmp_path, existing_db, encoding):
    folder = write_dataset(tmp_path / "bad")
    write_table(folder, "events", *VALID["events"], encoding=encoding)
    problem = _assert_refused(
        folder, existing_db, "wrong_encoding", "events.csv", line=1, expected=("UTF-8",)
    )
    assert "UTF-16" in problem.message and "CSV UTF-8" in problem.message


def test_utf8_with_bom_is_accepted(tmp_path):
    folder = write_dataset(tmp_path / "d")
    write_table(folder, "releases", *VALID["releases"], encoding="utf-8-sig")
    assert validate_dataset(folder, today=TODAY).ok


GARBAGE = bytes(range(256)) * 8 + b"\x00\x01\x02 not a table \xff\xfe"


@pytest.mark.parametrize("suffix", [".csv", ".parquet", ".xlsx"])
def test_binary_garbage_named_like_a_table_is_refused(tmp_path, existing_db, suffix):
    folder = write_dataset(tmp_path / "bad", events=None)
    (folder / f"events{suffix}").write_bytes(GARBAGE)
    problem = _assert_refused(folder, existing_db, "unreadable_file", f"events{suffix}")
    assert "Traceback" not in str(problem)


@pytest.mark.parametrize("suffix", [".parquet", ".xlsx"])
def test_text_named_parquet_or_xlsx_is_refused(tmp_path, existing_db, suffix):
    folder = write_dataset(tmp_path / "bad", events=None)
    (folder / f"events{suffix}").write_text("person_id,event_date,event_type\nP,2020-01-01,x\n")
    _assert_refused(folder, existing_db, "unreadable_file", f"events{suffix}")


def test_ragged_csv_is_refused(tmp_path, existing_db):
    folder = write_dataset(tmp_path / "bad")
    (folder / "events.csv").write_text(
        f"person_id,event_date,event_type\n{PERSONS[0]},2021-03-01,rearrest,extra,cells\n",
        encoding="utf-8",
    )
    _assert_refused(folder, existing_db, "unreadable_file", "events.csv")


def test_line_numbers_count_quoted_line_breaks_and_blank_lines(tmp_path):
    folder = write_dataset(tmp_path / "d")
    (folder / "releases.csv").write_text(
        "release_id,person_id,release_date,facility,follow_up_end\n"
        'R1,P1,2020-01-01,"North\nwing",2021-01-01\n'
        "\n"
        "R2,P2,2020-01-01,North,2020-13-01\n",
        encoding="utf-8",
    )
    (folder / "events.csv").unlink()
    (folder / "participation.csv").unlink()
    report = validate_dataset(folder, today=TODAY)
    (problem,) = report.problems
    assert (problem.kind, problem.line) == ("bad_date", 5)


def test_validate_writes_nothing(tmp_path, dataset):
    before = folder_state(dataset)
    validate_dataset(dataset, today=TODAY)
    assert folder_state(dataset) == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["dataset"]


def test_import_into_a_file_that_is_not_a_database_is_refused(tmp_path, dataset):
    from analysis.errors import DatabaseError

    target = tmp_path / "notes.duckdb"
    target.write_text("my notes")
    with pytest.raises(DatabaseError):
        import_dataset(dataset, target, today=TODAY)
    assert target.read_text() == "my notes"
    assert file_digest(target) is not None


def test_unusable_releases_file_is_one_problem_not_one_per_event(tmp_path):
    header, rows = VALID["releases"]
    folder = write_dataset(tmp_path / "d", releases=((*header, "email"), [(*r, "") for r in rows]))
    report = validate_dataset(folder, today=TODAY)
    assert report.counts_by_kind() == {"identifier_column": 1}


def test_rows_pointing_at_a_bad_release_row_are_flagged_too(tmp_path):
    # Needed by --skip-invalid: an event must not be loaded when its person's only
    # release row is rejected.
    folder = write_dataset(tmp_path / "d", releases=replace_cell("releases", 1, "sex", "Q"))
    report = validate_dataset(folder, today=TODAY)
    flagged = sorted((p.file, p.line) for p in report.problems if p.kind == "unknown_person")
    assert flagged == [("events.csv", 4), ("participation.csv", 3)]


def test_reserved_column_name_is_refused_not_an_internal_error(tmp_path, existing_db):
    folder = write_dataset(tmp_path / "bad", releases=_with_extra_column("releases", "batch_id"))
    problem = _assert_refused(
        folder,
        existing_db,
        "bad_column_name",
        "releases.csv",
        line=1,
        column="batch_id",
        expected=("another name",),
    )
    assert "bookkeeping" in problem.message


@pytest.mark.parametrize("value", ["inf", "-Infinity", "1e999", "NaN"])
def test_infinite_or_nan_numbers_are_refused(tmp_path, existing_db, value):
    folder = write_dataset(
        tmp_path / "bad", programs=replace_cell("programs", 0, "cost_per_participant", value)
    )
    _assert_refused(
        folder,
        existing_db,
        "bad_number",
        "programs.csv",
        line=2,
        column="cost_per_participant",
        value=value,
    )


def test_covariate_with_an_infinite_value_is_not_numeric(tmp_path):
    folder = write_dataset(
        tmp_path / "d", releases=replace_cell("releases", 0, "risk_score", "inf")
    )
    from analysis.ingest.validate import check_dataset

    report, parsed = check_dataset(folder, today=TODAY)
    assert report.ok
    assert parsed["releases"].covariates["risk_score"] == "categorical"


def test_conflicting_duplicate_events_quote_the_key_as_written(tmp_path):
    header, rows = VALID["events"]
    folder = write_dataset(
        tmp_path / "d",
        events=(
            ("person_id", "event_date", "event_type", "offense_category"),
            [(*rows[0], "theft"), (*rows[0][:2], "Rearrest", "fraud")],
        ),
    )
    report = validate_dataset(folder, today=TODAY)
    (problem,) = report.problems
    assert (problem.kind, problem.line) == ("duplicate_id", 3)
    assert problem.column == "person_id + event_date + event_type"
    assert problem.value == f"{PERSONS[0]} / 2021-03-01 / Rearrest"
