"""Risk-set counts per day, and the episodes of one outcome kept in a temporary table.

The estimators (Kaplan–Meier, Aalen–Johansen, log-rank, fixed-horizon rates) need only
the number of events, competing ends and censorings per distinct day and group, not one
row per release: :func:`day_counts` aggregates the episode query inside DuckDB to that
small table. An interactive dashboard asks for many breakdowns of one outcome:
:func:`materialize_episodes` computes its episodes once into a ``TEMP`` table
(:class:`CachedEpisodes`), and later counts (``cached=``) only scan that table.

Worked example: five releases on 2020-01-01 followed 1,460 days, two rearrested on day
10 (one woman, one man), one man's follow-up ending in death. By sex, the table has
``F`` — day 10: 1 event; day 1460: 1 censored — and ``M`` — day 10: 1 event; day 1460:
1 competing end and 1 censored.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pandas as pd

from analysis.errors import AnalysisError
from analysis.survival.episodes.sql import episodes_query, episodes_sql, quote_ident
from analysis.survival.episodes.values import Outcome, Selection

#: Name of the raw group value in a ``label_sql`` expression (see :func:`day_counts`).
GROUP_KEY = "group_key"


def _day_counts_select(group_sql: str) -> str:
    # Aggregate on the raw group value, time and cause; labels come after (few rows).
    return f"{group_sql} AS {GROUP_KEY}, time, cause, count(*) AS n"


def _day_counts_outer(sql: str, label_sql: str | None) -> str:
    label = label_sql or f"CAST({GROUP_KEY} AS VARCHAR)"
    counts = ",\n       ".join(
        f"coalesce(CAST(sum(n) FILTER (WHERE cause = {c}) AS BIGINT), 0) AS {name}"
        for c, name in ((1, "n_event"), (2, "n_competing"), (0, "n_censored")))
    # grouped again by label: two raw values may share one (NULL and 'unknown')
    return f"""SELECT {label} AS "group", time,
       {counts}
FROM ({sql}) GROUP BY ALL"""


def day_counts_sql(
    event_types: tuple[str, ...],
    selection: Selection | None = None,
    group_sql: str = "'all'",
    group_params: dict[str, object] | None = None,
    source: str | None = None,
    *,
    label_sql: str | None = None,
    with_releases: bool = True,
) -> tuple[str, dict[str, object]]:
    """SQL aggregating episodes to one row per (group, time): the estimators' input.

    ``group_sql`` is evaluated on each episode row; ``label_sql`` (default: the value as
    text) turns its value, named :data:`GROUP_KEY`, into the group label once per
    aggregated row. ``source`` and ``with_releases`` as in
    :func:`~analysis.survival.episodes.sql.episodes_sql` (which does not check that the
    follow-up table is current: :func:`day_counts` does).

    Examples
    --------
    >>> sql, params = day_counts_sql(("rearrest",), group_sql="sex")
    >>> sql.startswith('SELECT CAST(group_key AS VARCHAR) AS "group"'), params
    (True, {})
    """
    sql, params = episodes_sql(event_types, selection, select=_day_counts_select(group_sql),
                               tail="GROUP BY ALL", source=source,
                               with_releases=with_releases)
    return _day_counts_outer(sql, label_sql), {**params, **(group_params or {})}


@dataclass(frozen=True)
class CachedEpisodes:
    """Episodes of one outcome materialized in a temporary table of a connection.

    Attributes
    ----------
    table
        Name of the ``TEMP`` table.
    event_types
        The resolved outcome types its episodes were built for.
    rows
        Number of episodes in it.
    """

    table: str
    event_types: tuple[str, ...]
    rows: int


def day_counts(
    con: duckdb.DuckDBPyConnection,
    outcome: Outcome | None = None,
    selection: Selection | None = None,
    group_sql: str = "'all'",
    group_params: dict[str, object] | None = None,
    cached: CachedEpisodes | None = None,
    *,
    label_sql: str | None = None,
) -> tuple[pd.DataFrame, tuple[str, ...]]:
    """Counts per group and distinct day, computed in DuckDB.

    With ``cached`` (from :func:`materialize_episodes`) the episodes are read from the
    materialized table and ``outcome`` is ignored.

    Returns ``(table, event_types)``: the table has ``group, time, n_event,
    n_competing, n_censored`` (sorted by group then time) and ``event_types`` are the
    resolved outcome types. ``group_sql`` is an SQL expression over the episode row
    (see :func:`analysis.survival.grouping.resolve_grouping`); ``'all'`` pools
    everything. ``label_sql`` makes the label from its value after aggregation
    (:attr:`~analysis.survival.grouping.Grouping.key_sql` and ``label_sql``): cheaper
    than a text label per row. The cheapest query form is taken
    (:func:`~analysis.survival.episodes.sql.episodes_query`).

    Examples
    --------
    >>> import duckdb
    >>> from analysis.survival.follow_up import prepare_for_analysis
    >>> con = duckdb.connect(); _ = prepare_for_analysis(con)
    >>> _ = con.execute("INSERT INTO releases (release_id, person_id, release_date, facility,"
    ...     " follow_up_end, batch_id) VALUES ('r1', 'p1', DATE '2020-01-01', 'A',"
    ...     " DATE '2020-12-31', 'b')")
    >>> _ = prepare_for_analysis(con)
    >>> table, types = day_counts(con)
    >>> table.to_dict("records")
    [{'group': 'all', 'time': 365, 'n_event': 0, 'n_competing': 0, 'n_censored': 1}]
    """
    types, source = resolve_source(con, outcome, cached)
    sql, params = episodes_query(con, types, selection, select=_day_counts_select(group_sql),
                                 tail="GROUP BY ALL", source=source, params=group_params)
    sql = _day_counts_outer(sql, label_sql) + ' ORDER BY "group", time'
    table = con.execute(sql, params).df()
    for col in ("time", "n_event", "n_competing", "n_censored"):
        table[col] = table[col].astype("int64")
    table["group"] = table["group"].astype(object)
    return table.reset_index(drop=True), types


def materialize_episodes(con: duckdb.DuckDBPyConnection, outcome: Outcome | None = None
                         ) -> CachedEpisodes:
    """Compute the episodes of an outcome once and keep them in a TEMP table.

    Later breakdowns and selections (:func:`day_counts`, Kaplan–Meier, cumulative
    incidence, fixed-horizon rates with ``cached=``) then only scan that table, which is
    several times faster on millions of releases — what an interactive dashboard needs.
    Works on read-only connections (temporary tables live in memory). The table
    reflects the database when it was made: make it again after an import.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.survival.follow_up import prepare_for_analysis
    >>> con = duckdb.connect(); _ = prepare_for_analysis(con)
    >>> cached = materialize_episodes(con, Outcome.named("rearrest"))
    >>> cached.table, cached.rows
    ('_desist_episodes_rearrest', 0)
    """
    outcome = outcome or Outcome()
    types = outcome.resolve(con)
    name = "_desist_episodes_" + ("_".join(types) or "none")
    sql, params = episodes_query(con, types)
    con.execute(f"CREATE OR REPLACE TEMP TABLE {quote_ident(name)} AS {sql}", params)
    row = con.execute(f"SELECT count(*) FROM {quote_ident(name)}").fetchone()
    return CachedEpisodes(name, types, int(row[0]) if row else 0)


def resolve_source(con: duckdb.DuckDBPyConnection, outcome: Outcome | None,
                   cached: CachedEpisodes | None) -> tuple[tuple[str, ...], str | None]:
    """Event types and source table: the cached episodes when given, else a fresh query.

    Raises
    ------
    AnalysisError
        When ``outcome`` names other event types than those ``cached`` was built for.
    """
    if cached is not None:
        if outcome is not None and outcome.event_types is not None and (
                tuple(outcome.event_types) != cached.event_types):
            raise AnalysisError(
                f"the cached episodes are for {list(cached.event_types)}, not "
                f"{list(outcome.event_types)}"
            )
        return cached.event_types, cached.table
    return (outcome or Outcome()).resolve(con), None
