"""Impact evaluation diagnostics: covariate balance and propensity-score overlap."""

from __future__ import annotations

import pandas as pd
import plotly.graph_objects as go

from analysis.charts.style import PALETTE, finish_layout, series_name
from analysis.i18n import translator


def balance_plot(balance: pd.DataFrame, threshold: float = 0.1, *,
                 language: str = "en") -> go.Figure:
    """Standardized mean differences before and after adjustment ("love plot").

    Parameters
    ----------
    balance : pandas.DataFrame
        One row per covariate, as :func:`analysis.impact.balance.balance_table` gives
        (``ImpactResult.balance``). Columns: ``covariate`` (name, shown as text),
        ``smd_before`` and ``smd_after`` (signed standardized mean differences between
        participants and the comparison group, drawn as absolute values).
    threshold : float, default 0.1
        Absolute difference below which a covariate counts as balanced, drawn as a
        dashed vertical line.
    language : str, default "en"
        Language of the builder's own labels: one of en, fr, ar, ru, sr.

    Returns
    -------
    plotly.graph_objects.Figure
        Two marker traces, "before adjustment" (open circles) and "after adjustment"
        (filled), of the absolute SMD (x) of each covariate (y), and the threshold line.

    Raises
    ------
    ValueError
        ``language`` is not one of en, fr, ar, ru, sr.

    Examples
    --------
    >>> balance = pd.DataFrame({"covariate": ["age at release", "<b>sex</b>: female"],
    ...                         "smd_before": [-.5, .25], "smd_after": [.125, -.0625]})
    >>> fig = balance_plot(balance)
    >>> [t.name for t in fig.data], fig.data[1].x.tolist(), fig.layout.shapes[0].x0
    (['before adjustment', 'after adjustment'], [0.125, 0.0625], 0.1)
    >>> list(fig.data[0].y)
    ['age at release', '&lt;b&gt;sex&lt;/b&gt;: female']
    >>> fig = balance_plot(balance, 0.2, language="fr")
    >>> fig.layout.title.text, fig.layout.shapes[0].x0
    ('Équilibre des covariables', 0.2)
    """
    tr = translator(language)
    fig = go.Figure()
    names = (tr("before adjustment"), tr("after adjustment"))
    for index, (column, name) in enumerate(zip(("smd_before", "smd_after"), names,
                                               strict=True)):
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
                name=name,
            )
        )
    fig.add_vline(x=threshold, line_dash="dash", line_color="#555555")
    return finish_layout(fig, tr("Covariate balance"), tr("Absolute standardized mean difference"),
                   "")


def overlap_plot(overlap: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Propensity-score histograms of participants and the people they are compared with.

    Parameters
    ----------
    overlap : pandas.DataFrame
        One row per score bin, as ``PropensityScore.overlap`` gives
        (``ImpactResult.overlap``). Columns: ``score_from`` and ``score_to`` (bin edges,
        propensity scores 0–1), ``participants`` and ``others`` (people of each group
        in the bin). A missing count (a bin hidden below the minimum cell size by
        :func:`analysis.impact.publication.safe_overlap`) is not drawn.
    language : str, default "en"
        Language of the builder's own labels: one of en, fr, ar, ru, sr.

    Returns
    -------
    plotly.graph_objects.Figure
        Two overlaid bar traces, "participants" and "others", at the bin midpoints:
        each bin's share (%) of the group's counts shown.

    Raises
    ------
    ValueError
        ``language`` is not one of en, fr, ar, ru, sr.

    Examples
    --------
    >>> overlap = pd.DataFrame({"score_from": [0, .25, .5, .75],
    ...     "score_to": [.25, .5, .75, 1], "participants": [None, 10, 20, 10],
    ...     "others": [30, 50, 20, None]})
    >>> fig = overlap_plot(overlap)
    >>> fig.data[0].x.tolist(), fig.data[0].y.tolist()
    ([0.125, 0.375, 0.625, 0.875], [nan, 25.0, 50.0, 25.0])
    >>> fig.data[1].y.tolist(), fig.layout.barmode
    ([30.0, 50.0, 20.0, nan], 'overlay')
    >>> fig = overlap_plot(overlap, language="fr")
    >>> [t.name for t in fig.data], fig.layout.yaxis.title.text
    (['participants', 'autres'], 'Part du groupe (%)')
    """
    tr = translator(language)
    mid = (overlap["score_from"] + overlap["score_to"]) / 2
    fig = go.Figure()
    for index, column in enumerate(("participants", "others")):
        share = overlap[column] / max(overlap[column].sum(), 1)
        fig.add_trace(
            go.Bar(x=mid, y=share * 100, name=series_name(column, language),
                   marker_color=PALETTE[index], opacity=0.7)
        )
    fig.update_layout(barmode="overlay")
    return finish_layout(fig, tr("Propensity score overlap"), tr("Propensity score"),
                   tr("Share of group (%)"))
