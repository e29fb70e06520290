"""Overview view: headline numbers agree with the survival engine; small cells are hidden."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.results import events_by_horizon
from analysis.survival.episodes import Outcome, Selection
from analysis.survival.fixed_horizon import fixed_horizon_rates_from_db
from analysis.survival.kaplan_meier import kaplan_meier_from_db
from analysis.views.filters import ViewFilters
from analysis.views.overview import outcome_sentence, overview
from tests.conftest import DEMO_RELEASES

REARREST = Outcome.named("rearrest")


def test_headline_numbers_match_the_engine(demo_con):
    result = overview(demo_con, ViewFilters(outcome=REARREST))
    people = demo_con.execute("SELECT count(DISTINCT person_id) FROM releases").fetchone()[0]
    assert (result.releases, result.people) == (DEMO_RELEASES, people)
    km = kaplan_meier_from_db(demo_con, outcome=REARREST).result.at([365, 730, 1095])
    assert np.allclose(result.horizons["recidivism"], km["recidivism"])
    assert np.allclose(result.horizons["lower"], km["recidivism_lower"])
    complete = fixed_horizon_rates_from_db(demo_con, [365, 730, 1095], outcome=REARREST)
    assert np.allclose(result.horizons["complete_rate"], complete["rate"])
    assert 12 < result.median_follow_up_months < 120
    assert not result.small_sample
    assert result.event_types == ("rearrest",)
    assert result.horizon_table.shape == (3, 10)
    assert list(result.horizon_table["within"]) == [365, 730, 1095]
    # the people beside the rates: those seen to reoffend by each horizon, as numbers
    day_table = kaplan_meier_from_db(demo_con, outcome=REARREST).day_table
    observed = events_by_horizon(day_table, [365, 730, 1095])
    assert list(result.horizon_table["reoffended"]) == [
        observed[(g, d)] for (g, d) in sorted(observed, key=lambda key: key[1])]
    assert all(isinstance(n, int) for n in result.horizon_table["reoffended"])
    assert list(result.horizon_table["complete_reoffended"]) == list(complete["events"])


def test_filter_changes_the_numbers(demo_con):
    women = overview(demo_con, ViewFilters(Selection(sexes=("F",))))
    everyone = overview(demo_con, ViewFilters())
    assert women.releases < everyone.releases
    assert women.horizons["recidivism"].iloc[0] != everyone.horizons["recidivism"].iloc[0]


def test_tiny_selection_is_suppressed(demo_con):
    tiny = ViewFilters(Selection(sexes=("F",), age_bands=("55+",),
                                 facilities=("Probation Service",)))
    result = overview(demo_con, tiny)
    assert result.releases is None and result.people is None
    assert result.median_follow_up_months is None
    assert result.horizons["recidivism"].isna().all()
    assert result.small_sample
    assert set(result.cohort_table["releases"]) <= {"<10", 0}
    assert set(result.cohort_table["reoffended_365"]) <= {"suppressed", 0}


def test_cohort_counts_get_complementary_suppression(demo_con):
    # Raise k until exactly one cohort is below it: a second one must be hidden too.
    sizes = dict(demo_con.execute(
        "SELECT year(release_date), count(*) FROM releases GROUP BY 1").fetchall())
    smallest, second = sorted(sizes.values())[:2]
    k = (smallest + second) // 2 + 1 if smallest < second - 1 else None
    assert k is not None and smallest < k <= second
    result = overview(demo_con, ViewFilters(min_cell=k))
    hidden = result.cohorts[result.cohorts["releases"] == f"<{k}"]
    assert len(hidden) == 2
    assert hidden["recidivism"].isna().all()
    visible = result.cohorts[result.cohorts["releases"] != f"<{k}"]
    assert (visible["releases"].astype(int) >= k).all()
    # their reoffenders are hidden with them
    assert set(result.cohort_table.loc[hidden.index, "reoffended_365"]) == {"suppressed"}


@pytest.mark.parametrize("types", [("rearrest",), ("rearrest", "reincarceration")])
def test_outcome_sentence(types):
    sentence = outcome_sentence(types)
    assert sentence.startswith("Reoffending means the first " + types[0])
    assert ("not counted as reoffending" in sentence) is ("reincarceration" not in types)


@pytest.mark.parametrize(("language", "opening", "reincarceration"), [
    ("fr", "La récidive est le premier événement", "une réincarcération (non comptée"),
    ("ar", "يعني العود أول حدث", "العودة إلى السجن (لا تُحتسب"),
    ("ru", "Рецидив — первое из событий", "повторное лишение свободы (не"),
    ("sr", "Povrat je prvi događaj", "ponovno zatvaranje (ne računa"),
])
def test_outcome_sentence_in_other_languages(language, opening, reincarceration):
    sentence = outcome_sentence(("rearrest", "reconviction"), language=language)
    assert sentence.startswith(opening) and reincarceration in sentence
    assert not any(word in sentence for word in ("rearrest", "reconviction", "death", "cut-off"))
    counted = outcome_sentence(("rearrest", "reincarceration"), language=language)
    assert reincarceration not in counted
    assert "custom_event" in outcome_sentence(("custom_event",), language=language).replace(
        " ", "_")


def test_the_lists_of_the_sentence_are_joined_in_the_language():
    assert outcome_sentence(("rearrest", "reconviction", "violation")).startswith(
        "Reoffending means the first rearrest, reconviction or violation of conditions "
        "recorded after release")
    assert "nouvelle arrestation, nouvelle condamnation ou violation des conditions" in (
        outcome_sentence(("rearrest", "reconviction", "violation"), language="fr"))
    arabic = outcome_sentence(("rearrest", "reconviction"), language="ar")
    assert "إعادة الإيقاف أو إدانة جديدة" in arabic
    assert "\u2068" not in arabic  # words of one language: no directional isolates
    assert outcome_sentence((), language="ru").startswith(
        "Рецидив — первое из событий, зарегистрированных после освобождения: событие не")


def test_the_overview_holds_no_words(demo_con):
    from analysis.views.overview import cohort_figure
    from analysis.views.words import render_table

    result = overview(demo_con, ViewFilters())
    assert list(result.horizon_table.columns) == [
        "within", "reoffended", "km_rate", "km_lower", "km_upper", "complete_n",
        "complete_reoffended", "complete_rate", "complete_lower", "complete_upper"]
    french = render_table(result.horizon_table, "fr")
    assert list(french["Délai"]) == ["1 an", "2 ans", "3 ans"]
    assert list(render_table(result.horizon_table, "ru").iloc[:, 0]) == [
        "1 год", "2 года", "3 года"]
    figure = cohort_figure(result, "ar")
    assert figure.layout.title.text == "العود خلال سنة، حسب فوج الإفراج"
    assert figure.layout.xaxis.title.text == "سنة الإفراج"


def test_a_rate_whose_numerator_is_below_k_is_hidden():
    # Regression: "41.2% of 17" was shown, naming the 7 who reoffended (17 >= k = 10).
    import pandas as pd

    from analysis.disclosure import DisclosurePolicy
    from analysis.views.overview import _horizon_frames

    day_table = pd.DataFrame({"group": "all", "time": [100, 400, 800, 1200],
                              "n_event": [20, 10, 10, 0], "n_competing": 0,
                              "n_censored": [0, 0, 0, 160]})
    complete = pd.DataFrame({
        "group": "all", "days": [365, 730, 1095], "n": [17, 190, 120],
        "events": [7, 95, 115], "excluded": [183, 10, 80],
        "rate": [7 / 17, 0.5, 115 / 120], "lower": 0.1, "upper": 0.9})
    frame, table = _horizon_frames(day_table, complete, DisclosurePolicy(k=10))
    assert np.isnan(frame["complete_rate"].iloc[0])  # 7 of 17 reoffended
    assert frame["complete_rate"].iloc[1] == 0.5  # 95 of 190: nothing small
    assert np.isnan(frame["complete_rate"].iloc[2])  # all but 5 of 120 reoffended
    assert table["complete_reoffended"].iloc[0] == "<10"  # the count is hidden too
    assert table["complete_reoffended"].iloc[1] == 95
    assert table["complete_reoffended"].iloc[2] == "hidden"  # 115 of 120: 5 did not
    assert frame["complete_n"].iloc[0] == 17


def test_a_horizon_beyond_follow_up_reads_not_followed_long_enough(demo_con):
    # Releases of the last two years cannot have been followed 3 years: that is what the
    # table says there, not "suppressed" (which means too few people to show).
    from analysis.views.words import render_table

    last = demo_con.execute("SELECT max(release_date) FROM releases").fetchone()[0]
    recent = ViewFilters(Selection(release_from=last.replace(year=last.year - 2)))
    table = overview(demo_con, recent).horizon_table
    assert isinstance(table["reoffended"].iloc[0], int)  # a year is reached
    assert table["reoffended"].iloc[2] == "not_reached"
    assert np.isnan(table["km_rate"].iloc[2]) and table["complete_n"].iloc[2] == 0
    assert table["complete_reoffended"].iloc[2] == "not_reached"
    assert render_table(table, "en")["People who reoffended"].iloc[2] == (
        "not followed long enough")
    assert render_table(table, "fr")["Personnes ayant récidivé"].iloc[2] == "suivi trop court"
