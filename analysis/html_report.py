"""Self-contained, offline, printable HTML documents.

Everything is inlined: the plotly.js library (from the installed plotly
package, never a CDN), the charts' data, the styles. The file opens in a browser
with no network and prints cleanly (tables and charts avoid page breaks).

Every text is escaped: titles, headings, paragraphs and captions here, table cells and
column names by pandas (``escape=True``), chart labels by :mod:`analysis.charts`, and
the charts' JSON by plotly (``<`` and ``>`` as ``\u003c``/``\u003e``, so no name can
close the ``<script>``). A programme or facility name is always shown as its characters.

The document declares its language (``<html lang>``) and, for Arabic, its direction
(``dir="rtl"``); the styles use logical sides (``inline-start``), so the same sheet
lays out both directions.
"""

from __future__ import annotations

import datetime as dt
import html
from dataclasses import dataclass, field

import pandas as pd
import plotly.graph_objects as go
from plotly.offline import get_plotlyjs

from analysis import __version__
from analysis.i18n import translator

_STYLE = """
body { font-family: "DejaVu Sans", "Noto Sans", "Noto Sans Arabic", Arial, sans-serif;
       margin: 2rem auto;
       max-width: 60rem; color: #1a1a1a; line-height: 1.45; padding: 0 1rem; }
h1 { font-size: 1.9rem; margin-bottom: .2rem; }
h2 { font-size: 1.35rem; border-bottom: 2px solid #0072B2; padding-bottom: .2rem; margin-top: 2rem; }
.subtitle { color: #555; margin-top: 0; }
.context { color: #333; margin: .1rem 0; font-size: .95rem; }
:lang(ar) body, body:lang(ar) { font-family: "Noto Sans Arabic", "DejaVu Sans", sans-serif; }
.headline { font-size: 1.2rem; background: #eef5fb; border-inline-start: 6px solid #0072B2;
            padding: .8rem 1rem; }
.warning { background: #fff4e5; border-inline-start: 6px solid #E69F00; padding: .6rem 1rem; }
table { border-collapse: collapse; margin: .8rem 0; font-size: .92rem; }
th, td { border: 1px solid #ccc; padding: .3rem .6rem; text-align: end; }
th:first-child, td:first-child { text-align: start; }
/* each cell finds its own direction: "-5.0" stays "-5.0" in a right-to-left table */
td { unicode-bidi: plaintext; }
caption { text-align: start; font-weight: bold; padding-bottom: .3rem; }
.figure { page-break-inside: avoid; break-inside: avoid; margin: 1rem 0; }
footer { margin-top: 3rem; color: #666; font-size: .85rem; }
@media print {
  body { margin: 0; max-width: none; padding: 0; font-size: 10pt; }
  h1 { font-size: 1.5rem; }
  h2 { font-size: 1.15rem; margin-top: 1.2rem; }
  table { font-size: 8.5pt; }
  h2 { page-break-after: avoid; break-after: avoid; }
  table, .figure, .headline { page-break-inside: avoid; break-inside: avoid; }
  .modebar { display: none !important; }
}
"""


@dataclass(frozen=True)
class Section:
    """One titled part of a report. Text is plain (escaped), never raw HTML."""

    heading: str
    paragraphs: tuple[str, ...] = ()
    headline: str | None = None
    warnings: tuple[str, ...] = ()
    tables: tuple[tuple[str, pd.DataFrame], ...] = ()
    figures: tuple[go.Figure, ...] = field(default=(), repr=False)


def _table(caption: str, frame: pd.DataFrame) -> str:
    # escape=True (pandas' default, kept explicit): cells and column names are data text.
    body = frame.to_html(index=False, border=0, na_rep="–", escape=True,
                         float_format=lambda v: f"{v:,.3g}")
    # pandas escapes the cells; the caption goes right after the opening <table ...> tag.
    return body.replace(">", f"><caption>{html.escape(caption)}</caption>", 1)


def _figure(fig: go.Figure, index: int, static: bool = False) -> str:
    # static: drawn once for printing, with no toolbar, hover or zoom (the PDF's charts)
    config = ({"staticPlot": True, "displayModeBar": False, "responsive": True} if static
              else {"displaylogo": False, "responsive": True})
    inner = fig.to_html(
        full_html=False,
        include_plotlyjs=False,
        div_id=f"figure-{index}",
        config=config,
    )
    return f'<div class="figure">{inner}</div>'


def render_html(
    title: str, sections: list[Section], *, subtitle: str = "", language: str = "en",
    context: tuple[str, ...] = (), static: bool = False,
) -> str:
    """Render a complete HTML document; its texts are already in ``language``.

    ``context`` lines (the selection, the date of the data) follow the subtitle;
    ``static`` draws the charts without toolbar or hover, for printing
    (:mod:`analysis.pdf_report`).

    Examples
    --------
    >>> page = render_html("Impact", [Section("Result", paragraphs=("5 < 7",))])
    >>> "5 &lt; 7" in page and "<script" in page
    True
    >>> '<html lang="ar" dir="rtl">' in render_html("أثر", [], language="ar")
    True
    """
    tr = translator(language)
    direction = ' dir="rtl"' if tr.right_to_left else ""
    parts = [
        "<!DOCTYPE html>",
        f'<html lang="{html.escape(tr.language)}"{direction}><head><meta charset="utf-8">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{html.escape(title)}</title><style>{_STYLE}</style>",
        f'<script type="text/javascript">{get_plotlyjs()}</script>',
        "</head><body>",
        f"<h1>{html.escape(title)}</h1>",
    ]
    if subtitle:
        parts.append(f'<p class="subtitle">{html.escape(subtitle)}</p>')
    parts.extend(f'<p class="context">{html.escape(line)}</p>' for line in context)
    figure_index = 0
    for section in sections:
        parts.append(f"<h2>{html.escape(section.heading)}</h2>")
        if section.headline:
            parts.append(f'<p class="headline">{html.escape(section.headline)}</p>')
        parts.extend(f'<p class="warning">{html.escape(w)}</p>' for w in section.warnings)
        parts.extend(f"<p>{html.escape(p)}</p>" for p in section.paragraphs)
        for caption, frame in section.tables:
            parts.append(_table(caption, frame))
        for fig in section.figures:
            parts.append(_figure(fig, figure_index, static))
            figure_index += 1
    stamp = dt.datetime.now().strftime("%Y-%m-%d %H:%M")
    footer = tr("Desistance {version} · generated {stamp}", version=__version__, stamp=stamp)
    parts.append(f"<footer>{html.escape(footer)}</footer>")
    parts.append("</body></html>")
    return "\n".join(parts)
