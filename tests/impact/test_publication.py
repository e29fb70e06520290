"""What leaves the analyst's desk hides every count of fewer than k people."""

from __future__ import annotations

import pytest

from analysis.disclosure import DisclosurePolicy
from analysis.impact.evaluation import ImpactEvaluation
from analysis.impact.publication import for_publication, suppress_numbers_in_text
from analysis.impact.report import build_report_html
from analysis.survival.episodes import Outcome


@pytest.fixture(scope="module")
def result(demo_db):
    from analysis.store import connect_readonly

    con = connect_readonly(demo_db)
    try:
        return ImpactEvaluation(program="VOC-METAL", outcome=Outcome.named("rearrest")).fit(con)
    finally:
        con.close()


def _k_above_every_comparison_count(result) -> int:
    return int(result.attrition["comparison"].max()) + 1


def test_every_attrition_count_below_k_is_hidden(result):
    policy = DisclosurePolicy(k=_k_above_every_comparison_count(result))
    shown = for_publication(result, policy)
    for raw, text in zip(result.attrition["comparison"], shown.attrition["comparison"],
                         strict=True):
        assert text == (policy.label if raw > 0 else "0")
    assert all(str(n) not in " ".join(shown.notes).split() for n in range(1, 10))


def test_for_publication_twice_changes_nothing_more(result):
    policy = DisclosurePolicy(k=25)
    once = for_publication(result, policy)
    twice = for_publication(once, policy)
    assert once.attrition.equals(twice.attrition) and once.notes == twice.notes
    assert once.summary_text == twice.summary_text


def test_report_uses_the_policy(result):
    policy = DisclosurePolicy(k=_k_above_every_comparison_count(result))
    page = build_report_html(result, policy=policy)
    assert policy.label.replace("<", "&lt;") in page


def test_numbers_already_hidden_are_left_alone():
    assert suppress_numbers_in_text("<10 people", DisclosurePolicy(k=20)) == "<10 people"
    assert suppress_numbers_in_text("5 people, 0.3", DisclosurePolicy(k=20)) == "<20 people, 0.3"
