"""Chart text is text: names from the data never become plotly markup (issue 12).

plotly.js reads ``<b>``, ``<br>``, ``<a href>``, ``<span style>`` and entities in titles,
legends, tick and hover labels. Every builder escapes ``<``, ``>`` and ``&`` once.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from analysis.charts import (
    balance_plot,
    forest_plot,
    overlap_plot,
    plotly_text,
    rate_plot,
    step_curves,
)

BOLD = "<b>Northgate</b> & Co"
LINK = '<a href="http://other-host.invalid/">Riverside</a><br>Prison'
ENTITY = "Marigold &amp; women"


def _unmarked(text: str) -> bool:
    """Whether plotly would draw ``text`` with no tag or entity of its own."""
    return "<" not in text and ">" not in text and "&" not in text.replace("&amp;", "") \
        .replace("&lt;", "").replace("&gt;", "")


@given(st.text())
def test_plotly_text_reads_back_as_written(text):
    escaped = plotly_text(text)
    assert "<" not in escaped and ">" not in escaped
    assert html.unescape(escaped) == text


def test_step_curve_legends_are_escaped():
    curves = pd.DataFrame({"group": [BOLD] * 2 + [LINK] * 2, "time": [0, 30] * 2,
                           "recidivism": [0, .1] * 2, "lower": [0, .05] * 2,
                           "upper": [0, .15] * 2})
    fig = step_curves(curves, value="recidivism", title=f"Curves of {ENTITY}")
    assert [t.name for t in fig.data] == [
        plotly_text(BOLD), plotly_text(f"{BOLD} 95% CI"), plotly_text(LINK),
        plotly_text(f"{LINK} 95% CI")]
    assert fig.layout.title.text == "Curves of Marigold &amp;amp; women"
    assert list(fig.data[0].y) == [0.0, 10.0]  # numbers untouched


def test_rate_plot_category_labels_are_escaped():
    rates = pd.DataFrame({"facility": [BOLD, LINK, ENTITY], "recidivism": [.3, .2, .1],
                          "lower": [.2, .1, .05], "upper": [.4, .3, .2]})
    for horizontal in (True, False):
        fig = rate_plot(rates, label="facility", horizontal=horizontal,
                        label_title="<i>Facility</i>")
        labels = fig.data[0].y if horizontal else fig.data[0].x
        assert list(labels) == [plotly_text(v) for v in (BOLD, LINK, ENTITY)]
        assert all(_unmarked(label) for label in labels)
        axis = fig.layout.yaxis if horizontal else fig.layout.xaxis
        assert axis.title.text == "&lt;i&gt;Facility&lt;/i&gt;"


def test_forest_and_balance_labels_are_escaped():
    terms = pd.DataFrame({"term": [BOLD, LINK], "hr": [.8, 1.1], "hr_lower": [.7, .9],
                          "hr_upper": [.9, 1.3], "model": ["<b>crude</b>", "<b>crude</b>"]})
    forest = forest_plot(terms, series="model")
    assert list(forest.data[0].y) == [plotly_text(BOLD), plotly_text(LINK)]
    assert forest.data[0].name == "&lt;b&gt;crude&lt;/b&gt;"
    balance = pd.DataFrame({"covariate": [f"facility: {BOLD}"], "smd_before": [.3],
                            "smd_after": [.01]})
    fig = balance_plot(balance)
    assert all(list(trace.y) == [plotly_text(f"facility: {BOLD}")] for trace in fig.data)


def test_every_text_of_a_figure_is_unmarked():
    overlap = pd.DataFrame({"score_from": [0, .5], "score_to": [.5, 1],
                            "participants": [10, 20], "others": [30, 40]})
    fig = overlap_plot(overlap)
    texts = [fig.layout.title.text, fig.layout.xaxis.title.text,
             fig.layout.yaxis.title.text, *(t.name for t in fig.data)]
    assert all(_unmarked(text) for text in texts)


def _fixed_texts(fig) -> list[str]:
    """The texts a builder writes itself: titles, axis titles, legend names."""
    return [text for text in (fig.layout.title.text, fig.layout.xaxis.title.text,
                              fig.layout.yaxis.title.text, *(t.name for t in fig.data))
            if text]


def _every_figure(language: str) -> list:
    curves = pd.DataFrame({"group": ["participants"] * 2 + ["comparison"] * 2,
                           "time": [0, 30] * 2, "recidivism": [0, .1] * 2,
                           "lower": [0, .05] * 2, "upper": [0, .15] * 2})
    terms = pd.DataFrame({"term": ["A", "A"], "hr": [.8, .9], "hr_lower": [.7, .8],
                          "hr_upper": [.9, 1.0], "model": ["unadjusted", "adjusted"]})
    balance = pd.DataFrame({"covariate": ["age"], "smd_before": [.3], "smd_after": [.01]})
    overlap = pd.DataFrame({"score_from": [0, .5], "score_to": [.5, 1],
                            "participants": [10, 20], "others": [30, 40]})
    rates = pd.DataFrame({"facility": ["A"], "recidivism": [.3], "lower": [.2],
                          "upper": [.4]})
    return [
        step_curves(curves, value="recidivism", time_unit="months", series_codes=True,
                    language=language),
        step_curves(curves.replace({"participants": "North", "comparison": "South"}),
                    value="recidivism", language=language),
        forest_plot(terms, series="model", language=language),
        forest_plot(terms, language=language),
        balance_plot(balance, language=language),
        overlap_plot(overlap, language=language),
        rate_plot(rates, label="facility", language=language),
    ]


@pytest.mark.parametrize("language", ["fr", "ar", "ru", "sr"])
def test_the_builders_write_their_own_labels_in_the_language(language):
    english = [set(_fixed_texts(fig)) for fig in _every_figure("en")]
    translated = [set(_fixed_texts(fig)) for fig in _every_figure(language)]
    # names from the data are the same in every language; French writes "participants"
    same = {"A", "North", "South"} | ({"participants"} if language == "fr" else set())
    for ours, theirs in zip(english, translated, strict=True):
        assert not (ours & theirs) - same, (language, ours & theirs)


def test_series_from_the_data_are_never_translated():
    curves = pd.DataFrame({"group": ["participants"] * 2, "time": [0, 30],
                           "recidivism": [0, .1], "lower": [0, .05], "upper": [0, .15]})
    # a facility called "participants" is a name, not the evaluation's group
    fig = step_curves(curves, value="recidivism", language="fr")
    assert fig.data[0].name == "participants"
    assert step_curves(curves, value="recidivism", series_codes=True,
                       language="fr").data[0].name == "participants"  # same word in French
    assert step_curves(curves, value="recidivism", series_codes=True,
                       language="ru").data[0].name == "участники"


def test_steps_too_small_to_see_are_not_drawn_and_the_curve_stays_within_the_tolerance():
    """A long Kaplan–Meier-like curve (a step per day) keeps a fraction of its points,
    and the step line through them is never further from the full one than a thousandth
    of the curve's range."""
    from analysis.charts.curves import STEP_TOLERANCE, visible_steps

    rng = np.random.default_rng(7)
    days = np.arange(3000.0)
    # a step per day of about 1/50,000: a national cohort's Kaplan–Meier curve
    y = np.cumsum(rng.exponential(0.00002, len(days))) * (1 + 0.05 * np.sin(days / 40))
    y[1500:1510] = np.nan  # a gap is kept
    curve = pd.DataFrame({"time": days, "y": y, "lower": y * 0.9, "upper": y * 1.1})
    kept = visible_steps(curve, ["y", "lower", "upper"])
    assert len(kept) < 0.75 * len(curve)
    assert kept["time"].iloc[0] == 0 and kept["time"].iloc[-1] == days[-1]
    assert curve["y"].isna().sum() == kept["y"].isna().sum()
    span = np.nanmax(curve[["y", "lower", "upper"]].to_numpy()) - np.nanmin(
        curve[["y", "lower", "upper"]].to_numpy())
    # what the step line ("hv") draws at every day: the last kept row's values
    drawn = kept.set_index("time").reindex(days).ffill()
    for column in ("y", "lower", "upper"):
        error = (drawn[column] - curve.set_index("time")[column]).abs()
        assert error.max() < STEP_TOLERANCE * span


def test_the_drawn_curve_is_thinned_but_the_result_is_not():
    days = np.arange(5000.0)
    curve = pd.DataFrame({"group": "all", "time": days,
                          "recidivism": np.linspace(0, 0.3, 5000),
                          "lower": np.linspace(0, 0.25, 5000), "upper": np.linspace(0, 0.35, 5000)})
    fig = step_curves(curve, value="recidivism")
    assert len(fig.data[0].x) < len(curve) / 2 and len(curve) == 5000
    assert fig.data[0].x[-1] == 4999 and fig.data[0].y[-1] == pytest.approx(30.0)
