"""``desist validate`` and ``desist import``: exit codes, output, --json, no tracebacks."""

from __future__ import annotations

import json

import click
import pytest
from click.testing import CliRunner

from analysis.cli import main
from tests.ingest.conftest import (
    VALID,
    file_digest,
    replace_cell,
    run_desist,
    write_dataset,
)


@pytest.fixture
def runner():
    return CliRunner()


def _invoke(runner, *args):
    result = runner.invoke(main, [str(a) for a in args], catch_exceptions=False)
    assert "Traceback" not in result.output and "Traceback" not in result.stderr
    return result


def _bad_dataset(tmp_path):
    return write_dataset(
        tmp_path / "bad", releases=replace_cell("releases", 1, "release_date", "2020-13-10")
    )


def _all_commands(group: click.Group, prefix=()):
    for name, command in group.commands.items():
        yield (*prefix, name)
        if isinstance(command, click.Group):
            yield from _all_commands(command, (*prefix, name))


@pytest.mark.parametrize("path", [(), *sorted(_all_commands(main))], ids=lambda p: " ".join(p))
def test_help_works_on_every_command(runner, path):
    result = _invoke(runner, *path, "--help")
    assert result.exit_code == 0
    assert "Usage:" in result.output


def test_ingest_commands_are_registered():
    assert {"validate", "import"} <= set(main.commands)


def test_validate_valid_dataset_exits_0(runner, dataset):
    result = _invoke(runner, "validate", dataset)
    assert result.exit_code == 0
    assert "valid: releases: 4, programs: 2, participation: 2, events: 3" in result.output


def test_validate_invalid_dataset_exits_2_and_names_file_line_column_value(runner, tmp_path):
    result = _invoke(runner, "validate", _bad_dataset(tmp_path))
    assert result.exit_code == 2
    assert (
        "releases.csv, line 3, column 'release_date': not a valid date (found '2020-13-10'); "
        "expected a date written YYYY-MM-DD"
    ) in result.stderr


def test_validate_json(runner, tmp_path, dataset):
    good = json.loads(_invoke(runner, "validate", dataset, "--json").output)
    assert good["ok"] is True and good["rows_read"]["releases"] == 4
    result = _invoke(runner, "validate", _bad_dataset(tmp_path), "--json")
    assert result.exit_code == 2
    bad = json.loads(result.stdout)
    assert bad["ok"] is False
    problem = next(p for p in bad["problems"] if p["kind"] == "bad_date")
    assert problem == {
        "kind": "bad_date",
        "file": "releases.csv",
        "line": 3,
        "column": "release_date",
        "value": "2020-13-10",
        "expected": "a date written YYYY-MM-DD",
        "message": "not a valid date",
    }


def test_import_prints_counts_per_table_and_exits_0(runner, dataset, db):
    result = _invoke(runner, "import", dataset, "--db", db)
    assert result.exit_code == 0, result.stderr
    lines = result.output.splitlines()
    assert lines[1].split() == ["table", "read", "inserted", "updated", "unchanged", "rejected"]
    assert lines[2].split() == ["releases", "4", "4", "0", "0", "0"]
    assert lines[5].split() == ["events", "3", "3", "0", "0", "0"]
    assert "new covariates: education_level (categorical), risk_score (numeric)" in result.output
    assert "1 event(s) dated before the person's first release" in result.output


def test_import_json(runner, dataset, db):
    result = _invoke(runner, "import", dataset, "--db", db, "--json")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["ok"] is True
    assert payload["tables"]["releases"]["inserted"] == 4
    assert payload["events_before_first_release"] == 1
    again = json.loads(_invoke(runner, "import", dataset, "--db", db, "--json").stdout)
    assert again["tables"]["releases"] == {
        **payload["tables"]["releases"],
        "inserted": 0,
        "unchanged": 4,
    }


def test_import_invalid_exits_2_and_leaves_the_database_unchanged(runner, tmp_path, dataset, db):
    _invoke(runner, "import", dataset, "--db", db)
    before = file_digest(db)
    result = _invoke(runner, "import", _bad_dataset(tmp_path), "--db", db)
    assert result.exit_code == 2
    assert "nothing was written" in result.stderr
    assert "line 3, column 'release_date'" in result.stderr
    assert file_digest(db) == before
    as_json = _invoke(runner, "import", _bad_dataset(tmp_path), "--db", db, "--json")
    assert as_json.exit_code == 2
    payload = json.loads(as_json.stdout)
    assert payload["ok"] is False and payload["problem_counts"] == {"bad_date": 1}
    assert file_digest(db) == before


def test_import_skip_invalid_with_rejects(runner, tmp_path, db):
    rejects = tmp_path / "rejects.csv"
    result = _invoke(
        runner, "import", _bad_dataset(tmp_path), "--db", db, "--skip-invalid", "--rejects", rejects
    )
    assert result.exit_code == 0, result.stderr
    # The bad release plus that person's participation and event.
    assert f"3 rejected row(s) written to {rejects}" in result.output
    # The confidentiality notice, the header and the three rows.
    assert rejects.read_text(encoding="utf-8").count("\n") == 5


def test_skip_invalid_without_rejects_exits_2(runner, dataset, db):
    result = _invoke(runner, "import", dataset, "--db", db, "--skip-invalid")
    assert result.exit_code == 2 and "--rejects" in result.stderr


def test_db_from_environment(runner, dataset, tmp_path, monkeypatch):
    target = tmp_path / "from-env.duckdb"
    monkeypatch.setenv("DESIST_DB", str(target))
    assert _invoke(runner, "import", dataset).exit_code == 0
    assert target.exists()


def test_unexpected_error_exits_1_without_traceback(runner, dataset, db, monkeypatch):
    from analysis.cli import ingest_commands

    def broken(*args, **kwargs):
        raise RuntimeError("simulated bug")

    monkeypatch.setattr(ingest_commands, "import_dataset", broken)
    monkeypatch.delenv("DESIST_DEBUG", raising=False)
    result = _invoke(runner, "import", dataset, "--db", db)
    assert result.exit_code == 1
    assert "internal error: RuntimeError: simulated bug" in result.stderr


def test_missing_dataset_folder_is_a_usage_error(runner, tmp_path, db):
    result = _invoke(runner, "import", tmp_path / "nowhere", "--db", db)
    assert result.exit_code == 2 and "does not exist" in result.stderr
    assert not db.exists()


# ------------------------------------------------------- the real command, real stderr


def test_real_command_bad_input_shows_no_traceback(tmp_path):
    folder = write_dataset(tmp_path / "bad", events=None)
    (folder / "events.parquet").write_bytes(b"\x00garbage" * 100)
    header, rows = VALID["releases"]
    write_dataset(folder, releases=((*header, "jmbg"), [(*r, "0101990710000") for r in rows]))
    db = tmp_path / "x.duckdb"
    # One real process (the in-process CliRunner tests cover the rest); the
    # concurrency tests run the real command on valid input.
    done = run_desist("import", folder, "--db", db)
    assert done.returncode == 2, done.stderr
    assert "Traceback" not in done.stderr + done.stdout
    assert "events.parquet" in done.stderr and "jmbg" in done.stderr
    assert not db.exists()


def test_key_file_option_and_wrong_key_through_the_cli(runner, tmp_path, dataset, db):
    key = tmp_path / "keys" / "k.key"
    assert _invoke(runner, "import", dataset, "--db", db, "--key-file", key).exit_code == 0
    assert key.exists() and not db.with_name(db.name + ".key").exists()
    before = file_digest(db)
    other = tmp_path / "other.key"
    other.write_text("cd" * 32)
    result = _invoke(runner, "import", dataset, "--db", db, "--key-file", other)
    assert result.exit_code == 2
    assert "is not the key" in result.stderr and "use the original key" in result.stderr
    assert file_digest(db) == before
    # Without --key-file the default key beside the database does not exist: refused too.
    result = _invoke(runner, "import", dataset, "--db", db)
    assert result.exit_code == 2 and "--key-file" in result.stderr
    assert file_digest(db) == before


def test_validate_against_a_database_checks_references_there(runner, tmp_path, dataset, db):
    _invoke(runner, "import", dataset, "--db", db)
    events_only = write_dataset(tmp_path / "more", tables={"releases": VALID["releases"]})
    (events_only / "events.csv").write_text(
        "person_id,event_date,event_type\nPERSON-ÄÖ-000789,2023-05-05,rearrest\n"
        "STRANGER-1,2023-05-05,rearrest\n",
        encoding="utf-8",
    )
    result = _invoke(runner, "validate", events_only, "--db", db, "--json")
    payload = json.loads(result.stdout)
    assert result.exit_code == 2
    assert [(p["kind"], p["line"]) for p in payload["problems"]] == [("unknown_person", 3)]


def test_every_option_in_the_import_guide_exists():
    import re

    from tests.ingest.conftest import ROOT

    guide = (ROOT / "docs" / "import.md").read_text(encoding="utf-8")
    mentioned = set(re.findall(r"(?<![\w-])(--[a-z][a-z-]+)", guide))
    known = {
        opt
        for name in ("import", "validate")
        for param in main.commands[name].params
        for opt in param.opts
    } | {"--help", "--rows", "--profile", "--reimport", "--json"}
    assert mentioned and mentioned <= known, mentioned - known
    for name in ("DESIST_DB", "DESIST_KEY_FILE", "DESIST_DEBUG"):
        assert name in guide


def test_validate_against_a_database_with_the_wrong_key_says_so(runner, tmp_path, dataset, db):
    _invoke(runner, "import", dataset, "--db", db)
    other = tmp_path / "other.key"
    other.write_text("ef" * 32)
    result = _invoke(runner, "validate", dataset, "--db", db, "--key-file", other)
    assert result.exit_code == 2 and "is not the key" in result.stderr
