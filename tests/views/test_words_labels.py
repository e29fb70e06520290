"""Labels, not field names: every table a page shows has words for its headers and codes,
and its numbers in the reader's signs.

The views' tables keep their column codes and cell codes (the JSON and CLI keys); the
pages show them through :func:`analysis.views.words.render_table` and
:func:`analysis.views.display.screen_table`. These tests run every view a page shows on
the demo database and require a header for each of its columns, a word for each code of
the data contract (a new code in the contract fails here until it has one), and the
separators of each language.
"""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.contract import PROGRAM_CATEGORIES, SEX_CODES
from analysis.i18n import LANGUAGES, translator
from analysis.survival.cox import SE_TYPES
from analysis.views.curves import recidivism_curves
from analysis.views.data_quality import completeness, follow_up_coverage, import_history
from analysis.views.display import number_formatter, screen_table, text_number
from analysis.views.filters import ViewFilters
from analysis.views.impact import attrition_rows, balance_rows, impact
from analysis.views.overview import overview
from analysis.views.programs import completion_outcomes, program_catalog, program_effects
from analysis.views.subgroups import subgroups
from analysis.views.terms import (
    CATEGORY_WORDS,
    PROBLEM_KIND_WORDS,
    SE_TYPE_WORDS,
    SEX_WORDS,
    VALUE_WORDS,
    term_label,
    value_label,
)
from analysis.views.words import COLUMNS, column_header, render_table

TRANSLATED = [language for language in LANGUAGES if language != "en"]
#: Separators Babel gives (Latin digits everywhere, see analysis.i18n).
NBSP, NNBSP = "\N{NO-BREAK SPACE}", "\N{NARROW NO-BREAK SPACE}"


def shown_tables(con) -> dict[str, pd.DataFrame]:
    """Every table a dashboard page shows, from its view, on ``con`` with no filters."""
    filters = ViewFilters()
    seen = overview(con, filters)
    curves = recidivism_curves(con, filters, breakdown="sex")
    places = subgroups(con, filters)
    effects = program_effects(con, filters)
    evaluated = impact(con, filters, kind="program", value="VOC-METAL")
    coverage = follow_up_coverage(con, filters)
    history = import_history(con, filters)
    return {
        "overview horizons": seen.horizon_table, "overview cohorts": seen.cohort_table,
        "at risk": curves.at_risk, "curves horizons": curves.horizon_table,
        "catalogue": program_catalog(con, filters),
        "completion": completion_outcomes(con, filters).table,
        "hazard ratios": effects.table,
        "impact rates": evaluated.rates, "impact estimates": evaluated.estimates,
        "attrition": attrition_rows(evaluated, "fr"), "balance": balance_rows(evaluated, "fr"),
        "cross": places.cross_table, "facilities": places.facilities.table,
        "regions": places.regions.table, "cohorts": places.cohorts.table,
        "follow-up bands": coverage.bands, "follow-up complete": coverage.complete,
        "completeness": completeness(con, filters),
        "imports": history.batches, "import files": history.files,
    }


@pytest.fixture(scope="module")
def tables(demo_db):
    from analysis.store import connect_readonly

    con = connect_readonly(demo_db)
    try:
        yield shown_tables(con)
    finally:
        con.close()


def _has_header(column: str) -> bool:
    return column in COLUMNS or re.fullmatch(r"at_\d+", column) is not None


def test_every_column_of_every_shown_table_has_a_header(tables):
    missing = {name: [c for c in map(str, table.columns) if not _has_header(c)]
               for name, table in tables.items()}
    assert not {name: columns for name, columns in missing.items() if columns}, missing


@pytest.mark.parametrize("language", TRANSLATED)
def test_no_header_is_a_code_in_any_language(tables, language):
    tr = translator(language)
    for name, table in tables.items():
        for code, header in zip(table.columns, render_table(table, language).columns,
                                strict=True):
            if str(code) in COLUMNS:
                assert header == tr(COLUMNS[str(code)]) and header != code, (name, code)


def test_coded_values_of_the_shown_tables_are_words(tables):
    hazard = render_table(tables["hazard ratios"], "fr")
    assert set(hazard["Exposition"]) <= {"à la libération", "variable dans le temps (à partir "
                                                               "du début)"}
    assert not {"in_prison", "post_release", "community"} & set(hazard["Cadre"])
    catalogue = render_table(tables["catalogue"], "ar")
    assert not set(PROGRAM_CATEGORIES) & set(catalogue[column_header("category", "ar")])
    assert "robust" not in set(hazard["Erreur type utilisée"].dropna())
    cross = render_table(tables["cross"], "ru")
    assert not set(SEX_CODES) & set(cross[column_header("sex", "ru")])


def test_every_contract_code_has_words_in_every_language():
    assert set(SEX_WORDS) == set(SEX_CODES)
    assert set(CATEGORY_WORDS) == set(PROGRAM_CATEGORIES)
    assert set(SE_TYPE_WORDS) == set(SE_TYPES)
    for language in TRANSLATED:
        for column, words in VALUE_WORDS.items():
            for code in words:
                assert value_label(column, code, language) != value_label(column, code), (
                    language, column, code)


def test_a_value_outside_the_contract_is_shown_as_recorded():
    assert value_label("category", "circus", "fr") == "circus"
    assert value_label("facility", "F", "fr") == "F"  # only a sex column's F is a code


@pytest.mark.parametrize(("term", "language", "expected"), [
    ("sex[F]", "en", "sex: female"),
    ("sex[M]", "fr", "sexe\N{NO-BREAK SPACE}: homme"),
    ("release_year[2025]", "en", "release year: 2025"),
    ("facility[Eastfield Prison]", "en", "facility: Eastfield Prison"),
    ("age_at_release", "ru", translator("ru")("age at release")),
    ("school_grade", "fr", "school_grade"),
])
def test_design_terms_read_as_words(term, language, expected):
    shown = term_label(term, language).replace("\u2068", "").replace("\u2069", "")
    assert shown.replace(NBSP, " ") == expected.replace(NBSP, " ")


def test_a_programme_term_is_named_as_a_programme():
    assert term_label("VOC-METAL", "fr", programs={"VOC-METAL": "Metalwork"}) == (
        "programme\N{NO-BREAK SPACE}: VOC-METAL")
    assert term_label("VOC-METAL", "fr") == "VOC-METAL"


def test_screen_numbers_use_the_language_separators_and_stay_numbers():
    table = pd.DataFrame({"releases": ["5411", "<10"], "people": [12345, 7],
                          "rate": [0.2345, float("nan")], "release_year": [2020, 2021]})
    shown = screen_table(table, "fr", formats={"rate": "percent"})
    assert shown.data["Personnes"].dtype.kind == "i"  # sorts as numbers
    cells = shown.to_string(delimiter="|").replace(NNBSP, " ").replace(NBSP, " ")
    rows = [line.split("|")[1:] for line in cells.splitlines()[1:]]
    assert rows == [["5 411", "12 345", "23,4 %", "2020"], ["<10", "7", "", "2021"]]
    english = screen_table(table, "en", formats={"rate": "percent"}).to_string(delimiter="|")
    assert "5,411|12,345|23.4%|2020" in english


@given(st.integers(min_value=0, max_value=10**12), st.sampled_from(TRANSLATED + ["en"]),
       st.booleans())
def test_a_text_count_keeps_its_value(n, language, below):
    text = ("<" if below else "") + str(n)
    shown = str(text_number(text, translator(language)))
    assert shown.startswith("<") == below
    assert int(re.sub(r"\D", "", shown)) == n


@given(st.text(), st.sampled_from(TRANSLATED))
def test_text_that_is_not_a_number_is_left_alone(text, language):
    if re.fullmatch(r"<?\d+", text):  # a count: written again in the language
        return
    assert text_number(text, translator(language)) == text


@given(st.floats(min_value=-1e9, max_value=1e9, allow_nan=False), st.integers(0, 4))
def test_a_decimal_is_written_with_its_digits(value, digits):
    shown = number_formatter(f"%.{digits}f", translator("sr"))(value)
    # Serbian: "." groups thousands, "," marks decimals
    whole, _, decimals = shown.partition(",")
    assert len(decimals) == digits
    assert float(whole.replace(".", "") + "." + (decimals or "0")) == pytest.approx(
        value, abs=10 ** -digits)


def test_numbers_at_risk_and_percentages_read_in_the_language():
    table = pd.DataFrame({"group": ["all"], "at_6": ["5879"], "complete_pct": [99.5]})
    shown = screen_table(table, "fr", coded=("group",)).to_string(delimiter="|")
    assert shown.replace(NNBSP, " ").splitlines()[1] == "0|toutes les libérations|5 879|99,5"


def test_the_importers_problem_kinds_have_the_importers_words():
    from analysis.ingest.problems import PROBLEM_KINDS, WARNING_KINDS

    assert PROBLEM_KIND_WORDS == {**PROBLEM_KINDS, **WARNING_KINDS}
    problems = pd.DataFrame({"kind": ["bad_date", "something_new"]})
    assert render_table(problems, "fr")["Type"].tolist() == [
        "pas une date écrite AAAA-MM-JJ", "something_new"]
