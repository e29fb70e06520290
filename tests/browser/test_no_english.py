"""Every page in Arabic and in French shows no English: no sentence, header or chart title.

A real browser (Debian's chromium through Playwright) opens every page of the dashboard
on the demo database with ``?lang=ar`` and ``?lang=fr``, opens every tab (a page draws
only its open tab: each is read once the run it starts has finished), and reads what a
person sees:

- the page's text (``innerText``: titles, captions, metrics, notices, buttons);
- every table, every header and cell of it (``tests.browser.grid``);
- every chart's SVG text (titles, axis titles, ticks, legends).

It fails on any English text of the catalogs (``analysis/i18n/locales``) that has a
translation (a whole line or cell, or a phrase of three words or more inside one), on
any code of the views' tables (a column code such as ``rate_lower``, a cell code such as
``in_prison`` or ``hidden``), on any ``snake_case`` field name and on any design term
such as ``sex[F]``. Only data values are allowed as they are: the names and categories
the database holds (facilities, regions, programmes, offense categories), and, on the
Data page, which describes the database itself, its path and its table and column names.

Not checked, because no catalog holds them: the Methodology tab's section titles, which
are the English documentation (``docs/``) by design, and Streamlit's own hidden texts
(its icons' names, the keyboard-only "Skip to main content" link).
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from pathlib import Path

import duckdb
import pytest

from analysis.contract import TABLES
from analysis.i18n import catalog, translator
from analysis.views.terms import VALUE_WORDS
from analysis.views.words import CELLS, COLUMNS
from tests.browser.grid import table_cells
from tests.browser.tabs import each_view, open_page
from tests.browser.test_dashboard import CHART, TABLE, local_only_context, streamlit_server
from tests.browser.test_report_offline import browser  # noqa: F401  (fixture)

LANGUAGES = ("ar", "fr")
#: (url path, what the finished page shows; a page with tabs opens on its first, and the
#: Subgroups page's is a table)
PAGES = (("", CHART), ("recidivism", CHART), ("programs", CHART), ("impact", CHART),
         ("subgroups", TABLE), ("planning", CHART), ("services", CHART),
         ("data", TABLE))
#: Streamlit's icons are words drawn in an icon font (``download``, ``restart_alt``),
#: and its "Skip to main content" link shows only to keyboard users: neither is text a
#: reader sees, nor ours to translate.
HIDE_NON_TEXT = ("[data-testid='stIconMaterial'], [data-testid='stSkipToContent'] "
                 "{ display: none !important; }")
TEXT = """() => [document.body.innerText,
  ...[...document.querySelectorAll('svg text')].map(t => t.textContent)].join('\\n')"""
#: The browser's size for reading: wide enough for most tables to show all their columns.
WIDE = {"width": 3200, "height": 1000}
#: A field name (``days_free_mean``) or a design term (``sex[F]``).
CODE_LIKE = re.compile(r"\b[a-z][a-z0-9]*(?:_[a-z0-9]+)+\b|\b\w+\[[^\]\n]*\]")
#: Code-like text that is neither English nor a field shown by mistake: the R call the
#: standard-error note cites, as R users type it.
ALLOWED_CODE = ("coxph(cluster = person_id)",)
_FIELD = re.compile(r"\{[^{}]*\}")


def data_values(db: Path) -> set[str]:
    """Text the database supplies: every value of its text columns that are not contract
    codes (those are worded: ``F`` reads "female")."""
    coded = {(t.name, c.name) for t in TABLES.values() for c in t.columns if c.kind == "code"}
    values: set[str] = set()
    with duckdb.connect(str(db), read_only=True) as con:
        columns = con.execute(
            "SELECT table_name, column_name FROM information_schema.columns "
            "WHERE data_type = 'VARCHAR' AND table_name IN ('releases', 'programs')").fetchall()
        for table, column in columns:
            if (table, column) in coded or column.endswith("_id") and column != "program_id":
                continue
            values.update(v for (v,) in con.execute(
                f'SELECT DISTINCT "{column}" FROM "{table}" WHERE "{column}" IS NOT NULL '
                "LIMIT 500").fetchall())
        # the dataset's own covariates are named by the dataset: their names are data
        # too (the Impact page lists those the comparison adjusts for)
        values.update(name for (name,) in con.execute("SELECT name FROM covariates").fetchall())
    return {v for v in values if isinstance(v, str) and v.strip()}


def database_names(db: Path) -> set[str]:
    """The Data page's own subject: the database's table and column names (the contract's,
    and the extra covariates a study brings)."""
    with duckdb.connect(str(db), read_only=True) as con:
        found = con.execute("SELECT table_name, column_name FROM information_schema.columns"
                            ).fetchall()
    return set(TABLES) | {name for pair in found for name in pair}


class EnglishTexts:
    """The English texts of the catalogs that ``language`` translates differently."""

    def __init__(self, language: str) -> None:
        self.language = language
        self.whole: list[re.Pattern[str]] = []
        self.phrases: set[str] = set()
        for msgid, entry in catalog(language).items():
            translations = [entry] if isinstance(entry, str) else list(entry.values())
            if msgid in translations or not re.search(r"[A-Za-z]{2}", _FIELD.sub("", msgid)):
                continue  # the same in both languages ("Impact", "CSV"), or no word
            pieces = [re.escape(p) for p in _FIELD.split(msgid)]
            self.whole.append(re.compile(r".+?".join(pieces), re.S))
            for piece in _FIELD.split(msgid):
                if len(re.findall(r"[A-Za-z]+", piece)) >= 3:
                    self.phrases.add(piece.strip(" .,:;()'"))

    def found_in(self, text: str) -> list[str]:
        """The English texts ``text`` is, or holds as a phrase."""
        found = [p.pattern for p in self.whole if p.fullmatch(text)]
        return found + [p for p in self.phrases if p in text]


def codes_shown(language: str) -> set[str]:
    """Codes of the views' tables that must never be shown as such in ``language``
    (unless the code is also the word: "participants" in French)."""
    tr = translator(language)
    labels = {**COLUMNS, **CELLS, **{code: msgid for words in VALUE_WORDS.values()
                                     for code, msgid in words.items() if len(code) > 1}}
    return {code for code, msgid in labels.items() if tr(msgid) != code}


def english_problems(texts: Iterable[str], english: EnglishTexts, allowed: set[str]
                     ) -> list[str]:
    """Every text (a line, a cell, a chart label) that is English or a code."""
    codes = codes_shown(english.language)
    problems = []
    # longest first: a programme name holding a facility's name is removed whole
    data = sorted(allowed, key=len, reverse=True)
    for raw in texts:
        for line in raw.replace("\u2060", "").splitlines():
            text = line.strip()
            if not text or text in allowed:
                continue
            for value in data:
                if value in text:
                    text = text.replace(value, "\u2063")
            for allowed_code in ALLOWED_CODE:
                text = text.replace(allowed_code, "\u2063")
            problems += [f"{line.strip()!r}: English {e!r}" for e in english.found_in(text)]
            if text in codes:
                problems.append(f"{line.strip()!r}: a code")
            problems += [f"{line.strip()!r}: field name {m!r}" for m in CODE_LIKE.findall(text)]
    return sorted(set(problems))


def texts_in_view(page) -> list[str]:
    """What the page shows now: its text and every table's headers and cells."""
    texts = [page.evaluate(TEXT)]
    for index in range(page.locator('[data-testid="stDataFrame"]').count()):
        texts.extend(table_cells(page, index))
    return texts


def shown_texts(page) -> list[str]:
    """Everything the page shows, in every tab (see the module's docstring).

    Only the open tab is drawn: each tab is opened in turn, and read once its script run
    has finished and its content is drawn (:func:`tests.browser.tabs.each_tab`).
    """
    return [text for _view in each_view(page) for text in texts_in_view(page)]


def open_finished(page, url: str, finished: str) -> None:
    """Open ``url`` and wait until the script run has drawn the page."""
    open_page(page, url, finished, style=HIDE_NON_TEXT)


@pytest.fixture(scope="module")
def served(tmp_path_factory, demo_db):
    with streamlit_server(demo_db, tmp_path_factory.mktemp("no-english")) as (base, _):
        # the Data page names the database file
        yield base, data_values(demo_db) | {str(demo_db)}, database_names(demo_db)


@pytest.mark.parametrize("language", LANGUAGES)
def test_no_english_on_any_page(browser, served, language):  # noqa: F811
    base, values, names = served
    english = EnglishTexts(language)
    context, outside = local_only_context(browser, viewport=WIDE)
    page = context.new_page()
    problems: dict[str, list[str]] = {}
    for path, finished in PAGES:
        open_finished(page, f"{base}/{path}?lang={language}", finished)
        allowed = values | names if path == "data" else values
        found = english_problems(shown_texts(page), english, allowed)
        if found:
            problems[path or "overview"] = found
    context.close()
    assert not outside, outside
    assert not problems, problems


def test_the_check_finds_english_headers_sentences_and_codes():
    french = EnglishTexts("fr")
    shown = ["Rate, lower", "Taux, borne inférieure", "in_prison", "days_free_mean",
             "sexe : F", "sex[F]", "Eastfield Prison", "Facilities are sorted alphabetically",
             "Les effectifs inférieurs à 10 ; counts below 10 are shown as <10",
             "Recovery Outside", "hidden", "participants"]
    found = english_problems(shown, french, {"Eastfield Prison", "Recovery Outside"})
    flagged = {problem.split("': ")[0].strip("'\"") for problem in found}
    assert flagged == {"Rate, lower", "in_prison", "days_free_mean", "sex[F]", "hidden",
                       "Les effectifs inférieurs à 10 ; counts below 10 are shown as <10"}
