"""The known programme effects are recovered by an adjusted Cox model, not by a naive one.

Time to the first re-arrest after each release, adjusted for the covariates the
generator's hazard uses; in-prison programmes as completed / dropped-out indicators,
post-release and community programmes as time-varying "active" indicators
(counting-process rows). Fitted with the project's ``CoxModel`` (Efron ties,
robust standard errors clustered by person).
"""

from __future__ import annotations

import math

import pytest
from scipy import stats

from analysis.demo import DemoModel, program_effects
from analysis.survival.cox import CoxModel

from .episodes import (
    CATEGORICAL,
    NUMERIC,
    REFERENCE,
    add_fixed_programmes,
    episodes,
    program_term,
    split_time_varying,
)

MODEL = DemoModel()
IN_PRISON = [p.program_id for p in MODEL.programs if not p.time_varying]
TIME_VARYING = [p.program_id for p in MODEL.programs if p.time_varying]
TRUTH = program_effects(MODEL).set_index("program_id")


@pytest.fixture(scope="module")
def fitted(large):
    rel = episodes(large)
    fixed = add_fixed_programmes(rel, large, IN_PRISON)
    rows = split_time_varying(rel, large, TIME_VARYING)
    active = [program_term(p, "active") for p in TIME_VARYING]
    adjusted = CoxModel(ties="efron").fit(
        rows, "exit", "event", NUMERIC + CATEGORICAL + fixed + active,
        categorical=CATEGORICAL, reference=REFERENCE, entry_col="entry",
        cluster_col="person_id",
    )
    return rel, adjusted.summary.set_index("term")


def _truth_terms():
    for pid in IN_PRISON:
        for status in ("completed", "dropped_out"):
            yield program_term(pid, status), TRUTH.loc[pid, f"log_hr_{status}"]


@pytest.mark.slow
def test_adjusted_cox_covers_every_in_prison_effect(fitted):
    _, summary = fitted
    misses = []
    for term, true_log_hr in _truth_terms():
        lower, upper = summary.loc[term, ["hr_lower", "hr_upper"]]
        if not lower <= math.exp(true_log_hr) <= upper:
            misses.append((term, round(lower, 3), round(upper, 3), round(math.exp(true_log_hr), 3)))
    assert misses == []


@pytest.mark.slow
def test_in_prison_estimates_show_no_systematic_bias(fitted):
    # Omnibus check: with correct adjustment the 18 z-scores are about standard normal.
    _, summary = fitted
    z = [
        (summary.loc[term, "coef"] - true) / summary.loc[term, "se"]
        for term, true in _truth_terms()
    ]
    assert sum(v * v for v in z) < stats.chi2.ppf(0.999, len(z))
    assert abs(sum(z) / math.sqrt(len(z))) < 3


@pytest.mark.slow
def test_adjusted_cox_recovers_time_varying_effects(fitted):
    # Post-release support, employment placement and community treatment act only
    # while active; counting-process rows recover their hazard ratios.
    _, summary = fitted
    for pid in TIME_VARYING:
        row = summary.loc[program_term(pid, "active")]
        assert row["hr_lower"] <= TRUTH.loc[pid, "hr_completed"] <= row["hr_upper"], pid


@pytest.mark.slow
def test_adjusted_cox_recovers_the_hazard_covariates(fitted):
    _, summary = fitted
    hz = MODEL.hazard
    for term, true in (
        ("age_at_release", hz.log_hr_per_year_of_age),
        ("female", hz.log_hr_female),
        ("prior_convictions", hz.log_hr_per_prior),
        ("sentence_months", hz.log_hr_per_sentence_month),
    ):
        coef, se = summary.loc[term, ["coef", "se"]]
        assert abs(coef - true) < 3 * se, (term, coef, se, true)


@pytest.mark.slow
def test_naive_comparison_is_biased(fitted):
    rel, adjusted = fitted
    # Prison work has no effect, but wardens pick older people with few priors.
    work = [program_term("WORK-BRAND", s) for s in ("completed", "dropped_out")]
    naive = CoxModel(ties="efron").fit(rel, "time", "event", work, cluster_col="person_id")
    row = naive.summary.set_index("term").loc[program_term("WORK-BRAND", "completed")]
    assert TRUTH.loc["WORK-BRAND", "hr_completed"] == 1.0
    assert row["hr_upper"] < 0.85
    assert abs(row["coef"]) > 5 * row["se"]
    # ...and drug treatment goes to high-risk people, hiding half of its benefit.
    drug = [program_term("DRUG-TC", s) for s in ("completed", "dropped_out")]
    naive = CoxModel(ties="efron").fit(rel, "time", "event", drug, cluster_col="person_id")
    row = naive.summary.set_index("term").loc[program_term("DRUG-TC", "completed")]
    true = TRUTH.loc["DRUG-TC", "log_hr_completed"]
    assert row["coef"] - true > 3 * row["se"]
    assert adjusted.loc[program_term("DRUG-TC", "completed"), "hr_upper"] < 1
