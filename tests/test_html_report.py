"""HTML reports are self-contained: no request leaves the file."""

import re

import pandas as pd

from analysis.charts import step_curves
from analysis.html_report import Section, render_html

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
