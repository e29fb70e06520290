"""Programmes: catalogue, hazard ratios by programme (forest plot), completers vs dropouts."""

import streamlit as st

from analysis.charts import forest_plot
from dashboard import cache
from dashboard.widgets import show_figure, show_table, small_sample_note

filters = st.session_state["filters"]
label = f"<{filters.min_cell}"
HR_FORMATS = {column: "%.3f" if column.endswith("p") else "%.2f"
              for column in ("hr", "hr_lower", "hr_upper", "p", "adj_hr", "adj_hr_lower",
                             "adj_hr_upper", "adj_p")}

st.title("Programmes")

st.subheader("Catalogue")
catalogue = cache.run_view("programs:program_catalog", filters)
show_table(catalogue, key="programs-catalogue",
           caption="Participation records linked to the releases in the selection, by status. "
                   f"Counts below {filters.min_cell} are shown as {label}; 'hidden' marks a "
                   "count hidden only so that a smaller one cannot be worked out from the "
                   "total.")

# The Cox models are the slow part on large databases: their section is laid out here
# but filled last, so the faster tables below appear while they are fitted.
hazard_ratios = st.container()

st.subheader("Completers and dropouts")
horizon = st.selectbox("Horizon", (365, 730, 1095), key="programs-horizon",
                       format_func=lambda d: f"{d} days since release ({d // 365} "
                                             f"year{'s' if d > 365 else ''})")
completion = cache.run_view("programs:completion_outcomes", filters, horizon_days=horizon)
show_table(completion.table, key="programs-completion",
           caption=f"Share reoffended within {horizon} days since release (Kaplan–Meier, 95% CI) "
                   "of releases whose in-prison programme was completed, and of those who "
                   "took part without completing.")
for note in completion.notes:
    st.caption(note)

with hazard_ratios:
    st.subheader("Reoffending by programme: hazard ratios")
    effects = cache.run_view("programs:program_effects", filters)
    st.caption(f"{effects.n_releases:,} releases, {effects.n_events:,} reoffended (outcome: "
               f"{filters.outcome.name}). A hazard ratio below 1 means less reoffending among "
               "participants, at any time since release.")
    small_sample_note(effects.n_releases, "these hazard ratios")
    if len(effects.forest):
        show_figure(forest_plot(effects.forest, series="model",
                                title="Hazard ratio of reoffending by programme (95% CI)"),
                    key="programs-forest")
    else:
        st.info("No programme has enough participants in this selection to be estimated.")
    show_table(effects.table, key="programs-hazard-ratios", formats=HR_FORMATS,
               caption="hr = unadjusted, adj_hr = adjusted. 'suppressed': fewer than "
                       f"{filters.min_cell} participating releases, not estimated. "
                       "'not estimable': participants all or none reoffended.")
    for note in effects.notes:
        st.info(note, icon=":material/info:")
