"""Recidivism over time: curves by a chosen breakdown, numbers at risk, horizons, log-rank."""

import streamlit as st

from analysis.views.choices import filter_choices
from analysis.views.curves import METHODS, NOT_SHOWN, curves_figure, recidivism_curves
from analysis.views.filters import ViewFilters
from dashboard import cache
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
    wanted = st.query_params.get("method", "km")
    st.session_state["rec_method"] = wanted if wanted in METHODS else "km"

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
    show_figure(curves_figure(result, language), key="recidivism-curves")
    st.caption(t("Each curve stops where fewer than {k} releases remain at risk. Shaded "
                 "bands: 95% confidence intervals.", k=filters.min_cell))
st.markdown(f"**{note_markdown(result.test_note)}**")

st.subheader(t("Number at risk (months since release)"))
show_table(result.at_risk, key="recidivism-at-risk")
st.subheader(t("Share reoffended by time since release"))
show_table(result.horizon_table, key="recidivism-horizons",
           caption=t("{not_shown}: fewer than {k} releases still at risk, or not followed "
                     "that long.", not_shown=NOT_SHOWN, k=filters.min_cell))
