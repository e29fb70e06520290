"""Recidivism over time: curves by a chosen breakdown, numbers at risk, horizons, log-rank."""

import streamlit as st

from analysis.charts import MANY_GROUPS
from analysis.views.choices import filter_choices
from analysis.views.curves import (
    LAYOUTS,
    METHODS,
    curves_figure,
    recidivism_curves,
)
from analysis.views.filters import Rejection, ViewFilters
from analysis.views.risk_table import risk_rows
from dashboard import cache, notices
from dashboard.i18n import current_language, t, translator
from dashboard.safe_text import md_literal
from dashboard.widgets import note_markdown, show_figure, show_table, small_sample_note

filters = st.session_state["filters"]
language = current_language()
choices = cache.run_view(filter_choices, ViewFilters())
specs = [spec for spec, _ in choices.breakdowns]

# The breakdown and method travel in the URL too, so a shared link opens this chart.
if "rec_by" not in st.session_state:
    wanted = st.query_params.get("by", "")
    st.session_state["rec_by"] = wanted if wanted in specs else ""
    if wanted not in specs:
        notices.report([Rejection("by", wanted, choices.breakdown_label("", language))])
    wanted = st.query_params.get("method", "km")
    st.session_state["rec_method"] = wanted if wanted in METHODS else "km"
    if wanted not in METHODS:
        notices.report([Rejection("method", wanted, translator()(METHODS["km"]))])

# Labels are looked up now, in this run's language: Streamlit may call format_func later.
by_labels = {spec: choices.breakdown_label(spec, language) for spec in specs}
method_labels = {code: translator()(name) for code, name in METHODS.items()}

st.title(t("Recidivism over time"))
left, right = st.columns([2, 3])
by = left.selectbox(t("Break down by"), specs, key="rec_by",
                    format_func=by_labels.get)
method = right.radio(t("Estimate"), list(METHODS), key="rec_method",
                     format_func=method_labels.get, horizontal=True,
                     help=t("Kaplan–Meier treats deaths, deportations and emigrations as "
                            "censored; cumulative incidence counts them as ends."))
for key, value, default in (("by", by, ""), ("method", method, "km")):
    if value == default:
        st.query_params.pop(key, None)
    elif st.query_params.get(key) != value:
        st.query_params[key] = value

result = cache.run_view(recidivism_curves, filters, breakdown=by, method=method)
if result.hidden_groups:
    st.info(t("Not estimated (fewer than {k} releases): {groups}.", k=filters.min_cell,
              groups=", ".join(map(md_literal, result.hidden_groups))), icon=":material/visibility_off:")
if result.smallest_group is not None:
    small_sample_note(result.smallest_group, t("some of these curves"))
    groups = list(dict.fromkeys(result.curves["group"]))
    layout, highlight = "overlay", None
    if len(groups) > MANY_GROUPS:  # overlaid, so many curves cannot be told apart
        layout_labels = {code: translator()(name) for code, name in LAYOUTS.items()}
        layout = st.radio(t("Show"), ["facets", "highlight", "overlay"], key="rec_layout",
                          format_func=layout_labels.get, horizontal=True)
        if layout == "highlight":
            if st.session_state.get("rec_highlight") not in groups:  # another breakdown's
                st.session_state.pop("rec_highlight", None)
            highlight = st.selectbox(t("Group in colour"), groups, key="rec_highlight")
    show_figure(curves_figure(result, language, layout=layout, highlight=highlight),
                key="recidivism-curves")
    st.caption(t("Each curve stops where fewer than {k} releases remain at risk. Shaded "
                 "bands: 95% confidence intervals.", k=filters.min_cell)
               + " " + (t("Grey: all releases.") if layout == "facets" else
                        t("Grey: the other groups.") if layout == "highlight" else
                        t("Under the chart: the number still at risk at each year since "
                          "release and, in brackets, how many had reoffended by then.")))
st.markdown(f"**{note_markdown(result.test_note)}**")

st.subheader(t("Number at risk and reoffended so far, each year since release"))
# without a breakdown the one group is the code "all", worded; groups are data otherwise
group_codes = () if by else ("group",)
show_table(risk_rows(result.risk_table, language), key="recidivism-risk-table",
           coded=group_codes)
st.subheader(t("Share reoffended by time since release"))
show_table(result.horizon_table, key="recidivism-horizons", coded=group_codes,
           overall_first=bool(by),
           caption=t("Beside each rate, the people who reoffended by then; where a rate is "
                     "missing, that cell says why."))
