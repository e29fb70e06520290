"""The one way every page says that the sidebar's selection holds no release.

Before, an empty selection showed one lower-case English line on some pages (the
analyses' "no releases match the selection") and empty tables on others. Now the router
shows, under the page's title, :func:`show_empty_selection` — a title, one sentence
saying why nothing is shown and how to widen the selection, and the same "Reset filters"
button as the sidebar — and runs no analysis; the Data page, which describes the whole
database, shows it in place of its selection's follow-up coverage.
"""

from __future__ import annotations

import streamlit as st

from analysis.views.choices import selection_is_empty
from analysis.views.filters import ViewFilters
from dashboard import cache
from dashboard.i18n import t
from dashboard.sidebar import reset_filters


def no_release_selected(filters: ViewFilters) -> bool:
    """Whether no release matches the selection of ``filters`` (cached per database)."""
    return cache.run_view(selection_is_empty, filters)


def show_empty_selection(*, key: str = "empty-selection") -> None:
    """The empty-selection state: a title, why nothing is shown and how to widen it.

    ``key`` tells its reset button apart when a page shows the state twice.
    """
    with st.container(border=True, key=key):
        st.subheader(t("No releases match the selection"), anchor=False)
        st.markdown(t("No release in the database meets every filter in the sidebar at "
                      "once: widen the release period, remove some of the facilities, "
                      "regions, sexes, age bands or offenses chosen, or reset the filters "
                      "(a link may also hold release years or types the sidebar does not "
                      "show)."))
        st.button(t("Reset filters"), on_click=reset_filters, key=f"{key}-reset",
                  icon=":material/restart_alt:")
