"""Reaching a service is a post-release exposure: the same rows as a post-release programme.

tests/services/directory_fixture.py holds the referrals; the same reached referrals,
written as participations of post-release programmes starting on the contact day
(first_contact_date, else referral_date) with no end, must give exactly the same
counting-process rows.
"""

from __future__ import annotations

import duckdb
import pandas as pd
import pytest

from analysis.errors import AnalysisError
from analysis.impact.cohort import resolve_programmes
from analysis.survival.episodes import build_episodes
from analysis.survival.exposures import add_exposures, program_settings
from analysis.survival.follow_up import prepare_for_analysis
from analysis.survival.service_exposure import contact_days, known_service_exposures
from tests.services.directory_fixture import fill, referral_rows

AS_PROGRAMMES = {"service:any": "SVC_ANY", "service:housing": "SVC_HOUSING"}
HOUSING = {"S2", "S6"}


@pytest.fixture(scope="module")
def with_referrals():
    con = fill(duckdb.connect())
    yield con
    con.close()


@pytest.fixture(scope="module")
def as_participation():
    """The fixture without referrals, its reached referrals written as participations."""
    con = fill(duckdb.connect(), referrals=False)
    con.executemany("INSERT INTO programs (program_id, name, category, setting, batch_id)"
                    " VALUES (?, ?, 'post_release_support', 'post_release', 'b')",
                    [("SVC_ANY", "any service"), ("SVC_HOUSING", "housing")])
    rows = []
    for person, service, referral_date, status, release_id, contact in referral_rows():
        if status not in ("attended", "completed"):
            continue
        start = contact or referral_date
        rows.append((person, "SVC_ANY", start, release_id))
        if service in HOUSING:
            rows.append((person, "SVC_HOUSING", start, release_id))
    con.executemany("INSERT INTO participation (person_id, program_id, start_date, end_date,"
                    " release_id, batch_id) VALUES (?, ?, ?, NULL, ?, 'b')", rows)
    prepare_for_analysis(con)
    yield con
    con.close()


@pytest.mark.parametrize("exposure", ["current", "ever"])
def test_same_rows_as_a_post_release_participation(with_referrals, as_participation,
                                                   exposure):
    services = add_exposures(with_referrals, build_episodes(with_referrals),
                             list(AS_PROGRAMMES), exposure=exposure)
    programmes = add_exposures(as_participation, build_episodes(as_participation),
                               list(AS_PROGRAMMES.values()), exposure=exposure)
    assert services.time_varying_programs == tuple(AS_PROGRAMMES)
    renamed = programmes.frame.rename(columns={v: k for k, v in AS_PROGRAMMES.items()})
    pd.testing.assert_frame_equal(services.frame, renamed)
    assert services.frame["service:any"].sum() > 0  # the comparison is not vacuous
    assert len(services.frame) > len(build_episodes(with_referrals))


def rows_of(data, release_id):
    frame = data.frame[data.frame["release_id"] == release_id]
    return frame[["start", "stop", "service:any", "event"]].values.tolist()


def test_no_immortal_time(with_referrals):
    data = add_exposures(with_referrals, build_episodes(with_referrals), ["service:any"])
    # n3: housing contact on day 10, rearrest on day 30: exposed from day 10 only
    assert rows_of(data, "rn3") == [[0, 10, 0, 0], [10, 30, 1, 1]]
    # n7: rearrest on day 40, before the contact of day 45: the event is unexposed
    assert rows_of(data, "rn7") == [[0, 40, 0, 1]]
    # n16: no housing contact date, so its referral day (2) starts the exposure; the
    # drug treatment contact of day 5 changes nothing but adds a cut
    assert rows_of(data, "rn16") == [[0, 2, 0, 0], [2, 5, 1, 0], [5, 335, 1, 0]]


def test_contact_days_count_the_referral_date_fallback(with_referrals):
    # reached: 12 + 8 housing, 10 drug; n16..n19 have no contact date
    assert contact_days(with_referrals, "service:any") == (30, 4)
    assert contact_days(with_referrals, "service:drug_treatment") == (10, 0)


def test_known_ids_and_refusals(with_referrals):
    assert known_service_exposures(with_referrals) == (
        "service:any", "service:drug_treatment", "service:housing")
    assert program_settings(with_referrals, ["service:housing"]) == {
        "service:housing": "post_release"}
    with pytest.raises(AnalysisError, match="service:any, service:drug_treatment, "
                                            "service:housing") as refused:
        program_settings(with_referrals, ["service:hiv"])
    assert "service:hiv" in str(refused.value)
    with pytest.raises(AnalysisError, match="known programs: service:any"):
        program_settings(with_referrals, ["NOPE"])


def test_a_database_without_referrals_says_how_to_add_them():
    con = fill(duckdb.connect(), referrals=False)
    with pytest.raises(AnalysisError, match="add the files providers, services and "
                                            "referrals"):
        program_settings(con, ["service:any"])


def test_resolve_programmes_knows_service_exposures(with_referrals):
    chosen = resolve_programmes(with_referrals, "service:drug_treatment")
    assert (chosen.label, chosen.ids, chosen.setting) == (
        "service: drug treatment", ("service:drug_treatment",), "post_release")
    assert chosen.cost.empty and list(chosen.cost.columns) == [
        "program_id", "name", "cost_per_participant", "currency"]
    assert resolve_programmes(with_referrals, "service:any").label == "service: any"
    with pytest.raises(AnalysisError, match="service:housing"):
        resolve_programmes(with_referrals, "service:tuberculosis")
