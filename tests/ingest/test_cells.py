"""Numbers, dates and control characters read in Arrow give pandas' answers.

:mod:`analysis.ingest.cells` replaces ``pd.to_numeric``, ``pd.to_datetime`` and a
regular-expression search in the checks of every block. The references below are the
code the checks ran before, kept here as the definition; hypothesis looks for a cell on
which the two disagree.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd
import pyarrow as pa
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.ingest.cells import control_bytes_possible, iso_dates_of, numbers_of
from analysis.ingest.values import CONTROL_IN_IDS, CONTROL_IN_TEXT, control_character_mask

_TEXT = pd.StringDtype(storage="pyarrow", na_value=np.nan)


def _cells(values) -> pd.Series:
    return pd.Series(list(values), dtype=_TEXT)


def _reference_numbers(cells: pd.Series) -> pd.Series:
    return pd.to_numeric(cells.where(cells != ""), errors="coerce").astype("float64")


def _reference_dates(cells: pd.Series) -> pd.Series:
    shaped = cells.str.match(r"^\d{4}-\d{2}-\d{2}$").fillna(False).to_numpy(dtype=bool)
    return pd.to_datetime(cells.where(shaped), format="%Y-%m-%d", errors="coerce")


def _assert_read_as_pandas_reads(cells: pd.Series) -> None:
    """The same cells are numbers; each is the nearest double (Python's ``float``), at
    most one unit in the last place from pandas' reading (not correctly rounded)."""
    ours, reference = numbers_of(cells).to_numpy(), _reference_numbers(cells).to_numpy()
    assert np.isnan(ours).tolist() == np.isnan(reference).tolist()
    for cell, value, theirs in zip(cells, ours, reference, strict=True):
        if np.isnan(value):
            continue
        assert value == float(cell)  # -0.0 == 0.0
        assert value == theirs or abs(value - theirs) <= np.spacing(abs(value))


_DIGITS = st.text("0123456789", min_size=1, max_size=20)
_NUMBER_LIKE = st.one_of(
    st.builds(lambda sign, whole, frac, exp: f"{sign}{whole}{frac}{exp}",
              st.sampled_from(["", "-", "+"]), st.one_of(st.just(""), _DIGITS),
              st.one_of(st.just(""), st.just("."), _DIGITS.map(lambda d: "." + d)),
              st.one_of(st.just(""), st.builds(lambda e, s, d: f"{e}{s}{d}",
                                               st.sampled_from("eE"),
                                               st.sampled_from(["", "-", "+"]),
                                               st.text("0123456789", max_size=4)))),
    st.sampled_from(["inf", "-inf", "Infinity", "nan", "NaN", "+nan", "iNf", "infinit",
                     "1e999", "4.9e-325", "1_000", "0x10", "1,5", "١٢", "٣.٥", "1d5",
                     "", ".", "-", "e5", "9007199254740993", "12345678901234567890123"]),
    st.floats(allow_nan=True, allow_infinity=True).map(repr),
    st.integers(min_value=-(10**25), max_value=10**25).map(str),
    st.text(max_size=6),
)


@given(st.lists(_NUMBER_LIKE, min_size=1, max_size=30))
def test_numbers_are_read_as_pandas_reads_them(values):
    _assert_read_as_pandas_reads(_cells(values))


@given(_NUMBER_LIKE)
def test_each_cell_is_read_as_pandas_reads_it_alone(value):
    # beside a plain number, a cell Arrow reads is never sent to pandas
    _assert_read_as_pandas_reads(_cells([value, "1"]))


def test_a_block_with_one_word_is_read_cell_by_cell():
    cells = _cells(["3", "three", "", "4.5"])
    assert numbers_of(cells).tolist()[0] == 3.0
    assert np.isnan(numbers_of(cells).tolist()[1])
    assert numbers_of(cells).tolist()[3] == 4.5


def test_a_number_is_read_the_same_beside_a_word():
    long = "+70000.000001000001"  # pandas reads it one unit in the last place low
    alone, beside_a_word = numbers_of(_cells([long])), numbers_of(_cells([long, "three"]))
    assert alone[0] == beside_a_word[0] == float(long)


def test_numbers_keep_the_index_of_their_cells():
    cells = pd.Series(["1", "2"], index=[10, 11], dtype=_TEXT)
    assert list(numbers_of(cells).index) == [10, 11]


_DAY_LIKE = st.one_of(
    st.dates(min_value=pd.Timestamp("0001-01-01").date(),
             max_value=pd.Timestamp("9999-12-31").date()).map(lambda d: d.strftime("%Y-%m-%d")),
    st.builds(lambda y, m, d, sep: f"{y}{sep}{m}{sep}{d}",
              st.text("0123456789", min_size=1, max_size=5),
              st.text("0123456789", min_size=1, max_size=3),
              st.text("0123456789", min_size=1, max_size=3),
              st.sampled_from(["-", "/", "."])),
    st.sampled_from(["2021-02-29", "2020-02-29", "2021-02-30", "2021-04-31", "2021-13-01",
                     "2021-00-10", "2021-01-00", "2021-1-05", "٢٠٢١-٠١-٠١", "2021-01-01T00",
                     "2021-01-01 ", "", "yesterday", "99999-01-01", "0000-01-01"]),
    st.text(max_size=10),
)


@given(st.lists(_DAY_LIKE, min_size=1, max_size=30))
def test_dates_are_read_as_pandas_reads_them(values):
    cells = _cells(values)
    ours, reference = iso_dates_of(cells), _reference_dates(cells)
    # pandas picks the unit from the cells (seconds when none is a date); the days agree
    pd.testing.assert_series_equal(ours, reference.astype("datetime64[us]"), check_names=False)


def test_a_date_that_is_not_a_day_is_missing_not_moved():
    dates = iso_dates_of(_cells(["2021-02-30", "2021-2-03", "2024-02-29"]))
    assert dates.isna().tolist() == [True, True, False]


_TEXT_CELLS = st.text(
    alphabet=st.one_of(
        st.characters(codec="utf-8"),
        st.sampled_from(["\x00", "\t", "\n", "\r", "\x1b", "\x7f", "\x80", "\x85", "\x9f",
                         "\xa0", "£", "«", "é", "\u200b", "Ж", "م"]),
    ),
    max_size=12,
)


@pytest.mark.parametrize("identifier", [True, False])
@given(values=st.lists(_TEXT_CELLS, min_size=1, max_size=20))
def test_control_characters_are_found_as_the_regular_expression_finds_them(identifier, values):
    cells = _cells(values)
    pattern = CONTROL_IN_IDS if identifier else CONTROL_IN_TEXT
    expected = np.array([bool(pattern.search(v)) for v in values])
    assert control_character_mask(cells, identifier=identifier).tolist() == expected.tolist()
    if expected.any():  # the quick test may say "maybe", never "none" when there is one
        assert control_bytes_possible(cells, allow_line_breaks=not identifier)


def test_the_quick_test_clears_plain_text_with_pounds_and_line_breaks():
    cells = _cells(["Café £5 «x»", "line\nbreak\ttab"])
    assert not control_bytes_possible(cells, allow_line_breaks=True)
    assert control_bytes_possible(cells, allow_line_breaks=False)


def test_a_c1_character_is_not_taken_for_a_pound_sign():
    assert re.fullmatch(r"[\x80-\x9f]", "\x85")
    assert control_bytes_possible(_cells(["£", "a\x85"]), allow_line_breaks=True)
    assert not control_bytes_possible(_cells(["£", "a\xa0"]), allow_line_breaks=True)


def test_a_slice_is_judged_by_its_own_cells():
    whole = pa.array(["a\x00b", "plain", "text"], pa.large_string())
    sliced = pd.Series(pd.arrays.ArrowStringArray(whole.slice(1)))
    assert control_character_mask(sliced, identifier=True).tolist() == [False, False]
    assert not control_bytes_possible(sliced, allow_line_breaks=False)
    assert control_bytes_possible(pd.Series(pd.arrays.ArrowStringArray(whole.slice(0, 1))),
                                  allow_line_breaks=False)
