"""Overview: releases, follow-up and reoffending at 1, 2 and 3 years, and the cohort trend."""

import streamlit as st

from analysis.views.overview import cohort_figure, outcome_sentence, overview
from analysis.views.words import CELLS, render_cell
from dashboard import cache
from dashboard.i18n import current_language, t, translator
from dashboard.safe_text import md_literal
from dashboard.widgets import show_figure, show_table, small_sample_note, suppressed

filters = st.session_state["filters"]
language = current_language()
result = cache.run_view(overview, filters)
label = result.suppressed_label

st.title(t("Overview"))
# The sentence names the event types of the data: shown as text.
st.markdown(t("**Outcome.** {definition}", definition=md_literal(
    outcome_sentence(result.event_types, language=language))))

first = st.columns(3)
first[0].metric(t("Releases"), suppressed(result.releases, label))
first[1].metric(t("People"), suppressed(result.people, label))
first[2].metric(t("Median follow-up (reverse Kaplan–Meier)"),
                suppressed(result.median_follow_up_months, "—", lambda months: t(
                    "{months} months", months=translator().number(months, 1))))
# One whole label per horizon, so that each language can use its own plural forms.
within = {365: t("Reoffended within 1 year"), 730: t("Reoffended within 2 years"),
          1095: t("Reoffended within 3 years")}
rates = st.columns(3)
for column, row in zip(rates, result.horizons.itertuples(), strict=True):
    # the people beside the rate; where the rate is missing, the count's code says why
    counted = isinstance(row.reoffended, int)
    column.metric(
        within.get(row.days) or t("Reoffended within {days} days", days=row.days),
        suppressed(row.recidivism, t("suppressed") if counted or row.reoffended not in CELLS
                   else render_cell(row.reoffended, language), translator().percent),
        delta=t("People who reoffended: {count}", count=translator().number(row.reoffended))
        if counted else None, delta_color="off", delta_arrow="off",
        help=t("1 − Kaplan–Meier survival, 95% CI in the table below."),
    )
small_sample_note(result.releases)

st.subheader(t("Reoffending by time since release"))
show_table(result.horizon_table, key="overview-horizons",
           caption=t("Kaplan–Meier uses every release; the complete-follow-up rate only "
                     "releases that could be watched for the whole period.") + " " + t(
               "Beside each rate, the people who reoffended by then; where a rate is "
               "missing, that cell says why."))

st.subheader(t("Trend by release cohort"))
show_figure(cohort_figure(result, language), key="overview-cohorts-chart")
show_table(result.cohort_table, key="overview-cohorts")
st.caption(t("Counts of fewer than {k} releases are shown as {label}; another count may be "
             "hidden too so that totals cannot reveal them.", k=filters.min_cell, label=label))
