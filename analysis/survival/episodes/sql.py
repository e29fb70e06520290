"""The episode query: the follow-up rules of :mod:`analysis.survival.episodes` in SQL.

Episodes are read from table ``release_follow_up`` (:mod:`analysis.survival.follow_up`),
which every import (and ``desist migrate``) rebuilds at layout
:data:`~analysis.survival.follow_up.LAYOUT`. It holds, per release, the day numbers the
rules need, so that with

* ``ev`` — the day of the first outcome event (``>= 1``; the least of the chosen types'
  ``first_<type>_day``), and
* ``en`` — the day follow-up ends without one (``>= 0``; ``censor_day``, or the first
  reincarceration when that is earlier and not part of the outcome),

the outcome happened when ``ev <= en`` and ``time = least(ev, en)``. A database whose
table is missing, older or stale is refused with the command that upgrades it
(:func:`analysis.survival.follow_up.require_current_follow_up`): there is one way to
build an episode. (The same rules written from the dates, with no stored facts, live
on in ``tests/survival/episode_oracle.py``, against which this query is tested.)

Worked example: released 2020-01-01, followed to 2020-12-31 (``censor_day`` 365), a
reincarceration on 2020-09-01 (day 244) and a rearrest on 2020-10-01 (day 274). For the
outcome *rearrest*, ``ev = 274`` and ``en = least(365, 244) = 244``: censored at day
244, ``end_reason = 'reincarceration'``. For *rearrest + reincarceration*, ``ev = 244``
and ``en = 365``: the outcome, at day 244.
"""

from __future__ import annotations

from collections.abc import Iterable

import duckdb
import pandas as pd

from analysis.arrow_memory import give_back_arrow_memory
from analysis.contract import EVENT_TYPES
from analysis.errors import AnalysisError
from analysis.survival import follow_up
from analysis.survival.episodes.values import AGE_BANDS, UNKNOWN, Outcome, Selection

#: Release columns (plus derived ones) that episodes can carry and selections filter on.
DERIVED_COLUMNS: tuple[str, ...] = ("age", "age_band", "release_year")

#: Columns every episodes frame has, in order.
EPISODE_COLUMNS: tuple[str, ...] = (
    "release_id", "person_id", "release_date", "end_date", "time", "event", "cause",
    "competing_reason", "end_reason",
)


def quote_ident(name: str) -> str:
    """Quote an SQL identifier (column names come from the database, never from SQL text).

    Examples
    --------
    >>> quote_ident('a b') == chr(34) + 'a b' + chr(34)
    True
    """
    return '"' + name.replace('"', '""') + '"'


def literal_list(values: Iterable[str]) -> str:
    """Comma-separated SQL string literals.

    Only contract codes reach here (checked by :class:`Outcome`), so inlining is safe
    and lets DuckDB push the filter into the events scan.

    Examples
    --------
    >>> literal_list(["death", "it's"])
    "'death', 'it''s'"
    """
    return ", ".join("'" + v.replace("'", "''") + "'" for v in values)


def age_band_sql(age: str) -> str:
    """SQL expression giving the :data:`AGE_BANDS` label of the whole-year age ``age``."""
    whens = " ".join(
        f"WHEN {age} >= {lo}" + (f" AND {age} <= {hi}" if hi is not None else "")
        + f" THEN '{label}'"
        for label, lo, hi in AGE_BANDS
    )
    return f"CASE {whens} ELSE '{UNKNOWN}' END"


def episodes_sql(
    event_types: tuple[str, ...],
    selection: Selection | None = None,
    *,
    select: str = "*",
    tail: str = "",
    source: str | None = None,
    with_releases: bool = True,
) -> tuple[str, dict[str, object]]:
    """SQL text producing the episodes, and its named parameters.

    The query defines ``all_releases`` (the release columns, ``age``, ``age_band``,
    ``release_year``, ``prev_release``, ``next_release``, ``programs``,
    ``programs_completed``), ``limits`` (the selected ones, with ``first_event,
    first_reincarceration, end_date``) and ``episodes`` (plus ``time, event, cause,
    competing_reason, end_reason``), then runs ``SELECT {select} FROM episodes {tail}``.
    Callers wanting another projection or an aggregate pass ``select`` and ``tail``
    (e.g. ``"GROUP BY ALL"``). It reads ``release_follow_up``, which must be current:
    :func:`episodes_query` checks that and picks the cheaper form.

    Parameters
    ----------
    event_types
        Resolved outcome event types (may be empty: nobody has the outcome).
    selection
        Which releases to keep.
    select
        Projection applied to the ``episodes`` relation.
    tail
        Clauses after ``FROM episodes`` (``WHERE``, ``GROUP BY``...).
    source
        Name of a table made by
        :func:`~analysis.survival.episodes.cache.materialize_episodes` for these event
        types: the episodes are read from it (only the selection is applied).
    with_releases
        ``False``: the episodes carry only the release fields copied into
        ``release_follow_up`` (``release_id``, ``age`` and
        :data:`~analysis.survival.follow_up.COPIED_RELEASE_COLUMNS`, plus the derived
        ones), and the query reads that table alone, on every core.

    Returns
    -------
    tuple
        The SQL text and its named parameters (those of the selection).

    Examples
    --------
    >>> sql, params = episodes_sql(("rearrest",), Selection(sexes=("F",)), select="time")
    >>> "release_follow_up" in sql, params
    (True, {'sel_sexes': ['F']})
    """
    selection = selection or Selection()
    where, params = selection.where()
    if source is not None:
        sql = (f"WITH episodes AS (SELECT * FROM {quote_ident(source)} WHERE {where})\n"
               f"SELECT {select} FROM episodes {tail}")
        return sql, params
    # Reincarceration ends follow-up only when it is not itself the outcome.
    censor_reinc = "reincarceration" not in event_types
    limits = _limits_sql(event_types, censor_reinc, where, with_releases)
    sql = f"""
WITH {limits},
{_EPISODES_CTE}
SELECT {select} FROM episodes {tail}"""
    return sql, params


def episodes_query(
    con: duckdb.DuckDBPyConnection,
    event_types: tuple[str, ...],
    selection: Selection | None = None,
    *,
    select: str = "*",
    tail: str = "",
    source: str | None = None,
    params: dict[str, object] | None = None,
) -> tuple[str, dict[str, object]]:
    """:func:`episodes_sql` in the cheapest form that gives the same rows on ``con``.

    A materialized ``source`` when given; else ``release_follow_up`` alone when the
    query names no other release column, else that table with ``releases``. DuckDB's
    binder decides on the real query: the one-table form must bind and give the same
    columns (so ``SELECT *`` keeps every release column). ``params`` are the caller's
    own parameters (e.g. a grouping's), needed to bind; the returned ones include them.

    Raises
    ------
    AnalysisError
        When the database's follow-up table is missing, older than this program's
        layout or stale; the message names ``desist migrate DB``
        (:func:`analysis.survival.follow_up.require_current_follow_up`).
    """
    extra = params or {}
    if source is not None:
        sql, own = episodes_sql(event_types, selection, select=select, tail=tail,
                                source=source)
        return sql, {**own, **extra}
    follow_up.require_current_follow_up(con)
    sql, own = episodes_sql(event_types, selection, select=select, tail=tail)
    narrow, _ = episodes_sql(event_types, selection, select=select, tail=tail,
                             with_releases=False)
    both = {**own, **extra}
    try:
        same = _output_columns(con, narrow, both) == _output_columns(con, sql, both)
    except duckdb.BinderException:
        same = False  # names a release column that is not copied
    return (narrow if same else sql), both


def _output_columns(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object]
                    ) -> list[tuple[object, ...]]:
    """Names and types of a query's result, from binding it (nothing is read)."""
    return [row[:2] for row in con.execute("DESCRIBE " + sql, params).fetchall()]


def _release_columns_sql(r: str = "r") -> str:
    age = follow_up.age_sql(r)
    return (f"{r}.*, {r}.rowid AS _rid, {age} AS age, "
            f"{age_band_sql(f'floor({age})')} AS age_band, "
            f"year({r}.release_date) AS release_year")


def _copied_columns_sql(f: str = "f") -> str:
    """The release columns of the episodes, from the copies in ``release_follow_up``."""
    copied = ", ".join(f"{f}.{c}" for c in follow_up.COPIED_RELEASE_COLUMNS)
    return (f"{f}.rowid AS _rid, {f}.release_id, {copied}, {f}.age, "
            f"{age_band_sql(f'floor({f}.age)')} AS age_band, "
            f"year({f}.release_date) AS release_year")


def _least(terms: list[str], empty: str) -> str:
    return f"least({', '.join(terms)})" if len(terms) > 1 else terms[0] if terms else empty


def _limits_sql(event_types: tuple[str, ...], censor_reinc: bool, where: str,
                with_releases: bool) -> str:
    """CTEs ending in ``limits``, from table ``release_follow_up``.

    Besides the dates, each row gets three integers the episode rules reduce to:
    ``_ev`` (day of the first outcome event), ``_en`` (day follow-up ends without one)
    and ``_cmp`` (that end is a competing one).
    """
    first_event = _least([f"f.{follow_up.first_event_column(t)}" for t in event_types],
                         "CAST(NULL AS DATE)")
    first_reinc = (f"f.{follow_up.first_event_column('reincarceration')}" if censor_reinc
                   else "CAST(NULL AS DATE)")
    if set(event_types) == set(EVENT_TYPES):
        first_day = f"f.{follow_up.FIRST_ANY_DAY}"
    else:
        first_day = _least([f"f.{follow_up.first_day_column(t)}" for t in event_types],
                           "CAST(NULL AS INTEGER)")
    reinc_day = f"f.{follow_up.first_day_column('reincarceration')}"
    # Event days are >= 1 and censor_day >= 0, so "event" is _ev <= _en and the time is
    # least(_ev, _en); a reincarceration before the end removes a competing end.
    end_day = f"least(f.censor_day, {reinc_day})" if censor_reinc else "f.censor_day"
    competing_end = (f"(f.competing_end AND coalesce({reinc_day} >= f.censor_day, true))"
                     if censor_reinc else "f.competing_end")
    if with_releases:
        # POSITIONAL JOIN: the table keeps the row order of releases (checked at refresh).
        columns, source = (_release_columns_sql(),
                           f"releases r POSITIONAL JOIN {follow_up.TABLE} f")
    else:
        columns, source = _copied_columns_sql(), f"{follow_up.TABLE} f"
    end_date = ("least(follow_up_end, "
                "coalesce(CAST(next_release - INTERVAL 1 DAY AS DATE), follow_up_end), "
                "coalesce(first_reincarceration, follow_up_end))")
    return f"""all_releases AS (
    SELECT {columns},
           f.prev_release, f.next_release, f.programs, f.programs_completed,
           {first_event} AS first_event, {first_reinc} AS first_reincarceration,
           {first_day} AS _ev, {end_day} AS _en, {competing_end} AS _cmp
    FROM {source}
),
limits AS (
    SELECT *, {end_date} AS end_date
    FROM all_releases
    WHERE {where}
)"""


#: ``episodes`` from the integer days of :func:`_limits_sql`. When rules tie the order
#: is outcome, follow_up_end (competing or not), next_release, reincarceration.
_EPISODES_CTE = """episodes AS (
    SELECT * EXCLUDE (_ev, _en, _cmp),
           CAST(least(_ev, _en) AS BIGINT) AS time,
           CASE WHEN _ev <= _en THEN 1 ELSE 0 END AS event,
           CASE WHEN _ev <= _en THEN 1 WHEN _cmp THEN 2 ELSE 0 END AS cause,
           CASE WHEN _ev <= _en THEN NULL WHEN _cmp THEN follow_up_end_reason END
               AS competing_reason,
           CASE WHEN _ev <= _en THEN 'outcome'
                WHEN _cmp THEN 'competing'
                WHEN end_date = follow_up_end THEN 'follow_up_end'
                WHEN next_release IS NOT NULL
                     AND end_date = CAST(next_release - INTERVAL 1 DAY AS DATE)
                THEN 'next_release'
                ELSE 'reincarceration' END AS end_reason
    FROM limits
)"""


def release_columns(con: duckdb.DuckDBPyConnection) -> tuple[str, ...]:
    """Columns of the ``releases`` table (contract columns and imported covariates)."""
    rows = con.execute(
        "SELECT column_name FROM information_schema.columns "
        "WHERE table_name = 'releases' ORDER BY ordinal_position"
    ).fetchall()
    return tuple(r[0] for r in rows)


def build_episodes(
    con: duckdb.DuckDBPyConnection,
    outcome: Outcome | None = None,
    selection: Selection | None = None,
    columns: tuple[str, ...] | list[str] = (),
    base_columns: tuple[str, ...] = EPISODE_COLUMNS,
    categories: Iterable[str] = (),
) -> pd.DataFrame:
    """One row per selected release with its follow-up time, event and cause.

    Parameters
    ----------
    con
        Connection to a study database (read-only is enough) whose follow-up table is
        current (an import or ``desist migrate`` made it so).
    outcome
        Which events count (default: every event type present).
    selection
        Which releases to keep (default: all).
    columns
        Extra release columns to carry, e.g. ``("facility", "age_band")``; any column of
        ``releases`` or one of :data:`DERIVED_COLUMNS`.
    base_columns
        Which of :data:`EPISODE_COLUMNS` to return (all by default; ``release_id``, the
        sort key, always). A model that reads only times and events asks for those: the
        text columns (end reasons, ids) cost most of the time and memory of fetching a
        national database's episodes (at 3 million releases, 5.5 s sorted with every
        column, 1.4 s without the end reasons and end date).
    categories
        Text columns of ``columns`` to return as pandas ``Categorical`` (categories: the
        column's values in ``releases``, sorted), fetched as small integer codes: a
        model that encodes them anyway skips the text, which costs several times more to
        fetch and to factorize. Other columns named here are returned as usual.

    Returns
    -------
    DataFrame
        ``base_columns`` then the requested columns, sorted by ``release_id``.
        ``time`` is in days (int), ``event`` 0/1, ``cause`` 0/1/2.

    Raises
    ------
    AnalysisError
        For an unknown column (or base column), or a database whose follow-up table
        needs ``desist migrate``.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.survival.follow_up import prepare_for_analysis
    >>> con = duckdb.connect(); _ = prepare_for_analysis(con)
    >>> _ = con.execute("INSERT INTO releases (release_id, person_id, release_date, facility,"
    ...     " follow_up_end, batch_id) VALUES ('r1', 'p1', DATE '2020-01-01', 'A',"
    ...     " DATE '2020-12-31', 'b'), ('r2', 'p1', DATE '2020-07-01', 'A', DATE '2020-12-31', 'b')")
    >>> _ = con.execute("INSERT INTO events VALUES ('p1', DATE '2020-08-01', 'rearrest', NULL, 'b')")
    >>> _ = prepare_for_analysis(con)  # rows written by hand: derive their follow-up facts
    >>> build_episodes(con)[["release_id", "time", "event", "end_reason"]]
      release_id  time  event    end_reason
    0         r1   181      0  next_release
    1         r2    31      1       outcome
    """
    outcome = outcome or Outcome()
    unknown_base = [c for c in base_columns if c not in EPISODE_COLUMNS]
    if unknown_base:
        raise AnalysisError(f"unknown episode column(s) {unknown_base}; available: "
                            f"{', '.join(EPISODE_COLUMNS)}")
    base = [c for c in EPISODE_COLUMNS if c == "release_id" or c in base_columns]
    types = outcome.resolve(con)
    available = set(release_columns(con)) | set(DERIVED_COLUMNS)
    columns = list(dict.fromkeys(c for c in columns if c not in base))
    unknown = [c for c in columns if c not in available]
    if unknown:
        raise AnalysisError(
            f"unknown release column(s) {unknown}; available: {', '.join(sorted(available))}"
        )
    levels = _text_levels(con, [c for c in columns if c in set(categories)])
    # a coded column is its value's position in the parameter list of its levels
    fetched = list(enumerate((*base, *columns)))
    selected = [f"list_position($levels_{i}, {quote_ident(c)}) AS {quote_ident(c)}"
                if c in levels else quote_ident(c) for i, c in fetched]
    codes_params: dict[str, object] = {f"levels_{i}": levels[c] for i, c in fetched
                                       if c in levels}
    sql, params = episodes_query(con, types, selection, select=", ".join(selected),
                                 params=codes_params)
    frame = fetch_sorted(con, sql, params, "release_id")
    for col in ("time", "event", "cause"):
        if col in base:
            frame[col] = frame[col].astype("int64")
    for col, names in levels.items():
        positions = frame[col].to_numpy(dtype=float, na_value=0)
        frame[col] = pd.Categorical.from_codes(positions.astype(int) - 1, categories=names)
    return frame


def _text_levels(con: duckdb.DuckDBPyConnection, columns: list[str]) -> dict[str, list[str]]:
    """The sorted values of each of ``columns`` that is a text column of ``releases``."""
    if not columns:
        return {}
    text = {row[0] for row in con.execute(
        "SELECT column_name FROM information_schema.columns WHERE table_name = 'releases' "
        "AND data_type = 'VARCHAR' AND list_contains(?, column_name)", [columns]).fetchall()}
    return {c: [row[0] for row in con.execute(
        f"SELECT DISTINCT {quote_ident(c)} FROM releases WHERE {quote_ident(c)} IS NOT NULL "
        "ORDER BY 1").fetchall()]
        for c in columns if c in text}


def fetch_sorted(con: duckdb.DuckDBPyConnection, sql: str, params: dict[str, object],
                 key: str) -> pd.DataFrame:
    """Rows of ``sql`` sorted by the text column ``key``, as pandas.

    Sorted by DuckDB, then through Arrow with 64-bit string offsets, the layout of
    pandas' Arrow-backed strings, so the text columns are taken over without a copy. On
    a million releases this takes 0.5–0.7 s where sorting in Arrow took 0.6–1.5 s (its
    ``take`` over chunked columns is erratic) and ``.df()`` 3 s. Dates come back as
    ``datetime64[us]``, as from ``.df()``.
    """
    # A cursor is a session of its own: the Arrow setting does not leak to ``con``.
    cursor = con.cursor()
    try:
        cursor.execute("SET SESSION arrow_large_buffer_size = true")
        table = cursor.sql(f"{sql} ORDER BY {quote_ident(key)}", params=params
                           ).to_arrow_table()
    finally:
        cursor.close()
    frame = table.to_pandas(date_as_object=False)
    for name, column in frame.items():
        if pd.api.types.is_datetime64_dtype(column):
            frame[name] = column.astype("datetime64[us]")
        elif len(frame) and table.column(name).null_count == len(frame):
            # .df() gives an all-NULL text column as objects None, not missing strings
            frame[name] = pd.Series([None] * len(frame), index=frame.index, dtype=object)
    del table
    give_back_arrow_memory()
    return frame
