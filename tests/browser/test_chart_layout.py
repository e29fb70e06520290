"""Charts drawn in a real browser: no legend over a title, nothing cut off (issue 14).

Each figure is rendered offline by plotly.js in Debian's Chromium, at the width of the
dashboard's full column and of its half columns (the Impact page's balance and overlap
charts), and the boxes plotly drew are compared: the title's with the legend's and the
plot's, and every text's with the figure's edges.
"""

from __future__ import annotations

import pandas as pd

from analysis.charts import balance_plot, overlap_plot
from analysis.views.curves import curves_figure, recidivism_curves
from analysis.views.filters import ViewFilters
from tests.browser.test_report_offline import browser  # noqa: F401  (the fixture)

BOXES = """() => {
  const box = e => { const r = e.getBoundingClientRect();
                     return [r.left, r.top, r.right, r.bottom]; };
  const one = s => { const e = document.querySelector(s); return e ? box(e) : null; };
  const texts = [...document.querySelectorAll(
      '.xtick text, .ytick text, .g-xtitle, .g-ytitle, .g-gtitle, .legend, .annotation')]
    .filter(e => e.getBoundingClientRect().width > 0)
    .map(e => [e.textContent.slice(0, 50), box(e)]);
  return {svg: one('.main-svg'), title: one('.g-gtitle'), legend: one('.legend'),
          plot: one('.cartesianlayer .bg, .nsewdrag'), texts};
}"""


def _meet(a, b) -> bool:
    return bool(a and b) and a[0] < b[2] and b[0] < a[2] and a[1] < b[3] and b[1] < a[3]


def _inside(a, outer) -> bool:
    return (a[0] >= outer[0] - 1 and a[1] >= outer[1] - 1 and a[2] <= outer[2] + 1
            and a[3] <= outer[3] + 1)


def _figures(con) -> dict:
    facilities = recidivism_curves(con, ViewFilters(), breakdown="facility")
    names = ["age at release", "facility: Hillcrest High-Security Prison",
             "offense category: violent_extremism", "release year: 2025", "sex: F"]
    balance = pd.DataFrame({"covariate": names, "smd_before": [.3, -.2, .15, .4, .05],
                            "smd_after": [.02, .01, -.03, .05, .01]})
    overlap = pd.DataFrame({"score_from": [i / 20 for i in range(20)] + [0, .8],
                            "score_to": [(i + 1) / 20 for i in range(20)] + [.4, 1],
                            "participants": [0] * 8 + [19, 23, 35, 21, 42] + [0] * 7 + [0, 5],
                            "others": [0] * 8 + [24, 30, 27, 20, 20] + [0] * 7 + [430, 0],
                            "common_support": [True] * 20 + [False] * 2})
    return {
        ("curves, 7 groups, risk table", 1100): curves_figure(facilities, "fr"),
        ("curves, small multiples", 1100): curves_figure(facilities, layout="facets"),
        ("curves, small multiples, narrow", 700): curves_figure(facilities, "ru",
                                                                layout="facets"),
        ("curves, highlighted", 700): curves_figure(facilities, "ar", layout="highlight"),
        ("balance, Russian, half width", 560): balance_plot(balance, language="ru"),
        ("balance, Serbian, half width", 560): balance_plot(balance, language="sr"),
        ("overlap, French, half width", 560): overlap_plot(overlap, language="fr"),
    }


def test_no_legend_covers_a_title_and_nothing_is_cut_off(browser, demo_con):  # noqa: F811
    page = browser.new_context(offline=True, viewport={"width": 1200,
                                                       "height": 900}).new_page()
    problems = []
    for (name, width), fig in _figures(demo_con).items():
        page.set_content(fig.to_html(include_plotlyjs=True, full_html=True,
                                     default_width=width))
        page.wait_for_selector(".main-svg")
        page.wait_for_timeout(200)
        boxes = page.evaluate(BOXES)
        if _meet(boxes["title"], boxes["legend"]):
            problems.append(f"{name}: the legend covers the title")
        if _meet(boxes["title"], boxes["plot"]):
            problems.append(f"{name}: the title runs into the plot")
        if _meet(boxes["legend"], boxes["plot"]):
            problems.append(f"{name}: the legend covers the plot")
        problems += [f"{name}: {text!r} is cut off at the figure's edge ({box})"
                     for text, box in boxes["texts"] if not _inside(box, boxes["svg"])]
    page.context.close()
    assert problems == []


def test_a_long_axis_title_wraps_to_fit(browser):  # noqa: F811
    balance = pd.DataFrame({"covariate": ["facility: Hillcrest High-Security Prison"],
                            "smd_before": [.3], "smd_after": [.01]})
    page = browser.new_context(offline=True).new_page()
    page.set_content(balance_plot(balance, language="ru").to_html(
        include_plotlyjs=True, full_html=True, default_width=560))
    page.wait_for_selector(".main-svg")
    lines = page.locator(".g-xtitle tspan.line").count()
    assert lines == 2
    page.context.close()
