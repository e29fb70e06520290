"""Every Cox output beyond ``desist cox`` labels its standard errors.

The Programmes page table (:mod:`analysis.views.programs`) and the impact evaluation's
hazard ratios carry ``se_type``, ``se_model`` and ``se_robust``, and their intervals
use the ``se_type`` one.
"""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.impact.evaluation import HazardRatio, ImpactEvaluation
from analysis.survival.cox_study import fit_study_cox
from analysis.survival.episodes import Outcome
from analysis.views.filters import ViewFilters
from analysis.views.programs import SE_NOTE, program_effects
from analysis.views.terms import value_label
from tests.dashboard.pages import frames, open_page

Z = stats.norm.ppf(0.975)


def assert_interval_from(se, estimate, lower, upper):
    """``lower``/``upper`` are ``exp(log(estimate) -/+ z se)``."""
    np.testing.assert_allclose(np.log(estimate) - np.log(lower), Z * np.asarray(se), rtol=1e-9)
    np.testing.assert_allclose(np.log(upper) - np.log(estimate), Z * np.asarray(se), rtol=1e-9)


@pytest.fixture(scope="module")
def effects(demo_db):
    from analysis.store import connect_readonly

    with connect_readonly(demo_db) as con:
        return program_effects(con, ViewFilters())


def test_programmes_table_carries_both_standard_errors(effects, demo_con):
    table = effects.table
    estimated = table[table["status"] == "estimated"].set_index("program_id")
    for prefix in ("", "adj_"):
        assert (estimated[f"{prefix}se_type"] == "robust").all()
        model, robust = estimated[f"{prefix}se_model"], estimated[f"{prefix}se_robust"]
        assert (model > 0).all() and (robust > 0).all() and (model != robust).any()
        assert_interval_from(robust, estimated[f"{prefix}hr"], estimated[f"{prefix}hr_lower"],
                             estimated[f"{prefix}hr_upper"])
    assert table.loc[table["status"] != "estimated", "se_model"].isna().all()
    assert {"se_type", "se_model", "se_robust"} <= set(effects.forest.columns)
    assert SE_NOTE in effects.notes
    # the unadjusted model is desist cox's model of the programmes, both SEs included
    study = fit_study_cox(demo_con, [], programs=list(estimated.index))
    reference = study.model.summary.set_index("term").loc[estimated.index]
    for column in ("se_model", "se_robust"):
        np.testing.assert_allclose(estimated[column], reference[column], rtol=1e-6)


def test_programmes_page_shows_the_standard_error_columns(demo_db, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(demo_db))
    shown = frames(open_page("programs"))[1]
    # the page renders column codes and statuses in words (English here)
    assert {"Standard error used", "Standard error, model-based", "Standard error, robust",
            "Adjusted: standard error used", "Adjusted: standard error, model-based",
            "Adjusted: standard error, robust"} <= set(shown.columns)
    estimated = shown["Estimate status"] == "estimated"
    used = shown.loc[estimated, "Standard error used"]
    assert estimated.any() and (used == value_label("se_type", "robust")).all()


@pytest.mark.parametrize(("method", "cluster"), [("match", "pair_id"), ("iptw", "person_id")])
def test_impact_hazard_ratio_carries_both_standard_errors(demo_con, method, cluster):
    result = ImpactEvaluation(program="VOC-METAL", method=method,
                              outcome=Outcome.named("rearrest")).fit(demo_con)
    hr = result.hazard_ratio
    assert isinstance(hr, HazardRatio)
    payload = result.as_dict()["hazard_ratio"]
    assert list(payload) == ["estimate", "lower", "upper", "p", "se_type", "se_model",
                             "se_robust", "se_robust_cluster"]
    assert (payload["se_type"], payload["se_robust_cluster"]) == ("robust", cluster)
    assert payload["se_model"] > 0 and payload["se_robust"] > 0
    assert payload["se_model"] != pytest.approx(payload["se_robust"], rel=1e-6)
    assert_interval_from(hr.se_robust, hr.estimate, hr.lower, hr.upper)
    naive = result.naive["hazard_ratio"]
    assert list(naive) == ["estimate", "lower", "upper", "se_type", "se_model", "se_robust",
                           "se_robust_cluster"]
    assert (naive["se_type"], naive["se_robust_cluster"]) == ("robust", "person_id")
    assert_interval_from(naive["se_robust"], naive["estimate"], naive["lower"], naive["upper"])
