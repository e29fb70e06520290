"""References between tables: people, programmes and releases that must exist.

Checked in SQL over the staged rows (:mod:`analysis.ingest.staging`) once every file is
read: a participation or event row must name a person with a valid release row (in the
files or already in the database), a participation row a known programme and, when it
gives one, a known release.
"""

from __future__ import annotations

import pyarrow as pa

from analysis.ingest.problems import Problem, ValidationReport


def check_references(parsed: dict, report: ValidationReport, known, unusable: set[str],
                     pseudonymizer) -> None:
    """Record a problem for every row that refers to something missing; mark it invalid."""
    # A referenced table whose file is missing or unreadable is already a file-level
    # problem; flagging every row that points at it would bury that one message.
    releases = parsed.get("releases")
    programs = parsed.get("programs")
    valid_releases = _valid_view(releases)
    valid_programs = _valid_view(programs)
    for name in ("participation", "events"):
        table = parsed.get(name)
        if table is None:
            continue
        if not ("releases" in unusable or (releases is None and not known.persons)):
            rows = table.stage.rows_not_in(
                "person_id", [(valid_releases, "person_id")] if valid_releases else [],
                _ids(known.persons))
            # The staged rows hold pseudonyms; the message quotes the file's own id.
            originals = pseudonymizer.originals([value for _, value in rows])
            _refuse(report, table, "unknown_person",
                    [(row, raw) for (row, _), raw in zip(rows, originals, strict=True)],
                    "person_id",
                    "this person_id has no valid row in releases (nor in the database)",
                    "a person_id of the releases table")
        if name != "participation":
            continue
        if "programs" not in unusable:
            rows = table.stage.rows_not_in(
                "program_id", [(valid_programs, "program_id")] if valid_programs else [],
                _ids(known.programs))
            _refuse(report, table, "unknown_program", rows, "program_id",
                    "this program_id is not in programs (nor in the database)",
                    "a program_id of the programs table")
        if "releases" not in unusable:
            rows = table.stage.rows_not_in(
                "release_id", [(valid_releases, "release_id")] if valid_releases else [],
                _ids(known.releases))
            _refuse(report, table, "unknown_release", rows, "release_id",
                    "this release_id is not in releases (nor in the database)",
                    "a release_id of the releases table, or an empty cell")


def _valid_view(table) -> str | None:
    """A view of the table's rows without problems (None when the table is absent)."""
    if table is None:
        return None
    return table.stage.valid_view((~table.row_ok).nonzero()[0])


def _ids(values: frozenset[str]) -> pa.Array:
    return pa.array(list(values), type=pa.string())


def _refuse(report, table, kind, rows, column, message, expected) -> None:
    """Record a reference problem for every ``(row, value)`` and mark those rows invalid."""
    for row, value in rows:
        table.row_ok[row] = False
        report.add(
            Problem(kind, table.source.name, message, int(table.source.lines[row]), column,
                    str(value), expected),
            table=table.table,
            row=int(row),
        )
