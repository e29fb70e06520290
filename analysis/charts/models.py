"""Model estimates: hazard ratios with their intervals (forest plot)."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analysis.charts.style import PALETTE, finish_layout, series_name
from analysis.i18n import translator


def forest_plot(
    terms: pd.DataFrame,
    *,
    estimate: str = "hr",
    lower: str = "hr_lower",
    upper: str = "hr_upper",
    label: str = "term",
    series: str | None = None,
    title: str | None = None,
    language: str = "en",
) -> go.Figure:
    """Hazard ratios with CIs on a log axis; a line at 1 (no difference).

    Parameters
    ----------
    terms : pandas.DataFrame
        One row per term (programme, covariate) and series, e.g.
        ``ProgramEffects.forest`` of :mod:`analysis.views.programs`. Columns:
        ``label``, ``estimate``, ``lower``, ``upper`` and, if given, ``series``.
    estimate : str, default "hr"
        Column of the hazard ratios (positive: the axis is logarithmic).
    lower, upper : str, default "hr_lower", "hr_upper"
        Columns of the 95% CI bounds of the hazard ratios, drawn as error bars.
    label : str, default "term"
        Column of the term names (y axis), from the data, shown as text.
    series : str or None, default None
        Column splitting the rows into one series per distinct value (order of first
        row): :data:`SERIES_WORDS` codes (``unadjusted``, ``adjusted``) are shown in
        ``language``, other values as text. ``None``: one series, "hazard ratio".
    title : str or None, default None
        Figure title in the caller's language; ``None`` is "Hazard ratios (95% CI)" in
        ``language``.
    language : str, default "en"
        Language of the builder's own labels: one of en, fr, ar, ru, sr.

    Returns
    -------
    plotly.graph_objects.Figure
        One marker trace with asymmetric error bars per series, a log x axis "Hazard
        ratio (below 1 = less reoffending)" and a dashed vertical line at 1.

    Raises
    ------
    ValueError
        ``language`` is not one of en, fr, ar, ru, sr.

    Examples
    --------
    >>> terms = pd.DataFrame({"term": ["VOC-METAL", "<b>School</b>"] * 2,
    ...     "hr": [.8, 1.25, .75, 1.5], "hr_lower": [.625, 1, .5, 1],
    ...     "hr_upper": [1, 1.5, 1, 2], "model": ["unadjusted"] * 2 + ["adjusted"] * 2})
    >>> fig = forest_plot(terms, series="model")
    >>> [t.name for t in fig.data], list(fig.data[0].y)
    (['unadjusted', 'adjusted'], ['VOC-METAL', '&lt;b&gt;School&lt;/b&gt;'])
    >>> fig.layout.xaxis.type, fig.layout.shapes[0].x0, fig.layout.title.text
    ('log', 1, 'Hazard ratios (95% CI)')
    >>> fig = forest_plot(terms, series="model", language="ru")
    >>> fig.data[1].name, fig.layout.xaxis.title.text
    ('скорректированная', 'Отношение рисков (меньше 1 — меньше<br>рецидивов)')
    """
    tr = translator(language)
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
                name=series_name(name, language) if name is not None
                else tr("hazard ratio"),
            )
        )
    fig.add_vline(x=1, line_dash="dash", line_color="#555555")
    fig.update_xaxes(type="log")
    return finish_layout(fig, tr("Hazard ratios (95% CI)") if title is None else title,
                   tr("Hazard ratio (below 1 = less reoffending)"), "")
