"""Table downloads never carry a live spreadsheet formula."""

from __future__ import annotations

import csv
import io

import pandas as pd
from hypothesis import given, settings
from hypothesis import strategies as st
from openpyxl import load_workbook

from analysis.views.tables import (
    FORMULA_PREFIXES,
    neutralize_formulas,
    to_csv_bytes,
    to_xlsx_bytes,
)

# Text biased towards the dangerous first characters.
cells = st.one_of(
    st.text(max_size=15),
    st.builds(lambda p, t: p + t, st.sampled_from(FORMULA_PREFIXES), st.text(max_size=10)),
)


def _unsafe(value) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_PREFIXES)


@settings(max_examples=150, deadline=None)
@given(st.lists(cells, min_size=1, max_size=8), cells.filter(lambda h: h != "n"),
       st.integers(-1000, 1000))
def test_no_cell_starts_a_formula(texts, header, number):
    df = pd.DataFrame({header: texts, "n": [number] * len(texts)})  # header "n" would merge
    rows = list(csv.reader(io.StringIO(to_csv_bytes(df).decode("utf-8-sig"), newline="")))
    assert not _unsafe(rows[0][0])
    assert [r[1] for r in rows[1:]] == [str(number)] * len(texts)  # numbers stay numbers
    assert not any(_unsafe(r[0]) for r in rows[1:])

    sheet = load_workbook(io.BytesIO(to_xlsx_bytes(df, sheet_name="t[1]"))).active
    values = [[c.value for c in row] for row in sheet.iter_rows()]
    assert all(c.data_type != "f" for row in sheet.iter_rows() for c in row)
    assert not any(_unsafe(v) for row in values for v in row)
    assert [row[1] for row in values[1:]] == [number] * len(texts)


def test_escape_is_a_leading_quote_and_keeps_the_text():
    df = pd.DataFrame({"facility": ["=HYPERLINK(\"http://x\")", "@SUM(A1)", "Northgate"]})
    assert neutralize_formulas(df)["facility"].tolist() == [
        "'=HYPERLINK(\"http://x\")", "'@SUM(A1)", "Northgate"]
    sheet = load_workbook(io.BytesIO(to_xlsx_bytes(df, "facilities"))).active
    assert sheet.title == "facilities"
    assert sheet["A2"].value == "'=HYPERLINK(\"http://x\")"
