"""Say what of a link the page does not use, and what it shows instead.

A hand-edited, truncated or old link can ask for what cannot be shown: ``?k=1`` (below
the floor of disclosure control), ``?k=abc``, a period that ends before it starts, a
facility or programme that is not in this database, a page or language that does not
exist. The page opens on the nearest valid view, and says so in one notice at the top,
in the reader's language, naming each value and what is used instead.

The router reserves the notice's place (:func:`open_area`) before anything is drawn;
the sidebar, the router and the pages add to it (:func:`report`) as they read the link.
The link is read when a session starts (and a page's own options when the page first
opens), so the notice is shown then and disappears with the next change.

Values come from the address bar: they are shown as text (:func:`md_literal`), cut to
:data:`LONGEST_VALUE` characters.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence

import streamlit as st
from streamlit.runtime.scriptrunner import get_script_run_ctx

from analysis.views.filters import MIN_CELL_CEILING, MIN_CELL_FLOOR, Rejection
from analysis.views.planning_scenario import (
    MAX_CUSTODY_COST,
    MAX_CUSTODY_DAYS,
    MAX_PARTICIPANTS,
    MAX_YEARS,
)
from dashboard.i18n import t
from dashboard.safe_text import md_literal

_STATE = "_link_notice"
#: Longer values (a pasted paragraph, a broken link) are cut, with "…".
LONGEST_VALUE = 60


def _shown(text: str | None) -> str:
    text = "" if text is None else str(text)
    if len(text) > LONGEST_VALUE:
        text = text[:LONGEST_VALUE - 1] + "…"
    return md_literal(text)


def _filter_labels() -> dict[str, str]:
    # Built per call, not at import: the language can change between runs.
    return {"facility": t("Facility"), "region": t("Release region"), "sex": t("Sex"),
            "age_band": t("Age band at release"), "offense": t("Offense category"),
            "events": t("Events that count as reoffending")}


def rejection_markdown(rejection: Rejection) -> str:
    """One rejected value in a sentence of the current language (Markdown, values as text).

    Examples
    --------
    >>> print(rejection_markdown(Rejection("k", "1", "10")))  # English outside a session
    The link asks for a minimum cell size k of “1”, not a whole number from 5 to 1000: k = 10 is used.
    >>> print(rejection_markdown(Rejection("facility", "*Nowhere*", None)))
    Facility: “\\*Nowhere\\*” is not in the data, so it is left out of the selection.
    """
    field, value, used = rejection.field, _shown(rejection.value), _shown(rejection.used)
    if field == "k":
        return t("The link asks for a minimum cell size k of “{value}”, not a whole number "
                 "from {floor} to {ceiling}: k = {used} is used.", value=value,
                 floor=MIN_CELL_FLOOR, ceiling=MIN_CELL_CEILING, used=used)
    if field == "k_account":
        return t("The link asks for a minimum cell size k of “{value}”: your account uses "
                 "k = {used}.", value=value, used=used)
    if field == "from":
        return t("The link's start date “{value}” is not a date in the data (YYYY-MM-DD, up "
                 "to the last release): the period starts with the first release.",
                 value=value)
    if field == "to":
        return t("The link's end date “{value}” is not a date in the data (YYYY-MM-DD, from "
                 "the first release): the period ends with the last release.", value=value)
    if field == "period":
        start, end = (_shown(part) for part in str(rejection.value).split("/", 1))
        used_start, used_end = (_shown(part) for part in str(rejection.used).split("/", 1))
        return t("The link's period ends before it starts ({start} to {end}): {used_start} "
                 "to {used_end} is used.", start=start, end=end, used_start=used_start,
                 used_end=used_end)
    if field == "year":
        return t("The link's release year “{value}” is not a year from 1900 to 2200, so it "
                 "is left out of the selection.", value=value)
    labels = _filter_labels()
    if field in labels:
        return t("{filter}: “{value}” is not in the data, so it is left out of the "
                 "selection.", filter=labels[field], value=value)
    return _page_markdown(field, value, used)


def _page_markdown(field: str, value: str, used: str) -> str:
    """The link's page, language and page options (what is shown instead is named)."""
    if field == "lang":
        return t("The language “{value}” is not available: {used} is used.", value=value,
                 used=used)
    if field == "page":
        return t("There is no page “{value}”: {used} is shown.", value=value, used=used)
    if field == "tab":
        return t("This page has no tab “{value}”: {used} is shown.", value=value, used=used)
    if field == "program":
        return t("There is no programme “{value}” in the data: {used} is shown.",
                 value=value, used=used)
    if field == "project":
        return t("There is no project “{value}” in the data: {used} is shown.",
                 value=value, used=used)
    if field == "funder":
        return t("There is no funder “{value}” in the data: {used} is shown.",
                 value=value, used=used)
    if field == "by":
        return t("The breakdown “{value}” is not available: {used} is shown.", value=value,
                 used=used)
    if field == "covariates":
        return t("The link's covariate “{value}” is not in the data, so the comparison "
                 "does not adjust for it.", value=value)
    if field in _SCENARIO_FIELDS:
        return _scenario_markdown(field, value, used)
    if field == "method":
        return t("The estimate “{value}” is not available: {used} is shown.", value=value,
                 used=used)
    if field in _SERVICES_FIELDS:
        return _services_markdown(field, value, used)
    return t("The link's value “{value}” for “{field}” is not used.", value=value,
             field=_shown(field))


_SCENARIO_FIELDS = ("participants", "years", "cost_per_day", "custody_days")
_SERVICES_FIELDS = ("service_region", "service_type", "as_of")


def _services_markdown(field: str, value: str, used: str) -> str:
    """The Services and coverage page's filters (a region outside the user's regions
    reads as one that does not exist: asking tells nothing)."""
    if field == "service_region":
        return t("The region “{value}” is not among the regions shown: {used} is shown.",
                 value=value, used=used)
    if field == "service_type":
        return t("The service type “{value}” is not in the vocabulary: every service type "
                 "is shown.", value=value)
    return t("The link's as-of date “{value}” is not a day of the data (YYYY-MM-DD): the "
             "data's last day, {used}, is used.", value=value, used=used)


def _scenario_markdown(field: str, value: str, used: str) -> str:
    """The Planning page's scale-up inputs: what the link asks, what is expected, and
    what is used instead (the default, or an empty input and what that means)."""
    if field == "participants":
        return t("The link asks for “{value}” more participants per year, not a whole "
                 "number from 1 to {highest}: {used} is used.", value=value,
                 highest=MAX_PARTICIPANTS, used=used)
    if field == "years":
        return t("The link asks for a scenario over “{value}” years, not a whole number "
                 "from 1 to {highest}: {used} is used.", value=value, highest=MAX_YEARS,
                 used=used)
    if field == "cost_per_day":
        return t("The link's custody cost per day “{value}” is not an amount from 0 to "
                 "{highest}: the cost is left empty, so no money figures are shown.",
                 value=value, highest=int(MAX_CUSTODY_COST))
    return t("The link's mean days in custody after a return “{value}” is not a number "
             "from 1 to {highest}: it is left empty, so the time observed in the records is "
             "used.", value=value, highest=int(MAX_CUSTODY_DAYS))


def notice_markdown(rejections: Sequence[Rejection]) -> str:
    """The one notice for ``rejections``: a sentence, or a list of them under a heading."""
    sentences = [rejection_markdown(r) for r in rejections]
    if len(sentences) == 1:
        return sentences[0]
    return "\n".join([t("Some values in the link could not be used:"),
                      *(f"- {sentence}" for sentence in sentences)])


def open_area() -> None:
    """Reserve the notice's place: call once per run, before the main area shows anything."""
    st.session_state[_STATE] = (st.empty(), [])


def report(rejections: Iterable[Rejection]) -> None:
    """Add ``rejections`` to this run's notice and redraw it (nothing when none)."""
    area = st.session_state.get(_STATE)
    new = list(rejections)
    if area is None or not new:
        return
    placeholder, shown = area
    shown.extend(new)
    placeholder.info(notice_markdown(shown), icon=":material/link:")


def unknown_page(pages: Sequence[st.Page], shown: st.Page) -> Rejection | None:
    """The page the address asked for, when no page has that address (``shown`` instead).

    Streamlit opens the default page for an unknown address; its script-run context still
    holds the name asked for (a page chosen in the menu arrives by its hash instead).
    """
    ctx = get_script_run_ctx()
    if ctx is None:
        return None
    manager = ctx.pages_manager
    asked = manager.intended_page_name
    if manager.intended_page_script_hash or not asked:
        return None
    if asked in {page.url_path for page in pages}:
        return None
    return Rejection("page", asked, shown.title)


def _no_dialog(ctx) -> None:
    """Instead of Streamlit's "Page not found" dialog (always English): see below."""


def replace_page_not_found_dialog() -> None:
    """Let this module's notice, in the reader's language, say that a page is unknown.

    Streamlit answers an unknown address with an English dialog over the default page.
    The one function that sends it is replaced (Streamlit's version is pinned in
    ``requirements.lock``; ``tests/browser/test_rtl.py`` fails if the dialog comes back).
    """
    from streamlit.commands import navigation

    if hasattr(navigation, "send_page_not_found"):
        navigation.send_page_not_found = _no_dialog


def _reach_labels() -> dict[str, str]:
    return {**_filter_labels(), "program": t("Programme"), "project": t("Project"),
            "funder": t("Funder"), "page": t("Page")}


def refuse_out_of_reach(rejections: Sequence[Rejection]) -> None:
    """For a user with a limited scope: the link asks for a place, programme or page
    outside it. One message naming what was asked (the same whether it exists or not,
    so that asking tells nothing), no number, and the run stops."""
    labels = _reach_labels()
    items = [f"{labels.get(r.field, _shown(r.field))}: “{_shown(r.value)}”" for r in rejections]
    st.error("\n".join([t("This link asks for something your account does not cover, so "
                          "nothing is shown for it. Choose from what the sidebar and the "
                          "page offer."), *(f"- {item}" for item in items)]),
             icon=":material/lock:")
    st.stop()
