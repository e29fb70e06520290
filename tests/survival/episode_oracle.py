"""Test oracle: the episode rules written straight from the dates, with no stored facts.

Production builds episodes one way, from the derived table ``release_follow_up`` and its
whole-day integers (:mod:`analysis.survival.episodes.sql`). This module keeps the
definition of :mod:`analysis.survival.episodes` in its plainest form — previous and next
release, first events and custody-period programmes found from ``releases``, ``events``
and ``participation`` by correlated look-ups, the end of follow-up and the cause decided
on dates — so that the two can be compared on any database. It is written for clarity,
not speed, and shares no SQL with the production path or with the refresh of
``release_follow_up`` (only the age bands, a value definition, and the way rows are
fetched into pandas come from :mod:`analysis.survival.episodes`).

:func:`oracle_sql` mirrors :func:`~analysis.survival.episodes.episodes_sql`: the same
``episodes`` relation (every release column, ``age``, ``age_band``, ``release_year``,
``prev_release``, ``next_release``, ``programs``, ``programs_completed``,
``first_event``, ``first_reincarceration``, ``end_date``, ``time``, ``event``, ``cause``,
``competing_reason``, ``end_reason``), queried with ``SELECT {select} FROM episodes
{tail}``.
"""

from __future__ import annotations

import duckdb
import pandas as pd

from analysis.contract import COMPETING_END_REASONS
from analysis.survival.episodes import (
    EPISODE_COLUMNS,
    Outcome,
    Selection,
    age_band_sql,
    fetch_sorted,
    literal_list,
    quote_ident,
)
from analysis.survival.episodes.cache import _day_counts_outer, _day_counts_select


def oracle_sql(event_types: tuple[str, ...], selection: Selection | None = None, *,
               select: str = "*", tail: str = "") -> tuple[str, dict]:
    """SQL computing the episodes from the dates, and its named parameters."""
    where, params = (selection or Selection()).where()
    outcome = f"e.event_type IN ({literal_list(event_types)})" if event_types else "FALSE"
    # Reincarceration ends follow-up only when it is not itself the outcome.
    reinc = ("e.event_type = 'reincarceration'" if "reincarceration" not in event_types
             else "FALSE")
    competing = literal_list(COMPETING_END_REASONS)
    age = "coalesce(r.age_at_release, year(r.release_date) - r.birth_year)"
    sql = f"""
WITH base AS (
    SELECT r.*, {age} AS age, {age_band_sql(f'floor({age})')} AS age_band,
           year(r.release_date) AS release_year,
           (SELECT max(o.release_date) FROM releases o
             WHERE o.person_id = r.person_id AND o.release_date < r.release_date)
               AS prev_release,
           (SELECT min(o.release_date) FROM releases o
             WHERE o.person_id = r.person_id AND o.release_date > r.release_date)
               AS next_release
    FROM releases r
),
facts AS (
    SELECT b.*,
           (SELECT list_sort(list_distinct(list(pa.program_id))) FROM participation pa
             WHERE {_custody_period("pa", "b")}) AS programs,
           (SELECT list_sort(list_distinct(list(pa.program_id))) FROM participation pa
             WHERE {_custody_period("pa", "b")} AND pa.status = 'completed')
               AS programs_completed,
           (SELECT min(e.event_date) FROM events e
             WHERE e.person_id = b.person_id AND e.event_date > b.release_date
               AND {outcome}) AS first_event,
           (SELECT min(e.event_date) FROM events e
             WHERE e.person_id = b.person_id AND e.event_date > b.release_date
               AND {reinc}) AS first_reincarceration
    FROM base b
),
limits AS (
    SELECT *,
           least(follow_up_end,
                 coalesce(CAST(next_release - INTERVAL 1 DAY AS DATE), follow_up_end),
                 coalesce(first_reincarceration, follow_up_end)) AS end_date
    FROM facts
    WHERE {where}
),
episodes AS (
    SELECT *,
           CASE WHEN first_event <= end_date THEN first_event - release_date
                ELSE greatest(end_date - release_date, 0) END AS time,
           CASE WHEN first_event <= end_date THEN 1 ELSE 0 END AS event,
           CASE WHEN first_event <= end_date THEN 1
                WHEN end_date = follow_up_end AND follow_up_end_reason IN ({competing}) THEN 2
                ELSE 0 END AS cause,
           CASE WHEN first_event <= end_date THEN NULL
                WHEN end_date = follow_up_end AND follow_up_end_reason IN ({competing})
                THEN follow_up_end_reason END AS competing_reason,
           CASE WHEN first_event <= end_date THEN 'outcome'
                WHEN end_date = follow_up_end AND follow_up_end_reason IN ({competing})
                THEN 'competing'
                WHEN end_date = follow_up_end THEN 'follow_up_end'
                WHEN next_release IS NOT NULL
                     AND end_date = CAST(next_release - INTERVAL 1 DAY AS DATE)
                THEN 'next_release'
                ELSE 'reincarceration' END AS end_reason
    FROM limits
)
SELECT {select} FROM episodes {tail}"""
    return sql, params


def _custody_period(pa: str, b: str) -> str:
    """A participation belongs to the custody period that ended with release ``b``."""
    return (f"{pa}.person_id = {b}.person_id AND {pa}.start_date < {b}.release_date "
            f"AND ({pa}.release_id = {b}.release_id OR ({pa}.release_id IS NULL AND "
            f"({b}.prev_release IS NULL OR {pa}.start_date > {b}.prev_release)))")


def oracle_episodes(con: duckdb.DuckDBPyConnection, outcome: Outcome | None = None,
                    selection: Selection | None = None, columns=()) -> pd.DataFrame:
    """What :func:`~analysis.survival.episodes.build_episodes` must return."""
    types = (outcome or Outcome()).resolve(con)
    names = list(dict.fromkeys(c for c in columns if c not in EPISODE_COLUMNS))
    projection = ", ".join(quote_ident(c) for c in (*EPISODE_COLUMNS, *names))
    sql, params = oracle_sql(types, selection, select=projection)
    # fetched as production fetches (Arrow-backed text): the frames compare exactly
    frame = fetch_sorted(con, sql, params, "release_id")
    for col in ("time", "event", "cause"):
        frame[col] = frame[col].astype("int64")
    return frame


def oracle_day_counts(con: duckdb.DuckDBPyConnection, outcome: Outcome | None = None,
                      selection: Selection | None = None, group_sql: str = "'all'",
                      group_params: dict | None = None, *, label_sql: str | None = None
                      ) -> pd.DataFrame:
    """What :func:`~analysis.survival.episodes.day_counts` must return (its table)."""
    types = (outcome or Outcome()).resolve(con)
    sql, params = oracle_sql(types, selection, select=_day_counts_select(group_sql),
                             tail="GROUP BY ALL")
    sql = _day_counts_outer(sql, label_sql) + ' ORDER BY "group", time'
    table = con.execute(sql, {**params, **(group_params or {})}).df()
    for col in ("time", "n_event", "n_competing", "n_censored"):
        table[col] = table[col].astype("int64")
    table["group"] = table["group"].astype(object)
    return table.reset_index(drop=True)
