"""What every chart shares: the palette, the layout, and text drawn as text.

plotly.js reads a subset of HTML (``<b>``, ``<br>``, ``<a href>``, ``<span style>``,
entities) in titles, legends, axis and tick labels, hover labels and annotations, and
group names come from the data (facility, programme and covariate names). Each builder
ends in :func:`finish_layout`, which escapes ``<``, ``>`` and ``&`` in all of them once
(:func:`plotly_text`), so a facility called ``<b>North</b>`` is drawn as those
characters.
"""

from __future__ import annotations

import html
from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go

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


def series_name(name: object, language: str) -> str:
    """A series code's words, or the name itself when it comes from the data."""
    text = str(name)
    return translator(language)(SERIES_WORDS[text]) if text in SERIES_WORDS else text


def rgba(hex_colour: str, alpha: float) -> str:
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


def finish_layout(fig: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
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
