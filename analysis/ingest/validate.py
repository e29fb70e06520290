"""Checking a dataset folder against the data contract.

:func:`validate_dataset` reads every table file, checks columns, types, codes,
dates, duplicates and references between tables, and returns the parsed tables
with a :class:`ValidationReport`. It never writes anything.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from analysis.contract import (
    COVARIATE_NAME,
    PERSON_TABLES,
    RESERVED_COVARIATE_NAMES,
    TABLE_ORDER,
    TABLES,
    Column,
    Table,
    looks_like_direct_identifier,
    normalise_column_name,
)
from analysis.ingest.problems import Problem, ValidationReport
from analysis.ingest.readers import TableFile, find_table_files, read_table_file
from analysis.ingest.values import (
    control_character_mask,
    describe_control_character,
    look_alike_findings,
    normalise_text,
    scripts_of,
)

_ISO_DATE = r"^\d{4}-\d{2}-\d{2}$"
_EARLIEST_DATE = pd.Timestamp("1900-01-01")


@dataclass(frozen=True)
class KnownIds:
    """Identifiers already in the database, so that incremental imports can refer to them.

    ``persons`` holds pseudonyms; ``pseudonymize`` turns the file's raw ids into them.
    """

    persons: frozenset[str] = frozenset()
    programs: frozenset[str] = frozenset()
    releases: frozenset[str] = frozenset()
    covariate_kinds: dict[str, str] = field(default_factory=dict)
    pseudonymize: Callable[[pd.Series], pd.Series] | None = None


@dataclass
class ParsedTable:
    """A table after checking: typed values, a mask of rows without problems."""

    table: str
    source: TableFile
    frame: pd.DataFrame  # typed; one row per data row of the file
    row_ok: np.ndarray  # bool per row
    covariates: dict[str, str] = field(default_factory=dict)  # releases only: name -> kind


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
        Folder holding ``releases`` and optionally ``programs``, ``participation``
        and ``events`` files (CSV, Parquet or XLSX).
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
    report, _ = check_dataset(dataset_dir, today=today, known=known)
    return report


def check_dataset(
    dataset_dir: str | Path,
    *,
    today: dt.date | None = None,
    known: KnownIds | None = None,
    keep_cells: bool = True,
) -> tuple[ValidationReport, dict[str, ParsedTable]]:
    """Like :func:`validate_dataset`, and also return the parsed tables for the importer.

    With ``keep_cells=False`` each table's raw text cells are let go once it is checked
    (``source.cells`` is then empty): the typed frame is all an import without a rejects
    file needs, and the cells would double the memory of a national dataset.
    """
    folder = Path(dataset_dir)
    report = ValidationReport(dataset=str(folder))
    if not folder.is_dir():
        report.add(Problem("missing_file", str(folder), "this folder does not exist"))
        return report, {}
    today_ts = pd.Timestamp(today or dt.date.today())
    known = known or KnownIds()
    files, _ignored = find_table_files(folder)
    parsed: dict[str, ParsedTable] = {}
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
        source = read_table_file(name, candidates[0])
        if isinstance(source, Problem):
            report.add(source)
            continue
        report.files[name] = source.name
        report.rows_read[name] = len(source.cells)
        result = _check_table(table, source, report, today_ts, known)
        if result is not None and not keep_cells:
            result.source = dataclasses.replace(source, cells=source.cells.iloc[0:0])
        del source
        if result is not None:
            parsed[name] = result
            unusable.discard(name)
    _check_references(parsed, report, known, unusable)
    return report, parsed


# --------------------------------------------------------------------------- columns


def _check_header(table: Table, source: TableFile, report: ValidationReport, known: KnownIds):
    """Map header positions to contract/covariate names; None when the file is unusable."""
    names = [normalise_column_name(h) for h in source.header]
    usable = True
    seen: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in seen:
            report.add(
                Problem(
                    "duplicate_column",
                    source.name,
                    f"column '{name}' appears twice (positions {seen[name] + 1} and {position + 1})",
                    line=1,
                    column=name,
                    expected="each column once",
                )
            )
            usable = False
        seen.setdefault(name, position)
    for name in table.required_columns:
        if name not in seen:
            report.add(
                Problem(
                    "missing_column",
                    source.name,
                    f"required column '{name}' is missing",
                    line=1,
                    column=name,
                    expected="header with " + ", ".join(table.required_columns),
                )
            )
            usable = False
    covariates: dict[str, int] = {}
    for name, position in seen.items():
        if name in table.by_name:
            continue
        if table.name in PERSON_TABLES and looks_like_direct_identifier(name):
            report.add(
                Problem(
                    "identifier_column",
                    source.name,
                    f"column '{source.header[position]}' looks like a direct identifier; "
                    "names, ID numbers, addresses, phone numbers, e-mails and full dates of "
                    "birth must never be imported (use birth_year instead of a date of birth)",
                    line=1,
                    column=source.header[position],
                    expected="remove this column from the file",
                )
            )
            usable = False
        elif not table.extra_columns_are_covariates:
            report.add(
                Problem(
                    "unknown_column",
                    source.name,
                    f"column '{source.header[position]}' is not part of the {table.name} table",
                    line=1,
                    column=source.header[position],
                    expected="only " + ", ".join(table.column_names),
                )
            )
            usable = False
        elif name in RESERVED_COVARIATE_NAMES:
            report.add(
                Problem(
                    "bad_column_name",
                    source.name,
                    f"extra column '{source.header[position]}' has a name the database uses "
                    "for its own bookkeeping or the analyses for their own columns (reserved: "
                    + ", ".join(sorted(RESERVED_COVARIATE_NAMES)) + ")",
                    line=1,
                    column=source.header[position],
                    expected=f"another name for this column, e.g. '{name}_value'",
                )
            )
            usable = False
        elif not COVARIATE_NAME.match(name):
            report.add(
                Problem(
                    "bad_column_name",
                    source.name,
                    f"extra column '{source.header[position]}' cannot be used as a covariate name",
                    line=1,
                    column=source.header[position],
                    expected="a name of lower-case letters, digits and _ starting with a letter",
                )
            )
            usable = False
        else:
            covariates[name] = position
    return (seen, covariates) if usable else None


def _check_table(
    table: Table,
    source: TableFile,
    report: ValidationReport,
    today: pd.Timestamp,
    known: KnownIds,
) -> ParsedTable | None:
    header = _check_header(table, source, report, known)
    if header is None:
        return None
    positions, covariate_positions = header
    n = len(source.cells)
    if n == 0 and table.required_file:
        report.add(Problem("empty_file", source.name, "the file has a header but no data rows"))
        return None
    bad = np.zeros(n, dtype=bool)
    typed: dict[str, pd.Series] = {}

    def flag(kind: str, mask: np.ndarray, column: str, values: pd.Series, message, expected):
        rows = np.flatnonzero(mask)
        bad[rows] = True
        for row in rows:
            value = values.iloc[row]
            text = message(value) if callable(message) else message
            report.add(
                Problem(kind, source.name, text, int(source.lines[row]), column, value, expected),
                table=table.name,
                row=int(row),
            )

    raw_columns: dict[str, pd.Series] = {}
    for column in table.columns:
        if column.name in positions:
            raw = source.cells[positions[column.name]].astype(str)
            if column.kind in ("text", "code"):
                raw = _check_text(column.name, raw, _is_identifier(column), flag)
        else:
            raw = pd.Series([""] * n, dtype=str)
        raw_columns[column.name] = raw
        typed[column.name] = _check_column(column, raw, today, flag)
    _warn_look_alikes(table, source, typed, report)

    covariates: dict[str, str] = {}
    for name, position in covariate_positions.items():
        raw = _check_text(name, source.cells[position].astype(str), False, flag)
        numbers = pd.to_numeric(raw.where(raw != ""), errors="coerce")
        # 'inf' and '1e999' parse as numbers but cannot be analysed as one.
        numbers = numbers.where(np.isfinite(numbers.astype("float64")))
        numeric = bool((numbers.notna() | (raw == "")).all())
        previous = known.covariate_kinds.get(name)
        if previous == "numeric" and not numeric:
            report.add(
                Problem(
                    "conflicting_covariate",
                    source.name,
                    f"covariate '{name}' was numeric in earlier imports but holds text here",
                    line=1,
                    column=name,
                    expected="numbers only, as before",
                )
            )
            return None
        kind = previous or ("numeric" if numeric else "categorical")
        covariates[name] = kind
        typed[name] = numbers.astype("float64") if kind == "numeric" else raw.where(raw != "")

    frame = pd.DataFrame(typed)
    _check_rows(table, source, frame, raw_columns, flag)
    return ParsedTable(table.name, source, frame, ~bad, covariates)


def _is_identifier(column: Column) -> bool:
    """Identifiers and codes are matched exactly, so they get the strictest cleaning."""
    return column.kind == "code" or column.name.endswith("_id")


def _check_text(name: str, raw: pd.Series, identifier: bool, flag) -> pd.Series:
    """Refuse control characters; return the cells in NFC (see :mod:`analysis.ingest.values`)."""
    control = control_character_mask(raw, identifier=identifier)
    if control.any():
        flag(
            "control_character",
            control,
            name,
            raw,
            lambda v: f"the cell holds the control character "
            f"{describe_control_character(v, identifier=identifier)}, which screens do not show",
            "text without control characters"
            + ("" if identifier else " (a tab or a line break is allowed)"),
        )
    return normalise_text(raw, identifier=identifier)


def _warn_look_alikes(table: Table, source: TableFile, typed: dict, report) -> None:
    """Warn about identifiers that mix alphabets or read like another one (not an error)."""
    for column in table.columns:
        if not column.name.endswith("_id") or column.name not in typed:
            continue
        values = typed[column.name]
        mixed, pairs = look_alike_findings(values)
        for row in mixed:
            value = values.iloc[row]
            report.warn(
                Problem(
                    "mixed_scripts",
                    source.name,
                    f"{column.name} mixes letters of several alphabets ("
                    + ", ".join(sorted(scripts_of(value))).lower()
                    + "); a look-alike letter typed in another alphabet makes a different id",
                    int(source.lines[row]),
                    column.name,
                    value,
                )
            )
        for row, earlier in pairs:
            report.warn(
                Problem(
                    "look_alike_ids",
                    source.name,
                    f"{column.name} reads like '{values.iloc[earlier]}' on line "
                    f"{int(source.lines[earlier])} but differs in look-alike letters of another "
                    "alphabet; the two are imported as different ids",
                    int(source.lines[row]),
                    column.name,
                    values.iloc[row],
                )
            )


def _check_column(column: Column, raw: pd.Series, today: pd.Timestamp, flag) -> pd.Series:
    """Check one column's text cells and return them typed (NaN/NaT/None where empty)."""
    empty = (raw == "").to_numpy()
    if column.required:
        flag("missing_value", empty, column.name, raw, f"{column.name} is empty", column.expected())
    present = ~empty
    if column.kind == "date":
        shaped = raw.str.match(_ISO_DATE).fillna(False).to_numpy()
        parsed = pd.to_datetime(raw.where(shaped), format="%Y-%m-%d", errors="coerce")
        invalid = present & (parsed.isna().to_numpy() | (parsed < _EARLIEST_DATE).to_numpy())
        flag("bad_date", invalid, column.name, raw, "not a valid date", column.expected())
        future = present & ~invalid & (parsed > today).to_numpy()
        flag(
            "future_date",
            future,
            column.name,
            raw,
            f"{column.name} is after today ({today.date().isoformat()})",
            "a date that has already happened",
        )
        return parsed.where(~(invalid | future))
    if column.kind in ("integer", "number"):
        numbers = pd.to_numeric(raw.where(present), errors="coerce").astype("float64")
        # 'inf' and '1e999' parse as numbers; no contract column can hold them.
        invalid = present & ~np.isfinite(numbers.to_numpy())
        if column.kind == "integer":
            invalid |= present & ~np.isclose(numbers.fillna(0) % 1, 0)
        if column.minimum is not None:
            invalid |= present & (numbers < column.minimum).to_numpy()
        if column.maximum is not None:
            invalid |= present & (numbers > column.maximum).to_numpy()
        flag("bad_number", invalid, column.name, raw, "not a valid number", column.expected())
        return numbers.where(~invalid)
    if column.kind == "code":
        codes = set(column.codes or ())
        # Codes are case-insensitive for people typing them; stored as the contract spells them.
        upper = column.name == "sex"
        normal = raw.str.upper() if upper else raw.str.lower()
        invalid = present & ~normal.isin(codes).to_numpy()
        flag("unknown_code", invalid, column.name, raw, "unknown code", column.expected())
        result = normal.where(present & ~invalid)
        if column.default is not None:
            result = result.where(~empty, column.default)
        return result
    return raw if bool(present.all()) else raw.where(present)


def _check_rows(
    table: Table, source: TableFile, frame: pd.DataFrame, raw: dict[str, pd.Series], flag
) -> None:
    """Checks across the columns of a row, and duplicates within the file."""
    for later, earlier in (("follow_up_end", "release_date"), ("end_date", "start_date")):
        if later not in frame:
            continue
        wrong = (frame[later] < frame[earlier]).to_numpy()
        flag(
            "date_order",
            wrong,
            later,
            raw[later],
            f"{later} is before {earlier}",
            f"{later} on or after {earlier}",
        )
    key = list(table.key)
    keys = frame[key]
    complete = keys.notna().all(axis=1).to_numpy()
    duplicated = keys.duplicated(keep="first").to_numpy() & complete
    if not duplicated.any():
        return
    if len(key) == 1:
        first_line = dict(
            zip(
                keys[key[0]][~duplicated & complete],
                source.lines[~duplicated & complete],
                strict=True,
            )
        )
        flag(
            "duplicate_id",
            duplicated,
            key[0],
            keys[key[0]],
            lambda v: f"{key[0]} {v} already appears on line {first_line.get(v, '?')}",
            f"each {key[0]} once",
        )
    else:
        # Same person/programme/date (or person/date/type) twice: exact copies are dropped
        # quietly (counted); copies that disagree are an error.
        whole = frame.astype(str)
        exact = whole.duplicated(keep="first").to_numpy() & duplicated
        frame.attrs["exact_duplicates"] = exact
        conflicting = duplicated & ~exact
        flag(
            "duplicate_id",
            conflicting,
            " + ".join(key),
            # The user's own spelling of the key, not the parsed values.
            pd.DataFrame({k: raw[k] for k in key}).agg(" / ".join, axis=1),
            "the same key appears earlier with different values",
            "one row per " + " + ".join(key),
        )


# ------------------------------------------------------------------------ references


def _check_references(
    parsed: dict[str, ParsedTable],
    report: ValidationReport,
    known: KnownIds,
    unusable: frozenset[str] | set[str] = frozenset(),
):
    # A referenced table whose file is missing or unreadable is already a file-level
    # problem; flagging every row that points at it would bury that one message.
    releases = parsed.get("releases")
    valid_persons = _valid_ids(releases, "person_id")
    valid_releases = _valid_ids(releases, "release_id")
    programs = parsed.get("programs")
    valid_programs = _valid_ids(programs, "program_id")
    for name in ("participation", "events"):
        table = parsed.get(name)
        if table is None:
            continue
        frame = table.frame

        def refuse(kind, mask, column, message, expected, _table=table):
            _refuse(report, _table, kind, mask, column, message, expected)

        persons = frame["person_id"]
        unknown = persons.notna() & ~_isin(persons, valid_persons)
        if "releases" in unusable or (releases is None and not known.persons):
            unknown[:] = False
        if unknown.any() and known.persons and known.pseudonymize is not None:
            pseudonyms = known.pseudonymize(persons[unknown])
            unknown.loc[unknown] = ~_isin(pseudonyms, known.persons).to_numpy()
        refuse(
            "unknown_person",
            unknown.to_numpy(),
            "person_id",
            "this person_id has no valid row in releases (nor in the database)",
            "a person_id of the releases table",
        )
        if name == "participation":
            program = frame["program_id"]
            missing = program.notna() & ~_isin(program, valid_programs, known.programs)
            if "programs" in unusable:
                missing[:] = False
            refuse(
                "unknown_program",
                missing.to_numpy(),
                "program_id",
                "this program_id is not in programs (nor in the database)",
                "a program_id of the programs table",
            )
            release = frame["release_id"]
            missing = release.notna() & ~_isin(release, valid_releases, known.releases)
            if "releases" in unusable:
                missing[:] = False
            refuse(
                "unknown_release",
                missing.to_numpy(),
                "release_id",
                "this release_id is not in releases (nor in the database)",
                "a release_id of the releases table, or an empty cell",
            )


def _valid_ids(table: ParsedTable | None, column: str) -> pa.Array:
    """Distinct ids of the rows without problems, as Arrow text (no Python string per id)."""
    if table is None:
        return pa.array([], type=pa.string())
    ids = table.frame[column][table.row_ok].dropna()
    return pc.unique(pa.array(ids.astype(_TEXT), type=pa.string()))


_TEXT = pd.StringDtype(storage="pyarrow", na_value=np.nan)


def _isin(values: pd.Series, *pools) -> pd.Series:
    """``values.isin(union of pools)`` for large collections of ids, by Arrow's hash set.

    pandas' ``isin`` on text converts every id into a Python string first: seconds and
    gigabytes for ten million ids. Missing values are never in a pool.
    """
    arrays = [
        pool if isinstance(pool, pa.Array) else pa.array(list(pool), type=pa.string())
        for pool in pools
    ]
    value_set = pa.concat_arrays(arrays) if arrays else pa.array([], type=pa.string())
    found = pc.is_in(pa.array(values.astype(_TEXT), type=pa.string()), value_set=value_set)
    return pd.Series(found.fill_null(False).to_numpy(zero_copy_only=False), index=values.index)


def _refuse(report, table: ParsedTable, kind, mask, column, message, expected) -> None:
    """Record a reference problem for every row in ``mask`` and mark those rows invalid."""
    rows = np.flatnonzero(mask)
    table.row_ok[rows] = False
    for row in rows:
        problem = Problem(
            kind,
            table.source.name,
            message,
            int(table.source.lines[row]),
            column,
            str(table.frame[column].iloc[row]),
            expected,
        )
        report.add(problem, table=table.table, row=int(row))
