"""Reaching a service has no true effect on re-arrest; a naive comparison says it helps.

The referrals are drawn after the re-arrests (docs/demo-data.md, "Referrals"). An
adjusted Cox model with reaching a service as a time-varying exposure (from the first
contact, counting-process rows) finds a hazard ratio near 1; comparing people by whether
they ever reached a service, or leaving out the covariates, flatters services, because
people at lower risk reach them more often and must be out of custody to be reached.
"""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.contract import REACHED_STATUSES
from analysis.demo import DemoModel
from analysis.survival.cox import CoxModel

from .episodes import (
    CATEGORICAL,
    NUMERIC,
    REFERENCE,
    add_fixed_programmes,
    episodes,
    program_term,
    split_time_varying,
)
from .services_data import read_services, referrals_with_releases

MODEL = DemoModel()
IN_PRISON = [p.program_id for p in MODEL.programs if not p.time_varying]
TIME_VARYING = [p.program_id for p in MODEL.programs if p.time_varying]
#: The exposure "reached a service", as a pseudo post-release programme of the episodes.
SERVICE = "SERVICE"


@pytest.fixture(scope="module")
def fits(large, large_dir):
    referrals = read_services(large_dir)["referrals"]
    reached = referrals_with_releases(
        referrals[referrals["status"].isin(REACHED_STATUSES)], large["releases"])
    first_contact = reached.groupby("release_id_rel")["first_contact_date"].min()
    # Exposed from the first contact to the end of follow-up (no end date).
    exposure = pd.DataFrame({"release_id": first_contact.index, "program_id": SERVICE,
                             "start_date": first_contact.to_numpy(), "end_date": pd.NaT})
    tables = {**large, "participation": pd.concat([large["participation"], exposure],
                                                  ignore_index=True)}
    rel = episodes(tables)
    fixed = add_fixed_programmes(rel, tables, IN_PRISON)
    rows = split_time_varying(rel, tables, [*TIME_VARYING, SERVICE])
    active = [program_term(p, "active") for p in (*TIME_VARYING, SERVICE)]
    term = program_term(SERVICE, "active")
    adjusted = CoxModel(ties="efron").fit(
        rows, "exit", "event", NUMERIC + CATEGORICAL + fixed + active,
        categorical=CATEGORICAL, reference=REFERENCE, entry_col="entry",
        cluster_col="person_id").summary.set_index("term").loc[term]
    unadjusted = CoxModel(ties="efron").fit(
        rows, "exit", "event", [term], entry_col="entry",
        cluster_col="person_id").summary.set_index("term").loc[term]
    rel["ever_reached"] = rel["release_id"].isin(first_contact.index).astype(float)
    ever = CoxModel(ties="efron").fit(
        rel, "time", "event", ["ever_reached"],
        cluster_col="person_id").summary.set_index("term").loc["ever_reached"]
    return adjusted, unadjusted, ever


@pytest.mark.slow
def test_adjusted_time_varying_comparison_finds_no_effect(fits):
    adjusted, _, _ = fits
    assert MODEL.services.referrals.log_hr_reached == 0.0
    assert adjusted["hr_lower"] <= 1.0 <= adjusted["hr_upper"]


@pytest.mark.slow
def test_naive_comparisons_flatter_services(fits):
    _, unadjusted, ever = fits
    assert unadjusted["hr_upper"] < 0.97
    assert ever["hr_upper"] < 0.95
    assert ever["hr"] < unadjusted["hr"] < 1.0
