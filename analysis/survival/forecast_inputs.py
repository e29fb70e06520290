"""What a forecast needs from the database, as small counted tables.

A forecast as of a date (:mod:`analysis.planning.forecast`) reads three tables, each
one row per group and day rather than one row per person:

* :func:`history_counts` (:func:`period_counts` for several periods at once) — the
  releases up to the as-of date, their follow-up cut at that date (nothing after it is
  used to fit), counted by group, day since release and *forecast cause*, with the
  people still at risk on the as-of date marked. DuckDB builds the episodes (four small
  integers each); the cutting and counting of every period is array work in numpy;
* :func:`expected_release_counts` — the upcoming releases of table ``expected_releases``
  after the as-of date, by group and day after it;
* :func:`later_release_counts` — the releases actually made after the as-of date, which
  stand in for the list of expected releases when a forecast is tested on the past
  (the backtest), with the day of their first event.

The forecast cause of an episode is ``1`` the outcome; ``2`` anything that ends the
person's time at risk in the community without it: a competing end (death,
deportation, emigration), a return to custody that is not the outcome
(``end_reason = 'reincarceration'``) or a new release (``'next_release'``: the person was
in custody); ``0`` censored (follow-up ended, nothing more is known). A forecast counts
what will be *seen*, so a person back in custody is no longer expected to be rearrested:
that is a competing end, not a censoring.

Worked example (as of 2021-01-01, outcome rearrest): a release of 2020-07-01 rearrested
on 2021-03-01 is, cut at the as-of date, censored at day 184 and still at risk (its
rearrest lies after the as-of date: ``event_after = 59`` days). A release of 2020-03-01
reincarcerated on 2020-10-01 is a competing end at day 214, not at risk.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence
from dataclasses import dataclass, replace

import duckdb
import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.store.schema import one_row
from analysis.survival import follow_up
from analysis.survival.episodes import (
    GROUP_KEY,
    CachedEpisodes,
    Outcome,
    Selection,
    age_band_sql,
    episodes_query,
    resolve_source,
)
from analysis.survival.grouping import Grouping

#: Breakdowns a forecast may use: fields that upcoming releases have too.
FORECAST_FIELDS: tuple[str, ...] = (
    "release_region", "facility", "sex", "age_band", "offense_category", "release_type",
)
EXPECTED_TABLE = "expected_releases"

def check_forecast_grouping(grouping: Grouping) -> None:
    """Refuse a breakdown that upcoming releases cannot have (a programme, a covariate).

    Examples
    --------
    >>> check_forecast_grouping(Grouping(None))
    >>> check_forecast_grouping(Grouping("release_year"))
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: a forecast can be broken down by release_region, facility, sex, age_band, offense_category or release_type, not release_year
    """
    if grouping.spec is not None and grouping.spec not in FORECAST_FIELDS:
        raise AnalysisError(
            "a forecast can be broken down by " + ", ".join(FORECAST_FIELDS[:-1])
            + f" or {FORECAST_FIELDS[-1]}, not {grouping.spec}")


def _labelled(sql: str, grouping: Grouping, columns: str) -> str:
    # the grouping's label, once per aggregated row (cheaper than per person)
    return (f'SELECT {grouping.label_sql} AS "group", {columns}, '
            f"CAST(sum(n) AS BIGINT) AS n FROM ({sql}) GROUP BY ALL")


def history_counts(con: duckdb.DuckDBPyConnection, grouping: Grouping, outcome: Outcome,
                   selection: Selection, as_of: dt.date, window_from: dt.date | None = None,
                   cached: CachedEpisodes | None = None
                   ) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """The releases made on or before ``as_of``, their follow-up cut there.

    With ``window_from``, only the time at risk from that date on counts (a *period*
    estimate: recent hazards at every time since release): a release made before it
    enters the risk set on the day it reached then, and one that ended before it is left
    out.

    Returns
    -------
    exits : DataFrame
        ``group, t, c, at_risk, event_after, n``: ``n`` releases of the group whose cut
        follow-up lasted ``t`` days and ended with forecast cause ``c``; ``at_risk`` marks
        those still at risk on ``as_of`` (then ``t`` is the days since release);
        ``event_after`` is, for the at-risk ones, the days from ``as_of`` to their first
        outcome event when the database holds one (else missing): what a backtest
        compares with.
    entries : DataFrame
        ``group, e, n``: releases entering the risk set ``e`` days after release
        (``e > 0`` only: everyone else is there from day 0).
    event_types : tuple of str
        The outcome's resolved event types.
    """
    exits, entries, types = period_counts(con, grouping, outcome, selection,
                                          [(as_of, window_from)], cached)
    return exits.drop(columns="period"), entries.drop(columns="period"), types


def period_counts(con: duckdb.DuckDBPyConnection, grouping: Grouping, outcome: Outcome,
                  selection: Selection, periods: Sequence[tuple[dt.date, dt.date | None]],
                  cached: CachedEpisodes | None = None
                  ) -> tuple[pd.DataFrame, pd.DataFrame, tuple[str, ...]]:
    """:func:`history_counts` for several ``(as_of, window_from)`` periods.

    The frames have a ``period`` column: the index of the period in ``periods``. The
    episodes are read once, four small integers per release (DuckDB builds them); each
    period is then a few array operations and one count per distinct row, in numpy —
    several times faster than crossing the episodes with the periods in SQL.
    """
    check_forecast_grouping(grouping)
    types, source = resolve_source(con, outcome, cached)
    select = (f"{grouping.key_sql} AS {GROUP_KEY}, "
              "CAST(date_diff('day', DATE '1970-01-01', release_date) AS INTEGER) AS r, "
              "CAST(time AS INTEGER) AS time, "
              f"CAST({_FORECAST_CAUSE} AS TINYINT) AS c, "
              "(cause = 0 AND end_reason = 'follow_up_end') AS fu")
    sql, params = episodes_query(con, types, selection, select=select, source=source,
                                 params=dict(grouping.params))
    keys = [row[0] for row in con.execute(
        f"SELECT DISTINCT {GROUP_KEY} FROM ({sql})", params).fetchall()]
    labels = _labels(con, grouping, keys)
    columns = con.execute(
        f"SELECT coalesce(list_position($fc_keys, {GROUP_KEY}), 0) AS g, r, time, c, fu "
        f"FROM ({sql})", {**params, "fc_keys": [k for k in keys if k is not None]}
    ).fetchnumpy()
    names = sorted(set(labels.values()))
    # the label's index in `names` for each list position (0: a missing key)
    position_label = [labels.get(None, names[0] if names else "")] + [
        labels[k] for k in keys if k is not None]
    group_of = np.searchsorted(names, position_label) if names else np.zeros(1, np.int64)
    # 32-bit days and codes: half the memory traffic of the array work below
    episodes = _Episodes(group_of.astype(np.int32)[np.asarray(columns["g"], dtype=np.int64)],
                         np.asarray(columns["r"], dtype=np.int32),
                         np.asarray(columns["time"], dtype=np.int32),
                         np.asarray(columns["c"], dtype=np.int8),
                         np.asarray(columns["fu"], dtype=bool))
    exits, entries = [], []
    for index, (end, start) in enumerate(periods):
        period_exits, period_entries = episodes.cut(end, start)
        exits.append(_frame(period_exits, names, index))
        entries.append(_frame(period_entries, names, index))
    exit_columns = ["period", "group", "t", "c", "at_risk", "event_after", "n"]
    return (_typed(pd.concat(exits, ignore_index=True)[exit_columns],
                   ("period", "t", "c", "n")),
            _typed(pd.concat(entries, ignore_index=True)[["period", "group", "e", "n"]],
                   ("period", "e", "n")), types)


_FORECAST_CAUSE = ("CASE WHEN cause = 1 THEN 1 WHEN cause = 2 OR end_reason IN "
                   "('next_release', 'reincarceration') THEN 2 ELSE 0 END")
_EPOCH = dt.date(1970, 1, 1)


def _labels(con: duckdb.DuckDBPyConnection, grouping: Grouping, keys: list) -> dict:
    """Each raw group value's label (two values may share one: NULL and 'unknown')."""
    values = [k for k in keys if k is not None]
    labels: dict = {}
    if values:
        labels.update(con.execute(
            f"SELECT {GROUP_KEY}, {grouping.label_sql} FROM "
            f"(SELECT unnest($fc_keys) AS {GROUP_KEY})", {"fc_keys": values}).fetchall())
    if None in keys:
        labels[None] = one_row(
            con, f"SELECT {grouping.label_sql} FROM (SELECT NULL AS {GROUP_KEY})")[0]
    return labels


@dataclass(frozen=True)
class _Episodes:
    """One row per episode: group (index of its label), release day (since 1970), time,
    forecast cause and whether it was censored by the end of follow-up."""

    group: np.ndarray
    release: np.ndarray
    time: np.ndarray
    cause: np.ndarray
    follow_up_end: np.ndarray

    def cut(self, as_of: dt.date, window_from: dt.date | None) -> tuple[dict, dict]:
        """The exits and entries of one period, by the rules of the module's docstring
        (and of :func:`history_counts`; ``tests/planning/test_forecast.py`` checks them
        against the same rules written in pandas)."""
        since = np.int32((as_of - _EPOCH).days) - self.release
        start = (window_from - _EPOCH).days if window_from is not None else None
        entry = (np.zeros_like(since) if start is None
                 else np.maximum(np.int32(0), np.int32(start) - self.release))
        t = np.minimum(self.time, since)
        kept = (since >= 0) & ((entry == 0) | (t > entry))
        ended = self.time <= since
        c = np.where(ended, self.cause, 0)
        at_risk = ~ended | ((self.time == since) & self.follow_up_end)
        after = np.where(~ended & (self.cause == 1), self.time - since, np.int32(-1))
        exits = {"group": self.group[kept], "t": t[kept], "c": c[kept],
                 "at_risk": at_risk[kept], "event_after": after[kept]}
        late = kept & (entry > 0)
        return exits, {"group": self.group[late], "e": entry[late]}


def _frame(rows: dict, names: list[str], period: int) -> pd.DataFrame:
    """Rows counted: one per distinct combination of the columns, with ``n``.

    The columns are folded into one integer per row (mixed radix over their ranges) and
    counted with ``bincount`` when the ranges are small, else ``unique``; the days to a
    later event (``event_after``, set on few rows) are counted apart so they never
    widen the ranges of the others.
    """
    if "event_after" not in rows:
        return _counted(rows, names, period)
    later = rows["event_after"] >= 0
    plain = {c: v[~later] for c, v in rows.items() if c != "event_after"}
    with_event = {c: v[later] for c, v in rows.items()}
    frames = [_counted(plain, names, period).assign(event_after=np.nan),
              _counted(with_event, names, period)]
    return pd.concat([f for f in frames if len(f)] or frames[:1], ignore_index=True)


def _counted(rows: dict, names: list[str], period: int) -> pd.DataFrame:
    columns = list(rows)
    codes = [np.asarray(rows[c], dtype=np.int64) for c in columns]
    if not len(codes[0]):
        empty = {c: pd.Series(dtype=object if c == "group" else "int64") for c in columns}
        return pd.DataFrame({"period": pd.Series(dtype="int64"), **empty,
                             "n": pd.Series(dtype="int64")})
    lows = [int(code.min()) for code in codes]
    spans = [int(code.max()) - low + 1 for code, low in zip(codes, lows, strict=True)]
    key = np.zeros(len(codes[0]), dtype=np.int64)
    for code, low, span in zip(codes, lows, spans, strict=True):
        key = key * span + (code - low)
    if int(np.prod(spans, dtype=np.float64)) <= 8 * len(key) + 1_000_000:
        tally = np.bincount(key)
        distinct = np.flatnonzero(tally)
        counts = tally[distinct]
    else:
        distinct, counts = np.unique(key, return_counts=True)
    decoded = {}
    for column, low, span in reversed(list(zip(columns, lows, spans, strict=True))):
        decoded[column] = distinct % span + low
        distinct = distinct // span
    frame = pd.DataFrame({column: decoded[column] for column in columns})
    frame["group"] = np.asarray(names, dtype=object)[frame["group"].to_numpy()]
    if "at_risk" in frame:
        frame["at_risk"] = frame["at_risk"].astype(bool)
    if "event_after" in frame:
        frame["event_after"] = frame["event_after"].astype(float)
    frame.insert(0, "period", period)
    frame["n"] = counts
    return frame


def later_release_counts(con: duckdb.DuckDBPyConnection, grouping: Grouping,
                         outcome: Outcome, selection: Selection, as_of: dt.date,
                         until: dt.date, cached: CachedEpisodes | None = None
                         ) -> pd.DataFrame:
    """Releases made after ``as_of`` and up to ``until``: ``group, u, event_after, n``.

    ``u`` is the day of release counted from ``as_of`` (1 = the day after);
    ``event_after`` the days from ``as_of`` to the first outcome event, when there is one.
    """
    check_forecast_grouping(grouping)
    types, source = resolve_source(con, outcome, cached)
    select = (f"{grouping.key_sql} AS {GROUP_KEY}, "
              "CAST(date_diff('day', $fc_as_of, release_date) AS BIGINT) AS u, "
              "CAST(CASE WHEN cause = 1 THEN date_diff('day', $fc_as_of, release_date) + time "
              "END AS BIGINT) AS event_after, count(*) AS n")
    sql, params = episodes_query(
        con, types, selection, select=select,
        tail="WHERE release_date > $fc_as_of AND release_date <= $fc_until GROUP BY ALL",
        source=source, params={**grouping.params, "fc_as_of": as_of, "fc_until": until})
    table = con.execute(_labelled(sql, grouping, "u, event_after") + ' ORDER BY "group", u',
                        params).df()
    return _typed(table, ("u", "n"))


def has_expected_releases(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database has the table of upcoming releases (schema 5 and later)."""
    row = con.execute("SELECT count(*) FROM information_schema.tables "
                      "WHERE table_name = ?", [EXPECTED_TABLE]).fetchone()
    return bool(row and row[0])


def expected_release_counts(con: duckdb.DuckDBPyConnection, grouping: Grouping,
                            selection: Selection, as_of: dt.date, until: dt.date
                            ) -> pd.DataFrame:
    """Upcoming releases after ``as_of`` and up to ``until``: ``group, u, n``.

    Each person counts once, at their earliest expected release after ``as_of`` (a
    postponed release sent again is a second row of the table). The selection's fields
    other than release dates and years apply (an upcoming release has no release date
    yet, only an expected one). A database without the table gives an empty frame.
    """
    check_forecast_grouping(grouping)
    if not has_expected_releases(con):
        return empty_counts("u")
    undated = replace(selection, release_from=None, release_to=None, release_years=())
    where, params = undated.where()
    age = follow_up.age_sql("e")
    sql = f"""
WITH expected AS (
    SELECT e.*, {age_band_sql(f"floor({age})")} AS age_band,
           year(e.release_date) AS release_year
    FROM (SELECT * EXCLUDE (expected_release_date),
                 expected_release_date AS release_date
          FROM {EXPECTED_TABLE}
          WHERE expected_release_date > $fc_as_of
          QUALIFY row_number() OVER (PARTITION BY person_id
                                     ORDER BY expected_release_date) = 1) e
)
SELECT {grouping.key_sql} AS {GROUP_KEY},
       CAST(date_diff('day', $fc_as_of, release_date) AS BIGINT) AS u, count(*) AS n
FROM expected
WHERE release_date > $fc_as_of AND release_date <= $fc_until AND {where}
GROUP BY ALL"""
    params = {**params, **grouping.params, "fc_as_of": as_of, "fc_until": until}
    table = con.execute(_labelled(sql, grouping, "u") + ' ORDER BY "group", u', params).df()
    return _typed(table, ("u", "n"))


def empty_counts(column: str) -> pd.DataFrame:
    """No rows of ``group, COLUMN, n`` (e.g. no upcoming releases: ``column="u"``)."""
    return pd.DataFrame({"group": pd.Series(dtype=object), column: pd.Series(dtype="int64"),
                         "n": pd.Series(dtype="int64")})


def _typed(table: pd.DataFrame, integers: tuple[str, ...]) -> pd.DataFrame:
    for column in integers:
        table[column] = table[column].astype("int64")
    table["group"] = table["group"].astype(object)
    return table.reset_index(drop=True)
