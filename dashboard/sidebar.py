"""Sidebar: the language and the filters, kept in the URL so a view can be shared as a link.

On a session's first run the widgets start from ``st.query_params``
(:meth:`ViewFilters.parse_query`): invalid values, values absent from the database and
dates outside it are replaced, and the page says so (:mod:`dashboard.notices`); after
every change the URL is rewritten with :meth:`ViewFilters.to_query`. Other query
parameters (a page's own options, the language ``lang``) are left alone by the filters.
The language selector keeps ``lang`` in the URL (left out for English).
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from analysis.access.roles import Scope
from analysis.constants import DEFAULT_MIN_CELL
from analysis.survival.episodes import Outcome, Selection
from analysis.views.choices import FilterChoices, filter_choices
from analysis.views.filters import MIN_CELL_CEILING, QUERY_KEYS, Rejection, ViewFilters
from analysis.views.terms import value_label
from analysis.views.words import event_words
from dashboard import auth, cache, notices
from dashboard.auth import current_scope
from dashboard.i18n import DEFAULT_LANGUAGE, LANGUAGE_KEY, LANGUAGES, current_language, t

#: (Selection field, FilterChoices attribute, URL parameter) of the multiselect filters.
_MULTI = (
    ("facilities", "facilities", "facility"),
    ("regions", "regions", "region"),
    ("sexes", "sexes", "sex"),
    ("age_bands", "age_bands", "age_band"),
    ("offenses", "offenses", "offense"),
)
_KEY = "flt_"


def _multi_labels() -> dict[str, str]:
    # Built per run, not at import: the language can change between runs.
    return {"facilities": t("Facility"), "regions": t("Release region"), "sexes": t("Sex"),
            "age_bands": t("Age band at release"), "offenses": t("Offense category")}


def _language_to_url() -> None:
    language = st.session_state.get(LANGUAGE_KEY, DEFAULT_LANGUAGE)
    if language == DEFAULT_LANGUAGE:
        st.query_params.pop(LANGUAGE_KEY, None)
    elif st.query_params.get(LANGUAGE_KEY) != language:
        st.query_params[LANGUAGE_KEY] = language


def language_selector() -> str:
    """The language choice at the top of the sidebar; returns the language code.

    The URL's ``lang`` wins over the session (a link opens in its language); an unknown
    code falls back to the session's language (English at first), is named in the page's
    notice and is removed from the URL.
    """
    language = current_language()
    asked = st.query_params.get(LANGUAGE_KEY)
    if asked is not None and asked not in LANGUAGES:
        notices.report([Rejection(LANGUAGE_KEY, asked, LANGUAGES[language])])
    if st.session_state.get(LANGUAGE_KEY) != language:
        st.session_state[LANGUAGE_KEY] = language
    # A fixed, bilingual label: whoever cannot read the current language still finds it.
    st.sidebar.selectbox("Language / Langue / اللغة / Язык / Jezik", list(LANGUAGES),
                         format_func=LANGUAGES.get, key=LANGUAGE_KEY,
                         on_change=_language_to_url)
    _language_to_url()
    return st.session_state[LANGUAGE_KEY]


def _initialise(choices: FilterChoices) -> None:
    """Put the URL's filters into the widgets' state (first run of a session only), and
    name in the page's notice what of them cannot be used."""
    start, parsed = ViewFilters.parse_query(st.query_params.to_dict())
    rejected = list(parsed)
    scope = current_scope()
    out_of_reach: list[Rejection] = []
    sel = start.selection
    for field, options, param in _MULTI:
        allowed = getattr(choices, options)
        st.session_state[_KEY + field] = [v for v in getattr(sel, field) if v in allowed]
        refused = [Rejection(param, v, None) for v in getattr(sel, field) if v not in allowed]
        # A place outside a limited scope is not "not in the data": nothing is shown.
        if scope.is_restricted and field in ("facilities", "regions"):
            out_of_reach += refused
        else:
            rejected += refused
    first, last = choices.first_release, choices.last_release
    if first is not None and last is not None:
        lo, hi = sel.release_from or first, sel.release_to or last
        # A bound outside the data would pin the period to its first or last day: the
        # whole data range is used on that side instead.
        if lo > last:
            rejected.append(Rejection("from", lo.isoformat(), first.isoformat()))
            lo = first
        if hi < first:
            rejected.append(Rejection("to", hi.isoformat(), last.isoformat()))
            hi = last
        st.session_state[_KEY + "period"] = (max(lo, first), min(hi, last))
    events = start.outcome.event_types or ()
    st.session_state[_KEY + "events"] = [e for e in events if e in choices.event_types]
    rejected += [Rejection("events", e, None) for e in events if e not in choices.event_types]
    k = scope.min_cell(start.min_cell)
    if k != start.min_cell and "k" in st.query_params:
        rejected.append(Rejection("k_account", str(start.min_cell), str(k)))
    st.session_state[_KEY + "k"] = k
    # Filters the sidebar has no widget for (release years, release types) still apply.
    st.session_state[_KEY + "hidden"] = {"release_years": sel.release_years,
                                         "release_types": sel.release_types}
    st.session_state[_KEY + "ready"] = True
    notices.report(rejected)
    if out_of_reach:
        auth.record("access_refused", link={r.field: r.value for r in out_of_reach})
        notices.refuse_out_of_reach(out_of_reach)


def reset_filters() -> None:
    """Clear every filter, in the widgets and in the URL (a button's ``on_click``)."""
    for name in list(st.session_state):
        if str(name).startswith(_KEY):
            del st.session_state[name]
    for key in QUERY_KEYS:
        st.query_params.pop(key, None)


def _period(choices: FilterChoices) -> tuple[dt.date | None, dt.date | None]:
    if choices.first_release is None:
        return None, None
    picked = st.date_input(
        t("Release period"), key=_KEY + "period", min_value=choices.first_release,
        max_value=choices.last_release, format="YYYY-MM-DD",
        help=t("Releases on these dates, inclusive."))
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


def _min_cell_input(scope: Scope) -> int:
    """The minimum cell size: chosen from the account's floor up, or fixed for it."""
    if not scope.may_change_min_cell:
        k = scope.min_cell()
        st.caption(t("Minimum cell size k: {k}, set for your account.", k=k))
        return k
    if st.session_state.get(_KEY + "k", scope.min_cell_floor) < scope.min_cell_floor:
        st.session_state[_KEY + "k"] = scope.min_cell_floor
    return int(st.number_input(
        t("Minimum cell size k"), min_value=scope.min_cell_floor,
        max_value=MIN_CELL_CEILING, step=1, key=_KEY + "k",
        help=t("Numbers about fewer than k people are hidden (default {k}).",
               k=max(DEFAULT_MIN_CELL, scope.min_cell_floor))))


def sidebar_filters() -> ViewFilters:
    """Render the sidebar filters and return them (also written to the URL)."""
    choices: FilterChoices = cache.run_view(filter_choices, ViewFilters())
    if not st.session_state.get(_KEY + "ready"):
        _initialise(choices)
    with st.sidebar:
        st.header(t("Filters"))
        release_from, release_to = _period(choices)
        labels = _multi_labels()
        # Sex codes (F, M, X, U) in words; the other filters list names from the data.
        sex_words = {s: str(value_label("sex", s, current_language())) for s in choices.sexes}
        formats = {"sexes": lambda s: sex_words.get(s, s)}
        picked = {field: tuple(st.multiselect(labels[field], getattr(choices, options),
                                              key=_KEY + field, placeholder=t("All"),
                                              format_func=formats.get(field, str)))
                  for field, options, _ in _MULTI}
        st.subheader(t("Outcome"))
        # Looked up now, in this run's language: Streamlit may call format_func later.
        event_labels = {e: event_words(e, current_language()) for e in choices.event_types}
        events = st.multiselect(
            t("Events that count as reoffending"), choices.event_types, key=_KEY + "events",
            placeholder=t("Any event type"), format_func=lambda e: event_labels.get(e, e),
            help=t("The first such event after release counts. Empty: every event type."))
        k = _min_cell_input(current_scope())
        st.button(t("Reset filters"), on_click=reset_filters, icon=":material/restart_alt:")
    hidden = st.session_state.get(_KEY + "hidden", {})
    filters = ViewFilters(
        Selection(release_from=release_from, release_to=release_to, **picked,
                  release_years=hidden.get("release_years", ()),
                  release_types=hidden.get("release_types", ())),
        Outcome.from_types(list(events) or None),
        int(k),
        scope=current_scope(),
    )
    _write_url(filters)
    return filters
