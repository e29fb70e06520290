"""Text values: control characters refused, ids and codes normalised, look-alikes warned
about, reserved names and outside links refused, identifier columns in five languages."""

from __future__ import annotations

import json
import string
import unicodedata

import duckdb
import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from analysis.cli import main
from analysis.contract import (
    RESERVED_COVARIATE_NAMES,
    ZERO_WIDTH_CHARACTERS,
    looks_like_direct_identifier,
)
from analysis.errors import InvalidDatasetError
from analysis.ingest import import_dataset, validate_dataset
from analysis.ingest.values import look_alike_findings, normalise_text
from tests.ingest.conftest import TODAY, VALID, replace_cell, write_dataset


def _kinds(report):
    return report.counts_by_kind()


def _releases_problems(report):
    # a refused release also makes the rows that refer to its person unknown
    return [p for p in report.problems if p.file == "releases.csv"]


# ------------------------------------------------------------------ control characters


def test_a_nul_after_the_first_4_kib_is_refused_not_stored(tmp_path, db):
    header, rows = VALID["releases"]
    padding = [(f"PAD{i}", *rows[0][1:]) for i in range(120)]
    bad = list(rows[2])
    bad[header.index("facility")] = "North\x00gate Prison"
    rows = [*padding, *rows[:2], tuple(bad), *rows[3:]]
    folder = write_dataset(tmp_path / "d", releases=(header, rows))
    assert (folder / "releases.csv").read_bytes().index(b"\x00") > 4096
    with pytest.raises(InvalidDatasetError) as caught:
        import_dataset(folder, db, today=TODAY)
    [problem] = caught.value.report.problems
    assert (problem.kind, problem.line, problem.column) == ("control_character", 124, "facility")
    assert "U+0000 (NUL)" in problem.message
    assert "\\x00" in str(problem) and "\x00" not in str(problem)
    assert not db.exists()


@pytest.mark.parametrize("char", ["\x00", "\x07", "\x1b", "\x7f", "\x85", "\x9b"])
def test_control_characters_are_refused_in_text_codes_ids_and_covariates(tmp_path, char):
    for table, column in (("releases", "facility"), ("releases", "release_id"),
                          ("releases", "education_level"), ("programs", "name"),
                          ("events", "event_type")):
        header, rows = VALID[table]
        value = rows[0][header.index(column)]
        folder = write_dataset(
            tmp_path / f"{table}-{column}",
            **{table: replace_cell(table, 0, column, value[:1] + char + value[1:])},
        )
        problems = [p for p in validate_dataset(folder, today=TODAY).problems
                    if p.kind == "control_character"]
        assert [(p.file, p.line, p.column) for p in problems] == [(f"{table}.csv", 2, column)]


def test_line_breaks_and_tabs_are_allowed_in_free_text_but_not_in_ids(tmp_path):
    folder = write_dataset(
        tmp_path / "text", releases=replace_cell("releases", 0, "facility", "North\nWing\t2")
    )
    assert validate_dataset(folder, today=TODAY).ok
    folder = write_dataset(
        tmp_path / "id", releases=replace_cell("releases", 0, "release_id", "R\n1")
    )
    assert _kinds(validate_dataset(folder, today=TODAY)) == {"control_character": 1}


@settings(max_examples=40, deadline=None, derandomize=True, database=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    prefix=st.text(alphabet=string.ascii_letters + " é", max_size=8),
    # inside the cell: at either end, whitespace-like controls are trimmed with the spaces
    suffix=st.text(alphabet=string.ascii_letters + "ж", min_size=1, max_size=8),
    code=st.sampled_from([c for c in range(0x00, 0xA0) if c < 0x20 or c >= 0x7F]),
)
def test_any_control_character_anywhere_in_a_facility_is_refused(tmp_path, prefix, suffix, code):
    if chr(code) in "\t\n\r":
        return  # allowed in free text (tested above)
    facility = f"F{prefix}{chr(code)}{suffix}"
    folder = write_dataset(
        tmp_path / "p", tables={"releases": replace_cell("releases", 1, "facility", facility)}
    )
    report = validate_dataset(folder, today=TODAY)
    assert [(p.kind, p.line) for p in report.problems] == [("control_character", 3)]


# -------------------------------------------------------------------- normalisation


def test_ids_that_differ_by_a_zero_width_space_or_unicode_form_are_the_same_id(tmp_path):
    for variant in ("R1\u200b", "\u2060R1", "R\ufeff1"):
        folder = write_dataset(
            tmp_path / repr(variant), releases=replace_cell("releases", 1, "release_id", variant)
        )
        [problem] = _releases_problems(validate_dataset(folder, today=TODAY))
        assert (problem.kind, problem.line, problem.value) == ("duplicate_id", 3, "R1")
    nfc, nfd = "R-Š1", unicodedata.normalize("NFD", "R-Š1")
    header, rows = VALID["releases"]
    rows = [(nfc, *rows[0][1:]), (nfd, *rows[1][1:]), *rows[2:]]
    folder = write_dataset(tmp_path / "nfd", releases=(header, rows))
    [problem] = _releases_problems(validate_dataset(folder, today=TODAY))
    assert (problem.kind, problem.line, problem.value) == ("duplicate_id", 3, nfc)


def test_ids_and_text_are_stored_in_nfc_without_zero_width_characters(tmp_path, db):
    nfd_facility = unicodedata.normalize("NFD", "Niš Zapad")
    header, rows = VALID["releases"]
    rows = [list(r) for r in rows]
    rows[0][header.index("release_id")] = unicodedata.normalize("NFD", "R-Đ\u200d1")
    rows[0][header.index("facility")] = nfd_facility
    rows[1][header.index("sex")] = "F\u200b"
    folder = write_dataset(tmp_path / "d", releases=(header, rows))
    import_dataset(folder, db, today=TODAY)
    with duckdb.connect(str(db), read_only=True) as con:
        stored = dict(con.execute("SELECT release_id, facility FROM releases").fetchall())
        sexes = {r[0] for r in con.execute("SELECT sex FROM releases").fetchall()}
    assert stored["R-Đ1"] == unicodedata.normalize("NFC", nfd_facility)
    assert "F" in sexes and all(ch not in "".join(stored) for ch in ZERO_WIDTH_CHARACTERS)


@settings(derandomize=True, database=None)
@given(st.text(alphabet=st.characters(codec="utf-8", exclude_categories=["Cs"]), max_size=20))
def test_normalised_ids_are_nfc_free_of_zero_width_characters_and_stable(text):
    once = normalise_text(pd.Series([text], dtype="str"), identifier=True).iloc[0]
    assert unicodedata.is_normalized("NFC", once)
    assert not any(ch in once for ch in ZERO_WIDTH_CHARACTERS)
    assert normalise_text(pd.Series([once], dtype="str"), identifier=True).iloc[0] == once


# ------------------------------------------------------------------------ look-alikes


def test_an_id_mixing_latin_and_cyrillic_gets_a_warning_in_the_cli_and_json(tmp_path, db):
    disguised = "R-2019-\u0420\u0415"  # Cyrillic Р and Е after Latin R
    folder = write_dataset(
        tmp_path / "d", releases=replace_cell("releases", 3, "release_id", disguised)
    )
    runner = CliRunner()
    checked = runner.invoke(main, ["validate", str(folder)], catch_exceptions=False)
    assert checked.exit_code == 0
    assert "mixed_scripts" in checked.stderr and "line 5" in checked.stderr
    assert "cyrillic, latin" in checked.stderr
    imported = runner.invoke(main, ["import", str(folder), "--db", str(db), "--json",
                                    "--no-stored-views"], catch_exceptions=False)
    assert imported.exit_code == 0, imported.output
    payload = json.loads(imported.output)
    assert payload["warning_counts"] == {"mixed_scripts": 1}
    assert payload["warnings"][0]["line"] == 5 and payload["warnings"][0]["value"] == disguised


def test_two_ids_that_read_alike_across_alphabets_get_a_warning(tmp_path):
    header, rows = VALID["releases"]
    rows = [("PA-1", *rows[0][1:]), ("\u0420\u0410-1", *rows[1][1:]), *rows[2:]]  # Latin vs Cyrillic
    folder = write_dataset(tmp_path / "d", releases=(header, rows))
    report = validate_dataset(folder, today=TODAY)
    assert report.ok
    [warning] = [w for w in report.warnings if w.kind == "look_alike_ids"]
    assert (warning.line, warning.column) == (3, "release_id")
    assert "'PA-1' on line 2" in warning.message


def test_plain_cyrillic_and_latin_ids_are_not_warned_about():
    values = pd.Series(["ПЕТАР-1", "ИВАН-2", "MARKO-3", "Ђорђе"], dtype="str")
    mixed, pairs = look_alike_findings(values)
    assert len(mixed) == 0 and pairs == []


# ------------------------------------------------------------------ reserved names


@pytest.mark.parametrize("name", ["rowid", "age", "programs", "censor_day", "first_rearrest"])
def test_a_covariate_with_an_internal_name_is_refused_with_a_clear_message(tmp_path, db, name):
    header, rows = VALID["releases"]
    folder = write_dataset(
        tmp_path / "d", releases=((*header, name), [(*r, "1") for r in rows])
    )
    with pytest.raises(InvalidDatasetError) as caught:
        import_dataset(folder, db, today=TODAY)
    [problem] = caught.value.report.problems
    assert (problem.kind, problem.line, problem.column) == ("bad_column_name", 1, name)
    assert "reserved" in problem.message and f"'{name}_value'" in problem.expected
    assert not db.exists()


def test_every_reserved_name_would_otherwise_be_a_valid_covariate_name():
    from analysis.contract import COVARIATE_NAME

    assert all(COVARIATE_NAME.match(n) for n in RESERVED_COVARIATE_NAMES)


# --------------------------------------------------------------------- outside links


def test_a_link_out_of_the_dataset_folder_is_refused(tmp_path):
    folder = write_dataset(tmp_path / "d", events=None)
    secret = write_dataset(tmp_path / "elsewhere") / "events.csv"
    (folder / "events.csv").symlink_to(secret)
    [problem] = validate_dataset(folder, today=TODAY).problems
    assert (problem.kind, problem.file) == ("outside_link", "events.csv")
    assert "outside the dataset folder" in problem.message


def test_a_link_inside_the_dataset_folder_and_a_linked_folder_are_read(tmp_path):
    folder = write_dataset(tmp_path / "d", events=None)
    (folder / "archive").mkdir()
    write_dataset(folder / "archive", tables={"events": VALID["events"]})
    (folder / "events.csv").symlink_to(folder / "archive" / "events.csv")
    linked_folder = tmp_path / "linked"
    linked_folder.symlink_to(folder)
    assert validate_dataset(folder, today=TODAY).ok
    assert validate_dataset(linked_folder, today=TODAY).ok


# -------------------------------------------------------------- identifier columns


IDENTIFIER_COLUMNS = [
    "mother_name", "father_name", "mothers_name", "nickname", "patronymic", "maiden_name",
    "ime_oca", "ime_majke", "prezime", "nadimak", "Ime i prezime", "devojacko_prezime",
    "отчество", "фамилия", "имя", "кличка", "ФИО", "име_оца", "презиме", "надимак",
    "اسم_الأب", "اسم_الأم", "اللقب", "الاسم", "laqab", "kunya",
    "nom_du_pere", "nom_de_la_mere", "Nom du père", "surnom", "prenom", "Prénom",
    "nom_de_jeune_fille",
]


@pytest.mark.parametrize("column", IDENTIFIER_COLUMNS)
def test_identifier_columns_in_the_five_languages_are_refused(tmp_path, column):
    assert looks_like_direct_identifier(column)
    header, rows = VALID["releases"]
    folder = write_dataset(tmp_path / "d", releases=((*header, column), [(*r, "x") for r in rows]))
    [problem] = validate_dataset(folder, today=TODAY).problems
    assert (problem.kind, problem.column) == ("identifier_column", column)


@pytest.mark.parametrize(
    "column",
    ["facility_name", "program_name", "offense_name", "education_level", "risk_score",
     "nominal_sentence", "imenik_size", "prison_nickname_policy"],
)
def test_ordinary_covariates_are_not_taken_for_identifiers(column):
    assert not looks_like_direct_identifier(column)


_SEPARATORS = st.sampled_from(["_", " ", "-", ".", ""])


@settings(derandomize=True, database=None)
@given(
    word=st.sampled_from(IDENTIFIER_COLUMNS),
    separator=_SEPARATORS,
    upper=st.booleans(),
    padding=st.sampled_from(["", " ", "\u200b"]),
)
def test_identifier_detection_ignores_case_separators_and_padding(word, separator, upper, padding):
    spelled = word.replace("_", separator).replace(" ", separator)
    spelled = spelled.upper() if upper else spelled
    assert looks_like_direct_identifier(padding + spelled + padding)
