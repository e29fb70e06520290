"""The Planning page's inputs, kept in the URL so that a shared link opens the same view.

The breakdown (``?by=``) and the scale-up scenario's inputs (``?program=``,
``?participants=``, ``?years=``, ``?cost_per_day=``, ``?custody_days=``) are read from
the link when the page first opens in a session; a value that cannot be used is named in
the page's one notice (:mod:`dashboard.notices`), with what is used instead. After that
the widgets own the values and the URL follows them; default values are left out of it.
"""

from __future__ import annotations

import streamlit as st

from analysis.views.filters import Rejection
from analysis.views.planning import BREAKDOWNS, DEFAULT_BREAKDOWN
from analysis.views.planning_scenario import (
    MAX_CUSTODY_COST,
    MAX_CUSTODY_DAYS,
    MAX_PARTICIPANTS,
    MAX_YEARS,
    SCENARIO_KEYS,
    ScenarioChoice,
    parse_scenario_query,
)
from analysis.views.planning_words import breakdown_name
from dashboard import notices
from dashboard.i18n import current_language, t

#: The breakdown's URL value for "no breakdown" (its widget value is ``""``).
NO_BREAKDOWN = "all"
#: The widget key of each scenario input.
INPUT_KEYS = {key: f"plan_{key}" for key in SCENARIO_KEYS}


def breakdown_choice() -> str:
    """The breakdown select box, opened from ``?by=``; returns the chosen breakdown
    (``""``: none) and keeps the URL in step."""
    language = current_language()
    if "plan_by" not in st.session_state:
        wanted = st.query_params.get("by", DEFAULT_BREAKDOWN)
        asked = "" if wanted == NO_BREAKDOWN else wanted
        st.session_state["plan_by"] = asked if asked in BREAKDOWNS else DEFAULT_BREAKDOWN
        if asked not in BREAKDOWNS:
            notices.report([Rejection("by", wanted,
                                      breakdown_name(DEFAULT_BREAKDOWN, language))])
    # Labels are looked up now, in this run's language: Streamlit may call format_func
    # later.
    labels = {b: breakdown_name(b, language) if b else t("No breakdown") for b in BREAKDOWNS}
    by = st.selectbox(t("Break down by"), BREAKDOWNS, key="plan_by", format_func=labels.get)
    if by == DEFAULT_BREAKDOWN:
        st.query_params.pop("by", None)
    elif st.query_params.get("by") != (by or NO_BREAKDOWN):
        st.query_params["by"] = by or NO_BREAKDOWN
    return by or ""


def scenario_choice(names: dict[str, str]) -> ScenarioChoice:
    """The scale-up scenario's form, opened from the link; ``names`` maps each offered
    programme code (in order, the first is the default) to its label."""
    codes = list(names)
    if INPUT_KEYS["program"] not in st.session_state:
        opened, rejected = parse_scenario_query(st.query_params.to_dict(), codes)
        for key in SCENARIO_KEYS:
            st.session_state[INPUT_KEYS[key]] = getattr(opened, key)
        notices.report(Rejection(r.field, r.value, names.get(str(r.used), r.used))
                       for r in rejected)
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
            help=t("What a day in custody costs, in the programme's currency. Empty: no "
                   "money figures."))
        days = days_column.number_input(
            t("Mean days in custody after a return"), min_value=1.0,
            max_value=MAX_CUSTODY_DAYS, value=None, step=30.0, key=INPUT_KEYS["custody_days"],
            help=t("Optional. Empty: the time observed in the records."))
        st.form_submit_button(t("Compute"))
    choice = ScenarioChoice(program, int(participants), int(years),
                            None if cost is None else float(cost),
                            None if days is None else float(days))
    _follow_in_url(choice.to_query(default_program=codes[0]))
    return choice


def _follow_in_url(wanted: dict[str, str]) -> None:
    """Write the scenario's non-default inputs to the URL, and drop the others."""
    for key in SCENARIO_KEYS:
        if key in wanted:
            if st.query_params.get(key) != wanted[key]:
                st.query_params[key] = wanted[key]
        else:
            st.query_params.pop(key, None)
