"""Sidebar filters, kept in the URL query parameters so a view can be shared as a link.

On a session's first run the widgets start from ``st.query_params``
(:meth:`ViewFilters.from_query`: invalid values are dropped, values absent from the
database are ignored); after every change the URL is rewritten with
:meth:`ViewFilters.to_query`. Other query parameters (a page's own options) are left alone.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from analysis.disclosure import DEFAULT_MIN_CELL
from analysis.survival.episodes import Outcome, Selection
from analysis.views.choices import FilterChoices
from analysis.views.filters import MIN_CELL_CEILING, MIN_CELL_FLOOR, QUERY_KEYS, ViewFilters
from dashboard import cache

#: (Selection field, widget label, FilterChoices attribute) of the multiselect filters.
_MULTI = (
    ("facilities", "Facility", "facilities"),
    ("regions", "Release region", "regions"),
    ("sexes", "Sex", "sexes"),
    ("age_bands", "Age band at release", "age_bands"),
    ("offenses", "Offense category", "offenses"),
)
_KEY = "flt_"


def _initialise(choices: FilterChoices) -> None:
    """Put the URL's filters into the widgets' state (first run of a session only)."""
    start = ViewFilters.from_query(st.query_params.to_dict())
    sel = start.selection
    for field, _, options in _MULTI:
        allowed = getattr(choices, options)
        st.session_state[_KEY + field] = [v for v in getattr(sel, field) if v in allowed]
    first, last = choices.first_release, choices.last_release
    if first is not None and last is not None:
        lo = min(max(sel.release_from or first, first), last)
        hi = max(min(sel.release_to or last, last), lo)
        st.session_state[_KEY + "period"] = (lo, hi)
    events = start.outcome.event_types or ()
    st.session_state[_KEY + "events"] = [e for e in events if e in choices.event_types]
    st.session_state[_KEY + "k"] = start.min_cell
    # Filters the sidebar has no widget for (release years, release types) still apply.
    st.session_state[_KEY + "hidden"] = {"release_years": sel.release_years,
                                         "release_types": sel.release_types}
    st.session_state[_KEY + "ready"] = True


def _reset() -> None:
    for name in list(st.session_state):
        if str(name).startswith(_KEY):
            del st.session_state[name]
    for key in QUERY_KEYS:
        st.query_params.pop(key, None)


def _period(choices: FilterChoices) -> tuple[dt.date | None, dt.date | None]:
    if choices.first_release is None:
        return None, None
    picked = st.date_input(
        "Release period", key=_KEY + "period", min_value=choices.first_release,
        max_value=choices.last_release, format="YYYY-MM-DD",
        help="Releases on these dates, inclusive.")
    picked = tuple(picked) if isinstance(picked, list | tuple) else (picked,)
    lo = picked[0] if picked else None
    hi = picked[1] if len(picked) > 1 else None
    # The whole data range is no restriction: keep it out of the URL.
    return (None if lo == choices.first_release else lo,
            None if hi in (None, choices.last_release) else hi)


def _write_url(filters: ViewFilters) -> None:
    wanted = filters.to_query()
    for key in QUERY_KEYS:
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        elif key in st.query_params:
            del st.query_params[key]


def sidebar_filters() -> ViewFilters:
    """Render the sidebar filters and return them (also written to the URL)."""
    choices: FilterChoices = cache.run_view("choices:filter_choices", ViewFilters())
    if not st.session_state.get(_KEY + "ready"):
        _initialise(choices)
    with st.sidebar:
        st.header("Filters")
        release_from, release_to = _period(choices)
        picked = {field: tuple(st.multiselect(label, getattr(choices, options),
                                              key=_KEY + field, placeholder="All"))
                  for field, label, options in _MULTI}
        st.subheader("Outcome")
        events = st.multiselect(
            "Events that count as reoffending", choices.event_types, key=_KEY + "events",
            placeholder="Any event type",
            help="The first such event after release counts. Empty: every event type.")
        k = st.number_input(
            "Minimum cell size k", min_value=MIN_CELL_FLOOR, max_value=MIN_CELL_CEILING,
            step=1, key=_KEY + "k",
            help=f"Numbers about fewer than k people are hidden (default {DEFAULT_MIN_CELL}).")
        st.button("Reset filters", on_click=_reset, icon=":material/restart_alt:")
    hidden = st.session_state.get(_KEY + "hidden", {})
    filters = ViewFilters(
        Selection(release_from=release_from, release_to=release_to, **picked,
                  release_years=hidden.get("release_years", ()),
                  release_types=hidden.get("release_types", ())),
        Outcome.from_types(list(events) or None),
        int(k),
    )
    _write_url(filters)
    return filters
