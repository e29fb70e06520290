"""Overview: releases, follow-up and reoffending at 1, 2 and 3 years, and the cohort trend."""

import streamlit as st

from dashboard import cache
from dashboard.widgets import show_figure, show_table, small_sample_note, suppressed

filters = st.session_state["filters"]
result = cache.run_view("overview:overview", filters)
label = result.suppressed_label

st.title("Overview")
st.markdown(f"**Outcome.** {result.definition}")

first = st.columns(3)
first[0].metric("Releases", suppressed(result.releases, label))
first[1].metric("People", suppressed(result.people, label))
first[2].metric("Median follow-up (reverse Kaplan–Meier)",
                suppressed(result.median_follow_up_months, "—", "{:.1f} months"))
rates = st.columns(3)
for column, row in zip(rates, result.horizons.itertuples(), strict=True):
    column.metric(
        f"Reoffended within {row.horizon}",
        suppressed(row.recidivism, "suppressed", "{:.1%}"),
        help="1 − Kaplan–Meier survival, 95% CI in the table below.",
    )
small_sample_note(result.releases)

st.subheader("Reoffending by time since release")
show_table(result.horizon_table, key="overview-horizons",
           caption="Kaplan–Meier uses every release; the complete-follow-up rate only "
                   "releases that could be watched for the whole period.")

st.subheader("Trend by release cohort")
show_figure(result.cohort_figure, key="overview-cohorts-chart")
show_table(result.cohort_table, key="overview-cohorts")
st.caption(f"Counts of fewer than {filters.min_cell} releases are shown as {label}; "
           "another count may be hidden too so that totals cannot reveal them.")
