"""What a reader finds in a PDF: its text by page (poppler's pdftotext) and its facts (pdfinfo).

Text extracted from a PDF is not the text typed: line breaks and spaces move, bidi
control characters are added around right-to-left runs, Arabic letters come as
presentation forms, and the lam–alef ligatures (لا, لإ, لى...) come out with their two
letters swapped. :func:`squeezed` brings both sides to one form, so a test compares
what it means to print with what the PDF holds.
"""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import unicodedata
from pathlib import Path

import pytest

#: Bidi embeddings, overrides, isolates and marks, which extraction adds or keeps.
_BIDI = re.compile("[\u200e\u200f\u202a-\u202e\u2066-\u2069\u061c]")
#: Lam followed by an alef form or alef maqsura: drawn as one ligature, extracted swapped.
_LAM_ALEF = re.compile("\u0644([\u0627\u0623\u0625\u0622\u0649])")


def _poppler(tool: str) -> str:
    path = shutil.which(tool)
    if path is None:
        pytest.fail(f"no {tool}: install Debian's 'poppler-utils' (tests/system-packages.sh)")
    return path


def _run(tool: str, pdf: bytes, *args: str) -> str:
    with tempfile.TemporaryDirectory() as folder:
        path = Path(folder) / "report.pdf"
        path.write_bytes(pdf)
        done = subprocess.run([_poppler(tool), *args, str(path), *(["-"] if tool ==
                               "pdftotext" else [])], capture_output=True, text=True,
                              check=True, timeout=60)
    return done.stdout


def pdf_text(pdf: bytes, page: int | None = None) -> str:
    """The text of the whole PDF, or of one page (numbered from 1)."""
    pages = ("-f", str(page), "-l", str(page)) if page is not None else ()
    return _run("pdftotext", pdf, *pages)


def pdf_info(pdf: bytes) -> dict[str, str]:
    """pdfinfo's fields: ``Pages``, ``Page size``, ``File size``..."""
    lines = _run("pdfinfo", pdf).splitlines()
    return {key.strip(): value.strip() for key, _, value in
            (line.partition(":") for line in lines) if value}


def pdf_fonts(pdf: bytes) -> list[str]:
    """pdffonts' rows (name, type, encoding, embedded...), header left out."""
    return _run("pdffonts", pdf).splitlines()[2:]


def squeezed(text: str) -> str:
    """``text`` as extraction gives it back, with no whitespace, no bidi controls and no
    middle dots (the separator of the page header, which extraction moves about between
    a right-to-left and a left-to-right run)."""
    text = unicodedata.normalize("NFKC", text)
    text = _BIDI.sub("", text)
    return re.sub(r"[\s·]+", "", text)


def printed(text: str) -> str:
    """What extraction gives back of a ``text`` that was printed: :func:`squeezed`, with
    the lam–alef ligatures' letters swapped as extraction swaps them."""
    return _LAM_ALEF.sub(lambda m: m.group(1) + "\u0644", squeezed(text))
