"""What scaling a programme up would change: a Monte Carlo benefit–cost scenario.

A planner asks "what if N more people a year took part, for Y years?". The answer uses
the programme's evaluated effect and its uncertainty (:mod:`analysis.impact`), never only
its point estimate, as Washington State's WSIPP benefit–cost model does:

1. :func:`~analysis.planning.scenario_inputs.gather_inputs` gathers what the scenario starts from: the effect on
   reoffending within the evaluation's horizon (the study's outcome), the effect on
   returns to custody (the same evaluation of the ``reincarceration`` outcome), the mean
   time in custody after a return (observed, or entered), and the costs;
2. :func:`simulate` draws the uncertain quantities (10,000 times by default, seeded) and
   sums them up per year: reoffences avoided, returns avoided, prison-bed-years saved,
   net cost, the probability that benefits exceed costs and the break-even year. It is
   pure numpy, and is what ``benchmarks/bench_scenario.py`` times.

The definitions, with a worked example checked by ``tests/planning/test_scenario_docs.py``,
are in ``docs/planning.md`` (section "Scenario"). Results carry numbers and note codes
(:data:`~analysis.planning.scenario_notes.NOTES`); words are rendered at the edge
(:meth:`ScenarioAnalysis.note_texts`).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import numpy as np
import pandas as pd

from analysis.constants import DAYS_PER_YEAR
from analysis.disclosure import DisclosurePolicy, disclosure_block
from analysis.errors import AnalysisError
from analysis.i18n import translator
from analysis.planning.scenario_inputs import (
    Effect,
    ScenarioInputs,
    gather_inputs,
)
from analysis.planning.scenario_notes import NOTES, scenario_notes

if TYPE_CHECKING:
    from analysis.study import Study

#: The interval of every Monte Carlo figure: the 5th and 95th percentiles of the draws.
INTERVAL = (0.05, 0.95)
MAX_DRAWS = 1_000_000


@dataclass(frozen=True)
class ScenarioAnalysis:
    """A scale-up scenario: its inputs, the figures per year and overall.

    ``table`` has one row per year (NaN where a figure cannot be given); ``totals`` the
    whole scenario (custody saved after the last year by the returns avoided during it
    included); ``as_dict(policy)`` is the ``desist scenario --json`` contract.
    """

    inputs: ScenarioInputs
    table: pd.DataFrame
    totals: dict[str, dict[str, float | None]]
    probability_benefit_exceeds_cost: float | None
    break_even_year: int | None
    draws: int
    seed: int
    notes: tuple[str, ...] = field(default=())

    @property
    def summary(self) -> pd.DataFrame:
        """The inputs: ``quantity, estimate, lower, upper, p, reportable, significant`` for
        each effect (a risk difference, participants minus comparison) and the mean days
        in custody after a return (95% CIs)."""
        rows = []
        for name, effect in (("reoffending", self.inputs.reoffending),
                             ("returns_to_custody", self.inputs.returns)):
            if effect is not None:
                rows.append({"quantity": name, "estimate": effect.difference,
                             "lower": effect.lower, "upper": effect.upper, "p": effect.p,
                             "reportable": effect.reportable,
                             "significant": effect.significant})
        custody = self.inputs.custody
        if custody is not None:
            rows.append({"quantity": "custody_days", "estimate": custody.mean_days,
                         "lower": custody.lower, "upper": custody.upper})
        return pd.DataFrame(rows, columns=["quantity", "estimate", "lower", "upper", "p",
                                           "reportable", "significant"])

    def note_texts(self, language: str = "en") -> list[str]:
        """The notes in ``language``."""
        tr = translator(language)
        return [tr(NOTES[code]) for code in self.notes]

    def _repr_html_(self) -> str:
        """Notebook display: the inputs, the figures per year and the notes."""
        import html

        inputs = self.inputs
        probability = ("-" if self.probability_benefit_exceeds_cost is None
                       else f"{self.probability_benefit_exceeds_cost:.1%}")
        return (
            f"<h4>Scale-up of {html.escape(inputs.program)}: {inputs.participants:,} more "
            f"participants a year for {inputs.years} years</h4>"
            + self.summary.to_html(index=False, float_format=lambda v: f"{v:.4g}")
            + self.table.to_html(index=False, float_format=lambda v: f"{v:,.1f}")
            + f"<p>P(benefits exceed costs) = {probability}; break-even year: "
            f"{self.break_even_year or '-'}</p>"
            + "".join(f"<p><em>{html.escape(text)}</em></p>" for text in self.note_texts())
        )

    def as_dict(self, policy: DisclosurePolicy | None = None, *, unsafe: bool = False) -> dict:
        """The ``desist scenario --json`` payload under ``policy`` (default k = 10).

        The figures are modelled, not counts of people; what describes real people is
        the custody time observed over ``returns`` returns: with fewer than ``k`` of them
        it is withheld (null), with everything computed from it.
        """
        policy = policy or DisclosurePolicy()
        inputs, custody = self.inputs, self.inputs.custody
        custody_hidden = (custody is not None and custody.returns is not None
                          and policy.hides(custody.returns))
        money_columns = ("bed_years_saved", "bed_years_lower", "bed_years_upper",
                         "custody_cost_avoided", "net_cost", "net_cost_lower",
                         "net_cost_upper", "cumulative_net_cost", "probability_break_even")
        table = self.table.copy()
        totals = {name: dict(values) for name, values in self.totals.items()}
        hidden = 0
        if custody_hidden:
            # the custody block, then every figure computed from the observed stay
            hidden = 1 + int(table[list(money_columns)].notna().sum().sum())
            table[list(money_columns)] = np.nan
            for name in ("bed_years_saved", "custody_cost_avoided", "net_cost"):
                hidden += sum(value is not None for value in totals[name].values())
                totals[name] = dict.fromkeys(totals[name])
            hidden += self.probability_benefit_exceeds_cost is not None
            hidden += self.break_even_year is not None
        return {
            "disclosure": disclosure_block(policy.k, unsafe=unsafe, hidden=hidden),
            "program": inputs.program,
            "participants_per_year": inputs.participants,
            "years": inputs.years,
            "currency": inputs.currency,
            "cost_per_participant": inputs.cost_per_participant,
            "custody_cost_per_day": inputs.custody_cost_per_day,
            "draws": self.draws,
            "seed": self.seed,
            "effect": {
                "reoffending": inputs.reoffending.as_dict() if inputs.reoffending else None,
                "returns_to_custody": inputs.returns.as_dict() if inputs.returns else None,
                "custody_days": None if custody is None or custody_hidden
                else custody.as_dict(),
            },
            "per_year": [{k: _number(v) for k, v in row.items()}
                         for row in table.to_dict("records")],
            "totals": {name: {k: _number(v) for k, v in values.items()}
                       for name, values in totals.items()},
            "probability_benefit_exceeds_cost": None if custody_hidden
            else _number(self.probability_benefit_exceeds_cost),
            "break_even_year": None if custody_hidden else self.break_even_year,
            "notes": list(self.notes),
        }


def _number(value: Any) -> Any:
    """A JSON number: NaN becomes None, numpy scalars plain Python numbers."""
    if value is None:
        return None
    if isinstance(value, np.integer | int) and not isinstance(value, bool):
        return int(value)
    if isinstance(value, np.floating | float):
        return None if not math.isfinite(value) else float(value)
    return value


def _summary(values: np.ndarray, no_effect: float | np.ndarray | None = None
             ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Mean and 90% interval over the draws (axis 0), widened to ``no_effect`` if given."""
    mean = values.mean(axis=0)
    lower, upper = np.quantile(values, INTERVAL, axis=0)
    if no_effect is not None:
        lower, upper = np.minimum(lower, no_effect), np.maximum(upper, no_effect)
    return mean, lower, upper


def _cumulative_bed_years(length_years: np.ndarray, years: int) -> np.ndarray:
    """Bed-years saved by the end of each year, per return avoided in every year so far.

    Year ``y`` (``1..years``) is the time interval ``(y - 1, y]``; its returns avoided are
    placed at mid-year, ``y - 0.5``, each freeing a bed for ``length_years``. By the end
    of year ``j`` the cohort of year ``y <= j`` has saved ``min(j - y + 0.5, L)``
    bed-years per return; summed over the cohorts (``a = 0.5, 1.5, ..., j - 0.5``):
    ``K**2 / 2 + (j - K) * L`` with ``K`` the number of ``a <= L``.
    Shape: ``(len(length_years), years)``.

    Examples
    --------
    >>> _cumulative_bed_years(np.array([2.0]), 3).tolist()
    [[0.5, 2.0, 4.0]]
    """
    j = np.arange(1, years + 1, dtype=float)[None, :]
    length = length_years[:, None]
    k = np.clip(np.floor(length - 0.5) + 1, 0, j)
    return k**2 / 2 + (j - k) * length


#: The per-year columns, in the order of the table and of ``per_year`` in the JSON.
COLUMNS = ("year", "reoffences_avoided", "lower", "upper", "returns_avoided",
           "returns_lower", "returns_upper", "bed_years_saved", "bed_years_lower",
           "bed_years_upper", "programme_cost", "custody_cost_avoided", "net_cost",
           "net_cost_lower", "net_cost_upper", "cumulative_net_cost", "probability_break_even")


def simulate(inputs: ScenarioInputs, *, draws: int = 10_000, seed: int = 2026
             ) -> ScenarioAnalysis:
    """The Monte Carlo of a scenario (numpy only: no database, no evaluation).

    Each draw takes the two effects from normal distributions with the evaluations'
    estimates and standard errors, and the mean time in custody from a normal with its
    estimate and standard error (cut at zero; a planner's mean is taken as known). The
    three are drawn independently, and always, so a scenario that lacks one has the same
    draws of the others. Every figure is the mean of the draws with their 5th–95th
    percentiles; for an effect that is not significant, the interval is widened to
    include the figure of no effect (0 avoided; a net cost of the whole programme cost).

    Examples
    --------
    >>> from analysis.planning.scenario_inputs import CustodyTime
    >>> effect = Effect(("rearrest",), 365, "match", -0.05, -0.05, -0.05, 0.001,
    ...                 reportable=True, significant=True)
    >>> inputs = ScenarioInputs("VOC", 100, 3, effect, effect, CustodyTime.entered(730.5),
    ...                         cost_per_participant=1000, custody_cost_per_day=100)
    >>> result = simulate(inputs, draws=1000)
    >>> result.table["bed_years_saved"].round(6).tolist(), result.break_even_year
    ([2.5, 7.5, 10.0], 2)
    """
    _check_draws(draws)
    n, years = inputs.participants, inputs.years
    z = np.random.default_rng(seed).standard_normal((3, draws))
    year = np.arange(1, years + 1)
    columns: dict[str, np.ndarray] = {"year": year}
    totals: dict[str, dict[str, float | None]] = {}

    def per_year(names: tuple[str, str, str], values: np.ndarray | None, no_effect) -> None:
        """Mean and interval of a draws-by-years array (NaN when unknown)."""
        if values is None:
            for name in names:
                columns[name] = np.full(years, np.nan)
            return
        for name, summary in zip(names, _summary(values, no_effect), strict=True):
            columns[name] = summary

    def total(name: str, values: np.ndarray | None, no_effect: float | None) -> None:
        """Mean and interval over the whole scenario (None when unknown)."""
        if values is None:
            totals[name] = {"mean": None, "lower": None, "upper": None}
            return
        mean, lower, upper = (float(v[0]) for v in _summary(values[:, None], no_effect))
        totals[name] = {"mean": mean, "lower": lower, "upper": upper}

    reoffending = _reduction_draws(inputs.reoffending, z[0])
    reoffending_zero = _no_effect(inputs.reoffending, 0.0)
    every_year = None if reoffending is None else np.repeat(n * reoffending[:, None], years, 1)
    per_year(("reoffences_avoided", "lower", "upper"), every_year, reoffending_zero)
    total("reoffences_avoided", None if reoffending is None else years * n * reoffending,
          reoffending_zero)

    returns = _reduction_draws(inputs.returns, z[1])
    returns_zero = _no_effect(inputs.returns, 0.0)
    every_year = None if returns is None else np.repeat(n * returns[:, None], years, 1)
    per_year(("returns_avoided", "returns_lower", "returns_upper"), every_year, returns_zero)
    total("returns_avoided", None if returns is None else years * n * returns, returns_zero)

    custody = inputs.custody
    custody_days = (None if custody is None or returns is None
                    else np.maximum(custody.mean_days + custody.se * z[2], 0.0))
    cumulative_beds = beds_total = None
    if custody_days is not None and returns is not None:
        cumulative_beds = n * returns[:, None] * _cumulative_bed_years(
            custody_days / DAYS_PER_YEAR, years)
        beds_total = years * n * returns * custody_days / DAYS_PER_YEAR
    per_year(("bed_years_saved", "bed_years_lower", "bed_years_upper"),
             None if cumulative_beds is None else np.diff(cumulative_beds, axis=1, prepend=0.0),
             returns_zero)
    total("bed_years_saved", beds_total, returns_zero)

    cost, day_cost = inputs.cost_per_participant, inputs.custody_cost_per_day
    columns["programme_cost"] = np.full(years, np.nan if cost is None else n * cost)
    totals["programme_cost"] = {"mean": None if cost is None else float(years * n * cost),
                                "lower": None, "upper": None}
    money = None
    if cumulative_beds is not None and beds_total is not None and cost is not None \
            and day_cost is not None:
        money = _money(cumulative_beds, beds_total, n * cost, day_cost)
    no_net_effect = None if returns_zero is None or cost is None else n * cost
    per_year(("net_cost", "net_cost_lower", "net_cost_upper"),
             None if money is None else money.net, no_net_effect)
    for name in ("custody_cost_avoided", "cumulative_net_cost", "probability_break_even"):
        columns[name] = np.full(years, np.nan) if money is None else getattr(money, name)
    total("custody_cost_avoided", None if money is None else money.benefit,
          None if returns_zero is None else 0.0)
    total("net_cost", None if money is None else money.total_net,
          None if no_net_effect is None else float(years * no_net_effect))
    probability = None if money is None else money.probability
    break_even = None if money is None else money.break_even_year
    table = pd.DataFrame({name: columns[name] for name in COLUMNS})
    return ScenarioAnalysis(inputs, table, totals, probability, break_even, int(draws),
                            int(seed), notes=scenario_notes(inputs))


@dataclass(frozen=True)
class _Money:
    """The money figures of the draws (see :func:`_money`)."""

    net: np.ndarray  # draws x years: programme cost - custody cost avoided, each year
    custody_cost_avoided: np.ndarray  # mean per year
    cumulative_net_cost: np.ndarray  # mean per year
    probability_break_even: np.ndarray  # per year
    benefit: np.ndarray  # per draw: every day of custody saved, after the last year too
    total_net: np.ndarray  # per draw
    probability: float
    break_even_year: int | None


def _money(cumulative_beds: np.ndarray, beds_total: np.ndarray, yearly_cost: float,
           day_cost: float) -> _Money:
    """Costs avoided and net costs from the bed-years saved (draws x years, cumulative)."""
    years = cumulative_beds.shape[1]
    year = np.arange(1, years + 1)
    cumulative_avoided = cumulative_beds * DAYS_PER_YEAR * day_cost
    cumulative_net = year * yearly_cost - cumulative_avoided
    benefit = beds_total * DAYS_PER_YEAR * day_cost
    mean_path = cumulative_net.mean(axis=0)
    even = np.flatnonzero(mean_path <= 0)
    return _Money(
        net=np.diff(cumulative_net, axis=1, prepend=0.0),
        custody_cost_avoided=np.diff(cumulative_avoided, axis=1, prepend=0.0).mean(axis=0),
        cumulative_net_cost=mean_path,
        probability_break_even=(cumulative_net <= 0).mean(axis=0),
        benefit=benefit,
        total_net=years * yearly_cost - benefit,
        probability=float((benefit > years * yearly_cost).mean()),
        break_even_year=int(year[even[0]]) if len(even) else None,
    )


def _check_draws(draws: Any) -> None:
    if isinstance(draws, bool) or not isinstance(draws, int | np.integer) \
            or not 1 <= draws <= MAX_DRAWS:
        raise AnalysisError(f"draws must be a whole number from 1 to {MAX_DRAWS:,}, "
                            f"not {draws!r}")


def _reduction_draws(effect: Effect | None, z: np.ndarray) -> np.ndarray | None:
    """Draws of the reduction per participant; None when no effect may be reported."""
    if effect is None or not effect.reportable:
        return None
    return effect.reduction + effect.se * z


def _no_effect(effect: Effect | None, value: float) -> float | None:
    """``value`` (the figure of no effect) when the effect is not significant, else None."""
    return None if effect is None or effect.significant else value


def scale_up_scenario(study: Study, program: str, participants: int, years: int, *,
                      custody_cost_per_day: float | None = None,
                      mean_custody_days: float | None = None, draws: int = 10_000,
                      seed: int = 2026, **impact_options: Any) -> ScenarioAnalysis:
    """The scale-up scenario of ``program`` on ``study`` (:meth:`Study.scenario`).

    Parameters
    ----------
    study : Study
        Its outcome is the reoffending the effect is evaluated on; its selection, the
        releases compared.
    program : str
        A programme id of the ``programs`` table.
    participants, years : int
        ``participants`` more participants per year, for ``years`` years.
    custody_cost_per_day : float, optional
        What a day in custody costs, in the programme's currency; without it the money
        figures are null (note ``custody_cost_not_given``).
    mean_custody_days : float, optional
        Mean time in custody after a return; default: observed in the records.
    draws, seed : int
        Monte Carlo draws and their seed.
    **impact_options
        ``horizon_days``, ``method``, ``landmark_days``...: as for :meth:`Study.impact`.

    Returns
    -------
    ScenarioAnalysis
    """
    _check_draws(draws)
    inputs = gather_inputs(study, program, participants, years,
                           custody_cost_per_day=custody_cost_per_day,
                           mean_custody_days=mean_custody_days, **impact_options)
    return simulate(inputs, draws=draws, seed=seed)
