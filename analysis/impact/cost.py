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


@dataclass(frozen=True)
class CostEffectiveness:
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
    statement: str

    def as_dict(self) -> dict:
        return {k: getattr(self, k) for k in self.__dataclass_fields__}


def _money(value: float, currency: str) -> str:
    return f"{value:,.0f} {currency}".strip()


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
        per_range = (total / avoided_high, total / avoided_low)
        statement = (
            f"The programme cost {_money(total, currency)} for {participants} participants. "
            f"It avoided about {avoided:.0f} reoffences (likely between {avoided_low:.0f} and "
            f"{avoided_high:.0f}), about {_money(per, currency)} per reoffence avoided "
            f"(likely between {_money(per_range[0], currency)} and {_money(per_range[1], currency)})."
        )
        if nnt is not None:
            statement += (
                f" About {math.ceil(nnt)} people took part for each person kept from reoffending."
            )
    else:
        per, per_range = None, None
        statement = (
            f"The programme cost {_money(total, currency)} for {participants} participants. "
            "The results do not show that it reduced reoffending (the likely range includes no "
            "reduction), so no cost per reoffence avoided can be given."
        )
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
        statement=statement,
    )
