"""The Planning page's charts, titled and labelled in the reader's language (the views
hold codes; :mod:`analysis.charts.planning` draws).

Examples
--------
>>> import pandas as pd
>>> from analysis.views.planning import PlanningHazard
>>> table = pd.DataFrame({"group": ["F"], "month": [1], "hazard": [.05], "lower": [.04],
...                       "upper": [.06]})
>>> hazard = PlanningHazard("sex", ("rearrest",), table, pd.DataFrame(), (), "<10")
>>> hazard_figure(hazard, "en").data[1].name
'female'
"""

from __future__ import annotations

import plotly.graph_objects as go

from analysis.charts.planning import (
    calibration_plot,
    forecast_plot,
    hazard_plot,
    scenario_plot,
)
from analysis.i18n import translator
from analysis.views.planning import (
    PlanningForecast,
    PlanningHazard,
    backtest_frame,
    forecast_frame,
)
from analysis.views.planning_scenario import PlanningScenario
from analysis.views.planning_words import breakdown_name, group_label


def _worded(frame, by: str, language: str):
    return frame.assign(group=[group_label(by, g, language) for g in frame["group"]])


def forecast_figure(result: PlanningForecast, language: str = "en") -> go.Figure:
    """Expected first reoffences and returns to custody per group and horizon (90%)."""
    tr = translator(language)
    return forecast_plot(
        _worded(forecast_frame(result), result.by, language),
        title=tr("Expected in the next months, with 90% prediction intervals"),
        group_title=breakdown_name(result.by, language), language=language)


def calibration_figure(result: PlanningForecast, language: str = "en") -> go.Figure:
    """The backtest: what was predicted against what happened."""
    tr = translator(language)
    as_of = result.reoffending.backtest_as_of
    title = (tr("Backtest: forecast made on {date}, against what happened",
                date=as_of.isoformat()) if as_of else tr("Backtest"))
    return calibration_plot(_worded(backtest_frame(result), result.by, language),
                            title=title, language=language)


def hazard_figure(result: PlanningHazard, language: str = "en") -> go.Figure:
    """The monthly hazard of reoffending per group (95% CI)."""
    tr = translator(language)
    return hazard_plot(_worded(result.table, result.by, language),
                       title=tr("Monthly hazard of reoffending after release (95% CI)"),
                       language=language)


def scenario_figure(result: PlanningScenario, language: str = "en") -> go.Figure:
    """The scenario per year: avoided (90% range) and the cumulative net cost."""
    tr = translator(language)
    return scenario_plot(result.per_year, currency=result.payload.get("currency"),
                         title=tr("Scale-up of {programme}, year by year",
                                  programme=result.program_id or result.program),
                         language=language)
