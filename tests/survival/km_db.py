"""Small hand-made study databases for the episode / KM / CLI tests (no importer needed)."""

from __future__ import annotations

import datetime as dt

import duckdb
import pandas as pd

from analysis.store.schema import migrate
from analysis.survival.follow_up import prepare_for_analysis

D = dt.date


def make_db(path=None, releases=(), events=(), programs=(), participation=(),
            covariates=None) -> duckdb.DuckDBPyConnection:
    """A migrated database holding the given rows, its follow-up table derived as by an import.

    ``releases`` rows are dicts (missing contract columns get defaults); ``events`` rows
    are ``(person_id, event_date, event_type)``; ``programs`` rows ``(program_id,
    setting)``; ``participation`` rows ``(person_id, program_id, start_date, release_id)``.
    ``covariates`` maps extra release column names to their kind.
    """
    con = duckdb.connect(str(path) if path else ":memory:")
    migrate(con)
    for name, kind in (covariates or {}).items():
        sql_type = "DOUBLE" if kind == "numeric" else "VARCHAR"
        con.execute(f'ALTER TABLE releases ADD COLUMN "{name}" {sql_type}')
        con.execute("INSERT INTO covariates VALUES (?, ?, 'b')", [name, kind])
    if releases:
        rel = pd.DataFrame([{"facility": "North", "follow_up_end": D(2023, 12, 31),
                             "follow_up_end_reason": "data_cutoff", "batch_id": "b", **r}
                            for r in releases])
        con.register("rel_df", rel)
        con.execute("INSERT INTO releases BY NAME SELECT * FROM rel_df")
        con.unregister("rel_df")
    for person, date, kind in events:
        con.execute("INSERT INTO events VALUES (?, ?, ?, NULL, 'b')", [person, date, kind])
    for program, setting in programs:
        con.execute("INSERT INTO programs (program_id, name, category, setting, batch_id) "
                    "VALUES (?, ?, 'education', ?, 'b')", [program, program, setting])
    for person, program, start, release in participation:
        con.execute("INSERT INTO participation (person_id, program_id, start_date, release_id,"
                    " batch_id) VALUES (?, ?, ?, ?, 'b')", [person, program, start, release])
    prepare_for_analysis(con, "b")
    return con
