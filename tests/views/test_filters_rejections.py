"""ViewFilters.parse_query says what of a link it does not use, and what it uses instead."""

from __future__ import annotations

import datetime as dt
from urllib.parse import unquote

from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.contract import EVENT_TYPES
from analysis.disclosure import DEFAULT_MIN_CELL
from analysis.survival.episodes import Selection
from analysis.views.filters import (
    AGE_BAND_LABELS,
    MIN_CELL_CEILING,
    MIN_CELL_FLOOR,
    QUERY_KEYS,
    Rejection,
    ViewFilters,
)
from tests.views.test_filters import filters as any_filters

FIELDS = {*QUERY_KEYS, "period"}
dates = st.dates(min_value=dt.date(1990, 1, 1), max_value=dt.date(2100, 12, 31))
links = st.dictionaries(st.sampled_from([*QUERY_KEYS, "page", "junk"]), st.text(max_size=30))


@settings(max_examples=300, deadline=None)
@given(any_filters)
def test_a_link_the_dashboard_wrote_is_used_whole(value):
    assert ViewFilters.parse_query(value.to_query()) == (value, ())


@settings(max_examples=300, deadline=None)
@given(links)
def test_every_rejection_names_a_value_of_the_link(params):
    value, rejected = ViewFilters.parse_query(params)
    assert value == ViewFilters.from_query(params)  # the old entry point reads the same
    for rejection in rejected:
        assert isinstance(rejection, Rejection) and rejection.field in FIELDS
        if rejection.field == "period":
            start, end = rejection.value.split("/")
            assert (dt.date.fromisoformat(start) > dt.date.fromisoformat(end))
            assert rejection.used == f"{end}/{start}"
        else:
            raw = params[rejection.field]
            items = [unquote(i) for i in raw.split(",")]
            assert rejection.value in (raw.strip(), *items)
    # What was used holds nothing more to reject, and says the same again.
    assert ViewFilters.parse_query(value.to_query()) == (value, ())


@settings(max_examples=200, deadline=None)
@given(st.integers(-10_000, 10_000).filter(lambda k: not MIN_CELL_FLOOR <= k <= MIN_CELL_CEILING)
       .map(str) | st.text(min_size=1, max_size=8).filter(lambda t: not t.strip().isdigit()))
def test_k_out_of_range_or_not_a_number_is_named_with_the_default(k):
    value, rejected = ViewFilters.parse_query({"k": k})
    assert value.min_cell == DEFAULT_MIN_CELL
    if k.strip():
        assert rejected == (Rejection("k", k.strip(), str(DEFAULT_MIN_CELL)),)
    else:  # a blank k is no k at all
        assert rejected == ()


@settings(max_examples=200, deadline=None)
@given(st.integers(MIN_CELL_FLOOR, MIN_CELL_CEILING))
def test_k_in_range_is_used_silently(k):
    assert ViewFilters.parse_query({"k": f" {k} "}) == (ViewFilters(min_cell=k), ())


@settings(max_examples=200, deadline=None)
@given(dates, dates)
def test_a_reversed_period_is_read_the_other_way_round_not_as_one_day(a, b):
    start, end = max(a, b), min(a, b)
    value, rejected = ViewFilters.parse_query({"from": start.isoformat(),
                                               "to": end.isoformat()})
    assert (value.selection.release_from, value.selection.release_to) == (end, start)
    if start == end:
        assert rejected == ()
    else:
        assert rejected == (Rejection("period", f"{start}/{end}", f"{end}/{start}"),)
    # Filters made in code read a reversed period the same way, so links stay stable.
    assert ViewFilters(Selection(release_from=start, release_to=end)) == value


@settings(max_examples=200, deadline=None)
@given(st.text(min_size=1, max_size=12).filter(lambda t: t.strip() != ""))
def test_a_date_that_is_not_a_date_is_named_and_left_out(text):
    try:
        dt.date.fromisoformat(text.strip())
    except ValueError:
        pass
    else:
        return  # a real date: nothing to reject
    value, rejected = ViewFilters.parse_query({"from": text})
    assert value.selection.release_from is None
    assert rejected == (Rejection("from", text.strip(), None),)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(AGE_BAND_LABELS), max_size=3),
       st.lists(st.text(alphabet="abcxyz+-", min_size=1, max_size=6)
                .filter(lambda t: t not in AGE_BAND_LABELS), max_size=3))
def test_unknown_age_bands_are_named_one_by_one(known, unknown):
    items = known + unknown
    value, rejected = ViewFilters.parse_query({"age_band": ",".join(items)})
    assert value.selection.age_bands == tuple(dict.fromkeys(known))
    assert rejected == tuple(Rejection("age_band", u, None) for u in dict.fromkeys(unknown))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.sampled_from(EVENT_TYPES), max_size=3),
       st.lists(st.integers(0, 3000).map(str), max_size=3))
def test_unknown_event_types_and_impossible_years_are_named(events, years):
    value, rejected = ViewFilters.parse_query({"events": ",".join([*events, "bogus"]),
                                               "year": ",".join(years)})
    bad_years = [y for y in dict.fromkeys(years) if not 1900 <= int(y) <= 2200]
    assert Rejection("events", "bogus", None) in rejected
    assert [r.value for r in rejected if r.field == "year"] == bad_years
    assert value.selection.release_years == tuple(
        dict.fromkeys(int(y) for y in years if 1900 <= int(y) <= 2200))
    assert set(value.outcome.event_types or ()) == set(events)


def test_names_only_the_database_knows_are_kept_for_the_sidebar_to_check():
    value, rejected = ViewFilters.parse_query({"facility": "Nowhere Prison", "sex": "Q"})
    assert value.selection.facilities == ("Nowhere Prison",) and rejected == ()
