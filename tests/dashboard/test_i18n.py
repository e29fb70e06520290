"""The dashboard's language: lookups, plurals, isolation, and every page in French, Arabic, Russian.

The catalogs' completeness is checked for the whole project in tests/test_i18n_catalogs.py.
"""

from __future__ import annotations

import html
import json
import re

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.i18n import catalog, t, tn
from tests.dashboard.conftest import APP
from tests.dashboard.pages import as_read, each_tab

PAGES = ("overview", "recidivism", "programs", "impact", "subgroups", "planning", "services", "data")


def test_lookup_formats_after_translating_and_falls_back_to_english(monkeypatch):
    monkeypatch.setattr("dashboard.i18n.current_language", lambda: "fr")
    assert t("Overview") == catalog("fr")["Overview"] != "Overview"
    assert t("Curves stop where fewer than {k} people remain at risk.", k=7) == (
        catalog("fr")["Curves stop where fewer than {k} people remain at risk."]
        .format(k=7))
    assert t("A text nobody translated {x}", x=1) == "A text nobody translated 1"
    monkeypatch.setattr("dashboard.i18n.current_language", lambda: "en")
    assert t("Counts below {k} are hidden.", k=10) == "Counts below 10 are hidden."


def test_plurals_follow_the_language(monkeypatch):
    monkeypatch.setattr("dashboard.i18n.current_language", lambda: "ru")
    assert [tn("{n} day", "{n} days", n) for n in (1, 3, 5, 21)] == [
        "1 день", "3 дня", "5 дней", "21 день"]
    monkeypatch.setattr("dashboard.i18n.current_language", lambda: "en")
    assert [tn("{n} day", "{n} days", n) for n in (0, 1, 2)] == [
        "0 days", "1 day", "2 days"]


def test_values_inside_arabic_text_are_isolated(monkeypatch):
    monkeypatch.setattr("dashboard.i18n.current_language", lambda: "ar")
    label = "COMM-DRUG (Community drug treatment)"
    shown = t("Impact of {label}", label=label)
    assert shown == catalog("ar")["Impact of {label}"].format(label=f"\u2068{label}\u2069")
    assert t("Overview") == catalog("ar")["Overview"]  # no fields: nothing added


def open_app(demo_db, monkeypatch, language: str | None) -> AppTest:
    monkeypatch.setenv("DESIST_DB", str(demo_db))
    app = AppTest.from_file(str(APP), default_timeout=90)
    if language is not None:
        app.query_params["lang"] = language
    return app.run()


@pytest.mark.parametrize("language", ["fr", "ar", "ru"])
def test_every_page_runs_in_the_language_of_the_link(demo_db, monkeypatch, language):
    app = open_app(demo_db, monkeypatch, language)
    entries = catalog(language)
    titles = {"overview": "Overview", "recidivism": "Recidivism over time",
              "programs": "Programmes", "impact": "Impact",
              "subgroups": "Subgroups and places", "planning": "Planning",
              "services": "Services and coverage", "data": "Data"}
    for page in PAGES:
        if page != "overview":
            app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception, (language, page, [e.value for e in app.exception])
        assert app.title[0].value == entries[titles[page]], (language, page)
    assert app.sidebar.selectbox(key="lang").value == language
    assert app.sidebar.header[0].value == entries["Filters"]
    assert app.query_params["lang"] in (language, [language])
    right_to_left = any("direction: rtl" in m.value for m in app.sidebar.markdown)
    assert right_to_left == (language == "ar")


def test_choosing_a_language_in_the_sidebar_keeps_the_filters(demo_db, monkeypatch):
    app = open_app(demo_db, monkeypatch, None)
    assert app.title[0].value == "Overview"
    app.sidebar.multiselect(key="flt_sexes").set_value(["F"]).run()
    app.sidebar.selectbox(key="lang").set_value("sr").run()
    assert not app.exception
    assert app.title[0].value == catalog("sr")["Overview"]
    assert app.query_params["lang"] in ("sr", ["sr"])
    assert app.query_params["sex"] in ("F", ["F"])
    assert app.sidebar.multiselect(key="flt_sexes").value == ["F"]
    app.sidebar.button[0].click().run()  # Reset filters: the language stays
    assert app.sidebar.multiselect(key="flt_sexes").value == []
    assert app.title[0].value == catalog("sr")["Overview"]
    assert app.query_params["lang"] in ("sr", ["sr"])
    app.sidebar.selectbox(key="lang").set_value("en").run()
    assert app.title[0].value == "Overview"
    assert "lang" not in app.query_params


def test_an_unknown_language_opens_in_english(demo_db, monkeypatch):
    app = open_app(demo_db, monkeypatch, "xx")
    assert not app.exception
    assert app.title[0].value == "Overview"
    assert app.sidebar.header[0].value == "Filters"
    assert app.sidebar.selectbox(key="lang").value == "en"
    assert "lang" not in app.query_params


def _english_words(language: str) -> tuple[set[str], set[str]]:
    """English texts the pages must not show in ``language``: whole texts (headers,
    titles, coded cells) and literal pieces long enough to recognise inside a sentence."""
    whole, pieces = set(), set()
    for msgid, translation in catalog(language).items():
        if not isinstance(translation, str) or translation == msgid:
            continue  # a plural, or the same word in both languages ("Mode", "participants")
        if "{" not in msgid:
            whole.add(msgid)
        pieces |= {piece.strip() for piece in re.split(r"\{[^}]*\}", msgid)
                   if len(piece.strip()) >= 25}
    return whole, pieces


def _figure_texts(chart) -> list[str]:
    spec = json.loads(chart.proto.spec)
    layout = spec.get("layout", {})
    texts = [(layout.get(key) or {}).get("title", {}).get("text")
             for key in ("xaxis", "yaxis")]
    texts.append((layout.get("title") or {}).get("text"))
    texts += [trace.get("name") for trace in spec.get("data", [])]
    return [html.unescape(t) for t in texts if t]


def _english_on_screen(app, page: str, whole: set[str], pieces: set[str], cells: set[str],
                       documentation: set[str]) -> list[tuple[str, str, str]]:
    """What ``app`` shows in English: headers, coded cells, chart titles and sentences."""
    found = []
    for frame in (element.value for element in app.dataframe):
        found += [(page, "header", c) for c in frame.columns if str(c) in whole]
        for column in frame.columns:
            found += [(page, f"cell of {column}", v) for v in frame[column]
                      if isinstance(v, str) and v in cells]
    for chart in app.get("plotly_chart"):
        found += [(page, "chart", text) for text in _figure_texts(chart)
                  if text in whole or text.removesuffix(" (%)") in whole]
    texts = [*(m.value for m in app.markdown if m.value not in documentation),
             *(c.value for c in app.caption), *(i.value for i in app.info),
             *(w.value for w in app.warning), *(s.value for s in app.subheader),
             *(m.label for m in app.metric), *(tab.label for tab in app.tabs)]
    for text in texts:
        found += [(page, "text", piece) for piece in pieces if piece in as_read(text)]
    found += [(page, "tab", tab.label) for tab in app.tabs if tab.label in whole]
    return found


@pytest.mark.parametrize("language", ["fr", "ar", "ru"])
def test_no_page_shows_an_english_header_chart_title_or_note(demo_db, monkeypatch, language):
    from analysis.views.data_quality import method_sections
    from analysis.views.filters import ViewFilters
    from analysis.views.words import CELLS

    whole, pieces = _english_words(language)
    cells = {CELLS[code] for code in CELLS} & whole
    # The methodology is the English documentation, shown as such (its caption says so).
    documentation = {s.markdown for s in method_sections(None, ViewFilters())}
    app = open_app(demo_db, monkeypatch, language)
    found = []
    for page in PAGES:
        if page != "overview":
            app.switch_page(f"app_pages/{page}.py").run()
        assert not app.exception, (language, page, [e.value for e in app.exception])
        charts_on_page = 0
        for shown in each_tab(app, page):  # a page draws only its open tab
            found += _english_on_screen(shown, page, whole, pieces, cells, documentation)
            charts_on_page += len(shown.get("plotly_chart"))
        assert charts_on_page or page == "data", page
    assert not found, (language, found)
