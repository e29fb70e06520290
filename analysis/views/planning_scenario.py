"""Planning page services: the programmes a planner may scale up, the scenario's inputs
as a link holds them, and the scale-up scenario itself.

The scenario (:meth:`analysis.study.Study.scenario`) is computed on the sidebar's
selection and outcome: the effect on reoffending is the programme's impact evaluation
on them, the effect on returns to custody the same evaluation of the
``reincarceration`` outcome. Its figures are modelled, not counts of people; what
describes real people is the observed time in custody, withheld with every figure
computed from it when fewer than ``k`` returns are behind it
(:meth:`~analysis.planning.scenario.ScenarioAnalysis.as_dict`).

Query parameters
----------------
``program``
    A programme code among those offered (default: the one with most participants).
``participants``
    More participants per year, a whole number from 1 to :data:`MAX_PARTICIPANTS`
    (default :data:`DEFAULT_PARTICIPANTS`).
``years``
    Years of the scale-up, 1 to :data:`MAX_YEARS` (default :data:`DEFAULT_YEARS`).
``cost_per_day``
    Custody cost per day, a number of at least 0 (default: none entered).
``custody_days``
    Mean days in custody after a return, above 0 (default: observed in the records).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field

import duckdb
import pandas as pd

from analysis.errors import AnalysisError
from analysis.views.estimates import view_study
from analysis.views.filters import Rejection, ViewFilters
from analysis.views.scope import allowed_programs, only_program_rows, serves

DEFAULT_PARTICIPANTS = 100
DEFAULT_YEARS = 5
MAX_PARTICIPANTS = 1_000_000
MAX_YEARS = 30
MAX_CUSTODY_COST = 1_000_000.0
MAX_CUSTODY_DAYS = 36_500.0
#: The scenario's URL parameters, in the order the page shows its inputs.
SCENARIO_KEYS: tuple[str, ...] = ("program", "participants", "years", "cost_per_day",
                                  "custody_days")


@serves("planning", restrict=only_program_rows)
def scenario_programmes(con: duckdb.DuckDBPyConnection, filters: ViewFilters
                        ) -> pd.DataFrame:
    """``program_id, name``, the programmes with most participants first (a donor's
    scope would cut it to theirs; donors do not open the Planning page).

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store import migrate
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> list(scenario_programmes(con, ViewFilters()).columns)
    ['program_id', 'name']
    """
    return con.execute(
        "SELECT p.program_id, p.name FROM programs p "
        "LEFT JOIN (SELECT program_id, count(DISTINCT person_id) AS n FROM participation "
        "GROUP BY program_id) c USING (program_id) "
        "ORDER BY coalesce(c.n, 0) DESC, p.program_id").df()


@dataclass(frozen=True)
class ScenarioChoice:
    """The scenario's inputs (``None``: not entered)."""

    program: str | None
    participants: int = DEFAULT_PARTICIPANTS
    years: int = DEFAULT_YEARS
    cost_per_day: float | None = None
    custody_days: float | None = None

    def to_query(self, default_program: str | None = None) -> dict[str, str]:
        """URL parameters (defaults left out).

        Examples
        --------
        >>> ScenarioChoice("VOC", 200, 5, 80.0).to_query()
        {'program': 'VOC', 'participants': '200', 'cost_per_day': '80'}
        """
        query = {}
        if self.program is not None and self.program != default_program:
            query["program"] = self.program
        if self.participants != DEFAULT_PARTICIPANTS:
            query["participants"] = str(self.participants)
        if self.years != DEFAULT_YEARS:
            query["years"] = str(self.years)
        for key, value in (("cost_per_day", self.cost_per_day),
                           ("custody_days", self.custody_days)):
            if value is not None:
                query[key] = f"{value:g}" if value == int(value) else repr(value)
        return query


def _whole(text: str, lowest: int, highest: int) -> int | None:
    try:
        value = int(text.strip())
    except ValueError:
        return None
    return value if lowest <= value <= highest else None


def _amount(text: str, *, zero_allowed: bool, highest: float) -> float | None:
    try:
        value = float(text.strip())
    except ValueError:
        return None
    if not math.isfinite(value) or value < 0 or (value == 0 and not zero_allowed) \
            or value > highest:
        return None
    return value


def parse_scenario_query(params: Mapping[str, object], programmes: list[str]
                         ) -> tuple[ScenarioChoice, tuple[Rejection, ...]]:
    """The scenario's inputs from a link, and what of it is not used.

    A value that is not what the parameter expects is replaced by the default, with a
    :class:`~analysis.views.filters.Rejection` naming it and what is used instead; an
    unknown programme (or one outside the user's scope) by the first one offered.

    Examples
    --------
    >>> choice, rejected = parse_scenario_query(
    ...     {"program": "VOC", "participants": "abc", "cost_per_day": "80"}, ["VOC", "EDU"])
    >>> choice
    ScenarioChoice(program='VOC', participants=100, years=5, cost_per_day=80.0, custody_days=None)
    >>> rejected
    (Rejection(field='participants', value='abc', used='100'),)
    """
    def get(key: str) -> str | None:
        value = params.get(key)
        if isinstance(value, list | tuple):
            value = value[-1] if value else None
        text = None if value is None else str(value).strip()
        return text or None

    rejected: list[Rejection] = []
    first = programmes[0] if programmes else None
    program = get("program")
    if program is not None and program not in programmes:
        rejected.append(Rejection("program", program, first))
        program = None
    choice: dict[str, object] = {"program": program or first}
    for key, lowest, highest, default in (
            ("participants", 1, MAX_PARTICIPANTS, DEFAULT_PARTICIPANTS),
            ("years", 1, MAX_YEARS, DEFAULT_YEARS)):
        text = get(key)
        if text is None:
            continue
        value = _whole(text, lowest, highest)
        if value is None:
            rejected.append(Rejection(key, text, str(default)))
        else:
            choice[key] = value
    for key, zero_allowed, ceiling in (("cost_per_day", True, MAX_CUSTODY_COST),
                                       ("custody_days", False, MAX_CUSTODY_DAYS)):
        given = get(key)
        if given is None:
            continue
        amount = _amount(given, zero_allowed=zero_allowed, highest=ceiling)
        if amount is None:
            rejected.append(Rejection(key, given, None))
        else:
            choice[key] = amount
    return ScenarioChoice(**choice), tuple(rejected)  # type: ignore[arg-type]


@dataclass(frozen=True)
class PlanningScenario:
    """A scale-up scenario as it may be shown: ``payload`` is
    :meth:`~analysis.planning.scenario.ScenarioAnalysis.as_dict` under the filters'
    ``k`` (hidden figures null), ``per_year`` its table (NaN where hidden or unknown);
    ``error`` says why nothing could be computed. ``may_change_nothing``: the effect on
    reoffending is not reportable or not significant."""

    program: str
    per_year: pd.DataFrame
    payload: dict = field(default_factory=dict)
    notes: tuple[str, ...] = ()
    may_change_nothing: bool = True
    error: str | None = None
    #: The programme's code (``program`` is its label: code and name).
    program_id: str = ""


@serves("planning", scope_aware=True)
def planning_scenario(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                      program: str, participants: int = DEFAULT_PARTICIPANTS,
                      years: int = DEFAULT_YEARS, cost_per_day: float | None = None,
                      custody_days: float | None = None) -> PlanningScenario:
    """``participants`` more participants a year in ``program`` for ``years`` years.

    A programme outside the user's scope is refused as unknown (the page offers only
    :func:`scenario_programmes`).
    """
    allowed = allowed_programs(con, filters.scope)
    if allowed is not None and program not in allowed:
        return PlanningScenario(program, pd.DataFrame(),
                                error=f"there is no programme {program!r} to scale up")
    try:
        analysis = view_study(con, filters).scenario(
            program, int(participants), int(years), custody_cost_per_day=cost_per_day,
            mean_custody_days=custody_days)
    except AnalysisError as exc:
        return PlanningScenario(program, pd.DataFrame(), error=str(exc))
    payload = analysis.as_dict(filters.policy)
    per_year = pd.DataFrame(payload["per_year"]).astype(float)
    per_year["year"] = per_year["year"].astype("int64")
    effect = analysis.inputs.reoffending
    return PlanningScenario(
        analysis.inputs.program, per_year, payload, tuple(analysis.notes),
        may_change_nothing=effect is None or not (effect.reportable and effect.significant),
        program_id=program)
