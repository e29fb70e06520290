"""The Impact page's report buttons: HTML and PDF side by side, and for a project or a
funder, each programme on its own (a table row and a forest-plot line each) with the
portfolio report as HTML and PDF."""

from __future__ import annotations

import pytest

from analysis.i18n import translator
from tests.dashboard.pages import frames, open_page


@pytest.fixture(autouse=True)
def _database(demo_db, monkeypatch):
    monkeypatch.setenv("DESIST_DB", str(demo_db))


def _labels(at) -> list[str]:
    return [button.proto.label for button in at.get("download_button")]


def test_a_programme_s_report_downloads_as_html_and_as_pdf():
    at = open_page("impact", {"program": "VOC-METAL", "lang": "fr"})
    tr = translator("fr")
    labels = _labels(at)
    assert tr("Download the offline report (HTML)") in labels
    assert tr("Download the report (PDF)") in labels
    pdf = next(b for b in at.get("download_button")
               if b.proto.label == tr("Download the report (PDF)"))
    assert not pdf.proto.disabled  # Chromium and Playwright are in the test stack


def test_a_project_shows_each_programme_on_its_own_when_asked():
    at = open_page("impact", {"project": "Skills for Work"})
    # computed only when asked: one evaluation per programme
    assert "Download the portfolio report (PDF)" not in _labels(at)
    at = at.toggle(key="impact-portfolio-on").set_value(True).run()
    assert not at.exception, [e.value for e in at.exception]
    table = next(f for f in frames(at) if "Verdict" in f.columns)
    assert list(table["Programme"]) == ["VOC-METAL", "VOC-WOOD"]
    forest = [chart for chart in at.get("plotly_chart")
              if "Hazard ratio of each programme" in chart.proto.spec]
    assert len(forest) == 1
    labels = _labels(at)
    assert {"Download the portfolio report (HTML)",
            "Download the portfolio report (PDF)"} <= set(labels)
