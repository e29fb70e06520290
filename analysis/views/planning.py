"""Planning page services: the forecast and its backtest, and the monthly hazard.

Layer rule: pure Python (never streamlit); each view takes ``(con, filters, **options)``
and returns a frozen dataclass of numbers and codes, already disclosure-controlled with
``filters.min_cell`` (the page words it: :mod:`analysis.views.planning_words`). The
scale-up scenario is in :mod:`analysis.views.planning_scenario`.

Which sidebar filters apply
---------------------------
The selection restricts the people forecast (a planner limited to a region sees only
it: :class:`~analysis.views.filters.ViewFilters` narrows the selection to the account's
places); the outcome's event types define the *first reoffences*; *returns to custody*
are the same forecast of the ``reincarceration`` event.

Disclosure control
------------------
- The people at risk and the upcoming releases of a group are counts:
  from 1 to ``k - 1`` they read ``<k``, and one more is hidden (code ``hidden``) where
  the total of all groups would give a hidden one away
  (:meth:`~analysis.planning.forecast.ForecastAnalysis.hidden_counts`).
- A group of fewer than ``k`` people in all gets no forecast: it is left out and named
  (:meth:`~analysis.planning.forecast.ForecastAnalysis.withheld_groups`).
- A backtest's observed count is hidden as the forecast's counts are
  (:meth:`~analysis.planning.backtest.BacktestAnalysis.hidden_observed`), and so is
  whether it fell inside its interval; the coverage counts only the cells shown.
- The monthly hazard shows what :meth:`MonthlyHazardAnalysis.groups` shows (its own
  linked suppression: :mod:`analysis.planning.hazard_disclosure`); groups of fewer than
  ``k`` releases are left out and named.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field

import duckdb
import numpy as np
import pandas as pd

from analysis.disclosure import DisclosurePolicy
from analysis.errors import AnalysisError
from analysis.impact.wording import SECONDARY_LABEL
from analysis.planning.forecast import ForecastAnalysis
from analysis.planning.hazard import MonthlyHazardAnalysis
from analysis.study import Study
from analysis.survival.episodes.values import recorded_event_types
from analysis.views.estimates import view_study
from analysis.views.filters import ViewFilters
from analysis.views.scope import serves

#: Breakdowns of the forecast and the hazard ("" is no breakdown: everyone together).
BREAKDOWNS: tuple[str, ...] = ("release_region", "facility", "sex", "age_band", "")
DEFAULT_BREAKDOWN = "release_region"
#: The event type of a return to custody (docs/data-contract.md).
RETURNS_EVENT = "reincarceration"
#: Months since release in the hazard table and chart.
HAZARD_MONTHS = 24
#: Columns of :attr:`OutcomeForecast.rows`.
FORECAST_COLUMNS = ("group", "months", "at_risk", "upcoming_releases", "expected", "lower",
                    "upper")
#: Columns of :attr:`OutcomeForecast.backtest`.
BACKTEST_COLUMNS = ("group", "months", "predicted", "lower", "upper", "observed", "covered")


@dataclass(frozen=True)
class OutcomeForecast:
    """The forecast of one outcome, as it may be shown.

    ``rows``: :data:`FORECAST_COLUMNS`, one row per shown group and horizon, groups by
    their expected number at the longest horizon (highest first); ``at_risk`` and
    ``upcoming_releases`` are counts, or ``"<k"`` / ``"hidden"``. ``backtest``:
    :data:`BACKTEST_COLUMNS` (``observed`` a count or a label, ``covered`` None where
    it is hidden); ``covered_cells`` of ``shown_cells`` held the observed count.
    ``total``: with a breakdown, everyone together (:data:`FORECAST_COLUMNS`, group
    ``None``; empty without a breakdown, with only one group, or when fewer than ``k``
    people in all).
    """

    outcome: str  # "reoffending" | "returns"
    event_types: tuple[str, ...]
    as_of: dt.date
    level: float
    rows: pd.DataFrame
    withheld: tuple[str, ...]
    backtest_as_of: dt.date | None
    backtest: pd.DataFrame
    covered_cells: int
    shown_cells: int
    total: pd.DataFrame = field(default_factory=lambda: pd.DataFrame(
        columns=list(FORECAST_COLUMNS)))


@dataclass(frozen=True)
class PlanningForecast:
    """Expected first reoffences and returns to custody, each with its backtest.

    ``returns`` is ``None`` when the records hold no return to custody to learn from.
    """

    by: str
    reoffending: OutcomeForecast
    returns: OutcomeForecast | None
    suppressed_label: str

    @property
    def outcomes(self) -> tuple[OutcomeForecast, ...]:
        return (self.reoffending,) if self.returns is None else (self.reoffending,
                                                                 self.returns)


def _count_cells(forecast: ForecastAnalysis, policy: DisclosurePolicy) -> pd.DataFrame:
    """``group, at_risk, upcoming_releases`` with the hidden ones as labels."""
    hidden = forecast.hidden_counts(policy)
    cells = forecast.groups[["group", "at_risk", "upcoming_releases"]].copy()
    for column in ("at_risk", "upcoming_releases"):
        values: list[object] = []
        for group, n in zip(cells["group"], cells[column], strict=True):
            if str(group) not in hidden[column]:
                values.append(int(n))
            else:
                values.append(policy.label if policy.hides(int(n)) else SECONDARY_LABEL)
        cells[column] = pd.Series(values, index=cells.index, dtype=object)
    cells["group"] = cells["group"].astype(str)
    return cells


def _backtest_cells(forecast: ForecastAnalysis, policy: DisclosurePolicy,
                    withheld: set[str]) -> tuple[dt.date | None, pd.DataFrame, int, int]:
    tested = forecast.backtest
    empty = pd.DataFrame(columns=list(BACKTEST_COLUMNS))
    if tested is None:
        return None, empty, 0, 0
    hidden = tested.hidden_observed(policy)
    rows = []
    for line in tested.table.itertuples(index=False):
        group, months = str(line.group), int(line.months)
        if group in withheld or 0 < int(line.people) < policy.k:
            continue
        small = (group, months) in hidden
        observed: object = int(line.observed)
        if small:
            observed = policy.label if policy.hides(int(line.observed)) else SECONDARY_LABEL
        rows.append({"group": group, "months": months,
                     "predicted": round(float(line.predicted), 1),
                     "lower": int(line.lower), "upper": int(line.upper),
                     "observed": observed, "covered": None if small else bool(line.covered)})
    table = pd.DataFrame(rows, columns=list(BACKTEST_COLUMNS)) if rows else empty
    if len(table):
        table["observed"] = table["observed"].astype(object)
        table["covered"] = table["covered"].astype(object)
    shown = table["covered"].dropna()
    return (tested.as_of, table,
            int(sum(bool(v) for v in shown)), len(shown))


def outcome_forecast(forecast: ForecastAnalysis, outcome: str,
                     policy: DisclosurePolicy) -> OutcomeForecast:
    """The forecast as it may be shown under ``policy`` (see the module notes).

    Examples
    --------
    See :func:`planning_forecast`; ``tests/views/test_planning_view.py`` checks it on
    hand-made forecasts.
    """
    withheld = {str(g) for g in forecast.withheld_groups(policy)}
    counts = _count_cells(forecast, policy)
    table = forecast.table.assign(group=forecast.table["group"].astype(str))
    table = table[~table["group"].isin(withheld)]
    rows = table.merge(counts, on="group", how="left")
    rows = rows.assign(expected=rows["expected"].astype(float).round(1),
                       lower=rows["lower"].astype("int64"), upper=rows["upper"].astype("int64"))
    # the groups by what is expected at the longest horizon, highest first
    longest = rows[rows["months"] == rows["months"].max()].set_index("group")["expected"]
    order = {g: i for i, g in enumerate(longest.sort_values(ascending=False,
                                                            kind="stable").index)}
    rows = rows.assign(_order=rows["group"].map(order)).sort_values(
        ["_order", "months"], kind="stable")
    rows = rows[list(FORECAST_COLUMNS)].reset_index(drop=True)
    backtest_as_of, backtest, covered, shown = _backtest_cells(forecast, policy, withheld)
    if len(backtest):
        backtest = backtest.assign(_order=backtest["group"].map(order).fillna(len(order)))
        backtest = backtest.sort_values(["_order", "months"], kind="stable")[
            list(BACKTEST_COLUMNS)].reset_index(drop=True)
    return OutcomeForecast(outcome, tuple(forecast.event_types), forecast.as_of,
                           float(forecast.level), rows, tuple(sorted(withheld)),
                           backtest_as_of, backtest, covered, shown,
                           _total_rows(forecast, policy))


def _total_rows(forecast: ForecastAnalysis, policy: DisclosurePolicy) -> pd.DataFrame:
    """Everyone together, as :func:`outcome_forecast`'s rows (group ``None``); none
    without a breakdown or for fewer than ``k`` people in all. Its counts are shown: the
    groups' hidden counts are chosen so that they cannot be worked out from them."""
    total = forecast.total
    if total is None or total.empty or len(forecast.groups) < 2:  # one group: itself
        return pd.DataFrame(columns=list(FORECAST_COLUMNS))
    people = int(total["at_risk"].iloc[0]) + int(total["upcoming_releases"].iloc[0])
    if 0 < people < policy.k:
        return pd.DataFrame(columns=list(FORECAST_COLUMNS))
    return pd.DataFrame({
        "group": [None] * len(total), "months": total["months"].astype("int64"),
        "at_risk": total["at_risk"].astype("int64"),
        "upcoming_releases": total["upcoming_releases"].astype("int64"),
        "expected": total["expected"].astype(float).round(1),
        "lower": total["lower"].astype("int64"), "upper": total["upper"].astype("int64"),
    })[list(FORECAST_COLUMNS)].reset_index(drop=True)


def _checked_breakdown(by: str) -> str:
    if by not in BREAKDOWNS:
        raise AnalysisError(f"the planning breakdown must be one of "
                            f"{', '.join(b or '(none)' for b in BREAKDOWNS)}, not {by!r}")
    return by


@serves("planning")
def planning_forecast(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                      by: str = DEFAULT_BREAKDOWN) -> PlanningForecast:
    """Expected first reoffences and returns to custody in the next 3, 6 and 12 months,
    per group of ``by``, each with its backtest, as of the data's last day.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> from analysis.store import connect_readonly
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=2000)
    >>> with connect_readonly(db) as con:
    ...     result = planning_forecast(con, ViewFilters(), by="sex")
    >>> sorted(set(result.reoffending.rows["group"])), result.returns is not None
    (['F', 'M'], True)
    """
    by = _checked_breakdown(by)
    study = view_study(con, filters)
    policy = filters.policy

    def forecast(of: Study, outcome: str) -> OutcomeForecast:
        return outcome_forecast(of.forecast(by=by or None), outcome, policy)

    reoffending = forecast(study, "reoffending")
    returns = None
    if RETURNS_EVENT in recorded_event_types(con):
        try:
            returns = forecast(study.with_outcome(RETURNS_EVENT), "returns")
        except AnalysisError:  # too few returns in the selection to fit a curve
            returns = None
    return PlanningForecast(by, reoffending, returns, policy.label)


def forecast_frame(result: PlanningForecast) -> pd.DataFrame:
    """The forecast as its chart draws it: ``group, outcome, months, expected, lower,
    upper`` (both outcomes)."""
    parts = [o.rows.assign(outcome=o.outcome) for o in result.outcomes]
    return pd.concat(parts, ignore_index=True)[["group", "outcome", "months", "expected",
                                                "lower", "upper"]]


def backtest_frame(result: PlanningForecast) -> pd.DataFrame:
    """The backtests as the calibration chart draws them: the shown observed counts only
    (``group, outcome, months, predicted, lower, upper, observed``)."""
    parts = []
    for o in result.outcomes:
        shown = o.backtest[o.backtest["covered"].notna()]
        parts.append(shown.assign(outcome=o.outcome,
                                  observed=shown["observed"].astype(float)))
    columns = ["group", "outcome", "months", "predicted", "lower", "upper", "observed"]
    return pd.concat(parts, ignore_index=True)[columns] if parts else pd.DataFrame(
        columns=columns)


# ------------------------------------------------------------------ monthly hazard

#: Columns of :attr:`PlanningHazard.table`.
HAZARD_COLUMNS = ("group", "month", "start_day", "end_day", "at_risk", "events", "hazard",
                  "lower", "upper")


@dataclass(frozen=True)
class PlanningHazard:
    """The monthly hazard of reoffending per group, as it may be shown.

    ``table``: :data:`HAZARD_COLUMNS` (counts or ``"<k"`` / ``"hidden"``; hazard and
    interval NaN where hidden); ``shares``: ``group, months, share`` (NaN where hidden)
    of the first-year reoffences within 1, 3 and 6 months; ``withheld``: groups of
    fewer than ``k`` releases, left out.
    """

    by: str
    event_types: tuple[str, ...]
    table: pd.DataFrame
    shares: pd.DataFrame
    withheld: tuple[str, ...]
    suppressed_label: str


def _hazard_rows(fitted: MonthlyHazardAnalysis, policy: DisclosurePolicy,
                 withheld: set[str]) -> tuple[list[dict], list[dict]]:
    rows, shares = [], []
    truth = fitted.table.assign(group=fitted.table["group"].astype(str)).set_index(
        ["group", "month"])
    for shown in fitted.groups(policy):
        group = str(shown["group"])
        if group in withheld:
            continue
        for m in shown["months"]:
            row = {"group": group, "month": m["month"], "start_day": m["start_day"],
                   "end_day": m["end_day"]}
            for name in ("at_risk", "events"):
                value = m[name]
                if value is None:  # a count hidden only to protect another: "hidden"
                    value = (policy.label if policy.hides(int(truth.loc[(group, m["month"]),
                                                                        name]))
                             else SECONDARY_LABEL)
                row[name] = value
            for name in ("hazard", "lower", "upper"):
                row[name] = np.nan if m[name] is None else float(m[name])
            rows.append(row)
        for s in shown["first_year_shares"]:
            shares.append({"group": group, "months": int(s["months"]),
                           "share": np.nan if s["share"] is None else float(s["share"])})
    return rows, shares


@serves("planning")
def planning_hazard(con: duckdb.DuckDBPyConnection, filters: ViewFilters, *,
                    by: str = DEFAULT_BREAKDOWN) -> PlanningHazard:
    """The monthly hazard of reoffending (life table, 95% interval) over the first
    :data:`HAZARD_MONTHS` months after release, per group of ``by``, and the share of the
    first-year reoffences within 1, 3 and 6 months.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> from analysis.store import connect_readonly
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=2000)
    >>> with connect_readonly(db) as con:
    ...     result = planning_hazard(con, ViewFilters(), by="")
    >>> int(result.table["month"].max()), sorted(result.shares["months"])
    (24, [1, 3, 6])
    """
    by = _checked_breakdown(by)
    policy = filters.policy
    # every group is fitted; the small ones are then left out here (the engine's refusal
    # would quote their sizes)
    fitted = view_study(con, filters).monthly_hazard(by or None, months=HAZARD_MONTHS,
                                                     min_group_size=1)
    sizes = fitted.table[fitted.table["month"] == 1].set_index("group")["at_risk"]
    withheld = {str(g) for g, n in sizes.items() if int(n) < policy.k}
    rows, shares = _hazard_rows(fitted, policy, withheld)
    table = pd.DataFrame(rows, columns=list(HAZARD_COLUMNS))
    for name in ("at_risk", "events"):
        table[name] = table[name].astype(object)
    return PlanningHazard(by, tuple(fitted.event_types), table,
                          pd.DataFrame(shares, columns=["group", "months", "share"]),
                          tuple(sorted(withheld)), policy.label)
