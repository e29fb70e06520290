"""Waiting for a script run in a real browser, and opening a page's tabs.

Pages with tabs draw only the open tab (``dashboard.widgets.show_tabs``): clicking
another tab starts a new script run, and the tab's content is not in the document until
that run has finished and the browser has drawn what it sent. A fixed pause is not
enough on a busy machine, and "no status shows" is true for a moment *before* the run
starts too (the status appears only once a run has taken a while). Nor can the run be
caught in the ``data-test-script-state`` attribute of ``stApp``: a quick run (from the
cache) can start and end between two of React's renders, and ``running`` is then never
written. What does not miss is the end of the run itself: Streamlit keeps every tab's
panel mounted, and only when a run has finished does it remove the elements that run did
not draw again, the previous tab's. So a tab is drawn when its panel holds elements, no
other panel holds any, and no run is going on; then the charts and tables, which draw
after the run, are waited for (:data:`DRAWN`).

After a click on a widget, nothing on the page says whether the run it starts has begun:
:func:`stand_still` waits for the page to show no status and no new element for a moment
(:data:`STILL`) instead.
"""

from __future__ import annotations

from collections.abc import Iterator

from playwright.sync_api import expect

#: True once the page has shown no status and no new element for 0.7 s.
STILL = """() => {
  const count = document.querySelectorAll('[data-testid="stElementContainer"]').length;
  const busy = document.querySelector('[data-testid="stStatusWidget"]') !== null;
  const now = Date.now(), last = window.__still || {count: -1, since: now};
  window.__still = count === last.count && !busy ? last : {count, since: now};
  return !busy && count === last.count && now - last.since > 700;
}"""
#: True once the run has finished and every chart and table shown has drawn itself.
#: Only to be asked once the run's own elements are on the page (a page's heading, a
#: tab's content): before the run starts, "not running" is true too.
DRAWN = """() => {
  const app = document.querySelector('[data-testid="stApp"]');
  if (!app || app.getAttribute('data-test-script-state') !== 'notRunning'
      || document.querySelector('[data-testid="stStatusWidget"]')) return false;
  const shown = selector => [...document.querySelectorAll(selector)]
    .filter(element => element.checkVisibility());
  return shown('[data-testid="stPlotlyChart"]').every(chart => chart.querySelector('.main-svg'))
    && shown('[data-testid="stDataFrame"]').every(
         table => table.querySelector('table[role="grid"]'));
}"""
#: The open tab's panel (Streamlit keeps every panel mounted and marks the others).
OPEN_PANEL = '[data-testid="stTabPanel"]:not([data-st-inactive])'
#: The open panel's text, once the run that drew it has finished: the panel holds an
#: element, the other panels (the previous tab's, removed at the end of the run) none,
#: and no run is going on.
OPEN_PANEL_CONTENT = f"""() => {{
  const element = '[data-testid="stElementContainer"]';
  const panel = document.querySelector('{OPEN_PANEL}');
  const app = document.querySelector('[data-testid="stApp"]');
  const others = document.querySelectorAll(
    '[data-testid="stTabPanel"][data-st-inactive] ' + element);
  if (!panel || !panel.querySelector(element) || others.length
      || app.getAttribute('data-test-script-state') !== 'notRunning') return null;
  return panel.innerText;
}}"""


def stand_still(page) -> None:
    """Wait until nothing has been added to the page, and no status shown, for a moment
    (measured afresh: a stillness seen before a click says nothing about after it)."""
    page.evaluate("() => { window.__still = undefined; }")
    page.wait_for_function(STILL, timeout=120_000, polling=250)
    assert page.locator('[data-testid="stException"]').count() == 0, page.url


def wait_drawn(page) -> None:
    """Wait until the run whose elements are on the page has finished, and its charts and
    tables have drawn (:data:`DRAWN`)."""
    page.wait_for_function(DRAWN, timeout=120_000, polling=50)
    assert page.locator('[data-testid="stException"]').count() == 0, page.url


def open_page(page, url: str, finished: str, *, style: str | None = None) -> None:
    """Open ``url`` and wait until its run has drawn the page (``finished``: a selector
    of what the page shows once its run is over, such as a chart), with ``style`` (CSS)
    added to the document."""
    page.goto(url)
    if style:
        page.add_style_tag(content=style)
    page.wait_for_selector('[data-testid="stHeading"] h1', timeout=60_000)
    page.wait_for_selector(finished, state="attached", timeout=120_000)
    wait_drawn(page)


def tab_labels(page) -> list[str]:
    """The labels of the page's tabs, as shown."""
    return [label.strip() for label in page.get_by_role("tab").all_inner_texts()]


def open_tab(page, label: str) -> str:
    """Open the tab shown as ``label``, wait until its script run has finished and its
    content is drawn, and return the text of that content.

    A tab already open is not clicked (clicking it starts no run); its content is read
    all the same. Fails when the tab's panel stays empty: a tab that shows nothing once
    its run has ended is something to look at, not to read past.
    """
    tab = page.get_by_role("tab", name=label, exact=True)
    if tab.get_attribute("aria-selected") != "true":
        tab.click()
    # the tab shows as open (and so its panel is the open one) before its content is read
    expect(tab).to_have_attribute("aria-selected", "true", timeout=120_000)
    page.wait_for_function(OPEN_PANEL_CONTENT, timeout=120_000, polling=50)
    wait_drawn(page)
    return page.evaluate(OPEN_PANEL_CONTENT)


def each_tab(page) -> Iterator[tuple[str, str]]:
    """``(label, text of its content)`` for each of the page's tabs, opened in turn
    (nothing for a page without tabs). Two tabs showing the same text would mean the
    second was read before its run replaced the first: that fails."""
    seen: dict[str, str] = {}
    for label in tab_labels(page):
        text = open_tab(page, label)
        same = [other for other, shown in seen.items() if shown == text]
        assert not same, f"tab {label!r} shows what {same} showed"
        seen[label] = text
        yield label, text


def each_view(page) -> Iterator[str | None]:
    """Each tab's label as it is opened (:func:`each_tab`), or ``None`` once for a page
    without tabs: "everything the page shows" is then read once per view."""
    if not tab_labels(page):
        yield None
        return
    for label, _content in each_tab(page):
        yield label
