"""The demo's referrals.csv: dates after the release, services at hand, realistic selection,
no effect on re-arrest, and nothing changed in the other files."""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from analysis.contract import ALL_REGIONS, REACHED_STATUSES, REFERRAL_STATUSES, SEX_CODES
from analysis.demo import DemoGenerator, DemoModel
from analysis.demo.schemas import REFERRAL_SCHEMA

from .episodes import read_dataset
from .services_data import read_services, referrals_with_releases, split_list

MODEL = DemoModel()
CUTOFF = pd.Timestamp(MODEL.calendar.cutoff)
NEW_FILES = ("providers.csv", "services.csv", "referrals.csv", "regions.geojson")
OLD_FILES = ("releases.csv", "programs.csv", "participation.csv", "events.csv",
             "expected_releases.csv")


def check_referrals(folder) -> pd.DataFrame:
    """Assert every rule a demo referral follows; return the referrals with their release."""
    tables = read_dataset(folder)
    releases = tables["releases"]
    directory = read_services(folder)
    services = directory["services"].set_index("service_id", drop=False)
    referrals = directory["referrals"]
    assert list(referrals.columns) == REFERRAL_SCHEMA.names
    assert not referrals.duplicated(["person_id", "service_id", "referral_date"]).any()
    assert set(referrals["status"]) <= set(REFERRAL_STATUSES)
    assert set(referrals["service_id"]) <= set(services.index)
    ref = referrals_with_releases(referrals, releases)
    assert ref["release_id_rel"].notna().all(), "a referral before the person's first release"
    given_id = ref["release_id"].notna()
    assert (ref.loc[given_id, "release_id"] == ref.loc[given_id, "release_id_rel"]).all()
    # In the community: after the release, before follow-up ends and the next release.
    ordered = releases.sort_values("release_date")
    following = ordered.groupby("person_id")["release_date"].shift(-1)
    next_release = ref["release_id_rel"].map(following.set_axis(ordered["release_id"]))
    assert (ref["referral_date"] >= ref["release_date_rel"]).all()
    assert (ref["referral_date"] < ref["follow_up_end_rel"]).all()
    assert (ref["referral_date"] <= CUTOFF).all()
    assert ((ref["referral_date"] < next_release) | next_release.isna()).all()
    assert (ref["referral_date"] >= pd.Timestamp(MODEL.services.referrals.register_from)).all()
    reached = ref["status"].isin(REACHED_STATUSES)
    assert (ref["first_contact_date"].notna() == reached).all()
    contact = ref[reached]
    assert (contact["first_contact_date"] > contact["referral_date"]).all()
    assert (contact["first_contact_date"] < contact["follow_up_end_rel"]).all()
    assert ((contact["first_contact_date"] < next_release[reached])
            | next_release[reached].isna()).all()
    # A service offered in the person's region on that day, for their sex; once a release.
    regions = ref["service_id"].map(services["regions"].map(split_list))
    assert all(r == [ALL_REGIONS] or region in r
               for r, region in zip(regions, ref["release_region_rel"], strict=True))
    opens = ref["service_id"].map(services["valid_from"])
    closes = ref["service_id"].map(services["valid_to"])
    assert ((opens.isna() | (opens <= ref["referral_date"]))
            & (closes.isna() | (closes >= ref["referral_date"]))).all()
    sex_served = ref["service_id"].map(services["sex_served"])
    assert not ((sex_served == "men") & (ref["sex_rel"] == "F")).any()
    assert not ((sex_served == "women") & (ref["sex_rel"] == "M")).any()
    assert not ref.duplicated(["release_id_rel", "service_id"]).any()
    assert set(ref["sex_rel"]) <= set(SEX_CODES)
    return ref


def test_referrals_follow_every_rule(small_dir):
    check_referrals(small_dir)


@settings(max_examples=8, deadline=None)
@given(seed=st.integers(0, 10_000), releases=st.integers(150, 1500),
       chunk_persons=st.integers(40, 2000))
def test_referrals_follow_every_rule_for_any_seed_size_and_chunking(tmp_path_factory, seed,
                                                                    releases, chunk_persons):
    folder = tmp_path_factory.mktemp("referrals")
    DemoGenerator(seed=seed, chunk_persons=chunk_persons).generate(folder, releases)
    check_referrals(folder)


@pytest.fixture(scope="module")
def referred(small_dir):
    return check_referrals(small_dir)


def test_a_quarter_to_a_third_of_releases_are_referred(small, referred):
    share = referred["release_id_rel"].nunique() / len(small["releases"])
    assert 0.25 <= share <= 0.35
    per_release = referred.groupby("release_id_rel").size()
    assert set(per_release) == {1, 2, 3}
    assert per_release.value_counts(normalize=True)[1] > 0.5


def test_statuses_have_plausible_shares(referred):
    shares = referred["status"].value_counts(normalize=True)
    assert set(shares.index) == set(REFERRAL_STATUSES)
    assert shares.between(0.05, 0.45).all(), shares
    assert shares["completed"] + shares["attended"] > 0.45


def test_contact_comes_sooner_after_an_early_referral(referred):
    contact = referred[referred["first_contact_date"].notna()]
    since_release = (contact["referral_date"] - contact["release_date_rel"]).dt.days
    wait = (contact["first_contact_date"] - contact["referral_date"]).dt.days
    assert wait[since_release <= 14].median() < wait[since_release > 180].median()
    assert wait.median() <= 14


def test_people_at_lower_risk_reach_services_more_often(referred):
    reached = referred["status"].isin(REACHED_STATUSES)
    priors = referred["prior_convictions_rel"]
    assert reached[priors == 0].mean() - reached[priors >= 6].mean() > 0.1
    young = referred["age_at_release_rel"] < 25
    assert reached[~young].mean() > reached[young].mean()


def test_drug_treatment_goes_to_drug_offences_where_it_exists(referred, small_dir):
    services = read_services(small_dir)["services"].set_index("service_id")
    drug = referred["service_id"].map(services["service_type"]) == "drug_treatment"
    assert referred.loc[drug, "offense_category_rel"].eq("drug").mean() > 0.6
    assert not referred.loc[drug, "release_region_rel"].isin(["Highlands",
                                                              "Desert South"]).any()
    western = referred.loc[drug & (referred["release_region_rel"] == "Western Hills"),
                           "referral_date"]
    assert len(western) > 0 and (western <= pd.Timestamp("2022-12-31")).all()


def _digests(folder, names) -> dict[str, str]:
    return {n: hashlib.sha256((folder / n).read_bytes()).hexdigest() for n in names}


def test_same_seed_same_files_other_seed_other_referrals(tmp_path):
    a, b, c = tmp_path / "a", tmp_path / "b", tmp_path / "c"
    for folder, seed in ((a, 11), (b, 11), (c, 12)):
        DemoGenerator(seed=seed).generate(folder, releases=3000)
    assert _digests(a, NEW_FILES) == _digests(b, NEW_FILES)
    assert _digests(a, ("referrals.csv",)) != _digests(c, ("referrals.csv",))


def test_other_files_do_not_depend_on_the_referrals(tmp_path, monkeypatch):
    # The referrals draw from a random stream of their own, after the outcomes: with no
    # referral drawn at all, every other file is byte for byte the same.
    DemoGenerator(seed=9, chunk_persons=900).generate(tmp_path / "with", releases=3000)
    from analysis.demo import generator

    class NoReferrals:
        def __init__(self, model):
            pass

        def chunk_table(self, *args):
            return REFERRAL_SCHEMA.empty_table()

    monkeypatch.setattr(generator, "ReferralDraw", NoReferrals)
    DemoGenerator(seed=9, chunk_persons=900).generate(tmp_path / "without", releases=3000)
    assert len(pd.read_csv(tmp_path / "with" / "referrals.csv")) > 0
    assert len(pd.read_csv(tmp_path / "without" / "referrals.csv")) == 0
    assert _digests(tmp_path / "with", OLD_FILES) == _digests(tmp_path / "without", OLD_FILES)


def test_truth_says_reaching_a_service_has_no_effect(small_dir):
    from analysis.demo import load_truth

    truth = load_truth(small_dir)
    assert truth["service_effects"]["hr_reached"] == 1.0
    assert truth["rows"]["referrals"] == len(pd.read_csv(small_dir / "referrals.csv"))
    assert truth["model"]["services"]["referrals"]["log_hr_reached"] == 0.0
    assert np.isclose(truth["model"]["services"]["referrals"]["reached_logit_per_risk"],
                      MODEL.services.referrals.reached_logit_per_risk)
