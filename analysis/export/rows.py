"""The rows ``desist km`` and ``desist cox`` fit, as a table to export.

* **Episodes** (:func:`episode_rows`): one row per selected release, from the episode
  query :func:`~analysis.survival.episodes.episodes_query` that ``desist km`` aggregates
  (:func:`~analysis.survival.episodes.day_counts`), with the same outcome, selection and
  ``--by`` breakdown label (:attr:`~analysis.survival.grouping.Grouping.sql`). Groups
  are not refused for being small: the file is the analyst's own data.
* **Counting-process rows** (:func:`counting_process_rows`): the frame
  :func:`~analysis.survival.cox_study.fit_study_cox` hands to
  :class:`~analysis.survival.cox.CoxModel` — episodes from
  :func:`~analysis.survival.episodes.build_episodes`, programme exposures from
  :func:`~analysis.survival.exposures.add_exposures` (post-release and community
  programmes split each release into ``(start, stop]`` rows), releases with a missing
  covariate left out — always as ``(start, stop]`` rows. Releases with zero days of
  follow-up are left out too: they are at risk at no event time, so the partial
  likelihood does not see them, and R's ``Surv(start, stop)`` refuses ``(0, 0]``.

Both come from :func:`~analysis.survival.cox_study.cox_frame`, the rows
``fit_study_cox`` fits, so the export cannot drift from the model;
tests/export/test_export_rows.py also refits :class:`CoxModel` on the exported rows and
checks that it gives ``desist cox``'s coefficients.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import duckdb
import numpy as np
import pandas as pd

from analysis.errors import AnalysisError
from analysis.survival.cox_study import CATEGORICAL_FIELDS, checked_covariates, cox_frame
from analysis.survival.episodes import (
    EPISODE_COLUMNS,
    Outcome,
    Selection,
    episodes_query,
    fetch_sorted,
    quote_ident,
)
from analysis.survival.exposures import Exposure, Participation
from analysis.survival.grouping import program_sql, resolve_grouping

Kind = Literal["episodes", "counting-process"]
#: The two kinds of export, as ``desist export`` names them.
KINDS: tuple[Kind, ...] = ("episodes", "counting-process")
#: Column of the ``--by`` label in an episodes export.
GROUP_COLUMN = "group"
#: Columns every counting-process export starts with.
COUNTING_PROCESS_COLUMNS = ("person_id", "release_id", "release_date", "start", "stop",
                            "event")


@dataclass(frozen=True)
class ExportRows:
    """Rows to export and what the data dictionary says about them.

    Attributes
    ----------
    kind : {"episodes", "counting-process"}
    frame : DataFrame
        The rows, columns named as in the database (programmes by their id).
    event_types : tuple of str
        The outcome's event types, resolved in the database.
    selection : Selection
    covariates, programs : tuple of str
        As asked for (after removing repeats).
    categorical : dict
        Categorical covariate -> the reference level the engine chooses (its most
        frequent level, ties broken by sorted order): what R's ``relevel`` needs.
    baseline_programs, time_varying_programs : tuple of str
        Which programmes are 0/1 per release and which change within a release.
    by, strata : str or None
    exposure, participation : str
        The programme-exposure definitions used.
    n_releases : int
        Releases in the rows.
    n_missing : int
        Releases left out for a missing covariate (counting-process rows only).
    dropped_zero_time : int
        Releases left out for having zero days of follow-up (counting-process only).
    """

    kind: Kind
    frame: pd.DataFrame
    event_types: tuple[str, ...]
    selection: Selection
    covariates: tuple[str, ...] = ()
    programs: tuple[str, ...] = ()
    categorical: dict[str, str] = field(default_factory=dict)
    baseline_programs: tuple[str, ...] = ()
    time_varying_programs: tuple[str, ...] = ()
    by: str | None = None
    strata: str | None = None
    exposure: str = "current"
    participation: str = "any"
    n_releases: int = 0
    n_missing: int = 0
    dropped_zero_time: int = 0


def _unique(names) -> list[str]:
    return list(dict.fromkeys(n for n in names if n))


def episode_rows(con: duckdb.DuckDBPyConnection, outcome: Outcome | None = None,
                 selection: Selection | None = None, *, by: str | None = None,
                 covariates=(), programs=()) -> ExportRows:
    """One row per selected release, as ``desist km`` counts them.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Read-only connection to a study database.
    outcome, selection : Outcome, Selection, optional
        As for ``desist km`` (default: every event type, every release).
    by : str, optional
        A ``desist km --by`` breakdown; its label, exactly as ``km`` shows it, is
        column :data:`GROUP_COLUMN`.
    covariates : iterable of str
        Release fields, derived fields or imported covariates to carry.
    programs : iterable of str
        Programmes whose 0/1 column says the person took part during the custody
        period that ended with the release (the ``--by program:ID`` rule;
        post-release programmes are refused, as there).

    Returns
    -------
    ExportRows
        :data:`~analysis.survival.episodes.EPISODE_COLUMNS`, then ``group`` (with
        ``by``), the covariates and the programmes; sorted by ``release_id``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> from analysis.store import connect_readonly
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=500)
    >>> con = connect_readonly(db)
    >>> rows = episode_rows(con, Outcome.named("rearrest"), by="sex")
    >>> len(rows.frame), list(rows.frame.columns[-2:])
    (500, ['end_reason', 'group'])
    >>> con.close()
    """
    outcome = outcome or Outcome()
    selection = selection or Selection()
    covariates, programs = _unique(covariates), _unique(programs)
    checked_covariates(con, covariates)
    types = outcome.resolve(con)
    projection = [quote_ident(c) for c in EPISODE_COLUMNS]
    projection += [quote_ident(c) for c in covariates if c not in EPISODE_COLUMNS]
    params: dict[str, object] = {}
    if by:
        grouping = resolve_grouping(con, by)
        projection.append(f"{grouping.sql} AS {quote_ident(GROUP_COLUMN)}")
        params.update(grouping.params)
    for i, program in enumerate(programs):
        resolve_grouping(con, f"program:{program}")  # unknown or post-release: refused
        param = f"export_program_{i}"
        projection.append(f"CAST({program_sql(param)} AS INTEGER) AS {quote_ident(program)}")
        params[param] = program
    clash = [p for p in programs if p in (*EPISODE_COLUMNS, *covariates, GROUP_COLUMN)]
    if clash:
        raise AnalysisError(f"program id(s) {clash} clash with episode column names")
    sql, params = episodes_query(con, types, selection, select=", ".join(projection),
                                 params=params)
    frame = fetch_sorted(con, sql, params, "release_id")
    for column in ("time", "event", "cause", *programs):
        frame[column] = frame[column].astype("int64")
    return ExportRows("episodes", frame, types, selection, tuple(covariates), tuple(programs),
                      baseline_programs=tuple(programs), by=by,
                      n_releases=int(frame["release_id"].nunique()))


def counting_process_rows(
    con: duckdb.DuckDBPyConnection,
    covariates=(),
    programs=(),
    *,
    exposure: Exposure = "current",
    participation: Participation = "any",
    strata: str | None = None,
    outcome: Outcome | None = None,
    selection: Selection | None = None,
) -> ExportRows:
    """The ``(start, stop]`` rows ``desist cox`` fits, with the same options.

    Parameters
    ----------
    con : duckdb.DuckDBPyConnection
        Read-only connection to a study database.
    covariates, programs : iterable of str
        As for ``desist cox --covariates/--programs`` (at least one of them).
    exposure, participation, strata : as for ``desist cox``.
    outcome, selection : Outcome, Selection, optional

    Returns
    -------
    ExportRows
        :data:`COUNTING_PROCESS_COLUMNS`, the covariates, the programmes and the
        stratum, sorted by ``release_id`` then ``start``; without time-varying
        programmes one ``(0, time]`` row per release.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> from analysis.store import connect_readonly
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=500)
    >>> con = connect_readonly(db)
    >>> rows = counting_process_rows(con, ["age_at_release", "sex"])
    >>> list(rows.frame.columns), rows.categorical
    (['person_id', 'release_id', 'release_date', 'start', 'stop', 'event', 'age_at_release', 'sex'], {'sex': 'M'})
    >>> con.close()
    """
    rows = cox_frame(con, covariates, programs, exposure=exposure,
                     participation=participation, strata=strata, outcome=outcome,
                     selection=selection)
    covariates, programs, frame, data = rows.covariates, rows.programs, rows.frame, rows.data
    outcome, known, n_missing = rows.outcome, rows.known, rows.n_missing
    used = [*covariates, *programs, *([strata] if strata else [])]
    categorical = [c for c in covariates if known[c] == "categorical"
                   or c in CATEGORICAL_FIELDS or not _is_numeric(frame[c])]
    references = {c: reference_level(frame[c]) for c in categorical}
    if data.entry_col is None:
        start = np.zeros(len(frame))
        stop = frame[data.duration_col].to_numpy(dtype=float)
    else:
        start = frame[data.entry_col].to_numpy(dtype=float)
        stop = frame[data.duration_col].to_numpy(dtype=float)
    dropped = data.dropped_zero_time
    if data.entry_col is None:  # add_exposures drops them only when it splits releases
        dropped = int((stop <= 0).sum())
    out = frame.assign(start=start, stop=stop)[
        [*COUNTING_PROCESS_COLUMNS, *used]].loc[stop > start]
    out = out.sort_values(["release_id", "start"], kind="stable").reset_index(drop=True)
    out["event"] = out["event"].astype("int64")
    for column in ("start", "stop"):  # whole days, cut at whole days: written as integers
        if np.array_equal(out[column], np.round(out[column])):
            out[column] = out[column].astype("int64")
    for program in programs:
        out[program] = out[program].astype("int64")
    return ExportRows(
        "counting-process", out, outcome.resolve(con), selection or Selection(),
        tuple(covariates), tuple(programs), references, data.baseline_programs,
        data.time_varying_programs, strata=strata, exposure=exposure,
        participation=participation, n_releases=int(out["release_id"].nunique()),
        n_missing=n_missing, dropped_zero_time=dropped)


def _is_numeric(column: pd.Series) -> bool:
    return bool(pd.api.types.is_numeric_dtype(column) or pd.api.types.is_bool_dtype(column))


def reference_level(column: pd.Series) -> str:
    """The level :class:`~analysis.survival.cox.CoxModel` takes as reference.

    Its most frequent value as text, ties broken by sorted order (the engine's rule);
    R needs it for ``relevel``.

    Examples
    --------
    >>> reference_level(pd.Series(["M", "F", "M", "X"]))
    'M'
    >>> reference_level(pd.Series([2019, 2020, 2020, 2019]))
    '2019'
    """
    counts = column.dropna().astype(str).value_counts()
    if counts.empty:
        raise AnalysisError(f"covariate {column.name!r} has no known value")
    top = counts.max()
    return sorted(level for level, n in counts.items() if n == top)[0]
