"""Permissions: a key others can read is refused with the chmod that fixes it; the key,
the database and its temporary copy are owner-only whatever the umask."""

from __future__ import annotations

import contextlib
import os
import shlex
import stat
import subprocess

import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.ingest import import_dataset
from analysis.ingest import importer as importer_module
from analysis.ingest.pseudonymize import PseudonymKeyError, default_key_path
from analysis.store import database_file_mode
from tests.ingest.conftest import TODAY, file_digest, folder_state


def _mode(path) -> int:
    return stat.S_IMODE(os.stat(path).st_mode)


@contextlib.contextmanager
def _umask(value):
    previous = os.umask(value)
    try:
        yield
    finally:
        os.umask(previous)


def _invoke(*args):
    result = CliRunner().invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    return result


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660, 0o620, 0o666, 0o755])
def test_a_key_others_can_read_or_change_is_refused_with_the_chmod(existing_db, dataset, mode):
    key = default_key_path(existing_db)
    key.chmod(mode)
    before = folder_state(existing_db.parent)
    result = _invoke("import", dataset, "--db", existing_db)
    assert result.exit_code == 2
    assert f"the key file {key} can be read or changed by other users (mode {mode:04o})" \
        in result.stderr
    assert f"chmod 600 {key}" in result.stderr
    assert folder_state(existing_db.parent) == before
    # The printed command is the fix.
    subprocess.run(shlex.split(result.stderr.split("make it private with: ")[1]), check=True)
    assert _mode(key) == 0o600
    assert _invoke("import", dataset, "--db", existing_db).exit_code == 0


def test_the_chmod_is_quoted_for_a_path_with_spaces(tmp_path, dataset):
    db = tmp_path / "my study" / "s.duckdb"
    import_dataset(dataset, db, today=TODAY)
    key = default_key_path(db)
    key.chmod(0o644)
    with pytest.raises(PseudonymKeyError) as caught:
        import_dataset(dataset, db, today=TODAY)
    assert f"chmod 600 {shlex.quote(str(key))}" in str(caught.value)


def test_validate_against_a_database_refuses_a_readable_key(existing_db, dataset):
    default_key_path(existing_db).chmod(0o644)
    result = _invoke("validate", dataset, "--db", existing_db)
    assert result.exit_code == 2 and "chmod 600" in result.stderr


def test_a_readable_key_given_with_key_file_is_refused(tmp_path, dataset, db):
    key = tmp_path / "keys" / "project.key"
    import_dataset(dataset, db, key_file=key, today=TODAY)
    key.chmod(0o644)
    before = file_digest(db)
    result = _invoke("import", dataset, "--db", db, "--key-file", key)
    assert result.exit_code == 2 and f"chmod 600 {key}" in result.stderr
    assert file_digest(db) == before


def test_new_key_and_database_are_owner_only_with_umask_000(tmp_path, dataset, db):
    with _umask(0):
        import_dataset(dataset, db, today=TODAY)
    assert _mode(default_key_path(db)) == 0o600
    assert _mode(db) == 0o600


def test_the_umask_is_restored_after_an_import(dataset, db):
    with _umask(0o022):
        import_dataset(dataset, db, today=TODAY)
        assert os.umask(0o022) == 0o022


def test_the_temporary_copy_and_every_file_made_meanwhile_are_owner_only(
        existing_db, dataset, monkeypatch):
    seen: dict[str, int] = {}
    real_flush = importer_module.flush_to_disk

    def record_then_flush(path):
        for entry in existing_db.parent.iterdir():
            if entry.name != "study.duckdb.lock":  # made before the test, by the fixture
                seen[entry.name] = _mode(entry)
        real_flush(path)

    monkeypatch.setattr(importer_module, "flush_to_disk", record_then_flush)
    existing_db.chmod(0o600)
    with _umask(0):
        import_dataset(dataset, existing_db, today=TODAY)
    temporary = [name for name in seen if ".import-" in name]
    assert temporary, seen
    assert all(mode == 0o600 for name, mode in seen.items()), seen


def test_a_first_import_under_umask_000_leaves_no_file_others_can_read(tmp_path, dataset):
    db = tmp_path / "fresh" / "study.duckdb"
    db.parent.mkdir()
    with _umask(0):
        import_dataset(dataset, db, today=TODAY)
    for entry in db.parent.iterdir():
        assert _mode(entry) & 0o077 == 0, (entry.name, oct(_mode(entry)))


@pytest.mark.parametrize(("old", "new"), [(0o600, 0o600), (0o640, 0o640), (0o644, 0o640),
                                          (0o666, 0o640), (0o660, 0o640), (0o604, 0o600)])
def test_an_import_keeps_group_read_and_drops_everything_else(existing_db, dataset, old, new):
    existing_db.chmod(old)
    import_dataset(dataset, existing_db, today=TODAY)
    assert _mode(existing_db) == new
    assert database_file_mode(existing_db) == new
