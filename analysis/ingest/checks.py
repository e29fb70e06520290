"""Checks of one block of rows: control characters, types, ranges, codes, dates, date order.

Validation reads a table file block by block (:mod:`analysis.ingest.readers`) and runs
these checks on each block; what needs the whole table (duplicates, references,
look-alike ids, a covariate's kind) is checked afterwards in SQL over the staged rows
(:mod:`analysis.ingest.staging`). A problem is recorded with its row and its *site*
(the check that found it, numbered in the order the checks run), and written to the
report once the table's line numbers are known, in the order of a single pass over the
whole file: by check, then by row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from analysis.contract import ALL_REGIONS, LIST_SEPARATOR, Column, Table
from analysis.ingest.cells import iso_dates_of, numbers_of
from analysis.ingest.problems import Problem, ValidationReport
from analysis.ingest.values import (
    control_character_mask,
    describe_control_character,
    normalise_text,
)

_EARLIEST_DATE = pd.Timestamp("1900-01-01")

#: Prefixes of the staged columns of a covariate (its numbers and its text) and of the
#: user's own spelling of a key code (quoted back in duplicate messages).
NUMBER_PREFIX, TEXT_PREFIX, RAW_PREFIX = "__n_", "__t_", "__raw_"


def keeps_raw_copy(column, table) -> bool:
    """Whether a key column is staged a second time as written (for duplicate messages
    that quote the cell): code columns of a composite key, never ``person_id`` — raw
    identifiers must not reach DuckDB, not even a temporary table, whatever its kind."""
    return (column.kind == "code" and column.name in table.key and len(table.key) > 1
            and column.name != "person_id")


@dataclass
class Findings:
    """The problems of one table, kept with their row until its line numbers are known."""

    #: (site, row, kind, column, value, message, expected)
    items: list[tuple] = field(default_factory=list)
    #: site -> covariate name, for cutting the list at a covariate that conflicts
    covariate_sites: dict[str, int] = field(default_factory=dict)

    def flagger(self, offset: int, bad: np.ndarray):
        """A ``flag(kind, mask, column, values, message, expected)`` for one block.

        Each call is one site; every block makes the same calls in the same order, so
        the site numbers agree between blocks.
        """
        site = [0]

        def flag(kind, mask, column, values: pd.Series, message, expected):
            rows = np.flatnonzero(mask)
            bad[rows] = True
            for row in rows:
                value = values.iloc[row]
                text = message(value) if callable(message) else message
                self.items.append((site[0], offset + int(row), kind, column, value, text, expected))
            site[0] += 1

        flag.site = site  # type: ignore[attr-defined]
        return flag

    def add_late(self, site: int, row: int, kind, column, value, message, expected) -> None:
        """A problem found after the blocks (duplicates), at a site after all block checks."""
        self.items.append((site, row, kind, column, value, message, expected))

    def report_to(self, report: ValidationReport, table: str, file: str, lines: np.ndarray,
                  *, before_site: int | None = None) -> None:
        """Add the problems (only those before ``before_site``) in single-pass order."""
        self.items.sort(key=lambda item: item[0])  # stable: rows stay ascending
        for site, row, kind, column, value, message, expected in self.items:
            if before_site is not None and site >= before_site:
                break
            report.add(Problem(kind, file, message, int(lines[row]), column, value, expected),
                       table=table, row=row)
        self.items.clear()


@dataclass
class CheckedBlock:
    """One block after checking: typed columns for staging, covariate facts."""

    typed: dict[str, pd.Series]
    #: covariate -> every cell of this block is a finite number or empty
    numeric: dict[str, bool]


def check_block(
    table: Table,
    positions: dict[str, int],
    covariate_positions: dict[str, int],
    cells: pd.DataFrame,
    today: pd.Timestamp,
    flag,
    covariate_sites: dict[str, int],
) -> CheckedBlock:
    """Check one block of text cells; return its typed columns (NaN/NaT/None where empty)."""
    n = len(cells)
    typed: dict[str, pd.Series] = {}
    raw_columns: dict[str, pd.Series] = {}
    for column in table.columns:
        if column.name in positions:
            raw = cells[positions[column.name]].astype(str)
            if column.kind in ("text", "code", "list"):
                raw = check_text(column.name, raw, _is_identifier(column), flag)
        else:
            raw = pd.Series([""] * n, dtype=str)
        raw_columns[column.name] = raw
        typed[column.name] = _check_column(column, raw, today, flag)
        if keeps_raw_copy(column, table):
            typed[RAW_PREFIX + column.name] = raw
    numeric: dict[str, bool] = {}
    for name, position in covariate_positions.items():
        covariate_sites.setdefault(name, flag.site[0])
        raw = check_text(name, cells[position].astype(str), False, flag)
        numeric[name], typed[NUMBER_PREFIX + name] = _covariate_numbers(raw)
        typed[TEXT_PREFIX + name] = raw.where(raw != "")
    _check_date_order(typed, raw_columns, flag)
    return CheckedBlock(typed, numeric)


#: Cells of a covariate's block parsed first: one that is not a number settles that the
#: covariate is text, without parsing the rest.
_NUMBER_PROBE_CELLS = 256


def _covariate_numbers(raw: pd.Series) -> tuple[bool, pd.Series]:
    """Whether every cell of a covariate's block is a finite number or empty, and the
    numbers (NaN elsewhere).

    A covariate with one text cell is categorical and its numbers are never read (a
    numeric covariate of earlier imports that now holds text is refused), so a text
    cell among the first :data:`_NUMBER_PROBE_CELLS` spares parsing the whole block:
    ``pd.to_numeric`` takes about a second per million text cells. Each cell parses on
    its own, so the answer is the one the whole block would give.
    """
    probe = raw.iloc[:_NUMBER_PROBE_CELLS]
    probe = probe[probe != ""]
    if len(probe) and not _all_finite_numbers(probe):
        return False, pd.Series(np.nan, index=raw.index, dtype="float64")
    numbers = numbers_of(raw)
    # 'inf' and '1e999' parse as numbers but cannot be analysed as one.
    numbers = numbers.where(np.isfinite(numbers))
    return bool((numbers.notna() | (raw == "")).all()), numbers


def _all_finite_numbers(cells: pd.Series) -> bool:
    return bool(np.isfinite(numbers_of(cells).to_numpy()).all())


def _is_identifier(column: Column) -> bool:
    """Identifiers, codes and list items (regions, languages) are matched exactly, so
    they get the strictest cleaning."""
    return column.kind in ("code", "list") or column.name.endswith("_id")


def split_list(cell: str) -> list[str]:
    """The values of a list cell: split at :data:`~analysis.contract.LIST_SEPARATOR`,
    trimmed, empty values dropped and repeats removed (first spelling kept, in order).

    A trailing ``;`` or a doubled ``;;`` is a typing accident, not an empty region.

    Examples
    --------
    >>> split_list(" Capital ;North Coast;;Capital; ")
    ['Capital', 'North Coast']
    >>> split_list(";")
    []
    """
    return list(dict.fromkeys(v.strip() for v in cell.split(LIST_SEPARATOR) if v.strip()))


def check_text(name: str, raw: pd.Series, identifier: bool, flag) -> pd.Series:
    """Refuse control characters; return the cells in NFC (see :mod:`analysis.ingest.values`)."""
    flag(
        "control_character",
        control_character_mask(raw, identifier=identifier),
        name,
        raw,
        lambda v: f"the cell holds the control character "
        f"{describe_control_character(v, identifier=identifier)}, which screens do not show",
        "text without control characters"
        + ("" if identifier else " (a tab or a line break is allowed)"),
    )
    return normalise_text(raw, identifier=identifier)


def _check_column(column: Column, raw: pd.Series, today: pd.Timestamp, flag) -> pd.Series:
    """Check one column's text cells and return them typed (NaN/NaT/None where empty)."""
    if column.kind == "list":
        return _check_list(column, raw, flag)
    empty = (raw == "").to_numpy()
    if column.required:
        flag("missing_value", empty, column.name, raw, f"{column.name} is empty", column.expected())
    present = ~empty
    if column.kind == "date":
        parsed = iso_dates_of(raw)
        invalid = present & (parsed.isna().to_numpy() | (parsed < _EARLIEST_DATE).to_numpy())
        flag("bad_date", invalid, column.name, raw, "not a valid date", column.expected())
        if column.future_allowed:  # a planned date: the future is its point
            return parsed.where(~invalid)
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
        numbers = numbers_of(raw)
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


def _check_list(column: Column, raw: pd.Series, flag) -> pd.Series:
    """Check a list column; return each cell's values as a Python list (None when empty).

    Items of a code list are checked (case-insensitive, stored as the contract spells
    them); a region list is either :data:`~analysis.contract.ALL_REGIONS` alone (any
    case, stored as ``['all']``) or region names, checked against the known regions
    once every table is read (:mod:`analysis.ingest.service_references`).
    """
    items = [split_list(cell) for cell in raw.tolist()]
    empty = np.array([not values for values in items], dtype=bool)
    if column.required:
        flag("missing_value", empty, column.name, raw, f"{column.name} is empty", column.expected())
    bad = np.zeros(len(items), dtype=bool)
    if column.codes:
        codes = set(column.codes)
        items = [[v.lower() for v in values] for values in items]
        first_bad = pd.Series([next((v for v in values if v not in codes), "")
                               for values in items], dtype=object)
        bad = (first_bad != "").to_numpy(dtype=bool)
        flag("unknown_code", bad, column.name, first_bad, "unknown code in the list",
             column.expected())
    if column.of_regions:
        items = [[ALL_REGIONS] if [v.lower() for v in values] == [ALL_REGIONS] else values
                 for values in items]
        mixed = np.array([len(values) > 1 and any(v.lower() == ALL_REGIONS for v in values)
                          for values in items], dtype=bool)
        flag("bad_list", mixed, column.name, raw,
             f"'{ALL_REGIONS}' means every region and cannot be listed with other regions",
             column.expected())
        bad |= mixed
    # Lists of the rows with a problem are not staged: they are never written.
    cleaned = [None if (not values or wrong) else values
               for values, wrong in zip(items, bad, strict=True)]
    return pd.Series(cleaned, index=raw.index, dtype=object)


def _check_date_order(typed: dict[str, pd.Series], raw: dict[str, pd.Series], flag) -> None:
    """Checks across the columns of a row (duplicates need the whole table: staging)."""
    for later, earlier in (("follow_up_end", "release_date"), ("end_date", "start_date"),
                           ("valid_to", "valid_from"), ("first_contact_date", "referral_date")):
        if later not in typed or earlier not in typed:
            continue
        wrong = (typed[later] < typed[earlier]).to_numpy()
        flag(
            "date_order",
            wrong,
            later,
            raw[later],
            f"{later} is before {earlier}",
            f"{later} on or after {earlier}",
        )
