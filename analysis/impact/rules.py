"""Rules that keep impact results honest (after the UK Justice Data Lab).

- No result is reported for fewer than ``MIN_PARTICIPANTS`` participants with
  outcomes (people followed up to the horizon).
- A difference is called *significant* only when p ≤ ``ALPHA`` **and** each
  group has at least ``MIN_OUTCOMES_PER_GROUP`` people with the outcome.
- Sub-analyses (completers vs dropouts, women, age bands) obey the same rules.
- When several programmes are shown together, about 1 in 20 true null effects
  will look significant by chance: the note says so.
"""

from __future__ import annotations

from dataclasses import dataclass

MIN_PARTICIPANTS = 60
MIN_OUTCOMES_PER_GROUP = 10
ALPHA = 0.05

MULTIPLE_COMPARISONS_NOTE = (
    "Several programmes are compared here. With many comparisons, about one in twenty "
    "programmes with no real effect will still show a 'significant' difference by chance; "
    "read single significant results among many with caution."
)


@dataclass(frozen=True)
class Verdict:
    """Whether a result may be shown, and whether it may be called significant."""

    reportable: bool
    significant: bool
    reasons: tuple[str, ...]


def judge(
    participants_with_outcomes: int,
    participants_reoffending: int,
    comparison_reoffending: int,
    p_value: float | None,
) -> Verdict:
    """Apply the reporting rules.

    Examples
    --------
    >>> judge(59, 20, 30, 0.001).reportable
    False
    >>> judge(200, 8, 30, 0.001).significant
    False
    >>> judge(200, 40, 60, 0.01)
    Verdict(reportable=True, significant=True, reasons=())
    """
    reasons: list[str] = []
    reportable = participants_with_outcomes >= MIN_PARTICIPANTS
    if not reportable:
        reasons.append(
            f"fewer than {MIN_PARTICIPANTS} participants with outcomes "
            f"({participants_with_outcomes}): no result is reported"
        )
    few = min(participants_reoffending, comparison_reoffending) < MIN_OUTCOMES_PER_GROUP
    if few:
        reasons.append(
            f"fewer than {MIN_OUTCOMES_PER_GROUP} people reoffended in a group: "
            "the difference cannot be called significant"
        )
    significant = reportable and not few and p_value is not None and p_value <= ALPHA
    return Verdict(reportable, significant, tuple(reasons))
