"""Reporting rules, plain words and cost-effectiveness wording."""

import pytest

from analysis.impact.cost import cost_effectiveness
from analysis.impact.rules import FEW_OUTCOMES, MIN_OUTCOMES_PER_GROUP, MIN_PARTICIPANTS, judge
from analysis.impact.wording import horizon_words, impact_sentence, verdict_reasons


def test_below_sixty_participants_is_not_reportable():
    assert not judge(MIN_PARTICIPANTS - 1, 30, 30, 0.0001).reportable
    assert judge(MIN_PARTICIPANTS, 30, 30, 0.0001).reportable


@pytest.mark.parametrize(
    "reoffending", [(MIN_OUTCOMES_PER_GROUP - 1, 50), (50, MIN_OUTCOMES_PER_GROUP - 1)]
)
def test_few_events_in_either_group_is_never_significant(reoffending):
    verdict = judge(500, *reoffending, p_value=1e-9)
    assert verdict.reportable and not verdict.significant
    assert [reason.code for reason in verdict.reasons] == [FEW_OUTCOMES]
    assert verdict_reasons(verdict) == [
        "fewer than 10 people reoffended in a group: the difference cannot be called significant"]


def test_significance_needs_p_at_most_alpha():
    assert judge(500, 50, 80, 0.05).significant
    assert not judge(500, 50, 80, 0.0501).significant
    assert not judge(500, 50, 80, None).significant


def _sentence(verdict, lower=-0.12, upper=-0.02, n=300):
    return impact_sentence(
        participant_rate=0.30,
        comparison_rate=0.37,
        difference_lower=lower,
        difference_upper=upper,
        horizon_days=730,
        verdict=verdict,
        participants_with_outcomes=n,
    )


def test_sentences_follow_the_numbers_and_the_rules():
    text = _sentence(judge(300, 90, 111, 0.01))
    assert text.startswith("For every 100 participants, 30 reoffended within two years")
    assert "37 of 100 similar people" in text
    assert "between 12 fewer and 2 fewer per 100" in text
    assert "significant reduction" in text
    unclear = _sentence(judge(300, 90, 100, 0.3), lower=-0.08, upper=0.04)
    assert "between 8 fewer and 4 more" in unclear and "not statistically significant" in unclear
    assert "Too few people reoffended" in _sentence(judge(300, 5, 100, 0.01))
    assert _sentence(judge(20, 9, 9, 0.01), n=20).startswith("No result can be reported: only 20")


def test_horizon_words():
    assert horizon_words(1095) == "within three years"
    assert horizon_words(730) == "within two years"
    assert horizon_words(45) == "within 45 days"


def test_cost_when_reduction_is_shown():
    ce = cost_effectiveness(400, 250.0, "TND", (0.20, 0.05, 0.35), rate_reduction=0.10)
    assert ce.total_cost == 100_000
    assert ce.reoffences_avoided == pytest.approx(80)
    assert ce.cost_per_reoffence_avoided == pytest.approx(1250)
    low, high = ce.cost_per_reoffence_avoided_range
    assert low == pytest.approx(100_000 / 140) and high == pytest.approx(100_000 / 20)
    assert ce.number_needed_to_treat == pytest.approx(10)
    assert "per reoffence avoided" in ce.statement and "TND" in ce.statement


def test_no_cost_per_reoffence_when_the_interval_includes_no_reduction():
    ce = cost_effectiveness(400, 250.0, "TND", (0.05, -0.02, 0.12), rate_reduction=0.03)
    assert ce.cost_per_reoffence_avoided is None
    assert ce.number_needed_to_treat is None
    assert not ce.reduction_shown
    assert "do not show that it reduced reoffending" in ce.statement
    assert "per reoffence avoided can be given" in ce.statement
