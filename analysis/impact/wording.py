"""Plain words for donors, generated from the numbers (never written by hand).

The wording follows the Justice Data Lab: results per 100 people, the likely
range of the true difference, and an explicit statement when the rules do not
allow a result or a claim of significance.
"""

from __future__ import annotations

from analysis.impact.rules import MIN_PARTICIPANTS, Verdict

_YEARS = {
    365: "a year",
    730: "two years",
    1095: "three years",
    1461: "four years",
    1826: "five years",
}


def horizon_words(days: int) -> str:
    """'within a year', 'within 6 months', 'within 90 days'.

    Examples
    --------
    >>> horizon_words(365), horizon_words(182), horizon_words(90)
    ('within a year', 'within 6 months', 'within 90 days')
    """
    if days in _YEARS:
        return f"within {_YEARS[days]}"
    months = days / 30.4375
    if days >= 120 and abs(months - round(months)) < 0.05:
        return f"within {round(months)} months"
    return f"within {days} days"


def _per_100(value: float) -> int:
    return round(100 * value)


def _difference_range(lower: float, upper: float) -> str:
    """Range of (participants − comparison) per 100, in words."""
    low, high = _per_100(lower), _per_100(upper)

    def one(v: int) -> str:
        if v == 0:
            return "no difference"
        return f"{abs(v)} {'fewer' if v < 0 else 'more'}"

    if low == high:
        return f"about {one(low)} per 100 participants"
    return f"between {one(low)} and {one(high)} per 100 participants"


def impact_sentence(
    *,
    participant_rate: float,
    comparison_rate: float,
    difference_lower: float,
    difference_upper: float,
    horizon_days: int,
    verdict: Verdict,
    participants_with_outcomes: int,
) -> str:
    """The headline for a programme's impact.

    Rates are proportions; the difference is participants minus comparison.

    Examples
    --------
    >>> from analysis.impact.rules import judge
    >>> print(impact_sentence(participant_rate=0.31, comparison_rate=0.42,
    ...     difference_lower=-0.17, difference_upper=-0.05, horizon_days=365,
    ...     verdict=judge(250, 77, 105, 0.001), participants_with_outcomes=250))
    For every 100 participants, 31 reoffended within a year, compared with 42 of 100 similar people who did not take part. The true difference is likely between 17 fewer and 5 fewer per 100 participants. This is a statistically significant reduction.
    """
    if not verdict.reportable:
        return (
            f"No result can be reported: only {participants_with_outcomes} participants could be "
            f"followed up {horizon_words(horizon_days)}, and at least {MIN_PARTICIPANTS} are "
            "needed for a reliable comparison."
        )
    when = horizon_words(horizon_days)
    text = (
        f"For every 100 participants, {_per_100(participant_rate)} reoffended {when}, compared "
        f"with {_per_100(comparison_rate)} of 100 similar people who did not take part. "
        f"The true difference is likely {_difference_range(difference_lower, difference_upper)}."
    )
    if verdict.significant:
        direction = "reduction" if difference_upper < 0 else "increase"
        text += f" This is a statistically significant {direction}."
    elif any("fewer than" in r and "reoffended" in r for r in verdict.reasons):
        text += " Too few people reoffended to say whether the programme made a difference."
    else:
        text += (
            " This is not statistically significant: the analysis cannot tell whether the "
            "programme changed reoffending."
        )
    return text
