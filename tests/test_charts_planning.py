"""Planning charts: intervals drawn where they belong, names from the data as text, the
builders' own labels in the reader's language, many groups as small multiples."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from analysis.charts.groups import MANY_GROUPS
from analysis.charts.planning import (
    calibration_plot,
    forecast_plot,
    hazard_plot,
    scenario_plot,
)
from analysis.charts.style import TOP_MARGIN

REGIONS = ["<b>North</b>", "South"]


def forecast_frame() -> pd.DataFrame:
    rows = []
    for outcome, scale in (("reoffending", 1.0), ("returns", 0.4)):
        for group, base in zip(REGIONS, (40.0, 20.0), strict=True):
            for months in (3, 6, 12):
                expected = base * scale * months / 12
                rows.append((group, outcome, months, expected, expected * 0.7,
                             expected * 1.4))
    return pd.DataFrame(rows, columns=["group", "outcome", "months", "expected", "lower",
                                       "upper"])


def backtest_frame() -> pd.DataFrame:
    frame = forecast_frame().rename(columns={"expected": "predicted"})
    return frame.assign(observed=frame["predicted"].round() + 1)


def hazard_table(groups: int) -> pd.DataFrame:
    rows = []
    for g in range(groups):
        for month in range(1, 25):
            hazard = 0.06 / month ** 0.4
            rows.append((f"Region {g}", month, hazard, hazard * 0.8, hazard * 1.2))
    table = pd.DataFrame(rows, columns=["group", "month", "hazard", "lower", "upper"])
    table.loc[3, ["hazard", "lower", "upper"]] = np.nan  # a hidden month: a gap
    return table


def per_year() -> pd.DataFrame:
    return pd.DataFrame({"year": [1, 2, 3], "reoffences_avoided": [6.0, 6.0, 6.0],
                         "lower": [0.0, 0.0, 0.0], "upper": [12.0, 12.0, 12.0],
                         "returns_avoided": [3.0, 3.0, 3.0], "returns_lower": [0.0] * 3,
                         "returns_upper": [6.0] * 3,
                         "cumulative_net_cost": [80_000.0, 20_000.0, -30_000.0]})


def every_figure(language: str = "en"):
    return [forecast_plot(forecast_frame(), title="T", group_title="Region",
                          language=language),
            calibration_plot(backtest_frame(), title="T", language=language),
            hazard_plot(hazard_table(2), title="T", language=language),
            hazard_plot(hazard_table(MANY_GROUPS + 2), title="T", language=language),
            scenario_plot(per_year(), currency="EUR", title="T", language=language)]


def test_the_forecast_draws_each_horizon_with_its_90_percent_interval():
    fig = forecast_plot(forecast_frame())
    assert [t.name for t in fig.data] == ["3 months", "6 months", "12 months"] * 2
    first = fig.data[2]  # 12 months, reoffending
    assert list(first.y) == [40.0, 20.0]
    assert np.allclose(first.error_y.array, [16.0, 8.0])  # upper - expected
    assert np.allclose(first.error_y.arrayminus, [12.0, 6.0])  # expected - lower
    assert [a.text for a in fig.layout.annotations][:2] == [
        "Expected first reoffences", "Expected returns to custody"]
    assert fig.data[5].yaxis == "y2"  # returns in their own part
    # names from the data are drawn as text
    assert list(fig.data[0].x)[0] == "&lt;b&gt;North&lt;/b&gt;"


def test_the_backtest_puts_observed_against_predicted_with_the_equal_line():
    fig = calibration_plot(backtest_frame())
    names = [t.name for t in fig.data]
    assert names.count("observed = predicted") == 2  # one per outcome
    line = next(t for t in fig.data if t.name == "observed = predicted")
    assert list(line.x) == list(line.y)
    point = fig.data[0]
    assert list(point.y) == list(backtest_frame().query(
        "outcome == 'reoffending' and months == 3")["observed"])
    assert fig.layout.yaxis.title.text == "Observed"


def test_the_hazard_has_bands_and_becomes_small_multiples_past_five_groups():
    few = hazard_plot(hazard_table(2))
    assert [t.name for t in few.data] == ["Region 0 95% CI", "Region 0", "Region 1 95% CI",
                                          "Region 1"]
    assert few.data[0].fill == "toself" and few.layout.yaxis.ticksuffix == "%"
    assert np.isnan(few.data[1].y[3])  # the hidden month is a gap, not a zero
    many = hazard_plot(hazard_table(MANY_GROUPS + 2))
    titles = [a.text for a in many.layout.annotations]
    assert [f"Region {g}" for g in range(MANY_GROUPS + 2)] == titles[:MANY_GROUPS + 2]
    assert many.layout.showlegend is False and many.layout.height > 500


def test_the_scenario_shows_the_ranges_and_the_cumulative_net_cost():
    fig = scenario_plot(per_year(), currency="EUR")
    bars = fig.data[0]
    assert list(bars.error_y.array) == [6.0] * 3 and list(bars.error_y.arrayminus) == [6.0] * 3
    assert fig.data[2].name == "Cumulative net cost (EUR)"
    without_money = scenario_plot(per_year().assign(cumulative_net_cost=np.nan))
    assert [t.name for t in without_money.data] == ["Reoffences avoided",
                                                    "Returns to custody avoided"]


def _fixed_texts(fig) -> list[str]:
    texts = [fig.layout.xaxis.title.text, fig.layout.yaxis.title.text,
             fig.layout.legend.title.text]
    texts += [a.text for a in fig.layout.annotations if not a.text.startswith("Region")]
    texts += [t.name for t in fig.data if t.name and "Region" not in t.name]
    return [t for t in texts if t]


@pytest.mark.parametrize("language", ["fr", "ar", "ru", "sr"])
def test_the_builders_write_their_own_labels_in_the_language(language):
    for english, translated in zip(every_figure(), every_figure(language), strict=True):
        ours, theirs = set(_fixed_texts(english)), set(_fixed_texts(translated))
        # the title and the groups' axis title are the caller's words
        assert ours and not ours & theirs - {"T", "Region"}, (language, ours & theirs)


def test_no_legend_or_title_overlap():
    for fig in every_figure():
        assert fig.layout.title.text == "T"
        assert fig.layout.margin.t == TOP_MARGIN
        assert fig.layout.legend.x is None or fig.layout.legend.x >= 1


def test_arabic_texts_are_laid_out_right_to_left():
    # plotly draws SVG text left to right: "90%" and "3 months" would be drawn backwards
    for arabic, french in zip(every_figure("ar"), every_figure("fr"), strict=True):
        texts = [arabic.layout.title.text, arabic.layout.yaxis.title.text,
                 *(t.name for t in arabic.data if t.name)]
        assert all(t.startswith("\u202b") and t.endswith("\u202c") for t in texts if t)
        assert not any("\u202b" in (t.name or "") for t in french.data)
        assert "\u202b" not in french.layout.title.text
