"""Small helpers shared by the importer tests: write datasets, fingerprint databases."""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
DESIST = Path(sys.executable).with_name("desist")
#: Every test passes this as ``today`` so that results never depend on the calendar.
TODAY = dt.date(2025, 1, 1)

#: Raw person ids that are easy to find in the bytes of a database file.
PERSONS = ("PERSON-ÄÖ-000123", "PERSON-ÄÖ-000456", "PERSON-ÄÖ-000789")

RELEASES_HEADER = (
    "release_id",
    "person_id",
    "release_date",
    "facility",
    "follow_up_end",
    "sex",
    "age_at_release",
    "prior_convictions",
    "education_level",
    "risk_score",
)
RELEASES_ROWS = (
    ("R1", PERSONS[0], "2020-01-10", "North", "2023-12-31", "M", "25", "2", "primary", "3.5"),
    ("R2", PERSONS[1], "2020-02-10", "North", "2023-12-31", "F", "31", "0", "secondary", "1"),
    ("R3", PERSONS[0], "2022-05-01", "South", "2023-12-31", "M", "27", "3", "primary", ""),
    ("R4", PERSONS[2], "2021-07-15", "East", "2023-12-31", "U", "44", "7", "none", "8.25"),
)
PROGRAMS_HEADER = ("program_id", "name", "category", "setting", "cost_per_participant", "currency")
PROGRAMS_ROWS = (
    ("EDU", "Basic education", "education", "in_prison", "300", "EUR"),
    ("VOC", "Carpentry", "vocational", "in_prison", "450.5", "EUR"),
)
PARTICIPATION_HEADER = ("person_id", "program_id", "start_date", "end_date", "status", "hours")
PARTICIPATION_ROWS = (
    (PERSONS[0], "EDU", "2019-06-01", "2019-12-01", "completed", "120"),
    (PERSONS[1], "VOC", "2019-03-01", "2020-01-31", "dropped_out", "40"),
)
EVENTS_HEADER = ("person_id", "event_date", "event_type")
EVENTS_ROWS = (
    (PERSONS[0], "2021-03-01", "rearrest"),
    (PERSONS[0], "2022-09-01", "reconviction"),
    # Before this person's first release (2020-02-10): history, kept and counted.
    (PERSONS[1], "2018-01-01", "reconviction"),
)

VALID = {
    "releases": (RELEASES_HEADER, RELEASES_ROWS),
    "programs": (PROGRAMS_HEADER, PROGRAMS_ROWS),
    "participation": (PARTICIPATION_HEADER, PARTICIPATION_ROWS),
    "events": (EVENTS_HEADER, EVENTS_ROWS),
}


def write_table(folder: Path, table: str, header, rows, *, encoding: str = "utf-8") -> Path:
    """Write ``table``.csv into ``folder`` with the given header and rows."""
    path = folder / f"{table}.csv"
    with path.open("w", encoding=encoding, newline="") as handle:
        writer = csv.writer(handle, lineterminator="\n")
        writer.writerow(header)
        writer.writerows(rows)
    return path


def write_dataset(folder: Path, tables: dict | None = None, **overrides) -> Path:
    """Write the valid sample dataset into ``folder``; ``overrides`` replace (header, rows).

    Pass ``events=None`` to leave a table out.
    """
    folder.mkdir(parents=True, exist_ok=True)
    chosen = dict(VALID if tables is None else tables)
    chosen.update(overrides)
    for table, content in chosen.items():
        if content is not None:
            write_table(folder, table, *content)
    return folder


def replace_cell(table: str, row: int, column: str, value: str) -> tuple:
    """The valid (header, rows) of ``table`` with one cell changed."""
    header, rows = VALID[table]
    rows = [list(r) for r in rows]
    rows[row][header.index(column)] = value
    return header, [tuple(r) for r in rows]


def file_digest(path: Path) -> str | None:
    """SHA-256 of a file's bytes, or None when it does not exist."""
    if not path.exists():
        return None
    return hashlib.sha256(path.read_bytes()).hexdigest()


def folder_state(folder: Path) -> dict[str, str | None]:
    """Name -> digest of every file in ``folder`` (to show nothing at all changed)."""
    return {p.name: file_digest(p) for p in sorted(folder.iterdir()) if p.is_file()}


def run_desist(*args, env: dict | None = None, cwd: Path | None = None, timeout: float = 120):
    """Run the installed ``desist`` command in a subprocess (real stdout/stderr/exit code)."""
    full_env = {**os.environ, **(env or {})}
    full_env.pop("DESIST_DEBUG", None)
    return subprocess.run(
        [str(DESIST), *map(str, args)],
        capture_output=True,
        text=True,
        env=full_env,
        cwd=cwd or ROOT,
        timeout=timeout,
    )


@pytest.fixture
def dataset(tmp_path) -> Path:
    """A valid dataset folder in the contract format."""
    return write_dataset(tmp_path / "dataset")


@pytest.fixture
def db(tmp_path) -> Path:
    """Path of a study database that does not exist yet."""
    return tmp_path / "study" / "study.duckdb"


@pytest.fixture(autouse=True)
def _no_key_from_environment(monkeypatch):
    # A DESIST_KEY_FILE set in the developer's shell must not leak into the tests.
    monkeypatch.delenv("DESIST_KEY_FILE", raising=False)
    monkeypatch.delenv("DESIST_DB", raising=False)


@pytest.fixture(scope="session")
def _template_db(tmp_path_factory) -> Path:
    """The valid dataset imported once; tests get copies (an import costs ~0.2 s)."""
    from analysis.ingest import import_dataset

    root = tmp_path_factory.mktemp("template")
    db = root / "study" / "study.duckdb"
    import_dataset(write_dataset(root / "dataset"), db, today=TODAY)
    return db


@pytest.fixture
def existing_db(_template_db, db) -> Path:
    """A database (with its key beside it) that already holds the valid dataset."""
    db.parent.mkdir(parents=True, exist_ok=True)
    for suffix in ("", ".key", ".lock"):
        source = _template_db.with_name(_template_db.name + suffix)
        shutil.copy2(source, db.with_name(db.name + suffix))
    return db
