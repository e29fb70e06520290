"""Backtest: the forecast made on the past, beside what then happened.

A forecast as of date ``A`` for the next ``M`` months is tested by making the same
forecast as of ``A - max(M)`` months with only what was known then, and counting the
people who really had a first event in each window. The releases really made in the
windows stand in for the list of expected releases that would have been known then
(so the backtest tests the curves, not the list). The share of group × horizon cells
whose observed count lies inside its 90% interval is the *coverage*: near 90% means
the intervals can be trusted; much lower, that they are too narrow.

Worked example: a forecast as of 2025-12-31 with horizons 3, 6 and 12 months is tested
as of 2024-12-31; its 12-month window ends on 2025-12-31, the data's last day, so every
window is fully observed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Hashable, Iterable
from dataclasses import dataclass

import duckdb
import pandas as pd

from analysis.disclosure import DisclosurePolicy, parts_to_hide
from analysis.planning.forecast import WINDOW_YEARS, add_months, data_span, forecast_inputs
from analysis.planning.prediction import ALL, DEFAULT_LEVEL, ForecastInputs, predict
from analysis.survival.episodes import CachedEpisodes, Outcome, Selection
from analysis.survival.forecast_inputs import later_release_counts
from analysis.survival.grouping import Grouping


@dataclass(frozen=True)
class BacktestAnalysis:
    """Predicted against observed counts of a forecast made on the past.

    Attributes
    ----------
    as_of : datetime.date
        The past as-of date.
    table : DataFrame
        ``group, months, people, predicted, lower, upper, observed, covered``
        (``people``: at risk on the as-of date plus released within the window).
    coverage : float
        Share of rows whose observed count lies inside its interval.
    """

    as_of: dt.date
    table: pd.DataFrame
    level: float = DEFAULT_LEVEL

    @property
    def coverage(self) -> float:
        return float(self.table["covered"].mean()) if len(self.table) else float("nan")

    def hidden_observed(self, policy: DisclosurePolicy) -> set[Hashable]:
        """(group, months) whose observed count is hidden: from 1 to k - 1, or solvable
        from the pooled backtest's total of the same window."""
        hidden: set[Hashable] = set()
        for months, rows in self.table.groupby("months"):
            hidden |= parts_to_hide({(str(g), int(months)): int(n) for g, n in
                                     zip(rows["group"], rows["observed"], strict=True)},
                                    policy)
        return hidden

    def as_dict(self, policy: DisclosurePolicy | None = None) -> dict:
        """``{"as_of", "coverage", "rows": [{group, months, predicted, lower, upper,
        observed}], "hidden_values"}``; rows of groups under ``k`` people are null."""
        policy = policy or DisclosurePolicy()
        hidden = self.hidden_observed(policy)
        hidden_values = len(hidden)
        rows = []
        for line in self.table.itertuples(index=False):
            small = 0 < int(line.people) < policy.k
            hidden_values += 3 if small else 0
            rows.append({
                "group": str(line.group), "months": int(line.months),
                "predicted": None if small else round(float(line.predicted), 1),
                "lower": None if small else int(line.lower),
                "upper": None if small else int(line.upper),
                "observed": (None if (str(line.group), int(line.months)) in hidden or small
                             else int(line.observed)),
            })
        return {"as_of": self.as_of.isoformat(), "coverage": round(self.coverage, 4),
                "rows": rows, "hidden_values": hidden_values}


def backtest_as_of(con: duckdb.DuckDBPyConnection, as_of: dt.date, months: Iterable[int]
                   ) -> dt.date | None:
    """The past as-of date testing a forecast as of ``as_of``: ``max(months)`` earlier,
    or ``None`` when no release was made by then."""
    first, _ = data_span(con)
    past = add_months(as_of, -max(months))
    return past if first is not None and first < past else None


def backtest_from_db(con: duckdb.DuckDBPyConnection, grouping: Grouping, outcome: Outcome,
                     selection: Selection, as_of: dt.date, months: tuple[int, ...], *,
                     cached: CachedEpisodes | None = None, level: float = DEFAULT_LEVEL,
                     window_years: int | None = WINDOW_YEARS, seed: int = 2026
                     ) -> BacktestAnalysis:
    """Forecast as of ``as_of`` (a past date) and count what happened in each window."""
    horizons = {m: (add_months(as_of, m) - as_of).days for m in months}
    until = as_of + dt.timedelta(days=max(horizons.values()))
    known, _ = forecast_inputs(con, grouping, outcome, selection, as_of,
                               window_years=window_years, cached=cached)
    later = later_release_counts(con, grouping, outcome, selection, as_of, until, cached)
    pooled = grouping.spec is None
    upcoming = later.groupby(["group", "u"], as_index=False)["n"].sum()
    history = known.history
    inputs = ForecastInputs(history, known.entries, upcoming, known.periods)
    _, predicted, _ = predict(inputs, horizons, pooled=pooled, level=level, seed=seed)
    if pooled:
        history, later = history.assign(group=ALL), later.assign(group=ALL)
    risk = history[history["at_risk"]]
    rows = []
    for line in predicted.itertuples(index=False):
        name, days = str(line.group), int(line.days)
        mine = risk[risk["group"].astype(str) == name]
        new = later[(later["group"].astype(str) == name) & (later["u"] <= days)]
        observed = int(mine.loc[mine["event_after"] <= days, "n"].sum()
                       + new.loc[new["event_after"] <= days, "n"].sum())
        people = int(mine["n"].sum() + new["n"].sum())
        rows.append({"group": name, "months": int(line.months), "people": people,
                     "predicted": float(line.expected), "lower": int(line.lower),
                     "upper": int(line.upper), "observed": observed,
                     "covered": bool(line.lower <= observed <= line.upper)})
    table = pd.DataFrame(rows, columns=["group", "months", "people", "predicted", "lower",
                                        "upper", "observed", "covered"])
    return BacktestAnalysis(as_of, table, level)
