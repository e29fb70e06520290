"""A real browser opens the impact report with no network, renders its charts and prints it.

Uses Debian's chromium (installed by .ci/run) through Playwright; no browser is downloaded.
"""

from __future__ import annotations

import os
import shutil

import pytest

from analysis.impact.evaluation import ImpactEvaluation
from analysis.impact.report import build_report_html
from analysis.survival.episodes import Outcome

CHROMIUM = os.environ.get("DESIST_CHROMIUM", "/usr/bin/chromium")
CHROMIUM_ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    # no name but this machine's resolves: a page can try another host, never reach it
    "--host-resolver-rules=MAP * ~NOTFOUND, EXCLUDE localhost, EXCLUDE 127.0.0.1",
]


@pytest.fixture(scope="module")
def browser():
    if not shutil.which(CHROMIUM) and not os.path.exists(CHROMIUM):
        pytest.fail(
            f"no chromium at {CHROMIUM}: install Debian's 'chromium' package (.ci/run does)"
        )
    from playwright.sync_api import sync_playwright

    with sync_playwright() as playwright:
        instance = playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        yield instance
        instance.close()


def test_report_renders_offline_and_prints(browser, demo_con, tmp_path):
    result = ImpactEvaluation(program="VOC-METAL", outcome=Outcome.named("rearrest")).fit(demo_con)
    path = tmp_path / "report.html"
    path.write_text(build_report_html(result), encoding="utf-8")
    context = browser.new_context(offline=True)
    requests: list[str] = []
    context.on("request", lambda request: requests.append(request.url))
    page = context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(path.as_uri())
    page.wait_for_selector(".plotly .main-svg", timeout=30_000)
    assert page.locator(".js-plotly-plot").count() == 3  # curves, balance, overlap
    assert "For every 100 participants" in page.inner_text(".headline")
    assert not errors
    assert all(url.startswith(("file:", "data:", "blob:", "about:")) for url in requests), requests
    artifacts = os.environ.get("DESIST_ARTIFACTS")
    if artifacts:
        os.makedirs(artifacts, exist_ok=True)
        page.screenshot(path=os.path.join(artifacts, "impact-report.png"), full_page=True)
    pdf = page.pdf(format="A4", print_background=True)
    assert pdf.startswith(b"%PDF") and len(pdf) > 20_000
    context.close()
