"""The database path (SQL aggregation) gives the same answers as the per-release path."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.errors import AnalysisError
from analysis.survival.competing_risks import CumulativeIncidence, cumulative_incidence_from_db
from analysis.survival.episodes import Outcome, Selection, build_episodes, materialize_episodes
from analysis.survival.fixed_horizon import (
    fixed_horizon_rates,
    fixed_horizon_rates_from_db,
)
from analysis.survival.grouping import resolve_grouping
from analysis.survival.kaplan_meier import KaplanMeier, kaplan_meier_from_db
from analysis.survival.logrank import logrank_test
from tests.survival.km_db import D, make_db


@pytest.fixture(scope="module")
def con():
    rng = np.random.default_rng(7)
    n = 400
    start = D(2015, 1, 1)
    releases, events = [], []
    reasons = ["data_cutoff"] * 8 + ["death", "emigration"]
    for i in range(n):
        person = f"p{i % 300}"                                  # some people released twice
        release = start + pd.Timedelta(days=int(rng.integers(0, 2500)))
        follow = release + pd.Timedelta(days=int(rng.integers(30, 2000)))
        releases.append({
            "release_id": f"r{i:04d}", "person_id": person, "release_date": release,
            "follow_up_end": follow, "follow_up_end_reason": str(rng.choice(reasons)),
            "sex": str(rng.choice(["F", "M"])), "facility": str(rng.choice(["North", "South"])),
            "age_at_release": float(rng.integers(16, 70)), "school": str(rng.choice(["a", "b"])),
        })
        for _ in range(int(rng.integers(0, 3))):
            events.append((person, release + pd.Timedelta(days=int(rng.integers(0, 900))),
                           str(rng.choice(["rearrest", "reconviction", "reincarceration"]))))
    events = list({(p, d, k): None for p, d, k in events})
    participation = [(f"p{i}", "EDU", D(2014, 6, 1), None) for i in range(0, 300, 3)]
    participation += [(f"p{i}", "JOBS", D(2021, 1, 1), None) for i in range(0, 300, 5)]
    return make_db(releases=releases, events=events, participation=participation,
                   programs=[("EDU", "in_prison"), ("JOBS", "post_release")],
                   covariates={"school": "categorical"})


@pytest.mark.parametrize("by", [None, "sex", "age_band", "school", "program:EDU"])
def test_km_from_db_equals_km_from_episodes(con, by):
    fitted = kaplan_meier_from_db(con, by, min_group_size=1)
    eps = build_episodes(con, columns=["sex", "age_band", "school"])
    if by == "program:EDU":
        group = np.where(eps["person_id"].isin([f"p{i}" for i in range(0, 300, 3)])
                         & (eps["release_date"] > pd.Timestamp(2014, 6, 1)),
                         "participant", "non-participant")
        # only the first release of each participant follows the 2014 programme
        first = eps.groupby("person_id")["release_date"].transform("min") == eps["release_date"]
        group = np.where(first, group, "non-participant")
    else:
        group = "all" if by is None else eps[by].fillna("unknown").astype(str)
    ref = KaplanMeier().fit(eps["time"], eps["event"], np.broadcast_to(group, len(eps)))
    pd.testing.assert_frame_equal(fitted.result.table, ref.table, check_dtype=False)
    if by is None:
        assert fitted.logrank is None
    else:
        test = logrank_test(eps["time"], eps["event"], np.broadcast_to(group, len(eps)))
        assert fitted.logrank.chi2 == pytest.approx(test.chi2, abs=1e-9)
        assert fitted.logrank.df == test.df


def test_outcome_and_selection_reach_the_sql(con):
    outcome = Outcome.named("reconviction")
    selection = Selection(sexes=("F",), release_from=D(2016, 1, 1))
    fitted = kaplan_meier_from_db(con, "facility", outcome, selection, min_group_size=1)
    eps = build_episodes(con, outcome, selection, columns=["facility"])
    ref = KaplanMeier().fit(eps["time"], eps["event"], eps["facility"])
    pd.testing.assert_frame_equal(fitted.result.table, ref.table, check_dtype=False)
    assert fitted.event_types == ("reconviction",)


def test_fixed_horizon_sql_equals_pandas(con):
    eps = build_episodes(con, columns=["sex", "follow_up_end"])
    eps["potential"] = (pd.to_datetime(eps["follow_up_end"])
                        - pd.to_datetime(eps["release_date"])).dt.days
    grouping = resolve_grouping(con, "sex")
    sql = fixed_horizon_rates_from_db(con, [365, 730], grouping=grouping)
    ref = fixed_horizon_rates(eps, [365, 730], group_col="sex")
    pd.testing.assert_frame_equal(sql, ref, check_dtype=False)
    assert (sql["excluded"] > 0).all() and (sql["n"] > 0).all()


def test_fixed_horizon_equals_km_without_early_censoring():
    # everyone followed 1000 days: the complete-case rate is 1 - KM at the horizon
    con = make_db(
        releases=[{"release_id": f"r{i}", "person_id": f"p{i}", "release_date": D(2020, 1, 1),
                   "follow_up_end": D(2022, 9, 27)} for i in range(10)],
        events=[(f"p{i}", D(2020, 1, 1) + pd.Timedelta(days=50 * (i + 1)), "rearrest")
                for i in range(6)],
    )
    rates = fixed_horizon_rates_from_db(con, [200, 365])
    km = kaplan_meier_from_db(con, min_group_size=1).result.at([200, 365])
    np.testing.assert_allclose(rates["rate"], km["recidivism"])
    assert rates["n"].tolist() == [10, 10]
    assert rates["events"].tolist() == [4, 6]


def test_cif_from_db_equals_cif_from_episodes(con):
    result, _ = cumulative_incidence_from_db(con, "sex", by_reason=True, min_group_size=1)
    eps = build_episodes(con, columns=["sex"])
    states = np.where(eps["cause"] == 1, "reoffence",
                      np.where(eps["cause"] == 2, eps["competing_reason"], "censored"))
    ref = CumulativeIncidence().fit(eps["time"], states, eps["sex"]).result_
    assert result.causes == ("reoffence", "death", "emigration")
    pd.testing.assert_frame_equal(result.table, ref.table, check_dtype=False)


def test_post_release_program_is_refused(con):
    with pytest.raises(AnalysisError, match="immortal-time bias"):
        kaplan_meier_from_db(con, "program:JOBS")


def test_unknown_program_and_field(con):
    with pytest.raises(AnalysisError, match="unknown program 'NOPE'; known programs: EDU, JOBS"):
        kaplan_meier_from_db(con, "program:NOPE")
    with pytest.raises(AnalysisError, match="unknown breakdown field 'shoe'.*school"):
        kaplan_meier_from_db(con, "shoe")


def test_small_groups_are_refused(con):
    with pytest.raises(AnalysisError, match="groups too small to estimate"):
        kaplan_meier_from_db(con, "age_band", selection=Selection(sexes=("F",)),
                             min_group_size=50)


def test_numeric_covariate_with_many_values_is_refused():
    con = make_db(releases=[{"release_id": f"r{i}", "person_id": f"p{i}",
                             "release_date": D(2020, 1, 1), "score": float(i)}
                            for i in range(20)], covariates={"score": "numeric"})
    with pytest.raises(AnalysisError, match="numeric with 20 distinct values"):
        resolve_grouping(con, "score")


def test_empty_selection_is_an_error(con):
    with pytest.raises(AnalysisError, match="no releases match"):
        kaplan_meier_from_db(con, selection=Selection(facilities=("Nowhere",)))


def test_all_censored_group_has_flat_curve_and_no_median():
    con = make_db(releases=[{"release_id": f"r{i}", "person_id": f"p{i}",
                             "release_date": D(2020, 1, 1)} for i in range(12)])
    res = kaplan_meier_from_db(con).result
    assert res.table["survival"].eq(1).all()
    assert np.isnan(res.summary["median"].iloc[0])
    at = res.at([365, 5000])
    assert at["survival"].iloc[0] == 1 and np.isnan(at["survival"].iloc[1])


def test_materialized_episodes_give_the_same_answers(con):
    outcome = Outcome.from_types("rearrest,reconviction")
    cached = materialize_episodes(con, outcome)
    assert cached.rows == 400 and cached.event_types == ("rearrest", "reconviction")
    selection = Selection(facilities=("North",))
    for by in ("sex", "program:EDU"):
        fresh = kaplan_meier_from_db(con, by, outcome, selection, min_group_size=1)
        reused = kaplan_meier_from_db(con, by, None, selection, min_group_size=1,
                                      cached=cached)
        pd.testing.assert_frame_equal(fresh.day_table, reused.day_table)
        assert fresh.logrank.chi2 == reused.logrank.chi2
    fresh_cif, _ = cumulative_incidence_from_db(con, "sex", outcome, min_group_size=1)
    reused_cif, _ = cumulative_incidence_from_db(con, "sex", min_group_size=1, cached=cached)
    pd.testing.assert_frame_equal(fresh_cif.table, reused_cif.table)
    pd.testing.assert_frame_equal(
        fixed_horizon_rates_from_db(con, [365], outcome, selection),
        fixed_horizon_rates_from_db(con, [365], selection=selection, cached=cached))
    with pytest.raises(AnalysisError, match="cached episodes are for"):
        kaplan_meier_from_db(con, outcome=Outcome.named("rearrest"), cached=cached)
