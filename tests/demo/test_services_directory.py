"""The demo's providers.csv and services.csv: the contract, and the gaps designed into them."""

from __future__ import annotations

import dataclasses

import pandas as pd
import pytest

from analysis.contract import (
    ALL_REGIONS,
    PROVIDER_KINDS,
    PROVIDERS,
    SERVICE_TYPES,
    SERVICES,
    SEX_SERVED,
)
from analysis.demo import DemoModel
from analysis.demo.services_model import ServiceSpec, default_services
from analysis.errors import AnalysisError
from analysis.ingest import validate_dataset

from .services_data import offered_in, read_services, split_list

MODEL = DemoModel()
REGIONS = MODEL.population.regions
CUTOFF = pd.Timestamp(MODEL.calendar.cutoff)


@pytest.fixture(scope="module")
def directory(small_dir):
    return read_services(small_dir)


@pytest.fixture(scope="module")
def last_year(small):
    releases = small["releases"]
    return releases[releases["release_date"] > CUTOFF - pd.Timedelta(days=365)]


def test_files_follow_the_contract(small_dir, directory):
    report = validate_dataset(small_dir)
    assert report.ok, report.summary_lines()
    assert {"providers", "services", "referrals"} <= set(report.files)
    providers, services = directory["providers"], directory["services"]
    assert list(providers.columns) == list(PROVIDERS.column_names)
    assert list(services.columns) == list(SERVICES.column_names)
    assert providers["provider_id"].is_unique and services["service_id"].is_unique
    assert set(providers["kind"]) == set(PROVIDER_KINDS)
    assert set(services["service_type"]) == set(SERVICE_TYPES)
    assert set(services["sex_served"]) <= set(SEX_SERVED)
    assert set(services["provider_id"]) <= set(providers["provider_id"])
    for table in (providers, services):
        for cell in table["regions"]:
            values = split_list(cell)
            assert values == [ALL_REGIONS] or (values and set(values) <= set(REGIONS)), cell
    languages = {v for cell in services["languages"] for v in split_list(cell)}
    assert languages == {"ar", "fr", "ru", "sr", "en"}
    closes_after_opening = services["valid_to"] >= services["valid_from"]
    assert closes_after_opening[services["valid_to"].notna()
                                & services["valid_from"].notna()].all()


def test_providers_give_public_contacts_never_a_persons_name(directory):
    providers = directory["providers"]
    assert providers["email"].str.fullmatch(r"contact@[a-z-]+\.example").all()
    assert providers["phone"].str.fullmatch(r"\+000 [0-9 ]+").all()
    assert providers["website"].str.startswith("https://www.").all()
    assert (providers["address"] != "").all()
    # No column beyond the contract's, so none that could name a member of staff.
    assert set(providers.columns) == set(PROVIDERS.column_names)
    assert not set(providers.columns) & set(PROVIDERS.refused_columns)


def test_a_provider_serves_the_regions_of_its_services(directory):
    providers = directory["providers"].set_index("provider_id")
    for _, service in directory["services"].iterrows():
        theirs = split_list(providers.loc[service["provider_id"], "regions"])
        assert theirs == [ALL_REGIONS] or set(split_list(service["regions"])) <= set(theirs)


def test_some_regions_have_no_drug_treatment(directory):
    services = directory["services"]
    drug = services[services["service_type"] == "drug_treatment"]
    for region in ("Highlands", "Desert South"):
        assert not drug["regions"].map(split_list).map(lambda r, x=region: x in r).any()
    # Western Hills had one, which closed before the cutoff.
    assert offered_in(drug, "Western Hills", CUTOFF).empty
    assert not offered_in(drug, "Western Hills", pd.Timestamp("2020-06-30")).empty
    assert all(not offered_in(drug, r, CUTOFF).empty
               for r in ("Capital", "North Coast", "South Coast", "River Valley",
                         "Eastern Plains"))


def test_drug_treatment_capacity_is_below_demand_in_some_regions(directory, last_year):
    services = directory["services"]
    drug = services[services["service_type"] == "drug_treatment"]
    demand = last_year[last_year["offense_category"] == "drug"]["release_region"].value_counts()
    capacity = {
        region: int(offered_in(drug, region, CUTOFF)["capacity_per_year"].sum())
        for region in REGIONS if not offered_in(drug, region, CUTOFF).empty
    }
    below = {r for r, c in capacity.items() if c < demand[r]}
    assert below == {"North Coast", "Eastern Plains"}
    assert capacity["Capital"] >= demand["Capital"]


def test_services_for_women_are_scarce(directory, last_year):
    services = directory["services"]
    women_only = services[services["sex_served"] == "women"]
    assert 1 <= len(women_only) <= 0.1 * len(services)
    assert set(women_only["regions"]) == {"Capital"}
    assert (services["sex_served"] == "men").sum() > len(women_only)
    # Somewhere women are released, a type is offered to men only.
    women_regions = set(last_year.loc[last_year["sex"] == "F", "release_region"])
    men_only = []
    for region in women_regions:
        offered = offered_in(services, region, CUTOFF)
        for service_type, group in offered.groupby("service_type"):
            if (group["sex_served"] == "men").all():
                men_only.append((region, service_type))
    assert {("North Coast", "housing"), ("Eastern Plains", "drug_treatment"),
            ("South Coast", "vocational_training")} <= set(men_only)


def test_national_closed_and_new_services(directory):
    services = directory["services"]
    national = services[services["regions"] == ALL_REGIONS]
    assert {"legal_aid", "identity_documents"} <= set(national["service_type"])
    assert national.loc[national["service_type"] == "identity_documents",
                        "capacity_per_year"].isna().all()
    assert (services["valid_to"] < CUTOFF).sum() >= 2
    assert (services["valid_to"] > CUTOFF).sum() >= 2  # donor-funded, ending later
    assert services["valid_from"].notna().all()
    recent = services["valid_from"] > CUTOFF - pd.Timedelta(days=365)
    assert recent.sum() >= 2


def test_capacity_follows_the_size_of_the_demo(directory, last_year):
    # Capacities are ratios of the last year's demand, so the designed shortages hold
    # at any size: the Capital's outpatient clinic has 0.9 places per drug release.
    services = directory["services"].set_index("service_id")
    capital_drug = ((last_year["release_region"] == "Capital")
                    & (last_year["offense_category"] == "drug")).sum()
    assert services.loc["SRV-DRG-01", "capacity_per_year"] == round(0.9 * capital_drug)


def test_a_service_outside_the_contract_codes_is_refused():
    service = default_services()[0]
    for field, value in (("service_type", "massage"), ("sex_served", "adults")):
        with pytest.raises(AnalysisError, match=f"{service.service_id}: {field} '{value}'"):
            dataclasses.replace(service, **{field: value})
    with pytest.raises(AnalysisError, match="must stand alone"):
        dataclasses.replace(service, regions=(ALL_REGIONS, "Capital"))


def test_a_service_in_a_region_the_demo_does_not_have_is_refused():
    stray = ServiceSpec("SRV-X", "PRV-01", "housing", "Hostel", ("Atlantis",), "both", (),
                        None)
    services = dataclasses.replace(MODEL.services, services=(stray,))
    with pytest.raises(AnalysisError, match=r"SRV-X: unknown region\(s\) \['Atlantis'\]"):
        dataclasses.replace(MODEL, services=services)
