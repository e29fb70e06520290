"""Charts stay readable (issue 14): legends never cover titles, axis titles are not cut,
many groups get small multiples or a highlight, and the overlap chart has no spike at 0.

The layout is checked here on the figure's own description (where plotly is told to put
things); tests/browser/test_chart_layout.py checks the drawn boxes in Chromium.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.charts import (
    MANY_GROUPS,
    balance_plot,
    curve_facets,
    forest_plot,
    highlighted_curves,
    overlap_plot,
    rate_plot,
    step_curves,
)
from analysis.charts.style import BOTTOM_MARGIN, FONT_SIZE, TOP_MARGIN
from analysis.impact.propensity import PropensityScore

FACILITIES = ["Eastfield Prison", "Hillcrest High-Security Prison", "Lakeside Open Prison",
              "Marigold Women's Prison", "Northgate Prison", "Probation Service",
              "Riverside Prison"]


def seven_curves() -> pd.DataFrame:
    rows = []
    for i, name in enumerate(FACILITIES):
        for day in range(0, 1100, 50):
            share = min(0.9, (0.1 + 0.03 * i) * np.log1p(day / 100))
            rows.append((name, day, share, share * 0.9, share * 1.1))
    return pd.DataFrame(rows, columns=["group", "time", "recidivism", "lower", "upper"])


def every_figure():
    curves = seven_curves()
    balance = pd.DataFrame({"covariate": ["age at release", "facility: " + FACILITIES[1]],
                            "smd_before": [.3, .4], "smd_after": [.02, .05]})
    overlap = pd.DataFrame({"score_from": [0, .5], "score_to": [.5, 1],
                            "participants": [10, 20], "others": [30, 40]})
    terms = pd.DataFrame({"term": ["A"], "hr": [.8], "hr_lower": [.7], "hr_upper": [.9]})
    rates = pd.DataFrame({"facility": FACILITIES, "recidivism": [.3] * 7,
                          "lower": [.2] * 7, "upper": [.4] * 7})
    return {
        "overlay": step_curves(curves, value="recidivism", time_unit="months",
                               title="Kaplan–Meier"),
        "facets": curve_facets(curves, value="recidivism", time_unit="months",
                               overall=curves[curves["group"] == FACILITIES[0]],
                               title="Kaplan–Meier"),
        "highlight": highlighted_curves(curves, value="recidivism", highlight=FACILITIES[4],
                                        time_unit="months", title="Kaplan–Meier"),
        "balance": balance_plot(balance),
        "overlap": overlap_plot(overlap),
        "forest": forest_plot(terms),
        "rates": rate_plot(rates, label="facility"),
    }


@pytest.mark.parametrize("name", list(every_figure()))
def test_the_legend_sits_beside_the_plot_and_the_title_above_it(name):
    layout = every_figure()[name].layout
    # the title: in its own band at the top of the figure, which the plot never enters
    assert layout.title.yref == "container" and layout.title.y == 1
    assert layout.title.yanchor == "top" and layout.title.automargin is False
    assert layout.margin.t == TOP_MARGIN >= layout.title.pad.t + 1.25 * (FONT_SIZE + 4)
    # the legend: to the right of the plot (x > 1 of the plot's width), from its top down:
    # below the title's band whatever the number of entries
    assert layout.legend.orientation == "v" and layout.legend.xanchor == "left"
    assert layout.legend.x > 1 and layout.legend.yref == "paper"
    assert layout.legend.y <= 1 and layout.legend.yanchor == "top"


@pytest.mark.parametrize("name", list(every_figure()))
def test_every_axis_makes_room_for_its_labels(name):
    fig = every_figure()[name]
    axes = [*fig.select_xaxes(), *fig.select_yaxes()]
    assert axes and all(axis.automargin is True for axis in axes)
    assert fig.layout.margin.b >= BOTTOM_MARGIN


def test_long_axis_titles_wrap_instead_of_running_off_the_figure():
    balance = pd.DataFrame({"covariate": ["age"], "smd_before": [.3], "smd_after": [.01]})
    russian = balance_plot(balance, language="ru")
    title = russian.layout.xaxis.title.text
    assert "<br>" in title and all(len(line) <= 42 for line in title.split("<br>"))
    # each extra line of the title gets its room in the bottom margin
    assert russian.layout.margin.b == BOTTOM_MARGIN + 22 * title.count("<br>")
    assert "<br>" not in balance_plot(balance).layout.xaxis.title.text  # English fits


def test_long_covariate_names_wrap_on_the_balance_chart():
    names = [f"facility: {name}" for name in FACILITIES]
    balance = pd.DataFrame({"covariate": names, "smd_before": [.2] * 7, "smd_after": [.01] * 7})
    fig = balance_plot(balance)
    assert list(fig.data[0].y) == names  # the data is unchanged: only the tick text wraps
    assert list(fig.layout.yaxis.tickvals) == names
    assert "facility: Hillcrest<br>High-Security Prison" in fig.layout.yaxis.ticktext
    # a row of at least 26 pixels a covariate, 17 more for each extra line of its name
    assert fig.layout.height >= sum(26 + 17 * t.count("<br>") for t in fig.layout.yaxis.ticktext)


def test_seven_groups_as_small_multiples():
    curves = seven_curves()
    overall = pd.DataFrame({"time": [0, 400, 1000], "recidivism": [0, .3, .5]})
    assert len(FACILITIES) > MANY_GROUPS
    fig = curve_facets(curves, value="recidivism", overall=overall, time_unit="months",
                       language="fr")
    titles = [a.text for a in fig.layout.annotations]
    assert titles[:7] == FACILITIES
    assert "Temps depuis la libération (mois)" in titles  # one shared x title, in French
    grey = [t for t in fig.data if t.line.color == "#9a9a9a"]
    assert len(grey) == 7 and [t.showlegend for t in grey] == [True] + [False] * 6
    assert grey[0].name == "toutes les libérations"
    # 3 plots a row: 3 rows, each with its own axes; every plot its time labels
    assert len(list(fig.select_xaxes())) == 9
    assert all(axis.showticklabels for axis in fig.select_xaxes())
    # each group's own curve is drawn after the grey one, in its own plot
    lines = [t for t in fig.data if t.fill is None and t.line.color != "#9a9a9a"]
    assert [t.name for t in lines] == FACILITIES
    assert len({t.xaxis for t in lines}) == 7


def test_seven_groups_with_one_highlighted():
    fig = highlighted_curves(seven_curves(), value="recidivism", highlight=FACILITIES[4],
                             time_unit="months", language="ru")
    coloured = [t for t in fig.data if t.fill is None and t.line.color != "#9a9a9a"]
    assert [t.name for t in coloured] == [FACILITIES[4]] and fig.data[-1] is coloured[0]
    grey = [t for t in fig.data if t.line.color == "#9a9a9a"]
    assert len(grey) == 6 and [t.name for t in grey] == ["другие группы"] * 6
    assert sum(bool(t.showlegend) for t in grey) == 1  # one legend entry for all six
    with pytest.raises(ValueError, match="not a group"):
        highlighted_curves(seven_curves(), value="recidivism", highlight="Nowhere")


def test_the_risk_table_is_drawn_under_the_curves_on_the_same_time_axis():
    curves = seven_curves()
    table = pd.DataFrame([(name, year * 365.25, f"{100 - 10 * year} ({5 * year})")
                          for name in FACILITIES for year in range(3)],
                         columns=["group", "time", "text"])
    fig = step_curves(curves, value="recidivism", time_unit="months", risk_table=table,
                      risk_title="Number at risk (reoffended so far)")
    rows = [t for t in fig.data if t.mode == "text"]
    assert [t.y[0] for t in rows] == FACILITIES and all(t.yaxis == "y2" for t in rows)
    assert list(rows[0].x) == [0.0, 12.0, 24.0] and rows[0].text == ("100 (0)", "90 (5)",
                                                                     "80 (10)")
    assert fig.layout.xaxis.matches == "x2" and list(fig.layout.xaxis.tickvals) == [0, 12, 24]
    # the curves' plot is above the table's, with room between for the x axis title
    assert fig.layout.yaxis.domain[0] > fig.layout.yaxis2.domain[1]
    assert fig.layout.annotations[0].text == "Number at risk (reoffended so far)"


def _separated(n: int = 4000, seed: int = 3) -> pd.DataFrame:
    """Releases where one offence category never takes part: its score goes to about 0."""
    rng = np.random.default_rng(seed)
    frame = pd.DataFrame({"age": rng.uniform(18, 60, n),
                          "offense": rng.choice(["drug", "property", "violent"], n)})
    chance = 1 / (1 + np.exp(-(frame["age"] - 40) / 8))
    frame["treated"] = (rng.random(n) < chance) & (frame["offense"] != "violent")
    return frame


def test_the_overlap_has_no_spike_at_zero():
    frame = _separated()
    ps = PropensityScore(["age", "offense"]).fit(frame, "treated")
    violent = (frame["offense"] == "violent").to_numpy()
    assert ps.scores_[violent].max() < 1e-6  # separation: the cause of the spike
    table = ps.overlap()
    inside, outside = table[table["common_support"]], table[~table["common_support"]]
    # every group is counted once: bins plus the two rows outside add up to its size
    assert table["participants"].sum() == frame["treated"].sum()
    assert table["others"].sum() == (~frame["treated"]).sum()
    # the violent offenders are all outside (below) the common support, not in bin 0
    assert outside.iloc[0]["others"] >= violent.sum()
    lowest = ps.scores_[ps.treated_].min()
    assert outside.iloc[0]["score_to"] == pytest.approx(lowest)
    assert inside["others"].sum() == (~ps.treated_ & (ps.scores_ >= lowest)).sum()
    # before, bin 0 held the violent offenders: more than any other bin
    old_first = np.histogram(ps.scores_[~ps.treated_], np.linspace(0, 1, 21))[0]
    assert old_first[0] > 2 * old_first[1:].max()
    shares = inside["others"] / inside["others"].sum()
    assert shares.iloc[0] < 2 * shares.iloc[1:].max()  # no spike left
    fig = overlap_plot(table)
    assert len(fig.data[1].x) == 20 and max(fig.data[1].x) < 1
    assert fig.data[1].y.sum() == pytest.approx(100)  # shares of the people drawn
    note = fig.layout.annotations[0].text.replace("<br>", " ")
    assert note.startswith("Not drawn (outside the range of scores both groups reach")
    assert f"others {outside['others'].sum():,}" in note


def test_the_overlap_note_never_shows_a_hidden_count():
    table = pd.DataFrame({"score_from": [0, .5, 0, .9], "score_to": [.5, 1, .1, 1],
                          "participants": [20, 20, 0, 0], "others": [30, 10, np.nan, 0],
                          "common_support": [True, True, False, False]})
    note = overlap_plot(table, language="fr").layout.annotations[0].text
    assert "autres masqué" in note and "participants 0" in note
    inside_only = table.assign(others=[30, 10, 0, 0])
    inside_only.loc[2:, "participants"] = 0
    assert not overlap_plot(inside_only).layout.annotations  # nobody left out: no note


def test_names_from_the_data_stay_text_in_the_many_group_charts():
    hostile = '<b>North</b> & <a href="http://x.invalid">South</a>'
    curves = seven_curves().replace({FACILITIES[0]: hostile})
    table = pd.DataFrame({"group": [hostile], "time": [0.0], "text": ["<10 (0)"]})
    figures = [curve_facets(curves, value="recidivism"),
               highlighted_curves(curves, value="recidivism", highlight=hostile),
               step_curves(curves, value="recidivism", risk_table=table)]
    for fig in figures:
        texts = [a.text for a in fig.layout.annotations]
        for trace in fig.data:
            texts += [trace.name, *(trace.text or ()), *(trace.y if trace.mode == "text"
                                                          else ()), trace.hovertext or ""]
        assert not [t for t in texts if isinstance(t, str) and "<b>" in t]
        assert any("&lt;b&gt;North&lt;/b&gt; &amp;" in t for t in texts if isinstance(t, str))
