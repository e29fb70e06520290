"""Derived follow-up facts per release: one definition, stored by imports, read by analyses.

Three facts about a release depend only on the data, not on the analysis, and finding
them is the expensive part of every survival query on millions of releases:

* the person's **previous** and **next** release (latest strictly earlier and earliest
  strictly later ``release_date``, among *all* the person's releases);
* the **first event of each type** strictly after ``release_date`` (not bounded by the
  end of follow-up: the follow-up rules of :mod:`analysis.survival.episodes` apply them);
* the **programmes of the custody period** that ended with the release: a participation
  counts when it started before the release date and either names this release
  (``participation.release_id``) or names no release and started after the person's
  previous release. ``programs`` lists every such programme, ``programs_completed``
  those with ``status = 'completed'``. This is the single definition used by programme
  breakdowns (:mod:`analysis.survival.grouping`) and baseline Cox exposures
  (:mod:`analysis.survival.exposures`).

Since schema migration 003 the table also holds, ready for the survival queries on
millions of releases (layout :data:`LAYOUT`):

* the same facts as **whole days since release** (``INTEGER``): ``first_<type>_day`` per
  event type, ``first_any_day`` (first event of any type) and ``censor_day``, the day
  follow-up ends unless an event or a reincarceration comes first (the earlier of
  ``follow_up_end`` and the day before the next release; never below 0), with
  ``competing_end``: true when that end is ``follow_up_end`` with a competing reason
  (death, deportation, emigration). The follow-up rules then reduce to ``least`` and
  comparisons of small integers (:mod:`analysis.survival.episodes`);
* a copy of the release fields that breakdowns and selections use
  (:data:`COPIED_RELEASE_COLUMNS`) and ``age``, so that a Kaplan–Meier curve by one of
  them reads this one table. (DuckDB runs a ``POSITIONAL JOIN`` with ``releases`` on one
  thread; one table scans on all cores: 0.16 s instead of 0.29 s for 10M releases.)

Every import rebuilds table ``release_follow_up`` (schema migrations 002 and 003) inside
its transaction with :func:`refresh_follow_up`, which records the row counts it saw and
the layout it wrote in metadata key ``follow_up_refreshed``. Analyses read only this
table (:mod:`analysis.survival.episodes`): :func:`require_current_follow_up` refuses a
database whose table is missing (written before migration 002), of an older layout (2:
refreshed before migration 003, dates only) or stale (the row counts differ from those
the refresh recorded: rows written by other means), with a message naming the command
that upgrades it, ``desist migrate DB`` (:mod:`analysis.survival.upgrade`). Readers open the
database read-only and cannot rebuild the table themselves. Code that writes rows by
hand (tests, notebooks on an in-memory database) calls :func:`prepare_for_analysis`.

The table keeps the row order of ``releases``, so analyses read both with a
``POSITIONAL JOIN`` — one scan of each, no hash join on text keys; :func:`verify_follow_up`
checks that alignment after each refresh.
"""

from __future__ import annotations

import datetime as dt
import json

import duckdb

from analysis.contract import COMPETING_END_REASONS, EVENT_TYPES
from analysis.errors import AnalysisError, DatabaseError
from analysis.store.location import database_file, migrate_command
from analysis.store.schema import migrate, one_row, schema_version

TABLE = "release_follow_up"
METADATA_KEY = "follow_up_refreshed"
#: Layout written by :func:`refresh_follow_up`: 3 = dates, day numbers and copied release
#: fields (migration 003); 2 = dates and programmes only (migration 002).
LAYOUT = 3
#: Release fields copied into :data:`TABLE` (layout 3): every standard breakdown field and
#: every field a :class:`~analysis.survival.episodes.Selection` filters on.
COPIED_RELEASE_COLUMNS: tuple[str, ...] = (
    "release_date", "follow_up_end", "facility", "release_region", "sex",
    "offense_category", "release_type", "follow_up_end_reason",
)
#: Day number of the first event of any type (layout 3).
FIRST_ANY_DAY = "first_any_day"


def first_event_column(event_type: str) -> str:
    """Column of :data:`TABLE` holding the first event of ``event_type`` after release."""
    return f"first_{event_type}"


def first_day_column(event_type: str) -> str:
    """Column of :data:`TABLE` (layout 3): days from release to that first event."""
    return f"first_{event_type}_day"


def age_sql(r: str = "r") -> str:
    """Age at release in years: ``age_at_release``, else from ``birth_year``."""
    return f"coalesce({r}.age_at_release, year({r}.release_date) - {r}.birth_year)"


def censor_day_sql(r: str = "r", n: str = "n") -> str:
    """Days from release to the end of follow-up without events or reincarceration.

    The earlier of ``follow_up_end`` and the day before the next release, never below 0
    (a release followed by another the next day is followed for 0 days).
    """
    return (f"greatest(least({r}.follow_up_end, {n}.next_release - 1) - {r}.release_date, 0)")


def competing_end_sql(r: str = "r", n: str = "n") -> str:
    """True when follow-up ends at a ``follow_up_end`` with a competing reason.

    ``follow_up_end`` is the end unless the next release comes first (a tie goes to
    ``follow_up_end``, as in the episode rules).
    """
    reasons = ", ".join(f"'{c}'" for c in COMPETING_END_REASONS)
    return (f"({r}.follow_up_end_reason IN ({reasons}) AND "
            f"({n}.next_release IS NULL OR {r}.follow_up_end < {n}.next_release))")


def neighbours_sql(releases: str = "releases") -> str:
    """CTEs ``multi`` and ``neighbours`` (``_rid, prev_release, next_release``).

    ``_rid`` is the row id of the release in ``releases``. Only people with several
    releases go through the window, which keeps it cheap (most people have one).
    """
    return f"""multi AS (
    SELECT person_id FROM {releases} GROUP BY person_id HAVING count(*) > 1
),
neighbours AS (
    -- neighbours among ALL the person's releases, not only selected ones
    SELECT r.rowid AS _rid,
           max(r.release_date) OVER (PARTITION BY r.person_id ORDER BY r.release_date
               RANGE BETWEEN UNBOUNDED PRECEDING AND INTERVAL 1 DAY PRECEDING) AS prev_release,
           min(r.release_date) OVER (PARTITION BY r.person_id ORDER BY r.release_date
               RANGE BETWEEN INTERVAL 1 DAY FOLLOWING AND UNBOUNDED FOLLOWING) AS next_release
    FROM {releases} r SEMI JOIN multi m ON r.person_id = m.person_id
)"""


def custody_programs_sql(base: str) -> str:
    """SELECT giving ``_rid, programs, programs_completed`` for the releases of ``base``.

    ``base`` must have ``_rid, release_id, person_id, release_date, prev_release``.
    Releases without any programme get no row (callers LEFT JOIN: NULL lists).
    """
    return f"""SELECT b._rid,
       list_sort(list_distinct(list(pa.program_id))) AS programs,
       list_sort(list_distinct(list(pa.program_id) FILTER (WHERE pa.status = 'completed')))
           AS programs_completed
FROM {base} b JOIN participation pa
  ON pa.person_id = b.person_id
 AND pa.start_date < b.release_date
 AND (pa.release_id = b.release_id
      OR (pa.release_id IS NULL
          AND (b.prev_release IS NULL OR pa.start_date > b.prev_release)))
GROUP BY b._rid"""


def _derived_sql() -> str:
    """Every column of :data:`TABLE`, for all releases, in the row order of ``releases``."""
    firsts = ",\n           ".join(
        f"min(e.event_date) FILTER (WHERE e.event_type = '{t}') AS {first_event_column(t)}"
        for t in EVENT_TYPES
    )
    first_cols = ", ".join(f"f.{first_event_column(t)}" for t in EVENT_TYPES)
    # a date difference is a BIGINT; day numbers fit an INTEGER
    first_days = ", ".join(
        f"CAST(f.{first_event_column(t)} - b.release_date AS INTEGER) AS {first_day_column(t)}"
        for t in EVENT_TYPES)
    first_any = (f"CAST(least({', '.join(f'f.{first_event_column(t)}' for t in EVENT_TYPES)})"
                 f" - b.release_date AS INTEGER) AS {FIRST_ANY_DAY}")
    copied = ", ".join(f"b.{c}" for c in COPIED_RELEASE_COLUMNS)
    return f"""
WITH {neighbours_sql()},
base AS (
    SELECT r.rowid AS _rid, r.release_id, r.person_id,
           {", ".join(f"r.{c}" for c in COPIED_RELEASE_COLUMNS)}, {age_sql()} AS age,
           n.prev_release, n.next_release,
           CAST({censor_day_sql()} AS INTEGER) AS censor_day,
           {competing_end_sql()} AS competing_end
    FROM releases r LEFT JOIN neighbours n ON n._rid = r.rowid
),
firsts AS (
    SELECT b._rid,
           {firsts}
    FROM base b JOIN events e
      ON e.person_id = b.person_id AND e.event_date > b.release_date
    GROUP BY b._rid
),
progs AS ({custody_programs_sql("base")})
SELECT b.release_id, b.prev_release, b.next_release, {first_cols},
       p.programs, p.programs_completed, {copied}, b.age,
       b.censor_day, b.competing_end, {first_days}, {first_any}
FROM base b LEFT JOIN firsts f ON f._rid = b._rid LEFT JOIN progs p ON p._rid = b._rid
ORDER BY b._rid"""


def release_programs_sql() -> str:
    """SELECT giving ``release_id, programs, programs_completed`` for every release.

    Read from :data:`TABLE`: call :func:`require_current_follow_up` first. (The lists
    are derived once, by :func:`refresh_follow_up`; the test oracle
    ``tests/survival/episode_oracle.py`` derives them independently.)
    """
    return f"SELECT release_id, programs, programs_completed FROM {TABLE}"


def _table_counts(con: duckdb.DuckDBPyConnection) -> dict[str, int]:
    row = one_row(con, "SELECT (SELECT count(*) FROM releases), (SELECT count(*) FROM "
                       "events), (SELECT count(*) FROM participation)")
    return {"releases": int(row[0]), "events": int(row[1]), "participation": int(row[2])}


def has_follow_up_table(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the database has table :data:`TABLE` (migration 002 made it)."""
    return bool(one_row(con, "SELECT count(*) FROM duckdb_tables() WHERE table_name = ?",
                        [TABLE])[0])


def refresh_follow_up(con: duckdb.DuckDBPyConnection, batch_id: str | None = None) -> int:
    """Rebuild :data:`TABLE` from the current tables; return its number of rows.

    Run it inside the writer's transaction after every change to ``releases``,
    ``events`` or ``participation`` (the importer does). The database must be migrated
    to schema version 3 or later. Records the refresh in metadata key
    :data:`METADATA_KEY` (row counts seen, layout :data:`LAYOUT`, batch id, time).
    """
    if not has_follow_up_table(con):
        raise DatabaseError(f"the database has no {TABLE} table: migrate it first")
    con.execute(f"DELETE FROM {TABLE}")
    con.execute(f"INSERT INTO {TABLE} BY NAME {_derived_sql()}")
    counts = _table_counts(con)
    record = {**counts, "batch_id": batch_id, "layout": LAYOUT,
              "refreshed_at": dt.datetime.now(dt.UTC).replace(tzinfo=None)
              .isoformat(timespec="seconds")}
    con.execute(
        "INSERT INTO metadata VALUES (?, ?) ON CONFLICT (key) DO UPDATE SET value = excluded.value",
        [METADATA_KEY, json.dumps(record, sort_keys=True)],
    )
    return counts["releases"]


def verify_follow_up(con: duckdb.DuckDBPyConnection) -> None:
    """Raise :class:`DatabaseError` unless row ``i`` of :data:`TABLE` is release ``i``."""
    bad, rows = one_row(
        con, f"SELECT count(*) FILTER (WHERE r.release_id IS DISTINCT FROM f.release_id), "
             f"count(*) FROM releases r POSITIONAL JOIN {TABLE} f")
    if bad:
        raise DatabaseError(
            f"{TABLE} is out of step with releases ({bad} of {rows} rows); nothing was changed"
        )


def follow_up_layout(con: duckdb.DuckDBPyConnection) -> int:
    """Layout of :data:`TABLE` if it was refreshed after the last change of the data, else 0.

    3 (:data:`LAYOUT`): current, what the analyses read; 2: refreshed before migration
    003 (dates and programme lists only: ``desist migrate`` upgrades it). A cheap check
    (row counts against the refresh record), safe on read-only connections and on
    databases of schema version 1. The table of a database holding no rows at all is
    current when it has the layout-3 columns: there is nothing to derive.

    Examples
    --------
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> follow_up_layout(con)
    3
    >>> _ = con.execute("INSERT INTO releases (release_id, person_id, release_date, "
    ...     "facility, follow_up_end, batch_id) VALUES ('r1', 'p1', DATE '2020-01-01', 'A', "
    ...     "DATE '2020-12-31', 'b')")
    >>> follow_up_layout(con)  # a row written by hand: not yet derived
    0
    """
    return follow_up_state(con)[0]


def follow_up_state(con: duckdb.DuckDBPyConnection) -> tuple[int, str | None]:
    """``(follow_up_layout(con), follow_up_problem(con))`` from one pass of the counts.

    Examples
    --------
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> follow_up_state(con)
    (3, None)
    """
    if not has_follow_up_table(con):
        return 0, (f"is missing (the database has schema version {schema_version(con)}, "
                   "from before migration 002)")
    counts = _table_counts(con)
    rows = int(one_row(con, f"SELECT count(*) FROM {TABLE}")[0])
    found = con.execute("SELECT value FROM metadata WHERE key = ?", [METADATA_KEY]).fetchone()
    if found is None:
        if rows == 0 and not any(counts.values()) and _has_day_columns(con):
            return LAYOUT, None
        return 0, ("was never built: the rows were written without an import "
                   f"({counts['releases']:,} releases, {counts['events']:,} events)")
    try:
        record = json.loads(found[0])
    except ValueError:
        return 0, f"has an unreadable refresh record ({METADATA_KEY})"
    changed = [f"{name} {count:,} now, {record.get(name)!r} when it was built"
               for name, count in counts.items() if record.get(name) != count]
    if rows != counts["releases"]:
        changed.insert(0, f"{rows:,} rows for {counts['releases']:,} releases")
    if changed:
        return 0, "is stale (" + "; ".join(changed) + ")"
    # refreshed before migration 003 (no "layout" in the record): dates only
    layout = record.get("layout", 2)
    if layout == LAYOUT:
        return LAYOUT, None
    if layout == 2:
        return 2, ("has layout 2 (built before migration 003: dates only, without the day "
                   f"numbers of layout {LAYOUT})")
    return 0, f"has an unknown layout {layout!r}"


def follow_up_problem(con: duckdb.DuckDBPyConnection) -> str | None:
    """Why :data:`TABLE` cannot be read (missing, older layout, stale), or None if current.

    Examples
    --------
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> follow_up_problem(con) is None
    True
    """
    return follow_up_state(con)[1]


def _has_day_columns(con: duckdb.DuckDBPyConnection) -> bool:
    return bool(one_row(con, "SELECT count(*) FROM information_schema.columns "
                             "WHERE table_name = ? AND column_name = ?",
                        [TABLE, FIRST_ANY_DAY])[0])


def require_current_follow_up(con: duckdb.DuckDBPyConnection) -> None:
    """Raise unless :data:`TABLE` is current (layout :data:`LAYOUT`, counts unchanged).

    Raises
    ------
    AnalysisError
        Naming the database file (when ``con`` has one), what is wrong with the table
        and the command that fixes it: ``desist migrate FILE``.

    Examples
    --------
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> require_current_follow_up(con)  # an empty database: nothing to derive
    >>> _ = con.execute("INSERT INTO events VALUES ('p1', DATE '2020-02-01', 'rearrest', "
    ...                 "NULL, 'b')")
    >>> require_current_follow_up(con)
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: this in-memory database cannot be analysed yet: its derived follow-up table (release_follow_up) was never built: the rows were written without an import (0 releases, 1 events). Rows written without the importer need analysis.survival.follow_up.prepare_for_analysis(con) (for a database file: desist migrate DB)
    """
    layout, why = follow_up_state(con)
    if layout == LAYOUT:
        return
    path = database_file(con)
    if path is None:
        raise AnalysisError(
            f"this in-memory database cannot be analysed yet: its derived follow-up table "
            f"({TABLE}) {why}. Rows written without the importer need "
            "analysis.survival.follow_up.prepare_for_analysis(con) (for a database file: "
            f"{migrate_command(None)})"
        )
    raise AnalysisError(
        f"{path} cannot be analysed until it is upgraded: its derived follow-up table "
        f"({TABLE}) {why}. Run `{migrate_command(path)}` (it rebuilds the table from the "
        "data in the file, all or nothing, and changes no record); readers open the "
        "database read-only and cannot do it themselves"
    )


def prepare_for_analysis(con: duckdb.DuckDBPyConnection, batch_id: str | None = None) -> int:
    """Migrate ``con``'s schema and rebuild :data:`TABLE`, as an import does; return rows.

    For databases whose rows are written by hand (test fixtures, examples): call it
    after writing them. Runs in the caller's transaction when there is one.

    Examples
    --------
    >>> con = duckdb.connect()
    >>> prepare_for_analysis(con)
    0
    >>> follow_up_layout(con) == LAYOUT
    True
    """
    migrate(con)
    rows = refresh_follow_up(con, batch_id)
    verify_follow_up(con)
    return rows
