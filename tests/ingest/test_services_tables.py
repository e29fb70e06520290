"""The services directory tables ``providers``, ``services`` and ``referrals``: validation,
lists, regions, references, pseudonyms, all-or-nothing import and re-imports."""

from __future__ import annotations

import datetime as dt
import re
import shutil
import tempfile
from pathlib import Path

import duckdb
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.contract import LIST_SEPARATOR
from analysis.errors import InvalidDatasetError
from analysis.ingest import import_dataset, validate_dataset
from analysis.ingest.checks import split_list
from analysis.ingest.importer import known_ids_in
from analysis.ingest.rejects import csv_rows
from tests.ingest.conftest import PERSONS, TODAY, VALID, folder_state, write_dataset

FAST = settings(
    derandomize=True,
    max_examples=25,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
    database=None,
)

RELEASES_HEADER = ("release_id", "person_id", "release_date", "facility", "follow_up_end",
                   "release_region")
RELEASES = (
    ("R1", PERSONS[0], "2020-01-10", "North", "2023-12-31", "Capital"),
    ("R2", PERSONS[1], "2020-02-10", "North", "2023-12-31", "North Coast"),
    ("R3", PERSONS[0], "2022-05-01", "South", "2023-12-31", "Capital"),
    ("R4", PERSONS[2], "2021-07-15", "East", "2023-12-31", "Hills"),
)
#: A region only people still in custody go to: known through expected_releases.
EXPECTED = (("person_id", "expected_release_date", "facility", "release_region"),
            (("NEW-1", "2025-06-01", "North", "Lakes"),))
PROVIDERS = (
    ("provider_id", "name", "kind", "regions", "phone", "email", "address", "website"),
    (
        ("P-MIN", "Ministry of Social Affairs", "government", "all", "+216 71 000 000", "",
         "1 Avenue Habib Bourguiba", "https://social.example"),
        ("P-NGO", "Hope Association", "NGO", " Capital ; North Coast ;", "",
         "info@hope.example", "", ""),
    ),
)
SERVICES = (
    ("service_id", "provider_id", "service_type", "name", "regions", "sex_served", "languages",
     "capacity_per_year", "valid_from", "valid_to"),
    (
        ("S-HOUSE", "P-MIN", "housing", "Shelter", "ALL", "both", "ar;fr", "120", "2019-01-01",
         ""),
        ("S-DRUG", "P-NGO", "drug_treatment", "", "Capital;Lakes;Capital", "women", "ar", "",
         "", "2030-12-31"),
        ("S-JOBS", "P-NGO", "employment", "Job club", "North Coast", "men", "", "0", "", ""),
    ),
)
REFERRALS = (
    ("person_id", "service_id", "referral_date", "status", "release_id", "first_contact_date"),
    (
        (PERSONS[0], "S-DRUG", "2020-02-01", "attended", "R1", "2020-02-10"),
        (PERSONS[0], "S-HOUSE", "2022-05-03", "completed", "R3", "2022-05-03"),
        (PERSONS[1], "S-JOBS", "2020-03-01", "declined", "", ""),
        (PERSONS[2], "S-HOUSE", "2021-08-01", "referred", "", ""),
    ),
)
DIRECTORY = {
    "releases": (RELEASES_HEADER, RELEASES),
    "programs": VALID["programs"],
    "expected_releases": EXPECTED,
    "providers": PROVIDERS,
    "services": SERVICES,
    "referrals": REFERRALS,
}


def _write(folder: Path, **overrides) -> Path:
    return write_dataset(folder, DIRECTORY, **overrides)


def _changed(table: str, row: int, column: str, value: str) -> dict:
    header, rows = DIRECTORY[table]
    rows = [list(r) for r in rows]
    rows[row][header.index(column)] = value
    return {table: (header, [tuple(r) for r in rows])}


def _with_column(table: str, column: str, value: str) -> dict:
    header, rows = DIRECTORY[table]
    return {table: ((*header, column), [(*r, value) for r in rows])}


def _rows(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


# ------------------------------------------------------------------------ round trip


def test_a_directory_imports_with_lists_pseudonyms_and_counts(tmp_path, db):
    report = import_dataset(_write(tmp_path / "d"), db, today=TODAY)
    counts = {n: (c.read, c.inserted, c.rejected) for n, c in report.tables.items()}
    assert counts["providers"] == (2, 2, 0)
    assert counts["services"] == (3, 3, 0)
    assert counts["referrals"] == (4, 4, 0)
    types = dict(_rows(db, "SELECT column_name, data_type FROM information_schema.columns "
                           "WHERE table_name = 'services'"))
    assert (types["regions"], types["languages"], types["capacity_per_year"]) == (
        "VARCHAR[]", "VARCHAR[]", "INTEGER")
    # Lists trimmed, empty items and repeats dropped; 'all' in any case stored as ['all'];
    # codes stored as the contract spells them.
    assert _rows(db, "SELECT provider_id, kind, regions, phone FROM providers ORDER BY 1") == [
        ("P-MIN", "government", ["all"], "+216 71 000 000"),
        ("P-NGO", "ngo", ["Capital", "North Coast"], None),
    ]
    assert _rows(db, "SELECT service_id, regions, languages, capacity_per_year, valid_from, "
                     "valid_to FROM services ORDER BY 1") == [
        ("S-DRUG", ["Capital", "Lakes"], ["ar"], None, None, dt.date(2030, 12, 31)),
        ("S-HOUSE", ["all"], ["ar", "fr"], 120, dt.date(2019, 1, 1), None),
        ("S-JOBS", ["North Coast"], None, 0, None, None),
    ]
    # Referrals hold the pseudonyms of releases, never the raw ids.
    joined = _rows(db, "SELECT f.service_id, count(r.release_id) FROM referrals f "
                       "JOIN releases r USING (person_id) GROUP BY ALL ORDER BY 1")
    assert joined == [("S-DRUG", 2), ("S-HOUSE", 3), ("S-JOBS", 1)]
    raw = db.read_bytes()
    assert not any(person.encode() in raw for person in PERSONS)
    files = _rows(db, "SELECT table_name, rows_read, rows_inserted FROM import_files "
                      "WHERE table_name IN ('providers', 'services', 'referrals') ORDER BY 1")
    assert files == [("providers", 2, 2), ("referrals", 4, 4), ("services", 3, 3)]


def test_reimport_counts_unchanged_and_updates_changed_rows(tmp_path, db):
    import_dataset(_write(tmp_path / "a"), db, today=TODAY)
    again = import_dataset(_write(tmp_path / "b"), db, today=TODAY)
    for name, rows in (("providers", 2), ("services", 3), ("referrals", 4)):
        counts = again.tables[name]
        assert (counts.inserted, counts.updated, counts.unchanged) == (0, 0, rows), name
    # The same list written in another order or spacing is a change of order only when
    # the order differs: 'Capital;Lakes' again is unchanged, 'Lakes;Capital' is updated.
    moved = _changed("services", 1, "regions", "Lakes ; Capital")
    closed = _changed("services", 0, "valid_to", "2026-06-30")["services"]
    rows = [closed[1][0], moved["services"][1][1], closed[1][2]]
    later = import_dataset(_write(tmp_path / "c", services=(closed[0], rows)), db, today=TODAY)
    counts = later.tables["services"]
    assert (counts.inserted, counts.updated, counts.unchanged) == (0, 2, 1)
    assert _rows(db, "SELECT service_id, regions, valid_to FROM services ORDER BY 1")[:2] == [
        ("S-DRUG", ["Lakes", "Capital"], dt.date(2030, 12, 31)),
        ("S-HOUSE", ["all"], dt.date(2026, 6, 30)),
    ]
    status = _changed("referrals", 2, "status", "attended")
    later = import_dataset(_write(tmp_path / "e", **status), db, today=TODAY)
    assert later.tables["referrals"].updated == 1


def test_later_imports_refer_to_the_stored_directory_and_releases(tmp_path, existing_db):
    first = _write(tmp_path / "a", referrals=None)
    import_dataset(first, existing_db, today=TODAY)
    # A new release only; referrals of people, releases, services and regions stored.
    newcomer = (("R9", "NEW-9", "2024-01-05", "West", "2024-12-31", "Capital"),)
    referrals = (REFERRALS[0], (*REFERRALS[1], ("NEW-9", "S-DRUG", "2024-02-01", "referred",
                                                "R9", "")))
    services = (SERVICES[0], (("S-NEW", "P-NGO", "hiv", "", "Hills;Lakes", "both", "", "", "",
                               ""),))
    later = write_dataset(tmp_path / "b", {"releases": (RELEASES_HEADER, newcomer),
                                           "services": services, "referrals": referrals})
    known = known_ids_in(existing_db)
    checked = validate_dataset(later, today=TODAY, known=known)
    assert checked.ok, [str(p) for p in checked.problems]
    report = import_dataset(later, existing_db, today=TODAY)
    assert report.tables["referrals"].inserted == 5
    # Before the stored release R1 (2020-01-10), and before the stored first release of
    # the second person (2020-02-10): both found in the database.
    early = (REFERRALS[0], ((PERSONS[0], "S-DRUG", "2020-01-01", "referred", "R1", ""),
                            (PERSONS[1], "S-JOBS", "2020-01-01", "referred", "", "")))
    folder = write_dataset(tmp_path / "c", {"releases": (RELEASES_HEADER, newcomer),
                                            "referrals": early})
    problems = validate_dataset(folder, today=TODAY, known=known_ids_in(existing_db)).problems
    assert [(p.kind, p.line) for p in problems] == [("before_release", 2), ("before_release", 3)], [str(p) for p in problems]
    before = folder_state(existing_db.parent)
    with pytest.raises(InvalidDatasetError):
        import_dataset(folder, existing_db, today=TODAY)
    assert folder_state(existing_db.parent) == before


def test_a_parquet_file_may_hold_real_lists(tmp_path, db):
    import pandas as pd

    folder = _write(tmp_path / "d", services=None, referrals=None)
    pd.DataFrame({"service_id": ["S1"], "provider_id": ["P-NGO"], "service_type": ["hiv"],
                  "regions": [["Capital", "Hills"]], "sex_served": ["both"],
                  "languages": [None], "capacity_per_year": [12]}).to_parquet(
        folder / "services.parquet")
    import_dataset(folder, db, today=TODAY)
    assert _rows(db, "SELECT regions, languages, capacity_per_year FROM services") == [
        (["Capital", "Hills"], None, 12)]


def test_a_referral_outside_the_service_dates_is_a_warning(tmp_path, db):
    late = _changed("services", 0, "valid_from", "2023-01-01")
    report = validate_dataset(_write(tmp_path / "d", **late), today=TODAY)
    assert report.ok
    assert [(w.kind, w.file, w.line, w.column, w.value) for w in report.warnings] == [
        ("outside_service_dates", "referrals.csv", 3, "referral_date", "2022-05-03"),
        ("outside_service_dates", "referrals.csv", 5, "referral_date", "2021-08-01"),
    ]
    assert "S-HOUSE runs from 2023-01-01 to now" in report.warnings[0].message
    imported = import_dataset(_write(tmp_path / "e", **late), db, today=TODAY)
    assert imported.tables["referrals"].inserted == 4


def test_dates_of_services_may_lie_in_the_future_referrals_not(tmp_path):
    future = _changed("services", 2, "valid_from", "2026-01-01")
    assert validate_dataset(_write(tmp_path / "a", **future), today=TODAY).ok
    future = _changed("referrals", 3, "referral_date", "2025-02-01")
    [problem] = validate_dataset(_write(tmp_path / "b", **future), today=TODAY).problems
    assert (problem.kind, problem.file, problem.line) == ("future_date", "referrals.csv", 5)


def test_skip_invalid_loads_the_good_referrals_and_rejects_the_bad(tmp_path, db):
    bad = _changed("referrals", 1, "service_id", "S-NONE")
    report = import_dataset(_write(tmp_path / "d", **bad), db, today=TODAY, skip_invalid=True,
                            rejects=tmp_path / "rejects.csv")
    counts = report.tables["referrals"]
    assert (counts.inserted, counts.rejected) == (3, 1)
    [row] = csv_rows(tmp_path / "rejects.csv")
    assert (row["table"], row["line"], row["service_id"]) == ("referrals", "3", "S-NONE")
    assert "unknown_service" not in row["reasons"] and "S-NONE" in row["reasons"]


# ------------------------------------------------------------------------ bad input

BAD_INPUT = [
    pytest.param(_changed("services", 1, "provider_id", "P-GONE"), "unknown_provider",
                 "services.csv", 3, "provider_id", "P-GONE", id="unknown provider"),
    pytest.param(_changed("services", 2, "regions", "North Coast;Atlantis"), "unknown_region",
                 "services.csv", 4, "regions", "Atlantis", id="service in an unknown region"),
    pytest.param(_changed("providers", 1, "regions", "Capital;Mars"), "unknown_region",
                 "providers.csv", 3, "regions", "Mars", id="provider in an unknown region"),
    pytest.param(_changed("services", 0, "regions", "all;Capital"), "bad_list",
                 "services.csv", 2, "regions", "all;Capital", id="all with other regions"),
    pytest.param(_changed("services", 0, "regions", " ; "), "missing_value",
                 "services.csv", 2, "regions", ";", id="a list of nothing"),
    pytest.param(_changed("referrals", 0, "service_id", "S-GONE"), "unknown_service",
                 "referrals.csv", 2, "service_id", "S-GONE", id="unknown service"),
    pytest.param(_changed("referrals", 3, "person_id", "STRANGER"), "unknown_person",
                 "referrals.csv", 5, "person_id", "STRANGER", id="unknown person"),
    pytest.param(_changed("referrals", 2, "release_id", "R77"), "unknown_release",
                 "referrals.csv", 4, "release_id", "R77", id="unknown release"),
    pytest.param(_changed("referrals", 1, "referral_date", "2022-04-30"), "before_release",
                 "referrals.csv", 3, "referral_date", "2022-04-30",
                 id="referral before its release"),
    pytest.param(_changed("referrals", 2, "referral_date", "2020-02-09"), "before_release",
                 "referrals.csv", 4, "referral_date", "2020-02-09",
                 id="referral before the first release, no release_id"),
    pytest.param(_changed("referrals", 0, "first_contact_date", "2020-01-31"), "date_order",
                 "referrals.csv", 2, "first_contact_date", "2020-01-31",
                 id="first contact before referral"),
    pytest.param(_changed("services", 0, "service_type", "cooking"), "unknown_code",
                 "services.csv", 2, "service_type", "cooking", id="unknown service_type"),
    pytest.param(_changed("referrals", 0, "status", "finished"), "unknown_code",
                 "referrals.csv", 2, "status", "finished", id="unknown status"),
    pytest.param(_changed("services", 1, "sex_served", "girls"), "unknown_code",
                 "services.csv", 3, "sex_served", "girls", id="unknown sex_served"),
    pytest.param(_changed("providers", 0, "kind", "church"), "unknown_code",
                 "providers.csv", 2, "kind", "church", id="unknown kind"),
    pytest.param(_changed("services", 2, "capacity_per_year", "-5"), "bad_number",
                 "services.csv", 4, "capacity_per_year", "-5", id="negative capacity"),
    pytest.param(_changed("services", 0, "valid_to", "2018-12-31"), "date_order",
                 "services.csv", 2, "valid_to", "2018-12-31", id="valid_to before valid_from"),
    pytest.param(_with_column("providers", "Focal point", "Amina B."), "unknown_column",
                 "providers.csv", 1, "Focal point", None, id="a staff-name column"),
    pytest.param(_with_column("providers", "prenom", "Amina"), "unknown_column",
                 "providers.csv", 1, "prenom", None, id="a first-name column"),
    pytest.param(_with_column("referrals", "full_name", "Amina B."), "identifier_column",
                 "referrals.csv", 1, "full_name", None, id="a direct identifier in referrals"),
]


@pytest.mark.parametrize(("overrides", "kind", "file", "line", "column", "value"), BAD_INPUT)
def test_bad_input_is_refused_clearly_and_writes_nothing(tmp_path, existing_db, overrides, kind,
                                                         file, line, column, value):
    folder = _write(tmp_path / "d", **overrides)
    problems = validate_dataset(folder, today=TODAY).problems
    # A refused provider or service also refuses the rows that refer to it, saying so.
    knock_on = [p for p in problems if "so this row cannot refer to it" in p.message]
    assert all(re.search(r"in \w+\.csv \(line \d+\) has problems", p.message) for p in knock_on)
    primary = [p for p in problems if p not in knock_on]
    assert [p.kind for p in primary] == [kind], [str(p) for p in problems]
    [problem] = primary
    assert (problem.file, problem.line, problem.column, problem.value) == (
        file, line, column, value)
    assert problem.expected
    assert str(problem).startswith(f"{file}, line {line}, column '{column}': ")
    before = folder_state(existing_db.parent)
    with pytest.raises(InvalidDatasetError):
        import_dataset(folder, existing_db, today=TODAY)
    assert folder_state(existing_db.parent) == before
    fresh = tmp_path / "new" / "study.duckdb"
    with pytest.raises(InvalidDatasetError):
        import_dataset(folder, fresh, today=TODAY)
    assert not fresh.exists()


def test_messages_say_what_was_expected(tmp_path):
    def only(**overrides):
        folder = _write(tmp_path / str(len(list(tmp_path.iterdir()))), **overrides)
        return validate_dataset(folder, today=TODAY).problems[0]

    region = only(**_changed("services", 2, "regions", "Atlantis"))
    assert "known regions: Capital, Hills, Lakes, North Coast" in region.message
    assert region.expected == "release_region values separated by ';', or the single word 'all'"
    staff = only(**_with_column("providers", "contact_person", "Amina B."))
    assert "names of staff are not kept" in staff.message
    assert "public phone, email, address or website" in staff.message
    early = only(**_changed("referrals", 1, "referral_date", "2022-04-30"))
    assert "before the release_date (2022-05-01) of release R3" in early.message
    first = only(**_changed("referrals", 2, "referral_date", "2020-02-09"))
    assert "before the person's first release (2020-02-10)" in first.message
    person = only(**_changed("referrals", 3, "person_id", "STRANGER"))
    assert person.value == "STRANGER"  # the file's own id, not its pseudonym


def test_the_known_regions_listed_stop_at_twenty(tmp_path):
    regions = [f"Region {i:02d}" for i in range(30)]
    releases = [(f"R{i}", f"X{i}", "2020-01-01", "North", "2023-12-31", region)
                for i, region in enumerate(regions)]
    providers = (PROVIDERS[0], (("P1", "Org", "ngo", "Nowhere", "", "", "", ""),))
    folder = write_dataset(tmp_path / "d", {"releases": (RELEASES_HEADER, releases),
                                            "providers": providers})
    [problem] = validate_dataset(folder, today=TODAY).problems
    assert ", ".join(regions[:20]) + " (first 20 of 30)" in problem.message
    assert "Region 20" not in problem.message


def test_regions_of_rows_with_problems_are_not_known(tmp_path):
    # The only release to 'Hills' is invalid: 'Hills' is then unknown to services.
    releases = [list(r) for r in RELEASES]
    releases[3][2] = "2021-13-15"
    services = (SERVICES[0], (("S1", "P-NGO", "hiv", "", "Hills", "both", "", "", "", ""),))
    folder = _write(tmp_path / "d", releases=(RELEASES_HEADER, releases), services=services,
                    referrals=None)
    kinds = [p.kind for p in validate_dataset(folder, today=TODAY).problems]
    assert kinds == ["bad_date", "unknown_region"]


# ------------------------------------------------------------------------ properties

ITEM = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters=";"),
               max_size=8)


@FAST
@given(items=st.lists(ITEM, max_size=6))
def test_split_list_trims_drops_empties_and_repeats(items):
    values = split_list(LIST_SEPARATOR.join(items))
    expected = list(dict.fromkeys(i.strip() for i in items if i.strip()))
    assert values == expected
    assert all(v and v == v.strip() and LIST_SEPARATOR not in v for v in values)
    assert len(set(values)) == len(values)
    assert split_list(LIST_SEPARATOR.join(values)) == values  # idempotent


@FAST
@given(cell=st.text(max_size=20))
def test_split_list_of_any_cell_keeps_every_non_blank_item(cell):
    values = split_list(cell)
    assert set(values) == {p.strip() for p in cell.split(LIST_SEPARATOR) if p.strip()}


@pytest.fixture(scope="module")
def scratch():
    root = Path(tempfile.mkdtemp(prefix="desist-services-"))
    yield root
    shutil.rmtree(root, ignore_errors=True)


LANGUAGES = st.one_of(st.sampled_from(["", ";", "ar;fr", " ar ; ar ;", "en;;ru", "\t", "é;e\u0301"]),
                      st.text(max_size=10))


@FAST
@given(cell=LANGUAGES)
def test_a_languages_cell_is_stored_as_its_list_or_refused_for_a_control_character(scratch,
                                                                                  cell):
    folder = Path(tempfile.mkdtemp(dir=scratch))
    services = _changed("services", 0, "languages", cell)
    _write(folder, **services)
    report = validate_dataset(folder, today=TODAY)
    db = folder / "db" / "study.duckdb"
    if not report.ok:
        primary = [p for p in report.problems if p.file == "services.csv"]
        assert [(p.kind, p.column, p.line) for p in primary] == [
            ("control_character", "languages", 2)]
        with pytest.raises(InvalidDatasetError):
            import_dataset(folder, db, today=TODAY)
        assert not db.exists()
    else:
        import_dataset(folder, db, today=TODAY)
        [(stored,)] = _rows(db, "SELECT languages FROM services WHERE service_id = 'S-HOUSE'")
        # The reader trims the cell and puts it in NFC; the list is the cell's items.
        import unicodedata
        expected = split_list(unicodedata.normalize("NFC", cell.strip()))
        assert stored == (expected or None)
    shutil.rmtree(folder)
