"""Print a self-contained HTML report to an A4 PDF, offline, with Debian's Chromium.

Why Chromium (through Playwright) rather than WeasyPrint: the reports draw their charts
with plotly.js, which needs a browser; Chromium prints them as vector graphics, shapes
Arabic and Cyrillic with the system fonts (Debian's ``fonts-noto-core`` and
``fonts-dejavu-core``) and embeds only the glyphs used, so the file stays small. It is
the browser the test suite already drives; nothing is downloaded (the browser is the
system's, the page is loaded from memory with the network switched off).

Every page carries a header (the report's title, the selection and the date of the
data) and a footer ("page 2 of 5"). The page is laid out at the printable width of A4
and its charts are drawn static (no toolbar, no hover), then printed. The browser reads
the page from a temporary file of the user's own, with the network off: the report
asks for nothing else.

Playwright is an optional dependency (``pip install 'desistance[pdf]'``; pinned in
``requirements.lock``): without it, or without Chromium, :func:`print_pdf` raises
:class:`PdfUnavailable` saying what to install.
"""

from __future__ import annotations

import html
import os
import shutil
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

from analysis.errors import DesistError
from analysis.i18n import translator

#: Where Debian's chromium package puts the browser; ``DESIST_CHROMIUM`` overrides it.
DEFAULT_CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = (
    "--no-sandbox",  # the browser only ever opens our own page, with the network off
    "--disable-gpu",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
)
#: A4 is 210 mm wide; the page is laid out at the width left inside the margins
#: (180 mm at 96 px per inch), so that charts drawn on screen fit the printed page.
MARGIN_MM = {"top": 20, "bottom": 16, "left": 15, "right": 15}
PRINT_WIDTH_PX = round((210 - MARGIN_MM["left"] - MARGIN_MM["right"]) / 25.4 * 96)
#: Header and footer font: Chromium draws them apart from the page, with its own styles.
_MARGIN_STYLE = ("font-family: 'DejaVu Sans', 'Noto Sans', 'Noto Sans Arabic', sans-serif; "
                 "font-size: 7.5pt; color: #555; width: 100%; margin: 0 15mm;")
#: True once every chart of the page is drawn (plotly adds its SVG to each figure div).
_CHARTS_DRAWN = ("[...document.querySelectorAll('.figure > div')]"
                 ".every(figure => figure.querySelector('.main-svg'))")
_TIMEOUT_MS = 60_000


class PdfUnavailable(DesistError):
    """A PDF cannot be made on this machine: Playwright or Chromium is missing."""


@dataclass(frozen=True)
class PageMargins:
    """What every printed page repeats: the header line and the footer's page numbers."""

    header: str
    language: str = "en"

    def header_html(self) -> str:
        direction = "rtl" if translator(self.language).right_to_left else "ltr"
        return (f'<div dir="{direction}" style="{_MARGIN_STYLE} text-align: center;">'
                f"{html.escape(self.header)}</div>")

    def footer_html(self) -> str:
        """``page {page} of {pages}`` in the language, around Chromium's page counters.

        Examples
        --------
        >>> PageMargins("t", "fr").footer_html().count('class="pageNumber"')
        1
        >>> "page" in PageMargins("t", "fr").footer_html()
        True
        """
        tr = translator(self.language)
        marker_page, marker_pages = "\x00page\x00", "\x00pages\x00"
        words = html.escape(tr("page {page} of {pages}", page=marker_page,
                               pages=marker_pages))
        words = words.replace(marker_page, '<span class="pageNumber"></span>').replace(
            marker_pages, '<span class="totalPages"></span>')
        direction = "rtl" if tr.right_to_left else "ltr"
        return (f'<div dir="{direction}" style="{_MARGIN_STYLE} text-align: center;">'
                f"{words}</div>")


def chromium_path() -> str:
    """The Chromium to print with: ``$DESIST_CHROMIUM``, else Debian's ``/usr/bin/chromium``.

    Raises :class:`PdfUnavailable` when there is none.
    """
    path = os.environ.get("DESIST_CHROMIUM", DEFAULT_CHROMIUM)
    if not (os.path.isfile(path) and os.access(path, os.X_OK)) and not shutil.which(path):
        raise PdfUnavailable(
            f"PDF reports need Chromium, and there is none at {path}: install Debian's "
            "'chromium' package (sudo apt-get install chromium), or set DESIST_CHROMIUM "
            "to the browser's path")
    return path


def _playwright():
    try:
        from playwright.sync_api import sync_playwright
    except ImportError as exc:
        raise PdfUnavailable(
            "PDF reports need the optional package 'playwright' (it drives the system's "
            "Chromium; no browser is downloaded): pip install 'desistance[pdf]', or "
            "pip install -r requirements.lock") from exc
    return sync_playwright


def pdf_unavailable() -> str | None:
    """Why no PDF can be made here (the message of :class:`PdfUnavailable`), or None.

    For a page that offers a PDF button: it can say so before anyone clicks.
    """
    try:
        chromium_path()
        _playwright()
    except PdfUnavailable as exc:
        return str(exc)
    return None


def _print(document: str, margins: PageMargins, browser_path: str) -> bytes:
    sync_playwright = _playwright()
    with sync_playwright() as playwright:
        browser = playwright.chromium.launch(executable_path=browser_path,
                                             args=list(CHROMIUM_ARGS))
        try:
            context = browser.new_context(offline=True, viewport={
                "width": PRINT_WIDTH_PX, "height": 1000})
            page = context.new_page()
            page.emulate_media(media="print")  # the print styles lay out the charts too
            with tempfile.TemporaryDirectory(prefix="desist-pdf-") as folder:
                # Loaded from a file rather than page.set_content: Chromium then parses
                # the inlined plotly.js (4.6 MB) as a script file, about 4 times faster.
                # The folder is the user's own (mode 0700) and goes once the page is read.
                path = Path(folder) / "report.html"
                path.write_text(document, encoding="utf-8")
                page.goto(path.as_uri(), wait_until="load", timeout=_TIMEOUT_MS)
            page.wait_for_function(_CHARTS_DRAWN, timeout=_TIMEOUT_MS)
            return page.pdf(
                format="A4", print_background=True, display_header_footer=True,
                header_template=margins.header_html(), footer_template=margins.footer_html(),
                margin={side: f"{mm}mm" for side, mm in MARGIN_MM.items()})
        finally:
            browser.close()


def print_pdf(document: str, margins: PageMargins) -> bytes:
    """The PDF of a self-contained HTML ``document`` (A4, header and page numbers).

    Parameters
    ----------
    document : str
        A complete HTML page whose charts' containers are ``.figure`` divs
        (:func:`analysis.html_report.render_html` with ``static=True``).
    margins : PageMargins
        The header every page repeats and the language of "page 1 of 3".

    Returns
    -------
    bytes
        The PDF file.

    Raises
    ------
    PdfUnavailable
        Playwright is not installed or there is no Chromium.

    Examples
    --------
    >>> from analysis.html_report import Section, render_html
    >>> page = render_html("Impact", [Section("Result", paragraphs=("Fine.",))], static=True)
    >>> print_pdf(page, PageMargins("Impact · all releases")).startswith(b"%PDF")
    True
    """
    browser_path = chromium_path()
    _playwright()  # say what is missing before starting a thread
    # Playwright's synchronous API refuses to run in a thread that has an asyncio loop
    # (the dashboard's server may call this from one): a fresh thread never has one.
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="desist-pdf") as pool:
        return pool.submit(_print, document, margins, browser_path).result()
