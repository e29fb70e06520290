"""Planning aid: what difference can an evaluation of a given size detect?

Two groups compared on a reoffending proportion at a fixed horizon, with a
two-sided test at level ``alpha``: the minimum detectable effect (MDE) is the
smallest drop from the comparison group's rate that the evaluation would detect
with the requested power. Effect sizes use Cohen's *h* (the arcsine
transformation), as in :class:`statsmodels.stats.power.NormalIndPower`.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from scipy.optimize import brentq
from statsmodels.stats.power import NormalIndPower

from analysis.errors import AnalysisError


def _cohen_h(p1: float, p0: float) -> float:
    return 2 * math.asin(math.sqrt(p1)) - 2 * math.asin(math.sqrt(p0))


@dataclass(frozen=True)
class DetectableEffect:
    """Result of :func:`minimum_detectable_effect`."""

    participants: int
    comparison: int
    base_rate: float
    detectable_rate: float
    alpha: float
    power: float

    @property
    def absolute_reduction(self) -> float:
        return self.base_rate - self.detectable_rate

    @property
    def per_100(self) -> float:
        """Reoffenders fewer per 100 participants the evaluation could detect."""
        return 100 * self.absolute_reduction

    def sentence(self) -> str:
        return (
            f"With {self.participants} participants and {self.comparison} comparison people, "
            f"and {100 * self.base_rate:.0f} of 100 reoffending without the programme, an "
            f"evaluation would detect a drop to {100 * self.detectable_rate:.0f} of 100 "
            f"(about {self.per_100:.0f} fewer per 100) with {100 * self.power:.0f}% power "
            f"at the {100 * self.alpha:g}% significance level; smaller effects may be missed."
        )


def _check(base_rate: float, alpha: float, power: float) -> None:
    if not 0 < base_rate < 1:
        raise AnalysisError("the base rate must be a proportion strictly between 0 and 1")
    if not 0 < alpha < 1 or not 0 < power < 1:
        raise AnalysisError("alpha and power must be strictly between 0 and 1")


def minimum_detectable_effect(
    participants: int,
    base_rate: float,
    *,
    comparison_ratio: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
) -> DetectableEffect:
    """Smallest reduction of the reoffending rate detectable by an evaluation.

    Parameters
    ----------
    participants
        Programme participants with complete follow-up at the horizon.
    base_rate
        Reoffending proportion expected without the programme (e.g. 0.35).
    comparison_ratio
        Comparison people per participant (1 for one-to-one matching).

    Examples
    --------
    >>> mde = minimum_detectable_effect(200, 0.40)
    >>> round(mde.detectable_rate, 3), round(mde.per_100, 1)
    (0.268, 13.2)
    """
    _check(base_rate, alpha, power)
    if participants < 2 or comparison_ratio <= 0:
        raise AnalysisError("an evaluation needs at least 2 participants and a comparison group")
    effect = NormalIndPower().solve_power(
        nobs1=participants,
        alpha=alpha,
        power=power,
        ratio=comparison_ratio,
        alternative="two-sided",
    )
    # Solve h(p1, p0) = -effect for p1 below the base rate.
    target = -abs(effect)
    if _cohen_h(1e-12, base_rate) > target:
        detectable = 0.0  # even a drop to zero is not certain to be detected
    else:
        detectable = brentq(lambda p: _cohen_h(p, base_rate) - target, 1e-12, base_rate)
    return DetectableEffect(
        participants=participants,
        comparison=round(participants * comparison_ratio),
        base_rate=base_rate,
        detectable_rate=detectable,
        alpha=alpha,
        power=power,
    )


def required_participants(
    base_rate: float,
    expected_rate: float,
    *,
    comparison_ratio: float = 1.0,
    alpha: float = 0.05,
    power: float = 0.8,
) -> int:
    """Participants needed to detect a change from ``base_rate`` to ``expected_rate``.

    Examples
    --------
    >>> required_participants(0.40, 0.30)
    356
    """
    _check(base_rate, alpha, power)
    if not 0 < expected_rate < 1 or expected_rate == base_rate:
        raise AnalysisError("the expected rate must differ from the base rate and lie in (0, 1)")
    effect = abs(_cohen_h(expected_rate, base_rate))
    n = NormalIndPower().solve_power(
        effect_size=effect,
        alpha=alpha,
        power=power,
        ratio=comparison_ratio,
        alternative="two-sided",
    )
    return math.ceil(n)
