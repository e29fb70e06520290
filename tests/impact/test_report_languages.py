"""The donor's report of the demo in French, Arabic and Russian holds no English sentence.

What a reader sees is the page's text outside scripts and styles, plus the charts'
titles, axis titles and series names (in the plotly data). It is checked against every
English text the catalogs know (a fragment of three words or more between placeholders
must not appear) and against common English words. Names from the data (programmes,
facilities, offense categories) are taken out first: they are shown as they are. The
same check finds plenty in the English report, so it can fail.
"""

from __future__ import annotations

import json
import re
import string

import pytest

from analysis.disclosure import DisclosurePolicy
from analysis.i18n import Translator, catalog
from analysis.impact.evaluation import ImpactEvaluation
from analysis.impact.report import build_report_html
from analysis.survival.episodes import Outcome
from tests.html_document import HtmlDocument

#: Words of English that French, Arabic and Russian texts never use.
ENGLISH_WORDS = frozenset("""
the and of with within who which were was are is to in for from by than per between
about fewer more people person reoffended reoffending reoffence release
released releases days day year years months month hidden matched weighted rate share
since before after adjustment difference significant estimate estimates outcome cost
step group comparison method result results generated covariate covariates
hazard confidence interval mean standardized measure characteristic
""".split())
#: Data columns whose values a report shows as they are.
DATA_TEXT = (("programs", "program_id"), ("programs", "name"), ("releases", "facility"),
             ("releases", "offense_category"), ("releases", "sex"))


def visible_text(page: str) -> str:
    """The page's text and its charts' words (titles, axes, series), one per line."""
    document = HtmlDocument()
    document.feed(page)
    charts = []
    # the first script is plotly.js itself; the others draw the figures
    for script in re.findall(r"<script[^>]*>(.*?)</script>", page, flags=re.S)[1:]:
        for value in re.findall(r'"(?:text|name)":"((?:[^"\\]|\\.)*)"', script):
            charts.append(json.loads(f'"{value}"'))
    return "\n".join([*document.text, *charts])


def english_fragments() -> set[str]:
    """Every run of three words or more of the catalogs' English texts (msgids)."""
    fragments = set()
    for msgid in catalog("fr"):
        for literal, *_ in string.Formatter().parse(msgid):
            for piece in re.split(r"[.;:()]", literal):
                piece = piece.strip(" ,'")
                if len(piece.split()) >= 3:
                    fragments.add(piece)
    return fragments


def english_left(text: str, data: list[str]) -> list[str]:
    """English fragments and words in ``text`` once the data's own names are removed."""
    for name in sorted(data, key=len, reverse=True):
        text = text.replace(name, " ")
    found = sorted(f for f in english_fragments() if f in text)
    words = re.findall(r"[A-Za-z]+", text)
    found += sorted({w for w in words if w.lower() in ENGLISH_WORDS})
    return found


@pytest.fixture(scope="module")
def demo(demo_db):
    from analysis.store import connect_readonly

    con = connect_readonly(demo_db)
    try:
        result = ImpactEvaluation(program="VOC-METAL", outcome=Outcome.named("rearrest")).fit(con)
        data = sorted({str(value) for table, column in DATA_TEXT for (value,) in con.execute(
            f"SELECT DISTINCT {column} FROM {table} WHERE {column} IS NOT NULL").fetchall()}
            # the names of the dataset's own covariates (the report lists those used)
            | {name for (name,) in con.execute("SELECT name FROM covariates").fetchall()})
    finally:
        con.close()
    return result, data


def test_the_check_finds_english_in_the_english_report(demo):
    result, data = demo
    left = english_left(visible_text(build_report_html(result)), data)
    assert len(left) > 30 and "reoffended" in left and "Who was compared" in " ".join(left)


@pytest.mark.parametrize("language", ["fr", "ar", "ru"])
def test_the_report_has_no_english_sentence(demo, language):
    result, data = demo
    page = build_report_html(result, language=language)
    text = visible_text(page)
    assert not english_left(text, data), english_left(text, data)
    assert f'<html lang="{language}"' in page
    assert ('dir="rtl"' in page.split(">", 2)[1]) == (language == "ar")


@pytest.mark.parametrize("language", ["fr", "ar", "ru", "sr"])
def test_a_report_in_another_language_hides_the_same_counts(demo, language):
    result, _ = demo
    policy = DisclosurePolicy(k=int(result.attrition["comparison"].max()) + 1)
    english = visible_text(build_report_html(result, policy=policy))
    other = visible_text(build_report_html(result, policy=policy, language=language))
    assert english.count(policy.label) == other.count(policy.label) > 0


def test_a_text_left_untranslated_is_found(demo, monkeypatch):
    # A missing translation falls back to its English msgid: the check must see it.
    result, data = demo
    french = Translator("fr")
    french._catalog = {k: v for k, v in catalog("fr").items()
                       if k != "Balance of the comparison"}
    monkeypatch.setattr("analysis.impact.report.translator", lambda language: french)
    left = english_left(visible_text(build_report_html(result, language="fr")), data)
    assert "Balance of the comparison" in left
