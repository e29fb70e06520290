"""Downloads are for computing: numbers stay numbers, and every file says what it holds.

Each view table is downloaded exactly as the dashboard words it
(:func:`analysis.views.words.render_table`) and read back the way a spreadsheet or an
analyst would: XLSX with openpyxl (cell types), CSV with ``pandas.read_csv(comment="#")``
(column dtypes). The ``#`` block and the second sheet name the selection, the outcome,
``k``, the data date and the tool version; a chart's exported image carries the same.
"""

from __future__ import annotations

import csv
import datetime as dt
import io

import pandas as pd
import plotly.graph_objects as go
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

import analysis
from analysis.survival.episodes import Outcome, Selection
from analysis.views.filters import ViewFilters
from analysis.views.overview import cohort_figure, overview
from analysis.views.programs import program_catalog
from analysis.views.subgroups import subgroups
from analysis.views.tables import (
    FORMULA_PREFIXES,
    DataDates,
    about_rows,
    captioned_figure,
    data_dates,
    figure_caption,
    to_csv_bytes,
    to_xlsx_bytes,
)
from analysis.views.words import column_header, render_table

FILTERS = ViewFilters(Selection(facilities=("Northgate Prison", "Riverside Prison"),
                                release_from=dt.date(2019, 1, 1)),
                      Outcome.from_types(("rearrest",)), min_cell=10)
DATES = DataDates("2025-06-30", "2026-01-02 10:00:00")
#: Count columns of the tables below, and their rate columns.
COUNTS = ("releases", "reoffended", "reoffended_365", "complete_n", "complete_reoffended",
          "participants", "completed", "dropped_out", "ongoing", "other")
RATES = ("km_rate", "km_lower", "km_upper", "complete_rate", "complete_lower",
         "complete_upper", "rate_365", "rate_365_lower", "rate_365_upper")


@pytest.fixture(scope="module")
def tables(demo_db):
    from analysis.store import connect_readonly

    con = connect_readonly(demo_db)
    try:
        result = overview(con, FILTERS)
        places = subgroups(con, FILTERS)
        return {"horizons": result.horizon_table, "cohorts": result.cohort_table,
                "facilities": places.facilities.table, "cross": places.cross_table,
                "catalogue": program_catalog(con, FILTERS)}
    finally:
        con.close()


def _xlsx(table: pd.DataFrame, language: str = "en"):
    shown = render_table(table, language)
    about = about_rows(FILTERS, DATES, language, title="A table")
    book = load_workbook(io.BytesIO(to_xlsx_bytes(shown, "table", about, "About")))
    return shown, book


@pytest.mark.parametrize("name", ["horizons", "cohorts", "facilities", "cross", "catalogue"])
def test_xlsx_cells_are_numbers_and_only_hidden_counts_are_text(tables, name):
    table = tables[name]
    shown, book = _xlsx(table)
    sheet = book["table"]
    header = [c.value for c in sheet[1]]
    assert header == list(shown.columns)
    checked = 0
    for code in table.columns:
        if code not in COUNTS and code not in RATES:
            continue
        column = header.index(column_header(code)) + 1
        for (cell,), value in zip(sheet.iter_rows(min_row=2, min_col=column, max_col=column),
                                  table[code], strict=True):
            if code in RATES:
                # a rate is a number, or an empty cell where it is not shown
                assert cell.value is None or cell.data_type == "n", (name, code, cell.value)
                assert cell.value is None or isinstance(cell.value, float)
            elif isinstance(value, int):
                assert cell.data_type == "n" and cell.value == value, (name, code)
                checked += 1
            else:  # a hidden count: its label or code, as words, in that cell only
                assert cell.data_type == "s" and not str(cell.value).isdigit(), (name, code)
    assert checked > 0, name


def test_xlsx_second_sheet_says_what_the_table_holds(tables):
    _, book = _xlsx(tables["facilities"])
    assert book.sheetnames == ["table", "About"]
    about = {row[0].value: row[1].value for row in book["About"].iter_rows()}
    assert about["Table"] == "A table"
    assert about["Facility"] == "Northgate Prison, Riverside Prison"
    assert about["Release period"] == "2019-01-01 – …"
    assert about["Outcome"].startswith("Reoffending means the first rearrest recorded")
    assert about["Minimum cell size k"].startswith("10: counts of fewer than 10 people")
    assert about["Data cut-off"] == "2025-06-30"
    assert about["Latest import"] == "2026-01-02 10:00:00"
    assert about["Tool version"] == f"Desistance {analysis.__version__}"
    french = {row[0].value: row[1].value for row in _xlsx(tables["facilities"], "fr")[1][
        "About"].iter_rows()}
    assert french["Établissement"] == "Northgate Prison, Riverside Prison"
    assert french["Taille minimale des cellules k"].startswith("10 :")


@pytest.mark.parametrize("name", ["horizons", "cohorts", "facilities", "cross", "catalogue"])
def test_csv_reads_back_with_numeric_columns(tables, name):
    table = tables[name]
    shown = render_table(table, "en")
    data = to_csv_bytes(shown, about_rows(FILTERS, DATES, "en")).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(data), comment="#")
    assert list(back.columns) == list(shown.columns) and len(back) == len(table)
    for code in table.columns:
        header = column_header(code)
        if code in RATES:
            assert pd.api.types.is_float_dtype(back[header]), (name, code)
        elif code in COUNTS:
            numbers = all(isinstance(v, int) for v in table[code])
            # a column of shown counts is read as integers; one with a hidden count
            # keeps its label in that cell only, and every other cell is a number
            if numbers:
                assert pd.api.types.is_integer_dtype(back[header]), (name, code)
            else:
                as_numbers = pd.to_numeric(back[header], errors="coerce")
                assert as_numbers.notna().sum() == sum(isinstance(v, int) for v in table[code])


def test_csv_comment_block_comes_first_and_states_the_facts(tables):
    about = about_rows(FILTERS, DATES, "en", title="Reoffending by facility")
    text = to_csv_bytes(render_table(tables["facilities"], "en"), about).decode("utf-8-sig")
    lines = text.split("\r\n")
    comments = [line for line in lines if line.startswith("#")]
    assert lines[:len(comments)] == comments and len(comments) == len(about)
    parsed = dict(next(csv.reader([line[2:]])) for line in comments)
    assert parsed["Table"] == "Reoffending by facility"
    assert parsed["Minimum cell size k"].startswith("10:")
    assert parsed["Data cut-off"] == "2025-06-30"
    assert parsed["Tool version"] == f"Desistance {analysis.__version__}"
    assert lines[len(comments)].startswith('"Facility"')


@settings(max_examples=100, deadline=None)
@given(st.text(max_size=30), st.one_of(
    st.text(max_size=30),
    st.builds(lambda p, t: p + t, st.sampled_from(FORMULA_PREFIXES), st.text(max_size=10))))
def test_no_name_in_the_comment_block_breaks_the_file_or_runs(label, value):
    # a facility name in the selection comes from the data: it may hold anything
    table = pd.DataFrame({"n": [5, 7], "rate": [0.5, 0.25]})
    data = to_csv_bytes(table, [(label, value), ("k", "10")]).decode("utf-8-sig")
    back = pd.read_csv(io.StringIO(data), comment="#")
    assert back["n"].tolist() == [5, 7] and back["rate"].tolist() == [0.5, 0.25]
    for line in data.split("\r\n")[:2]:
        assert line.startswith("# ")
        cells = next(csv.reader([line[2:]]))
        assert not any(c.startswith(FORMULA_PREFIXES) for c in cells[1:])
    sheet = load_workbook(io.BytesIO(to_xlsx_bytes(table, about=[(label, value)])))["About"]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)


def test_data_dates_come_from_the_database(demo_con):
    dates = data_dates(demo_con, ViewFilters())
    cutoff = demo_con.execute("SELECT max(follow_up_end) FROM releases WHERE "
                              "follow_up_end_reason = 'data_cutoff'").fetchone()[0]
    assert dates.data_cutoff == cutoff.isoformat()
    assert dates.latest_import is not None and dates.latest_import[:4].isdigit()


def test_an_exported_chart_carries_the_caption(demo_con):
    caption = figure_caption(FILTERS, DATES, "en")
    assert caption.startswith("Release period: 2019-01-01 – …; Facility: Northgate Prison, "
                              "Riverside Prison · reoffending: rearrest · k = 10 · "
                              "data cut-off 2025-06-30 · Desistance ")
    figure = cohort_figure(overview(demo_con, FILTERS))
    captioned = captioned_figure(figure, caption)
    note = captioned.layout.annotations[-1]
    assert note.text.replace("<br>", " ") == caption  # wrapped, nothing lost
    assert note.yref == "paper" and note.y == 0 and note.yanchor == "top"
    assert captioned.layout.margin.b > (figure.layout.margin.b or 0)
    assert len(figure.layout.annotations) == len(captioned.layout.annotations) - 1
    # the toolbar's PNG and SVG are drawn from this figure, so they hold the caption;
    # a name from the data is drawn as text
    hostile = captioned_figure(go.Figure(), "Facility: <b>x</b>")
    assert hostile.layout.annotations[-1].text == "Facility: &lt;b&gt;x&lt;/b&gt;"
    assert figure_caption(ViewFilters(), DATES, "ar").startswith("جميع حالات الإفراج")
