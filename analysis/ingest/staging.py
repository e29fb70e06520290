"""Staging a table's checked rows in DuckDB, and the checks that need the whole table.

Validation reads each file block by block; every block's typed columns go to a TEMP
table of the DuckDB connection (the importer's temporary copy of the database, or an
in-memory database for ``desist validate``), so that Python never holds more than a
block of a table. What needs the whole table runs there as SQL: duplicate keys within
the file, references between tables, look-up of look-alike ids.

Raw person ids never enter DuckDB, not even a TEMP table (which DuckDB may spill to
disk): ``person_id`` is kept in Python as Arrow text while its table is read, then
pseudonymized (each distinct id hashed once) and staged as pseudonyms in a second TEMP
table, in row order. A message that quotes a person_id back gets it from the
pseudonymizer, which remembers the ids it hashed.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Iterator

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.contract import Table
from analysis.errors import DesistError
from analysis.ingest.checks import NUMBER_PREFIX, RAW_PREFIX, TEXT_PREFIX, keeps_raw_copy

_SQL_TYPES = {
    "text": "VARCHAR",
    "code": "VARCHAR",
    "date": "DATE",
    "number": "DOUBLE",
    "integer": "DOUBLE",  # checked whole; cast to INTEGER when written
    "list": "VARCHAR[]",  # regions, languages: written as lists (migration 006)
}
ROW = "_row"
#: The staged view's column of the 32-byte digest of each row's person (``person_id`` is
#: its hex): the whole-table checks compare digests, and spell only what they report.
PERSON_DIGEST = "_person_digest"
_PERSON_SLICE_ROWS = 1_000_000

#: DuckDB's default working memory for an import (and a validation). Rows are staged and
#: committed in slices and the refresh of ``release_follow_up`` spills. (Before schema
#: version 7 the tables' key indexes grew with the data: 10M releases with 10M events ran
#: out at 2 GB.)
DEFAULT_IMPORT_MEMORY_MB = 4000


def import_memory_mb() -> int:
    """DuckDB's working memory for an import, in MB: ``$DESIST_IMPORT_MEMORY_MB``, else
    :data:`DEFAULT_IMPORT_MEMORY_MB` (or half of the machine's memory when that is less;
    DuckDB's own default is 80%). Beyond it DuckDB spills to a folder beside the temporary
    copy (``<copy>.spill``, removed afterwards).

    Raises
    ------
    DesistError
        When the setting is not a whole number of at least 100.

    Examples
    --------
    >>> import_memory_mb() >= 100
    True
    """
    raw = os.environ.get("DESIST_IMPORT_MEMORY_MB", "").strip()
    if not raw:
        physical = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
        return min(DEFAULT_IMPORT_MEMORY_MB, max(500, physical // 2 // 1_000_000))
    try:
        megabytes = int(raw)
    except ValueError:
        megabytes = 0
    if megabytes < 100:
        raise DesistError(
            f"DESIST_IMPORT_MEMORY_MB={raw!r} is not a whole number of megabytes of at least "
            f"100; unset it to use {DEFAULT_IMPORT_MEMORY_MB:,} MB"
        )
    return megabytes


@contextlib.contextmanager
def scratch_connection() -> Iterator[duckdb.DuckDBPyConnection]:
    """An in-memory DuckDB for validating without a database (spills to a private folder)."""
    spill = tempfile.mkdtemp(prefix="desist-validate-")
    con = duckdb.connect(":memory:", config={"memory_limit": f"{import_memory_mb()}MB",
                                             "temp_directory": spill})
    try:
        yield con
    finally:
        con.close()
        shutil.rmtree(spill, ignore_errors=True)


def _q(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _compared(name: str) -> str:
    """The staged column a whole-table check compares for ``name``: the person's digest
    for ``person_id`` (32 bytes, not the 64 hex digits made for every row), else it."""
    return PERSON_DIGEST if name == "person_id" else _q(name)


class Stage:
    """The staged rows of one table: ``cols`` (every column but person_id), ``persons``."""

    def __init__(self, con: duckdb.DuckDBPyConnection, table: Table, covariates: list[str]):
        self.con = con
        self.table = table
        self.covariates = covariates
        self.cols = f"desist_stage_{table.name}"
        self.persons = f"desist_stage_{table.name}_persons"
        self.view = f"desist_staged_{table.name}"
        self.has_persons = "person_id" in table.by_name
        definitions = [f"{ROW} BIGINT"]
        for column in table.columns:
            if column.name != "person_id":
                definitions.append(f"{_q(column.name)} {_SQL_TYPES[column.kind]}")
            if keeps_raw_copy(column, table):
                definitions.append(f"{_q(RAW_PREFIX + column.name)} VARCHAR")
        for name in covariates:
            definitions += [f"{_q(NUMBER_PREFIX + name)} DOUBLE", f"{_q(TEXT_PREFIX + name)} VARCHAR"]
        self._casts = ", ".join(
            f"CAST({name} AS {kind}) AS {name}"
            for name, kind in (d.rsplit(" ", 1) for d in definitions)
        )
        self.drop()
        con.execute(f"CREATE TEMP TABLE {self.cols} ({', '.join(definitions)})")
        if self.has_persons:
            # 32-byte digests, written as the 64-digit pseudonym by the view: half the
            # memory, and no Python string per row
            con.execute(f"CREATE TEMP TABLE {self.persons} ({ROW} BIGINT, digest BLOB)")

    def drop(self) -> None:
        self.con.execute(f"DROP VIEW IF EXISTS {self.view}")
        for name in (self.cols, self.persons):
            self.con.execute(f"DROP TABLE IF EXISTS {name}")

    def append(self, typed: dict[str, pd.Series], first_row: int) -> None:
        """Stage one checked block (its person_id is staged later, as pseudonyms)."""
        n = len(next(iter(typed.values()))) if typed else 0
        frame = pd.DataFrame({k: v.reset_index(drop=True) for k, v in typed.items()
                              if k != "person_id"})
        frame.insert(0, ROW, np.arange(first_row, first_row + n, dtype=np.int64))
        block = pa.Table.from_pandas(frame, preserve_index=False)
        del frame
        self.con.register("desist_block", block)
        try:
            self.con.execute(f"INSERT INTO {self.cols} BY NAME SELECT {self._casts} FROM desist_block")
        finally:
            self.con.unregister("desist_block")

    def stage_persons(self, raw_persons: pa.ChunkedArray, pseudonymizer) -> None:
        """Stage the table's person_id as pseudonyms, in row order; then make the view."""
        if self.has_persons:
            first = 0
            for digests in pseudonymizer.in_slices(raw_persons, _PERSON_SLICE_ROWS,
                                                   as_hex=False):
                if not len(digests):
                    continue
                rows = pa.array(np.arange(first, first + len(digests), dtype=np.int64))
                self.con.register("desist_block", pa.table({ROW: rows, "digest": digests}))
                try:
                    self.con.execute(f"INSERT INTO {self.persons} SELECT * FROM desist_block")
                finally:
                    self.con.unregister("desist_block")
                first += len(digests)
            self._make_view()
        else:
            self.con.execute(f"CREATE TEMP VIEW {self.view} AS SELECT * FROM {self.cols}")

    def _make_view(self) -> None:
        # Both tables were filled in row order: a positional join costs a scan, where a
        # join on the row number costs a hash table of every row. Checked once, and
        # joined by row number if DuckDB ever returned them in another order.
        person = f"p.digest AS {PERSON_DIGEST}, lower(hex(p.digest)) AS person_id"
        positional = (f"SELECT c.*, {person} FROM {self.cols} c POSITIONAL JOIN "
                      f"{self.persons} p")
        misaligned = self.con.execute(
            f"SELECT count(*) FROM (SELECT c.{ROW} AS a, p.{ROW} AS b FROM {self.cols} c "
            f"POSITIONAL JOIN {self.persons} p) WHERE a IS DISTINCT FROM b"
        ).fetchall()[0][0]
        body = positional if not misaligned else (
            f"SELECT c.*, {person} FROM {self.cols} c JOIN {self.persons} p USING ({ROW})")
        self.con.execute(f"CREATE TEMP VIEW {self.view} AS {body}")

    # ------------------------------------------------------------------ whole-table checks

    def duplicate_single_keys(self) -> list[tuple[int, str, int]]:
        """(row, key value, first row with that key) for each repeat of a one-column key."""
        key = _q(self.table.key[0])
        # Repeated keys first (one aggregation): usually none, and the windows then run
        # over no rows.
        return self.con.execute(
            f"WITH repeated AS (SELECT {key} FROM {self.view} WHERE {key} IS NOT NULL "
            f"GROUP BY {key} HAVING count(*) > 1) "
            f"SELECT {ROW}, {key}, first_value({ROW}) OVER w FROM {self.view} "
            f"SEMI JOIN repeated USING ({key}) "
            f"WINDOW w AS (PARTITION BY {key} ORDER BY {ROW}) "
            f"QUALIFY row_number() OVER w > 1 ORDER BY {ROW}"
        ).fetchall()

    def duplicate_composite_keys(self) -> list[tuple]:
        """(row, exact copy of an earlier row?, the key's cells as written but person_id)."""
        key = [_compared(k) for k in self.table.key]
        whole = ", ".join(PERSON_DIGEST if c.name == "person_id" else
                          f"CAST({_q(c.name)} AS VARCHAR)" for c in self.table.columns)
        spelled = []
        for name in self.table.key:
            column = self.table.by_name[name]
            if name == "person_id":
                spelled.append("person_id")
            elif column.kind == "code":
                spelled.append(_q(RAW_PREFIX + name))
            elif column.kind == "date":
                spelled.append(f"strftime({_q(name)}, '%Y-%m-%d')")
            else:
                spelled.append(_q(name))
        keys = ", ".join(key)
        return self.con.execute(
            f"WITH repeated AS (SELECT {keys} FROM {self.view} "
            f"WHERE {' AND '.join(f'{k} IS NOT NULL' for k in key)} "
            f"GROUP BY ALL HAVING count(*) > 1) "
            f"SELECT {ROW}, row_number() OVER (PARTITION BY {whole} ORDER BY {ROW}) > 1, "
            f"{', '.join(spelled)} FROM {self.view} SEMI JOIN repeated USING ({keys}) "
            f"QUALIFY row_number() OVER (PARTITION BY {keys} ORDER BY {ROW}) > 1 "
            f"ORDER BY {ROW}"
        ).fetchall()

    def first_rows_of(self, column: str, values: list[str]) -> dict[str, int]:
        """First row holding each of ``values`` in ``column`` (values not found are left out)."""
        if not values:
            return {}
        self.con.register("desist_values", pa.table({"v": pa.array(values, pa.string())}))
        try:
            rows = self.con.execute(
                f"SELECT {_q(column)}, min({ROW}) FROM {self.view} WHERE {_q(column)} IN "
                f"(SELECT v FROM desist_values) GROUP BY ALL"
            ).fetchall()
        finally:
            self.con.unregister("desist_values")
        return {value: int(row) for value, row in rows}

    def rows_not_in(self, column: str, pools: list[tuple[str, str]],
                    extra: pa.Array | None) -> list[tuple[int, str]]:
        """(row, value) of rows whose ``column`` is set and in none of the pools.

        Each pool is ``(view, column)`` of the valid rows of another staged table; ``extra``
        holds ids already in the database. People are compared by their digests (the
        pseudonyms of ``extra`` are read back into digests).
        """
        compared = _compared(column)
        known = "unhex(v)" if column == "person_id" else "v"
        conditions = [f"s.{compared} IS NOT NULL"]
        for view, pool_column in pools:
            pooled = _compared(pool_column)
            conditions.append(f"s.{compared} NOT IN (SELECT {pooled} FROM {view} "
                              f"WHERE {pooled} IS NOT NULL)")
        self.con.register("desist_known", pa.table({"v": extra if extra is not None
                                                    else pa.array([], pa.string())}))
        try:
            return self.con.execute(
                f"SELECT s.{ROW}, s.{_q(column)} FROM {self.view} s WHERE "
                f"{' AND '.join(conditions)} AND s.{compared} NOT IN (SELECT {known} FROM "
                f"desist_known WHERE v IS NOT NULL) ORDER BY s.{ROW}"
            ).fetchall()
        finally:
            self.con.unregister("desist_known")

    def valid_view(self, bad_rows: np.ndarray) -> str:
        """A view of the rows without problems (for references to this table)."""
        name = f"desist_valid_{self.table.name}"
        skip = f"desist_bad_{self.table.name}"
        self.con.execute(f"DROP VIEW IF EXISTS {name}")
        self.con.execute(f"DROP TABLE IF EXISTS {skip}")
        self.con.register("desist_rows", pa.table({ROW: pa.array(bad_rows, pa.int64())}))
        try:
            self.con.execute(f"CREATE TEMP TABLE {skip} AS SELECT {ROW} FROM desist_rows")
        finally:
            self.con.unregister("desist_rows")
        self.con.execute(
            f"CREATE TEMP VIEW {name} AS SELECT s.* FROM {self.view} s ANTI JOIN {skip} b "
            f"USING ({ROW})"
        )
        return name

    def select_for_import(self, kinds: dict[str, str], skipped_rows: np.ndarray) -> str:
        """SQL giving the rows to write (contract types, chosen covariate columns), in order."""
        casts = []
        for column in self.table.columns:
            kind = "INTEGER" if column.kind == "integer" else _SQL_TYPES[column.kind]
            casts.append(f"CAST(s.{_q(column.name)} AS {kind}) AS {_q(column.name)}")
        for name in self.covariates:
            source = NUMBER_PREFIX if kinds[name] == "numeric" else TEXT_PREFIX
            casts.append(f"s.{_q(source + name)} AS {_q(name)}")
        if not len(skipped_rows):  # the usual case: every row, in the order staged
            return f"SELECT {', '.join(casts)}, s.{ROW} FROM {self.view} s"
        skip = f"desist_skip_{self.table.name}"
        self.con.execute(f"DROP TABLE IF EXISTS {skip}")
        self.con.register("desist_rows", pa.table({ROW: pa.array(skipped_rows, pa.int64())}))
        try:
            self.con.execute(f"CREATE TEMP TABLE {skip} AS SELECT {ROW} FROM desist_rows")
        finally:
            self.con.unregister("desist_rows")
        return (f"SELECT {', '.join(casts)}, s.{ROW} FROM {self.view} s ANTI JOIN {skip} k "
                f"USING ({ROW}) ORDER BY s.{ROW}")
