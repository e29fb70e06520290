"""Curves over time since release, and rates by group: the dashboard's main charts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.charts.style import PALETTE, finish_layout, rgba, series_name
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
    """
    tr = translator(language)
    fig = go.Figure()
    scale = 100.0 if percent else 1.0
    divisor = DAYS_PER_MONTH if time_unit == "months" else 1.0
    for index, (code, part) in enumerate(curves.groupby(group, sort=False)):
        name = series_name(code, language) if series_codes else str(code)
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
                    fillcolor=rgba(colour, 0.18),
                    line={"shape": "hv", "width": 0},
                    hoverinfo="skip",
                    name=tr("{name} 95% CI", name=name),
                    legendgroup=str(name),
                    showlegend=False,
                )
            )
    x_title = (tr("Time since release (months)") if time_unit == "months"
               else tr("Time since release (days)"))
    y_title = tr("Share reoffended") if y_title is None else y_title
    fig.update_yaxes(ticksuffix="%" if percent else "", rangemode="tozero")
    return finish_layout(fig, title, x_title, y_title + (" (%)" if percent else ""))


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
