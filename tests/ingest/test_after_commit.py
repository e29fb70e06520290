"""The caller's post-commit step: run on the new copy before the swap; never undoes the import."""

from __future__ import annotations

import subprocess
import sys
import warnings

import duckdb
import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.errors import AnalysisError
from analysis.ingest import import_dataset
from analysis.store import connect_readonly
from analysis.views import import_form
from tests.ingest.conftest import TODAY


def _dataset(folder):
    folder.mkdir()
    (folder / "releases.csv").write_text(
        "release_id,person_id,release_date,facility,follow_up_end\n"
        "R1,P1,2021-03-04,North,2023-12-31\n")
    return folder


def _releases(db) -> int:
    con = connect_readonly(db)
    try:
        return con.execute("SELECT count(*) FROM releases").fetchone()[0]
    finally:
        con.close()


def test_the_step_runs_on_the_new_copy_before_it_is_swapped_in(tmp_path):
    db = tmp_path / "study.duckdb"
    seen = []

    def step(con: duckdb.DuckDBPyConnection) -> None:
        seen.append((con.execute("SELECT count(*) FROM releases").fetchone()[0], db.exists()))
        con.execute("CREATE TABLE written_after_commit AS SELECT 1 AS x")

    import_dataset(_dataset(tmp_path / "data"), db, today=TODAY, after_commit=step)
    assert seen == [(1, False)]  # the committed rows, and the live file not there yet
    con = connect_readonly(db)
    try:
        assert con.execute("SELECT x FROM written_after_commit").fetchone() == (1,)
    finally:
        con.close()


def test_the_step_runs_with_less_duckdb_memory_than_the_import(tmp_path, monkeypatch):
    """DuckDB fills its limit with cached blocks: the views step gets a smaller one."""
    from analysis.ingest import importer

    monkeypatch.setenv("DESIST_IMPORT_MEMORY_MB", "3000")
    limits = []

    def step(con: duckdb.DuckDBPyConnection) -> None:
        limits.append(con.execute(
            "SELECT value FROM duckdb_settings() WHERE name = 'memory_limit'").fetchone()[0])

    import_dataset(_dataset(tmp_path / "data"), tmp_path / "study.duckdb", today=TODAY,
                   after_commit=step)
    expected = importer.AFTER_COMMIT_MEMORY_MB * 1_000_000
    assert len(limits) == 1
    value, unit = limits[0].split()
    assert unit == "MiB" and abs(float(value) * 2**20 - expected) < 2**20  # 1000 MB in MiB
    monkeypatch.setenv("DESIST_IMPORT_MEMORY_MB", "500")  # never more than the import's
    limits.clear()
    import_dataset(_dataset(tmp_path / "data2"), tmp_path / "second.duckdb", today=TODAY,
                   after_commit=step)
    value, unit = limits[0].split()
    assert abs(float(value) * 2**20 - 500_000_000) < 2**20


def test_without_a_step_nothing_is_stored(tmp_path):
    db = tmp_path / "study.duckdb"
    import_dataset(_dataset(tmp_path / "data"), db, today=TODAY)
    con = connect_readonly(db)
    try:
        assert con.execute("SELECT count(*) FROM stored_views").fetchone()[0] == 0
    finally:
        con.close()


def test_a_step_the_data_cannot_give_yet_is_ignored_quietly(tmp_path):
    def not_yet(con):
        raise AnalysisError("no releases match the selection")

    db = tmp_path / "study.duckdb"
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        report = import_dataset(_dataset(tmp_path / "data"), db, today=TODAY,
                                after_commit=not_yet)
    assert report.tables["releases"].inserted == 1
    assert _releases(db) == 1


def test_a_failing_step_warns_and_the_import_stands(tmp_path):
    def half_done(con):
        con.execute("BEGIN TRANSACTION")
        con.execute("CREATE TABLE half AS SELECT 1 AS x")
        raise RuntimeError("no luck")

    db = tmp_path / "study.duckdb"
    with pytest.warns(UserWarning, match="half_done.*failed: no luck"):
        import_dataset(_dataset(tmp_path / "data"), db, today=TODAY, after_commit=half_done)
    assert _releases(db) == 1
    con = connect_readonly(db)
    try:  # the step's unfinished transaction was rolled back, not kept
        assert con.execute("SELECT count(*) FROM information_schema.tables "
                           "WHERE table_name = 'half'").fetchone()[0] == 0
    finally:
        con.close()


def test_the_importer_does_not_load_the_dashboard_views():
    code = ("import sys, analysis.ingest.importer; "
            "print(sorted(m for m in sys.modules if m.startswith('analysis.views')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"


def _stored_view_names(db) -> set[str]:
    con = connect_readonly(db)
    try:
        return {v for (v,) in con.execute("SELECT view FROM stored_views").fetchall()}
    finally:
        con.close()


def test_desist_import_stores_the_default_views_unless_told_not_to(tmp_path):
    data = _dataset(tmp_path / "data")
    runner = CliRunner()
    for name, extra in (("with.duckdb", []), ("without.duckdb", ["--no-stored-views"])):
        result = runner.invoke(main, ["import", str(data), "--db", str(tmp_path / name), *extra],
                               catch_exceptions=False)
        assert result.exit_code == 0, result.output
    assert "programs:program_effects" in _stored_view_names(tmp_path / "with.duckdb")
    assert _stored_view_names(tmp_path / "without.duckdb") == set()


def test_the_data_page_stores_the_default_views(tmp_path):
    staged = import_form.stage_files(
        {"releases": ("releases.csv", b"release_id,person_id,release_date,facility,follow_up_end\n"
                                      b"R1,P1,2021-03-04,North,2023-12-31\n")})
    try:
        outcome = import_form.import_staged(staged, tmp_path / "study.duckdb", today=TODAY)
    finally:
        import_form.discard(staged)
    assert outcome.ok, outcome.message
    assert "programs:program_effects" in _stored_view_names(tmp_path / "study.duckdb")
