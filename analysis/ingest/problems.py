"""Validation problems and the report that collects them.

A problem names the file, the line (as a spreadsheet shows it: the header is
line 1, so the first data row is line 2), the column, the bad value and what
was expected, so that a clerk can find and fix it.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field

#: Kinds of problems, with the plain-language title used in summaries.
PROBLEM_KINDS: dict[str, str] = {
    "missing_file": "required file missing",
    "ambiguous_file": "several files for one table",
    "unreadable_file": "file is not a readable table",
    "wrong_encoding": "file is not UTF-8 text",
    "empty_file": "file has no data rows",
    "missing_column": "required column missing",
    "unknown_column": "column not in the contract",
    "duplicate_column": "column appears twice",
    "identifier_column": "column looks like a direct identifier",
    "bad_column_name": "extra column name cannot be used as a covariate",
    "missing_value": "required value empty",
    "bad_date": "not a date written YYYY-MM-DD",
    "bad_number": "not a number in the allowed range",
    "unknown_code": "value not in the list of codes",
    "duplicate_id": "identifier appears more than once",
    "date_order": "dates in the wrong order",
    "future_date": "date in the future",
    "unknown_person": "person has no release",
    "unknown_program": "program_id not in programs",
    "unknown_release": "release_id not in releases",
    "conflicting_covariate": "covariate type differs from earlier imports",
    "over_limit": "file over a documented limit",
    "outside_link": "link to a file outside the dataset folder",
    "control_character": "invisible control character in a cell",
    "bad_list": "list of values that cannot be used",
    "unknown_region": "region that no release goes to",
    "unknown_provider": "provider_id not in providers",
    "unknown_service": "service_id not in services",
    "before_release": "referral dated before the release",
    "bad_boundaries": "region boundaries file is not usable GeoJSON",
}

#: Kinds of warnings: worth a look, but the data are imported as they are.
WARNING_KINDS: dict[str, str] = {
    "mixed_scripts": "identifier mixes letters of several alphabets",
    "look_alike_ids": "identifiers that look the same but differ",
    "outside_service_dates": "referral outside the service's valid dates",
    "region_without_releases": "region boundary for a region no release goes to",
}


def _visible(text: str) -> str:
    """``text`` with control and other invisible characters written as escapes (``\\x00``),
    so that a message shows them instead of passing them to the terminal."""
    if text.isprintable():
        return text
    return "".join(
        ch if ch.isprintable() else ch.encode("unicode_escape").decode("ascii") for ch in text
    )


@dataclass(frozen=True)
class Problem:
    """One thing wrong with the input.

    ``line`` is ``None`` for problems with a whole file or column.
    """

    kind: str
    file: str
    message: str
    line: int | None = None
    column: str | None = None
    value: str | None = None
    expected: str | None = None

    def __str__(self) -> str:
        where = self.file
        if self.line is not None:
            where += f", line {self.line}"
        if self.column:
            where += f", column '{self.column}'"
        text = f"{where}: {self.message}"
        if self.value is not None:
            shown = self.value if len(self.value) <= 60 else self.value[:57] + "..."
            text += f" (found '{_visible(shown)}')"
        if self.expected:
            text += f"; expected {self.expected}"
        return text

    def as_dict(self) -> dict:
        return {
            "kind": self.kind,
            "file": self.file,
            "line": self.line,
            "column": self.column,
            "value": self.value,
            "expected": self.expected,
            "message": self.message,
        }


@dataclass
class ValidationReport:
    """Everything validation found, plus row counts per table."""

    dataset: str
    problems: list[Problem] = field(default_factory=list)
    #: table -> rows read from its file
    rows_read: dict[str, int] = field(default_factory=dict)
    #: table -> set of data-row positions (0-based) that have at least one problem
    bad_rows: dict[str, set[int]] = field(default_factory=dict)
    #: table -> file name that was read for it
    files: dict[str, str] = field(default_factory=dict)
    #: events dated before the person's first release: kept as history, outside follow-up
    events_before_first_release: int = 0
    #: exact duplicate event/participation rows dropped (same key, same values)
    duplicate_rows_dropped: dict[str, int] = field(default_factory=dict)
    #: notices that do not stop an import (kinds in :data:`WARNING_KINDS`)
    warnings: list[Problem] = field(default_factory=list)

    @property
    def ok(self) -> bool:
        return not self.problems

    @property
    def file_level_problems(self) -> list[Problem]:
        """Problems that make a whole file unusable (cannot be skipped row by row)."""
        return [p for p in self.problems if p.line is None]

    def add(self, problem: Problem, table: str | None = None, row: int | None = None) -> None:
        self.problems.append(problem)
        if table is not None and row is not None:
            self.bad_rows.setdefault(table, set()).add(row)

    def counts_by_kind(self) -> dict[str, int]:
        return dict(Counter(p.kind for p in self.problems))

    def summary_lines(self, limit_per_kind: int = 20) -> list[str]:
        """Human-readable lines: a count per kind, then up to ``limit_per_kind`` examples each."""
        return _grouped_lines(self.problems, PROBLEM_KINDS, "", limit_per_kind)

    def warn(self, notice: Problem) -> None:
        """Record a notice that does not make the dataset invalid."""
        self.warnings.append(notice)

    def warning_lines(self, limit_per_kind: int = 20) -> list[str]:
        """Human-readable warnings, as :meth:`summary_lines` gives problems."""
        return _grouped_lines(self.warnings, WARNING_KINDS, "warning: ", limit_per_kind)

    def as_dict(self, limit: int = 1000) -> dict:
        return {
            "dataset": self.dataset,
            "ok": self.ok,
            "files": self.files,
            "rows_read": self.rows_read,
            "problem_counts": self.counts_by_kind(),
            "problems": [p.as_dict() for p in self.problems[:limit]],
            "problems_truncated": max(0, len(self.problems) - limit),
            "events_before_first_release": self.events_before_first_release,
            "duplicate_rows_dropped": self.duplicate_rows_dropped,
            "warning_counts": dict(Counter(w.kind for w in self.warnings)),
            "warnings": [w.as_dict() for w in self.warnings[:limit]],
        }


def _grouped_lines(notices: list[Problem], names: dict[str, str], prefix: str,
                   limit_per_kind: int) -> list[str]:
    """A count line per kind (most frequent first), then up to ``limit_per_kind`` examples."""
    lines = []
    counts = Counter(n.kind for n in notices)
    for kind, count in sorted(counts.items(), key=lambda kv: -kv[1]):
        lines.append(f"{prefix}{count} x {names.get(kind, kind)} [{kind}]")
        shown = [n for n in notices if n.kind == kind][:limit_per_kind]
        lines.extend(f"  - {n}" for n in shown)
        if count > len(shown):
            lines.append(f"  ... and {count - len(shown)} more of this kind")
    return lines
