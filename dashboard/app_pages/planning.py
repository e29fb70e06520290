"""Planning: expected reoffences and returns to custody with their backtest, when support
matters after release, and what scaling a programme up would change."""

import streamlit as st

from analysis.planning.scenario_notes import NOTES
from analysis.views.filters import Rejection
from analysis.views.planning import (
    BREAKDOWNS,
    DEFAULT_BREAKDOWN,
    planning_forecast,
    planning_hazard,
)
from analysis.views.planning_figures import (
    calibration_figure,
    forecast_figure,
    hazard_figure,
    scenario_figure,
)
from analysis.views.planning_scenario import (
    MAX_CUSTODY_COST,
    MAX_CUSTODY_DAYS,
    MAX_PARTICIPANTS,
    MAX_YEARS,
    SCENARIO_KEYS,
    ScenarioChoice,
    parse_scenario_query,
    planning_scenario,
    scenario_programmes,
)
from analysis.views.planning_words import (
    backtest_rows,
    breakdown_name,
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
from dashboard import cache, notices
from dashboard.i18n import current_language, t, translator
from dashboard.safe_text import md_literal
from dashboard.widgets import show_figure, show_table

filters = st.session_state["filters"]
language = current_language()
#: The breakdown's URL value ("all": none), and the scenario inputs' widget keys.
NO_BREAKDOWN = "all"
INPUT_KEYS = {key: f"plan_{key}" for key in SCENARIO_KEYS}

st.title(t("Planning"))
st.caption(t("For planners: how many people will reoffend or return to custody in the next "
             "months, and how far to trust that; when after release support matters most; "
             "and what scaling a programme up would change. Each number is defined in the "
             "user guide, docs/planning.md."))

# The breakdown and the scenario's inputs travel in the URL, so a shared link opens them.
if "plan_by" not in st.session_state:
    wanted = st.query_params.get("by", DEFAULT_BREAKDOWN)
    asked = "" if wanted == NO_BREAKDOWN else wanted
    st.session_state["plan_by"] = asked if asked in BREAKDOWNS else DEFAULT_BREAKDOWN
    if asked not in BREAKDOWNS:
        notices.report([Rejection("by", wanted, breakdown_name(DEFAULT_BREAKDOWN, language))])
# Labels are looked up now, in this run's language: Streamlit may call format_func later.
by_labels = {b: breakdown_name(b, language) if b else t("No breakdown") for b in BREAKDOWNS}
by = st.selectbox(t("Break down by"), BREAKDOWNS, key="plan_by", format_func=by_labels.get)
if by == DEFAULT_BREAKDOWN:
    st.query_params.pop("by", None)
elif st.query_params.get("by") != (by or NO_BREAKDOWN):
    st.query_params["by"] = by or NO_BREAKDOWN

forecast = cache.run_view(planning_forecast, filters, by=by)
first = forecast.reoffending
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

# The backtest beside the forecast: how far to trust it.
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
    st.markdown("- " + md_literal(sentence))
if len(hazard.table):
    show_figure(hazard_figure(hazard, language), key="planning-hazard-chart")
    show_table(hazard_rows(hazard, language), key="planning-hazard",
               formats=hazard_formats(language),
               title=t("When support matters: reoffending month by month after release"))

st.subheader(t("Scale-up scenario: what if more people took part?"))
st.caption(t("Uses the programme's evaluated effect (the Impact page's matched comparison) "
             "with its uncertainty: 10,000 draws give each figure a 90% range. Prison-bed-"
             "years come from the time people spend in custody after a return (observed, or "
             "the mean entered here); money is in the programme's currency."))
programmes = cache.run_view(scenario_programmes, filters)
if programmes.empty:
    st.info(t("There is no programme to scale up here."))
    st.stop()
codes = list(programmes["program_id"])
names = {row.program_id: f"{row.program_id} — {row.name}" for row in programmes.itertuples()}
if INPUT_KEYS["program"] not in st.session_state:
    opened, rejected = parse_scenario_query(st.query_params.to_dict(), codes)
    for key in SCENARIO_KEYS:
        st.session_state[INPUT_KEYS[key]] = getattr(opened, key)
    field_labels = {"participants": t("More participants per year"), "years": t("Years"),
                    "cost_per_day": t("Custody cost per day"),
                    "custody_days": t("Mean days in custody after a return")}
    notices.report(Rejection(field_labels.get(r.field, r.field), r.value,
                             names.get(str(r.used), r.used)) for r in rejected)
with st.form("planning-scenario"):
    left, middle, right = st.columns([3, 1, 1])
    program = left.selectbox(t("Programme"), codes, key=INPUT_KEYS["program"],
                             format_func=lambda code: names.get(code, code))
    participants = middle.number_input(t("More participants per year"), min_value=1,
                                       max_value=MAX_PARTICIPANTS, step=10,
                                       key=INPUT_KEYS["participants"])
    years = right.number_input(t("Years"), min_value=1, max_value=MAX_YEARS, step=1,
                               key=INPUT_KEYS["years"])
    cost_column, days_column, _ = st.columns([1, 1, 1])
    cost = cost_column.number_input(
        t("Custody cost per day"), min_value=0.0, max_value=MAX_CUSTODY_COST, value=None,
        step=10.0, key=INPUT_KEYS["cost_per_day"],
        help=t("What a day in custody costs, in the programme's currency. Empty: no money "
               "figures."))
    days = days_column.number_input(
        t("Mean days in custody after a return"), min_value=1.0, max_value=MAX_CUSTODY_DAYS,
        value=None, step=30.0, key=INPUT_KEYS["custody_days"],
        help=t("Optional. Empty: the time observed in the records."))
    st.form_submit_button(t("Compute"))
choice = ScenarioChoice(program, int(participants), int(years),
                        None if cost is None else float(cost),
                        None if days is None else float(days))
wanted = choice.to_query(default_program=codes[0])
for key in SCENARIO_KEYS:
    if key in wanted:
        if st.query_params.get(key) != wanted[key]:
            st.query_params[key] = wanted[key]
    else:
        st.query_params.pop(key, None)

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
