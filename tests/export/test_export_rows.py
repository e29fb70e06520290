"""The exported rows are the rows ``desist km`` and ``desist cox`` fit, not a second build."""

from __future__ import annotations

import duckdb
import numpy as np
import pandas as pd
import pytest

from analysis.export import counting_process_rows, episode_rows
from analysis.survival.cox import CoxModel
from analysis.survival.cox_study import fit_study_cox
from analysis.survival.episodes import Outcome, Selection
from analysis.survival.grouping import day_counts_by, resolve_grouping
from tests.reference.cox_study import load


@pytest.fixture(scope="module")
def con(tmp_path_factory):
    db = load(tmp_path_factory.mktemp("rows") / "study.duckdb")
    connection = duckdb.connect(db, read_only=True)
    yield connection
    connection.close()


@pytest.mark.parametrize("exposure", ["current", "ever"])
@pytest.mark.parametrize("programs", [["VOC"], ["VOC", "JOB"]])
def test_cox_on_the_exported_rows_is_desist_cox(con, exposure, programs):
    covariates = ["age_at_release", "sex"]
    fitted = fit_study_cox(con, covariates, programs=programs, exposure=exposure)
    rows = counting_process_rows(con, covariates, programs, exposure=exposure)
    refit = CoxModel(robust=True).fit(rows.frame, "stop", "event", covariates + programs,
                                      entry_col="start", cluster_col="person_id",
                                      reference=rows.categorical)
    for key in ("coef", "se_model", "se_robust"):
        np.testing.assert_allclose(refit.summary[key], fitted.model.summary[key], rtol=1e-10)
    assert refit.events == fitted.model.events
    assert rows.time_varying_programs == fitted.time_varying_programs
    assert (rows.frame["stop"] > rows.frame["start"]).all()


def test_episodes_count_as_km_counts(con):
    selection = Selection(sexes=("F", "M"))
    outcome = Outcome.named("rearrest")
    rows = episode_rows(con, outcome, selection, by="sex")
    counts = (rows.frame.groupby(["group", "time", "cause"]).size().unstack(fill_value=0)
              .reindex(columns=[0, 1, 2], fill_value=0).reset_index())
    table, _ = day_counts_by(con, resolve_grouping(con, "sex"), outcome, selection)
    expected = table.rename(columns={"n_censored": 0, "n_event": 1, "n_competing": 2})
    pd.testing.assert_frame_equal(
        counts[["group", "time", 1, 2, 0]].reset_index(drop=True),
        expected[["group", "time", 1, 2, 0]].reset_index(drop=True), check_dtype=False,
        check_names=False)
    assert rows.frame["release_id"].is_unique


def test_baseline_programme_column_is_the_km_participant_split(con):
    rows = episode_rows(con, by="program:VOC", programs=["VOC"])
    participant = rows.frame["group"].eq("participant").astype("int64")
    assert (rows.frame["VOC"] == participant).all()
