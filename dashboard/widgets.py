"""Reusable display pieces: tables with downloads, charts with a PNG button, warnings, labels.

No data access and no computation here: tables and figures arrive ready from
:mod:`analysis.views` and :mod:`analysis.charts`, with column codes and coded cells
that :func:`show_table` words in the session's language
(:func:`analysis.views.words.render_table`), on screen and in the downloads alike.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd
import plotly.graph_objects as go
import streamlit as st

from analysis.disclosure import SMALL_SAMPLE
from analysis.i18n import RIGHT_TO_LEFT
from analysis.impact.rules import Reason
from analysis.views.display import screen_table
from analysis.views.estimates import SHARE_COLUMNS
from analysis.views.filters import Rejection, ViewFilters
from analysis.views.tables import (
    about_rows,
    captioned_figure,
    data_dates,
    figure_caption,
    to_csv_bytes,
    to_xlsx_bytes,
)
from analysis.views.words import Note, render_cell, render_note, render_table
from dashboard import auth, cache, notices
from dashboard.i18n import current_language, t, translator
from dashboard.safe_text import md_literal

#: Plotly toolbar: an image download sized for slides, no plotly logo, no cloud buttons.
PLOTLY_CONFIG = {
    "displaylogo": False,
    "toImageButtonOptions": {"format": "png", "width": 1400, "height": 800, "scale": 2},
    "modeBarButtonsToRemove": ["sendDataToCloud", "lasso2d", "select2d"],
}


def _file_stem(key: str) -> str:
    return re.sub(r"[^A-Za-z0-9_-]+", "-", key).strip("-") or "table"


#: What a missing number (hidden, not estimated) shows on screen: not Streamlit's "None".
NOT_SHOWN = "—"


def _counts_as_text(df: pd.DataFrame) -> pd.DataFrame:
    """For the screen: a column of counts holding a label too ("<10") as text throughout,
    one holding only numbers as integers.

    A browser table needs one type per column (Arrow); the text counts get the
    language's separators there (:func:`analysis.views.display.text_number`). The
    downloads keep the numbers.
    """
    out = df.copy()
    for column in out.columns:
        values = out[column]
        if values.dtype != object or not len(values):
            continue
        numbers = [isinstance(v, int | np.integer) and not isinstance(v, bool) for v in values]
        if all(numbers):  # nothing hidden: a column of numbers (separators, sorting)
            out[column] = values.astype("int64")
        elif any(numbers) and any(isinstance(v, str) for v in values):
            out[column] = [str(v) if n else v for v, n in zip(values, numbers, strict=True)]
    return out


def reading_order(df: pd.DataFrame, language: str) -> pd.DataFrame:
    """The table's columns in the order its language reads: right to left in Arabic.

    The table widget draws on a canvas that is always laid out left to right, so an
    Arabic reader would find the label column (what a row is about) at the far left,
    where a line ends. Reversing the columns puts it on the right, where reading starts,
    and the numbers follow leftwards. Only the screen: a download keeps the logical order
    (its XLSX sheets are marked right to left, which a spreadsheet lays out
    itself).
    """
    if language in RIGHT_TO_LEFT and len(df.columns) > 1:
        return df[df.columns[::-1]]
    return df


def _about(title: str | None) -> list[tuple[str, str]]:
    """What a download says about itself, in the session's language."""
    filters = st.session_state.get("filters") or ViewFilters()
    dates = cache.run_view_quietly(data_dates, ViewFilters())
    return about_rows(filters, dates, current_language(), title=title)


def show_table(df: pd.DataFrame, *, key: str, caption: str | None = None,
               formats: Mapping[str, str] | None = None,
               note_params: Mapping[str, object] | None = None,
               coded: Iterable[str] = (), title: str | None = None,
               overall_first: bool = False) -> None:
    """The table in words, then "CSV" and "XLSX" download buttons (formula injection
    neutralized).

    ``df`` comes from a view: its column codes and coded cells are worded in the
    session's language (``note_params`` and ``coded`` as in
    :func:`analysis.views.words.render_table`). ``formats`` maps column codes to a
    number format for the screen only (``"percent"`` shows 0.204 as 20.4%, ``"%.2f"``
    two decimals, in the language's signs: :func:`analysis.views.display.screen_table`);
    the rates of :data:`~analysis.views.estimates.SHARE_COLUMNS` are percentages
    unless said otherwise. The downloads keep the full values, as numbers, and say what
    they hold (``title``, the selection, the outcome, ``k``, the data date and the tool
    version: :func:`analysis.views.tables.about_rows`) on a second XLSX sheet and in the
    CSV's ``#`` lines. ``overall_first``: the first row is the overall line, its first
    cell the code ``"all"`` (worded; the column is otherwise data, shown as it is).
    """
    language = current_language()
    if overall_first and len(df):
        df = df.copy()
        df.iloc[0, 0] = render_cell(df.iloc[0, 0], language)
    formats = {**{c: "percent" for c in SHARE_COLUMNS if c in df.columns}, **(formats or {})}
    # numbers in the page language's signs (analysis.views.display: Streamlit's own
    # formats follow the browser's language); the downloads keep the full values
    shown = screen_table(reading_order(_counts_as_text(df), language), language,
                         formats=formats, note_params=note_params, coded=coded)
    df = render_table(df, language, note_params=note_params, coded=coded)
    if caption:
        st.caption(caption)
    st.dataframe(shown, hide_index=True, key=f"{key}-table", placeholder=NOT_SHOWN)
    stem = _file_stem(key)
    about = _about(title or caption)
    about_sheet = t("About this table")
    rtl = language in RIGHT_TO_LEFT
    left, right, _ = st.columns([1, 1, 6])
    # The files are written when a reader asks for one, not on every run of the page:
    # building every table's CSV and XLSX took a third to a half of a page's run. Each
    # file made is an entry of the audit trail when access control is configured.
    with left:
        st.download_button(t("CSV"), auth.deferred(lambda: to_csv_bytes(df, about),
                                                   "download", what=stem, format="csv"),
                           file_name=f"{stem}.csv",
                           mime="text/csv", key=f"{key}-csv", on_click="ignore",
                           icon=":material/download:")
    with right:
        st.download_button(
            t("XLSX"), auth.deferred(lambda: to_xlsx_bytes(df, sheet_name=stem, about=about,
                                                           about_sheet=about_sheet,
                                                           right_to_left=rtl),
                                     "download", what=stem, format="xlsx"),
            file_name=f"{stem}.xlsx",
            mime="application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
            key=f"{key}-xlsx", on_click="ignore", icon=":material/download:")


#: Formats the chart toolbar's download button can write (plotly.js draws them in the
#: browser: nothing to install, nothing fetched).
IMAGE_FORMATS = ("png", "svg")


#: The query parameter naming the open tab of a page with tabs (a code, not a label).
TAB_QUERY = "tab"


def show_tabs(key: str, sections: Sequence[tuple[str, str, Callable[[], None]]]) -> None:
    """Tabs of ``(code, label, draw)`` sections, of which only the open one is drawn.

    Streamlit otherwise runs and sends every tab, and the browser draws the hidden ones
    too: on the Subgroups page that was three charts for the one seen, a third to a half
    of what a person waited for. Opening another tab runs the page again (its results
    come from the cache). The open tab is in the link (``?tab=<code>``; none for the
    first), so a shared link opens on the same tab, in any language; a code the page does
    not have is named in the link notice and the first tab is shown. ``draw`` writes into
    the tab: a section that calls ``st.stop()`` ends the page there, as it would without
    tabs.
    """
    codes = [code for code, _, _ in sections]
    labels = [label for _, label, _ in sections]
    if st.session_state.get(key) not in labels:  # the page just opened, or the language changed
        asked = st.query_params.get(TAB_QUERY)
        if asked is not None and asked not in codes:
            st.query_params.pop(TAB_QUERY, None)
            notices.report([Rejection(TAB_QUERY, asked, labels[0])])
        st.session_state[key] = labels[codes.index(asked) if asked in codes else 0]
    codes_by_label = dict(zip(labels, codes, strict=True))
    tabs = st.tabs(labels, key=key, on_change=_tab_in_link, args=(key, codes_by_label))
    for tab, (_, _, draw) in zip(tabs, sections, strict=True):
        if tab.open:
            with tab:
                draw()


def _tab_in_link(key: str, codes: Mapping[str, str]) -> None:
    code = codes[st.session_state[key]]
    if code == next(iter(codes.values())):
        st.query_params.pop(TAB_QUERY, None)
    else:
        st.query_params[TAB_QUERY] = code


def show_figure(fig: go.Figure, *, key: str) -> None:
    """A plotly chart, full width, with a PNG or SVG download in its toolbar.

    The figure carries a caption under the plot (the selection, the outcome, ``k``, the
    data cut-off and the tool version: :func:`analysis.views.tables.figure_caption`),
    so an exported image says what it shows. A small choice under the chart sets the
    toolbar button's format.
    """
    filters = st.session_state.get("filters") or ViewFilters()
    dates = cache.run_view_quietly(data_dates, ViewFilters())
    fig = captioned_figure(fig, figure_caption(filters, dates, current_language()))
    image_format = st.session_state.get(f"{key}-format") or IMAGE_FORMATS[0]
    config = {**PLOTLY_CONFIG, "toImageButtonOptions": {
        **PLOTLY_CONFIG["toImageButtonOptions"], "filename": _file_stem(key),
        "format": image_format}}
    st.plotly_chart(fig, key=key, config=config, theme=None)
    st.segmented_control(t("Format of the chart's download (camera icon in its toolbar)"),
                         IMAGE_FORMATS, key=f"{key}-format", default=IMAGE_FORMATS[0],
                         format_func=str.upper, label_visibility="collapsed")


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


def suppressed(value, label: str = "<10",
               fmt: str | Callable[[Any], str] | None = None) -> str:
    """A number for display, or the suppression label when the view hid it (``None``).

    ``fmt``: None writes a count with the session language's separators; a function
    (e.g. ``translator().percent``) or a ``str.format`` pattern writes anything else.

    Examples
    --------
    >>> suppressed(1234), suppressed(None, "<10"), suppressed(0.5, fmt=translator().percent)
    ('1,234', '<10', '50.0%')
    """
    if value is None or (isinstance(value, float) and value != value):
        return label
    if fmt is None:
        return translator().number(value)
    return fmt(value) if callable(fmt) else fmt.format(value)
