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
from analysis.i18n import translator


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

    def sentence(self, language: str = "en") -> str:
        """What the evaluation could detect, in ``language``.

        Examples
        --------
        >>> print(minimum_detectable_effect(200, 0.40).sentence())
        With 200 participants and 200 comparison people, and 40 of 100 reoffending without the programme, an evaluation would detect a drop to 27 of 100 (about 13 fewer per 100) with 80% power at the 5% significance level; smaller effects may be missed.
        """
        tr = translator(language)
        level = 100 * self.alpha
        return tr.plural(
            "With {n} participant and {comparison} comparison people, and {base} of 100 "
            "reoffending without the programme, an evaluation would detect a drop to "
            "{detectable} of 100 (about {fewer} fewer per 100) with {power} power at the "
            "{alpha} significance level; smaller effects may be missed.",
            "With {n} participants and {comparison} comparison people, and {base} of 100 "
            "reoffending without the programme, an evaluation would detect a drop to "
            "{detectable} of 100 (about {fewer} fewer per 100) with {power} power at the "
            "{alpha} significance level; smaller effects may be missed.",
            self.participants, comparison=self.comparison,
            base=tr.number(100 * self.base_rate), detectable=tr.number(100 * self.detectable_rate),
            fewer=tr.number(self.per_100), power=tr.percent(self.power, 0),
            alpha=tr.percent(self.alpha, 0 if float(level).is_integer() else 1))


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
    participants : int
        Programme participants with complete follow-up at the horizon; fewer than 2 is
        refused (:class:`~analysis.errors.AnalysisError`).
    base_rate : float
        Reoffending proportion (0–1) expected at the horizon without the programme,
        e.g. 0.35; it must lie strictly between 0 and 1.
    comparison_ratio : float, optional
        Comparison people per participant (default 1, one-to-one matching); it must be
        positive.
    alpha : float, optional
        Significance level of the two-sided test, strictly between 0 and 1 (default
        0.05).
    power : float, optional
        Probability of detecting an effect of the returned size, strictly between 0 and
        1 (default 0.8).

    Returns
    -------
    DetectableEffect
        The design and ``detectable_rate``: the highest reoffending proportion among
        participants that the evaluation would tell apart from ``base_rate``
        (``absolute_reduction`` and ``per_100`` give the drop). It is 0 when even a
        drop to no reoffending at all would not be detected with that power.

    Examples
    --------
    >>> mde = minimum_detectable_effect(200, 0.40)
    >>> round(mde.detectable_rate, 3), round(mde.per_100, 1)
    (0.268, 13.2)

    Two comparison people per participant detect a smaller drop:

    >>> round(minimum_detectable_effect(200, 0.40, comparison_ratio=2).per_100, 1)
    11.5
    >>> minimum_detectable_effect(3, 0.10).detectable_rate
    0.0
    >>> minimum_detectable_effect(200, 40)
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: the base rate must be a proportion strictly between 0 and 1
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

    The same two-sided test on Cohen's *h* as :func:`minimum_detectable_effect`, solved
    for the number of participants instead of the rate.

    Parameters
    ----------
    base_rate : float
        Reoffending proportion (0–1) expected at the horizon without the programme;
        it must lie strictly between 0 and 1.
    expected_rate : float
        Reoffending proportion (0–1) expected among participants; it must lie strictly
        between 0 and 1 and differ from ``base_rate`` (a rise is handled like a drop).
    comparison_ratio : float, optional
        Comparison people per participant (default 1, one-to-one matching); zero or
        less is refused.
    alpha : float, optional
        Significance level of the two-sided test, strictly between 0 and 1 (default
        0.05).
    power : float, optional
        Wanted probability of detecting the change, strictly between 0 and 1 (default
        0.8).

    Returns
    -------
    int
        Participants with complete follow-up at the horizon, rounded up; the
        evaluation also needs ``comparison_ratio`` times as many comparison people.

    Examples
    --------
    >>> required_participants(0.40, 0.30)
    356
    >>> required_participants(0.40, 0.30, comparison_ratio=2)
    267
    >>> required_participants(0.40, 0.30, alpha=0.01, power=0.9)
    674
    >>> required_participants(0.40, 0.40)
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: the expected rate must differ from the base rate and lie in (0, 1)
    >>> required_participants(0.40, 0.30, comparison_ratio=0)
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: the comparison ratio (comparison people per participant) must be positive, not 0
    """
    _check(base_rate, alpha, power)
    if not 0 < expected_rate < 1 or expected_rate == base_rate:
        raise AnalysisError("the expected rate must differ from the base rate and lie in (0, 1)")
    if comparison_ratio <= 0:
        # statsmodels would silently solve a one-sample problem instead
        raise AnalysisError("the comparison ratio (comparison people per participant) "
                            f"must be positive, not {comparison_ratio}")
    effect = abs(_cohen_h(expected_rate, base_rate))
    n = NormalIndPower().solve_power(
        effect_size=effect,
        alpha=alpha,
        power=power,
        ratio=comparison_ratio,
        alternative="two-sided",
    )
    return math.ceil(n)
