"""Recidivism over time: curves by a chosen breakdown, numbers at risk, horizons, log-rank."""

import streamlit as st

from analysis.views.curves import METHODS, NOT_SHOWN
from analysis.views.filters import ViewFilters
from dashboard import cache
from dashboard.widgets import show_figure, show_table, small_sample_note

filters = st.session_state["filters"]
choices = cache.run_view("choices:filter_choices", ViewFilters())
specs = [spec for spec, _ in choices.breakdowns]

# The breakdown and method travel in the URL too, so a shared link opens this chart.
if "rec_by" not in st.session_state:
    wanted = st.query_params.get("by", "")
    st.session_state["rec_by"] = wanted if wanted in specs else ""
    wanted = st.query_params.get("method", "km")
    st.session_state["rec_method"] = wanted if wanted in METHODS else "km"

st.title("Recidivism over time")
left, right = st.columns([2, 3])
by = left.selectbox("Break down by", specs, key="rec_by", format_func=choices.breakdown_label)
method = right.radio("Estimate", list(METHODS), key="rec_method", format_func=METHODS.get,
                     horizontal=True,
                     help="Kaplan–Meier treats deaths, deportations and emigrations as "
                          "censored; cumulative incidence counts them as ends.")
for key, value, default in (("by", by, ""), ("method", method, "km")):
    if value == default:
        st.query_params.pop(key, None)
    elif st.query_params.get(key) != value:
        st.query_params[key] = value

result = cache.run_view("curves:recidivism_curves", filters, breakdown=by, method=method)
if result.hidden_groups:
    st.info(f"Not estimated (fewer than {filters.min_cell} releases): "
            f"{', '.join(result.hidden_groups)}.", icon=":material/visibility_off:")
if result.smallest_group is not None:
    small_sample_note(result.smallest_group, "some of these curves")
    show_figure(result.figure, key="recidivism-curves")
    st.caption(f"Each curve stops where fewer than {filters.min_cell} releases remain at "
               "risk. Shaded bands: 95% confidence intervals.")
st.markdown(f"**{result.test_note}**")

st.subheader("Number at risk (months since release)")
show_table(result.at_risk, key="recidivism-at-risk")
st.subheader("Share reoffended by time since release")
show_table(result.horizon_table, key="recidivism-horizons",
           caption=f"{NOT_SHOWN}: fewer than {filters.min_cell} releases still at risk, "
                   "or not followed that long.")
