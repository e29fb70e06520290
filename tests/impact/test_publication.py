"""What leaves the analyst's desk hides every count of fewer than k people."""

from __future__ import annotations

import pytest

from analysis.disclosure import DisclosurePolicy
from analysis.impact.evaluation import ImpactEvaluation
from analysis.impact.publication import for_publication, suppress_numbers_in_text
from analysis.impact.report import build_report_html
from analysis.impact.wording import attrition_table
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
    words = attrition_table(shown.attrition)
    assert all(str(n) not in " ".join(words["note"]).split() for n in range(1, policy.k))
    for raw, shown_removed in zip(result.attrition["removed"], shown.attrition["removed"],
                                  strict=True):
        if raw is not None and 0 < raw < policy.k:
            assert shown_removed == policy.label


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


def _cli(*args):
    from click.testing import CliRunner

    from analysis.cli import main

    return CliRunner().invoke(main, list(args))


@pytest.mark.parametrize("k", ["1", "4"])
def test_report_refuses_a_min_cell_below_5(demo_db, tmp_path, k):
    # Regression: `desist report --min-cell 1` wrote a report showing every count.
    out = tmp_path / "report.html"
    result = _cli("report", "--db", str(demo_db), "--program", "VOC-METAL", "--min-cell", k,
                  "--out", str(out))
    assert result.exit_code == 2
    assert f"--min-cell must be at least 5, not {k}" in result.output
    assert not out.exists() and not list(tmp_path.iterdir())
    # a report is published: it has no unsafe switch
    unsafe = _cli("report", "--db", str(demo_db), "--program", "VOC-METAL", "--min-cell", k,
                  "--unsafe-analyst-output", "--out", str(out))
    assert unsafe.exit_code == 2 and not out.exists()


def test_impact_json_hides_the_matched_count_that_reveals_the_unmatched(demo_db):
    # Regression: eligible 680 and matched 673 were shown beside "<10 unmatched".
    import json

    result = _cli("impact", "--db", str(demo_db), "--program", "WORK-BRAND", "--json")
    assert result.exit_code == 0, result.output
    payload = json.loads(result.stdout)
    assert payload["disclosure"]["min_cell"] == 10 and payload["disclosure"]["suppressed"]
    assert payload["disclosure"]["unsafe_analyst_output"] is False
    rows = payload["attrition"]
    eligible, matched = rows[-2], rows[-1]
    assert eligible["participants"] == 680
    assert matched["participants"] is None and matched["comparison"] is None
    assert matched["note"].startswith("<10 ")
    assert payload["counts"]["matched"] is None and payload["counts"]["eligible"] == 680
    assert payload["participants"]["n"] is None and payload["participants"]["reoffended"] is None
    assert payload["participants"]["rate"] is not None  # a share of a hidden size
    assert payload["disclosure"]["hidden_values"] > 0


def test_impact_unsafe_analyst_output_is_labelled(demo_db):
    import json

    refused = _cli("impact", "--db", str(demo_db), "--program", "WORK-BRAND", "--json",
                   "--min-cell", "3")
    assert refused.exit_code == 2
    result = _cli("impact", "--db", str(demo_db), "--program", "WORK-BRAND", "--json",
                  "--min-cell", "1", "--unsafe-analyst-output")
    assert result.exit_code == 0
    payload = json.loads(result.stdout)
    assert payload["disclosure"]["unsafe_analyst_output"] is True
    assert payload["disclosure"]["suppressed"] is False
    # the default adjustment set (standard fields and the demo's education_level and
    # employment_before) matches 671 of WORK-BRAND's participants
    assert payload["attrition"][-1]["participants"] == 671
    assert "unsafe analyst output" in result.stderr


def test_impact_text_output_hides_the_matched_count(demo_db):
    result = _cli("impact", "--db", str(demo_db), "--program", "WORK-BRAND")
    assert result.exit_code == 0, result.output
    assert "matched hidden" in result.output and "673" not in result.output


def test_report_hides_the_matched_count_and_the_cost_that_reveals_it(demo_db, tmp_path):
    import re

    out = tmp_path / "work-brand.html"
    result = _cli("report", "--db", str(demo_db), "--program", "WORK-BRAND", "--out", str(out))
    assert result.exit_code == 0, result.output
    text = re.sub(r"<[^>]+>", " ", re.sub(r"<script.*?</script>", "", out.read_text(),
                                          flags=re.S))
    assert "673" not in text  # matched participants: 680 eligible minus 7 unmatched
    assert "680" in text and "hidden" in text


def test_no_report_below_the_floor_even_from_python(result):
    # the API path: build_report_html(policy=DisclosurePolicy(k=1)) showed every count
    from analysis.errors import AnalysisError

    with pytest.raises(AnalysisError, match="at least 5"):
        build_report_html(result, policy=DisclosurePolicy(k=1))
    assert for_publication(result, DisclosurePolicy(k=1), unsafe=True).attrition is not None
