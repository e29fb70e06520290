"""Impact evaluation diagnostics: covariate balance and propensity-score overlap."""

from __future__ import annotations

import textwrap

import pandas as pd
import plotly.graph_objects as go

from analysis.charts.style import (
    BOTTOM_MARGIN,
    FONT_SIZE,
    PALETTE,
    TOP_MARGIN,
    finish_layout,
    plotly_text,
    series_name,
)
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
    finish_layout(fig, tr("Covariate balance"), tr("Absolute standardized mean difference"), "")
    # Covariate names ("facility: Hillcrest High-Security Prison") take the room the plot
    # and its x axis title need, in a half-width column: long ones wrap onto two lines.
    labels = list(fig.data[0].y)  # already escaped, as the traces hold them
    ticktext = [_wrapped_label(label) for label in labels]
    fig.update_yaxes(tickmode="array", tickvals=labels, ticktext=ticktext,
                     tickfont={"size": FONT_SIZE - 2})
    # a row per covariate, tall enough for its label's lines
    rows = sum(26 + 17 * text.count("<br>") for text in ticktext)
    return fig.update_layout(height=max(450, TOP_MARGIN + BOTTOM_MARGIN + 40 + rows))


def _wrapped_label(escaped: str, width: int = 26) -> str:
    # breaks only at spaces, so an entity such as "&amp;" stays whole
    return "<br>".join(textwrap.wrap(escaped, width, break_long_words=False,
                                     break_on_hyphens=False)) or escaped


def overlap_plot(overlap: pd.DataFrame, *, language: str = "en") -> go.Figure:
    """Propensity-score histograms of participants and the people they are compared with.

    Only the common support is drawn: the range of scores both groups reach. People
    outside it (comparison releases with a covariate level no participant has, whose
    score is about 0) can never be compared; drawn, they made a spike at 0 that
    dwarfed everyone else. A note under the plot says how many were left out.

    Parameters
    ----------
    overlap : pandas.DataFrame
        One row per score bin, as ``PropensityScore.overlap`` gives
        (``ImpactResult.overlap``). Columns: ``score_from`` and ``score_to`` (bin edges,
        propensity scores 0–1), ``participants`` and ``others`` (people of each group
        in the bin) and ``common_support`` (``False`` for the rows counting the people
        outside it; a table without the column is drawn whole). A missing count (a bin
        hidden below the minimum cell size by
        :func:`analysis.impact.publication.safe_overlap`) is not drawn.
    language : str, default "en"
        Language of the builder's own labels: one of en, fr, ar, ru, sr.

    Returns
    -------
    plotly.graph_objects.Figure
        Two overlaid bar traces, "participants" and "others", at the midpoints of the
        bins of the common support: each bin's share (%) of the group's counts shown
        there; and, when someone is outside it, a note under the plot with their numbers
        ("hidden" for a hidden count).

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

    People outside the common support are not drawn, and the note says so:

    >>> outside = pd.DataFrame({"score_from": [0, .5, 0, .9], "score_to": [.5, 1, .1, 1],
    ...     "participants": [20, 20, 0, None], "others": [30, 10, 430, 0],
    ...     "common_support": [True, True, False, False]})
    >>> fig = overlap_plot(outside)
    >>> fig.data[1].y.tolist()
    [75.0, 25.0]
    >>> fig.layout.annotations[0].text
    'Not drawn (outside the range of scores both groups reach: no one in<br>the other group is like them): participants hidden, others 430.'
    """
    tr = translator(language)
    inside = (overlap["common_support"].astype(bool) if "common_support" in overlap
              else pd.Series(True, index=overlap.index))
    drawn = overlap[inside]
    mid = (drawn["score_from"] + drawn["score_to"]) / 2
    fig = go.Figure()
    for index, column in enumerate(("participants", "others")):
        share = drawn[column] / max(drawn[column].sum(), 1)
        fig.add_trace(
            go.Bar(x=mid, y=share * 100, name=series_name(column, language),
                   marker_color=PALETTE[index], opacity=0.7)
        )
    fig.update_layout(barmode="overlay")
    fig.update_xaxes(range=[0, 1])
    finish_layout(fig, tr("Propensity score overlap"), tr("Propensity score"),
                  tr("Share of group (%)"))
    note = _outside_note(overlap[~inside], tr)
    if note:
        _note_under_plot(fig, note)
    return fig


def _outside_note(outside: pd.DataFrame, tr) -> str | None:
    """The note on the people outside the common support (``None`` when there are none)."""
    counts = {}
    for column in ("participants", "others"):
        values = pd.to_numeric(outside[column], errors="coerce")
        # a hidden row (missing) holds 1 to k - 1 people, or more when hidden as the
        # complement of another: "hidden", never a number
        counts[column] = tr("hidden") if values.isna().any() else int(values.sum())
    if counts["participants"] == 0 and counts["others"] == 0:
        return None
    return tr("Not drawn (outside the range of scores both groups reach: no one in the "
              "other group is like them): participants {participants}, others {others}.",
              **{k: v if isinstance(v, str) else tr.number(v) for k, v in counts.items()})


def _note_under_plot(fig: go.Figure, note: str, width: int = 70) -> None:
    """``note`` (escaped) under the x axis title; the bottom margin grows to hold it, so
    a caption placed below the margin (:func:`analysis.views.tables.captioned_figure`)
    still comes after it."""
    lines = textwrap.wrap(note, width) or [""]
    bottom = fig.layout.margin.b
    fig.add_annotation(text="<br>".join(plotly_text(line) for line in lines),
                       xref="paper", yref="paper", x=0, y=0, xanchor="left",
                       yanchor="top", yshift=-(bottom - 4), align="left", showarrow=False,
                       font={"size": FONT_SIZE - 3, "color": "#555555"})
    fig.update_layout(margin={"b": bottom + 18 * len(lines) + 6})
