"""``desist cox`` end to end on a small synthetic study database."""

from __future__ import annotations

import datetime as dt
import json

import duckdb
import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from analysis.cli import main
from analysis.store.schema import migrate
from analysis.survival.cox import CoxModel
from analysis.survival.episodes import Outcome, build_episodes
from analysis.survival.follow_up import prepare_for_analysis

START = dt.date(2019, 1, 1)


@pytest.fixture(scope="module")
def db(tmp_path_factory):
    """1,200 releases; in-prison VOC halves the hazard, post-release JOB does nothing."""
    rng = np.random.default_rng(5)
    n = 1200
    path = tmp_path_factory.mktemp("cox") / "study.duckdb"
    rel_day = rng.integers(0, 700, n)
    age = rng.uniform(18, 60, n).round(1)
    sex = rng.choice(["F", "M"], n, p=[0.25, 0.75])
    school = rng.choice(["none", "primary", "secondary"], n)
    voc = rng.random(n) < 0.3
    lp = -0.03 * (age - 35) + 0.4 * (sex == "M") - 0.7 * voc
    t = np.ceil(rng.exponential(500 * np.exp(-lp)))
    releases = pd.DataFrame({
        "release_id": [f"r{i:04d}" for i in range(n)],
        "person_id": [f"p{i:04d}" for i in range(n)],
        "release_date": [START + dt.timedelta(days=int(d)) for d in rel_day],
        "facility": rng.choice(["North", "South"], n),
        "follow_up_end": dt.date(2021, 12, 31),
        "sex": sex, "age_at_release": age, "prior_convictions": rng.poisson(2, n),
        "offense_category": rng.choice(["drugs", "property", "violent"], n),
        "school": school, "batch_id": "b1",
    })
    events = pd.DataFrame({
        "person_id": releases["person_id"],
        "event_date": [d + dt.timedelta(days=int(x)) for d, x in
                       zip(releases["release_date"], t, strict=True)],
        "event_type": "rearrest", "offense_category": None, "batch_id": "b1",
    })
    events = events[events["event_date"] <= dt.date(2021, 12, 31)]
    programs = pd.DataFrame({
        "program_id": ["VOC", "JOB"], "name": ["Vocational", "Jobs"],
        "category": ["vocational", "employment"], "setting": ["in_prison", "post_release"],
        "batch_id": "b1",
    })
    job_day = rng.integers(1, 200, n)
    vocs = [{"person_id": f"p{i:04d}", "program_id": "VOC",
             "start_date": releases["release_date"][i] - dt.timedelta(days=100),
             "end_date": releases["release_date"][i] - dt.timedelta(days=10),
             "status": "completed", "release_id": None} for i in np.flatnonzero(voc)]
    jobs = [{"person_id": f"p{i:04d}", "program_id": "JOB",
             "start_date": releases["release_date"][i] + dt.timedelta(days=int(job_day[i])),
             "end_date": None, "status": "ongoing", "release_id": None}
            for i in range(n) if job_day[i] < t[i] and rng.random() < 0.4]
    participation = pd.DataFrame(vocs + jobs).assign(batch_id="b1")
    con = duckdb.connect(str(path))
    migrate(con)
    con.execute("ALTER TABLE releases ADD COLUMN school VARCHAR")
    con.execute("INSERT INTO covariates VALUES ('school', 'categorical', 'b1')")
    for table, frame in (("releases", releases), ("events", events), ("programs", programs),
                         ("participation", participation)):
        con.register("frame", frame)
        con.execute(f"INSERT INTO {table} BY NAME SELECT * FROM frame")
        con.unregister("frame")
    prepare_for_analysis(con, "b1")  # the derived follow-up table, as an import builds it
    con.close()
    return str(path)


def run(db, *args):
    return CliRunner().invoke(main, ["cox", "--db", db, *args])


def test_json_payload(db):
    result = run(db, "--covariates", "age_at_release,sex,school", "--programs", "VOC,JOB",
                 "--json")
    assert result.exit_code == 0, result.output
    out = json.loads(result.output)
    assert list(out) == ["disclosure", "n", "events", "ties", "loglik", "se_type",
                         "se_robust_cluster", "terms", "ph_test", "model",
                         "competing_reasons"]
    assert (out["se_type"], out["se_robust_cluster"]) == ("robust", "person_id")
    assert out["n"] == 1200 and out["ties"] == "efron"
    terms = {t["term"]: t for t in out["terms"]}
    names = list(terms)
    assert names[:2] == ["age_at_release", "sex[F]"] and names[-2:] == ["VOC", "JOB"]
    assert len(names) == 6 and all(n.startswith("school[") for n in names[2:4])
    assert all(list(t) == ["term", "coef", "se", "se_type", "se_model", "se_robust", "hr",
                           "hr_lower", "hr_upper", "p"] for t in out["terms"])
    assert all(t["se_type"] == "robust" and t["se"] == t["se_robust"] for t in out["terms"])
    assert terms["VOC"]["hr_upper"] < 0.7  # true HR 0.5
    assert terms["JOB"]["hr_lower"] < 1 < terms["JOB"]["hr_upper"]  # no immortal-time gain
    assert [r["term"] for r in out["ph_test"]][-1] == "GLOBAL"
    assert all(list(r) == ["term", "chi2", "df", "p"] for r in out["ph_test"])


def test_same_as_fitting_the_episodes_directly(db):
    result = run(db, "--covariates", "age_at_release,prior_convictions", "--json",
                 "--ties", "breslow")
    out = json.loads(result.output)
    con = duckdb.connect(db, read_only=True)
    episodes = build_episodes(con, Outcome(), columns=["age_at_release", "prior_convictions"])
    con.close()
    direct = CoxModel(ties="breslow").fit(episodes, "time", "event",
                                          ["age_at_release", "prior_convictions"])
    assert out["events"] == direct.events == int(episodes["event"].sum())
    np.testing.assert_allclose([t["coef"] for t in out["terms"]], direct.summary["coef"])
    np.testing.assert_allclose([t["se"] for t in out["terms"]], direct.summary["se"])


def test_human_readable_with_strata_and_derived_fields(db):
    result = run(db, "--covariates", "age_band,release_year", "--strata", "facility",
                 "--programs", "JOB", "--exposure", "ever")
    assert result.exit_code == 0, result.output
    assert "releases" in result.output and "HR" in result.output
    assert "age_band[" in result.output and "GLOBAL" in result.output
    assert "time-varying" in result.output


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--covariates", "shoe_size"], "unknown covariate"),
        (["--covariates", "sex", "--programs", "NOPE"], "unknown program"),
        (["--covariates", "sex", "--events", "murder"], "unknown event type"),
        (["--covariates", "sex", "--events", "violation"], "no events"),
        (["--covariates", "age,age_at_release"], "collinear"),
        (["--covariates", "sex", "--strata", "nowhere"], "unknown covariate"),
    ],
)
def test_errors_exit_2(db, args, message):
    result = run(db, *args)
    assert result.exit_code == 2, result.output
    assert message in result.output


def test_missing_database_exit_2(tmp_path):
    result = run(str(tmp_path / "none.duckdb"), "--covariates", "sex")
    assert result.exit_code == 2
