"""Checking a dataset folder against the data contract.

:func:`validate_dataset` reads every table file, checks columns, types, codes,
dates, duplicates and references between tables, and returns a
:class:`ValidationReport`. It never writes anything.

Each file is read block by block (:mod:`analysis.ingest.readers`); each block is
checked (:mod:`analysis.ingest.checks`) and staged in DuckDB with its person ids
pseudonymized (:mod:`analysis.ingest.staging`), so that memory does not grow with the
file: what needs the whole table (duplicate keys, references, look-alike ids) is
checked there in SQL. The importer stages into its temporary copy of the database and
writes from the staged tables; ``desist validate`` stages into an in-memory database.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pyarrow as pa

from analysis.contract import TABLE_ORDER, TABLES, Table
from analysis.ingest.boundaries import (
    BOUNDARIES_TABLE,
    ParsedBoundaries,
    find_boundaries_file,
    read_boundaries,
    warn_regions_without_releases,
)
from analysis.ingest.checks import Findings, check_block
from analysis.ingest.headers import check_header
from analysis.ingest.problems import Problem, ValidationReport
from analysis.ingest.pseudonymize import Pseudonymizer, new_key
from analysis.ingest.readers import (
    ReadAgainWithPandas,
    TableFile,
    TableStream,
    UnreadableFile,
    find_table_files,
    link_outside_folder,
    open_table_file,
    sha256_of,
)
from analysis.ingest.references import check_references
from analysis.ingest.service_references import check_service_references, known_region_names
from analysis.ingest.staging import Stage, scratch_connection
from analysis.ingest.values import look_alike_findings, look_alike_skeleton, scripts_of

#: Site of the problems found after the blocks (duplicates): after every block check.
_AFTER_BLOCKS = 1 << 40


@dataclass(frozen=True)
class KnownIds:
    """Identifiers already in the database, so that incremental imports can refer to them.

    ``persons`` holds pseudonyms made by ``pseudonymizer`` (``pseudonymize`` is its
    :meth:`~analysis.ingest.pseudonymize.Pseudonymizer.series`).
    """

    persons: frozenset[str] = frozenset()
    programs: frozenset[str] = frozenset()
    releases: frozenset[str] = frozenset()
    #: Kinds of the covariates of ``releases`` (the ``covariates`` table).
    covariate_kinds: dict[str, str] = field(default_factory=dict)
    #: Kinds of the extra columns ``expected_releases`` already has (from their storage).
    expected_covariate_kinds: dict[str, str] = field(default_factory=dict)
    pseudonymize: Callable[[pd.Series], pd.Series] | None = None
    pseudonymizer: Pseudonymizer | None = None
    #: The services directory already stored: provider ids, service id -> (valid_from,
    #: valid_to), and the release_region values of releases and expected_releases.
    providers: frozenset[str] = frozenset()
    services: dict[str, tuple[dt.date | None, dt.date | None]] = field(default_factory=dict)
    regions: frozenset[str] = frozenset()
    #: The database holding these ids: a referral's release dates are read from it
    #: (attached read-only) for just the people it names, not copied here whole.
    database: Path | None = None


@dataclass
class ParsedTable:
    """A table after checking: its rows staged in DuckDB, a mask of rows without problems."""

    table: str
    source: TableFile  # header, line numbers; the text cells only with keep_cells
    rows: int
    row_ok: np.ndarray  # bool per row
    #: releases and expected_releases: extra column name -> kind
    covariates: dict[str, str] = field(default_factory=dict)
    stage: Stage | None = None
    #: rows that repeat an earlier row exactly (events, participation): dropped quietly
    exact_duplicates: np.ndarray | None = None


class ParsedTables(dict[str, "ParsedTable"]):
    """The checked tables by name, and the checked region boundaries file (if any).

    The boundaries are not a table (no rows to reject, no staging), so they are kept
    beside the tables rather than among them.
    """

    boundaries: ParsedBoundaries | None = None


def validate_dataset(
    dataset_dir: str | Path,
    *,
    today: dt.date | None = None,
    known: KnownIds | None = None,
) -> ValidationReport:
    """Check a dataset folder against the data contract; write nothing.

    Parameters
    ----------
    dataset_dir
        Folder holding ``releases`` and optionally ``programs``, ``participation``,
        ``events``, ``expected_releases``, ``providers``, ``services`` and ``referrals``
        files (CSV, Parquet or XLSX), and the region outlines ``regions.geojson``.
    today
        Dates after this day are refused (default: the computer's date).
    known
        Identifiers already in the target database (used by ``desist import``).

    Returns
    -------
    ValidationReport
        ``report.ok`` is True when nothing is wrong.

    Examples
    --------
    >>> import tempfile, pathlib
    >>> folder = pathlib.Path(tempfile.mkdtemp())
    >>> _ = (folder / "releases.csv").write_text(
    ...     "release_id,person_id,release_date,facility,follow_up_end\\n"
    ...     "R1,P1,2021-03-04,North,2019-01-01\\n")
    >>> report = validate_dataset(folder, today=dt.date(2024, 1, 1))
    >>> print(report.problems[0])  # doctest: +ELLIPSIS
    releases.csv, line 2, column 'follow_up_end': follow_up_end is before release_date (found ...
    """
    report, _ = check_dataset(dataset_dir, today=today, known=known, keep_cells=False)
    return report


def check_dataset(
    dataset_dir: str | Path,
    *,
    today: dt.date | None = None,
    known: KnownIds | None = None,
    keep_cells: bool = True,
    con: duckdb.DuckDBPyConnection | None = None,
    pseudonymizer: Pseudonymizer | None = None,
) -> tuple[ValidationReport, ParsedTables]:
    """Like :func:`validate_dataset`, and also return the checked tables for the importer.

    The rows are staged in TEMP tables of ``con`` (the importer's temporary copy; by
    default an in-memory database, closed on return), with person ids pseudonymized by
    ``pseudonymizer`` (default: the one of ``known``, else a throw-away key). With
    ``keep_cells=False`` the raw text cells are let go block by block (``source.cells``
    is then empty): only the rejects file of ``--skip-invalid`` needs them.
    """
    known = known or KnownIds()
    if con is None:
        with scratch_connection() as scratch:
            return check_dataset(dataset_dir, today=today, known=known, keep_cells=keep_cells,
                                 con=scratch, pseudonymizer=pseudonymizer)
    pseudonymizer = pseudonymizer or known.pseudonymizer or Pseudonymizer(new_key())
    folder = Path(dataset_dir)
    report = ValidationReport(dataset=str(folder))
    if not folder.is_dir():
        report.add(Problem("missing_file", str(folder), "this folder does not exist"))
        return report, ParsedTables()
    today_ts = pd.Timestamp(today or dt.date.today())
    files, _ignored = find_table_files(folder)
    parsed = ParsedTables()
    unusable: set[str] = set()
    for name in TABLE_ORDER:
        table = TABLES[name]
        candidates = files[name]
        if not candidates:
            if table.required_file:
                report.add(
                    Problem(
                        "missing_file",
                        f"{name}.csv",
                        f"the dataset has no {name} file",
                        expected=f"{name}.csv, {name}.parquet or {name}.xlsx in {folder}",
                    )
                )
            continue
        # Until proven usable: a table whose file cannot be read cannot be referred to.
        unusable.add(name)
        if len(candidates) > 1:
            report.add(
                Problem(
                    "ambiguous_file",
                    candidates[0].name,
                    "several files for the same table: " + ", ".join(p.name for p in candidates),
                    expected="exactly one file per table",
                )
            )
            continue
        context = _Context(report, today_ts, known, con, pseudonymizer, keep_cells,
                           _kinds_before(name, known, parsed))
        result = _stage_table(table, candidates[0], context)
        if result is not None:
            parsed[name] = result
            unusable.discard(name)
    check_references(parsed, report, known, unusable, pseudonymizer)
    check_service_references(parsed, report, known, unusable, pseudonymizer)
    boundaries_file = find_boundaries_file(folder)
    if boundaries_file is not None:
        parsed.boundaries = _check_boundaries(boundaries_file, parsed, report, known, con,
                                              unusable)
    return report, parsed


def _check_boundaries(path: Path, parsed: ParsedTables, report: ValidationReport,
                      known: KnownIds, con, unusable: set[str]) -> ParsedBoundaries | None:
    """Check the region outlines; warn about regions no release goes to."""
    outside = link_outside_folder(path)
    if outside is not None:
        report.add(outside)
        return None
    boundaries = read_boundaries(path, report)
    if boundaries is None:
        return None
    report.files[BOUNDARIES_TABLE] = path.name
    report.rows_read[BOUNDARIES_TABLE] = boundaries.features
    if not ({"releases", "expected_releases"} & unusable):
        warn_regions_without_releases(boundaries, known_region_names(con, parsed, known),
                                      report)
    return boundaries


@dataclass
class _Context:
    report: ValidationReport
    today: pd.Timestamp
    known: KnownIds
    con: duckdb.DuckDBPyConnection
    pseudonymizer: Pseudonymizer
    keep_cells: bool
    #: covariate -> (kind it must keep, where that kind comes from, for the message)
    kinds_before: dict[str, tuple[str, str]] = field(default_factory=dict)


def _kinds_before(name: str, known: KnownIds,
                  parsed: dict[str, ParsedTable]) -> dict[str, tuple[str, str]]:
    """The kinds a table's covariates must keep: those of earlier imports; for
    ``expected_releases`` also those of ``releases`` (this import's, else the stored
    ones), so that a covariate means the same in both tables."""
    if name == "releases":
        return {c: (kind, "in earlier imports") for c, kind in known.covariate_kinds.items()}
    if name != "expected_releases":
        return {}
    releases = parsed.get("releases")
    release_kinds = {**known.covariate_kinds, **(releases.covariates if releases else {})}
    return {
        **{c: (kind, "in releases") for c, kind in release_kinds.items()},
        # What is stored already wins: a number column cannot take text.
        **{c: (kind, "in earlier imports of expected_releases")
           for c, kind in known.expected_covariate_kinds.items()},
    }


def _stage_table(table: Table, path: Path, context: _Context) -> ParsedTable | None:
    """Read, check and stage one file; None (problems reported) when it is unusable."""
    for arrow in (True, False):
        stream = open_table_file(table.name, path, arrow=arrow)
        if isinstance(stream, Problem):
            context.report.add(stream)
            return None
        try:
            return _stage_blocks(table, stream, context)
        except ReadAgainWithPandas:
            continue  # Arrow found an irregular row part-way: pandas names the line
        except UnreadableFile as exc:
            context.report.add(exc.problem)
            return None
    raise AssertionError("pandas' reading never asks to read again")


def _stage_blocks(table: Table, stream: TableStream, context: _Context) -> ParsedTable | None:
    report = context.report
    # Header problems are reported once the whole file is read: a cell over the length
    # limit refuses the file first (as when files were read whole).
    header_report = ValidationReport(dataset=report.dataset)
    header = check_header(table, stream.name, stream.header, header_report)
    positions, covariate_positions = header if header is not None else ({}, {})
    stage = Stage(context.con, table, list(covariate_positions)) if header is not None else None
    findings = Findings()
    bad_parts: list[np.ndarray] = []
    cells_parts: list[pd.DataFrame] = []
    persons: list[pa.Array] = []
    numeric = dict.fromkeys(covariate_positions, True)
    id_columns = [c.name for c in table.columns if c.name.endswith("_id")]
    non_ascii: dict[str, dict[str, int]] = {c: {} for c in id_columns}
    try:
        for block in stream.blocks():
            first_row = stream.rows - len(block)
            if context.keep_cells:
                cells_parts.append(block)
            if stage is None or stream.has_long_cell:
                continue  # refused anyway: only count the rows and measure the cells
            bad = np.zeros(len(block), dtype=bool)
            checked = check_block(table, positions, covariate_positions, block, context.today,
                                  findings.flagger(first_row, bad), findings.covariate_sites)
            for name in id_columns:
                _collect_non_ascii(checked.typed[name], first_row, non_ascii[name])
            if stage.has_persons:
                persons.append(pa.array(checked.typed["person_id"], type=pa.large_string(),
                                        from_pandas=True))
            stage.append(checked.typed, first_row)
            bad_parts.append(bad)
            for name, all_numbers in checked.numeric.items():
                numeric[name] = numeric[name] and all_numbers
            del checked, block
    except BaseException:
        if stage is not None:
            stage.drop()
        raise
    lines = stream.line_numbers()
    too_long = stream.cell_length_problem(lines)
    if too_long is not None or stage is None:
        if stage is not None:
            stage.drop()
        if too_long is not None:
            report.add(too_long)
            return None
    report.files[table.name] = stream.name
    report.rows_read[table.name] = stream.rows
    for problem in header_report.problems:
        report.add(problem)
    if stage is None:
        return None
    if stream.rows == 0 and table.required_file:
        report.add(Problem("empty_file", stream.name, "the file has a header but no data rows"))
        stage.drop()
        return None
    raw_persons = pa.chunked_array(persons, type=pa.large_string())
    del persons
    stage.stage_persons(raw_persons, context.pseudonymizer)
    bad = np.concatenate(bad_parts) if bad_parts else np.zeros(0, dtype=bool)
    _warn_look_alikes(table, stream.name, lines, non_ascii, stage, context, report)
    kinds = _covariate_kinds(table, stream.name, lines, numeric, findings, context)
    if kinds is None:
        stage.drop()
        return None
    exact = _check_duplicates(table, stage, lines, findings, bad, raw_persons)
    findings.report_to(report, table.name, stream.name, lines)
    cells = (pd.concat(cells_parts, ignore_index=True) if cells_parts
             else pd.DataFrame(columns=range(len(stream.header))))
    source = TableFile(table.name, stream.path, sha256_of(stream.path), stream.header, cells,
                       lines)
    return ParsedTable(table.name, source, stream.rows, ~bad, kinds, stage, exact)


def _collect_non_ascii(values: pd.Series, first_row: int, found: dict[str, int]) -> None:
    """Remember the first row of every identifier with a non-ASCII character."""
    special = ~values.fillna("").astype(str).str.isascii().to_numpy(dtype=bool)
    for row in np.flatnonzero(special):
        found.setdefault(values.iloc[row], first_row + int(row))


def _covariate_kinds(table, file_name, lines, numeric, findings, context) -> dict | None:
    """Each covariate's kind; None (problem reported) if one conflicts with earlier imports
    (or, in ``expected_releases``, with ``releases``)."""
    kinds: dict[str, str] = {}
    for name, all_numbers in numeric.items():
        previous, where = context.kinds_before.get(name, (None, ""))
        if previous == "numeric" and not all_numbers:
            findings.report_to(context.report, table.name, file_name, lines,
                               before_site=findings.covariate_sites.get(name, -1) + 1)
            context.report.add(
                Problem(
                    "conflicting_covariate",
                    file_name,
                    f"covariate '{name}' was numeric {where} but holds text here",
                    line=1,
                    column=name,
                    expected="numbers only, as before",
                )
            )
            return None
        kinds[name] = previous or ("numeric" if all_numbers else "categorical")
    return kinds


def _check_duplicates(table, stage, lines, findings, bad, raw_persons) -> np.ndarray | None:
    """Repeated keys within the file (SQL over the staged rows); the exact copies' mask."""
    key = list(table.key)
    if len(key) == 1:
        for row, value, first in stage.duplicate_single_keys():
            bad[row] = True
            findings.add_late(_AFTER_BLOCKS, row, "duplicate_id", key[0], value,
                              f"{key[0]} {value} already appears on line {int(lines[first])}",
                              f"each {key[0]} once")
        return None
    # Same person/programme/date (or person/date/type) twice: exact copies are dropped
    # quietly (counted); copies that disagree are an error.
    exact = np.zeros(len(bad), dtype=bool)
    for row, is_exact, *spelled in stage.duplicate_composite_keys():
        if is_exact:
            exact[row] = True
            continue
        bad[row] = True
        # The user's own spelling of the key, not the parsed values.
        if "person_id" in key:
            spelled[key.index("person_id")] = raw_persons[row].as_py()
        findings.add_late(_AFTER_BLOCKS, row, "duplicate_id", " + ".join(key),
                          " / ".join(spelled), "the same key appears earlier with different values",
                          "one row per " + " + ".join(key))
    return exact if exact.any() else None


def _warn_look_alikes(table, file_name, lines, non_ascii, stage, context, report) -> None:
    """Warn about identifiers that mix alphabets or read like another one (not an error).

    Only identifiers with a non-ASCII character can, and the ASCII ids they read like
    are looked up in the staged rows.
    """
    for column in table.columns:
        found = non_ascii.get(column.name)
        if not found:
            continue
        targets = sorted({look_alike_skeleton(v) for v in found} - set(found))
        targets = [t for t in targets if t.isascii()]
        if column.name == "person_id":
            hashed = context.pseudonymizer.series(pd.Series(targets, dtype=object)).tolist()
            rows = stage.first_rows_of("person_id", hashed)
            matched = {t: rows[h] for t, h in zip(targets, hashed, strict=True) if h in rows}
        else:
            matched = stage.first_rows_of(column.name, targets)
        ordered = sorted({**found, **matched}.items(), key=lambda item: item[1])
        values = pd.Series([value for value, _ in ordered], dtype=object)
        first_rows = [row for _, row in ordered]
        mixed, pairs = look_alike_findings(values)
        for i in mixed:
            value = values.iloc[i]
            report.warn(
                Problem(
                    "mixed_scripts",
                    file_name,
                    f"{column.name} mixes letters of several alphabets ("
                    + ", ".join(sorted(scripts_of(value))).lower()
                    + "); a look-alike letter typed in another alphabet makes a different id",
                    int(lines[first_rows[i]]),
                    column.name,
                    value,
                )
            )
        for i, earlier in pairs:
            report.warn(
                Problem(
                    "look_alike_ids",
                    file_name,
                    f"{column.name} reads like '{values.iloc[earlier]}' on line "
                    f"{int(lines[first_rows[earlier]])} but differs in look-alike letters of "
                    "another alphabet; the two are imported as different ids",
                    int(lines[first_rows[i]]),
                    column.name,
                    values.iloc[i],
                )
            )
