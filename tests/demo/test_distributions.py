"""The synthetic population looks like a real mid-size prison system."""

from __future__ import annotations

import numpy as np
import pandas as pd

from analysis.demo import DemoModel
from analysis.demo.model import OFFENSES


def test_people_and_releases(small):
    rel = small["releases"]
    female = (rel["sex"] == "F").mean()
    assert 0.05 < female < 0.09
    assert rel["age_at_release"].between(18, 75).all()
    assert (rel["age_at_release"] <= 70).mean() > 0.998
    assert set(rel["offense_category"]) == set(OFFENSES)
    extremist = (rel["offense_category"] == "violent_extremism").mean()
    assert 0.005 < extremist < 0.04
    assert set(rel["release_type"]) == {"end_of_sentence", "conditional", "non_custodial"}
    custodial = rel[rel["release_type"] != "non_custodial"]
    assert (custodial["sentence_months"] >= 1).all()
    assert (rel.loc[rel["release_type"] == "non_custodial", "sentence_months"] == 0).all()
    # Birth year and age agree to within a year.
    implied = rel["release_date"].dt.year - rel["age_at_release"]
    assert ((implied - rel["birth_year"]).abs() <= 1.01).all()


def test_prior_convictions_are_over_dispersed(small):
    priors = small["releases"]["prior_convictions"]
    assert priors.min() == 0
    assert priors.var() > 2 * priors.mean()


def test_facilities_regions_years(small):
    rel, model = small["releases"], DemoModel()
    assert set(rel["facility"]) == {f.name for f in model.facilities}
    women = rel[rel["facility"] == "Marigold Women's Prison"]
    assert (women["sex"] == "F").all()
    assert set(rel["release_region"]) == set(model.population.regions)
    years = rel["release_date"].dt.year
    assert years.min() == 2017 and years.max() == 2025
    extremist = rel[(rel["offense_category"] == "violent_extremism")
                    & (rel["release_type"] != "non_custodial")]
    assert set(extremist["facility"]) <= {"Hillcrest High-Security Prison",
                                           "Marigold Women's Prison"}


def test_follow_up_and_competing_exits(small):
    rel = small["releases"]
    cutoff = pd.Timestamp(DemoModel().calendar.cutoff)
    assert rel["follow_up_end"].max() == cutoff
    assert (rel["follow_up_end"] >= rel["release_date"]).all()
    years = (rel["follow_up_end"] - rel["release_date"]).dt.days / 365.25
    assert years.quantile(0.1) < 1.0 and years.quantile(0.9) > 5
    reasons = rel["follow_up_end_reason"].value_counts(normalize=True)
    assert set(reasons.index) == {"data_cutoff", "death", "deportation", "emigration"}
    assert 0.005 < reasons["death"] < 0.08
    ended = rel["follow_up_end_reason"] != "data_cutoff"
    assert (rel.loc[ended, "follow_up_end"] < cutoff).all()
    assert (rel.loc[~ended, "follow_up_end"] == cutoff).all()


def test_drug_related_deaths_peak_just_after_release(small):
    rel = small["releases"]
    last = rel.sort_values("release_date").groupby("person_id").tail(1)
    dead = last[last["follow_up_end_reason"] == "death"]
    days = (dead["follow_up_end"] - dead["release_date"]).dt.days
    at_risk = (last["follow_up_end"] - last["release_date"]).dt.days
    early_rate = (days <= 28).sum() / np.minimum(at_risk, 28).sum()
    later_rate = (days > 28).sum() / np.maximum(at_risk - 28, 0).sum()
    assert early_rate > 2 * later_rate


def test_people_are_released_several_times(small):
    rel = small["releases"].sort_values(["person_id", "release_date"])
    per_person = rel.groupby("person_id").size()
    assert 0.05 < (per_person > 1).mean() < 0.3
    again = rel[rel.duplicated("person_id", keep="first")]
    previous = rel.groupby("person_id")["prior_convictions"].shift(1).loc[again.index]
    assert (again["prior_convictions"] == previous + 1).all()
    reinc = small["events"][small["events"]["event_type"] == "reincarceration"]
    assert len(again) <= len(reinc)


def test_rearrests_peak_early_and_cumulative_incidence_rises(small_episodes):
    ep = small_episodes
    t = ep.loc[ep["event"] == 1, "time"]
    counts = [((t > lo) & (t <= lo + 182)).sum() for lo in (0, 182, 364, 546)]
    assert counts[0] > counts[1] > counts[2] > counts[3]
    # Kaplan-Meier cumulative incidence: non-decreasing, about 20-45% at one year.
    times = np.unique(t)
    deaths = t.value_counts().reindex(times).to_numpy()
    at_risk = np.array([(ep["time"] >= s).sum() for s in times])
    values = 1 - np.cumprod(1 - deaths / at_risk)
    assert (np.diff(values) >= 0).all()
    one_year = values[np.searchsorted(times, 365, side="right") - 1]
    assert 0.2 < one_year < 0.45


def test_event_chains_are_ordered(small):
    ev = small["events"].sort_values(["person_id", "event_date"])
    assert not ev.duplicated(["person_id", "event_date", "event_type"]).any()
    assert set(ev["event_type"]) == {"rearrest", "reconviction", "reincarceration", "violation"}
    rel = small["releases"]
    cutoff = rel["follow_up_end"].max()
    assert ev["event_date"].max() <= cutoff
    counts = ev["event_type"].value_counts()
    assert counts["rearrest"] > counts["reconviction"] > counts["reincarceration"]
    first_release = rel.groupby("person_id")["release_date"].min()
    assert (ev["event_date"] > ev["person_id"].map(first_release)).all()
    violations = ev[ev["event_type"] == "violation"]
    conditional = set(rel.loc[rel["release_type"] == "conditional", "person_id"])
    assert violations["person_id"].isin(conditional).all()


def test_participation_dates_fit_custody_and_release(small):
    part = small["participation"].merge(
        small["releases"][["release_id", "release_date", "sentence_months", "person_id"]],
        on=["release_id", "person_id"],
    )
    assert len(part) == len(small["participation"])
    settings = dict(zip(small["programs"]["program_id"], small["programs"]["setting"],
                        strict=True))
    part["setting"] = part["program_id"].map(settings)
    inside = part[part["setting"] == "in_prison"]
    custody_start = inside["release_date"] - pd.to_timedelta(
        inside["sentence_months"] * 365.25 / 12 + 1, unit="D"
    )
    assert (inside["start_date"] >= custody_start).all()
    assert (inside["end_date"] <= inside["release_date"]).all()
    assert set(inside["status"]) == {"completed", "dropped_out"}
    outside = part[part["setting"] != "in_prison"]
    assert (outside["start_date"] >= outside["release_date"]).all()
    assert {"completed", "dropped_out", "ongoing"} <= set(outside["status"])
    assert outside.loc[outside["status"] == "ongoing", "end_date"].isna().all()
    # In-prison programmes of a later release started after the previous release.
    rel = small["releases"].sort_values(["person_id", "release_date"])
    previous = rel.groupby("person_id")["release_date"].shift(1)
    prev_by_release = dict(zip(rel["release_id"], previous, strict=True))
    prev = inside["release_id"].map(prev_by_release)
    later = prev.notna()
    assert (inside.loc[later, "start_date"] > prev[later]).all()
    # Dropouts end earlier than completers of the same programme.
    length = (part["end_date"] - part["start_date"]).dt.days
    by = length.groupby([part["program_id"], part["status"]]).median().unstack()
    assert (by["dropped_out"] < by["completed"]).all()


def test_selection_into_programmes_is_not_random(small):
    rel = small["releases"].set_index("release_id")
    part = small["participation"]
    work = rel.loc[part.loc[part["program_id"] == "WORK-BRAND", "release_id"]]
    custodial = rel[rel["release_type"] != "non_custodial"]
    assert work["age_at_release"].mean() > custodial["age_at_release"].mean() + 3
    assert work["prior_convictions"].mean() < custodial["prior_convictions"].mean()
    assert "violent_extremism" not in set(work["offense_category"])
    metal = rel.loc[part.loc[part["program_id"] == "VOC-METAL", "release_id"]]
    assert set(metal["facility"]) == {"Northgate Prison", "Eastfield Prison"}
    assert metal["release_date"].dt.year.min() >= 2018
    eastfield = metal[metal["facility"] == "Eastfield Prison"]
    assert eastfield["release_date"].dt.year.min() >= 2020
    diseng = rel.loc[part.loc[part["program_id"] == "DISENG", "release_id"]]
    assert set(diseng["offense_category"]) == {"violent_extremism"}
    community = rel.loc[part.loc[part["program_id"] == "COMM-DRUG", "release_id"]]
    assert set(community["release_type"]) == {"non_custodial"}
