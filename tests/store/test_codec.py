"""Stored results come back exactly as they were written, and only as this package's classes."""

from __future__ import annotations

import datetime as dt
import json

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.disclosure import DisclosurePolicy
from analysis.impact.rules import MULTIPLE_COMPARISONS, Reason
from analysis.store.codec import decode, encode
from analysis.views.impact import Sensitivity
from analysis.views.programs import ProgramEffects
from analysis.views.words import Note, render_notes

_scalars = st.one_of(
    st.none(), st.booleans(), st.integers(-(2**62), 2**62), st.text(max_size=20),
    st.floats(allow_nan=False), st.sampled_from([float("inf"), float("-inf")]),
    st.dates(), st.datetimes(),
)
_values = st.recursive(
    _scalars,
    lambda inner: st.one_of(
        st.lists(inner, max_size=4),
        st.lists(inner, max_size=4).map(tuple),
        st.dictionaries(st.one_of(st.text(max_size=5), st.integers(), st.tuples(st.integers())),
                        inner, max_size=4),
    ),
    max_leaves=20,
)


@given(_values)
def test_plain_values_come_back_equal_and_of_the_same_type(value):
    back = decode(encode(value))
    assert back == value
    assert type(back) is type(value)


def test_nan_survives():
    assert np.isnan(decode(encode(float("nan"))))


def test_numpy_scalars_come_back_as_python_numbers():
    assert decode(encode({"n": np.int64(3), "x": np.float64(0.5), "b": np.bool_(True)})) == {
        "n": 3, "x": 0.5, "b": True}


def test_tables_keep_their_dtypes_and_index():
    frame = pd.DataFrame({
        "label": pd.Series(["a", None, "c"], dtype=object),
        "level": pd.Categorical(["x", "y", "x"], categories=["y", "x"]),
        "count": pd.array([1, None, 3], dtype="Int64"),
        "rate": [0.1, np.nan, 1.0],
        "day": pd.to_datetime(["2021-01-02", "2022-03-04", None]),
        "flag": [True, False, True],
    }, index=pd.Index([7, 9, 11], name="row"))
    back = decode(encode(frame))
    pd.testing.assert_frame_equal(back, frame)
    series = pd.Series([1.5, 2.5], name="hr")
    pd.testing.assert_series_equal(decode(encode(series)), series)


def test_result_objects_are_rebuilt_as_their_class():
    result = Sensitivity("headline", True, pd.DataFrame({"p": [0.5]}), None, ("a note",))
    back = decode(encode(result))
    assert type(back) is Sensitivity
    assert (back.headline, back.reportable, back.error, back.notes) == (
        "headline", True, None, ("a note",))
    pd.testing.assert_frame_equal(back.estimates, result.estimates)
    assert decode(encode(DisclosurePolicy(k=12))) == DisclosurePolicy(k=12)


def test_a_view_s_notes_come_back_as_notes_and_reasons_and_read_the_same():
    notes = (Note("dropped_zero_time", {"count": "<10"}), MULTIPLE_COMPARISONS,
             Reason("few_outcomes", {"minimum": 10}))
    result = ProgramEffects(pd.DataFrame(), pd.DataFrame(), None, None, False, notes)
    back = decode(encode(result))
    assert back.notes == notes
    assert [type(note) for note in back.notes] == [Note, Reason, Reason]
    assert render_notes(back.notes, "fr") == render_notes(notes, "fr")


@pytest.mark.parametrize("name", ["os:system", "subprocess:Popen", "builtins:eval",
                                  "analysisx.evil:Thing", "analysis"])
def test_classes_from_elsewhere_are_refused(name):
    text = json.dumps({"$dataclass": name, "fields": {}})
    with pytest.raises(ValueError, match="own classes"):
        decode(text)


def test_a_function_of_this_package_is_not_a_class():
    text = json.dumps({"$dataclass": "analysis.store.codec:encode", "fields": {}})
    with pytest.raises(ValueError, match="not a result class"):
        decode(text)


def test_unknown_values_are_refused_when_writing():
    with pytest.raises(TypeError, match="cannot store a value of type set"):
        encode({"a": {1, 2}})


def test_a_date_is_not_confused_with_a_datetime():
    assert type(decode(encode(dt.date(2024, 1, 2)))) is dt.date
    assert type(decode(encode(dt.datetime(2024, 1, 2, 3)))) is dt.datetime
