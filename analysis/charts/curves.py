"""Curves over time since release, and rates by group: the dashboard's main charts."""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import plotly.graph_objects as go
from plotly.subplots import make_subplots

from analysis.charts.style import (
    BOTTOM_MARGIN,
    FONT_SIZE,
    PALETTE,
    finish_layout,
    rgba,
    series_name,
)
from analysis.constants import DAYS_PER_MONTH
from analysis.i18n import translator


def step_curves(
    curves: pd.DataFrame,
    *,
    value: str,
    lower: str | None = "lower",
    upper: str | None = "upper",
    group: str = "group",
    time: str = "time",
    title: str = "",
    y_title: str | None = None,
    percent: bool = True,
    time_unit: str = "days",
    series_codes: bool = False,
    risk_table: pd.DataFrame | None = None,
    risk_title: str | None = None,
    language: str = "en",
) -> go.Figure:
    """Step curves (Kaplan–Meier, cumulative incidence) with shaded 95% CI bands.

    Parameters
    ----------
    curves : pandas.DataFrame
        One row per group and time point, each group's rows in time order (drawn as
        given), e.g. ``Curves.curves`` of :mod:`analysis.views.curves` or
        ``ImpactResult.curves``. Columns: ``group``, ``time``, ``value`` and, for the
        band, ``lower`` and ``upper``.
    value : str
        Column of the curve: the share (proportion 0–1) who reoffended by that time.
    lower, upper : str or None, default "lower", "upper"
        Columns of the 95% CI bounds, proportions 0–1. The band is drawn only when both
        are given and both columns exist.
    group : str, default "group"
        Column naming the series: one curve per distinct value, in order of first row.
    time : str, default "time"
        Column of the time since release, in days.
    title : str, default ""
        Figure title, already in the caller's language (shown as text).
    y_title : str or None, default None
        Y-axis title without its unit; ``None`` is "Share reoffended" in ``language``.
    percent : bool, default True
        Draw the shares as percentages (× 100, ``%`` ticks, " (%)" after ``y_title``);
        ``False`` draws the values as they are.
    time_unit : str, default "days"
        ``"months"`` draws days / :data:`~analysis.constants.DAYS_PER_MONTH`;
        any other value draws days.
    series_codes : bool, default False
        The groups are codes of :data:`SERIES_WORDS` (``participants``,
        ``comparison``) shown in ``language``; ``False``: names from the data, shown as
        text (``<``, ``>``, ``&`` escaped).
    risk_table : pandas.DataFrame or None, default None
        A table to draw under the curves, aligned to their time axis (survminer's risk
        table): one row per group and time, columns ``group`` (as in ``curves``),
        ``time`` (days) and ``text`` (the cell as shown, e.g. ``"523 (112)"``, already
        disclosure-controlled). The x axis then has a tick at each of its times.
    risk_title : str or None, default None
        Title of the risk table, in the caller's language.
    language : str, default "en"
        Language of the builder's own labels: one of en, fr, ar, ru, sr.

    Returns
    -------
    plotly.graph_objects.Figure
        Per group, a step line named after the group then, with a band, a filled
        trace "{name} 95% CI" (hidden from the legend, no hover); y axis from 0, x axis
        "Time since release (days)" or "(months)".

    Raises
    ------
    ValueError
        ``language`` is not one of en, fr, ar, ru, sr.

    Examples
    --------
    >>> curves = pd.DataFrame({"group": ["participants"] * 3 + ["comparison"] * 3,
    ...     "time": [0, 365.25, 730.5] * 2, "recidivism": [0, .25, .375, 0, .375, .5],
    ...     "lower": [0, .125, .25, 0, .25, .375], "upper": [0, .375, .5, 0, .5, .625]})
    >>> fig = step_curves(curves, value="recidivism", series_codes=True,
    ...                   time_unit="months", language="fr")
    >>> [t.name for t in fig.data]
    ['participants', 'participants, IC à 95 %', 'comparaison', 'comparaison, IC à 95 %']
    >>> fig.data[0].x.tolist(), fig.data[0].y.tolist()
    ([0.0, 12.0, 24.0], [0.0, 25.0, 37.5])
    >>> fig.layout.xaxis.title.text, fig.layout.yaxis.title.text
    ('Temps depuis la libération (mois)', 'Part de récidivistes (%)')

    Names from the data are shown as text; without ``lower`` there is no band:

    >>> fig = step_curves(curves.assign(group="<b>North</b>"), value="recidivism",
    ...                   lower=None)
    >>> [t.name for t in fig.data], fig.layout.xaxis.title.text
    (['&lt;b&gt;North&lt;/b&gt;'], 'Time since release (days)')

    A risk table under the curves: one text trace per group on the second row, a tick
    at each of its times:

    >>> table = pd.DataFrame({"group": ["participants"] * 2 + ["comparison"] * 2,
    ...     "time": [0, 365.25] * 2, "text": ["40 (0)", "30 (10)", "40 (0)", "<10 (<10)"]})
    >>> fig = step_curves(curves, value="recidivism", series_codes=True, time_unit="months",
    ...                   risk_table=table, risk_title="Number at risk (reoffended so far)")
    >>> fig.data[-1].text, fig.data[-1].yaxis, list(fig.layout.xaxis.tickvals)
    (('40 (0)', '&lt;10 (&lt;10)'), 'y2', [0.0, 12.0])
    """
    fig = go.Figure() if risk_table is None else _with_table_row(risk_table)
    scale = 100.0 if percent else 1.0
    divisor = DAYS_PER_MONTH if time_unit == "months" else 1.0
    colours = {}
    for index, (code, part) in enumerate(curves.groupby(group, sort=False)):
        name = series_name(code, language) if series_codes else str(code)
        colours[code] = PALETTE[index % len(PALETTE)]
        band = (lower, upper) if lower and upper and lower in part and upper in part else None
        for trace in curve_traces(part, value=value, band=band, time=time, name=name,
                                  colour=colours[code], scale=scale, divisor=divisor,
                                  language=language):
            fig.add_trace(trace, **({} if risk_table is None else {"row": 1, "col": 1}))
    x_title, y_axis_title = curve_axis_titles(language, time_unit, y_title, percent)
    curves_axis = {} if risk_table is None else {"row": 1, "col": 1}
    fig.update_yaxes(ticksuffix="%" if percent else "", rangemode="tozero", **curves_axis)
    if risk_table is not None:
        _draw_table_row(fig, risk_table, colours, divisor=divisor, series_codes=series_codes,
                        title=risk_title, language=language)
    return finish_layout(fig, title, x_title, y_axis_title)


def curve_axis_titles(language: str, time_unit: str, y_title: str | None,
                      percent: bool) -> tuple[str, str]:
    """The x and y axis titles of a curves chart (one wording for every layout).

    Examples
    --------
    >>> curve_axis_titles("en", "months", None, True)
    ('Time since release (months)', 'Share reoffended (%)')
    """
    tr = translator(language)
    x_title = (tr("Time since release (months)") if time_unit == "months"
               else tr("Time since release (days)"))
    y_title = tr("Share reoffended") if y_title is None else y_title
    return x_title, y_title + (" (%)" if percent else "")


#: A step that moves a curve (or its band) by less than this share of the curve's range
#: is not drawn: 0.05 percentage points on a curve rising to 50%, under half a pixel
#: on any chart this size. A Kaplan–Meier curve has a point per day with an event (9,276
#: on 50,000 releases, 87,000 by facility on a million): most are such steps.
STEP_TOLERANCE = 0.001


def visible_steps(part: pd.DataFrame, columns: Sequence[str],
                  tolerance: float = STEP_TOLERANCE) -> pd.DataFrame:
    """The rows of a step curve that change what is drawn (first and last always kept).

    Each value is binned in steps of ``tolerance`` times the curve's range; a row is kept
    when any of ``columns`` is in another bin than on the row before. A dropped row is
    therefore in the same bin as the last row kept, and the curve drawn through the kept
    rows (``shape="hv"``) is never further than that from the full one. Missing values
    (a gap) are kept.

    Examples
    --------
    >>> curve = pd.DataFrame({"time": [0, 1, 2, 3, 4], "y": [0, .0001, .0002, .25, .25]})
    >>> visible_steps(curve, ["y"])["time"].tolist()
    [0, 3, 4]
    """
    if len(part) <= 2:
        return part
    values = part[list(columns)].to_numpy(dtype=float)
    finite = values[np.isfinite(values)]
    span = float(finite.max() - finite.min()) if finite.size else 0.0
    if span <= 0:
        return part.iloc[[0, -1]]
    bins = np.floor(values / (tolerance * span))
    keep = np.r_[True, (np.diff(bins, axis=0) != 0).any(axis=1)]  # NaN differs: kept
    keep[-1] = True
    return part[keep]


def curve_traces(part: pd.DataFrame, *, value: str, band: tuple[str, str] | None,
                 time: str, name: str, colour: str, scale: float, divisor: float,
                 language: str, width: float = 3, showlegend: bool = True) -> list:
    """One group's step line and, with ``band`` (lower and upper columns), its 95% CI.

    The band is a filled trace "{name} 95% CI", hidden from the legend and from hover.
    Steps too small to see are not drawn (:func:`visible_steps`).
    """
    part = visible_steps(part, [value, *(band or ())])
    x = part[time].to_numpy(dtype=float) / divisor
    traces = [go.Scatter(x=x, y=part[value].to_numpy(dtype=float) * scale, mode="lines",
                         line={"shape": "hv", "color": colour, "width": width},
                         name=str(name), legendgroup=str(name), showlegend=showlegend)]
    if band is not None:
        low, high = band
        band_x = np.concatenate([x, x[::-1]])
        band_y = np.concatenate([part[high].to_numpy(float), part[low].to_numpy(float)[::-1]])
        tr = translator(language)  # a named call, so the catalog check sees the text
        traces.append(go.Scatter(
            x=band_x, y=band_y * scale, fill="toself", fillcolor=rgba(colour, 0.18),
            line={"shape": "hv", "width": 0}, hoverinfo="skip",
            name=tr("{name} 95% CI", name=name), legendgroup=str(name),
            showlegend=False))
    return traces


#: Height in pixels of the curves above a risk table, and of each of its rows.
CURVES_HEIGHT, TABLE_ROW_HEIGHT = 420, 26


def _with_table_row(risk_table: pd.DataFrame) -> go.Figure:
    """Two stacked plots sharing the time axis: the curves, and a risk table below."""
    rows = max(1, risk_table["group"].nunique())
    table_height = TABLE_ROW_HEIGHT * rows + 40
    # the gap holds the curves' tick labels, the x axis title and the table's title
    gap = 110
    height = CURVES_HEIGHT + gap + table_height
    plot_height = height - 30 - BOTTOM_MARGIN  # the figure less its top and bottom margins
    fig = make_subplots(rows=2, cols=1, shared_xaxes=True,
                        row_heights=[CURVES_HEIGHT, table_height],
                        vertical_spacing=gap / plot_height)
    return fig.update_layout(height=height)


def _darker(hex_colour: str, share: float = 0.35) -> str:
    """The colour mixed with ``share`` black: a curve's colour readable as small text (the
    palette's yellow is not, on white)."""
    r, g, b = (round(int(hex_colour[i : i + 2], 16) * (1 - share)) for i in (1, 3, 5))
    return f"#{r:02x}{g:02x}{b:02x}"


def _draw_table_row(fig: go.Figure, risk_table: pd.DataFrame, colours: dict, *,
                    divisor: float, series_codes: bool, title: str | None,
                    language: str) -> None:
    """The risk table as text under the curves, each cell at its time on the shared axis."""
    groups = list(dict.fromkeys(risk_table["group"]))
    names = {g: series_name(g, language) if series_codes else str(g) for g in groups}
    times = sorted(set(risk_table["time"].astype(float)))
    for index, code in enumerate(groups):
        part = risk_table[risk_table["group"] == code]
        fig.add_trace(go.Scatter(
            x=part["time"].to_numpy(dtype=float) / divisor, y=[names[code]] * len(part),
            mode="text", text=[str(cell) for cell in part["text"]], cliponaxis=False,
            textfont={"color": _darker(colours.get(code, PALETTE[index % len(PALETTE)])),
                      "size": FONT_SIZE - 2},
            hoverinfo="skip", showlegend=False, name=names[code]), row=2, col=1)
    ticks = [t / divisor for t in times]
    span = (max(ticks) - min(ticks)) or 1.0
    # room either side of the first and last cell, whose text is centred on its time
    fig.update_xaxes(tickmode="array", tickvals=ticks, ticktext=[f"{t:g}" for t in ticks],
                     range=[min(ticks) - 0.06 * span, max(ticks) + 0.06 * span])
    fig.update_xaxes(showticklabels=True, row=1, col=1)
    fig.update_xaxes(showticklabels=False, showgrid=False, zeroline=False, row=2, col=1)
    fig.update_yaxes(autorange="reversed", showgrid=False, type="category",
                     tickfont={"size": FONT_SIZE - 2}, row=2, col=1)
    if title:
        domain = fig.layout.yaxis2.domain
        fig.add_annotation(text=title, xref="paper", yref="paper", x=0, y=domain[1],
                           xanchor="left", yanchor="bottom", yshift=6, showarrow=False,
                           font={"size": FONT_SIZE - 1})


def rate_plot(
    rates: pd.DataFrame,
    *,
    label: str,
    value: str = "recidivism",
    lower: str = "lower",
    upper: str = "upper",
    title: str = "",
    value_title: str | None = None,
    label_title: str = "",
    horizontal: bool = True,
    language: str = "en",
) -> go.Figure:
    """Rates (shares, 0–1) with 95% CI whiskers, one dot per group; missing rates are skipped.

    ``horizontal=True`` lists groups down the y axis (facilities, regions);
    ``horizontal=False`` puts them along the x axis (release cohorts, in order).
    ``value_title`` defaults to "Reoffended within 1 year" in ``language``.

    Examples
    --------
    >>> df = pd.DataFrame({"facility": ["A", "B"], "recidivism": [.3, None],
    ...                    "lower": [.25, None], "upper": [.35, None]})
    >>> list(rate_plot(df, label="facility").data[0].y)
    ['A']
    """
    if value_title is None:
        value_title = translator(language)("Reoffended within 1 year")
    shown = rates.dropna(subset=[value])
    values = shown[value].to_numpy(float) * 100
    error = {
        "type": "data",
        "symmetric": False,
        "array": shown[upper].to_numpy(float) * 100 - values,
        "arrayminus": values - shown[lower].to_numpy(float) * 100,
        "thickness": 2,
    }
    labels = shown[label].astype(str).tolist()
    fig = go.Figure(
        go.Scatter(
            x=values if horizontal else labels,
            y=labels if horizontal else values,
            mode="markers" if horizontal else "lines+markers",
            marker={"size": 12, "color": PALETTE[0]},
            line={"color": PALETTE[0], "width": 2},
            **({"error_x": error} if horizontal else {"error_y": error}),
            name=value_title,
        )
    )
    axis = fig.update_xaxes if horizontal else fig.update_yaxes
    axis(ticksuffix="%", rangemode="tozero")
    if horizontal:
        fig.update_yaxes(autorange="reversed", type="category")
        finish_layout(fig, title, f"{value_title} (%)", label_title)
        return fig.update_layout(hovermode="y unified", showlegend=False)
    fig.update_xaxes(type="category")
    return finish_layout(fig, title, label_title, f"{value_title} (%)").update_layout(showlegend=False)
