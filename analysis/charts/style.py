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
import textwrap
from collections.abc import Iterable

import numpy as np
import plotly.graph_objects as go
import plotly.io as pio

from analysis.i18n import N_, translator

#: Okabe & Ito (2008), "Color Universal Design".
#: plotly's "plotly_white" cut to what these charts use (cartesian axes, scatter and bar
#: traces). Assigning the full template deep-copies and validates all of it — polar,
#: ternary, 3-D, maps, 24 trace types — about 8 ms per figure and as much again for
#: each copy, a tenth of a page's run; this one costs about 1 ms and looks the same.
TEMPLATE_NAME = "desistance"


def _chart_template() -> go.layout.Template:
    white = pio.templates["plotly_white"]
    layout = {key: white.layout[key] for key in (
        "autotypenumbers", "colorway", "font", "hovermode", "hoverlabel", "paper_bgcolor",
        "plot_bgcolor", "xaxis", "yaxis", "shapedefaults", "annotationdefaults", "title")}
    return go.layout.Template(layout=layout, data={"scatter": white.data.scatter,
                                                   "bar": white.data.bar})


pio.templates[TEMPLATE_NAME] = _chart_template()

PALETTE = ("#0072B2", "#D55E00", "#009E73", "#CC79A7", "#E69F00", "#56B4E9", "#F0E442", "#000000")
FONT_SIZE = 16
#: Series codes the builders draw (model fits, groups of an evaluation) -> their words.
SERIES_WORDS: dict[str, str] = {
    "unadjusted": N_("unadjusted"),
    "adjusted": N_("adjusted"),
    "participants": N_("participants"),
    "comparison": N_("comparison"),
    "others": N_("others"),
    "all": N_("all releases"),  # the one group of a breakdown by nothing
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


#: Longest line of an axis title, in characters, before it wraps: a longer title (a long
#: translation) would run past the plot and be cut at the figure's edge.
AXIS_TITLE_WIDTH = 42
#: Pixels the bottom margin holds for the x tick labels and a one-line axis title; each
#: further title line adds :data:`LINE_HEIGHT`.
BOTTOM_MARGIN = 64
#: Pixels above the plot: the title's band (a one-line title at 1.2 × :data:`FONT_SIZE`).
TOP_MARGIN = 64
LINE_HEIGHT = 22


def wrapped(text: str, width: int = AXIS_TITLE_WIDTH) -> str:
    """Escaped ``text`` (:func:`plotly_text`) broken into lines of at most ``width``
    characters (plotly's ``<br>``); a single longer word stays whole.

    Examples
    --------
    >>> wrapped("Absolute standardized mean difference & more", 20)
    'Absolute<br>standardized mean<br>difference &amp; more'
    """
    lines = textwrap.wrap(str(text), width, break_long_words=False,
                          break_on_hyphens=False) or [""]
    return "<br>".join(plotly_text(line) for line in lines)


def figure_layout(fig: go.Figure, *, bottom_lines: int = 1) -> go.Figure:
    """The layout every chart shares: nothing can overlap or be cut off.

    - the title sits in its own band at the top, the :data:`TOP_MARGIN` pixels above
      the plot (one line; a fixed band rather than plotly's title ``automargin``, which
      moves the plot after the legend is placed, so the two could meet);
    - the legend is a column to the right of the plot (plotly widens the right margin to
      hold it), so it never covers the title or the plot, at any number of groups;
    - every axis has ``automargin``: long tick labels (facility names) widen the margin
      instead of being clipped;
    - the bottom margin holds the x axis title's ``bottom_lines`` lines, and is written
      out (not left to plotly) so that a caption placed below it
      (:func:`analysis.views.tables.captioned_figure`) lands under the title.
    """
    fig.update_layout(
        font={"size": FONT_SIZE},
        template=TEMPLATE_NAME,
        title={"x": 0, "xanchor": "left", "xref": "container", "y": 1, "yanchor": "top",
               "yref": "container", "pad": {"t": 14, "l": 12}, "automargin": False},
        legend={"orientation": "v", "x": 1.02, "xanchor": "left", "y": 1,
                "yanchor": "top", "yref": "paper", "tracegroupgap": 4},
        margin={"l": 70, "r": 20, "t": TOP_MARGIN,
                "b": BOTTOM_MARGIN + LINE_HEIGHT * max(0, bottom_lines - 1)},
        hovermode="x unified",
    )
    fig.update_xaxes(automargin=True)
    fig.update_yaxes(automargin=True)
    return fig


def finish_layout(fig: go.Figure, title: str, x_title: str, y_title: str) -> go.Figure:
    """Title, axis titles and the shared layout (:func:`figure_layout`), every text
    escaped once; long axis titles wrap (:func:`wrapped`).

    Called exactly once per figure, as its builder's last step.
    """
    fig.update_layout(title_text=title)
    _as_plain_text(fig)
    # the y title runs along the plot's height, usually shorter than its width
    x_text, y_text = wrapped(x_title), wrapped(y_title, AXIS_TITLE_WIDTH - 6)
    fig.update_layout(xaxis_title_text=x_text, yaxis_title_text=y_text)
    return figure_layout(fig, bottom_lines=x_text.count("<br>") + 1)
