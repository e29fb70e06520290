"""``desist demo`` end to end through click."""

from __future__ import annotations

import json

import duckdb
from click.testing import CliRunner

from analysis.cli import main
from analysis.cli.common import EXIT_INVALID, EXIT_OK


def _run(*args):
    return CliRunner().invoke(main, ["demo", *args], catch_exceptions=False)


def test_demo_builds_database_and_keeps_dataset(tmp_path):
    db, out = tmp_path / "demo.duckdb", tmp_path / "dataset"
    result = _run("--db", str(db), "--releases", "2500", "--seed", "4", "--out", str(out))
    assert result.exit_code == EXIT_OK, result.output
    assert "releases" in result.output and "2,500" in result.output
    assert {p.name for p in out.iterdir()} == {
        "releases.csv", "programs.csv", "participation.csv", "events.csv",
        "expected_releases.csv", "providers.csv", "services.csv", "referrals.csv",
        "regions.geojson", "truth.json",
    }
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM releases").fetchone()[0] == 2500
        # Person ids are pseudonymised by the importer, release ids kept.
        person, release = con.execute(
            "SELECT person_id, release_id FROM releases ORDER BY release_id LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    assert release == "R0000001" and not person.startswith("P")


def test_demo_json_and_temporary_folder(tmp_path):
    db = tmp_path / "demo.duckdb"
    result = _run("--db", str(db), "--releases", "1500", "--json")
    assert result.exit_code == EXIT_OK, result.output
    payload = json.loads(result.output)
    assert payload["dataset_dir"] is None
    assert payload["generated"]["releases"] == 1500
    assert payload["import"]["tables"]["releases"]["inserted"] == 1500
    assert payload["import"]["rows_rejected"] == 0


def test_existing_database_is_refused_unless_replaced(tmp_path):
    db = tmp_path / "demo.duckdb"
    assert _run("--db", str(db), "--releases", "800").exit_code == EXIT_OK
    refused = _run("--db", str(db), "--releases", "800")
    assert refused.exit_code == EXIT_INVALID
    assert "already exists" in refused.output
    replaced = _run("--db", str(db), "--releases", "900", "--replace", "--json")
    assert replaced.exit_code == EXIT_OK, replaced.output
    con = duckdb.connect(str(db), read_only=True)
    try:
        assert con.execute("SELECT count(*) FROM releases").fetchone()[0] == 900
    finally:
        con.close()


def test_out_folder_with_other_table_files_is_refused(tmp_path):
    out = tmp_path / "dataset"
    out.mkdir()
    (out / "releases.xlsx").write_bytes(b"not really a workbook")
    result = _run("--db", str(tmp_path / "d.duckdb"), "--releases", "100", "--out", str(out))
    assert result.exit_code == EXIT_INVALID
    assert "releases.xlsx" in result.output


def test_bad_size_is_a_usage_error(tmp_path):
    result = _run("--db", str(tmp_path / "d.duckdb"), "--releases", "0")
    assert result.exit_code == 2
    assert not (tmp_path / "d.duckdb").exists()
