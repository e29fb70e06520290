"""Services charts: capacity against demand, the referral funnel, and a map of the gaps
(tidy DataFrame in, plotly Figure out; no data access).

The map is drawn from the country's own region outlines (``regions.geojson``, stored in
``region_boundaries``) as filled scatter polygons on plain axes with an equal aspect
ratio: plotly's geographic traces (``Choropleth``, map and mapbox layers) would fetch
topojson or tiles from the internet, and nothing here is ever downloaded.

Region, provider and service names come from the data: they are drawn as text
(:func:`~analysis.charts.style.finish_layout` escapes every name, label and hover text).
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.charts.planning import _text_direction
from analysis.charts.style import PALETTE, finish_layout, plotly_text
from analysis.i18n import translator

#: The map's classes: the fewest gaps of each (none, 1 or 2, 3 to 5, 6 to 9, 10 or more)
#: and its colour, from green to dark orange (Okabe–Ito, with one step between).
GAP_CLASSES = (0, 1, 3, 6, 10)
GAP_COLOURS = ("#009E73", "#F0E442", "#E69F00", "#D55E00", "#8C3A00")


def capacity_demand_plot(frame: pd.DataFrame, *, title: str = "",
                         language: str = "en") -> go.Figure:
    """Places a year against demand per service type, side by side (horizontal bars).

    Parameters
    ----------
    frame : DataFrame
        ``service_type`` (worded), ``capacity`` and ``demand`` (numbers; NaN where
        unknown, not compared, or hidden by disclosure control: no bar).

    Examples
    --------
    >>> frame = pd.DataFrame({"service_type": ["housing", "<b>x</b>"],
    ...                       "capacity": [40.0, np.nan], "demand": [np.nan, 25.0]})
    >>> fig = capacity_demand_plot(frame)
    >>> [t.name for t in fig.data], list(fig.data[0].y)
    (['Places a year', 'Demand: releases with the need'], ['housing', '&lt;b&gt;x&lt;/b&gt;'])
    """
    tr = translator(language)
    bars = (("capacity", tr("Places a year")), ("demand", tr("Demand: releases with the need")))
    fig = _horizontal_bars(frame, bars)
    finish_layout(fig, title, tr("People a year"), "")  # the bars name their types
    _room_for_labels(fig, frame)
    return _text_direction(fig.update_layout(hovermode="closest"), language)


def _room_for_labels(fig: go.Figure, frame: pd.DataFrame) -> None:
    """A left margin wide enough for the longest service type.

    Plotly's ``automargin`` measures tick labels before the browser shapes them; Arabic
    labels, once shaped, came out wider and were cut at the figure's edge. A margin of
    about 8 pixels a character (at most 320) holds every language's words.
    """
    longest = max((len(str(t)) for t in frame["service_type"]), default=0)
    fig.update_layout(margin_l=min(320, max(70, 24 + 8 * longest)))


def _horizontal_bars(frame: pd.DataFrame, bars) -> go.Figure:
    """One horizontal bar per ``(column, name)`` of ``bars`` for each service type, the
    types top to bottom in the frame's order (long names need no rotated labels)."""
    fig = go.Figure()
    types = frame["service_type"].astype(str).tolist()
    for index, (column, name) in enumerate(bars):
        fig.add_trace(go.Bar(y=types, x=frame[column].to_numpy(float), name=name,
                             orientation="h", marker={"color": PALETTE[index]},
                             hovertemplate="%{y}: %{x:,.0f}<extra>%{fullData.name}</extra>"))
    fig.update_layout(barmode="group", height=max(320, 150 + 24 * len(bars) * len(types)))
    fig.update_xaxes(rangemode="tozero")
    fig.update_yaxes(autorange="reversed")
    return fig


def funnel_plot(frame: pd.DataFrame, *, title: str = "", language: str = "en") -> go.Figure:
    """Referred, reached and completed per service type (grouped horizontal bars; a
    hidden count has no bar).

    Parameters
    ----------
    frame : DataFrame
        ``service_type`` (worded), ``referred``, ``attended``, ``completed`` (numbers,
        NaN where hidden).

    Examples
    --------
    >>> frame = pd.DataFrame({"service_type": ["housing"], "referred": [40.0],
    ...                       "attended": [np.nan], "completed": [12.0]})
    >>> [t.name for t in funnel_plot(frame).data]
    ['Referred', 'Reached (attended or completed)', 'Completed']
    """
    tr = translator(language)
    bars = (("referred", tr("Referred")), ("attended", tr("Reached (attended or completed)")),
            ("completed", tr("Completed")))
    fig = _horizontal_bars(frame, bars)
    finish_layout(fig, title, tr("People"), "")  # the bars name their types
    _room_for_labels(fig, frame)
    return _text_direction(fig.update_layout(hovermode="closest"), language)


def _rings(geometry: dict) -> list[list[list[float]]]:
    """The outer ring of each polygon of a GeoJSON Polygon or MultiPolygon."""
    if geometry.get("type") == "Polygon":
        return [geometry["coordinates"][0]]
    if geometry.get("type") == "MultiPolygon":
        return [polygon[0] for polygon in geometry["coordinates"]]
    return []


def _centroid(rings: list[list[list[float]]]) -> tuple[float, float]:
    """Where a region's name goes: the area centroid of its largest ring (the mean of
    its points when the ring has no area)."""
    best, best_area = (0.0, 0.0), -1.0
    for ring in rings:
        points = np.asarray(ring, dtype=float)[:, :2]
        x, y = points[:, 0], points[:, 1]
        cross = x * np.roll(y, -1) - np.roll(x, -1) * y
        area = cross.sum() / 2
        if abs(area) > best_area:
            best_area = abs(area)
            best = ((float(((x + np.roll(x, -1)) * cross).sum() / (6 * area)),
                     float(((y + np.roll(y, -1)) * cross).sum() / (6 * area)))
                    if area else (float(x.mean()), float(y.mean())))
    return best


def _gap_class(gaps: int) -> int:
    return max(i for i, low in enumerate(GAP_CLASSES) if int(gaps) >= low)


def gaps_map(boundaries: pd.DataFrame, gaps: pd.Series, *, title: str = "",
             language: str = "en") -> go.Figure:
    """Each region's outline filled by its number of gaps (:data:`GAP_CLASSES`),
    its name at its middle; longitude and latitude on equal, hidden axes.

    Parameters
    ----------
    boundaries : DataFrame
        ``region``, ``geometry`` (GeoJSON Polygon or MultiPolygon dicts, lon/lat).
    gaps : Series
        Number of gaps by region (a region missing from it has none).

    Examples
    --------
    >>> square = {"type": "Polygon", "coordinates": [[[0, 0], [1, 0], [1, 1], [0, 0]]]}
    >>> fig = gaps_map(pd.DataFrame({"region": ["<i>N</i>"], "geometry": [square]}),
    ...                pd.Series({"<i>N</i>": 2}))
    >>> fig.data[0].fill, fig.data[0].name, fig.layout.yaxis.scaleanchor
    ('toself', '&lt;i&gt;N&lt;/i&gt;', 'x')
    """
    tr = translator(language)
    classes = (tr("No gap"), tr("1 or 2 gaps"), tr("3 to 5 gaps"), tr("6 to 9 gaps"),
               tr("10 gaps or more"))
    fig = go.Figure()
    labels_x, labels_y, labels, colours = [], [], [], []
    for line in boundaries.itertuples(index=False):
        count = int(gaps.get(line.region, 0))
        xs: list[float | None] = []
        ys: list[float | None] = []
        rings = _rings(line.geometry)
        for ring in rings:
            xs += [float(p[0]) for p in ring] + [None]
            ys += [float(p[1]) for p in ring] + [None]
        if not xs:
            continue
        colour = GAP_COLOURS[_gap_class(count)]
        fig.add_trace(go.Scatter(
            x=xs, y=ys, fill="toself", mode="lines", fillcolor=colour,
            line={"color": "#444444", "width": 1}, name=str(line.region),
            legendgroup=str(_gap_class(count)), showlegend=False, hoveron="fills",
            hoverinfo="name"))
        middle = _centroid(rings)
        labels_x.append(middle[0])
        labels_y.append(middle[1])
        labels.append(f"{line.region} ({count})")
        # dark text on the light classes, white on the dark ones
        colours.append("#000000" if _gap_class(count) < 3 else "#ffffff")
    fig.add_trace(go.Scatter(x=labels_x, y=labels_y, text=labels, mode="text",
                             textfont={"color": colours}, hoverinfo="skip", cliponaxis=False,
                             showlegend=False, name=tr("Gaps")))
    for index, name in enumerate(classes):  # the legend: one entry per class
        fig.add_trace(go.Scatter(x=[None], y=[None], mode="markers", name=name,
                                 marker={"size": 14, "symbol": "square",
                                         "color": GAP_COLOURS[index]}))
    fig.update_layout(height=560, legend_title_text=tr("Gaps"))
    finish_layout(fig, title, "", "")
    fig.update_xaxes(visible=False)
    fig.update_yaxes(visible=False, scaleanchor="x", scaleratio=1)
    fig.update_layout(hovermode="closest", legend_title_text=plotly_text(tr("Gaps")))
    return _text_direction(fig, language)
