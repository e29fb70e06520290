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

Every builder takes ``language`` (keyword, default English): its own fixed labels (axis
and legend titles, hover labels, the names of the series it knows) are rendered through
the catalogs of :mod:`analysis.i18n` (``views.json``). A ``title`` the caller passes is
already words, in the caller's language.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np
import pandas as pd
import plotly.graph_objects as go

from analysis.constants import DAYS_PER_MONTH
from analysis.i18n import N_, translator

#: Okabe & Ito (2008), "Color Universal Design".
PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
FONT_SIZE = 16
#: Series codes the builders draw (model fits, groups of an evaluation) -> their words.
SERIES_WORDS: dict[str, str] = {
    "unadjusted": N_("unadjusted"),
    "adjusted": N_("adjusted"),
    "participants": N_("participants"),
    "comparison": N_("comparison"),
    "others": N_("others"),
}


def _series_name(name: object, language: str) -> str:
    """A series code's words, or the name itself when it comes from the data."""
    text = str(name)
    return translator(language)(SERIES_WORDS[text]) if text in SERIES_WORDS else text


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
        name = _series_name(code, language) if series_codes else str(code)
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
                    name=tr("{name} 95% CI", name=name),
                    legendgroup=str(name),
                    showlegend=False,
                )
            )
    x_title = (tr("Time since release (months)") if time_unit == "months"
               else tr("Time since release (days)"))
    y_title = tr("Share reoffended") if y_title is None else y_title
    fig.update_yaxes(ticksuffix="%" if percent else "", rangemode="tozero")
    return _layout(fig, title, x_title, y_title + (" (%)" if percent else ""))


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
    ('скорректированная', 'Отношение рисков (меньше 1 — меньше рецидивов)')
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
                name=_series_name(name, language) if name is not None
                else tr("hazard ratio"),
            )
        )
    fig.add_vline(x=1, line_dash="dash", line_color="#555555")
    fig.update_xaxes(type="log")
    return _layout(fig, tr("Hazard ratios (95% CI)") if title is None else title,
                   tr("Hazard ratio (below 1 = less reoffending)"), "")


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
    return _layout(fig, tr("Covariate balance"), tr("Absolute standardized mean difference"),
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
            go.Bar(x=mid, y=share * 100, name=_series_name(column, language),
                   marker_color=PALETTE[index], opacity=0.7)
        )
    fig.update_layout(barmode="overlay")
    return _layout(fig, tr("Propensity score overlap"), tr("Propensity score"),
                   tr("Share of group (%)"))


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
        _layout(fig, title, f"{value_title} (%)", label_title)
        return fig.update_layout(hovermode="y unified", showlegend=False)
    fig.update_xaxes(type="category")
    return _layout(fig, title, label_title, f"{value_title} (%)").update_layout(showlegend=False)
