"""Programme exposures for Cox models, free of immortal-time bias.

* ``in_prison`` programmes are **baseline** indicators: the person took part during
  the custody period that ended with this release — the participation started before
  the release date and names this release (``participation.release_id``), or names
  none and started after the person's previous release (one definition, in
  :mod:`analysis.survival.follow_up`).
* ``post_release`` and ``community`` programmes are **time-varying**, never baseline:
  counting a programme that starts after release as exposed from day 0 would credit it
  with the weeks the person had to survive to start it (immortal time). Community
  programmes (alternatives to custody, probation-run) start on or after the release
  or sentence date, so they are treated like post-release ones; a participation that
  started before the release date counts from day 0. Episodes are split into
  ``(start, stop]`` rows at every exposure change, in DuckDB SQL; the event stays on
  the last row.

  - ``current``: exposed from ``start_date`` through ``end_date`` (open end = still
    exposed); ``ever``: exposed from ``start_date`` to the end of follow-up.
  - Day ``s = start_date - release_date`` switches exposure on for ``(s, ...]``: an event
    on the programme's first day counts as unexposed (the covariate at ``t`` is decided
    by what happened before ``t``). With ``current`` the exposure lasts through day
    ``end_date - release_date``; a programme starting and ending on the same day
    gives no exposed time.
  - A time-varying participation belongs to the release it names, else to the
    person's latest release on or before its start date.

* ``service:<service_type>`` and ``service:any`` (when the database has referrals) are
  post-release exposures too: reaching a service, from its first contact day, by the
  same rules (:mod:`analysis.survival.service_exposure`).

Episodes of zero days cannot be represented as ``(0, 0]`` rows; they are dropped from
time-varying analyses and counted in :attr:`ExposureData.dropped_zero_time`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.survival import follow_up
from analysis.survival.service_exposure import (
    check_service_exposures,
    is_service_exposure,
    known_service_exposures,
    owner_release_sql,
    service_participation_sql,
)

BASELINE_SETTINGS = ("in_prison",)
TIME_VARYING_SETTINGS = ("post_release", "community")

#: Post-release and community programmes: exposed while in it, or from then on.
Exposure = Literal["current", "ever"]
#: In-prison programmes: which participation counts.
Participation = Literal["any", "completed"]


@dataclass(frozen=True)
class ExposureData:
    """Episodes with programme exposure columns, ready for :class:`CoxModel`.

    ``frame`` has the episode columns plus one 0/1 column per programme (named by its
    ``program_id``). With time-varying programmes it has one row per ``(start, stop]``
    interval and ``entry_col == "start"``; otherwise one row per release.
    """

    frame: pd.DataFrame
    duration_col: str
    event_col: str
    entry_col: str | None
    baseline_programs: tuple[str, ...]
    time_varying_programs: tuple[str, ...]
    dropped_zero_time: int = 0


def program_settings(con: duckdb.DuckDBPyConnection, program_ids) -> dict[str, str]:
    """Setting of each requested programme; unknown ids raise :class:`AnalysisError`.

    An id of :mod:`analysis.survival.service_exposure` (``service:housing``,
    ``service:any``) that is not a programme id is a ``post_release`` exposure when the
    database has referrals of that type.
    """
    known = dict(con.execute("SELECT program_id, setting FROM programs").fetchall())
    services = [p for p in program_ids if p not in known and is_service_exposure(p)]
    unknown = [p for p in program_ids if p not in known and p not in services]
    if unknown:
        listing = ", ".join([*sorted(known), *known_service_exposures(con)]) or (
            "none: the database has no programs")
        raise AnalysisError(f"unknown program(s) {unknown}; known programs: {listing}")
    settings = {**known, **check_service_exposures(con, services)}
    return {p: settings[p] for p in program_ids}


def add_exposures(
    con: duckdb.DuckDBPyConnection,
    episodes: pd.DataFrame,
    program_ids,
    *,
    exposure: Exposure = "current",
    variant: Participation = "any",
    drop_ids: bool = False,
) -> ExposureData:
    """Add programme exposure columns to episodes.

    Parameters
    ----------
    con : DuckDB connection to a study database (read-only is enough).
    episodes : DataFrame
        One row per release with ``release_id, person_id, release_date, time, event``
        (as built by :mod:`analysis.survival.episodes`); other columns are kept.
    program_ids : list of str
        Programmes to add, named by ``program_id``.
    exposure : {"current", "ever"}
        Time-varying definition for post-release and community programmes.
    variant : {"any", "completed"}
        In-prison programmes: any participation, or completed participation only.
    drop_ids : bool
        Leave ``release_id`` and ``person_id`` out of ``frame``. They are read only to
        find each release's participations, and a split frame copies every column for
        each of its rows: on a national database these two texts were most of its
        memory (the Programmes page's models code releases and people as integers).

    Returns
    -------
    ExposureData
        ``frame``: the episodes plus one 0/1 column per programme; with time-varying
        programmes one row per ``(start, stop]`` interval, split where an exposure
        starts or ends. ``duration_col``, ``event_col`` and ``entry_col`` name its
        columns for :class:`~analysis.survival.cox.CoxModel`; ``baseline_programs``
        and the time-varying ones say which programme is which.

    Examples
    --------
    >>> import duckdb
    >>> from analysis.store.schema import migrate
    >>> from analysis.survival.episodes import build_episodes
    >>> con = duckdb.connect(); _ = migrate(con)
    >>> _ = con.execute("INSERT INTO releases (release_id, person_id, release_date, facility,"
    ...     " follow_up_end, batch_id) VALUES ('r1', 'p1', DATE '2020-01-01', 'A',"
    ...     " DATE '2020-12-31', 'b')")
    >>> _ = con.execute("INSERT INTO programs (program_id, name, category, setting, batch_id)"
    ...     " VALUES ('MENTOR', 'Mentoring', 'post_release_support', 'post_release', 'b')")
    >>> _ = con.execute("INSERT INTO participation (person_id, program_id, start_date,"
    ...     " end_date, batch_id) VALUES ('p1', 'MENTOR', DATE '2020-02-01', DATE '2020-03-01', 'b')")
    >>> from analysis.survival.follow_up import prepare_for_analysis
    >>> _ = prepare_for_analysis(con)  # what an import does after writing the rows
    >>> data = add_exposures(con, build_episodes(con), ["MENTOR"])
    >>> data.frame[["start", "stop", "MENTOR", "event"]].to_dict("list")
    {'start': [0.0, 31.0, 60.0], 'stop': [31.0, 60.0, 365.0], 'MENTOR': [0, 1, 0], 'event': [0, 0, 0]}

    ``data.frame`` then goes to :class:`~analysis.survival.cox.CoxModel` with
    ``entry_col=data.entry_col`` and ``duration_col=data.duration_col``.
    """
    if exposure not in ("current", "ever"):
        raise AnalysisError(f"exposure must be 'current' or 'ever', not {exposure!r}")
    if variant not in ("any", "completed"):
        raise AnalysisError(f"variant must be 'any' or 'completed', not {variant!r}")
    needed = {"release_id", "person_id", "release_date", "time", "event"}
    if not needed <= set(episodes.columns):
        raise AnalysisError(f"episodes lack columns {sorted(needed - set(episodes.columns))}")
    program_ids = list(dict.fromkeys(program_ids))
    clash = [p for p in program_ids if p in episodes.columns]
    if clash:
        raise AnalysisError(f"program id(s) {clash} clash with episode column names")
    settings = program_settings(con, program_ids)
    baseline = [p for p in program_ids if settings[p] in BASELINE_SETTINGS]
    varying = [p for p in program_ids if settings[p] in TIME_VARYING_SETTINGS]

    frame = episodes.drop(columns=list(_IDS)) if drop_ids else episodes.copy()
    if baseline:
        flags = _baseline_flags(con, episodes, baseline, variant)
        positions = flags["_pos"].to_numpy()
        for program in baseline:
            # assign by row position: no pandas merge on millions of text keys
            column = np.zeros(len(frame), dtype=np.int64)
            column[positions] = flags[program].to_numpy()
            frame[program] = column
    if not varying:
        return ExposureData(frame, "time", "event", None, tuple(baseline), ())
    services = [p for p in varying if is_service_exposure(p) and p not in _programme_ids(con)]
    split = _split_episodes(con, episodes, frame, varying, exposure, services)
    dropped = int((frame["time"] <= 0).sum())
    return ExposureData(split, "stop", "event", "start", tuple(baseline), tuple(varying),
                        dropped)


def _programme_ids(con) -> set[str]:
    return {row[0] for row in con.execute("SELECT program_id FROM programs").fetchall()}


def _quote(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


#: The episode columns that identify a release and its person.
_IDS = ("release_id", "person_id")


def _releases_view(con, episodes) -> None:
    view = episodes[["release_id", "person_id", "release_date", "time", "event"]]
    con.register("_exp_episodes", view.assign(_pos=np.arange(len(view))))


def _baseline_flags(con, episodes, programs, variant) -> pd.DataFrame:
    """0/1 per release and baseline programme (custody period that ended with it).

    The custody-period rule is the one of :mod:`analysis.survival.follow_up`: the
    stored ``release_follow_up`` lists when up to date, else the same SQL on the fly.
    """
    _releases_view(con, episodes)
    follow_up.require_current_follow_up(con)  # the one production path: the stored lists
    lists = "programs_completed" if variant == "completed" else "programs"
    cols = ", ".join(
        f"CAST(coalesce(list_contains(rp.{lists}, ?), false) AS INTEGER) AS {_quote(p)}"
        for p in programs
    )
    sql = f"""
        WITH rp AS ({follow_up.release_programs_sql()})
        SELECT e._pos, {cols}
        FROM _exp_episodes e JOIN rp USING (release_id)
        WHERE list_has_any(rp.{lists}, ?)
    """
    flags = con.execute(sql, [*programs, list(programs)]).df()
    con.unregister("_exp_episodes")
    return flags


def _split_episodes(con, episodes, frame, programs, exposure, services=()) -> pd.DataFrame:
    """Counting-process rows of ``frame``: split each episode at every exposure change.

    ``episodes`` are the same releases, row for row, with the columns the SQL reads
    (``frame`` may lack the ids).

    Only releases with a time-varying participation that overlaps their follow-up are
    split in SQL (keyed by row position, not by text id); every other release is one
    unexposed ``(0, time]`` row assembled in numpy — most releases at national scale.
    Rows come in episode order, then by ``start``. ``services`` are the service exposure
    ids among ``programs``: their reached referrals join the participations, shaped as
    post-release participations without an end (one rule for both).
    """
    _releases_view(con, episodes)
    end = "e.time" if exposure == "ever" else (
        "least(e.time, coalesce(date_diff('day', e.release_date, pa.end_date), e.time))"
    )
    cols = ", ".join(
        f"max(CASE WHEN iv.program_id = ? THEN 1 ELSE 0 END)::TINYINT AS {_quote(p)}"
        for p in programs
    )
    sql = f"""
        WITH ep AS (
            SELECT _pos, release_id, CAST(release_date AS DATE) AS release_date,
                   CAST(time AS DOUBLE) AS time
            FROM _exp_episodes WHERE time > 0
        ),
        owner AS (
            -- a participation without release_id belongs to the latest release on or
            -- before its start date
            SELECT pa.program_id, pa.start_date, pa.end_date,
                   {owner_release_sql("pa.start_date", "pa")} AS release_id
            FROM participation pa
            WHERE pa.program_id IN ({", ".join("?" for _ in programs)})
            UNION ALL {service_participation_sql(services)}
        ),
        iv AS (
            -- exposure intervals (s, en] that overlap the follow-up; others change nothing
            SELECT * FROM (
                SELECT e._pos, e.time, pa.program_id,
                       greatest(0, date_diff('day', e.release_date, pa.start_date)) AS s,
                       {end} AS en
                FROM ep e JOIN owner pa USING (release_id)
            ) WHERE en > s AND s < time
        ),
        cuts AS (
            SELECT DISTINCT _pos, 0.0 AS t FROM iv
            UNION SELECT DISTINCT _pos, time FROM iv
            UNION SELECT _pos, s FROM iv
            UNION SELECT _pos, en FROM iv
        ),
        seg AS (
            SELECT _pos, t AS start, lead(t) OVER (PARTITION BY _pos ORDER BY t) AS stop
            FROM cuts
        )
        SELECT seg._pos, seg.start, seg.stop, {cols}
        FROM seg
        LEFT JOIN iv
          ON iv._pos = seg._pos AND iv.s <= seg.start AND iv.en >= seg.stop
        WHERE seg.stop IS NOT NULL
        GROUP BY seg._pos, seg.start, seg.stop
    """
    split = con.execute(sql, [*programs, *programs]).fetchnumpy()
    con.unregister("_exp_episodes")
    time = frame["time"].to_numpy(dtype=float)
    event = frame["event"].to_numpy(dtype=np.int64)
    whole = np.ones(len(frame), dtype=bool)
    whole[split["_pos"]] = False
    whole &= time > 0
    positions = np.concatenate([np.flatnonzero(whole), split["_pos"].astype(np.int64)])
    start = np.concatenate([np.zeros(int(whole.sum())), split["start"]])
    stop = np.concatenate([time[whole], split["stop"]])
    order = np.lexsort((start, positions))
    positions, start, stop = positions[order], start[order], stop[order]
    out = frame.drop(columns=["event"]).take(positions).reset_index(drop=True)
    out.insert(0, "stop", stop)
    out.insert(0, "start", start)
    for program in programs:
        flags = np.concatenate([np.zeros(int(whole.sum()), dtype=np.int64),
                                np.asarray(split[program], dtype=np.int64)])
        out[program] = flags[order]
    # the event belongs to the row that ends the episode
    out["event"] = np.where(stop == time[positions], event[positions], 0)
    return out
