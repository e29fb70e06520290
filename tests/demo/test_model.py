"""The documented parameters of the demo country are coherent."""

from __future__ import annotations

import dataclasses
import datetime as dt
import json

import pytest

from analysis.contract import PROGRAM_CATEGORIES, PROGRAM_SETTINGS
from analysis.demo import DemoModel, program_effects
from analysis.demo.model import OFFENSES
from analysis.demo.truth import truth_document

MODEL = DemoModel()


def test_model_is_frozen():
    with pytest.raises(dataclasses.FrozenInstanceError):
        MODEL.population.female_share = 0.5  # type: ignore[misc]


def test_facilities_regions_and_calendar():
    prisons = [f for f in MODEL.facilities if f.kind != "probation"]
    assert 5 <= len(MODEL.facilities) <= 8
    assert sum(f.kind == "women" for f in prisons) == 1
    assert 6 <= len(MODEL.population.regions) <= 10
    assert len(MODEL.population.regions) == len(MODEL.population.region_shares)
    cal = MODEL.calendar
    assert cal.cutoff <= dt.date(2026, 1, 1)
    assert cal.first_release_from < cal.first_release_to < cal.cutoff
    assert (cal.cutoff - cal.first_release_from).days / 365.25 > 8


def test_programs_cover_the_catalogue():
    programs = MODEL.programs
    assert len({p.program_id for p in programs}) == len(programs)
    assert {p.category for p in programs} <= set(PROGRAM_CATEGORIES)
    assert {p.setting for p in programs} == set(PROGRAM_SETTINGS)
    for category in ("education", "vocational", "work", "drug_treatment", "health",
                     "psychosocial", "legal_aid", "disengagement", "employment",
                     "post_release_support"):
        assert any(p.category == category for p in programs), category
    names = {f.name for f in MODEL.facilities}
    for p in programs:
        assert p.project and p.funder and p.currency and p.cost_per_participant > 0
        assert {facility for facility, _ in p.rollout} <= names
        assert set(p.barred_offenses) | set(p.only_offenses) <= set(OFFENSES)
    work = MODEL.program("WORK-BRAND")
    assert "violent_extremism" in work.barred_offenses
    assert MODEL.program("DISENG").only_offenses == ("violent_extremism",)


def test_true_effects_include_helpful_null_and_status_differences():
    effects = program_effects(MODEL).set_index("program_id")
    in_prison = effects[effects["effect"] == "fixed_from_release"]
    assert (in_prison["hr_completed"] < 0.9).sum() >= 3
    assert (in_prison["hr_completed"] == 1.0).sum() >= 1
    assert (in_prison["hr_completed"] != in_prison["hr_dropped_out"]).sum() >= 5
    assert effects.loc["PROB-SUPPORT", "effect"] == "while_active"
    assert effects.loc["PROB-SUPPORT", "hr_completed"] < 1


def test_truth_document_is_json_and_complete():
    doc = json.loads(json.dumps(truth_document(MODEL), default=str))
    assert doc["synthetic"] is True
    assert doc["model"]["hazard"]["weibull_shape"] < 1
    assert {e["program_id"] for e in doc["program_effects"]} == {
        p.program_id for p in MODEL.programs
    }
