"""ViewFilters survive the URL and never fail on a hand-edited link."""

from __future__ import annotations

import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.contract import EVENT_TYPES
from analysis.disclosure import DEFAULT_MIN_CELL
from analysis.errors import AnalysisError
from analysis.survival.episodes import Outcome, Selection
from analysis.views.filters import (
    AGE_BAND_LABELS,
    MIN_CELL_CEILING,
    MIN_CELL_FLOOR,
    QUERY_KEYS,
    ViewFilters,
)

texts = st.lists(st.text(min_size=1, max_size=12), max_size=4).map(tuple)
dates = st.none() | st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))
filters = st.builds(
    ViewFilters,
    selection=st.builds(
        Selection,
        release_from=dates,
        release_to=dates,
        facilities=texts,
        regions=texts,
        sexes=texts,
        offenses=texts,
        age_bands=st.lists(st.sampled_from(AGE_BAND_LABELS), max_size=3).map(tuple),
        release_years=st.lists(st.integers(1900, 2200), max_size=3).map(tuple),
        release_types=texts,
    ),
    outcome=st.one_of(
        st.just(Outcome()),
        st.lists(st.sampled_from(EVENT_TYPES), min_size=1, max_size=4).map(Outcome.from_types),
    ),
    min_cell=st.integers(MIN_CELL_FLOOR, MIN_CELL_CEILING),
)


@settings(max_examples=300, deadline=None)
@given(filters)
def test_round_trip(value):
    query = value.to_query()
    assert all(isinstance(k, str) and isinstance(v, str) for k, v in query.items())
    assert set(query) <= set(QUERY_KEYS)
    assert ViewFilters.from_query(query) == value


@settings(max_examples=300, deadline=None)
@given(st.dictionaries(st.sampled_from([*QUERY_KEYS, "page", "junk"]), st.text(max_size=30)))
def test_garbage_never_raises_and_is_sane(params):
    value = ViewFilters.from_query(params)
    assert MIN_CELL_FLOOR <= value.min_cell <= MIN_CELL_CEILING
    assert set(value.selection.age_bands) <= set(AGE_BAND_LABELS)
    assert value.outcome.event_types is None or set(value.outcome.event_types) <= set(EVENT_TYPES)
    # What was kept is stable: reading it back gives the same filters.
    assert ViewFilters.from_query(value.to_query()) == value


def test_defaults_are_omitted_and_commas_survive():
    assert ViewFilters().to_query() == {}
    value = ViewFilters(Selection(facilities=("North, East", "100% open")))
    assert value.to_query() == {"facility": "North%2C East,100%25 open"}
    assert ViewFilters.from_query(value.to_query()) == value


def test_disclosure_cannot_be_switched_off_from_a_link():
    assert ViewFilters.from_query({"k": "1"}).min_cell == DEFAULT_MIN_CELL
    assert ViewFilters.from_query({"k": "25"}).min_cell == 25
    assert ViewFilters.from_query({"events": "rearrest,bogus", "age_band": "55+,old"}) == (
        ViewFilters(Selection(age_bands=("55+",)), Outcome.named("rearrest")))


@pytest.mark.parametrize("k", [0, 1, 4])
def test_filters_made_in_code_refuse_k_below_the_floor(k):
    # Regression: ViewFilters(min_cell=1) was accepted by every view (only a link and
    # the sidebar were bounded), so an API caller could switch suppression off.
    with pytest.raises(AnalysisError, match="at least 5"):
        ViewFilters(min_cell=k)
    assert ViewFilters.from_query({"k": str(k)}).min_cell == DEFAULT_MIN_CELL
    assert ViewFilters(min_cell=MIN_CELL_FLOOR).min_cell == 5


def test_one_constant_names_the_minimum_cell_size():
    from analysis import disclosure
    from analysis.survival import kaplan_meier
    from analysis.views import filters

    assert kaplan_meier.DEFAULT_MIN_GROUP_SIZE == disclosure.DEFAULT_MIN_CELL
    assert filters.MIN_CELL_FLOOR is disclosure.MIN_CELL_FLOOR
