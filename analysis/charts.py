"""Chart builders: tidy DataFrame in, plotly Figure out (no data access, no fitting).

Shared by the dashboard, the HTML reports and the notebooks. Colours are the
Okabe–Ito palette (safe for colour-blind readers); fonts are large enough for a
projector; axes always carry their unit.

Every text in a figure is shown as text: plotly.js reads a subset of HTML (``<b>``,
``<br>``, ``<a href>``, ``<span style>``, entities) in titles, legends, axis and tick
labels, hover labels and annotations, and group names come from the data (facility,
programme and covariate names). Each builder ends in :func:`_layout`, which escapes
``<``, ``>`` and ``&`` in all of them once (:func:`plotly_text`), so a facility called
``<b>North</b>`` is drawn as those characters.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.constants import DAYS_PER_MONTH

#: Okabe & Ito (2008), "Color Universal Design".
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
FONT_SIZE = 16


def _rgba(hex_colour: str, alpha: float) -> str:
    r, g, b = (int(hex_colour[i : i + 2], 16) for i in (1, 3, 5))
    return f"rgba({r},{g},{b},{alpha})"


def plotly_text(value: object) -> str:
    """``value`` as a plotly label that reads exactly as written (``<``, ``>``, ``&`` escaped).

    Examples
    --------
    >>> plotly_text("<b>North</b> & South")
    '&lt;b&gt;North&lt;/b&gt; &amp; South'
    """
    return html.escape(str(value), quote=False)


def _escaped_values(values: Iterable) -> list | None:
    """The values with strings escaped, or ``None`` when none is a string."""
    if isinstance(values, np.ndarray) and values.dtype.kind not in "OUS":
        return None  # numbers, dates: nothing to escape (and no loop over a long curve)
    values = list(values)
    if not any(isinstance(v, str) for v in values):
        return None
    # Category labels are strings; numbers and missing values stay as they are.
    return [plotly_text(v) if isinstance(v, str) else v for v in values]


def _as_plain_text(fig: go.Figure) -> go.Figure:
    """Escape every text of ``fig`` for plotly, once (see the module docstring)."""
    layout = fig.layout
    if layout.title.text:
        layout.title.text = plotly_text(layout.title.text)
    if layout.legend.title.text:
        layout.legend.title.text = plotly_text(layout.legend.title.text)
    for axis in (*fig.select_xaxes(), *fig.select_yaxes()):
        if axis.title.text:
            axis.title.text = plotly_text(axis.title.text)
        for prop in ("ticktext", "categoryarray"):
            escaped = None if axis[prop] is None else _escaped_values(axis[prop])
            if escaped is not None:
                axis[prop] = escaped
    for annotation in layout.annotations:
        if annotation.text:
            annotation.text = plotly_text(annotation.text)
    for trace in fig.data:
        if getattr(trace, "name", None):
            trace.name = plotly_text(trace.name)
        for prop in ("x", "y", "text", "hovertext"):
            values = getattr(trace, prop, None)
            if isinstance(values, str):
                setattr(trace, prop, plotly_text(values))
            elif values is not None:
                escaped = _escaped_values(values)
                if escaped is not None:
                    setattr(trace, prop, escaped)
    return fig


def _layout(fig: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    # Called exactly once per figure, as its builder's last step: it escapes every text.
    fig.update_layout(
        title=title,
        font={"size": FONT_SIZE},
        xaxis_title=x_title,
        yaxis_title=y_title,
        template="plotly_white",
        legend={"orientation": "h", "yanchor": "bottom", "y": 1.02, "x": 0},
        margin={"l": 70, "r": 20, "t": 80, "b": 60},
        hovermode="x unified",
    )
    return _as_plain_text(fig)


def step_curves(
    curves: pd.DataFrame,
    *,
    value: str,
    lower: str | None = "lower",
    upper: str | None = "upper",
    group: str = "group",
    time: str = "time",
    title: str = "",
    y_title: str = "Share reoffended",
    percent: bool = True,
    time_unit: str = "days",
) -> go.Figure:
    """Step curves (Kaplan–Meier, cumulative incidence) with shaded 95% CI bands.

    ``curves`` has one row per group and time; ``time`` is in days since release.
    With ``time_unit="months"`` the axis shows months
    (days / :data:`~analysis.constants.DAYS_PER_MONTH`).

    Examples
    --------
    >>> df = pd.DataFrame({"group": ["all"] * 3, "time": [0, 30, 60],
    ...     "recidivism": [0, .1, .2], "lower": [0, .08, .17], "upper": [0, .12, .23]})
    >>> fig = step_curves(df, value="recidivism")
    >>> [t.name for t in fig.data]
    ['all', 'all 95% CI']
    """
    fig = go.Figure()
    scale = 100.0 if percent else 1.0
    divisor = DAYS_PER_MONTH if time_unit == "months" else 1.0
    for index, (name, part) in enumerate(curves.groupby(group, sort=False)):
        colour = PALETTE[index % len(PALETTE)]
        x = part[time].to_numpy(dtype=float) / divisor
        fig.add_trace(
            go.Scatter(
                x=x,
                y=part[value].to_numpy(dtype=float) * scale,
                mode="lines",
                line={"shape": "hv", "color": colour, "width": 3},
                name=str(name),
                legendgroup=str(name),
            )
        )
        if lower and upper and lower in part and upper in part:
            band_x = np.concatenate([x, x[::-1]])
            band_y = np.concatenate(
                [part[upper].to_numpy(float), part[lower].to_numpy(float)[::-1]]
            )
            fig.add_trace(
                go.Scatter(
                    x=band_x,
                    y=band_y * scale,
                    fill="toself",
                    fillcolor=_rgba(colour, 0.18),
                    line={"shape": "hv", "width": 0},
                    hoverinfo="skip",
                    name=f"{name} 95% CI",
                    legendgroup=str(name),
                    showlegend=False,
                )
            )
    unit = "months" if time_unit == "months" else "days"
    fig.update_yaxes(ticksuffix="%" if percent else "", rangemode="tozero")
    return _layout(
        fig, title, f"Time since release ({unit})", y_title + (" (%)" if percent else "")
    )


def forest_plot(
    terms: pd.DataFrame,
    *,
    estimate: str = "hr",
    lower: str = "hr_lower",
    upper: str = "hr_upper",
    label: str = "term",
    series: str | None = None,
    title: str = "Hazard ratios (95% CI)",
) -> go.Figure:
    """Hazard ratios with CIs on a log axis; a line at 1 (no difference)."""
    fig = go.Figure()
    groups = [(None, terms)] if series is None else list(terms.groupby(series, sort=False))
    for index, (name, part) in enumerate(groups):
        fig.add_trace(
            go.Scatter(
                x=part[estimate],
                y=part[label].astype(str),
                mode="markers",
                marker={"size": 12, "color": PALETTE[index % len(PALETTE)]},
                error_x={
                    "type": "data",
                    "symmetric": False,
                    "array": part[upper] - part[estimate],
                    "arrayminus": part[estimate] - part[lower],
                    "thickness": 2,
                },
                name=str(name) if name is not None else "hazard ratio",
            )
        )
    fig.add_vline(x=1, line_dash="dash", line_color="#555555")
    fig.update_xaxes(type="log")
    return _layout(fig, title, "Hazard ratio (below 1 = less reoffending)", "")


def balance_plot(balance: pd.DataFrame, threshold: float = 0.1) -> go.Figure:
    """Standardized mean differences before and after adjustment ("love plot")."""
    fig = go.Figure()
    for index, (column, name) in enumerate((("smd_before", "before"), ("smd_after", "after"))):
        fig.add_trace(
            go.Scatter(
                x=balance[column].abs(),
                y=balance["covariate"],
                mode="markers",
                marker={
                    "size": 11,
                    "color": PALETTE[index],
                    "symbol": ["circle-open", "circle"][index],
                },
                name=f"{name} adjustment",
            )
        )
    fig.add_vline(x=threshold, line_dash="dash", line_color="#555555")
    return _layout(fig, "Covariate balance", "Absolute standardized mean difference", "")


def overlap_plot(overlap: pd.DataFrame) -> go.Figure:
    """Propensity-score histograms of participants and the people they are compared with."""
    mid = (overlap["score_from"] + overlap["score_to"]) / 2
    fig = go.Figure()
    for index, column in enumerate(("participants", "others")):
        share = overlap[column] / max(overlap[column].sum(), 1)
        fig.add_trace(
            go.Bar(x=mid, y=share * 100, name=column, marker_color=PALETTE[index], opacity=0.7)
        )
    fig.update_layout(barmode="overlay")
    return _layout(fig, "Propensity score overlap", "Propensity score", "Share of group (%)")


def rate_plot(
    rates: pd.DataFrame,
    *,
    label: str,
    value: str = "recidivism",
    lower: str = "lower",
    upper: str = "upper",
    title: str = "",
    value_title: str = "Reoffended within 1 year",
    label_title: str = "",
    horizontal: bool = True,
) -> go.Figure:
    """Rates (shares, 0–1) with 95% CI whiskers, one dot per group; missing rates are skipped.

    ``horizontal=True`` lists groups down the y axis (facilities, regions);
    ``horizontal=False`` puts them along the x axis (release cohorts, in order).

    Examples
    --------
    >>> df = pd.DataFrame({"facility": ["A", "B"], "recidivism": [.3, None],
    ...                    "lower": [.25, None], "upper": [.35, None]})
    >>> list(rate_plot(df, label="facility").data[0].y)
    ['A']
    """
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
        _layout(fig, title, f"{value_title} (%)", label_title)
        return fig.update_layout(hovermode="y unified", showlegend=False)
    fig.update_xaxes(type="category")
    return _layout(fig, title, label_title, f"{value_title} (%)").update_layout(showlegend=False)
