"""The words of the services analysis: needs, which service meets which need, gap reasons.

The service types, referral statuses and the region word ``all`` are the data contract's
(:mod:`analysis.contract`); this module adds what the coverage analysis
(:mod:`analysis.services.coverage`) derives from a release row.

A **need proxy** is a fact of the release record that suggests a need for a kind of
service, without claiming that every such person has it:

* ``drug_offence``: ``offense_category = 'drug'``, the proxy for drug treatment and
  opioid substitution (no record says who uses drugs; a drug offence is the closest
  field, and misses people convicted of other offences who use drugs);
* ``women``: ``sex = 'F'`` (services must exist that serve women where women are
  released);
* ``under_25``: age at release below 25 (``age_at_release``, else from ``birth_year``),
  the proxy for education and vocational training.
"""

from __future__ import annotations

from analysis.contract import (
    ALL_REGIONS,
    REACHED_STATUSES,
    REFERRAL_STATUSES,
    SERVICE_TYPES,
)
from analysis.survival.follow_up import age_sql

__all__ = ["ALL_REGIONS", "GAP_REASONS", "NEEDS", "NEED_OF_SERVICE", "REACHED_STATUSES",
           "REFERRAL_STATUSES", "SERVICE_TYPES", "need_sql"]

#: The need proxies computed for each release (see the module docstring).
NEEDS: tuple[str, ...] = ("drug_offence", "women", "under_25")

#: Service types whose yearly capacity is compared with the releases having the need.
NEED_OF_SERVICE: dict[str, str] = {
    "drug_treatment": "drug_offence",
    "opioid_substitution": "drug_offence",
    "education": "under_25",
    "vocational_training": "under_25",
}

#: Why a region x service type is flagged (:class:`analysis.services.coverage.Gap`).
GAP_REASONS: tuple[str, ...] = ("no_service", "capacity_below_demand", "none_for_women")


def need_sql(need: str, r: str = "r") -> str:
    """SQL predicate, over a release row aliased ``r``, true when the release has ``need``.

    Parameters
    ----------
    need : str
        One of :data:`NEEDS`.
    r : str
        The alias of the release row (of ``releases`` or ``expected_releases``).

    Returns
    -------
    str
        A boolean SQL expression.

    Examples
    --------
    >>> need_sql("women")
    "r.sex = 'F'"
    >>> need_sql("under_25", "x")
    'coalesce(x.age_at_release, year(x.release_date) - x.birth_year) < 25'
    """
    if need == "drug_offence":
        return f"{r}.offense_category = 'drug'"
    if need == "women":
        return f"{r}.sex = 'F'"
    if need == "under_25":
        return f"{age_sql(r)} < 25"
    raise ValueError(f"unknown need {need!r}; needs are {', '.join(NEEDS)}")
