"""``desist export`` writes safely: checked paths, atomic files, portable names, clear errors."""

from __future__ import annotations

import os
import stat

import pandas as pd
import pytest
from click.testing import CliRunner
from hypothesis import given
from hypothesis import strategies as st

import analysis
from analysis.cli import main
from analysis.errors import AnalysisError
from analysis.export import formats
from analysis.export.names import STATA_MAX_NAME, is_portable, portable_name, portable_names
from tests.reference.cox_study import load


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    return load(tmp_path_factory.mktemp("export") / "study.duckdb")


def _export(*args: str):
    return CliRunner().invoke(main, ["export", *args])


def _cp(db, out, *extra: str):
    return _export("counting-process", "--db", str(db), "--covariates", "age_at_release,sex",
                   "--programs", "VOC,JOB", "--out", str(out), *extra)


def test_writes_the_file_and_its_dictionary_owner_only(db, tmp_path):
    out = tmp_path / "cox.csv"
    result = _cp(db, out)
    assert result.exit_code == 0, result.output
    dictionary = tmp_path / "cox.csv.dictionary.md"
    assert "Wrote 641 rows (486 releases)" in result.output
    for path in (out, dictionary):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cox.csv", "cox.csv.dictionary.md"]


@pytest.mark.parametrize("target", ["study.duckdb", "study.duckdb.key", "study.duckdb.wal"])
def test_never_overwrites_the_database_or_its_files_even_with_force(db, target):
    out = os.path.join(os.path.dirname(db), target)
    before = os.path.exists(out) and open(out, "rb").read()
    result = _cp(db, out, "--force", "--format", "csv")
    assert result.exit_code == 2
    assert "--force does not allow this" in result.output and target in result.output
    assert (os.path.exists(out) and open(out, "rb").read()) == before


def test_refuses_an_existing_file_without_force_and_replaces_it_with(db, tmp_path):
    out = tmp_path / "cox.csv"
    out.write_text("keep me\n")
    refused = _cp(db, out)
    assert refused.exit_code == 2 and "already exists" in refused.output
    assert out.read_text() == "keep me\n"
    assert not (tmp_path / "cox.csv.dictionary.md").exists()
    assert _cp(db, out, "--force").exit_code == 0
    assert out.read_text().startswith("person_id,release_id,")


def test_an_existing_dictionary_is_refused_too(db, tmp_path):
    (tmp_path / "cox.dta.dictionary.md").write_text("mine\n")
    result = _cp(db, tmp_path / "cox.dta")
    assert result.exit_code == 2 and "cox.dta.dictionary.md already exists" in result.output
    assert not (tmp_path / "cox.dta").exists()


def test_paths_are_checked_before_the_database_is_read(tmp_path):
    (tmp_path / "out.csv").write_text("x\n")
    result = _cp(tmp_path / "no-such.duckdb", tmp_path / "out.csv")
    assert result.exit_code == 2 and "out.csv already exists" in result.output


@pytest.mark.parametrize(("out", "expected"), [
    ("missing/cox.csv", "does not exist; create it first"),
    (".", "is a directory"),  # click refuses it first, naming it
    ("cox.txt", "say which format with --format"),
])
def test_bad_output_paths_name_the_file_and_what_was_expected(db, tmp_path, out, expected):
    result = _cp(db, tmp_path / out)
    assert result.exit_code == 2 and expected in result.output, result.output


def test_a_failed_write_leaves_no_file_behind(db, tmp_path, monkeypatch):
    def broken(frame, path, fmt, **_):
        path.write_text("half a fi")
        raise OSError(28, "No space left on device")

    monkeypatch.setattr("analysis.export.writer.write_frame", broken)
    result = _cp(db, tmp_path / "cox.parquet")
    assert result.exit_code != 0
    assert list(tmp_path.iterdir()) == []


def test_episodes_refuse_a_post_release_programme_as_km_does(db, tmp_path):
    result = _export("episodes", "--db", str(db), "--programs", "JOB", "--out",
                     str(tmp_path / "e.csv"))
    assert result.exit_code == 2 and "takes place after release" in result.output
    assert list(tmp_path.iterdir()) == []


def test_unknown_covariate_is_refused_with_the_choices(db, tmp_path):
    result = _export("counting-process", "--db", str(db), "--covariates", "shoe_size",
                     "--out", str(tmp_path / "c.csv"))
    assert result.exit_code == 2
    assert "unknown covariate(s) ['shoe_size']; available:" in result.output


def test_dictionary_lists_every_column_and_the_facts(db, tmp_path):
    out = tmp_path / "episodes.dta"
    assert _export("episodes", "--db", str(db), "--by", "sex", "--covariates",
                   "age_at_release", "--programs", "VOC", "--out", str(out)).exit_code == 0
    text = (tmp_path / "episodes.dta.dictionary.md").read_text(encoding="utf-8")
    for column in pd.read_stata(out).columns:
        assert f"| `{column}` |" in text, column
    assert "| Data date | 2022-12-31" in text
    assert f"Desistance {analysis.__version__}" in text
    assert "pseudonymized person_id" in text and "not suppressed" in text
    assert "survfit(Surv(time, event) ~ group" in text and "sts list" in text


def test_stata_names_longer_than_32_characters_are_refused():
    long = "a" * (STATA_MAX_NAME + 1)
    assert portable_names([long]) == {long: long}
    with pytest.raises(AnalysisError, match="allows at most 32"):
        portable_names([long], stata=True)


def test_text_over_stata_width_is_written_as_strl(tmp_path):
    frame = pd.DataFrame({"note": ["x" * 3000, None], "n": [1, 2]})
    formats.write_frame(frame, tmp_path / "t.dta", "dta")
    back = pd.read_stata(tmp_path / "t.dta")
    assert back["note"].tolist() == ["x" * 3000, ""]


@given(st.text(max_size=40))
def test_portable_names_are_valid_for_r_and_stata(name):
    new = portable_name(name)
    assert is_portable(new)
    assert portable_name(new) == new  # stable: a portable name is kept
    if is_portable(name):
        assert new == name


@given(st.lists(st.text(max_size=12), unique=True, max_size=8))
def test_portable_names_never_merge_two_columns(names):
    try:
        mapping = portable_names(names)
    except AnalysisError as exc:
        assert "would both be named" in str(exc)
    else:
        assert len(set(mapping.values())) == len(names)


def test_the_api_refuses_a_folder_too(tmp_path):
    from analysis.errors import UnsafeOutputPathError
    from analysis.export.files import check_output_path

    with pytest.raises(UnsafeOutputPathError, match="is a folder"):
        check_output_path(tmp_path, db=tmp_path / "s.duckdb", key=tmp_path / "s.duckdb.key")
