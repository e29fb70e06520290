"""The scale-up scenario on hand-checkable inputs (analysis/planning/scenario.py).

Known effects with a zero-width CI make every draw the same, so the figures are exact
arithmetic; with an uncertain effect the Monte Carlo is checked against the normal
distribution's mean, quantiles and tail probability, within a few Monte Carlo errors
at the fixed seed.
"""

from __future__ import annotations

import math

import duckdb
import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from scipy.stats import norm

from analysis.disclosure import DisclosurePolicy
from analysis.errors import AnalysisError
from analysis.planning.scenario import (
    NOTES,
    _cumulative_bed_years,
    scenario_notes,
    simulate,
)
from analysis.planning.scenario_inputs import (
    Z95,
    CustodyTime,
    Effect,
    ScenarioInputs,
    check_request,
    observed_custody_time,
)

BED_YEAR_COST = 365.25 * 100  # a bed-year at 100 a day


def effect(difference: float, half_width: float = 0.0, *, significant: bool = True,
           reportable: bool = True, types=("rearrest",)) -> Effect:
    return Effect(tuple(types), 365, "match", difference, difference - half_width,
                  difference + half_width, 0.001 if significant else 0.4,
                  reportable=reportable, significant=significant)


def known_inputs(**changes) -> ScenarioInputs:
    """100 more participants a year for 3 years; 8 fewer reoffend and 5 fewer return per
    100; two years (730.5 days) in custody per return; 1,000 per participant, 100 a day."""
    values = dict(program="VOC", participants=100, years=3,
                  reoffending=effect(-0.08), returns=effect(-0.05, types=("reincarceration",)),
                  custody=CustodyTime.entered(730.5), cost_per_participant=1000.0,
                  custody_cost_per_day=100.0, currency="EUR")
    return ScenarioInputs(**{**values, **changes})


def test_known_effect_gives_exact_arithmetic():
    result = simulate(known_inputs(), draws=500)
    table = result.table
    assert table["year"].tolist() == [1, 2, 3]
    assert table["reoffences_avoided"].tolist() == pytest.approx([8, 8, 8])
    assert table["lower"].tolist() == pytest.approx([8, 8, 8])
    assert table["upper"].tolist() == pytest.approx([8, 8, 8])
    assert table["returns_avoided"].tolist() == pytest.approx([5, 5, 5])
    # each year's 5 returns avoided free a bed for 2 years from mid-year:
    # half a year in their own year, a whole year in the next, half a year after that
    assert table["bed_years_saved"].tolist() == pytest.approx([2.5, 7.5, 10.0])
    assert table["programme_cost"].tolist() == pytest.approx([100_000] * 3)
    avoided = [2.5 * BED_YEAR_COST, 7.5 * BED_YEAR_COST, 10 * BED_YEAR_COST]
    assert table["custody_cost_avoided"].tolist() == pytest.approx(avoided)
    assert table["net_cost"].tolist() == pytest.approx([100_000 - a for a in avoided])
    assert table["cumulative_net_cost"].tolist() == pytest.approx(
        [100_000 - avoided[0], 200_000 - avoided[0] - avoided[1], 300_000 - sum(avoided)])
    assert table["probability_break_even"].tolist() == [0.0, 1.0, 1.0]
    assert result.break_even_year == 2
    # the whole custody time of the 15 returns avoided, the part after year 3 included
    assert result.totals["bed_years_saved"]["mean"] == pytest.approx(30.0)
    assert result.totals["custody_cost_avoided"]["mean"] == pytest.approx(30 * BED_YEAR_COST)
    assert result.totals["net_cost"]["mean"] == pytest.approx(300_000 - 30 * BED_YEAR_COST)
    assert result.totals["reoffences_avoided"]["mean"] == pytest.approx(24.0)
    assert result.probability_benefit_exceeds_cost == 1.0
    assert result.notes == ()


def test_break_even_is_null_when_never_reached_within_the_years():
    # 5 returns x 2 years x 36,525 = 365,250 saved per 1,000,000 spent each year
    result = simulate(known_inputs(cost_per_participant=10_000.0), draws=100)
    assert result.break_even_year is None
    assert result.probability_benefit_exceeds_cost == 0.0
    assert (result.table["cumulative_net_cost"] > 0).all()


@given(length=st.floats(0, 30, allow_nan=False), years=st.integers(1, 40))
def test_cumulative_bed_years_is_the_sum_over_the_cohorts(length, years):
    fast = _cumulative_bed_years(np.array([length]), years)[0]
    direct = [sum(min(j - y + 0.5, length) for y in range(1, j + 1))
              for j in range(1, years + 1)]
    assert fast == pytest.approx(direct, abs=1e-9)


def test_short_custody_stays_end_in_their_own_year():
    # 73.05 days = 0.2 years: every bed freed in a year is saved within that year
    result = simulate(known_inputs(custody=CustodyTime.entered(73.05)), draws=10)
    assert result.table["bed_years_saved"].tolist() == pytest.approx([1.0, 1.0, 1.0])


def test_uncertain_effect_matches_the_normal_distribution():
    # difference -0.05, 95% CI -0.09 to -0.01: reduction ~ Normal(0.05, 0.02 / 1.96)
    uncertain = effect(-0.05, 0.04)
    se = 0.04 / Z95
    inputs = known_inputs(participants=200, reoffending=uncertain,
                          returns=effect(-0.05, 0.04, types=("reincarceration",)),
                          custody=CustodyTime.entered(365.25),
                          cost_per_participant=0.0414 * BED_YEAR_COST)
    result = simulate(inputs, draws=10_000, seed=7)
    row = result.table.iloc[0]
    sd = 200 * se
    mc_error = sd / math.sqrt(10_000)
    assert row["reoffences_avoided"] == pytest.approx(10.0, abs=4 * mc_error)
    quantile_error = sd * math.sqrt(0.05 * 0.95) / norm.pdf(1.645) / math.sqrt(10_000)
    assert row["lower"] == pytest.approx(10 - 1.6449 * sd, abs=4 * quantile_error)
    assert row["upper"] == pytest.approx(10 + 1.6449 * sd, abs=4 * quantile_error)
    # benefit > cost  <=>  reduction x 365.25 days x 100 > cost per participant
    expected = norm.sf((0.0414 - 0.05) / se)
    assert result.probability_benefit_exceeds_cost == pytest.approx(
        expected, abs=4 * math.sqrt(expected * (1 - expected) / 10_000))


def test_uncertain_custody_time_multiplies_in_the_mean():
    # independent draws: E[reduction x days] = E[reduction] x E[days]
    inputs = known_inputs(returns=effect(-0.05, 0.02, types=("reincarceration",)),
                          custody=CustodyTime(600.0, 30.0, "observed", returns=200,
                                              released=180, longest_days=2000,
                                              still_in_custody=0.0))
    result = simulate(inputs, draws=10_000, seed=3)
    expected = 3 * 100 * 0.05 * 600 / 365.25
    assert result.totals["bed_years_saved"]["mean"] == pytest.approx(expected, rel=0.01)


def test_same_seed_same_figures_and_other_seed_other_draws():
    inputs = known_inputs(reoffending=effect(-0.05, 0.04))
    first, again = simulate(inputs, seed=11), simulate(inputs, seed=11)
    assert first.table.equals(again.table)
    assert not simulate(inputs, seed=12).table.equals(first.table)


def test_not_significant_effect_shows_a_range_including_no_change():
    # p small, yet not significant (e.g. too few reoffended): the 90% range alone would
    # exclude zero; the scenario shows no change as possible
    doubtful = effect(-0.05, 0.04, significant=False)
    inputs = known_inputs(reoffending=doubtful,
                          returns=effect(-0.05, 0.04, significant=False,
                                         types=("reincarceration",)))
    result = simulate(inputs, seed=5)
    table = result.table
    # 100 x Normal(0.05, 0.0204): 90% of the draws lie between 1.6 and 8.4 reoffences
    assert (table["lower"] == 0).all()
    assert table["upper"].tolist() == pytest.approx([5 + 1.6449 * 100 * 0.04 / Z95] * 3,
                                                    abs=0.15)
    assert (table["returns_lower"] == 0).all() and (table["bed_years_lower"] == 0).all()
    # no effect: nothing avoided, the whole programme cost is the net cost
    assert (table["net_cost_upper"] == 100_000).all()
    assert result.totals["net_cost"]["upper"] == pytest.approx(300_000)
    assert result.notes == ("reoffending_effect_not_significant",
                            "returns_effect_not_significant")
    significant = simulate(known_inputs(reoffending=effect(-0.05, 0.04)), seed=5).table
    assert (significant["lower"] > 0).all()


def test_not_reportable_effect_gives_no_figures_and_says_so():
    hidden = effect(-0.2, 0.05, reportable=False, significant=False)
    result = simulate(known_inputs(reoffending=hidden, returns=hidden))
    assert result.table[["reoffences_avoided", "lower", "upper", "returns_avoided",
                         "bed_years_saved", "net_cost"]].isna().all().all()
    assert result.table["programme_cost"].tolist() == [100_000] * 3
    assert result.probability_benefit_exceeds_cost is None and result.break_even_year is None
    assert "reoffending_effect_not_reportable" in result.notes
    payload = result.as_dict()
    assert payload["effect"]["reoffending"]["difference"] is None
    assert payload["effect"]["reoffending"]["reportable"] is False
    assert payload["per_year"][0]["reoffences_avoided"] is None


def test_missing_costs_and_custody_time_leave_only_what_can_be_given():
    no_day_cost = simulate(known_inputs(custody_cost_per_day=None), draws=10)
    assert no_day_cost.table["net_cost"].isna().all()
    assert no_day_cost.table["bed_years_saved"].tolist() == pytest.approx([2.5, 7.5, 10.0])
    assert no_day_cost.probability_benefit_exceeds_cost is None
    assert no_day_cost.notes == ("custody_cost_not_given",)
    no_custody = simulate(known_inputs(custody=None), draws=10)
    assert no_custody.table["bed_years_saved"].isna().all()
    assert no_custody.table["returns_avoided"].tolist() == pytest.approx([5, 5, 5])
    assert no_custody.notes == ("custody_days_unknown",)
    no_cost = simulate(known_inputs(cost_per_participant=None), draws=10)
    assert no_cost.table["programme_cost"].isna().all() and no_cost.break_even_year is None
    assert no_cost.notes == ("programme_cost_unknown",)
    assert simulate(known_inputs(returns=None), draws=10).notes == (
        "returns_effect_unavailable",)


def test_every_note_has_words_in_every_language():
    inputs = ScenarioInputs("VOC", 10, 1, None, None, None)
    assert set(scenario_notes(inputs)) <= set(NOTES)
    result = simulate(inputs, draws=10)
    for language in ("en", "fr", "ar", "ru", "sr"):
        texts = result.note_texts(language)
        assert len(texts) == len(result.notes) and all(texts)
    assert result.note_texts("fr") != result.note_texts("en")


def test_json_contract_has_the_issue_keys_and_numbers_only():
    payload = simulate(known_inputs(reoffending=effect(-0.05, 0.04)), draws=200).as_dict(
        DisclosurePolicy(k=10))
    for key in ("program", "effect", "per_year", "probability_benefit_exceeds_cost",
                "break_even_year", "notes", "disclosure"):
        assert key in payload
    assert payload["disclosure"]["min_cell"] == 10
    for row in payload["per_year"]:
        for key in ("year", "reoffences_avoided", "lower", "upper", "returns_avoided",
                    "bed_years_saved", "net_cost"):
            assert key in row
        assert all(value is None or isinstance(value, int | float) for value in row.values())
        assert isinstance(row["year"], int)
    assert payload["effect"]["custody_days"]["source"] == "planner"


def test_custody_time_observed_over_fewer_than_k_returns_is_withheld():
    custody = CustodyTime(600.0, 30.0, "observed", returns=40, released=40,
                          longest_days=900, still_in_custody=0.0)
    result = simulate(known_inputs(custody=custody), draws=50)
    assert result.as_dict(DisclosurePolicy(k=10))["effect"]["custody_days"]["returns"] == 40
    payload = result.as_dict(DisclosurePolicy(k=50))
    assert payload["effect"]["custody_days"] is None
    assert all(row["bed_years_saved"] is None and row["net_cost"] is None
               for row in payload["per_year"])
    assert payload["probability_benefit_exceeds_cost"] is None
    assert payload["disclosure"]["hidden_values"] > 0
    assert payload["per_year"][0]["reoffences_avoided"] == pytest.approx(8.0)


def _custody_db(stays: list[int | None], last_day: str = "2024-12-31"):
    """Returns on 2020-01-01, each followed by a release after ``stay`` days (None: not
    released by ``last_day``)."""
    con = duckdb.connect()
    con.execute("CREATE TABLE releases (person_id VARCHAR, release_date DATE, "
                "follow_up_end DATE)")
    con.execute("CREATE TABLE events (person_id VARCHAR, event_date DATE, event_type VARCHAR)")
    for i, stay in enumerate(stays):
        person = f"p{i}"
        con.execute("INSERT INTO releases VALUES (?, DATE '2019-01-01', ?)", [person, last_day])
        con.execute("INSERT INTO events VALUES (?, DATE '2020-01-01', 'reincarceration')",
                    [person])
        if stay is not None:
            con.execute("INSERT INTO releases VALUES (?, DATE '2020-01-01' + ?::INTEGER, ?)",
                        [person, stay, last_day])
    return con


def test_observed_custody_time_is_the_mean_days_to_the_next_release():
    stays = list(range(10, 410, 10))  # 40 stays of 10 to 400 days, all ended
    custody = observed_custody_time(_custody_db(stays))
    assert custody is not None and custody.source == "observed"
    assert custody.mean_days == pytest.approx(205.0)
    assert (custody.returns, custody.released, custody.still_in_custody) == (40, 40, 0.0)


def test_stays_not_yet_ended_count_as_far_as_they_are_known():
    # 35 ended stays of 100 days; 5 people still inside after 1,826 days (to 2024-12-31)
    custody = observed_custody_time(_custody_db([100] * 35 + [None] * 5))
    assert custody is not None
    assert custody.mean_days == pytest.approx((35 * 100 + 5 * 1826) / 40)
    assert custody.still_in_custody == pytest.approx(5 / 40)
    result = simulate(known_inputs(custody=custody), draws=10)
    assert "custody_days_still_in_custody" in result.notes


def test_too_few_returns_give_no_observed_custody_time():
    assert observed_custody_time(_custody_db([100] * 29)) is None


@given(st.one_of(st.integers(max_value=0), st.floats(allow_nan=True), st.booleans(),
                 st.text(max_size=3)))
def test_participants_must_be_a_positive_whole_number(participants):
    with pytest.raises(AnalysisError, match="participants must be a whole number"):
        check_request(participants, 5)


@given(st.one_of(st.integers(max_value=0), st.integers(min_value=101)))
def test_years_must_be_from_1_to_100(years):
    with pytest.raises(AnalysisError, match="years must be a whole number from 1 to 100"):
        check_request(10, years)


@given(st.one_of(st.floats(max_value=-1e-9), st.just(math.nan), st.just(math.inf)))
def test_costs_and_days_must_be_finite_and_not_negative(value):
    with pytest.raises(AnalysisError, match="custody cost per day must be a finite number"):
        check_request(10, 5, custody_cost_per_day=value)
    with pytest.raises(AnalysisError, match="mean custody days must be a finite number"):
        check_request(10, 5, mean_custody_days=value)


def test_zero_days_in_custody_is_refused_but_a_free_day_is_not():
    check_request(10, 5, custody_cost_per_day=0.0)
    with pytest.raises(AnalysisError, match="above 0"):
        check_request(10, 5, mean_custody_days=0.0)


@pytest.mark.parametrize("draws", [0, -5, 1_000_001, 2.5, True])
def test_draws_out_of_range_are_refused(draws):
    with pytest.raises(AnalysisError, match="draws must be a whole number"):
        simulate(known_inputs(), draws=draws)
