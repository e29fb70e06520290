"""When support matters: the monthly hazard of reoffending after release (a life table).

Definitions (``docs/planning.md``, section "Monthly hazard", has a worked example):

* **Months** are the product's month days (:func:`month_end_day`): month ``m`` ends on
  day ``D_m = round(m * 365 / 12)`` (half up) since release — 30, 61, 91, ..., 365 for
  month 12, 730 for month 24 — the days of the dashboard's month and risk tables, so a
  count here and a count there are counted to the same day. Month 1 covers days 0 to
  ``D_1``; month ``m >= 2`` days ``D_{m-1} + 1`` to ``D_m``. Twelve months are the
  one-year horizon (day 365) of every other output.
* **At risk** at the start of month ``m`` (``n``): releases still followed after day
  ``D_{m-1}`` (all releases for month 1). **Events** (``d``): first outcome events in the
  month. **Censored** (``c``): follow-up ending in the month without the outcome — the
  data's end, the next release, a reincarceration that is not the outcome, *and the
  competing ends* (death, deportation, emigration): for the hazard of reoffending among
  those still out and alive they leave the risk set as a censoring does (``competing``
  says how many of the censored they are; the first-year shares below treat them as
  competing instead). A release followed for 0 days is censored in month 1.
  ``n_{m+1} = n_m - d_m - c_m``.
* **Hazard** (actuarial): ``q = d / (n - c/2)``, the share of those at risk who reoffend
  in the month, the censored counting as at risk for half of it. Its 95% interval is the
  Wilson score interval with ``n - c/2`` trials (R's ``prop.test(d, n - c/2, correct =
  FALSE)``): unlike the Wald interval it stays inside [0, 1] and keeps close to its
  level for the small monthly counts of a region, and it is 0 (not negative) at ``d = 0``.
* **First-year shares**: of the first reoffences within 12 months, the share within 1, 3
  and 6 months, ``F(D_m) / F(365)``, with ``F`` the Aalen–Johansen cumulative incidence of
  reoffending (competing ends compete; :mod:`analysis.survival.competing_risks`, the
  numbers of ``desist cif`` at those days): every release counts, the recent ones too,
  and follow-up cut short is corrected for (``docs/planning.md`` says why not a count).

Examples
--------
>>> import pandas as pd
>>> day_table = pd.DataFrame({"group": ["all"] * 3, "time": [10, 40, 400],
...     "n_event": [2, 1, 0], "n_competing": [0, 0, 0], "n_censored": [0, 1, 6]})
>>> table = life_table(day_table, months=2)
>>> table[["month", "at_risk", "events", "censored", "hazard"]].to_dict("list")
{'month': [1, 2], 'at_risk': [10, 8], 'events': [2, 1], 'censored': [0, 1], 'hazard': [0.2, 0.13333333333333333]}
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import pandas as pd
from scipy import stats

from analysis.disclosure import DEFAULT_MIN_CELL, DisclosurePolicy, disclosure_block
from analysis.errors import AnalysisError
from analysis.planning.hazard_disclosure import FIRST_YEAR, SHARE_MONTHS, hidden_cells
from analysis.results import html_block, number_or_none
from analysis.survival.episodes import CachedEpisodes, Outcome, Selection
from analysis.survival.grouping import (
    Grouping,
    check_group_sizes,
    day_counts_by,
    resolve_grouping,
)

DEFAULT_MONTHS = 24
#: The most months a table may have (ten years).
MAX_MONTHS = 120
#: Columns of :attr:`MonthlyHazardAnalysis.table`.
TABLE_COLUMNS = ("group", "month", "start_day", "end_day", "at_risk", "events", "censored",
                 "competing", "effective_at_risk", "hazard", "lower", "upper")
#: Columns of :attr:`MonthlyHazardAnalysis.shares`.
SHARE_COLUMNS = ("group", "months", "days", "events", "events_first_year", "incidence",
                 "incidence_first_year", "share")


def month_end_day(month: int) -> int:
    """The last day since release of month ``month``: ``round(month * 365 / 12)``, half up.

    The same day as the dashboard's month tables
    (:func:`analysis.views.risk_table.day_of_month`; a test keeps the two equal).

    Examples
    --------
    >>> [month_end_day(m) for m in (0, 1, 2, 3, 6, 12, 24)]
    [0, 30, 61, 91, 183, 365, 730]
    """
    return (int(month) * 365 * 2 + 12) // 24  # integers: no rounding doubt at .5


def month_of_day(days, months: int) -> np.ndarray:
    """The month (1-based) each day since release falls in; ``months + 1`` beyond the last.

    Examples
    --------
    >>> month_of_day([0, 30, 31, 61, 62, 365, 366], months=12).tolist()
    [1, 1, 2, 2, 3, 12, 13]
    """
    ends = np.array([month_end_day(m) for m in range(1, months + 1)])
    return np.searchsorted(ends, np.asarray(days), side="left") + 1


def wilson_interval(events, trials, conf_level: float = 0.95) -> tuple[np.ndarray, np.ndarray]:
    """Wilson score interval of ``events / trials`` (``trials`` may be fractional).

    R's ``prop.test(events, trials, correct = FALSE)$conf.int``: the bounds are exactly 0
    when ``events == 0`` and 1 when ``events == trials``; NaN when ``trials == 0``.

    Examples
    --------
    >>> lower, upper = wilson_interval([3, 0], [10.5, 7.5])
    >>> [round(float(x), 7) for x in (*lower, *upper)]
    [0.102365, 0.0, 0.5838594, 0.3387094]
    """
    x = np.asarray(events, dtype=float)
    n = np.asarray(trials, dtype=float)
    z = stats.norm.ppf(1 - (1 - conf_level) / 2)
    with np.errstate(divide="ignore", invalid="ignore"):
        p = x / n
        z22n = z**2 / (2 * n)
        root = z * np.sqrt(p * (1 - p) / n + z22n / (2 * n))
        lower = np.where(p <= 0, 0.0, (p + z22n - root) / (1 + 2 * z22n))
        upper = np.where(p >= 1, 1.0, (p + z22n + root) / (1 + 2 * z22n))
    empty = ~(n > 0)
    return np.where(empty, np.nan, lower), np.where(empty, np.nan, upper)


def _group_arrays(day_table: pd.DataFrame):
    """Per group: its rows' time, events, competing ends and censorings (sorted by time)."""
    table = day_table.sort_values(["group", "time"], kind="stable")
    columns = [table[c].to_numpy() for c in ("time", "n_event", "n_competing", "n_censored")]
    for group, rows in table.groupby("group", sort=True).indices.items():
        yield group, *(c[rows] for c in columns)


def life_table(day_table: pd.DataFrame, months: int = DEFAULT_MONTHS,
               conf_level: float = 0.95) -> pd.DataFrame:
    """The monthly life table of each group of a per-day count table.

    Parameters
    ----------
    day_table : DataFrame
        ``group, time, n_event, n_competing, n_censored``
        (:func:`analysis.survival.episodes.day_counts`).
    months : int
        Months since release in the table.
    conf_level : float
        Level of the Wilson intervals.

    Returns
    -------
    DataFrame
        :data:`TABLE_COLUMNS`, one row per group and month (see the module notes);
        ``hazard``, ``lower`` and ``upper`` are NaN where nobody is at risk.
    """
    if not 1 <= int(months) <= MAX_MONTHS:
        raise AnalysisError(f"months must be between 1 and {MAX_MONTHS}, not {months}")
    months = int(months)
    starts = [0] + [month_end_day(m - 1) + 1 for m in range(2, months + 1)]
    ends = [month_end_day(m) for m in range(1, months + 1)]
    parts = []
    for group, time, event, competing, censored in _group_arrays(day_table):
        month = month_of_day(time, months) - 1
        d = np.bincount(month, weights=event, minlength=months + 1)[:months]
        x = np.bincount(month, weights=competing, minlength=months + 1)[:months]
        c = x + np.bincount(month, weights=censored, minlength=months + 1)[:months]
        total = int(event.sum() + competing.sum() + censored.sum())
        at_risk = total - np.r_[0.0, np.cumsum(d + c)[:-1]]
        parts.append(pd.DataFrame({
            "group": np.full(months, group, dtype=object), "month": np.arange(1, months + 1),
            "start_day": starts, "end_day": ends, "at_risk": at_risk.astype("int64"),
            "events": d.astype("int64"), "censored": c.astype("int64"),
            "competing": x.astype("int64"), "effective_at_risk": at_risk - c / 2}))
    table = pd.concat(parts, ignore_index=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        table["hazard"] = np.where(table["effective_at_risk"] > 0,
                                   table["events"] / table["effective_at_risk"], np.nan)
    table["lower"], table["upper"] = wilson_interval(table["events"],
                                                     table["effective_at_risk"], conf_level)
    return table[list(TABLE_COLUMNS)]


def first_year_shares(day_table: pd.DataFrame, share_months: Sequence[int] = SHARE_MONTHS
                      ) -> pd.DataFrame:
    """Of the first reoffences within 12 months, the share within each of ``share_months``.

    ``share = incidence / incidence_first_year``: the Aalen–Johansen cumulative incidence
    of reoffending (competing ends compete) at the end of month ``m`` over that at day
    365 (NaN when nobody reoffends in the first year). ``events`` and
    ``events_first_year`` are the first reoffences counted by those days (the counts the
    disclosure rules protect).

    Parameters
    ----------
    day_table : DataFrame
        ``group, time, n_event, n_competing, n_censored``.
    share_months : sequence of int
        Months (from 1 to 12) whose share to give.

    Returns
    -------
    DataFrame
        :data:`SHARE_COLUMNS`, one row per group and month of ``share_months``.

    Examples
    --------
    Ten releases: 2 reoffend on day 10, 1 on day 40 (of the 8 still at risk), the rest
    are censored. ``F(30) = 2/10``, ``F(365) = 2/10 + 8/10 * 1/8 = 3/10``:

    >>> day_table = pd.DataFrame({"group": ["all"] * 3, "time": [10, 40, 400],
    ...     "n_event": [2, 1, 0], "n_competing": [0, 0, 0], "n_censored": [0, 1, 6]})
    >>> first_year_shares(day_table)["share"].round(4).tolist()
    [0.6667, 1.0, 1.0]
    """
    year_end = month_end_day(FIRST_YEAR)
    rows = []
    for group, time, event, competing, censored in _group_arrays(day_table):
        removed = event + competing + censored
        at_risk = np.cumsum(removed[::-1])[::-1].astype(float)
        # S(t-) of "no end of any cause" times the outcome's hazard at t
        survival = np.cumprod(1 - (event + competing) / at_risk)
        increment = np.r_[1.0, survival[:-1]] * event / at_risk

        def incidence(day: int, time=time, increment=increment) -> float:
            return float(increment[time <= day].sum())

        year = incidence(year_end)
        events_year = int(event[time <= year_end].sum())
        for m in share_months:
            day = month_end_day(m)
            cif = incidence(day)
            rows.append({"group": group, "months": int(m), "days": day,
                         "events": int(event[time <= day].sum()),
                         "events_first_year": events_year, "incidence": cif,
                         "incidence_first_year": year,
                         "share": cif / year if year > 0 else np.nan})
    return pd.DataFrame(rows, columns=list(SHARE_COLUMNS))


@dataclass(frozen=True)
class MonthlyHazardAnalysis:
    """The monthly hazard of reoffending per group, and when first-year reoffences happen.

    Attributes
    ----------
    table : DataFrame
        :data:`TABLE_COLUMNS`: the life table, one row per group and month.
    shares : DataFrame
        :data:`SHARE_COLUMNS`: the first-year shares per group.
    day_table : DataFrame
        The per-day counts they were computed from (the disclosure rules need them).
    event_types : tuple of str
    grouping : Grouping
    outcome, selection : Outcome, Selection
    conf_level : float

    Examples
    --------
    See :func:`monthly_hazard_from_db`; :meth:`analysis.study.Study.monthly_hazard`
    makes one.

    >>> sorted(TABLE_COLUMNS)[:3]
    ['at_risk', 'censored', 'competing']
    """

    table: pd.DataFrame
    shares: pd.DataFrame
    day_table: pd.DataFrame
    event_types: tuple[str, ...]
    grouping: Grouping
    outcome: Outcome
    selection: Selection
    conf_level: float = 0.95

    @property
    def months(self) -> int:
        return int(self.table["month"].max())

    @property
    def summary(self) -> pd.DataFrame:
        """One row per group: ``group, releases`` and the shares within 1, 3 and 6 months."""
        first = self.table[self.table["month"] == 1].set_index("group")["at_risk"]
        wide = self.shares.pivot(index="group", columns="months", values="share")
        wide.columns = [f"share_{m}_months" for m in wide.columns]
        return pd.DataFrame({"releases": first}).join(wide).rename_axis("group").reset_index()

    def groups(self, policy: DisclosurePolicy) -> list[dict]:
        """Per group, what may be shown: the ``"groups"`` of :meth:`as_dict`."""
        return self._shown(policy)[0]

    def _shown(self, policy: DisclosurePolicy) -> tuple[list[dict], int]:
        groups, hidden = [], 0
        for group, part in self.table.groupby("group", sort=True):
            days = self.day_table[self.day_table["group"] == group]
            shares = self.shares[self.shares["group"] == group]
            # every month of the first year is in the system, shown or not (the shares)
            inner = life_table(days, max(self.months, FIRST_YEAR), self.conf_level)
            hide = hidden_cells(inner, days, self.months, policy)
            rows = []
            for r in part.itertuples(index=False):
                counts = {name: None if (name, r.month) in hide else int(getattr(r, name))
                          for name in ("at_risk", "events", "censored")}
                masked = ("hazard", r.month) in hide
                estimate = {name: None if masked else number_or_none(getattr(r, name))
                            for name in ("hazard", "lower", "upper")}
                hidden += sum(v is None for v in counts.values()) + (
                    3 * masked if not math.isnan(r.hazard) else 0)
                rows.append({"month": int(r.month), "start_day": int(r.start_day),
                             "end_day": int(r.end_day), **counts, **estimate})
            first_year = []
            for s in shares.itertuples(index=False):
                masked = ("share", s.months) in hide
                hidden += masked and not math.isnan(s.share)
                first_year.append({"months": int(s.months), "days": int(s.days),
                                   "share": None if masked else number_or_none(s.share)})
            groups.append({"group": str(group), "releases": int(part["at_risk"].iloc[0]),
                           "months": rows, "first_year_shares": first_year})
        return groups, hidden

    def as_dict(self, policy: DisclosurePolicy | None = None, *, unsafe: bool = False
                ) -> dict:
        """The ``desist hazard --json`` payload under ``policy`` (default k = 10).

        Parameters
        ----------
        policy : DisclosurePolicy, optional
            The minimum cell size.
        unsafe : bool
            ``k`` was allowed below the publication floor (``--unsafe-analyst-output``).

        Returns
        -------
        dict
            ``{"disclosure", "event_types", "by", "months", "conf_level", "groups":
            [{"group", "releases", "months": [{"month", "start_day", "end_day",
            "at_risk", "events", "censored", "hazard", "lower", "upper"}],
            "first_year_shares": [{"months", "days", "share"}]}]}``; hidden values are
            ``null``.
        """
        policy = policy or DisclosurePolicy()
        groups, hidden = self._shown(policy)
        return {"disclosure": disclosure_block(policy.k, unsafe=unsafe, hidden=hidden),
                "event_types": list(self.event_types), "by": self.grouping.spec,
                "months": self.months, "conf_level": self.conf_level, "groups": groups}

    def _repr_html_(self) -> str:
        return html_block(f"Monthly hazard, {' / '.join(self.event_types)} by "
                          f"{self.grouping.label}",
                          [("groups", self.summary), ("life table", self.table)])


def monthly_hazard_from_db(con, by: str | Grouping | None = None,
                           outcome: Outcome | None = None, selection: Selection | None = None,
                           *, months: int = DEFAULT_MONTHS, conf_level: float = 0.95,
                           min_group_size: int = DEFAULT_MIN_CELL,
                           cached: CachedEpisodes | None = None) -> MonthlyHazardAnalysis:
    """The monthly life table and first-year shares of each group of a study database.

    :meth:`analysis.study.Study.monthly_hazard` is the public way in; this is its engine.
    The episodes are counted per day in DuckDB (:func:`~analysis.survival.grouping.day_counts_by`);
    the rest is a few numpy sums per group.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        A study database (read-only is enough).
    by : str or Grouping, optional
        Breakdown (see :func:`~analysis.survival.grouping.resolve_grouping`).
    outcome, selection : Outcome, Selection, optional
    months : int
        Months since release in the table (1 to :data:`MAX_MONTHS`).
    conf_level : float
        Level of the Wilson intervals.
    min_group_size : int
        Groups with fewer releases are refused (the minimum cell size k).
    cached : CachedEpisodes, optional
        Episodes materialized by :func:`~analysis.survival.episodes.materialize_episodes`.

    Returns
    -------
    MonthlyHazardAnalysis

    Examples
    --------
    >>> import duckdb
    >>> from analysis.survival.follow_up import prepare_for_analysis
    >>> con = duckdb.connect(); _ = prepare_for_analysis(con)
    >>> _ = con.execute("INSERT INTO releases (release_id, person_id, release_date, facility,"
    ...     " follow_up_end, batch_id) VALUES ('r1', 'p1', DATE '2020-01-01', 'A',"
    ...     " DATE '2020-12-31', 'b')")
    >>> _ = prepare_for_analysis(con)
    >>> fitted = monthly_hazard_from_db(con, months=12, min_group_size=1)
    >>> fitted.table["at_risk"].tolist()  # followed to day 365: at risk all year
    [1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1, 1]
    >>> sorted(fitted.as_dict(DisclosurePolicy(k=1))["groups"][0])
    ['first_year_shares', 'group', 'months', 'releases']
    """
    if not 0 < conf_level < 1:
        raise AnalysisError("conf_level must be between 0 and 1")
    grouping = resolve_grouping(con, by)
    day_table, types = day_counts_by(con, grouping, outcome, selection, cached)
    if day_table.empty:
        raise AnalysisError("no releases match the selection")
    sizes = (day_table["n_event"] + day_table["n_competing"] + day_table["n_censored"]
             ).groupby(day_table["group"]).sum()
    check_group_sizes(sizes, min_group_size, grouping.spec)
    return MonthlyHazardAnalysis(life_table(day_table, months, conf_level),
                                 first_year_shares(day_table), day_table, types, grouping,
                                 outcome or Outcome(), selection or Selection(), conf_level)
