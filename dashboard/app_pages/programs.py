"""Programmes: catalogue, hazard ratios by programme (forest plot), completers vs dropouts."""

import streamlit as st

from analysis.charts import forest_plot
from analysis.constants import DEFAULT_HORIZONS
from analysis.views.programs import completion_outcomes, program_catalog, program_effects
from analysis.views.words import outcome_words
from dashboard import cache
from dashboard.i18n import current_language, t
from dashboard.safe_text import md_literal
from dashboard.widgets import (
    horizon_option,
    note_markdown,
    show_figure,
    show_table,
    small_sample_note,
    suppressed,
)

filters = st.session_state["filters"]
language = current_language()
label = f"<{filters.min_cell}"
HR_FORMATS = {column: "%.3f" if column.endswith("p") else "%.2f"
              for column in ("hr", "hr_lower", "hr_upper", "p", "adj_hr", "adj_hr_lower",
                             "adj_hr_upper", "adj_p")}
# standard errors of the log hazard ratio (se_type says which one the CIs use)
HR_FORMATS.update(dict.fromkeys(("se_model", "se_robust", "adj_se_model", "adj_se_robust"),
                                "%.4f"))
COMPLETION_FORMATS = {f"{group}_{c}": "percent" for group in ("completed", "not_completed")
                      for c in ("rate", "lower", "upper")}

st.title(t("Programmes"))

st.subheader(t("Catalogue"))
catalogue = cache.run_view(program_catalog, filters)
show_table(catalogue, key="programs-catalogue",
           caption=t("Participation records linked to the releases in the selection, by "
                     "status. Counts below {k} are shown as {label}; 'hidden' marks a count "
                     "hidden only so that a smaller one cannot be worked out from the total.",
                     k=filters.min_cell, label=label))

# The Cox models are the slow part on large databases: their section is laid out here
# but filled last, so the faster tables below appear while they are fitted.
hazard_ratios = st.container()

st.subheader(t("Completers and dropouts"))
# Labels are looked up now, in this run's language: Streamlit may call format_func later.
horizons = {d: horizon_option(d, since_release=True) for d in DEFAULT_HORIZONS}
horizon = st.selectbox(t("Horizon"), tuple(horizons), key="programs-horizon",
                       format_func=horizons.get)
completion = cache.run_view(completion_outcomes, filters, horizon_days=horizon)
show_table(completion.table, key="programs-completion", formats=COMPLETION_FORMATS,
           note_params=completion.note_params,
           caption=t("Share reoffended within {days} days since release (Kaplan–Meier, 95% "
                     "CI) of releases whose in-prison programme was completed, and of those "
                     "who took part without completing.", days=horizon))
for note in completion.notes:
    st.caption(note_markdown(note))

with hazard_ratios:
    st.subheader(t("Reoffending by programme: hazard ratios"))
    effects = cache.run_view(program_effects, filters)
    st.caption(t("{releases} releases, {events} reoffended (outcome: {outcome}). A hazard "
                 "ratio below 1 means less reoffending among participants, at any time since "
                 "release.",
                 releases=suppressed(effects.n_releases, label),
                 events=suppressed(effects.n_events, label),
                 outcome=md_literal(outcome_words(filters.outcome.event_types, language))))
    small_sample_note(effects.n_releases, t("these hazard ratios"))
    if len(effects.forest):
        show_figure(forest_plot(effects.forest, series="model", language=language,
                                title=t("Hazard ratio of reoffending by programme (95% CI)")),
                    key="programs-forest")
    else:
        st.info(t("No programme has enough participants in this selection to be estimated."))
    show_table(effects.table, key="programs-hazard-ratios", formats=HR_FORMATS,
               caption=t("'suppressed': fewer than {k} participating releases, not "
                         "estimated. 'not estimable': participants all or none reoffended. "
                         "'model did not converge': the data allow the models but their "
                         "estimation did not settle (see the note).",
                         k=filters.min_cell))
    for note in effects.notes:
        st.info(note_markdown(note), icon=":material/info:")
