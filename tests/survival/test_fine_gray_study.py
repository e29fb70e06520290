"""``desist cox --model finegray`` on a demo database: the JSON of ``desist cox`` with the
model named, R ``finegray`` + ``coxph(weights = fgwt, cluster = person_id)`` agreement on
the demo's own rows, and a clear refusal of what the model cannot take."""

from __future__ import annotations

import json
import shutil
import subprocess

import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.store import connect_readonly
from analysis.survival.cox_study import cox_frame
from analysis.survival.episodes import Outcome

ARGS = ("--covariates", "age_at_release,sex", "--programs", "VOC-METAL",
        "--events", "rearrest")

# The demo's rows, fitted by R as docs/cox.md says (sex's reference: its most frequent
# level, M, as the engine's).
R_FIT = """
suppressPackageStartupMessages(library(survival))
args <- commandArgs(trailingOnly = TRUE)
d <- read.csv(args[1], stringsAsFactors = FALSE, check.names = FALSE)
d <- d[d$time > 0, ]
d$sex <- relevel(factor(d$sex), ref = "M")
d$status <- factor(d$cause, levels = 0:2)
fg <- finegray(Surv(time, status) ~ ., data = d[, c("time", "status", "age_at_release",
                                                    "sex", "prog", "person_id")],
               etype = "1")
fit <- coxph(Surv(fgstart, fgstop, fgstatus) ~ age_at_release + sex + prog, data = fg,
             weights = fgwt, cluster = person_id, ties = "efron")
cat(format(c(coef(fit), sqrt(diag(fit$naive.var)), sqrt(diag(fit$var))), digits = 15),
    sep = "\\n")
"""


def _json(demo_db, *extra):
    result = CliRunner().invoke(main, ["cox", "--db", str(demo_db), *ARGS, *extra, "--json"])
    assert result.exit_code == 0, result.output
    return json.loads(result.output)


def test_the_json_is_desist_cox_s_with_the_model_named(demo_db):
    cox, fine_gray = _json(demo_db), _json(demo_db, "--model", "finegray")
    assert set(fine_gray) == set(cox)
    assert cox["model"] == "cox" and cox["competing_reasons"] == []
    assert fine_gray["model"] == "finegray"
    assert fine_gray["competing_reasons"] == ["death", "deportation", "emigration"]
    assert [t["term"] for t in fine_gray["terms"]] == [t["term"] for t in cox["terms"]]
    assert fine_gray["se_robust_cluster"] == "person_id" and fine_gray["ph_test"] == []
    # competing ends are no longer censoring: the estimates move
    assert fine_gray["terms"][0]["coef"] != pytest.approx(cox["terms"][0]["coef"], rel=1e-3)


def test_the_demo_s_fit_agrees_with_r_finegray(demo_db, tmp_path):
    rscript = shutil.which("Rscript")
    if rscript is None:
        pytest.fail("Rscript is not installed: install r-base-core and r-cran-survival")
    with connect_readonly(demo_db) as con:
        rows = cox_frame(con, ["age_at_release", "sex"], ["VOC-METAL"],
                         outcome=Outcome.named("rearrest"))
    frame = rows.frame.rename(columns={"VOC-METAL": "prog"})
    frame[["time", "cause", "age_at_release", "sex", "prog", "person_id"]].to_csv(
        tmp_path / "rows.csv", index=False)
    (tmp_path / "fit.R").write_text(R_FIT, encoding="utf-8")
    printed = subprocess.run([rscript, str(tmp_path / "fit.R"), str(tmp_path / "rows.csv")],
                             check=True, capture_output=True, text=True, timeout=120).stdout
    values = [float(v) for v in printed.split()]
    coef, se_model, se_robust = values[:3], values[3:6], values[6:9]
    terms = _json(demo_db, "--model", "finegray")["terms"]
    assert [t["coef"] for t in terms] == pytest.approx(coef, rel=1e-4)
    assert [t["se_model"] for t in terms] == pytest.approx(se_model, rel=1e-4)
    assert [t["se_robust"] for t in terms] == pytest.approx(se_robust, rel=1e-4)


@pytest.mark.parametrize("extra", [("--programs", "PROB-SUPPORT"), ("--strata", "sex")])
def test_what_the_model_cannot_take_is_refused_by_name(demo_db, extra):
    result = CliRunner().invoke(main, ["cox", "--db", str(demo_db), "--covariates",
                                       "age_at_release", *extra, "--model", "finegray"])
    assert result.exit_code == 2
    assert "Fine–Gray model takes one row per release" in result.output
