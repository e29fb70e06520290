"""The Services and coverage page's filters, kept in the URL so that a shared link opens
the same view.

The region the details show (``?service_region=``), the service type
(``?service_type=``) and the as-of date (``?as_of=YYYY-MM-DD``) are read from the link
when the page first opens in a session; a value that cannot be used is named in the
page's one notice (:mod:`dashboard.notices`) with what is used instead. After that the
widgets own the values and the URL follows them; default values are left out of it.
"""

from __future__ import annotations

import datetime as dt

import streamlit as st

from analysis.contract import SERVICE_TYPES as VOCABULARY
from analysis.views.filters import Rejection
from analysis.views.services import ServicesSpan
from analysis.views.services_link import SERVICES_KEYS, ServicesChoice, parse_services_query
from analysis.views.services_words import service_type_name
from dashboard import notices
from dashboard.i18n import current_language, t

#: The widget key of each filter.
INPUT_KEYS = {"service_region": "svc_region", "service_type": "svc_type", "as_of": "svc_as_of"}
_LINK_REGION = "svc_link_region"  # the link's region, checked once the regions are known
#: Every service type of the vocabulary, "" first (every type).
SERVICE_TYPES: tuple[str, ...] = ("", *VOCABULARY)


def type_and_date(span: ServicesSpan, type_column, date_column) -> tuple[str, str]:
    """The service type and as-of widgets (in the columns given), opened from the link;
    returns ``(service_type, as_of)`` (``""``: every type; the as-of day in ISO, ``""``
    for the data's last day)."""
    if INPUT_KEYS["service_type"] not in st.session_state:
        opened, rejected = parse_services_query(st.query_params.to_dict(), (),
                                                SERVICE_TYPES[1:], span)
        st.session_state[INPUT_KEYS["service_type"]] = opened.service_type
        st.session_state[INPUT_KEYS["as_of"]] = (dt.date.fromisoformat(opened.as_of)
                                                 if opened.as_of else span.last)
        st.session_state[_LINK_REGION] = str(st.query_params.get("service_region", ""))
        notices.report(r for r in rejected if r.field != "service_region")
    language = current_language()
    labels = {code: service_type_name(code, language) if code else t("Every service type")
              for code in SERVICE_TYPES}
    service_type = type_column.selectbox(t("Service type"), SERVICE_TYPES,
                                         key=INPUT_KEYS["service_type"],
                                         format_func=labels.get)
    as_of = date_column.date_input(
        t("As of"), key=INPUT_KEYS["as_of"], min_value=span.first, max_value=span.last,
        help=t("Releases are counted in the 12 months up to this day, upcoming releases in "
               "the 12 months after it, and services valid on it."))
    if not isinstance(as_of, dt.date) or as_of == span.last:
        return service_type or "", ""  # the default: left out of the link
    return service_type or "", as_of.isoformat()


def region_choice(regions: tuple[str, ...], column) -> str:
    """The region select box (in ``column``); the first region (most releases) is the
    default. A link's region that is not among ``regions`` is named in the notice (the
    same words whether it exists or lies outside the user's regions)."""
    key = INPUT_KEYS["service_region"]
    asked = st.session_state.pop(_LINK_REGION, None)
    if asked is not None and key not in st.session_state and regions:
        st.session_state[key] = asked if asked in regions else regions[0]
        if asked and asked not in regions:
            notices.report([Rejection("service_region", asked, regions[0])])
    if st.session_state.get(key) not in regions and regions:
        st.session_state[key] = regions[0]
    return column.selectbox(t("Region"), regions, key=key) or ""


def follow_in_url(choice: ServicesChoice, default_region: str) -> None:
    """Write the non-default filters to the URL, and drop the others."""
    wanted = ServicesChoice(
        "" if choice.region == default_region else choice.region, choice.service_type,
        choice.as_of).to_query()
    for key in SERVICES_KEYS:
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        else:
            st.query_params.pop(key, None)
