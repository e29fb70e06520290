"""Desistance dashboard — the router (``streamlit run dashboard/streamlit_app.py``).

Served to this machine, or to the network with access control: when Streamlit listens on
another address and no access configuration is beside the database (started other than
the documented way, see :mod:`dashboard.serving`), the page says how to start it and
shows no data — the database is not even opened. With access control, the user signs in
first (:mod:`dashboard.auth`), before anything reads the database, and the menu offers
only the pages of the user's role; a link to another page says so and shows nothing.

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

from analysis.errors import DatabaseError, DesistError, InvalidAccessConfigError  # noqa: E402
from analysis.views.filters import QUERY_KEYS, Rejection  # noqa: E402
from analysis.views.scope import OutOfScopeError  # noqa: E402
from dashboard import auth, cache, empty_state, login, notices  # noqa: E402
from dashboard.i18n import LANGUAGE_KEY, apply_direction, t, translator  # noqa: E402
from dashboard.safe_text import md_literal  # noqa: E402
from dashboard.serving import REFUSAL_TITLE, may_serve, refusal_markdown  # noqa: E402
from dashboard.sidebar import language_selector, sidebar_filters  # noqa: E402

# No page icons: a Material icon becomes the tab favicon, fetched from fonts.gstatic.com.
# Titles are translated on every run: the language can change between runs.
TITLES = {"overview": t("Overview"), "recidivism": t("Recidivism over time"),
          "programs": t("Programmes"), "impact": t("Impact"),
          "subgroups": t("Subgroups and places"), "planning": t("Planning"),
          "services": t("Services and coverage"), "data": t("Data")}

st.set_page_config(layout="wide", page_title="Desistance")
# Before anything that reads the data: on a network address without access control,
# nothing of the study is shown.
address = st.get_option("server.address")
try:
    access = auth.access_config()
except InvalidAccessConfigError as exc:
    login.config_error(exc)
    st.stop()
if not may_serve(address, access_configured=access is not None):
    st.title(translator()(REFUSAL_TITLE))
    st.markdown(refusal_markdown(address, translator()))
    st.stop()
notices.replace_page_not_found_dialog()
notices.open_area()  # above everything the page draws
# Before the sign-in and the database check, so that their messages are in the chosen
# language too.
language_selector()
apply_direction()


def pages(default: str | None) -> dict[str, st.Page]:
    """Every page by its file stem (its URL path), ``default`` opening at the root."""
    return {stem: st.Page(f"app_pages/{stem}.py", title=title, default=stem == default)
            for stem, title in TITLES.items()}


try:
    scope = auth.require_user(list(pages(None).values()))  # stops until somebody signs in
except InvalidAccessConfigError as exc:  # the accounts file, edited by hand
    login.config_error(exc)
    st.stop()

# Only the pages of the user's role; a donor starts on the Programmes page.
allowed = [stem for stem in TITLES if scope.allows_page(stem)]
PAGES = pages(allowed[0])
asked = auth.asked_page(PAGES)
page = st.navigation([PAGES[stem] for stem in allowed])
if asked is not None and asked not in allowed:
    auth.record("access_refused", page=asked)
    notices.refuse_out_of_reach([Rejection("page", TITLES[asked], None)])  # stops
unknown_page = None if asked else notices.unknown_page(list(PAGES.values()), page)
if unknown_page is not None:
    notices.report([unknown_page])
stem = next(stem for stem, listed in PAGES.items() if listed is page)


def record_view() -> None:
    """The audit trail's page view: the page, the filters and the page's own options
    (a programme, a breakdown), as the URL holds them after the page's run."""
    if filters is None:  # the sidebar failed: no view was shown
        return
    auth.record_page_view(stem, filters.to_query(),
                          {key: value for key, value in st.query_params.to_dict().items()
                           if key not in QUERY_KEYS and key != LANGUAGE_KEY})


try:
    cache.connection()
except DatabaseError as exc:
    st.error(md_literal(exc))
    st.info(t("Set the DESIST_DB environment variable to your study database, or run "
              "`make demo` to build the demo database, then reload this page."))
    st.stop()

filters = None  # until the sidebar has drawn them
try:
    filters = st.session_state["filters"] = sidebar_filters()
    # The Data page describes the whole database; the others analyse the selection only.
    if page.url_path != "data" and empty_state.no_release_selected(filters):
        st.title(page.title)
        empty_state.show_empty_selection()
        record_view()
        st.stop()
    page.run()
except OutOfScopeError as exc:  # a view refused what the user's scope does not cover
    auth.record("access_refused", link={exc.what: exc.value})
    notices.refuse_out_of_reach([Rejection(exc.what, exc.value, None)])
except DesistError as exc:
    # Messages quote names and values from the data: shown as text.
    st.warning(md_literal(exc))
record_view()
