"""Subgroups and places: sex × age band × offense, facilities, regions and release cohorts."""

import streamlit as st

from dashboard import cache
from dashboard.widgets import show_figure, show_table, small_sample_note

filters = st.session_state["filters"]
result = cache.run_view("subgroups:subgroups", filters)
label = result.suppressed_label

st.title("Subgroups and places")
st.caption("Share reoffending within 1 year of release (1 − Kaplan–Meier, 95% CI). "
           f"Counts of fewer than {filters.min_cell} releases read {label}; another count "
           "may be hidden too so that totals cannot reveal them; — : rate hidden or not "
           "yet followed a year.")

people, places, cohorts = st.tabs(["Sex × age band × offense", "Facilities and regions",
                                   "Release cohorts"])
with people:
    show_table(result.cross_table, key="subgroups-cross")
with places:
    for name, comparison in (("facilities", result.facilities),
                             ("regions", result.regions)):
        small_sample_note(comparison.smallest_group, f"some {name}' rates")
        show_figure(comparison.figure, key=f"subgroups-{name}-chart")
        show_table(comparison.table, key=f"subgroups-{name}")
with cohorts:
    small_sample_note(result.cohorts.smallest_group, "some cohorts' rates")
    show_figure(result.cohorts.figure, key="subgroups-cohorts-chart")
    show_table(result.cohorts.table, key="subgroups-cohorts")
