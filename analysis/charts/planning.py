"""Planning charts: the forecast with its intervals, its backtest, the monthly hazard and
a scale-up scenario (tidy DataFrame in, plotly Figure out; no data access).

Group names arrive already worded (from the data, or "all releases"): they are drawn as
text (:func:`~analysis.charts.style.finish_layout` escapes them). The builders' own
labels are rendered in ``language`` through the catalogs.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.charts.groups import MANY_GROUPS
from analysis.charts.style import FONT_SIZE, PALETTE, finish_layout, plotly_text, rgba, wrapped
from analysis.i18n import N_, RIGHT_TO_LEFT, translator

#: Outcome code -> the title of its part of the forecast chart.
FORECAST_TITLES: dict[str, str] = {
    "reoffending": N_("Expected first reoffences"),
    "returns": N_("Expected returns to custody"),
}
#: Outcome code -> the title of its part of the backtest chart.
BACKTEST_TITLES: dict[str, str] = {
    "reoffending": N_("First reoffences"),
    "returns": N_("Returns to custody"),
}
#: Height in pixels of one row of a chart in parts.
ROW_HEIGHT = 330


def _months_name(months: int, language: str) -> str:
    return translator(language).plural("{n} month", "{n} months", int(months))


def _interval(frame: pd.DataFrame, value: str) -> dict:
    values = frame[value].to_numpy(float)
    return {"type": "data", "symmetric": False, "thickness": 1.5,
            "array": frame["upper"].to_numpy(float) - values,
            "arrayminus": values - frame["lower"].to_numpy(float)}


def _subplot_titles(fig: go.Figure) -> None:
    fig.for_each_annotation(lambda a: a.update(font={"size": FONT_SIZE - 1}))


#: Unicode right-to-left embedding and its end: plotly draws SVG text left to right, so
#: without them an Arabic title ending in "90%" is drawn with the "%" at its start and
#: "3 months" as "months 3".
_RTL_EMBEDDING = "\u202b{}\u202c"


def _text_direction(fig: go.Figure, language: str) -> go.Figure:
    """In a right-to-left language, every text of ``fig`` laid out right to left (the
    texts are already escaped: only the embedding characters are added)."""
    if language not in RIGHT_TO_LEFT:
        return fig

    def embed(text: str | None) -> str | None:
        return _RTL_EMBEDDING.format(text) if text else text

    fig.layout.title.text = embed(fig.layout.title.text)
    fig.layout.legend.title.text = embed(fig.layout.legend.title.text)
    for axis in (*fig.select_xaxes(), *fig.select_yaxes()):
        axis.title.text = embed(axis.title.text)
    for annotation in fig.layout.annotations:
        annotation.text = embed(annotation.text)
    for trace in fig.data:
        trace.name = embed(trace.name)
    return fig


def forecast_plot(frame: pd.DataFrame, *, title: str = "", group_title: str = "",
                  language: str = "en") -> go.Figure:
    """Expected people with a first event per group, one bar per horizon, with the 90%
    prediction interval as error bars; one part per outcome.

    Parameters
    ----------
    frame : DataFrame
        ``group`` (worded), ``outcome`` (``reoffending`` / ``returns``), ``months``,
        ``expected``, ``lower``, ``upper``.
    title, group_title : str
        The chart's title and the groups' axis title, already in words.
    language : str
        Of the builder's own labels.

    Examples
    --------
    >>> frame = pd.DataFrame({"group": ["North"] * 2, "outcome": ["reoffending"] * 2,
    ...     "months": [3, 12], "expected": [10.0, 30.0], "lower": [6, 22], "upper": [15, 39]})
    >>> fig = forecast_plot(frame)
    >>> [t.name for t in fig.data], fig.data[1].error_y.array.tolist()
    (['3 months', '12 months'], [9.0])
    """
    tr = translator(language)
    outcomes = [o for o in FORECAST_TITLES if o in set(frame["outcome"])]
    fig = make_subplots(rows=max(1, len(outcomes)), cols=1, shared_xaxes=True,
                        vertical_spacing=0.14,
                        subplot_titles=[tr(FORECAST_TITLES[o]) for o in outcomes])
    horizons = sorted({int(m) for m in frame["months"]})
    for row, outcome in enumerate(outcomes, start=1):
        for index, months in enumerate(horizons):
            part = frame[(frame["outcome"] == outcome) & (frame["months"] == months)]
            fig.add_trace(go.Bar(
                x=part["group"].astype(str).tolist(), y=part["expected"].to_numpy(float),
                error_y=_interval(part, "expected"), name=_months_name(months, language),
                legendgroup=str(months), showlegend=row == 1,
                marker={"color": PALETTE[index % len(PALETTE)]},
                hovertemplate="%{x}: %{y:.1f}<extra>%{fullData.name}</extra>"),
                row=row, col=1)
    fig.update_layout(barmode="group", height=90 + ROW_HEIGHT * max(1, len(outcomes)))
    fig.update_yaxes(rangemode="tozero")
    finish_layout(fig, title, group_title, tr("People (90% prediction interval)"))
    _subplot_titles(fig)
    fig.update_layout(hovermode="closest", legend_title_text=plotly_text(tr("Within")))
    return _text_direction(fig, language)


def calibration_plot(frame: pd.DataFrame, *, title: str = "",
                     language: str = "en") -> go.Figure:
    """The backtest: observed against predicted per group and horizon, the prediction's
    90% interval as horizontal bars, and the line where they would be equal.

    Parameters
    ----------
    frame : DataFrame
        ``group`` (worded), ``outcome``, ``months``, ``predicted``, ``lower``, ``upper``,
        ``observed`` (only the observed counts that may be shown).

    Examples
    --------
    >>> frame = pd.DataFrame({"group": ["North"], "outcome": ["returns"], "months": [6],
    ...     "predicted": [20.0], "lower": [14], "upper": [27], "observed": [22.0]})
    >>> fig = calibration_plot(frame)
    >>> [t.name for t in fig.data]
    ['6 months', 'observed = predicted']
    """
    tr = translator(language)
    outcomes = [o for o in BACKTEST_TITLES if o in set(frame["outcome"])] or ["reoffending"]
    fig = make_subplots(rows=1, cols=len(outcomes), horizontal_spacing=0.12,
                        subplot_titles=[tr(BACKTEST_TITLES[o]) for o in outcomes])
    horizons = sorted({int(m) for m in frame["months"]})
    for col, outcome in enumerate(outcomes, start=1):
        mine = frame[frame["outcome"] == outcome]
        for index, months in enumerate(horizons):
            part = mine[mine["months"] == months]
            fig.add_trace(go.Scatter(
                x=part["predicted"].to_numpy(float), y=part["observed"].to_numpy(float),
                error_x=_interval(part, "predicted"), mode="markers",
                marker={"size": 10, "color": PALETTE[index % len(PALETTE)]},
                name=_months_name(months, language), legendgroup=str(months),
                showlegend=col == 1, hovertext=part["group"].astype(str).tolist(),
                hovertemplate="%{hovertext}: %{x:.1f} → %{y}<extra>%{fullData.name}</extra>"),
                row=1, col=col)
        top = float(np.nanmax(mine[["upper", "observed"]].to_numpy(float))) if len(mine) else 1.0
        fig.add_trace(go.Scatter(
            x=[0, top], y=[0, top], mode="lines", hoverinfo="skip",
            line={"color": "#9a9a9a", "dash": "dash", "width": 1.5},
            name=tr("observed = predicted"), legendgroup="equal", showlegend=col == 1),
            row=1, col=col)
    fig.update_layout(height=90 + ROW_HEIGHT + 40)
    fig.update_xaxes(rangemode="tozero")
    fig.update_yaxes(rangemode="tozero")
    for col in range(2, len(outcomes) + 1):
        fig.update_xaxes(title_text=tr("Predicted (90% interval)"), row=1, col=col)
    finish_layout(fig, title, tr("Predicted (90% interval)"), tr("Observed"))
    _subplot_titles(fig)
    fig.update_layout(hovermode="closest", legend_title_text=plotly_text(tr("Within")))
    return _text_direction(fig, language)


def _hazard_traces(part: pd.DataFrame, name: str, colour: str, *, showlegend: bool,
                   language: str) -> list[go.Scatter]:
    tr = translator(language)
    months = part["month"].to_numpy(float)
    hazard = part["hazard"].to_numpy(float) * 100
    lower, upper = part["lower"].to_numpy(float) * 100, part["upper"].to_numpy(float) * 100
    shown = ~np.isnan(lower)
    band = go.Scatter(
        x=np.r_[months[shown], months[shown][::-1]],
        y=np.r_[upper[shown], lower[shown][::-1]], fill="toself", mode="lines",
        line={"width": 0}, fillcolor=rgba(colour, 0.18), hoverinfo="skip",
        name=tr("{name} 95% CI", name=name), legendgroup=name, showlegend=False)
    line = go.Scatter(x=months, y=hazard, mode="lines+markers", name=name,
                      legendgroup=name, showlegend=showlegend,
                      line={"color": colour, "width": 2}, marker={"size": 5},
                      hovertemplate="%{y:.1f}%<extra>" + "%{fullData.name}</extra>")
    return [band, line]


def hazard_plot(table: pd.DataFrame, *, title: str = "", language: str = "en",
                columns: int = 3) -> go.Figure:
    """The monthly hazard of reoffending per group with its 95% interval: overlaid for
    up to :data:`~analysis.charts.groups.MANY_GROUPS` groups, else one small plot each.

    Parameters
    ----------
    table : DataFrame
        ``group`` (worded), ``month``, ``hazard``, ``lower``, ``upper`` (shares; NaN
        where hidden: the line has a gap there).

    Examples
    --------
    >>> table = pd.DataFrame({"group": ["a"] * 2, "month": [1, 2], "hazard": [.06, .04],
    ...                       "lower": [.05, .03], "upper": [.07, .05]})
    >>> fig = hazard_plot(table)
    >>> [t.name for t in fig.data], fig.layout.yaxis.ticksuffix
    (['a 95% CI', 'a'], '%')
    """
    tr = translator(language)
    names = [str(g) for g in dict.fromkeys(table["group"])]
    x_title, y_title = tr("Months since release"), tr("Share reoffending in the month")
    if len(names) <= MANY_GROUPS:
        fig = go.Figure()
        for index, (name, part) in enumerate(table.groupby("group", sort=False)):
            for trace in _hazard_traces(part, str(name), PALETTE[index % len(PALETTE)],
                                        showlegend=True, language=language):
                fig.add_trace(trace)
        fig.update_yaxes(ticksuffix="%", rangemode="tozero")
        fig.update_xaxes(dtick=3)
        finish_layout(fig, title, x_title, y_title).update_layout(hovermode="closest")
        return _text_direction(fig, language)
    rows = math.ceil(len(names) / columns)
    fig = make_subplots(rows=rows, cols=columns, shared_xaxes="all", shared_yaxes="all",
                        subplot_titles=names, horizontal_spacing=0.04,
                        vertical_spacing=0.32 / rows)
    for index, (name, part) in enumerate(table.groupby("group", sort=False)):
        cell = {"row": index // columns + 1, "col": index % columns + 1}
        for trace in _hazard_traces(part, str(name), PALETTE[0], showlegend=False,
                                    language=language):
            fig.add_trace(trace, **cell)
    fig.update_yaxes(ticksuffix="%", rangemode="tozero")
    fig.update_xaxes(showticklabels=True, dtick=6)
    finish_layout(fig, title, "", "")
    _subplot_titles(fig)
    fig.add_annotation(text=wrapped(x_title), xref="paper", yref="paper", x=0.5, y=0,
                       yshift=-34, xanchor="center", yanchor="top", showarrow=False)
    fig.add_annotation(text=wrapped(y_title, 30), xref="paper", yref="paper", x=0, y=0.5,
                       xshift=-56, textangle=-90, xanchor="right", yanchor="middle",
                       showarrow=False)
    fig.update_layout(height=64 + 64 + 230 * rows + 27 * (rows - 1) + 24,
                      hovermode="closest", showlegend=False, margin={"l": 110})
    return _text_direction(fig, language)


def scenario_plot(per_year: pd.DataFrame, *, currency: str | None = None, title: str = "",
                  language: str = "en") -> go.Figure:
    """A scale-up scenario per year: reoffences and returns to custody avoided (90% range
    as error bars) and, when costs are known, the cumulative net cost.

    Parameters
    ----------
    per_year : DataFrame
        The scenario's ``per_year`` columns: ``year, reoffences_avoided, lower, upper,
        returns_avoided, returns_lower, returns_upper, cumulative_net_cost`` (NaN where
        unknown or hidden).

    Examples
    --------
    >>> per_year = pd.DataFrame({"year": [1, 2], "reoffences_avoided": [5.0, 5.0],
    ...     "lower": [0.0, 0.0], "upper": [9.0, 9.0], "returns_avoided": [2.0, 2.0],
    ...     "returns_lower": [0.0, 0.0], "returns_upper": [4.0, 4.0],
    ...     "cumulative_net_cost": [100.0, -50.0]})
    >>> fig = scenario_plot(per_year, currency="EUR")
    >>> [t.name for t in fig.data]
    ['Reoffences avoided', 'Returns to custody avoided', 'Cumulative net cost (EUR)']
    """
    tr = translator(language)
    money = per_year["cumulative_net_cost"].notna().any()
    money_title = tr("Cumulative net cost") + (f" ({currency})" if currency else "")
    fig = make_subplots(rows=1, cols=2 if money else 1, horizontal_spacing=0.14,
                        subplot_titles=[tr("Avoided each year (90% range)"),
                                        *([money_title] if money else [])])
    years = per_year["year"].to_numpy(int)
    for index, (name, value, lower, upper) in enumerate((
            (tr("Reoffences avoided"), "reoffences_avoided", "lower", "upper"),
            (tr("Returns to custody avoided"), "returns_avoided", "returns_lower",
             "returns_upper"))):
        values = per_year[value].to_numpy(float)
        fig.add_trace(go.Bar(
            x=years, y=values, name=name, marker={"color": PALETTE[index]},
            error_y={"type": "data", "symmetric": False, "thickness": 1.5,
                     "array": per_year[upper].to_numpy(float) - values,
                     "arrayminus": values - per_year[lower].to_numpy(float)},
            hovertemplate="%{y:.1f}<extra>%{fullData.name}</extra>"), row=1, col=1)
    if money:
        fig.add_trace(go.Scatter(
            x=years, y=per_year["cumulative_net_cost"].to_numpy(float), mode="lines+markers",
            name=money_title, line={"color": PALETTE[2], "width": 2.5},
            hovertemplate="%{y:,.0f}<extra>%{fullData.name}</extra>"), row=1, col=2)
        fig.add_hline(y=0, line={"color": "#9a9a9a", "width": 1}, row=1, col=2)
        fig.update_xaxes(title_text=tr("Year of the scale-up"), dtick=1, row=1, col=2)
    fig.update_layout(barmode="group", height=90 + ROW_HEIGHT + 40)
    fig.update_xaxes(dtick=1)
    finish_layout(fig, title, tr("Year of the scale-up"), tr("People"))
    _subplot_titles(fig)
    return _text_direction(fig.update_layout(hovermode="closest"), language)
