"""What a scale-up scenario starts from: the evaluated effects, custody time and costs.

* :class:`Effect` — a programme's effect on the proportion who reoffend (or return to
  custody) within the impact evaluation's horizon: the risk difference of
  :class:`~analysis.impact.evaluation.ImpactResult` with its 95% CI, p-value and the
  Justice Data Lab verdict (reportable, significant);
* :class:`CustodyTime` — the mean time in custody after a return, observed in the
  records (:func:`observed_custody_time`) or entered by the planner;
* :func:`programme_cost` — the programme's cost per participant and currency from the
  ``programs`` table.

The definitions are in ``docs/planning.md`` (section "Scenario").
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import duckdb
import numpy as np

from analysis.errors import AnalysisError
from analysis.impact.cohort import resolve_programmes
from analysis.impact.evaluation import ImpactResult
from analysis.survival.episodes.values import recorded_event_types
from analysis.survival.kaplan_meier import KaplanMeier
from analysis.survival.restricted_mean import restricted_mean

if TYPE_CHECKING:
    from analysis.study import Study

#: Two-sided 95% normal quantile: the impact evaluation's CIs are estimate ± Z95 × SE.
Z95 = 1.959963984540054
#: The event type that records a return to custody (docs/data-contract.md).
REINCARCERATION = "reincarceration"
#: Fewer returns than this give no usable observed mean time in custody: too unstable
#: to plan beds on (the planner enters a mean instead).
MIN_CUSTODY_RETURNS = 30


@dataclass(frozen=True)
class Effect:
    """A programme's evaluated effect on the proportion with an event by the horizon.

    ``difference`` is participants minus comparison (negative: fewer events), exactly
    the ``difference`` of ``desist impact --json``; ``lower``/``upper`` its 95% CI.

    Examples
    --------
    >>> effect = Effect(("rearrest",), 365, "match", -0.05, -0.0892, -0.0108, 0.012,
    ...                 reportable=True, significant=True)
    >>> round(effect.reduction, 4), round(effect.se, 4)
    (0.05, 0.02)
    """

    event_types: tuple[str, ...]
    horizon_days: int
    method: str
    difference: float
    lower: float
    upper: float
    p: float | None
    reportable: bool
    significant: bool

    @property
    def reduction(self) -> float:
        """Fewer people with an event per participant (comparison minus participants)."""
        return -self.difference

    @property
    def se(self) -> float:
        """Standard error of the difference, from its (symmetric, normal) 95% CI."""
        return (self.upper - self.lower) / (2 * Z95)

    @classmethod
    def of_impact(cls, result: ImpactResult) -> Effect:
        """The headline risk difference of an impact evaluation."""
        d = result.difference
        return cls(tuple(result.event_types), int(result.horizon_days), result.method,
                   float(d.estimate), float(d.lower), float(d.upper),
                   None if d.p is None else float(d.p),
                   reportable=bool(result.reportable), significant=bool(result.significant))

    def as_dict(self) -> dict:
        shown = self.reportable  # the Justice Data Lab rule: no figure when not reportable
        return {"event_types": list(self.event_types), "horizon_days": self.horizon_days,
                "method": self.method, "measure": "risk_difference",
                "difference": self.difference if shown else None,
                "lower": self.lower if shown else None,
                "upper": self.upper if shown else None,
                "p": self.p if shown else None,
                "reportable": self.reportable, "significant": self.significant}


@dataclass(frozen=True)
class CustodyTime:
    """Mean days in custody after a return to custody, with its standard error.

    ``source`` is ``"observed"`` (:func:`observed_custody_time`) or ``"planner"`` (entered,
    taken as known: ``se`` 0). For observed times: ``returns`` counted, how many were
    followed by a release (``released``), the longest time observed (``longest_days``)
    and the Kaplan–Meier share still in custody then (``still_in_custody``).

    Examples
    --------
    >>> CustodyTime.entered(540).as_dict()["mean_days"]
    540.0
    """

    mean_days: float
    se: float
    source: Literal["observed", "planner"]
    returns: int | None = None
    released: int | None = None
    longest_days: float | None = None
    still_in_custody: float | None = None

    @classmethod
    def entered(cls, mean_days: float) -> CustodyTime:
        """A mean entered by the planner."""
        return cls(float(mean_days), 0.0, "planner")

    @property
    def lower(self) -> float:
        return max(0.0, self.mean_days - Z95 * self.se)

    @property
    def upper(self) -> float:
        return self.mean_days + Z95 * self.se

    def as_dict(self) -> dict:
        return {"mean_days": self.mean_days, "lower": self.lower, "upper": self.upper,
                "source": self.source, "returns": self.returns, "released": self.released,
                "longest_days": self.longest_days, "still_in_custody": self.still_in_custody}


def observed_custody_time(con: duckdb.DuckDBPyConnection) -> CustodyTime | None:
    """The mean time in custody after a return, from the records (None when too few).

    Each ``reincarceration`` event is a return; its time in custody is the days from the
    event to the same person's next release (the first release dated after it). A return
    not yet followed by a release is still in custody: censored at the data's last date
    (the latest ``follow_up_end``). The mean is the Kaplan–Meier restricted mean up to
    the longest time observed, so long stays not yet ended count as far as they are
    known (the plain mean of the ended stays would count only the short ones). Fewer
    than :data:`MIN_CUSTODY_RETURNS` returns give ``None``.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE releases (person_id VARCHAR, release_date DATE, "
    ...                 "follow_up_end DATE)")
    >>> _ = con.execute("CREATE TABLE events (person_id VARCHAR, event_date DATE, "
    ...                 "event_type VARCHAR)")
    >>> observed_custody_time(con) is None
    True
    """
    rows = con.execute(
        f"""
        WITH returns AS (
            SELECT person_id, event_date FROM events WHERE event_type = '{REINCARCERATION}'),
        ends AS (SELECT max(follow_up_end) AS last_day FROM releases)
        SELECT datediff('day', r.event_date, coalesce(x.release_date, ends.last_day)) AS days,
               x.release_date IS NOT NULL AS released
        FROM returns r ASOF LEFT JOIN releases x
            ON r.person_id = x.person_id AND x.release_date > r.event_date
        CROSS JOIN ends
        """
    ).fetchnumpy()
    days = np.asarray(rows["days"], dtype=float)
    released = np.asarray(rows["released"], dtype=bool)
    keep = np.isfinite(days) & (days >= 0)  # a return after the data's last date: none
    days, released = days[keep], released[keep]
    if len(days) < MIN_CUSTODY_RETURNS or not released.any():
        return None
    table = KaplanMeier().fit(days, released).table
    longest = float(days.max())
    mean = restricted_mean(table, longest)
    return CustodyTime(
        mean_days=float(mean.estimate), se=float(mean.se), source="observed",
        returns=len(days), released=int(released.sum()), longest_days=longest,
        still_in_custody=float(table["survival"].iloc[-1]),
    )


@dataclass(frozen=True)
class ProgrammeCost:
    """The programme's label, cost per participant and currency (``None`` when unknown)."""

    label: str
    cost_per_participant: float | None
    currency: str | None


def programme_cost(con: duckdb.DuckDBPyConnection, program: str) -> ProgrammeCost:
    """The ``programs`` row of ``program``; an unknown id is refused, naming the known ones.

    Examples
    --------
    >>> import duckdb
    >>> con = duckdb.connect()
    >>> _ = con.execute("CREATE TABLE programs (program_id VARCHAR, name VARCHAR, "
    ...     "setting VARCHAR, project VARCHAR, funder VARCHAR, cost_per_participant DOUBLE, "
    ...     "currency VARCHAR)")
    >>> _ = con.execute("INSERT INTO programs VALUES ('VOC', 'Vocational', 'in_prison', "
    ...                 "NULL, NULL, 500, 'EUR')")
    >>> programme_cost(con, "VOC")
    ProgrammeCost(label='VOC (Vocational)', cost_per_participant=500.0, currency='EUR')
    """
    programmes = resolve_programmes(con, program)
    if programmes.cost.empty:  # a service exposure (service:...) has no cost row
        return ProgrammeCost(programmes.label, None, None)
    row = programmes.cost.iloc[0]
    cost = row["cost_per_participant"]
    currency = row["currency"]
    known = cost is not None and math.isfinite(float(cost))
    return ProgrammeCost(programmes.label, float(cost) if known else None,
                         str(currency) if isinstance(currency, str) and currency else None)


@dataclass(frozen=True)
class ScenarioInputs:
    """Everything :func:`~analysis.planning.scenario.simulate` needs; ``None`` where a
    quantity is unknown.

    Parameters
    ----------
    program : str
        The programme's label (id and name).
    participants : int
        More participants per year.
    years : int
        Years of the scale-up.
    reoffending, returns : Effect, optional
        The evaluated effects on reoffending and on returns to custody (``returns``
        ``None``: it could not be evaluated).
    custody : CustodyTime, optional
        Mean time in custody after a return.
    cost_per_participant, custody_cost_per_day : float, optional
        The costs, in ``currency``.
    """

    program: str
    participants: int
    years: int
    reoffending: Effect | None
    returns: Effect | None
    custody: CustodyTime | None
    cost_per_participant: float | None = None
    custody_cost_per_day: float | None = None
    currency: str | None = None


#: The largest scenario: a century of scale-up is already beyond any plan.
MAX_YEARS = 100


def check_request(participants: Any, years: Any, custody_cost_per_day: float | None = None,
                  mean_custody_days: float | None = None) -> None:
    """Refuse a scenario that cannot be computed, naming the setting and what it expects.

    Examples
    --------
    >>> check_request(200, 5, 80.0, None)
    >>> check_request(0, 5)
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: participants must be a whole number of at least 1 more participant per year, not 0
    """
    if isinstance(participants, bool) or not isinstance(participants, int | np.integer) \
            or participants < 1:
        raise AnalysisError("participants must be a whole number of at least 1 more "
                            f"participant per year, not {participants!r}")
    if isinstance(years, bool) or not isinstance(years, int | np.integer) \
            or not 1 <= years <= MAX_YEARS:
        raise AnalysisError(f"years must be a whole number from 1 to {MAX_YEARS}, "
                            f"not {years!r}")
    for name, value, zero_allowed in (("custody cost per day", custody_cost_per_day, True),
                                      ("mean custody days", mean_custody_days, False)):
        if value is None:
            continue
        number = float(value)
        if not math.isfinite(number) or number < 0 or (number == 0 and not zero_allowed):
            expected = "at least 0" if zero_allowed else "above 0"
            raise AnalysisError(f"{name} must be a finite number {expected}, not {value!r}")


def gather_inputs(study: Study, program: str, participants: int, years: int, *,
                  custody_cost_per_day: float | None = None,
                  mean_custody_days: float | None = None,
                  **impact_options: Any) -> ScenarioInputs:
    """The scenario's inputs from a study: its programme cost, evaluations and custody time.

    The effect on reoffending is the study's impact evaluation of ``program`` (its
    outcome and selection, ``impact_options`` as for :meth:`Study.impact`); the effect on
    returns to custody the same evaluation of the ``reincarceration`` outcome (``None``
    when the records hold no such event or it cannot be evaluated). The mean time in
    custody is ``mean_custody_days`` when given, else :func:`observed_custody_time`.
    """
    check_request(participants, years, custody_cost_per_day, mean_custody_days)
    con = study.connection
    cost = programme_cost(con, program)  # an unknown programme is refused before any work
    reoffending = Effect.of_impact(study.impact(program, **impact_options).result)
    if reoffending.event_types == (REINCARCERATION,):
        returns: Effect | None = reoffending
    else:
        returns = _returns_effect(study, program, impact_options)
    custody = (CustodyTime.entered(mean_custody_days) if mean_custody_days is not None
               else observed_custody_time(con))
    return ScenarioInputs(
        program=cost.label, participants=int(participants), years=int(years),
        reoffending=reoffending, returns=returns, custody=custody,
        cost_per_participant=cost.cost_per_participant,
        custody_cost_per_day=None if custody_cost_per_day is None
        else float(custody_cost_per_day),
        currency=cost.currency,
    )


def _returns_effect(study: Study, program: str, impact_options: dict) -> Effect | None:
    if REINCARCERATION not in recorded_event_types(study.connection):
        return None
    try:
        evaluated = study.with_outcome(REINCARCERATION).impact(program, **impact_options)
    except AnalysisError:
        # The reoffending evaluation of the same programme worked: what fails here is the
        # reincarceration outcome itself (too few events to compare, a model that cannot
        # be fitted on them). The scenario then gives no returns avoided, and says so.
        return None
    return Effect.of_impact(evaluated.result)
