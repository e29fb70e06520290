"""Pages with tabs draw only the open one, and the link names it (``?tab=<code>``)."""

from __future__ import annotations

from streamlit.testing.v1 import AppTest


def _tabbed_page() -> None:
    import streamlit as st

    from dashboard import notices
    from dashboard.widgets import _tab_in_link, show_tabs

    notices.open_area()
    show_tabs("demo-tab", [("first", "First", lambda: st.write("first drawn")),
                           ("second", "Second", lambda: st.write("second drawn"))])
    if st.session_state.get("clicked"):  # what a click on a tab calls (AppTest cannot click)
        _tab_in_link("demo-tab", {"First": "first", "Second": "second"})


def _drawn(at: AppTest) -> list[str]:
    return [m.value for m in at.markdown if m.value.endswith("drawn")]


def test_only_the_open_tab_is_drawn_and_a_click_puts_it_in_the_link():
    at = AppTest.from_function(_tabbed_page, default_timeout=30).run()
    assert _drawn(at) == ["first drawn"] and "tab" not in at.query_params
    at.session_state["demo-tab"] = "Second"
    at.session_state["clicked"] = True
    at.run()
    assert _drawn(at) == ["second drawn"]
    assert at.query_params["tab"] in ("second", ["second"])
    at.session_state["demo-tab"] = "First"
    at.run()
    assert _drawn(at) == ["first drawn"] and "tab" not in at.query_params  # the default


def test_a_link_opens_its_tab_and_an_unknown_one_is_named():
    at = AppTest.from_function(_tabbed_page, default_timeout=30)
    at.query_params["tab"] = "second"
    assert _drawn(at.run()) == ["second drawn"]
    at = AppTest.from_function(_tabbed_page, default_timeout=30)
    at.query_params["tab"] = "<b>third</b>"
    at.run()
    assert _drawn(at) == ["first drawn"] and "tab" not in at.query_params
    (notice,) = [i.value for i in at.info]
    assert notice == "This page has no tab “\\<b\\>third\\</b\\>”: First is shown."
