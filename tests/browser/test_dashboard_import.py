"""Importing through the Data page of a running dashboard, in a real browser.

The dashboard keeps serving while the import swaps a new database file into place, and
the next page shows the new data without a restart.
"""

from __future__ import annotations

import shutil

from tests.browser.grid import table_cells
from tests.browser.tabs import OPEN_PANEL, open_tab, stand_still
from tests.browser.test_dashboard import TABLE, streamlit_server
from tests.browser.test_report_offline import browser  # noqa: F401  (fixture)
from tests.conftest import DEMO_RELEASES

NEW_RELEASES = (
    "release_id,person_id,release_date,facility,follow_up_end\n"
    "UPLOAD-1,upload-person-1,2024-03-01,Upload test facility,2025-06-28\n"
    "UPLOAD-2,upload-person-2,2024-04-01,Upload test facility,2025-06-28\n"
)
BAD_RELEASES = (
    "release_id,person_id,release_date,facility,follow_up_end\n"
    "UPLOAD-3,upload-person-3,2024-13-01,Upload test facility,2025-06-28\n"
)


def _overview_releases(page, base) -> str:
    page.goto(f"{base}/")
    page.wait_for_selector('[data-testid="stMetricValue"]', timeout=60_000)
    return page.locator('[data-testid="stMetricValue"]').first.inner_text()


def _upload(page, name: str, body: str) -> None:
    uploader = page.locator('[data-testid="stFileUploader"]').first
    uploader.locator('input[type="file"]').set_input_files(
        {"name": name, "mimeType": "text/csv", "buffer": body.encode()})


def test_import_from_the_data_page_while_serving(browser, demo_db, tmp_path):  # noqa: F811
    db = tmp_path / "study.duckdb"
    shutil.copy(demo_db, db)
    shutil.copy(demo_db.with_name(demo_db.name + ".key"), db.with_name(db.name + ".key"))
    before = db.read_bytes()
    with streamlit_server(db, tmp_path, DESIST_ALLOW_IMPORT="1") as (base, outside):
        page = browser.new_page(viewport={"width": 1400, "height": 1000})
        assert _overview_releases(page, base) == f"{DEMO_RELEASES:,}"

        page.goto(f"{base}/data")
        page.wait_for_selector(TABLE, state="attached", timeout=120_000)
        stand_still(page)
        # only the open tab is drawn: the Import tab is drawn once its run has finished
        open_tab(page, "Import")

        # a bad file: the problem is named and nothing is written
        _upload(page, "releases.csv", BAD_RELEASES)
        page.get_by_text("problem(s) found").wait_for(timeout=60_000)
        # the problems table (a canvas grid, read from its accessible table) names the field
        page.locator(f"{OPEN_PANEL} {TABLE}").first.wait_for(timeout=60_000)
        stand_still(page)
        assert page.locator(TABLE).count() == 1  # the problems, the Import tab's one table
        problems = table_cells(page, 0)
        assert "release_date" in problems, problems
        assert db.read_bytes() == before

        _upload(page, "releases.csv", NEW_RELEASES)
        page.get_by_text("The files meet the data contract.").wait_for(timeout=60_000)
        page.get_by_role("button", name="Import").click()
        page.locator('[data-testid="stAlertContentSuccess"]').filter(
            has_text="import").first.wait_for(timeout=60_000)

        assert _overview_releases(page, base) == f"{DEMO_RELEASES + 2:,}"
        page.close()
    assert outside.read_text() == ""
