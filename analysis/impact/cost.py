"""Cost-effectiveness: what did each avoided reoffence cost?

Total cost = participants × ``cost_per_participant``. Reoffences avoided =
(comparison frequency − participant frequency) × participants, with the
interval carried through from the difference. Cost per reoffence avoided =
total cost ÷ reoffences avoided. Number needed to treat = 1 ÷ (difference in
the proportion who reoffend). When the interval of the reduction includes no
reduction (its lower end ≤ 0), no cost per reoffence avoided is given: the
data do not show that any reoffence was avoided, and a cost "per avoided
reoffence" would mislead.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

from analysis.i18n import translator


@dataclass(frozen=True)
class CostEffectiveness:
    """The numbers of a cost-effectiveness statement; :func:`cost_statement` words them."""

    currency: str
    participants: int
    cost_per_participant: float
    total_cost: float
    reoffences_avoided: float
    reoffences_avoided_lower: float
    reoffences_avoided_upper: float
    cost_per_reoffence_avoided: float | None
    cost_per_reoffence_avoided_range: tuple[float, float | None] | None
    number_needed_to_treat: float | None
    reduction_shown: bool

    @property
    def statement(self) -> str:
        """The statement in English (the ``statement`` of the JSON contract)."""
        return cost_statement(self)

    def as_dict(self) -> dict:
        return {**{k: getattr(self, k) for k in self.__dataclass_fields__},
                "statement": self.statement}


def cost_statement(cost: CostEffectiveness, language: str = "en") -> str:
    """What the programme cost and what each avoided reoffence cost, in ``language``.

    Examples
    --------
    >>> ce = cost_effectiveness(200, 500, "EUR", (0.05, -0.10, 0.20), 0.02)
    >>> print(cost_statement(ce))
    The programme cost 100,000 EUR for 200 participants. The results do not show that it reduced reoffending (the likely range includes no reduction), so no cost per reoffence avoided can be given.
    >>> print(cost_statement(ce, "fr").replace("\N{NO-BREAK SPACE}", " ").replace("\N{NARROW NO-BREAK SPACE}", " "))
    Le programme a coûté 100 000 EUR pour 200 participants. Les résultats ne montrent pas qu'il ait réduit la récidive (la fourchette probable inclut l'absence de baisse) : aucun coût par récidive évitée ne peut donc être donné.
    """
    tr = translator(language)

    def money(value: float) -> str:
        return f"{tr.number(value)} {cost.currency}".strip()

    text = tr.plural("The programme cost {total} for {n} participant.",
                     "The programme cost {total} for {n} participants.",
                     cost.participants, total=money(cost.total_cost))
    if not cost.reduction_shown or cost.cost_per_reoffence_avoided is None:
        return text + " " + tr(
            "The results do not show that it reduced reoffending (the likely range includes "
            "no reduction), so no cost per reoffence avoided can be given.")
    low, high = cost.cost_per_reoffence_avoided_range or (math.nan, math.nan)
    text += " " + tr(
        "It avoided about {avoided} reoffences (likely between {low} and {high}), about "
        "{per} per reoffence avoided (likely between {per_low} and {per_high}).",
        # whole reoffences in plain digits, as the JSON's English statement always wrote them
        avoided=f"{cost.reoffences_avoided:.0f}", low=f"{cost.reoffences_avoided_lower:.0f}",
        high=f"{cost.reoffences_avoided_upper:.0f}",
        per=money(cost.cost_per_reoffence_avoided), per_low=money(low),
        per_high=money(high if high is not None else math.nan))
    if cost.number_needed_to_treat is not None:
        text += " " + tr.plural(
            "About {n} person took part for each person kept from reoffending.",
            "About {n} people took part for each person kept from reoffending.",
            math.ceil(cost.number_needed_to_treat))
    return text


def cost_effectiveness(
    participants: int,
    cost_per_participant: float,
    currency: str,
    frequency_reduction: tuple[float, float, float],
    rate_reduction: float,
) -> CostEffectiveness:
    """Cost per reoffence avoided and number needed to treat.

    Parameters
    ----------
    participants
        Participants the cost applies to.
    frequency_reduction
        (estimate, lower, upper) of comparison minus participant reoffences per person.
    rate_reduction
        Comparison minus participant proportion who reoffended (for the NNT).

    Examples
    --------
    >>> ce = cost_effectiveness(200, 500, "EUR", (0.25, 0.10, 0.40), 0.12)
    >>> ce.total_cost, ce.reoffences_avoided, round(ce.cost_per_reoffence_avoided)
    (100000, 50.0, 2000)
    >>> cost_effectiveness(200, 500, "EUR", (0.05, -0.10, 0.20), 0.02).cost_per_reoffence_avoided is None
    True
    """
    estimate, lower, upper = frequency_reduction
    total = participants * cost_per_participant
    avoided = estimate * participants
    avoided_low, avoided_high = lower * participants, upper * participants
    shown = lower > 0
    nnt = 1 / rate_reduction if rate_reduction > 0 and shown else None
    if shown:
        per = total / avoided
        # Fewer avoided reoffences mean a higher cost each: the bounds swap.
        per_range: tuple[float, float | None] | None = (total / avoided_high, total / avoided_low)
    else:
        per, per_range = None, None
    return CostEffectiveness(
        currency=currency,
        participants=participants,
        cost_per_participant=cost_per_participant,
        total_cost=total,
        reoffences_avoided=avoided,
        reoffences_avoided_lower=avoided_low,
        reoffences_avoided_upper=avoided_high,
        cost_per_reoffence_avoided=per,
        cost_per_reoffence_avoided_range=per_range,
        number_needed_to_treat=nnt,
        reduction_shown=shown,
    )
