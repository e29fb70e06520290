"""Curves of many groups: small multiples, or one group highlighted against the rest.

Past about five groups (:data:`MANY_GROUPS`) overlaid curves cannot be told apart: eight
colours, eight bands, one legend. Two readable alternatives, as in the small-multiple
and highlighting advice of data-visualisation practice:

- :func:`curve_facets`: one small plot per group on shared axes, each group's curve in
  colour with the curve of all releases in grey behind it;
- :func:`highlighted_curves`: every group in thin grey, one chosen group in colour.
"""

from __future__ import annotations

import math

import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.charts.curves import curve_axis_titles, curve_traces, visible_steps
from analysis.charts.style import (
    BOTTOM_MARGIN,
    FONT_SIZE,
    LINE_HEIGHT,
    PALETTE,
    TOP_MARGIN,
    finish_layout,
    wrapped,
)
from analysis.constants import DAYS_PER_MONTH
from analysis.i18n import translator

#: More groups than this and the curves page offers small multiples or a highlight.
MANY_GROUPS = 5
#: The grey of the context curves (all releases, the groups not highlighted).
CONTEXT_GREY = "#9a9a9a"
#: Height in pixels of one row of small multiples.
FACET_HEIGHT = 230


def curve_facets(
    curves: pd.DataFrame,
    *,
    value: str,
    overall: pd.DataFrame | None = None,
    lower: str | None = "lower",
    upper: str | None = "upper",
    group: str = "group",
    time: str = "time",
    title: str = "",
    y_title: str | None = None,
    percent: bool = True,
    time_unit: str = "days",
    columns: int = 3,
    language: str = "en",
) -> go.Figure:
    """One small plot per group, on shared axes, with the overall curve in grey behind.

    Parameters
    ----------
    curves : pandas.DataFrame
        As :func:`~analysis.charts.curves.step_curves` takes it: one row per group and
        time point, columns ``group``, ``time`` (days), ``value`` and, for the band,
        ``lower`` and ``upper`` (proportions 0–1). Group names come from the data
        (shown as text, each as its plot's title).
    value : str
        Column of the curve.
    overall : pandas.DataFrame or None, default None
        The curve of all releases (columns ``time`` and ``value``), drawn in grey in
        every plot so each group reads against the whole; ``None``: no context curve.
    lower, upper, group, time, title, y_title, percent, time_unit
        As in :func:`~analysis.charts.curves.step_curves`.
    columns : int, default 3
        Plots per row.
    language : str, default "en"
        Language of the builder's own labels: one of en, fr, ar, ru, sr.

    Returns
    -------
    plotly.graph_objects.Figure
        A grid of ``ceil(groups / columns)`` rows; per plot the overall curve (grey, in
        the legend once as "all releases") then the group's band and line; one x axis
        title under the grid and one y axis title beside it.

    Raises
    ------
    ValueError
        ``language`` is not one of en, fr, ar, ru, sr.

    Examples
    --------
    >>> curves = pd.DataFrame({"group": [f"F{i}" for i in range(7) for _ in (0, 1)],
    ...     "time": [0, 365.25] * 7, "recidivism": [0, .3] * 7,
    ...     "lower": [0, .25] * 7, "upper": [0, .35] * 7})
    >>> overall = pd.DataFrame({"time": [0, 365.25], "recidivism": [0, .3]})
    >>> fig = curve_facets(curves, value="recidivism", overall=overall, time_unit="months")
    >>> [a.text for a in fig.layout.annotations][:3], len(fig.layout.annotations)
    (['F0', 'F1', 'F2'], 9)
    >>> [t.name for t in fig.data[:3]], fig.layout.height
    (['all releases', 'F0', 'F0 95% CI'], 896)
    """
    tr = translator(language)
    names = [str(code) for code in dict.fromkeys(curves[group])]
    rows = max(1, math.ceil(len(names) / columns))
    fig = make_subplots(rows=rows, cols=columns, shared_xaxes="all", shared_yaxes="all",
                        subplot_titles=names,  # escaped by finish_layout
                        horizontal_spacing=0.04, vertical_spacing=0.32 / rows)
    scale = 100.0 if percent else 1.0
    divisor = DAYS_PER_MONTH if time_unit == "months" else 1.0
    band = (lower, upper) if lower and upper and lower in curves and upper in curves else None
    for index, (code, part) in enumerate(curves.groupby(group, sort=False)):
        cell = {"row": index // columns + 1, "col": index % columns + 1}
        if overall is not None and len(overall):
            context = visible_steps(overall, [value])
            fig.add_trace(go.Scatter(
                x=context[time].to_numpy(dtype=float) / divisor,
                y=context[value].to_numpy(dtype=float) * scale, mode="lines",
                line={"shape": "hv", "color": CONTEXT_GREY, "width": 2},
                name=tr("all releases"), legendgroup="overall", showlegend=index == 0,
                hoverinfo="skip"), **cell)
        for trace in curve_traces(part, value=value, band=band, time=time, name=str(code),
                                  colour=PALETTE[index % len(PALETTE)], scale=scale,
                                  divisor=divisor, language=language, width=2.5,
                                  showlegend=False):
            fig.add_trace(trace, **cell)
    fig.update_yaxes(ticksuffix="%" if percent else "", rangemode="tozero")
    # every plot its own time labels (a plot above an empty cell of the last row has no
    # plot below it to read them from), every two years
    fig.update_xaxes(showticklabels=True, dtick=24 if time_unit == "months" else 730)
    x_title, y_title = curve_axis_titles(language, time_unit, y_title, percent)
    finish_layout(fig, title, "", "")
    fig.for_each_annotation(lambda a: a.update(font={"size": FONT_SIZE - 1}))
    # shared axis titles, as annotations outside the grid (escaped and wrapped here:
    # finish_layout has already run)
    x_text = wrapped(x_title)
    fig.add_annotation(text=x_text, xref="paper", yref="paper", x=0.5, y=0,
                       yshift=-34, xanchor="center", yanchor="top", showarrow=False)
    fig.add_annotation(text=wrapped(y_title, 30), xref="paper", yref="paper", x=0, y=0.5,
                       xshift=-56, textangle=-90, xanchor="right", yanchor="middle",
                       showarrow=False)
    return fig.update_layout(height=TOP_MARGIN + BOTTOM_MARGIN + FACET_HEIGHT * rows
                             + 27 * (rows - 1) + 24, hovermode="closest",
                             # the bottom margin holds every line of the x axis title
                             margin={"l": 110, "b": BOTTOM_MARGIN
                                     + LINE_HEIGHT * x_text.count("<br>")})


def highlighted_curves(
    curves: pd.DataFrame,
    *,
    value: str,
    highlight: str,
    lower: str | None = "lower",
    upper: str | None = "upper",
    group: str = "group",
    time: str = "time",
    title: str = "",
    y_title: str | None = None,
    percent: bool = True,
    time_unit: str = "days",
    language: str = "en",
) -> go.Figure:
    """Every group's curve in thin grey, and ``highlight`` in colour with its 95% CI.

    Parameters
    ----------
    curves, value, lower, upper, group, time, title, y_title, percent, time_unit
        As in :func:`~analysis.charts.curves.step_curves`.
    highlight : str
        The group drawn in colour (a value of the ``group`` column); the others are
        context, in the legend once as "other groups".
    language : str, default "en"
        Language of the builder's own labels: one of en, fr, ar, ru, sr.

    Returns
    -------
    plotly.graph_objects.Figure
        The grey curves first (so the highlighted one is drawn on top), then the
        highlighted group's band and line.

    Raises
    ------
    ValueError
        ``language`` is not one of en, fr, ar, ru, sr; or ``highlight`` is not a group
        of ``curves``.

    Examples
    --------
    >>> curves = pd.DataFrame({"group": [f"F{i}" for i in range(7) for _ in (0, 1)],
    ...     "time": [0, 365.25] * 7, "recidivism": [0, .3] * 7,
    ...     "lower": [0, .25] * 7, "upper": [0, .35] * 7})
    >>> fig = highlighted_curves(curves, value="recidivism", highlight="F3")
    >>> [t.name for t in fig.data if t.showlegend is not False]
    ['other groups', 'F3']
    >>> fig.data[-1].line.color, fig.data[1].line.color, fig.data[0].fill
    ('#0072B2', '#9a9a9a', 'toself')
    """
    tr = translator(language)
    codes = [str(code) for code in dict.fromkeys(curves[group])]
    if str(highlight) not in codes:
        raise ValueError(f"highlight: {highlight!r} is not a group of the curves "
                         f"(expected one of {', '.join(codes)})")
    fig = go.Figure()
    scale = 100.0 if percent else 1.0
    divisor = DAYS_PER_MONTH if time_unit == "months" else 1.0
    chosen = None
    first_context = True
    for code, part in curves.groupby(group, sort=False):
        if str(code) == str(highlight):
            chosen = part
            continue
        part = visible_steps(part, [value])
        fig.add_trace(go.Scatter(
            x=part[time].to_numpy(dtype=float) / divisor,
            y=part[value].to_numpy(dtype=float) * scale, mode="lines",
            line={"shape": "hv", "color": CONTEXT_GREY, "width": 1.5},
            name=tr("other groups"), legendgroup="others", showlegend=first_context,
            hovertext=str(code), hoverinfo="text+y"))
        first_context = False
    band = (lower, upper) if lower and upper and lower in curves and upper in curves else None
    assert chosen is not None  # checked above
    for trace in curve_traces(chosen, value=value, band=band, time=time,
                              name=str(highlight), colour=PALETTE[0], scale=scale,
                              divisor=divisor, language=language):
        fig.add_trace(trace)
    # the band behind the grey curves would hide them: draw it first of all
    fig.data = (fig.data[-1], *fig.data[:-1]) if band is not None else fig.data
    fig.update_yaxes(ticksuffix="%" if percent else "", rangemode="tozero")
    if time_unit == "months":
        fig.update_xaxes(dtick=12)  # a tick a year
    x_title, y_title = curve_axis_titles(language, time_unit, y_title, percent)
    return finish_layout(fig, title, x_title, y_title).update_layout(hovermode="closest")
