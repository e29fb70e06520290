"""Checking a table file's header: duplicated, missing, unknown and identifier-like columns.

Extra columns of ``releases`` (and of ``expected_releases``) become covariates when their names can be column names
and are not reserved; in every table that holds people, a column whose name reads like
a direct identifier (a name, an ID number, a date of birth...) refuses the file. A
table's ``refused_columns`` (and, in ``providers``, any column that reads like a
person's name: the staff) are refused with the table's own reason.
"""

from __future__ import annotations

from analysis.contract import (
    COVARIATE_NAME,
    PERSON_TABLES,
    RESERVED_COVARIATE_NAMES,
    Table,
    looks_like_direct_identifier,
    normalise_column_name,
)
from analysis.ingest.problems import Problem, ValidationReport


def check_header(table: Table, file_name: str, header: tuple[str, ...], report: ValidationReport):
    """Map header positions to contract/covariate names; None when the file is unusable.

    Examples
    --------
    >>> from analysis.contract import TABLES
    >>> report = ValidationReport(dataset="d")
    >>> check_header(TABLES["programs"], "programs.csv", ("Program_ID", "name", "x"), report)
    >>> [p.kind for p in report.problems]
    ['missing_column', 'missing_column', 'unknown_column']
    """
    names = [normalise_column_name(h) for h in header]
    usable = True
    seen: dict[str, int] = {}
    for position, name in enumerate(names):
        if name in seen:
            report.add(
                Problem(
                    "duplicate_column",
                    file_name,
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
                    file_name,
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
        refusal = table.refusal(name)
        if refusal is not None:
            report.add(
                Problem(
                    "unknown_column",
                    file_name,
                    f"column '{header[position]}' cannot be part of the {table.name} table: "
                    + refusal,
                    line=1,
                    column=header[position],
                    expected="remove this column from the file",
                )
            )
            usable = False
        elif table.name in PERSON_TABLES and looks_like_direct_identifier(name):
            report.add(
                Problem(
                    "identifier_column",
                    file_name,
                    f"column '{header[position]}' looks like a direct identifier; "
                    "names, ID numbers, addresses, phone numbers, e-mails and full dates of "
                    "birth must never be imported (use birth_year instead of a date of birth)",
                    line=1,
                    column=header[position],
                    expected="remove this column from the file",
                )
            )
            usable = False
        elif not table.extra_columns_are_covariates:
            report.add(
                Problem(
                    "unknown_column",
                    file_name,
                    f"column '{header[position]}' is not part of the {table.name} table",
                    line=1,
                    column=header[position],
                    expected="only " + ", ".join(table.column_names),
                )
            )
            usable = False
        elif name in RESERVED_COVARIATE_NAMES:
            report.add(
                Problem(
                    "bad_column_name",
                    file_name,
                    f"extra column '{header[position]}' has a name the database uses "
                    "for its own bookkeeping or the analyses for their own columns (reserved: "
                    + ", ".join(sorted(RESERVED_COVARIATE_NAMES)) + ")",
                    line=1,
                    column=header[position],
                    expected=f"another name for this column, e.g. '{name}_value'",
                )
            )
            usable = False
        elif not COVARIATE_NAME.match(name):
            report.add(
                Problem(
                    "bad_column_name",
                    file_name,
                    f"extra column '{header[position]}' cannot be used as a covariate name",
                    line=1,
                    column=header[position],
                    expected="a name of lower-case letters, digits and _ starting with a letter",
                )
            )
            usable = False
        else:
            covariates[name] = position
    return (seen, covariates) if usable else None
