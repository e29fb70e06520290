"""``desist export`` round-trips: R refits the exported rows to ``desist cox``/``km``'s numbers.

The R lines are the ones the data dictionary gives (tests/reference/export_refit.R runs
the dictionary's ```r block), so the documentation is what is checked. R reads the CSV
and the Stata .dta (haven::read_dta); R's arrow package is not installed here, so the
Parquet file is checked by reading it back in Python: the same rows and values, and the
engine's Cox model refitted on them gives ``desist cox``'s numbers.

The demo database has what makes an export go wrong: programme ids that R and Stata do
not accept as names (VOC-METAL), a post-release and a community programme split into
(start, stop] rows, text and numeric categorical covariates, an imported covariate with
missing values, and a stratum.
"""

from __future__ import annotations

import json
import shutil
import subprocess

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.export.names import portable_name
from analysis.survival.cox import CoxModel
from tests.reference import REFERENCE

COX_ARGS = ["--events", "rearrest",
            "--covariates", "age_at_release,sex,offense_category,release_year,education_level",
            "--programs", "VOC-METAL,PROB-SUPPORT,COMM-DRUG", "--strata", "facility"]
KM_ARGS = ["--events", "rearrest,reconviction", "--by", "offense_category"]
RELATIVE = 1e-6


def _desist(args: list[str]) -> str:
    result = CliRunner().invoke(main, args, catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result.output


def _refit_in_r(dictionary, out_dir):
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.fail("Rscript is not installed: install r-base-core, r-cran-survival and "
                    "r-cran-haven (tests/system-packages.sh does as root)")
    done = subprocess.run([rscript, str(REFERENCE / "export_refit.R"), str(dictionary),
                           str(out_dir)], capture_output=True, text=True, timeout=120)
    assert done.returncode == 0, done.stderr


@pytest.fixture(scope="module")
def cox_json(demo_db):
    return json.loads(_desist(["cox", "--db", str(demo_db), *COX_ARGS, "--json"]))


@pytest.fixture(scope="module")
def km_json(demo_db):
    return json.loads(_desist(["km", "--db", str(demo_db), *KM_ARGS, "--json"]))


def _r_term(term: str) -> str:
    """R's name of an engine term: ``sex[F]`` -> ``sexF``, ``VOC-METAL`` -> ``VOC_METAL``."""
    if term.endswith("]"):
        name, level = term[:-1].split("[", 1)
        return portable_name(name) + level
    return portable_name(term)


@pytest.mark.parametrize("fmt", ["csv", "dta"])
def test_r_refits_the_counting_process_rows_to_desist_cox(fmt, demo_db, cox_json, tmp_path):
    out = tmp_path / f"cox.{fmt}"
    _desist(["export", "counting-process", "--db", str(demo_db), *COX_ARGS,
             "--format", fmt, "--out", str(out)])
    _refit_in_r(f"{out}.dictionary.md", tmp_path / "r")
    fitted = pd.read_csv(tmp_path / "r" / "cox.csv").set_index("term")
    assert fitted["events"].iloc[0] == cox_json["events"]
    terms = cox_json["terms"]
    assert sorted(fitted.index) == sorted(_r_term(t["term"]) for t in terms)
    for term in terms:
        r = fitted.loc[_r_term(term["term"])]
        for key in ("coef", "se_model", "se_robust"):
            assert r[key] == pytest.approx(term[key], rel=RELATIVE), (term["term"], key)


@pytest.mark.parametrize("fmt", ["csv", "dta"])
def test_r_refits_the_episodes_to_desist_km(fmt, demo_db, km_json, tmp_path):
    out = tmp_path / f"episodes.{fmt}"
    _desist(["export", "episodes", "--db", str(demo_db), *KM_ARGS, "--format", fmt,
             "--out", str(out)])
    _refit_in_r(f"{out}.dictionary.md", tmp_path / "r")
    curves = pd.read_csv(tmp_path / "r" / "km.csv", keep_default_na=False)
    medians = pd.read_csv(tmp_path / "r" / "km_median.csv").set_index("group")["median"]
    groups = km_json["groups"]
    assert sorted(curves["group"].unique()) == sorted(g["group"] for g in groups)
    for group in groups:
        r = curves[curves["group"] == group["group"]].set_index("time")
        for horizon in group["horizons"]:
            row = r.loc[horizon["days"]]
            assert row["n_risk"] == horizon["n_risk"]
            for key in ("survival", "se", "lower", "upper"):
                assert row[key] == pytest.approx(horizon[key], rel=RELATIVE), (group, key)
        if group["median_days"] is None:  # not reached: R says NA
            assert np.isnan(medians[group["group"]])
        else:
            assert medians[group["group"]] == pytest.approx(group["median_days"],
                                                            rel=RELATIVE)


def test_parquet_reads_back_to_the_rows_and_refits_to_desist_cox(demo_db, cox_json, tmp_path):
    from analysis.export import counting_process_rows
    from analysis.store import connect_readonly
    from analysis.survival.episodes import Outcome

    out = tmp_path / "cox.parquet"
    _desist(["export", "counting-process", "--db", str(demo_db), *COX_ARGS, "--out", str(out)])
    back = pd.read_parquet(out)
    con = connect_readonly(demo_db)
    try:
        rows = counting_process_rows(
            con, COX_ARGS[3].split(","), COX_ARGS[5].split(","), strata="facility",
            outcome=Outcome.from_types("rearrest"))
    finally:
        con.close()
    expected = rows.frame.rename(columns=portable_name)
    assert list(back.columns) == list(expected.columns)
    assert (pd.to_datetime(back["release_date"]) == expected["release_date"]).all()
    back = back.drop(columns="release_date")
    pd.testing.assert_frame_equal(back, expected.drop(columns="release_date"),
                                  check_dtype=False)
    covariates = [portable_name(c) for c in (*rows.covariates, *rows.programs)]
    model = CoxModel(robust=True).fit(
        back, "stop", "event", covariates, entry_col="start", cluster_col="person_id",
        strata="facility", categorical=["release_year"])
    by_term = {t["term"]: t for t in cox_json["terms"]}
    programme = {portable_name(p): p for p in rows.programs}  # VOC_METAL -> VOC-METAL
    assert len(model.summary) == len(by_term)
    for row in model.summary.itertuples():
        name = programme.get(row.term, row.term)
        assert np.isclose(row.coef, by_term[name]["coef"], rtol=RELATIVE, atol=0)
        assert np.isclose(row.se_robust, by_term[name]["se_robust"], rtol=RELATIVE, atol=0)
