"""HTML reports are self-contained: no request leaves the file, no name becomes markup."""

import re

import pandas as pd

from analysis.charts import step_curves
from analysis.html_report import Section, render_html
from tests.dashboard.hostile import (  # noqa: F401  (hostile_db: fixture)
    FACILITIES,
    hostile_db,
    program_name,
)
from tests.html_document import HtmlDocument

EXTERNAL = re.compile(r"""<(script|link|img|iframe)[^>]+(src|href)\s*=\s*["']?(https?:)?//""", re.I)


def _page():
    curves = pd.DataFrame(
        {
            "group": ["a", "a", "b", "b"],
            "time": [0, 100, 0, 100],
            "recidivism": [0, 0.2, 0, 0.3],
            "lower": [0, 0.15, 0, 0.25],
            "upper": [0, 0.25, 0, 0.35],
        }
    )
    table = pd.DataFrame({"group": ["<script>x</script>"], "rate": [0.123456]})
    return render_html(
        "Impact of <Metalwork>",
        [
            Section(
                "Results",
                headline="For every 100 participants…",
                tables=(("Rates", table),),
                figures=(step_curves(curves, value="recidivism"),),
            )
        ],
        subtitle="Synthetic data",
    )


def test_report_loads_nothing_from_the_network():
    page = _page()
    assert not EXTERNAL.search(page)
    assert "cdn.plot.ly" not in page.split("<script")[0]
    assert page.count('<script type="text/javascript">') == 1  # plotly.js inlined once


def test_report_escapes_user_text_and_keeps_tables():
    page = _page()
    assert "Impact of &lt;Metalwork&gt;" in page
    assert "&lt;script&gt;x&lt;/script&gt;" in page
    assert "<caption>Rates</caption>" in page
    assert "@media print" in page


#: Every tag the report itself writes; a name from the data must add none.
REPORT_TAGS = {"html", "head", "meta", "title", "style", "script", "body", "h1", "h2", "p",
               "table", "caption", "thead", "tbody", "tr", "th", "td", "div", "footer"}


def test_impact_report_of_a_study_with_markup_in_its_names(hostile_db):  # noqa: F811
    from analysis.impact.evaluation import ImpactEvaluation
    from analysis.impact.report import build_report_html
    from analysis.store import connect_readonly
    from analysis.survival.episodes import Outcome

    con = connect_readonly(hostile_db)
    try:
        result = ImpactEvaluation(program="VOC-METAL", outcome=Outcome.named("rearrest")).fit(con)
    finally:
        con.close()
    page = build_report_html(result)
    document = HtmlDocument()
    document.feed(page)
    assert document.tags <= REPORT_TAGS, document.tags - REPORT_TAGS
    text = "".join(document.text)
    assert program_name("VOC-METAL", "Vocational training: metalwork") in text
    eastfield = FACILITIES["Eastfield Prison"]
    assert f"facility: {eastfield}" in text  # the balance table, as characters
    # The charts' data: plotly would read the name's markup unless it is escaped.
    assert "facility: &lt;img src=" in page
    assert "\\u003cimg" not in page
