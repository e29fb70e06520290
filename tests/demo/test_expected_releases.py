"""The demo's expected_releases.csv: 12 months after the cutoff, people like the releases'."""

from __future__ import annotations

import datetime as dt

import duckdb
import numpy as np
import pandas as pd

from analysis.demo import DemoGenerator, DemoModel
from analysis.demo.build import build_demo
from analysis.demo.upcoming import HORIZON_DAYS, new_people_count

from .conftest import SMALL_RELEASES

CUTOFF = pd.Timestamp(DemoModel().calendar.cutoff)


def _returning(small) -> pd.DataFrame:
    expected, releases = small["expected_releases"], small["releases"]
    last = releases.sort_values("release_date").groupby("person_id").tail(1)
    return expected.merge(last, on="person_id", suffixes=("", "_last"))


def test_dates_fill_the_12_months_after_the_cutoff(small):
    dates = small["expected_releases"]["expected_release_date"]
    assert dates.min() > CUTOFF
    assert dates.max() <= CUTOFF + pd.Timedelta(days=HORIZON_DAYS)
    by_quarter = ((dates - CUTOFF).dt.days - 1) // 92
    assert by_quarter.value_counts().min() > 0.15 * len(dates)
    assert (small["expected_releases"].groupby(["person_id", "expected_release_date"]).size()
            == 1).all()


def test_size_is_a_quarter_to_a_year_of_the_release_flow(small):
    releases = small["releases"]
    last_year = releases["release_date"] > CUTOFF - pd.Timedelta(days=365)
    flow = int(last_year.sum())
    assert 0.25 * flow <= len(small["expected_releases"]) <= flow
    persons = releases["person_id"].nunique()
    returning = _returning(small)
    assert len(small["expected_releases"]) == len(returning) + new_people_count(
        DemoModel(), persons)
    # Some re-releases, most people new.
    assert 0.05 * len(small["expected_releases"]) < len(returning) < 0.5 * len(
        small["expected_releases"])


def test_people_coming_back_keep_who_they_are(small):
    returning = _returning(small)
    assert (returning["sex"] == returning["sex_last"]).all()
    assert (returning["birth_year"] == returning["birth_year_last"]).all()
    assert (returning["release_region"] == returning["release_region_last"]).all()
    assert (returning["prior_convictions"] > returning["prior_convictions_last"]).all()
    assert (returning["expected_release_date"] > returning["release_date"]).all()
    years = (returning["expected_release_date"] - returning["release_date"]).dt.days / 365.25
    assert np.allclose(returning["age_at_release"], returning["age_at_release_last"] + years,
                       atol=0.11)
    # Back in custody: a re-incarceration after the last release, and a custodial release.
    events = small["events"]
    back = events[events["event_type"] == "reincarceration"].merge(
        returning[["person_id", "release_date"]], on="person_id")
    assert set(back.loc[back["event_date"] > back["release_date"], "person_id"]) == set(
        returning["person_id"])
    assert not (returning["release_type"] == "non_custodial").any()


def test_new_people_look_like_the_releases(small):
    expected, releases = small["expected_releases"], small["releases"]
    new = expected[~expected["person_id"].isin(releases["person_id"])]
    custodial = releases[releases["release_type"] != "non_custodial"]
    assert set(new["release_region"]) == set(releases["release_region"])
    assert set(new["facility"]) <= set(custodial["facility"])
    assert (new.loc[new["sex"] == "F", "facility"] == "Marigold Women's Prison").all()
    assert abs((new["sex"] == "F").mean() - (releases["sex"] == "F").mean()) < 0.03
    assert abs(new["age_at_release"].median() - releases["age_at_release"].median()) < 4
    assert new["age_at_release"].between(18, 70).all()
    age = (new["expected_release_date"].dt.year - new["birth_year"])
    assert (abs(age - new["age_at_release"]) <= 1.01).all()


def test_other_files_do_not_depend_on_it(tmp_path, monkeypatch):
    # The expected releases draw from random streams of their own: generating none at
    # all must leave every other file byte for byte the same.
    DemoGenerator(seed=9).generate(tmp_path / "with", releases=3000)
    from analysis.demo import generator, upcoming

    monkeypatch.setattr(generator, "returning_people",
                        lambda *a, **k: upcoming.EXPECTED_SCHEMA.empty_table())
    monkeypatch.setattr(generator, "new_people",
                        lambda *a, **k: upcoming.EXPECTED_SCHEMA.empty_table())
    DemoGenerator(seed=9).generate(tmp_path / "without", releases=3000)
    assert len(pd.read_csv(tmp_path / "with" / "expected_releases.csv")) > 0
    assert len(pd.read_csv(tmp_path / "without" / "expected_releases.csv")) == 0
    for name in ("releases.csv", "events.csv", "participation.csv", "programs.csv"):
        assert (tmp_path / "with" / name).read_bytes() == (tmp_path / "without" / name).read_bytes()


def test_build_demo_imports_it(tmp_path):
    built = build_demo(tmp_path / "demo.duckdb", releases=SMALL_RELEASES // 4, seed=2,
                       out=tmp_path / "csv")
    file_rows = len(pd.read_csv(tmp_path / "csv" / "expected_releases.csv"))
    counts = built.report.tables["expected_releases"]
    assert counts.inserted == counts.read == file_rows == built.summary.rows[
        "expected_releases"] > 0
    con = duckdb.connect(str(tmp_path / "demo.duckdb"), read_only=True)
    try:
        first, joined = con.execute(
            "SELECT min(expected_release_date), count(DISTINCT r.person_id) FROM "
            "expected_releases e LEFT JOIN releases r USING (person_id)").fetchone()
    finally:
        con.close()
    assert first > dt.date(2025, 6, 30) and joined > 0
