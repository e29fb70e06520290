"""Desistance dashboard — the router (``streamlit run dashboard/streamlit_app.py``).

Served only to this machine: when Streamlit listens on any other address (started other
than the documented way, see :mod:`dashboard.serving`), the page says how to start it and
shows no data — the database is not even opened.

Sets the page up (titles in the language chosen in the sidebar or the URL's ``lang``:
:mod:`dashboard.i18n`), draws the sidebar filters once (stored in
``st.session_state["filters"]`` for the pages), and runs the chosen page. A problem the
user can fix (no database, a selection too small for an analysis) is shown as a message,
not a traceback; a selection that holds no release shows one empty state on every page
(:mod:`dashboard.empty_state`), and what of a link cannot be used (an unknown page,
language or filter value) is named in one notice at the top (:mod:`dashboard.notices`).
"""

from __future__ import annotations

import sys
from pathlib import Path

# `streamlit run` puts dashboard/ on sys.path, not the repository root.
_ROOT = str(Path(__file__).resolve().parent.parent)
if _ROOT not in sys.path:
    sys.path.insert(0, _ROOT)

import streamlit as st  # noqa: E402

from analysis.errors import DatabaseError, DesistError  # noqa: E402
from dashboard import cache, empty_state, notices  # noqa: E402
from dashboard.i18n import apply_direction, t  # noqa: E402
from dashboard.safe_text import md_literal  # noqa: E402
from dashboard.serving import REFUSAL_TITLE, is_loopback_address, refusal_markdown  # noqa: E402
from dashboard.sidebar import language_selector, sidebar_filters  # noqa: E402

# No page icons: a Material icon becomes the tab favicon, fetched from fonts.gstatic.com.
# Titles are translated on every run: the language can change between runs.
PAGES = [
    st.Page("app_pages/overview.py", title=t("Overview"),
            default=True),
    st.Page("app_pages/recidivism.py", title=t("Recidivism over time")),
    st.Page("app_pages/programs.py", title=t("Programmes")),
    st.Page("app_pages/impact.py", title=t("Impact")),
    st.Page("app_pages/subgroups.py", title=t("Subgroups and places")),
    st.Page("app_pages/data.py", title=t("Data")),
]

st.set_page_config(layout="wide", page_title="Desistance")
# Before anything that reads the data: on a network address, nothing of the study is shown.
address = st.get_option("server.address")
if not is_loopback_address(address):
    st.title(REFUSAL_TITLE)
    st.markdown(refusal_markdown(address))
    st.stop()
notices.replace_page_not_found_dialog()
page = st.navigation(PAGES)
notices.open_area()  # above everything the page draws
unknown_page = notices.unknown_page(PAGES, page)
if unknown_page is not None:
    notices.report([unknown_page])
# Before the database check, so that its message is in the chosen language too.
language_selector()
apply_direction()

try:
    cache.connection()
except DatabaseError as exc:
    st.error(md_literal(exc))
    st.info(t("Set the DESIST_DB environment variable to your study database, or run "
              "`make demo` to build the demo database, then reload this page."))
    st.stop()

filters = st.session_state["filters"] = sidebar_filters()
# The Data page describes the whole database; the others analyse the selection only.
if page.url_path != "data" and empty_state.no_release_selected(filters):
    st.title(page.title)
    empty_state.show_empty_selection()
    st.stop()
try:
    page.run()
except DesistError as exc:
    # Messages quote names and values from the data: shown as text.
    st.warning(md_literal(exc))
