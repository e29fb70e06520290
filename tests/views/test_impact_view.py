"""Impact page services: matched evaluation, sensitivity, report and planning aid."""

from __future__ import annotations

import datetime as dt
import re

import pytest

from analysis.impact.power import minimum_detectable_effect
from analysis.impact.publication import suppress_numbers_in_text
from analysis.survival.episodes import Outcome, Selection
from analysis.views.filters import ViewFilters
from analysis.views.impact import (
    attrition_rows,
    balance_rows,
    headline_text,
    impact,
    impact_report,
    impact_sensitivity,
    impact_subjects,
    planning,
    reason_texts,
)
from analysis.views.words import render_table


@pytest.fixture(scope="module")
def metal(demo_db):
    from analysis.store import connect_readonly

    with connect_readonly(demo_db) as con:
        return impact(con, ViewFilters(), kind="program", value="VOC-METAL")


def test_subjects_list_programmes_projects_and_funders(demo_con):
    subjects = impact_subjects(demo_con, ViewFilters())
    kinds = {s.kind for s in subjects}
    assert kinds == {"program", "project", "funder"}
    assert any(s.value == "VOC-METAL" for s in subjects)
    assert any(s.kind == "funder" and s.value == "Global Fund" for s in subjects)


def test_matched_evaluation_of_a_programme(metal):
    assert metal.ok and metal.reportable
    assert headline_text(metal.headline).startswith("For every 100 participants")
    assert list(metal.rates["group"]) == ["participants", "comparison"]
    assert all(int(n) >= 10 for n in metal.rates["people"])
    assert "hazard_ratio" in set(metal.estimates["measure"])
    assert list(metal.attrition["step"])[-1] == "matched"
    assert list(attrition_rows(metal, "fr").columns) == [
        "step", "participants", "comparison", "note"]  # words of the impact wording
    assert {"smd_before", "smd_after"} <= set(metal.balance.columns)
    assert metal.comparison_rate is not None and 0 < metal.comparison_rate < 1
    # curves stop where fewer than k remain at risk; the numbers at risk are not shipped
    # (the first is the group size, each drop a count of people)
    assert "n_risk" not in metal.curves and len(metal.curves)
    assert set(metal.curves["group"]) == {"participants", "comparison"}
    # overlap bins with fewer than k people are not drawn
    for column in ("participants", "others"):
        shown = metal.overlap[column].dropna()
        assert not ((shown > 0) & (shown < 10)).any()


def test_balance_rows_word_the_covariates_as_the_report_does(metal):
    from analysis.impact.wording import covariate_words

    terms = list(metal.balance["covariate"])
    assert "age_at_release" in terms and any("[" in term for term in terms)
    shown = balance_rows(metal, "fr")
    assert list(shown["covariate"]) == [covariate_words(term, "fr") for term in terms]
    assert "âge à la libération" in set(shown["covariate"])
    # no raw term is left (levels such as "public_order" are data and stay as they are)
    assert not set(shown["covariate"]) & set(terms)
    assert not any("[" in words for words in shown["covariate"])
    assert shown[["smd_before", "smd_after"]].equals(metal.balance[["smd_before", "smd_after"]])
    assert list(metal.balance["covariate"]) == terms  # the stored view keeps its codes


def test_sidebar_selection_restricts_the_pool(demo_con, metal):
    later = ViewFilters(selection=Selection(release_from=dt.date(2021, 1, 1)))
    narrowed = impact(demo_con, later, kind="program", value="VOC-METAL")
    assert narrowed.ok
    assert int(narrowed.attrition["participants"].iloc[0]) < int(
        metal.attrition["participants"].iloc[0])


def test_outcome_definition_is_used(demo_con):
    result = impact(demo_con, ViewFilters(outcome=Outcome.named("reincarceration")),
                    kind="program", value="VOC-METAL")
    assert result.event_types == ("reincarceration",)


def test_large_k_suppresses_counts_everywhere(demo_con):
    result = impact(demo_con, ViewFilters(min_cell=1000), kind="program", value="VOC-METAL")
    assert (result.attrition[["participants", "comparison"]] == "<1000").any().any()
    for column in ("participants", "comparison"):
        for cell in result.attrition[column]:
            assert cell in ("<1000", "hidden", "0") or int(cell) >= 1000
    assert "n_risk" not in result.curves  # the first would be the group size


def test_too_few_participants_follow_the_impact_rules(demo_con):
    tiny = ViewFilters(selection=Selection(release_years=(2019,), sexes=("F",)), min_cell=50)
    result = impact(demo_con, tiny, kind="program", value="VOC-WOOD")
    if result.ok:  # few women, few participants: no result may be reported
        assert not result.reportable
        assert result.rates.empty and result.estimates.empty and result.curves.empty
        assert any("no result is reported" in r for r in reason_texts(result.verdict))
        assert result.small_sample
    else:
        assert "no participants" in result.error


def test_problems_are_returned_not_raised(demo_con):
    result = impact(demo_con, ViewFilters(), kind="funder", value="European Union")
    assert not result.ok and "separately" in result.error
    with pytest.raises(Exception, match="kind"):
        impact(demo_con, ViewFilters(), kind="donor", value="x")


def test_sensitivity_uses_weighting(demo_con):
    result = impact_sensitivity(demo_con, ViewFilters(), kind="program", value="VOC-METAL")
    assert result.error is None and result.reportable
    assert "hazard_ratio" in set(result.estimates["measure"])
    assert "hazard ratio" in set(render_table(result.estimates)["Measure"])


def test_report_is_offline_html_with_suppressed_counts(demo_con):
    html = impact_report(demo_con, ViewFilters(min_cell=1000), kind="program", value="VOC-METAL")
    assert html.lstrip().lower().startswith("<!doctype html")
    assert "&lt;1000" in html
    assert "<script src=" not in html  # the plotting library is inlined


def test_planning_aid_is_the_power_module():
    ours = planning(None, ViewFilters(), participants=250, base_rate=0.35)
    assert ours == minimum_detectable_effect(250, 0.35)
    assert "250 participants" in ours.sentence()


def test_small_numbers_in_sentences_are_hidden():
    assert suppress_numbers_in_text("7 releases, 12 kept, day 90", ViewFilters().policy) == (
        "<10 releases, 12 kept, day 90")
    assert suppress_numbers_in_text("SMD > 0.1", ViewFilters().policy) == "SMD > 0.1"


def test_headline_and_reasons_are_words_of_the_reader(demo_con, metal):
    from analysis.impact.evaluation import ImpactEvaluation
    from analysis.impact.publication import for_publication

    filters = ViewFilters()
    raw = ImpactEvaluation(program="VOC-METAL", horizon_days=365, outcome=filters.outcome,
                           selection=filters.selection).fit(demo_con)
    # English is the evaluation's own (published) text
    assert headline_text(metal.headline) == for_publication(raw, filters.policy).summary_text
    french = headline_text(metal.headline, "fr")
    assert french.startswith("Sur 100 participants, ")
    numbers = [int(n) for n in re.findall(r"\d+", headline_text(metal.headline))]
    assert [int(n) for n in re.findall(r"\d+", french)] == numbers
    sensitivity = impact_sensitivity(demo_con, filters, kind="program", value="VOC-METAL")
    assert headline_text(sensitivity.headline, "sr").startswith("Od svakih 100 učesnika")
    french_table = render_table(metal.rates, "fr", coded=("group",))
    assert list(french_table["Groupe"]) == ["participants", "comparaison"]


def test_a_result_not_reported_hides_its_count_in_russian(demo_con):
    tiny = ViewFilters(selection=Selection(release_years=(2019,), sexes=("F",)), min_cell=50)
    result = impact(demo_con, tiny, kind="program", value="VOC-WOOD")
    assert result.ok and not result.reportable
    headline = headline_text(result.headline, "ru")
    assert headline.startswith(
        "Результат не может быть опубликован: только <50 участников были под наблюдением")
    reasons = reason_texts(result.verdict, "ru")
    assert "(<50)" in reasons[0] and "результат не публикуется" in reasons[0]
    assert not re.search(r"(?<![<\d])([1-9]|[1-4]\d)(?!\d)", headline)


def test_the_page_view_is_the_two_views_together(demo_con):
    from analysis.views.impact import impact_page
    from tests.views.test_stored import _same

    for value in ("VOC-METAL", "PROB-SUPPORT"):
        page = impact_page(demo_con, ViewFilters(), kind="program", value=value)
        _same(page.primary, impact(demo_con, ViewFilters(), kind="program", value=value))
        _same(page.sensitivity, impact_sensitivity(demo_con, ViewFilters(), kind="program",
                                                   value=value))
    missing = impact_page(demo_con, ViewFilters(), kind="program", value="NO-SUCH")
    assert not missing.primary.ok and missing.sensitivity.error


def test_hidden_counts_of_the_rates_table_read_in_the_language():
    """A count hidden so that it cannot be worked out by subtraction reads "hidden" in
    the reader's language in every counted column, reoffenders included."""
    import pandas as pd

    from analysis.i18n import translator
    from analysis.views.words import render_table

    rates = pd.DataFrame({"group": ["participants"], "people": ["hidden"],
                          "reoffended": ["hidden"]})
    shown = render_table(rates, "fr")
    assert list(shown.iloc[0])[1:] == [translator("fr")("hidden")] * 2
