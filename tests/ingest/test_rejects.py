"""The rejects file of ``--skip-invalid --rejects``: never over a kept file, owner-only,
formula cells neutralised, a first line that says what it holds."""

from __future__ import annotations

import errno
import os
import stat
from types import SimpleNamespace

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.errors import DiskFullError, UnsafeOutputPathError
from analysis.ingest import import_dataset
from analysis.ingest import importer as importer_module
from analysis.ingest.problems import ValidationReport
from analysis.ingest.rejects import (
    FIRST_LINE,
    check_rejects_path,
    csv_rows,
    read_rejects,
    write_rejects,
)
from tests.ingest.conftest import TODAY, VALID, folder_state, replace_cell, write_dataset

#: Cells a spreadsheet would run as formulas, by first character.
FORMULAS = ("=cmd|' /C calc'!A0", "+1+1", "-2+3", "@SUM(A1)", "\t=1", "\r=1")
#: Those that survive a round trip through a dataset file (cells are read stripped,
#: and a carriage return inside a cell is a problem of its own).
FORMULAS_IN_FILES = FORMULAS[:5]


def _one_bad_row(tmp_path, name="bad"):
    """A dataset whose second release has an invalid sex (the other rows are valid)."""
    return write_dataset(tmp_path / name, releases=replace_cell("releases", 1, "sex", "Q"))


def _state(*folders):
    """Every file (name -> digest) in the given folders, to show nothing changed."""
    return {str(f): folder_state(f) for f in folders if f.exists()}


def _import_cli(*args, env=None):
    result = CliRunner().invoke(main, ["import", *map(str, args)], env=env,
                                catch_exceptions=False)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    return result


@pytest.fixture
def bad(tmp_path):
    return _one_bad_row(tmp_path)


# ---------------------------------------------------------------- refused paths


def _protected_paths(db, tmp_path):
    """(label, path the user gives, extra CLI arguments, env) for every file of the database."""
    key = db.with_name(db.name + ".key")
    (tmp_path / "links").mkdir(exist_ok=True)
    symlink = tmp_path / "links" / "to-key.csv"
    symlink.symlink_to(key)
    hardlink = tmp_path / "links" / "hard-key.csv"
    os.link(key, hardlink)
    custom_key = tmp_path / "elsewhere" / "project.key"
    custom_key.parent.mkdir(exist_ok=True)
    custom_key.write_bytes(key.read_bytes())
    custom_key.chmod(0o600)
    return [
        ("key beside the database", key, [], None),
        ("key through a symlink", symlink, [], None),
        ("key through a hard link", hardlink, [], None),
        ("key given with --key-file", custom_key, ["--key-file", custom_key], None),
        ("key given with DESIST_KEY_FILE", custom_key, [], {"DESIST_KEY_FILE": str(custom_key)}),
        ("database", db, [], None),
        ("database, relative path with ..", db.parent / ".." / db.parent.name / db.name, [], None),
        ("lock file", db.with_name(db.name + ".lock"), [], None),
        ("write-ahead log", db.with_name(db.name + ".wal"), [], None),
        ("access configuration", db.with_name(db.name + ".access.toml"), [], None),
        ("accounts file", db.with_name(db.name + ".users.json"), [], None),
        ("accounts' lock file", db.with_name(db.name + ".users.json.lock"), [], None),
        ("audit trail", db.with_name(db.name + ".audit.jsonl"), [], None),
        ("temporary copy", db.with_name(db.name + ".import-20250101T000000Z-abcd.tmp"), [], None),
    ]


@pytest.mark.parametrize("force", [False, True], ids=["plain", "--force"])
def test_database_files_are_never_the_rejects_file_even_with_force(
        tmp_path, existing_db, bad, force):
    for label, path, extra, env in _protected_paths(existing_db, tmp_path):
        before = _state(existing_db.parent, tmp_path / "links", tmp_path / "elsewhere", bad)
        result = _import_cli(bad, "--db", existing_db, "--skip-invalid", "--rejects", path,
                             *extra, *(["--force"] if force else []), env=env)
        assert result.exit_code == 2, (label, result.output, result.stderr)
        assert "--force does not allow this" in result.stderr, label
        assert _state(existing_db.parent, tmp_path / "links", tmp_path / "elsewhere", bad) \
            == before, label


def test_the_refusal_names_the_key_and_the_real_path_of_a_symlink(tmp_path, existing_db, bad):
    link = tmp_path / "innocent.csv"
    link.symlink_to(existing_db.with_name(existing_db.name + ".key"))
    result = _import_cli(bad, "--db", existing_db, "--skip-invalid", "--rejects", link)
    assert result.exit_code == 2
    assert f"--rejects {link} (= {existing_db}.key) is the pseudonymization key" in result.stderr


def test_a_key_found_through_a_relative_path_is_recognised(tmp_path, existing_db, bad,
                                                          monkeypatch):
    monkeypatch.chdir(existing_db.parent)
    with pytest.raises(UnsafeOutputPathError, match="pseudonymization key"):
        import_dataset(bad, existing_db, skip_invalid=True, rejects="study.duckdb.key",
                       force_rejects=True, today=TODAY)


def test_an_existing_file_is_not_replaced_without_force(tmp_path, existing_db, bad):
    notes = tmp_path / "notes.txt"
    notes.write_text("precious")
    before = _state(existing_db.parent, tmp_path, bad)
    result = _import_cli(bad, "--db", existing_db, "--skip-invalid", "--rejects", notes)
    assert result.exit_code == 2
    assert f"--rejects {notes} already exists" in result.stderr and "--force" in result.stderr
    assert _state(existing_db.parent, tmp_path, bad) == before


def test_force_replaces_an_existing_file(tmp_path, existing_db, bad):
    old = tmp_path / "old-rejects.csv"
    old.write_text("from last week")
    result = _import_cli(bad, "--db", existing_db, "--skip-invalid", "--rejects", old, "--force")
    assert result.exit_code == 0, result.stderr
    assert old.read_text(encoding="utf-8").startswith(FIRST_LINE)
    assert stat.S_IMODE(old.stat().st_mode) == 0o600
    assert not list(tmp_path.glob("*.partial"))


@pytest.mark.parametrize("where", ["releases.csv", "new-file.csv", "sub/rejects.csv"])
def test_inside_the_dataset_folder_needs_force(existing_db, bad, where):
    target = bad / where
    before = _state(existing_db.parent, bad)
    result = _import_cli(bad, "--db", existing_db, "--skip-invalid", "--rejects", target)
    assert result.exit_code == 2
    assert "inside the dataset folder" in result.stderr
    assert _state(existing_db.parent, bad) == before
    assert target.exists() == (where == "releases.csv")


def test_force_allows_a_new_file_inside_the_dataset_folder(existing_db, bad):
    target = bad / "rejected_rows.csv"
    report = import_dataset(bad, existing_db, skip_invalid=True, rejects=target,
                            force_rejects=True, today=TODAY)
    assert report.rejects_file == str(target) and target.exists()


def test_a_folder_is_refused_even_with_force(tmp_path, existing_db, bad):
    folder = tmp_path / "a-folder"
    folder.mkdir()
    with pytest.raises(UnsafeOutputPathError, match="is a folder"):
        import_dataset(bad, existing_db, skip_invalid=True, rejects=folder, force_rejects=True,
                       today=TODAY)


def test_the_path_is_checked_before_anything_is_written(tmp_path, bad):
    # A first import: a refusal must not even create the database's folder or lock.
    db = tmp_path / "new" / "study.duckdb"
    with pytest.raises(UnsafeOutputPathError):
        import_dataset(bad, db, skip_invalid=True, rejects=bad / "r.csv", today=TODAY)
    assert not db.parent.exists()


def test_a_file_that_appears_after_the_check_is_not_replaced(tmp_path, existing_db, bad,
                                                            monkeypatch):
    target = tmp_path / "rejects.csv"
    real_write_copy = importer_module._write_copy

    def write_copy_then_someone_creates_the_file(*args, **kwargs):
        result = real_write_copy(*args, **kwargs)
        target.write_text("someone else's")
        return result

    monkeypatch.setattr(importer_module, "_write_copy", write_copy_then_someone_creates_the_file)
    before = _state(existing_db.parent)
    with pytest.raises(UnsafeOutputPathError, match="appeared while the import ran"):
        import_dataset(bad, existing_db, skip_invalid=True, rejects=target, today=TODAY)
    assert target.read_text() == "someone else's"
    assert _state(existing_db.parent) == before


def test_a_failed_import_leaves_no_rejects_file(tmp_path, existing_db, bad, monkeypatch):
    target = tmp_path / "rejects.csv"

    def disk_full(path):
        raise OSError(errno.ENOSPC, "No space left on device", str(path))

    monkeypatch.setattr(importer_module, "flush_to_disk", disk_full)
    before = _state(existing_db.parent)
    with pytest.raises(DiskFullError):
        import_dataset(bad, existing_db, skip_invalid=True, rejects=target, today=TODAY)
    assert not target.exists()
    assert _state(existing_db.parent) == before


def test_check_rejects_path_accepts_a_new_file_elsewhere(tmp_path):
    db = tmp_path / "db" / "study.duckdb"
    chosen = check_rejects_path(tmp_path / "out" / "rejects.csv", db=db,
                                key=db.with_name("study.duckdb.key"), dataset=tmp_path / "data")
    assert chosen == tmp_path / "out" / "rejects.csv"


def test_a_file_named_after_the_database_is_allowed(tmp_path, existing_db, bad):
    # Only the database's own suffixes are reserved, not every name that starts like it.
    target = existing_db.with_name(existing_db.name + ".rejects.csv")
    report = import_dataset(bad, existing_db, skip_invalid=True, rejects=target, today=TODAY)
    assert report.rejects_file == str(target)


# ---------------------------------------------------------------- the file itself


def test_rejects_file_is_owner_only_even_with_umask_000(tmp_path, db, bad):
    target = tmp_path / "out" / "rejects.csv"
    previous = os.umask(0)
    try:
        import_dataset(bad, db, skip_invalid=True, rejects=target, today=TODAY)
    finally:
        os.umask(previous)
    assert stat.S_IMODE(target.stat().st_mode) == 0o600


def test_first_line_says_it_holds_raw_identifiers(tmp_path, db, bad):
    target = tmp_path / "rejects.csv"
    import_dataset(bad, db, skip_invalid=True, rejects=target, today=TODAY)
    first = target.read_text(encoding="utf-8").splitlines()[0]
    assert first == FIRST_LINE
    assert first.startswith("#") and "raw person identifiers" in first and "delete" in first
    # One spreadsheet cell whatever the list separator.
    assert "," not in first and ";" not in first
    rows = csv_rows(target)
    # The bad release, then that person's participation and event, rejected with it.
    assert [(r["table"], r["line"], r["sex"]) for r in rows] == [
        ("releases", "3", "Q"), ("participation", "3", ""), ("events", "4", "")]
    assert read_rejects(target)["sex"].tolist() == ["Q", "", ""]


def test_formula_cells_are_neutralised_like_the_dashboard_downloads(tmp_path, db):
    header, rows = VALID["releases"]
    column = header.index("education_level")
    bad_rows = [list(r) for r in rows]
    extra = []
    for number, formula in enumerate(FORMULAS_IN_FILES):
        row = list(bad_rows[0])
        row[0], row[1], row[header.index("sex")], row[column] = (
            f"RX{number}", f"PX{number}", "Q", formula)
        extra.append(tuple(row))
    folder = write_dataset(tmp_path / "formulas", releases=(header, [*rows, *extra]))
    target = tmp_path / "rejects.csv"
    import_dataset(folder, db, skip_invalid=True, rejects=target, today=TODAY)
    written = {r["release_id"]: r["education_level"] for r in csv_rows(target)}
    # Cells are read stripped (a leading tab or CR goes), then neutralised.
    assert written == {f"RX{n}": "'" + f.strip() for n, f in enumerate(FORMULAS_IN_FILES)}
    assert "'=cmd|' /C calc'!A0" in written.values()



def test_every_formula_prefix_is_neutralised_in_the_written_file(tmp_path):
    # Straight through write_rejects, so that tab and CR reach it unstripped.
    cells = pd.DataFrame({"release_id": [f"R{n}" for n in range(len(FORMULAS))],
                          "note": list(FORMULAS)})
    source = SimpleNamespace(header=("release_id", "note"), cells=cells, name="releases.csv",
                             lines=np.arange(2, 2 + len(FORMULAS)))
    table = SimpleNamespace(source=source, row_ok=np.zeros(len(FORMULAS), dtype=bool))
    target = tmp_path / "rejects.csv"
    write_rejects(target, {"releases": table}, ValidationReport(str(tmp_path))).publish()
    notes = [r["note"] for r in csv_rows(target)]
    assert notes == ["'" + f for f in FORMULAS]
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
