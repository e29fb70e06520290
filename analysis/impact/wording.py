"""Plain words for donors, generated from the numbers (never written by hand).

The wording follows the Justice Data Lab: results per 100 people, the likely
range of the true difference, and an explicit statement when the rules do not
allow a result or a claim of significance. Sentences exist in English (the reference,
used by the CLI, JSON and report), French, Arabic, Russian and Serbian: see
:mod:`analysis.impact.wording_locales`.
"""

from __future__ import annotations

from analysis.constants import DAYS_PER_MONTH
from analysis.impact.rules import FEW_OUTCOMES_REASONS, MIN_PARTICIPANTS, Verdict
from analysis.impact.wording_locales import Wording, wording


def horizon_words(days: int, *, language: str = "en") -> str:
    """'within a year', 'within 6 months', 'within 90 days' (or in ``language``).

    Examples
    --------
    >>> horizon_words(365), horizon_words(182), horizon_words(90)
    ('within a year', 'within 6 months', 'within 90 days')
    >>> horizon_words(730, language="ru"), horizon_words(91, language="sr")
    ('в течение двух лет', 'u roku od 91 dana')
    """
    words = wording(language)
    if days in words.years:
        return words.years[days]
    months = days / DAYS_PER_MONTH
    if days >= 120 and abs(months - round(months)) < 0.05:
        return words.months(round(months))
    return words.days(days)


def _per_100(value: float) -> int:
    return round(100 * value)


def _difference_range(lower: float, upper: float, words: Wording) -> str:
    """Range of (participants − comparison) per 100, in words."""
    low, high = _per_100(lower), _per_100(upper)

    def one(v: int) -> str:
        if v == 0:
            return words.zero
        return words.fewer(abs(v)) if v < 0 else words.more(v)

    if low == high:
        return words.about.format(one=one(low))
    return words.between.format(low=one(low), high=one(high))


def _few_outcomes(verdict: Verdict) -> bool:
    """True when a reason says too few people reoffended (in whatever language)."""
    return any(("fewer than" in r and "reoffended" in r) or r in FEW_OUTCOMES_REASONS.values()
               for r in verdict.reasons)


def impact_sentence(
    *,
    participant_rate: float,
    comparison_rate: float,
    difference_lower: float,
    difference_upper: float,
    horizon_days: int,
    verdict: Verdict,
    participants_with_outcomes: int,
    language: str = "en",
) -> str:
    """The headline for a programme's impact, in ``language`` (en, fr, ar, ru, sr).

    Rates are proportions; the difference is participants minus comparison.

    Examples
    --------
    >>> from analysis.impact.rules import judge
    >>> print(impact_sentence(participant_rate=0.31, comparison_rate=0.42,
    ...     difference_lower=-0.17, difference_upper=-0.05, horizon_days=365,
    ...     verdict=judge(250, 77, 105, 0.001), participants_with_outcomes=250))
    For every 100 participants, 31 reoffended within a year, compared with 42 of 100 similar people who did not take part. The true difference is likely between 17 fewer and 5 fewer per 100 participants. This is a statistically significant reduction.
    """
    words = wording(language)
    when = horizon_words(horizon_days, language=language)
    if not verdict.reportable:
        return words.not_reportable(participants_with_outcomes, when, MIN_PARTICIPANTS)
    text = words.results(_per_100(participant_rate), _per_100(comparison_rate), when,
                         _difference_range(difference_lower, difference_upper, words))
    if verdict.significant:
        text += words.reduction if difference_upper < 0 else words.increase
    elif _few_outcomes(verdict):
        text += words.too_few
    else:
        text += words.not_significant
    return text
