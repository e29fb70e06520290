"""The risk table under the Kaplan–Meier curves: its numbers, their disclosure control,
and the curves page's views of many groups (issue 14)."""

from __future__ import annotations

import pandas as pd
import pytest

from analysis.charts.curves import visible_steps
from analysis.disclosure import DisclosurePolicy
from analysis.errors import AnalysisError
from analysis.results import events_by_horizon
from analysis.survival.episodes import Selection
from analysis.views.curves import AT_RISK_MONTHS, curves_figure, recidivism_curves
from analysis.views.estimates import view_study
from analysis.views.filters import ViewFilters
from analysis.views.risk_table import risk_counts, risk_masks, risk_rows
from analysis.views.words import render_table
from tests.views.disclosure_audit import Audit, as_count

#: A day table written out by hand: group a, 20 releases; group b, 15.
DAYS = pd.DataFrame(
    [("a", 30, 4, 0, 0), ("a", 200, 3, 1, 0), ("a", 365, 2, 0, 1), ("a", 500, 1, 0, 2),
     ("a", 800, 0, 0, 6),
     ("b", 100, 5, 0, 0), ("b", 366, 1, 0, 0), ("b", 700, 0, 1, 8)],
    columns=["group", "time", "n_event", "n_competing", "n_censored"])


def test_numbers_at_risk_and_events_by_hand():
    at_risk, events = risk_counts(DAYS, ["a", "b"], [0, 12, 24])
    # at 12 months (day 365): a has lost the 4 + 4 who left on days 30 and 200 -> 12;
    # b the 5 of day 100 -> 10; at 24 months (day 730): a has 6 left, b nobody
    assert at_risk.to_dict("index") == {"a": {"at_0": 20, "at_12": 12, "at_24": 6},
                                        "b": {"at_0": 15, "at_12": 10, "at_24": 0}}
    # reoffended on or before day 365: a 4 + 3 + 2 = 9 (day 365 counts), b 5 (day 366 not)
    assert events.to_dict("index") == {"a": {"at_0": 0, "at_12": 9, "at_24": 10},
                                       "b": {"at_0": 0, "at_12": 5, "at_24": 6}}
    # the events are the numerators of the horizon rates
    horizons = events_by_horizon(DAYS, [365, 730])
    assert horizons[("a", 365)] == 9 and horizons[("b", 730)] == 6


def test_hand_suppression_of_small_counts_and_complements():
    at_risk, events = risk_counts(DAYS, ["a", "b"], [0, 12, 24])
    hide_n, hide_e = risk_masks(at_risk, events, DisclosurePolicy(k=5))
    # at risk: every count and every drop between two years (8, 6; 5, 10) is 5 or more
    assert not hide_n.to_numpy().any()
    # events a 0, 9, 10 and b 0, 5, 6: 1 person of each group reoffended in the second
    # year (10 - 9, 6 - 5). One cell of each pair must go, and each year's total over
    # the groups is known (the page without a breakdown), so a whole column goes: the
    # smaller one, at 12 months. The second-year counts are then unknown.
    assert hide_e.to_dict("list") == {"at_0": [False, False], "at_12": [True, True],
                                      "at_24": [False, False]}
    # with k = 11: b's 10 at risk at 12 months and a's 6 at 24 are small, so are the
    # drops between years (8, 6; 5) and those who had not reoffended (a: 20 - 10 = 10 by
    # 2 years, b: 15 - 6 = 9): their complements take every cell after release...
    hide_n, hide_e = risk_masks(at_risk, events, DisclosurePolicy(k=11))
    assert hide_n.to_dict("list") == {"at_0": [False, False], "at_12": [True, True],
                                      "at_24": [True, True]}
    assert hide_e.to_dict("list") == {"at_0": [False, False], "at_12": [True, True],
                                      "at_24": [True, True]}
    # ... and zero reoffended at 0 months says nothing of anyone: shown


def test_the_view_gives_a_risk_table_per_year(demo_con):
    result = recidivism_curves(demo_con, ViewFilters(), breakdown="sex")
    table = result.risk_table
    years = [c for c in table.columns if c.startswith("at_")]
    assert years[:4] == ["at_0", "at_12", "at_24", "at_36"]
    assert int(years[-1][3:]) * 30.4375 <= result.curves["time"].max()
    assert list(table["measure"]) == ["at_risk", "events"] * 2
    # against a direct count from the episodes
    days = view_study(demo_con, ViewFilters()).day_counts("sex")
    at_risk, events = risk_counts(days, ["F", "M"], [int(c[3:]) for c in years])
    shown = table.set_index(["group", "measure"])
    for group in ("F", "M"):
        for column in years:
            for measure, counts in (("at_risk", at_risk), ("events", events)):
                cell = shown.loc[(group, measure), column]
                assert cell == "<10" or int(cell) == counts.loc[group, column]
    # the releases, and the numbers at risk the month table shares, say the same
    releases = result.horizon_table.set_index("group")["releases"]
    months = result.at_risk.set_index("group")
    for group in ("F", "M"):
        assert shown.loc[(group, "at_risk"), "at_0"] == releases[group]
        for m in set(AT_RISK_MONTHS) & {int(c[3:]) for c in years}:
            assert shown.loc[(group, "at_risk"), f"at_{m}"] == months.loc[group, f"at_{m}"]


def _audit_risk_table(con, filters, breakdown) -> list[str]:
    """An attacker's audit of every count the curves page shows, with the relations any
    reader knows (written here, not taken from analysis.views.risk_table)."""
    k = filters.min_cell
    result = recidivism_curves(con, filters, breakdown=breakdown)
    overall = recidivism_curves(con, filters)
    audit = Audit(k, f"risk table by {breakdown}")
    table = result.risk_table.set_index(["group", "measure"])
    whole = overall.risk_table.set_index("measure")
    groups = list(dict.fromkeys(result.risk_table["group"]))
    years = [int(c[3:]) for c in result.risk_table.columns if c.startswith("at_")]
    months = sorted(set(years) | set(AT_RISK_MONTHS))
    for measure in ("at_risk", "events"):
        for m in years:
            total = as_count(whole.loc[measure, f"at_{m}"])
            if total is not None:
                audit.known((measure, "total", m), total)
            audit.relation((measure, "total", m), [(measure, g, m) for g in groups])
    month_table = result.at_risk.set_index("group")
    for g in groups:
        for m in years:
            audit.count(("at_risk", g, m), table.loc[(g, "at_risk"), f"at_{m}"])
            audit.count(("events", g, m), table.loc[(g, "events"), f"at_{m}"])
            # releases = reoffended by then + those who had not
            audit.hidden(("not yet", g, m))
            audit.relation(("at_risk", g, 0), [("events", g, m), ("not yet", g, m)])
        for m in AT_RISK_MONTHS:
            audit.count(("at_risk", g, m), month_table.loc[g, f"at_{m}"])
        for before, after in zip(months, months[1:], strict=False):
            audit.hidden(("left", g, before))
            audit.relation(("at_risk", g, before), [("at_risk", g, after), ("left", g, before)])
        for before, after in zip(years, years[1:], strict=False):
            audit.hidden(("new", g, before))
            audit.relation(("events", g, after), [("events", g, before), ("new", g, before)])
    return audit.check()


@pytest.mark.parametrize("selection, breakdown, k", [
    (Selection(), "facility", 10),
    (Selection(sexes=("F",)), "age_band", 10),
    (Selection(sexes=("F",)), "offense_category", 25),
])
def test_no_small_count_of_the_risk_table_is_shown_or_derivable(demo_con, selection,
                                                                breakdown, k):
    filters = ViewFilters(selection, min_cell=k)
    result = recidivism_curves(demo_con, filters, breakdown=breakdown)
    assert (result.risk_table == f"<{k}").any().any()  # something had to be hidden
    assert _audit_risk_table(demo_con, filters, breakdown) == []


def test_the_risk_table_in_words(demo_con):
    result = recidivism_curves(demo_con, ViewFilters(), breakdown="sex")
    french = render_table(risk_rows(result.risk_table, "fr"), "fr")
    assert list(french.columns)[:4] == ["Groupe", "Mesure", "0 mois", "12 mois"]
    assert list(french["Mesure"][:2]) == ["Nombre à risque", "Ont récidivé (cumul)"]


def test_the_chart_carries_the_risk_table_under_the_curves(demo_con):
    result = recidivism_curves(demo_con, ViewFilters(), breakdown="sex")
    fig = curves_figure(result, "ar")
    rows = [t for t in fig.data if t.mode == "text"]
    assert [t.y[0] for t in rows] == ["F", "M"]
    table = result.risk_table.set_index(["group", "measure"])
    first = f"{table.loc[('F', 'at_risk'), 'at_12']} ({table.loc[('F', 'events'), 'at_12']})"
    assert rows[0].text[1] == first.replace("<", "&lt;")
    assert fig.layout.annotations[0].text == "عدد المعرّضين للخطر (العائدون حتى ذلك الحين)"
    assert len(curves_figure(result, risk_table=False).data) == len(fig.data) - 2


def test_seven_facilities_as_small_multiples_or_one_highlighted(demo_con):
    result = recidivism_curves(demo_con, ViewFilters(), breakdown="facility")
    groups = list(dict.fromkeys(result.curves["group"]))
    assert len(groups) == 7
    facets = curves_figure(result, "fr", layout="facets")
    assert [a.text for a in facets.layout.annotations][:7] == groups
    grey = [t for t in facets.data if t.line.color == "#9a9a9a"]
    # the grey curve of all releases is the one the page shows without a breakdown
    alone = recidivism_curves(demo_con, ViewFilters()).curves
    drawn = visible_steps(alone, ["recidivism"])  # as every curve is drawn
    assert list(grey[0].y) == pytest.approx(list(drawn["recidivism"] * 100))
    highlight = curves_figure(result, layout="highlight", highlight="Northgate Prison")
    assert highlight.data[-1].name == "Northgate Prison"
    assert curves_figure(result, layout="highlight").data[-1].name == groups[0]
    with pytest.raises(AnalysisError, match="unknown layout"):
        curves_figure(result, layout="spiral")
    # one group only: always the one chart
    assert curves_figure(recidivism_curves(demo_con, ViewFilters()),
                         layout="facets").layout.xaxis2.anchor == "y2"
