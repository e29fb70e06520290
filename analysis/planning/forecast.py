"""Forecast: how many people will have a first reoffence (or return to custody) soon.

For the next 3, 6 and 12 months after an as-of date (default: the data's last day),
the expected number of people with a first outcome event, per group, with a 90%
prediction interval, from

(a) the people already released and still at risk on the as-of date, each with the
    probability given the time since release (conditional cumulative incidence), and
(b) the upcoming releases of table ``expected_releases``.

Only what was known on the as-of date is used to fit: releases after it are not at
risk, events after it are never seen. The method (:mod:`analysis.planning.forecast_model`)
and its backtest (:mod:`analysis.planning.backtest`) are defined in ``docs/planning.md``.

Examples
--------
>>> import tempfile, pathlib
>>> from analysis.demo.build import build_demo
>>> from analysis.study import open_study
>>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
>>> _ = build_demo(db, releases=2000)
>>> with open_study(db, outcome="rearrest") as study:
...     forecast = study.forecast(by="sex", backtest=False)
>>> forecast.months, sorted(forecast.groups["group"])
((3, 6, 12), ['F', 'M'])
>>> bool((forecast.table["lower"] <= forecast.table["upper"]).all())
True
"""

from __future__ import annotations

import calendar
import datetime as dt
from collections.abc import Iterable
from dataclasses import dataclass
from typing import TYPE_CHECKING

import duckdb
import pandas as pd

from analysis.disclosure import DisclosurePolicy, disclosure_block, parts_to_hide
from analysis.errors import AnalysisError
from analysis.planning.prediction import DEFAULT_LEVEL, ForecastInputs, Level
from analysis.store.schema import one_row
from analysis.survival.episodes import CachedEpisodes, Outcome, Selection
from analysis.survival.forecast_inputs import (
    empty_counts,
    expected_release_counts,
    period_counts,
)
from analysis.survival.grouping import Grouping

if TYPE_CHECKING:  # the backtest is built on this module
    from analysis.planning.backtest import BacktestAnalysis

DEFAULT_MONTHS: tuple[int, ...] = (3, 6, 12)
#: The curves are fitted on the time at risk of the last three years (every release
#: reaching a day since release in that period counts for it): hazards move with
#: policing and courts, and a forecast should follow the recent ones.
WINDOW_YEARS = 3
#: Twelve-month periods whose levels give the drift of the level (the latest sets it).
LEVEL_YEARS = 4


def add_months(day: dt.date, months: int) -> dt.date:
    """The same day ``months`` calendar months later (the month's last day if shorter).

    Examples
    --------
    >>> add_months(dt.date(2024, 8, 31), 6), add_months(dt.date(2024, 1, 15), 12)
    (datetime.date(2025, 2, 28), datetime.date(2025, 1, 15))
    """
    month = day.month - 1 + months
    year, month = day.year + month // 12, month % 12 + 1
    return dt.date(year, month, min(day.day, calendar.monthrange(year, month)[1]))


def data_span(con: duckdb.DuckDBPyConnection) -> tuple[dt.date | None, dt.date | None]:
    """First release date and last follow-up day of the database."""
    first, last = one_row(con, "SELECT min(release_date), max(follow_up_end) FROM releases")
    return first, last


def check_months(months: Iterable[int]) -> tuple[int, ...]:
    """Horizons in months, sorted, each from 1 to 60.

    Examples
    --------
    >>> check_months([12, 3, 6])
    (3, 6, 12)
    """
    chosen = tuple(sorted({int(m) for m in months}))
    if not chosen or chosen[0] < 1 or chosen[-1] > 60:
        raise AnalysisError(f"forecast months must be whole numbers from 1 to 60, "
                            f"not {list(months)}")
    return chosen


def resolve_as_of(con: duckdb.DuckDBPyConnection, as_of: dt.date | None) -> dt.date:
    """``as_of``, checked to lie inside the data, or the data's last day."""
    first, last = data_span(con)
    if first is None or last is None:
        raise AnalysisError("the database holds no release: nothing to forecast from")
    if as_of is None:
        return last
    if not first <= as_of <= last:
        raise AnalysisError(f"the as-of date {as_of.isoformat()} is outside the data, "
                            f"which runs from {first.isoformat()} to {last.isoformat()}")
    return as_of


def window_start(as_of: dt.date, window_years: int | None) -> dt.date | None:
    """First day of the period whose time at risk fits the curves (``None``: all time).

    Examples
    --------
    >>> window_start(dt.date(2025, 6, 30), 3)
    datetime.date(2022, 6, 30)
    """
    if window_years is None:
        return None
    if int(window_years) < 1:
        raise AnalysisError(f"the fitting window must be at least 1 year, not {window_years}")
    return add_months(as_of, -12 * int(window_years))


def forecast_inputs(con: duckdb.DuckDBPyConnection, grouping: Grouping, outcome: Outcome,
                    selection: Selection, as_of: dt.date, *,
                    until: dt.date | None = None, window_years: int | None = WINDOW_YEARS,
                    cached: CachedEpisodes | None = None
                    ) -> tuple[ForecastInputs, tuple[str, ...]]:
    """Counted inputs of a forecast as of ``as_of``.

    The history cut at ``as_of`` over the fitting window, the same for each of the
    :data:`LEVEL_YEARS` twelve months before ``as_of`` that have releases (the level
    and its drift), and the expected releases up to ``until`` (none without it: a
    backtest brings its own).
    """
    first, _ = data_span(con)
    periods: list[tuple[dt.date, dt.date | None]] = [(as_of, window_start(as_of, window_years))]
    for year in range(LEVEL_YEARS):
        end = add_months(as_of, -12 * year)
        start = add_months(end, -12)
        if first is None or start < first:
            break
        periods.append((end, start))
    exits, entered, types = period_counts(con, grouping, outcome, selection, periods, cached)
    by_period = [(exits[exits["period"] == i].drop(columns="period"),
                  entered[entered["period"] == i].drop(columns="period"))
                 for i in range(len(periods))]
    history, entries = by_period[0]
    upcoming = (expected_release_counts(con, grouping, selection, as_of, until)
                if until is not None else empty_counts("u"))
    return ForecastInputs(history, entries, upcoming, tuple(by_period[1:])), types


@dataclass(frozen=True)
class ForecastAnalysis:
    """A forecast as of a date, per group and horizon, and its backtest.

    Attributes
    ----------
    as_of : datetime.date
        The last day whose records were used.
    event_types : tuple of str
        The outcome's event types.
    months : tuple of int
        The horizons.
    grouping : Grouping
        The breakdown (``Grouping(None)``: everyone together).
    groups : DataFrame
        ``group, at_risk, upcoming_releases, pooled_curve`` (a group with upcoming
        releases and no history uses everyone's curve).
    table : DataFrame
        ``group, months, days, expected, expected_released, expected_upcoming, lower,
        upper``: expected people with a first event within the months, split into those
        already released and the upcoming, and the 90% prediction interval.
    level : float
        Of the prediction intervals.
    backtest : BacktestAnalysis or None
        The same forecast made on the past and compared with what happened.
    hazard_level : Level or None
        The level the curves were set to (the last twelve months against the window)
        and its yearly drift.
    total : DataFrame or None
        With a breakdown, everyone together (columns of :attr:`summary`, group
        ``all``): the forecast without the breakdown, made from the same counts. Its
        interval is not the sum of the groups' intervals (they do not add up).
    """

    as_of: dt.date
    event_types: tuple[str, ...]
    months: tuple[int, ...]
    grouping: Grouping
    groups: pd.DataFrame
    table: pd.DataFrame
    level: float = DEFAULT_LEVEL
    backtest: BacktestAnalysis | None = None
    hazard_level: Level | None = None
    total: pd.DataFrame | None = None

    @property
    def summary(self) -> pd.DataFrame:
        """One row per group and horizon, with the group's people."""
        return self.groups.merge(self.table, on="group")

    def hidden_counts(self, policy: DisclosurePolicy) -> dict[str, set[str]]:
        """Groups whose ``at_risk`` / ``upcoming_releases`` are hidden under ``policy``.

        A count from 1 to ``k - 1`` is hidden, and so is a further count of the same
        column when the total of all groups (which the pooled forecast publishes) would
        give the hidden one away by subtraction.
        """
        return {column: parts_to_hide(dict(zip(self.groups["group"],
                                               self.groups[column].astype(int),
                                               strict=True)), policy)
                for column in ("at_risk", "upcoming_releases")}

    def withheld_groups(self, policy: DisclosurePolicy) -> set[str]:
        """Groups of fewer than ``k`` people in all: their forecast is not shown."""
        people = self.groups["at_risk"] + self.groups["upcoming_releases"]
        return set(self.groups.loc[(people > 0) & (people < policy.k), "group"])

    def as_dict(self, policy: DisclosurePolicy | None = None, *, unsafe: bool = False
                ) -> dict:
        """The ``desist forecast --json`` contract under ``policy`` (see docs/planning.md)."""
        policy = policy or DisclosurePolicy()
        hidden_counts = self.hidden_counts(policy)
        withheld = self.withheld_groups(policy)
        hidden_total = sum(len(v) for v in hidden_counts.values())
        groups = []
        for row in self.groups.itertuples(index=False):
            name = str(row.group)
            horizons = []
            for line in self.table[self.table["group"] == name].itertuples(index=False):
                shown = name not in withheld
                hidden_total += 0 if shown else 3
                horizons.append({
                    "months": int(line.months),
                    "expected": round(float(line.expected), 1) if shown else None,
                    "lower": int(line.lower) if shown else None,
                    "upper": int(line.upper) if shown else None,
                })
            groups.append({
                "group": name,
                "at_risk": None if name in hidden_counts["at_risk"] else int(row.at_risk),
                "upcoming_releases": (None if name in hidden_counts["upcoming_releases"]
                                      else int(row.upcoming_releases)),
                "pooled_curve": bool(row.pooled_curve),
                "horizons": horizons,
            })
        backtest = None
        if self.backtest is not None:
            backtest_part = self.backtest.as_dict(policy)
            hidden_total += backtest_part.pop("hidden_values")
            backtest = backtest_part
        total = self._total_dict(policy)
        if total is not None and total["horizons"][0]["expected"] is None:
            hidden_total += 3 * len(total["horizons"])
        return {
            "disclosure": disclosure_block(policy.k, unsafe=unsafe, hidden=hidden_total),
            "as_of": self.as_of.isoformat(),
            "event_types": list(self.event_types),
            "by": self.grouping.spec,
            "level": self.level,
            "groups": groups,
            "total": total,
            "backtest": None if backtest is None else backtest["rows"],
            "backtest_as_of": None if backtest is None else backtest["as_of"],
            "backtest_coverage": None if backtest is None else backtest["coverage"],
        }

    def _total_dict(self, policy: DisclosurePolicy) -> dict | None:
        """The ``total`` of the JSON: everyone's counts (published: the groups' hidden
        counts are chosen so that they cannot be worked out from them) and forecast,
        withheld for fewer than ``k`` people in all."""
        if self.total is None or self.total.empty:
            return None
        first = self.total.iloc[0]
        at_risk, upcoming = int(first["at_risk"]), int(first["upcoming_releases"])
        shown = not 0 < at_risk + upcoming < policy.k
        return {
            "at_risk": at_risk if shown else None,
            "upcoming_releases": upcoming if shown else None,
            "horizons": [{"months": int(line.months),
                          "expected": round(float(line.expected), 1) if shown else None,
                          "lower": int(line.lower) if shown else None,
                          "upper": int(line.upper) if shown else None}
                         for line in self.total.itertuples(index=False)],
        }
