"""Small conveniences of the public API that tie the data layer to the estimators."""

from __future__ import annotations

import os

import duckdb
import pandas as pd

from analysis.constants import DEFAULT_HORIZONS
from analysis.store import connect_readonly, resolve_db_path
from analysis.survival.episodes import Outcome, Selection


def open_study(db: str | os.PathLike[str] | None = None) -> duckdb.DuckDBPyConnection:
    """Open a study database read-only: ``db``, else ``$DESIST_DB``, else ``data/demo.duckdb``.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> from analysis.demo.build import build_demo
    >>> db = pathlib.Path(tempfile.mkdtemp()) / "demo.duckdb"
    >>> _ = build_demo(db, releases=1000)
    >>> con = open_study(db)
    >>> con.execute("SELECT count(*) FROM releases").fetchone()[0]
    1000
    """
    return connect_readonly(resolve_db_path(db))


def fixed_horizon_rates(
    con: duckdb.DuckDBPyConnection,
    horizons=DEFAULT_HORIZONS,
    by: str | None = None,
    outcome: Outcome | None = None,
    selection: Selection | None = None,
) -> pd.DataFrame:
    """The classic "% reoffending within N days" among releases with complete follow-up.

    Columns ``group, days, n, events, excluded, rate, lower, upper`` (exact binomial CI);
    show them beside the Kaplan–Meier values, which also use incomplete follow-up.
    """
    from analysis.survival.fixed_horizon import fixed_horizon_rates_from_db
    from analysis.survival.grouping import resolve_grouping

    grouping = resolve_grouping(con, by)
    # grouped on the raw values and labelled afterwards, as the Kaplan-Meier curves are
    return fixed_horizon_rates_from_db(
        con, horizons, outcome, selection, grouping.key_sql, grouping.params,
        label_sql=grouping.label_sql,
    )
