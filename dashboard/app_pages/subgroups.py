"""Subgroups and places: sex × age band × offense, facilities, regions and release cohorts."""

import streamlit as st

from analysis.views.subgroups import comparison_figure, subgroups
from dashboard import cache
from dashboard.i18n import current_language, t
from dashboard.widgets import show_figure, show_table, show_tabs, small_sample_note

filters = st.session_state["filters"]
language = current_language()
result = cache.run_view(subgroups, filters)
label = result.suppressed_label

st.title(t("Subgroups and places"))
st.caption(t("Share reoffending within 1 year of release (1 − Kaplan–Meier, 95% CI), beside "
             "the people who reoffended; the first line is all releases of the selection, "
             "the others are sorted by rate (cohorts by year; click a header to sort). Counts "
             "of fewer than "
             "{k} releases read {label}; another count may be hidden too so that totals "
             "cannot reveal them; where a rate is missing, the count beside it says why.",
             k=filters.min_cell, label=label))


def people() -> None:
    show_table(result.cross_table, key="subgroups-cross", overall_first=True)


def places() -> None:
    for name, comparison, what in (
            ("facilities", result.facilities, t("some facilities' rates")),
            ("regions", result.regions, t("some regions' rates"))):
        small_sample_note(comparison.smallest_group, what)
        show_figure(comparison_figure(comparison, language), key=f"subgroups-{name}-chart")
        show_table(comparison.table, key=f"subgroups-{name}", overall_first=True)


def cohorts() -> None:
    small_sample_note(result.cohorts.smallest_group, t("some cohorts' rates"))
    show_figure(comparison_figure(result.cohorts, language), key="subgroups-cohorts-chart")
    show_table(result.cohorts.table, key="subgroups-cohorts", overall_first=True)


# One tab at a time: the page runs again, from the cache, when the reader opens another.
show_tabs("subgroups-tab", [("people", t("Sex × age band × offense"), people),
                            ("places", t("Facilities and regions"), places),
                            ("cohorts", t("Release cohorts"), cohorts)])
