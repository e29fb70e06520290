"""Data page services: completeness, follow-up coverage, import log, database facts, methods.

Layer rule: this module belongs to the *services* layer (``analysis/views/``). It is pure
Python — it never imports streamlit — and every function takes ``(con, filters,
**options)`` and returns a small frozen dataclass or a tidy DataFrame that is already
disclosure-controlled with ``filters.min_cell``. The dashboard pages only display them.

Completeness and the import log describe whole tables (data quality is a property of
the database, not of a selection); follow-up coverage uses the sidebar selection. Counts
from 1 to ``k - 1`` are shown as ``"<k"``, with complementary suppression where a row
total is published.
"""

from __future__ import annotations

import re
from collections.abc import Hashable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import pandas as pd

from analysis.constants import DAYS_PER_YEAR
from analysis.contract import TABLE_ORDER
from analysis.disclosure import linked_suppression, rate_discloses
from analysis.impact.wording import SECONDARY_LABEL
from analysis.store.schema import SCHEMA_VERSION, one_row, schema_version
from analysis.survival.episodes import episodes_query, quote_ident
from analysis.views.filters import ViewFilters
from analysis.views.programs import suppress_with_total
from analysis.views.scope import serves

#: Documents whose sections the page shows as methodology, in order.
METHOD_DOCUMENTS: tuple[str, ...] = ("metrics.md", "impact.md")
#: Columns that are bookkeeping of the importer, not data.
BOOKKEEPING = ("batch_id",)
#: Follow-up bands (whole years available after release).
FOLLOW_UP_YEARS: tuple[int, ...] = (0, 1, 2, 3, 4, 5)
#: Tables (and the region outlines file) whose rows describe no person: their counts
#: of organisations, services and outlines are shown as they are.
DIRECTORY_TABLES: tuple[str, ...] = ("providers", "services", "region_boundaries")


def _count_text(value: int, k: int) -> str:
    return f"<{k}" if 0 < int(value) < k else str(int(value))


def _hidden_text(value: int, hidden: bool, k: int) -> str:
    if not hidden:
        return str(int(value))
    return f"<{k}" if 0 < int(value) < k else SECONDARY_LABEL


@serves("data")
def completeness(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> pd.DataFrame:
    """Rows and share of filled values of every column of the contract's tables.

    Returns
    -------
    DataFrame
        ``table, column, rows, missing, complete_pct``, the tables of
        :data:`DIRECTORY_TABLES` as they are (they count no one); ``rows`` and ``missing`` as text
        (``"<k"`` below ``k``, ``"hidden"`` when hidden so that ``rows - missing`` cannot
        reveal 1 to ``k - 1`` filled values), ``complete_pct`` rounded to 0.1 and capped
        at 99.9 while anything is missing (so "100.0" always means nothing missing),
        NaN when the filled or the missing values number 1 to ``k - 1``.
    """
    k, policy = filters.min_cell, filters.policy
    frames = []
    for table in TABLE_ORDER:
        columns = [r[0] for r in con.execute(
            "SELECT column_name FROM information_schema.columns WHERE table_name = ? "
            "ORDER BY ordinal_position", [table]).fetchall() if r[0] not in BOOKKEEPING]
        counts = ", ".join(f"count({quote_ident(c)})" for c in columns)
        row = one_row(con, f"SELECT count(*), {counts} FROM {quote_ident(table)}")
        rows = int(row[0])
        for column, filled in zip(columns, row[1:], strict=True):
            missing = rows - int(filled)
            pct = 100.0 if rows == 0 else 100.0 * int(filled) / rows
            if missing:
                pct = min(pct, 99.9)
            # rows = missing + filled: the share filled, or rows minus missing, would give
            # away a count of 1 to k - 1 on either side
            people = table not in DIRECTORY_TABLES  # the directory's rows are no one
            hidden = linked_suppression({"rows": rows, "missing": missing, "filled": int(filled)},
                                        [("rows", ["missing", "filled"])], policy,
                                        published=["rows", "missing"]) if people else set()
            shown_pct = rows > 0 and (not people or not rate_discloses(int(filled), rows,
                                                                        policy))
            frames.append({
                "table": table, "column": column,
                "rows": _hidden_text(rows, "rows" in hidden, k),
                "missing": _hidden_text(missing, "missing" in hidden, k),
                "complete_pct": round(pct, 1) if shown_pct or rows == 0 else float("nan")})
    return pd.DataFrame(frames, columns=["table", "column", "rows", "missing", "complete_pct"])


@dataclass(frozen=True)
class FollowUpCoverage:
    """How much follow-up the selected releases have.

    ``bands``: ``years_available`` ("0", "1", ... "5+") and ``releases`` (text,
    suppressed). ``complete``: ``years`` (1, 2, 3), ``share_pct`` — share of the
    selected releases with at least that many whole years of follow-up available (the
    bands from that one on)
    (NaN when fewer than ``k`` releases are selected, or when the share, times the
    shown total, would give away a hidden band or a count of 1 to ``k - 1``).
    """

    releases: str
    bands: pd.DataFrame
    complete: pd.DataFrame


@serves("data")
def follow_up_coverage(con: duckdb.DuckDBPyConnection, filters: ViewFilters
                       ) -> FollowUpCoverage:
    """Releases by whole years of follow-up available, and shares with complete 1/2/3 years.

    Follow-up available is ``follow_up_end - release_date``: the time reoffending could be
    observed, before any outcome, next release or death ends an episode.
    """
    sql, params = episodes_query(
        con, (), filters.selection,
        select=f"least(floor((follow_up_end - release_date) / {DAYS_PER_YEAR}), 5) AS years, "
               "follow_up_end - release_date AS days")
    frame = con.execute(
        f"SELECT CAST(years AS INTEGER) AS years, count(*) AS releases, "
        f"count(*) FILTER (WHERE days >= 365) AS y1, count(*) FILTER (WHERE days >= 730) AS y2,"
        f" count(*) FILTER (WHERE days >= 1095) AS y3 FROM ({sql}) GROUP BY ALL ORDER BY 1",
        params).df()
    total = int(frame["releases"].sum())
    counts = pd.DataFrame({"total": [total], **{
        str(y): [int(frame.loc[frame["years"] == y, "releases"].sum())] for y in FOLLOW_UP_YEARS}})
    bands_text = suppress_with_total(counts, "total", [str(y) for y in FOLLOW_UP_YEARS],
                                     filters.policy)
    bands = pd.DataFrame({
        "years_available": [str(y) if y < 5 else "5+" for y in FOLLOW_UP_YEARS],
        "releases": [bands_text[str(y)].iloc[0] for y in FOLLOW_UP_YEARS],
    })
    shares = []
    hidden_bands = {f"b{y}" for y in FOLLOW_UP_YEARS
                    if not bands_text[str(y)].iloc[0].isdigit()}
    hidden_shares = _hidden_shares(counts.iloc[0], filters.policy, hidden_bands)
    for years in (1, 2, 3):
        reached = int(sum(counts[str(y)].iloc[0] for y in FOLLOW_UP_YEARS if y >= years))
        # a share and its complement are counts of people once the total is shown
        masked = years in hidden_shares or rate_discloses(reached, total, filters.policy)
        share = 100.0 * reached / total if total and not masked else float("nan")
        shares.append({"years": years, "share_pct": round(share, 1)})
    return FollowUpCoverage(_count_text(total, filters.min_cell), bands, pd.DataFrame(shares))


def _hidden_shares(counts: pd.Series, policy, hidden_bands: set[str]) -> set[int]:
    """Horizons (years) whose share of releases followed that long must be hidden.

    A share times the shown total is a count (``reached_1 = band 1 + reached_2``...), so
    the shares and the bands form one linked table (:func:`linked_suppression`).
    """
    bands = [f"b{y}" for y in FOLLOW_UP_YEARS]
    values: dict[Hashable, int] = {"total": int(counts["total"]),
                                   **{f"b{y}": int(counts[str(y)]) for y in FOLLOW_UP_YEARS}}
    for years in (1, 2, 3):
        values[f"reached{years}"] = int(sum(values[f"b{y}"] for y in FOLLOW_UP_YEARS
                                            if y >= years))
    relations = [("total", ["b0", "reached1"]), ("reached1", ["b1", "reached2"]),
                 ("reached2", ["b2", "reached3"]), ("reached3", ["b3", "b4", "b5"])]
    if values["total"] < policy.k:
        return {1, 2, 3}
    hidden = linked_suppression(values, relations, policy, hidden=hidden_bands,
                                known=["total", *(b for b in bands if b not in hidden_bands)])
    return {int(v[len("reached"):]) for v in hidden if v.startswith("reached")}


@dataclass(frozen=True)
class ImportHistory:
    """The import log (one row per import) and the files of each import.

    Row counts are suppressed below ``k`` (except those of :data:`DIRECTORY_TABLES`,
    which count organisations and places); ``rows_read`` is the published total of
    inserted + updated + unchanged + rejected, and an import's counts the sums of its
    files', so complementary suppression applies across both tables (a count hidden only
    to protect another reads ``"hidden"``).
    """

    batches: pd.DataFrame
    files: pd.DataFrame


@serves("data")
def import_history(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> ImportHistory:
    """Every import (newest first) and what happened to each file's rows."""
    batches = con.execute(
        "SELECT l.batch_id, l.started_at, l.finished_at, l.mode, l.tool_version, "
        "l.rows_read, l.rows_inserted, l.rows_updated, "
        "l.rows_read - l.rows_inserted - l.rows_updated - l.rows_rejected AS rows_unchanged, "
        "l.rows_rejected FROM import_log l ORDER BY l.started_at DESC").df()
    files = con.execute(
        "SELECT batch_id, table_name, file_name, rows_read, rows_inserted, rows_updated, "
        "rows_unchanged, rows_rejected FROM import_files ORDER BY batch_id DESC, table_name"
    ).df()
    parts = ["rows_inserted", "rows_updated", "rows_unchanged", "rows_rejected"]
    return ImportHistory(*_suppressed_log(batches, files, parts, filters.policy))


def _suppressed_log(batches: pd.DataFrame, files: pd.DataFrame, parts: list[str], policy
                    ) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Both import tables as text, suppressed together.

    Each row's ``rows_read`` is the sum of its parts, and each import's counts are the
    sums of its files' (a file's 3 rejected rows would be the import's 43 minus another
    file's 40), so the two tables form one set of relations.
    """
    columns = ["rows_read", *parts]
    # (table, row, column) -> count
    values: dict[Hashable, int] = {}
    relations: list[tuple[Hashable, list[Hashable]]] = []
    for name, frame in (("batch", batches), ("file", files)):
        for i, row in enumerate(frame.itertuples(index=False)):
            for column in columns:
                values[(name, i, column)] = int(getattr(row, column) or 0)
            relations.append(((name, i, "rows_read"), [(name, i, c) for c in parts]))
    for b, batch_id in enumerate(batches["batch_id"]):
        mine = [i for i, f in enumerate(files["batch_id"]) if f == batch_id]
        if mine:
            relations += [(("batch", b, c), [("file", i, c) for i in mine]) for c in columns]
    # The services directory's rows count organisations, services and region outlines,
    # not people: shown as they are (a reader may know them from the printed guide).
    tables_of = files["table_name"] if "table_name" in files else []
    directory = [("file", i, column) for i, table in enumerate(tables_of)
                 if table in DIRECTORY_TABLES for column in columns]
    hidden = linked_suppression(values, relations, policy, known=directory)
    tables = []
    for name, frame in (("batch", batches), ("file", files)):
        out = frame.copy()
        for column in columns:
            out[column] = [_hidden_text(values[(name, i, column)],
                                        (name, i, column) in hidden, policy.k)
                           for i in range(len(frame))]
        tables.append(out)
    return tables[0], tables[1]


@dataclass(frozen=True)
class DatabaseFacts:
    """Schema version, pseudonymization key fingerprint and when the database was made."""

    schema_version: int
    program_schema_version: int
    key_fingerprint: str | None
    created_at: str | None
    metadata: pd.DataFrame


@serves("data")
def database_facts(con: duckdb.DuckDBPyConnection, filters: ViewFilters) -> DatabaseFacts:
    """What the ``metadata`` table and the schema version say about the database."""
    metadata = con.execute("SELECT key, value FROM metadata ORDER BY key").df()
    values = dict(zip(metadata["key"], metadata["value"], strict=True))
    return DatabaseFacts(schema_version(con), SCHEMA_VERSION, values.get("key_fingerprint"),
                         values.get("created_at"), metadata)


@dataclass(frozen=True)
class MethodSection:
    document: str
    title: str
    markdown: str


def docs_dir() -> Path:
    """The repository's ``docs`` folder (read at run time, never copied)."""
    return Path(__file__).resolve().parents[2] / "docs"


@serves("data")
def method_sections(con: duckdb.DuckDBPyConnection | None, filters: ViewFilters, *,
                    folder: str | None = None) -> tuple[MethodSection, ...]:
    """The ``##`` sections of :data:`METHOD_DOCUMENTS`, in order (empty when absent).

    Uses no data; it has the view shape so the page calls it like every other view.
    """
    root = Path(folder) if folder else docs_dir()
    sections: list[MethodSection] = []
    for name in METHOD_DOCUMENTS:
        path = root / name
        if not path.is_file():
            continue
        text = path.read_text(encoding="utf-8")
        # split before every level-2 heading; the text before the first is the preface
        for chunk in re.split(r"(?m)^(?=## )", text):
            if not chunk.startswith("## "):
                continue
            title, _, body = chunk.partition("\n")
            sections.append(MethodSection(name, title[3:].strip(), body.strip()))
    return tuple(sections)
