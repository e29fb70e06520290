"""Reusable display pieces: tables with downloads, charts with a PNG button, warnings, labels.

No data access and no computation here: tables and figures arrive ready from
:mod:`analysis.views` and :mod:`analysis.charts`, with column codes and coded cells
that :func:`show_table` words in the session's language
(:func:`analysis.views.words.render_table`), on screen and in the downloads alike.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping

import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis.disclosure import SMALL_SAMPLE
from analysis.impact.rules import Reason
from analysis.views.tables import to_csv_bytes, to_xlsx_bytes
from analysis.views.words import Note, column_header, render_note, render_table
from dashboard.i18n import current_language, t
from dashboard.safe_text import md_literal

#: Plotly toolbar: a PNG download sized for slides, no plotly logo, no cloud buttons.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "width": 1400, "height": 800, "scale": 2},
    "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"],
}


def _file_stem(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-") or "table"


#: Display format of decimal columns not named in ``formats`` (downloads keep every digit).
DEFAULT_FLOAT_FORMAT = "%.3f"


def _column_config(df: pd.DataFrame, formats: Mapping[str, str] | None) -> dict:
    formats = dict(formats or {})
    config = {}
    for column in df.columns:
        fmt = formats.get(column)
        if fmt is None and pd.api.types.is_float_dtype(df[column]):
            fmt = DEFAULT_FLOAT_FORMAT
        if fmt is not None:
            config[column] = st.column_config.NumberColumn(format=fmt)
    return config


def show_table(df: pd.DataFrame, *, key: str, caption: str | None = None,
               formats: Mapping[str, str] | None = None,
               note_params: Mapping[str, object] | None = None,
               coded: Iterable[str] = ()) -> None:
    """The table in words, then "CSV" and "XLSX" download buttons (formula injection
    neutralized).

    ``df`` comes from a view: its column codes and coded cells are worded in the
    session's language (``note_params`` and ``coded`` as in
    :func:`analysis.views.words.render_table`). ``formats`` maps column codes to a
    Streamlit number format for the screen only (``"percent"`` shows 0.204 as 20.4%,
    ``"%.2f"`` two decimals); the downloads keep the full values.
    """
    language = current_language()
    formats = {column_header(str(c), language): f for c, f in (formats or {}).items()}
    df = render_table(df, language, note_params=note_params, coded=coded)
    if caption:
        st.caption(caption)
    st.dataframe(df, hide_index=True, key=f"{key}-table",
                 column_config=_column_config(df, formats))
    stem = _file_stem(key)
    left, right, _ = st.columns([1, 1, 6])
    with left:
        st.download_button(t("CSV"), to_csv_bytes(df), file_name=f"{stem}.csv",
                           mime="text/csv", key=f"{key}-csv", on_click="ignore",
                           icon=":material/download:")
    with right:
        st.download_button(
            t("XLSX"), to_xlsx_bytes(df, sheet_name=stem), file_name=f"{stem}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"{key}-xlsx", on_click="ignore", icon=":material/download:")


def show_figure(fig: go.Figure, *, key: str) -> None:
    """A plotly chart, full width, with the PNG download in its toolbar."""
    config = {**PLOTLY_CONFIG, "toImageButtonOptions": {
        **PLOTLY_CONFIG["toImageButtonOptions"], "filename": _file_stem(key)}}
    st.plotly_chart(fig, key=key, config=config, theme=None)


def small_sample_note(n: int | None, what: str | None = None) -> None:
    """A warning when an estimate rests on fewer than 100 releases (``None``: suppressed).

    ``what`` names the estimates, already translated (default: "these estimates").
    """
    if n is None or n < SMALL_SAMPLE:
        st.warning(
            t("Small sample: {what} rest on fewer than {n} releases, so they can change a "
              "lot with a few more people. Read them as indicative only.",
              what=what or t("these estimates"), n=SMALL_SAMPLE),
            icon=":material/warning:",
        )


def horizon_option(days: int, *, since_release: bool = False) -> str:
    """A horizon select-box option, e.g. "730 days (2 years)", in the interface language.

    One whole text per horizon, so that each language can use its own plural forms.
    """
    if since_release:
        known = {365: t("365 days since release (1 year)"),
                 730: t("730 days since release (2 years)"),
                 1095: t("1095 days since release (3 years)")}
        return known.get(days) or t("{days} days since release", days=days)
    known = {365: t("365 days (1 year)"), 730: t("730 days (2 years)"),
             1095: t("1095 days (3 years)")}
    return known.get(days) or t("{days} days", days=days)


def note_markdown(note: Note | Reason | str) -> str:
    """A result's note in the session's language, as Markdown showing it as text (notes
    quote names and messages from the data)."""
    return md_literal(render_note(note, current_language()))


def suppressed(value, label: str = "<10", fmt: str = "{:,}") -> str:
    """A number for display, or the suppression label when the view hid it (``None``).

    Examples
    --------
    >>> suppressed(1234), suppressed(None, "<10")
    ('1,234', '<10')
    """
    if value is None or (isinstance(value, float) and value != value):
        return label
    return fmt.format(value)
