"""Planning: expected reoffences and returns to custody with their backtest, when support
matters after release, and what scaling a programme up would change."""

import streamlit as st

from analysis.planning.scenario_notes import NOTES
from analysis.views.planning import planning_forecast, planning_hazard
from analysis.views.planning_figures import (
    calibration_figure,
    forecast_figure,
    hazard_figure,
    scenario_figure,
)
from analysis.views.planning_scenario import planning_scenario, scenario_programmes
from analysis.views.planning_words import (
    backtest_rows,
    forecast_formats,
    forecast_rows,
    hazard_formats,
    hazard_rows,
    outcome_coverage_text,
    scenario_formats,
    scenario_headline,
    scenario_rows,
    scenario_warning,
    share_texts,
)
from dashboard import cache
from dashboard.i18n import current_language, t, translator
from dashboard.planning_inputs import breakdown_choice, scenario_choice
from dashboard.safe_text import md_literal
from dashboard.widgets import show_figure, show_table, show_tabs

filters = st.session_state["filters"]
language = current_language()

st.title(t("Planning"))
st.caption(t("For planners: how many people will reoffend or return to custody in the next "
             "months, and how far to trust that; when after release support matters most; "
             "and what scaling a programme up would change. Each number is defined in the "
             "user guide, docs/planning.md."))

by = breakdown_choice()

forecast = cache.run_view(planning_forecast, filters, by=by)
first = forecast.reoffending


def expected_reoffences() -> None:
    st.subheader(t("Expected first reoffences and returns to custody"))
    st.caption(t("From the data's last day, {date}: the expected number of people with a first "
                 "reoffence (as the sidebar's outcome defines it), and with a first return to "
                 "custody, within the next 3, 6 and 12 months. They count the people already "
                 "released who have not reoffended yet, by the time since their release, and "
                 "the upcoming releases. The limits are 90% prediction intervals: the number "
                 "should fall inside 9 times in 10. Counts of fewer than {k} people read {label}.",
                 date=first.as_of.isoformat(), k=filters.min_cell,
                 label=forecast.suppressed_label))
    withheld = sorted({g for o in forecast.outcomes for g in o.withheld})
    if withheld:
        st.info(t("No forecast for groups of fewer than {k} people: {groups}.", k=filters.min_cell,
                  groups=", ".join(map(md_literal, withheld))), icon=":material/visibility_off:")
    if forecast.returns is None:
        st.info(t("The records hold too few returns to custody to forecast them."))
    show_figure(forecast_figure(forecast, language), key="planning-forecast-chart")
    show_table(forecast_rows(forecast, language), key="planning-forecast",
               formats=forecast_formats(language),
               title=t("Expected first reoffences and returns to custody"))


def how_far_to_trust_it() -> None:
    st.markdown("#### " + t("How far to trust it: the same forecast made a year earlier"))
    if first.backtest_as_of is not None:
        st.caption(t("The forecast made on {date} with only what was known then, beside what "
                     "happened. A cell is one group and horizon.",
                     date=first.backtest_as_of.isoformat()))
    for sentence in outcome_coverage_text(forecast, language):
        st.markdown(md_literal(sentence))
    if first.backtest_as_of is not None:
        show_figure(calibration_figure(forecast, language), key="planning-backtest-chart")
        show_table(backtest_rows(forecast, language), key="planning-backtest",
                   formats=forecast_formats(language),
                   title=t("How far to trust it: the same forecast made a year earlier"))


def when_support_matters() -> None:
    st.subheader(t("When support matters: reoffending month by month after release"))
    hazard = cache.run_view(planning_hazard, filters, by=by)
    st.caption(t("The monthly hazard is the share of the people still out and not yet "
                 "reoffended at the start of a month who reoffend in it (life table, 95% "
                 "interval); deaths and deportations end follow-up. Where it is highest, support "
                 "matters most. Counts of fewer than {k} people read {label}, and a number that "
                 "would reveal one is hidden.", k=filters.min_cell, label=hazard.suppressed_label))
    if hazard.withheld:
        st.info(t("No hazard for groups of fewer than {k} people: {groups}.", k=filters.min_cell,
                  groups=", ".join(map(md_literal, hazard.withheld))),
                icon=":material/visibility_off:")
    for sentence in share_texts(hazard, language):
        st.markdown(md_literal(sentence))
    if len(hazard.table):
        show_figure(hazard_figure(hazard, language), key="planning-hazard-chart")
        show_table(hazard_rows(hazard, language), key="planning-hazard",
                   formats=hazard_formats(language),
                   title=t("When support matters: reoffending month by month after release"))


def scale_up_scenario() -> None:
    st.subheader(t("Scale-up scenario: what if more people took part?"))
    st.caption(t("Uses the programme's evaluated effect (the Impact page's matched comparison) "
                 "with its uncertainty: 10,000 draws give each figure a 90% range. Prison-bed-"
                 "years come from the time people spend in custody after a return (observed, or "
                 "the mean entered here); money is in the programme's currency."))
    programmes = cache.run_view(scenario_programmes, filters)
    if programmes.empty:
        st.info(t("There is no programme to scale up here."))
        st.stop()
    names = {row.program_id: f"{row.program_id} — {row.name}" for row in programmes.itertuples()}
    choice = scenario_choice(names)

    scenario = cache.run_view(planning_scenario, filters, program=choice.program,
                              participants=choice.participants, years=choice.years,
                              cost_per_day=choice.cost_per_day, custody_days=choice.custody_days)
    if scenario.error:
        st.warning(md_literal(scenario.error), icon=":material/info:")
        st.stop()
    warning = scenario_warning(scenario, language)
    if warning:
        st.warning(f"**{md_literal(warning)}**", icon=":material/warning:")
    headline = scenario_headline(scenario, language)
    if headline:
        st.markdown(md_literal(headline))
    for code in scenario.notes:
        st.caption(md_literal(translator()(NOTES[code])))
    show_figure(scenario_figure(scenario, language), key="planning-scenario-chart")
    show_table(scenario_rows(scenario, language), key="planning-scenario",
               formats=scenario_formats(scenario, language),
               title=t("Scale-up scenario: what if more people took part?"))


# One section at a time (each draws a chart): the page runs again, from the cache, when
# the reader opens another tab.
show_tabs("planning-tab", [("forecast", t("Expected reoffences"), expected_reoffences),
                           ("backtest", t("How far to trust it"), how_far_to_trust_it),
                           ("hazard", t("When support matters"), when_support_matters),
                           ("scenario", t("Scale-up scenario"), scale_up_scenario)])
