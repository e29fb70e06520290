"""Files written by the generator: contract format, exact size, determinism, import."""

from __future__ import annotations

import hashlib

import duckdb
import pandas as pd
import pytest

from analysis.contract import TABLES
from analysis.demo import DemoGenerator, load_truth
from analysis.demo.generator import EXTRA_RELEASE_COLUMNS, WRITTEN_COLUMNS
from analysis.errors import AnalysisError
from analysis.ingest import import_dataset, validate_dataset

from .conftest import SMALL_RELEASES, SMALL_SEED

FILES = ("releases.csv", "programs.csv", "participation.csv", "events.csv",
         "expected_releases.csv")


def _digest(folder) -> dict[str, str]:
    return {
        name: hashlib.sha256((folder / name).read_bytes()).hexdigest()
        for name in (*FILES, "truth.json")
    }


def test_columns_follow_the_contract(small_dir):
    for name, table in TABLES.items():
        header = pd.read_csv(small_dir / f"{name}.csv", nrows=0).columns.tolist()
        assert header == list(WRITTEN_COLUMNS[name])
        assert set(table.required_columns) <= set(header)
        extra = set(header) - set(table.column_names)
        if name in ("releases", "expected_releases"):
            assert extra == set(EXTRA_RELEASE_COLUMNS)
        else:
            assert extra == set()


def test_exact_number_of_releases_and_truth(small_dir, small):
    assert len(small["releases"]) == SMALL_RELEASES
    assert small["releases"]["release_id"].is_unique
    truth = load_truth(small_dir)
    assert truth["seed"] == SMALL_SEED
    assert truth["rows"]["releases"] == SMALL_RELEASES
    assert truth["rows"]["events"] == len(small["events"])


def test_same_seed_same_bytes_other_seed_other_data(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    DemoGenerator(seed=11).generate(a, releases=3000)
    DemoGenerator(seed=11).generate(b, releases=3000)
    DemoGenerator(seed=12).generate(c, releases=3000)
    assert _digest(a) == _digest(b)
    assert _digest(a)["releases.csv"] != _digest(c)["releases.csv"]


def test_small_chunks_give_valid_exact_output(tmp_path):
    summary = DemoGenerator(seed=3, chunk_persons=700).generate(tmp_path, releases=5000)
    releases = pd.read_csv(tmp_path / "releases.csv")
    assert summary.rows["releases"] == len(releases) == 5000
    assert releases["release_id"].is_unique
    assert validate_dataset(tmp_path).ok


def test_generated_dataset_is_valid(small_dir):
    report = validate_dataset(small_dir)
    assert report.ok, report.summary_lines()


def test_imports_cleanly_and_extra_columns_become_covariates(small_dir, small, tmp_path):
    db = tmp_path / "demo.duckdb"
    report = import_dataset(small_dir, db)
    for name in TABLES:
        counts = report.tables[name]
        assert counts.rejected == 0 and counts.inserted == counts.read
    assert report.new_covariates == {
        "education_level": "categorical",
        "employment_before": "categorical",
    }
    con = duckdb.connect(str(db), read_only=True)
    try:
        n = con.execute("SELECT count(*) FROM releases").fetchone()[0]
        levels = con.execute(
            "SELECT DISTINCT education_level FROM releases ORDER BY 1"
        ).fetchall()
    finally:
        con.close()
    assert n == len(small["releases"])
    assert [v for (v,) in levels] == ["higher", "none", "primary", "secondary"]


@pytest.mark.parametrize(("kwargs", "releases"), [({}, 0), ({"seed": -1}, 10)])
def test_refuses_bad_arguments(tmp_path, kwargs, releases):
    with pytest.raises(AnalysisError):
        DemoGenerator(**kwargs).generate(tmp_path, releases=releases)
