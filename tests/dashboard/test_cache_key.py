"""The cache key of the study database follows the file an import swaps into place."""

from __future__ import annotations

import os

from dashboard.cache import database_key


def test_key_is_the_absolute_path_and_follows_a_swapped_file(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("DESIST_DB", "study.duckdb")
    path = str((tmp_path / "study.duckdb").resolve())
    assert database_key() == (path, 0)  # not there yet
    (tmp_path / "study.duckdb").write_bytes(b"first")
    os.utime(tmp_path / "study.duckdb", ns=(1, 1_000))
    assert database_key() == (path, 1_000)
    # an import writes a new file and renames it over the old one
    (tmp_path / "new.duckdb").write_bytes(b"second")
    os.utime(tmp_path / "new.duckdb", ns=(1, 2_000))
    os.replace(tmp_path / "new.duckdb", tmp_path / "study.duckdb")
    assert database_key() == (path, 2_000)


def test_key_changes_with_the_configured_path_and_the_working_folder(tmp_path, monkeypatch):
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    monkeypatch.setenv("DESIST_DB", "study.duckdb")
    monkeypatch.chdir(tmp_path / "a")
    in_a = database_key()[0]
    monkeypatch.chdir(tmp_path / "b")
    assert database_key()[0] == str((tmp_path / "b" / "study.duckdb").resolve()) != in_a
    monkeypatch.setenv("DESIST_DB", str(tmp_path / "a" / "other.duckdb"))
    assert database_key()[0] == str((tmp_path / "a" / "other.duckdb").resolve())
