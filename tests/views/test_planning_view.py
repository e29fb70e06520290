"""Planning views: the forecast and backtest, the monthly hazard and the scenario, as they
may be shown (disclosure control, scope), and the scenario's inputs in a link."""

from __future__ import annotations

import dataclasses
import datetime as dt

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.access.roles import Role, Scope
from analysis.disclosure import DisclosurePolicy
from analysis.planning.backtest import BacktestAnalysis
from analysis.planning.forecast import ForecastAnalysis
from analysis.survival.episodes import Selection
from analysis.survival.grouping import Grouping
from analysis.views import stored
from analysis.views.filters import ViewFilters
from analysis.views.planning import (
    BACKTEST_COLUMNS,
    FORECAST_COLUMNS,
    outcome_forecast,
    planning_forecast,
    planning_hazard,
)
from analysis.views.planning_scenario import (
    DEFAULT_PARTICIPANTS,
    MAX_YEARS,
    ScenarioChoice,
    parse_scenario_query,
    planning_scenario,
    scenario_programmes,
)
from analysis.views.planning_words import (
    backtest_rows,
    forecast_rows,
    hazard_rows,
    scenario_rows,
    scenario_warning,
)
from analysis.views.scope import OutOfScopeError

AS_OF = dt.date(2025, 6, 30)


def hand_made_forecast() -> ForecastAnalysis:
    """Four regions: North and South large, East with 3 people at risk (hidden, and with
    it the next smallest count, so the total cannot give it away), West with 4 people in
    all (no forecast)."""
    groups = pd.DataFrame({"group": ["North", "South", "East", "West"],
                           "at_risk": [400, 250, 3, 4], "upcoming_releases": [60, 40, 20, 0],
                           "pooled_curve": [False] * 4})
    rows = []
    for group, base in (("North", 40.0), ("South", 30.0), ("East", 2.0), ("West", 0.5)):
        for months in (3, 12):
            expected = base * months / 12
            rows.append({"group": group, "months": months, "days": 30 * months,
                         "expected": expected, "expected_released": expected,
                         "expected_upcoming": 0.0, "lower": int(expected * 0.7),
                         "upper": int(expected * 1.3) + 1})
    backtest = pd.DataFrame({
        "group": ["North", "South", "East", "North", "South", "East"],
        "months": [3, 3, 3, 12, 12, 12], "people": [420, 260, 25, 450, 280, 30],
        "predicted": [10.2, 7.4, 0.6, 41.0, 29.5, 2.2], "lower": [6, 4, 0, 33, 22, 0],
        "upper": [15, 12, 2, 50, 37, 5], "observed": [12, 11, 3, 39, 40, 4],
        "covered": [True, True, False, True, False, True]})
    return ForecastAnalysis(AS_OF, ("rearrest",), (3, 12), Grouping("release_region"),
                            groups, pd.DataFrame(rows), 0.9,
                            BacktestAnalysis(dt.date(2024, 6, 30), backtest))


def test_small_counts_are_hidden_and_tiny_groups_get_no_forecast():
    forecast = hand_made_forecast()
    shown = outcome_forecast(forecast, "reoffending", DisclosurePolicy(k=10))
    assert list(shown.rows.columns) == list(FORECAST_COLUMNS)
    assert shown.withheld == ("West",)
    assert "West" not in set(shown.rows["group"]) | set(shown.backtest["group"])
    by_group = shown.rows.drop_duplicates("group").set_index("group")
    assert by_group.loc["East", "at_risk"] == "<10"
    assert by_group.loc["North", "at_risk"] == 400
    # groups by what is expected at the longest horizon, highest first
    assert list(by_group.index) == ["North", "South", "East"]
    assert by_group.loc["North", "upcoming_releases"] == 60


def test_a_count_that_the_total_would_give_away_is_hidden_too():
    forecast = hand_made_forecast()
    three = dataclasses.replace(
        forecast, groups=forecast.groups[forecast.groups["group"] != "West"],
        table=forecast.table[forecast.table["group"] != "West"])
    by_group = outcome_forecast(three, "reoffending", DisclosurePolicy(k=10)
                                ).rows.drop_duplicates("group").set_index("group")
    # the total of all regions is known: East's 3 = total - North - South unless one
    # more is hidden
    assert by_group.loc["East", "at_risk"] == "<10"
    assert (by_group["at_risk"] == "hidden").sum() == 1
    assert by_group.loc["South", "at_risk"] == "hidden"


def test_everyone_together_is_shown_first_and_withheld_for_fewer_than_k_people():
    forecast = hand_made_forecast()
    total = pd.DataFrame({"group": "all", "at_risk": 657, "upcoming_releases": 120,
                          "pooled_curve": False, "months": [3, 12], "days": [90, 360],
                          "expected": [18.1, 72.5], "expected_released": [18.1, 72.5],
                          "expected_upcoming": 0.0, "lower": [12, 60], "upper": [25, 86]})
    shown = outcome_forecast(dataclasses.replace(forecast, total=total), "reoffending",
                             DisclosurePolicy(k=10))
    assert shown.total["group"].isna().all() and shown.total["at_risk"].tolist() == [657] * 2
    assert shown.total["expected"].tolist() == [18.1, 72.5]
    small = total.assign(at_risk=5, upcoming_releases=0)
    assert outcome_forecast(dataclasses.replace(forecast, total=small), "reoffending",
                            DisclosurePolicy(k=10)).total.empty
    assert outcome_forecast(forecast, "reoffending", DisclosurePolicy(k=10)).total.empty


def test_a_hidden_observed_count_hides_whether_it_was_covered():
    forecast = hand_made_forecast()
    policy = DisclosurePolicy(k=10)
    shown = outcome_forecast(forecast, "reoffending", policy)
    table = shown.backtest.set_index(["group", "months"])
    assert list(shown.backtest.columns) == list(BACKTEST_COLUMNS)
    hidden = forecast.backtest.hidden_observed(policy)
    assert {("East", 3), ("East", 12)} <= hidden
    for key in table.index:
        if key in hidden:
            assert table.loc[key, "observed"] in ("<10", "hidden")
            assert table.loc[key, "covered"] is None
        else:
            assert isinstance(table.loc[key, "observed"], int)
    # the coverage counts only the cells shown
    visible = forecast.backtest.table[[
        (g, m) not in hidden for g, m in zip(forecast.backtest.table["group"],
                                             forecast.backtest.table["months"], strict=True)]]
    assert (shown.covered_cells, shown.shown_cells) == (int(visible["covered"].sum()),
                                                        len(visible))


def test_the_forecast_of_the_demo_gives_both_outcomes_with_their_backtests(demo_con):
    result = planning_forecast(demo_con, ViewFilters())
    regions = {r[0] for r in demo_con.execute(
        "SELECT DISTINCT release_region FROM releases").fetchall()}
    assert result.returns is not None
    for outcome in result.outcomes:
        assert set(outcome.rows["group"]) == regions
        assert sorted(set(outcome.rows["months"])) == [3, 6, 12]
        assert (outcome.rows["lower"] <= outcome.rows["expected"]).all()
        assert (outcome.rows["expected"] <= outcome.rows["upper"]).all()
        assert outcome.backtest_as_of == outcome.as_of.replace(year=outcome.as_of.year - 1)
        assert 0 < outcome.shown_cells <= 3 * len(regions)
    assert result.reoffending.shown_cells == 3 * len(regions)  # no observed count is small
    # fewer people return to custody than reoffend in any way
    assert (result.returns.rows["expected"].sum()
            < result.reoffending.rows["expected"].sum())
    assert result.returns.event_types == ("reincarceration",)


def test_the_tables_have_words_for_headers_in_every_language(demo_con):
    result = planning_forecast(demo_con, ViewFilters(), by="sex")
    english = forecast_rows(result, "en")
    french = forecast_rows(result, "fr")
    assert "Expected returns to custody" in english.columns
    assert "Retours en détention attendus" in french.columns
    assert not set(english.columns) & {*FORECAST_COLUMNS, *BACKTEST_COLUMNS}
    assert set(english["Sex"][3:]) == {"female", "male"}  # codes in words
    # everyone together first, then the groups
    assert list(english["Sex"][:3]) == ["all releases"] * 3
    assert list(french["Sexe"][:3]) == ["toutes les libérations"] * 3
    assert english["Months ahead"][:3].tolist() == [3, 6, 12]
    assert set(backtest_rows(result, "ru")["Внутри интервала"].dropna()) <= {"да", "нет"}
    # numbers stay numbers for the downloads
    assert english["Expected first reoffences"].dtype == float


def test_a_planner_limited_to_a_region_sees_only_it(demo_con):
    planner = ViewFilters(scope=Scope(Role.PLANNER, regions=("Capital",)))
    result = stored.compute(demo_con, planning_forecast, planner, by="release_region")
    assert set(result.reoffending.rows["group"]) == {"Capital"}
    # the same as the analyst's forecast of that region alone
    alone = planning_forecast(demo_con, ViewFilters(Selection(regions=("Capital",))))
    assert result.reoffending.rows.equals(alone.reoffending.rows)
    with pytest.raises(OutOfScopeError):
        stored.compute(demo_con, planning_forecast, ViewFilters(
            Selection(regions=("Highlands",)), scope=Scope(Role.PLANNER, regions=("Capital",))))


def test_a_donor_cannot_ask_for_any_planning_view(demo_con):
    donor = ViewFilters(scope=Scope(Role.DONOR, funders=("Global Fund",)))
    for view in (planning_forecast, planning_hazard, scenario_programmes):
        with pytest.raises(OutOfScopeError):
            stored.compute(demo_con, view, donor)


def test_the_hazard_hides_what_would_reveal_a_small_count(demo_con):
    loose = planning_hazard(demo_con, ViewFilters(), by="")
    assert loose.table["hazard"].notna().sum() > 12 and len(loose.shares) == 3
    strict = planning_hazard(demo_con, ViewFilters(min_cell=200), by="facility")
    events = strict.table["events"]
    hidden = events.isin(["<200", "hidden"])
    assert hidden.any()
    assert strict.table.loc[hidden, "hazard"].isna().all()
    shown = pd.to_numeric(events[~hidden])
    assert ((shown == 0) | (shown >= 200)).all()
    words = hazard_rows(strict, "fr")
    assert set(words["Ont récidivé dans le mois"]) & {"masqué", "<200"}


def test_the_scenario_says_plainly_when_the_programme_may_change_nothing(demo_con):
    programmes = scenario_programmes(demo_con, ViewFilters())
    assert len(programmes) == demo_con.execute("SELECT count(*) FROM programs").fetchone()[0]
    result = planning_scenario(demo_con, ViewFilters(), program="VOC-METAL",
                               participants=200, years=4, cost_per_day=80.0)
    assert result.error is None and len(result.per_year) == 4
    effect = result.payload["effect"]["reoffending"]
    assert result.may_change_nothing == (not (effect["reportable"] and effect["significant"]))
    warning = scenario_warning(result, "en")
    if result.may_change_nothing:
        assert "may change nothing" in warning
        assert (result.per_year["lower"] <= 0).all()  # the range includes no change
    table = scenario_rows(result, "en")
    assert "Net cost (EUR)" in table.columns and table["Year"].tolist() == [1, 2, 3, 4]
    unknown = planning_scenario(demo_con, ViewFilters(), program="NOPE")
    assert unknown.error and "NOPE" in unknown.error


def test_a_bad_link_value_is_replaced_and_named():
    choice, rejected = parse_scenario_query(
        {"program": "GONE", "participants": "0", "years": str(MAX_YEARS + 1),
         "cost_per_day": "-5", "custody_days": "abc"}, ["VOC", "EDU"])
    assert choice == ScenarioChoice("VOC")
    assert [(r.field, r.value, r.used) for r in rejected] == [
        ("program", "GONE", "VOC"), ("participants", "0", str(DEFAULT_PARTICIPANTS)),
        ("years", str(MAX_YEARS + 1), "5"), ("cost_per_day", "-5", None),
        ("custody_days", "abc", None)]


@given(participants=st.integers(1, 1_000_000), years=st.integers(1, MAX_YEARS),
       cost=st.none() | st.floats(0, 1_000_000, allow_nan=False),
       days=st.none() | st.floats(0.5, 36_500, allow_nan=False),
       program=st.sampled_from(["VOC", "EDU", "A,B&c"]))
def test_the_scenario_inputs_survive_the_link(participants, years, cost, days, program):
    choice = ScenarioChoice(program, participants, years, cost, days)
    parsed, rejected = parse_scenario_query(choice.to_query("VOC"), ["VOC", "EDU", "A,B&c"])
    assert rejected == ()
    assert parsed == choice


@given(st.dictionaries(st.sampled_from(["program", "participants", "years", "cost_per_day",
                                        "custody_days"]), st.text(max_size=12)))
def test_any_link_gives_a_usable_scenario(params):
    choice, rejected = parse_scenario_query(params, ["VOC"])
    assert choice.program == "VOC"
    assert 1 <= choice.participants and 1 <= choice.years <= MAX_YEARS
    assert choice.cost_per_day is None or np.isfinite(choice.cost_per_day)
    assert len(rejected) <= len(params)


def test_the_downloads_keep_numbers_as_numbers(demo_con):
    import io

    from openpyxl import load_workbook

    from analysis.views.tables import to_xlsx_bytes

    result = planning_forecast(demo_con, ViewFilters(min_cell=100), by="facility")
    table = forecast_rows(result, "fr")
    sheet = load_workbook(io.BytesIO(to_xlsx_bytes(table, "forecast"))).active
    header = [c.value for c in sheet[1]]
    rows = list(sheet.iter_rows(min_row=2, values_only=True))
    expected = [row[header.index("Premières récidives attendues")] for row in rows]
    months = [row[header.index("Mois à venir")] for row in rows]
    upcoming = {row[header.index("Libérations à venir (12 prochains mois)")] for row in rows}
    assert all(isinstance(v, int | float) for v in expected)  # 41.0 is read back as 41
    assert all(isinstance(v, int) for v in months)
    assert "<100" in upcoming and any(isinstance(v, int) for v in upcoming)
