"""Faults get the right message: a full disk at any step of an import, and a damaged
database file for every command, are the user's to fix (exit 2), not bugs (exit 1)."""

from __future__ import annotations

import errno

import duckdb
import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.errors import is_damaged_database, is_no_space, mount_point
from analysis.ingest import importer as importer_module
from analysis.ingest import pseudonymize as pseudonymize_module
from analysis.ingest import rejects as rejects_module
from tests.ingest.conftest import file_digest, folder_state, replace_cell, write_dataset

NO_SPACE = "no space left on the device; nothing was changed"


def _invoke(*args, env=None):
    result = CliRunner().invoke(main, [str(a) for a in args], env=env, catch_exceptions=False)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    return result


def _enospc(path="") -> OSError:
    return OSError(errno.ENOSPC, "No space left on device", str(path))


class _FailingConnection:
    """A DuckDB connection whose ``n``-th statement starting with ``statement`` fails."""

    def __init__(self, real, statement: str, occurrence: int, error: Exception):
        self._real, self._statement, self._left, self._error = real, statement, occurrence, error

    def execute(self, sql, *args, **kwargs):
        if sql.strip().upper().startswith(self._statement):
            self._left -= 1
            if self._left == 0:
                raise self._error
        return self._real.execute(sql, *args, **kwargs)

    def __getattr__(self, name):
        return getattr(self._real, name)


def _fail_duckdb_writes_of_the_copy(monkeypatch, statement, occurrence, message):
    """Make the import's DuckDB connection to its temporary copy fail like a full disk."""
    real_connect = duckdb.connect
    kind = duckdb.FatalException if statement == "CHECKPOINT" else duckdb.IOException

    def connect(database=":memory:", *args, **kwargs):
        con = real_connect(database, *args, **kwargs)
        if str(database).endswith(".tmp"):
            error = kind(message.format(file=database))
            return _FailingConnection(con, statement, occurrence, error)
        return con

    monkeypatch.setattr(duckdb, "connect", connect)


def _raise(error):
    def fail(*args, **kwargs):
        raise error

    return fail


# Each step of an import that writes to the disk, made to fail as a full disk does.
STEPS = {
    "taking the lock": lambda mp: mp.setattr(importer_module, "import_lock",
                                             _raise(_enospc("study.duckdb.lock"))),
    "copying the live file": lambda mp: mp.setattr(importer_module.shutil, "copyfile",
                                                   _raise(_enospc("study.duckdb.import.tmp"))),
    "writing rows (DuckDB)": lambda mp: _fail_duckdb_writes_of_the_copy(
        mp, "COMMIT", 1, 'IO Error: Could not write file "{file}": No space left on device'),
    "checkpoint after commit (DuckDB)": lambda mp: _fail_duckdb_writes_of_the_copy(
        mp, "CHECKPOINT", 1, "FATAL Error: Failed to create checkpoint because of error: "
        'Could not write file "{file}": No space left on device'),
    "checkpoint of the stored views (DuckDB)": lambda mp: _fail_duckdb_writes_of_the_copy(
        mp, "CHECKPOINT", 2, "FATAL Error: Failed to create checkpoint because of error: "
        'Could not write file "{file}": No space left on device'),
    "flushing the copy to disk": lambda mp: mp.setattr(importer_module, "flush_to_disk",
                                                       _raise(_enospc())),
    "writing the rejects file": lambda mp: mp.setattr(rejects_module.os, "fsync",
                                                      _raise(_enospc())),
    "saving the new key": lambda mp: mp.setattr(pseudonymize_module.os, "fsync",
                                                _raise(_enospc())),
    "quota exceeded": lambda mp: mp.setattr(importer_module, "flush_to_disk",
                                            _raise(OSError(errno.EDQUOT, "Disk quota exceeded"))),
}


# A key is saved only by a first import, and only a later import copies the live file.
_ONLY = {"saving the new key": (True,), "copying the live file": (False,)}
_CASES = [(step, first) for step in STEPS for first in _ONLY.get(step, (False, True))]


@pytest.mark.parametrize(("step", "first_import"), _CASES,
                         ids=[f"{s}-{'first' if f else 'existing'}" for s, f in _CASES])
def test_a_full_disk_at_any_step_exits_2_and_changes_nothing(
        tmp_path, monkeypatch, step, first_import, existing_db, db):
    if first_import:
        for leftover in db.parent.iterdir():
            leftover.unlink()
    bad = write_dataset(tmp_path / "bad", releases=replace_cell("releases", 1, "sex", "Q"))
    rejects = tmp_path / "out" / "rejects.csv"
    before = folder_state(db.parent)
    STEPS[step](monkeypatch)
    result = _invoke("import", bad, "--db", db, "--skip-invalid", "--rejects", rejects)
    assert result.exit_code == 2, (result.output, result.stderr)
    assert NO_SPACE in result.stderr
    assert f"cannot import into {db}" in result.stderr
    # The device is named by its mount point, so the user knows where to free space.
    assert f"the device mounted at {mount_point(db.parent)}" in result.stderr
    after = folder_state(db.parent)
    after.pop("study.duckdb.lock", None)
    before.pop("study.duckdb.lock", None)
    assert after == before
    assert not rejects.parent.exists(), "the folder made for the rejects file was left"


def test_a_disk_that_fills_during_validation_reads_is_no_bug(tmp_path, monkeypatch, existing_db,
                                                             dataset):
    # An OS error met anywhere in the command (here: the check of the dataset).
    monkeypatch.setattr(importer_module, "check_dataset", _raise(_enospc(tmp_path)))
    result = _invoke("import", dataset, "--db", existing_db)
    assert result.exit_code == 2 and NO_SPACE in result.stderr


def test_other_os_errors_keep_their_own_message(tmp_path, monkeypatch, existing_db, dataset):
    monkeypatch.setattr(importer_module, "flush_to_disk",
                        _raise(PermissionError(errno.EACCES, "Permission denied", "x.tmp")))
    result = _invoke("import", dataset, "--db", existing_db)
    assert result.exit_code == 2
    assert "Permission denied (x.tmp); nothing was changed" in result.stderr
    assert "no space" not in result.stderr


def test_a_real_bug_still_exits_1(monkeypatch, existing_db, dataset):
    monkeypatch.setattr(importer_module, "refresh_follow_up", _raise(KeyError("first_any_day")))
    before = file_digest(existing_db)
    result = _invoke("import", dataset, "--db", existing_db)
    assert result.exit_code == 1
    assert "internal error: KeyError" in result.stderr and "This is a bug" in result.stderr
    assert file_digest(existing_db) == before


def test_a_duckdb_query_error_is_still_a_bug(monkeypatch, existing_db, dataset):
    monkeypatch.setattr(importer_module, "refresh_follow_up",
                        _raise(duckdb.BinderException('Referenced column "x" not found')))
    assert _invoke("import", dataset, "--db", existing_db).exit_code == 1


def test_data_that_merely_mentions_a_full_disk_imports_normally(tmp_path, db):
    # The message text counts only on an OS or DuckDB storage error, never in the data.
    folder = write_dataset(tmp_path / "d", releases=replace_cell(
        "releases", 0, "facility", "No space left on device"))
    assert _invoke("import", folder, "--db", db).exit_code == 0


# ---------------------------------------------------------------- damaged database files


def _truncated(db, fraction=0.5):
    data = db.read_bytes()
    db.write_bytes(data[: int(len(data) * fraction)])
    return db


def _flipped_header(db):
    data = bytearray(db.read_bytes())
    for offset in range(8192 + 10, 8192 + 26):  # inside the second database header
        data[offset] ^= 0xFF
    db.write_bytes(bytes(data))
    return db


def _not_duckdb(db):
    db.write_text("release_id,person_id\nR1,P1\n")
    return db


DAMAGE = {"truncated": _truncated, "checksum": _flipped_header, "not duckdb": _not_duckdb}


def _reading_commands(db, tmp_path, dataset):
    return {
        "km": ["km", "--db", db],
        "cif": ["cif", "--db", db],
        "cox": ["cox", "--db", db, "--covariates", "age_at_release"],
        "impact": ["impact", "--db", db, "--program", "EDU"],
        "report": ["report", "--db", db, "--program", "EDU", "--out", tmp_path / "r.html"],
        "validate --db": ["validate", dataset, "--db", db],
        "import": ["import", dataset, "--db", db],
    }


@pytest.mark.parametrize("damage", list(DAMAGE))
def test_a_damaged_database_exits_2_naming_the_file_for_every_command(
        tmp_path, existing_db, dataset, damage):
    DAMAGE[damage](existing_db)
    before = folder_state(existing_db.parent)
    for name, args in _reading_commands(existing_db, tmp_path, dataset).items():
        result = _invoke(*args)
        assert result.exit_code == 2, (name, result.output, result.stderr)
        assert str(existing_db) in result.stderr, name
        assert "internal error" not in result.stderr, name
        assert folder_state(existing_db.parent) == before, name


def test_a_truncated_database_says_what_to_do(tmp_path, existing_db, dataset):
    _truncated(existing_db)
    result = _invoke("km", "--db", existing_db)
    assert f"{existing_db} is damaged, truncated or not a DuckDB database" in result.stderr
    assert "Restore it from a backup" in result.stderr
    result = _invoke("import", dataset, "--db", existing_db)
    assert f"{existing_db} is damaged" in result.stderr and "nothing was changed" in result.stderr


def test_a_damaged_database_named_by_the_environment_is_named(tmp_path, existing_db):
    _truncated(existing_db)
    result = _invoke("km", env={"DESIST_DB": str(existing_db)})
    assert result.exit_code == 2 and str(existing_db) in result.stderr


def test_fault_recognition_is_precise():
    assert is_no_space(duckdb.IOException('Could not write file "a": No space left on device'))
    assert not is_no_space(duckdb.ConversionException("Could not convert 'No space left on "
                                                      "device' to DOUBLE"))
    assert is_damaged_database(duckdb.IOException('Could not read enough bytes from file "x"'))
    assert not is_damaged_database(duckdb.CatalogException("Table releases does not exist"))
    wrapped = RuntimeError("while importing")
    wrapped.__cause__ = _enospc()
    assert is_no_space(wrapped)


def test_a_damaged_dataset_file_read_by_duckdb_is_named_as_such(tmp_path):
    from analysis.errors import damaged_database_error

    error = duckdb.IOException('IO Error: Could not read enough bytes from file '
                               f'"{tmp_path}/releases.parquet"')
    message = str(damaged_database_error(tmp_path / "study.duckdb", error))
    assert message.startswith(f"{tmp_path}/releases.parquet is damaged or truncated")
    assert "DuckDB database" not in message
