"""The dashboard's translations: complete catalogs, and every page in French, Arabic, Russian."""

from __future__ import annotations

import ast
import json
import string
from pathlib import Path

import pytest
from streamlit.testing.v1 import AppTest

from dashboard.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALES, catalog, t
from tests.dashboard.conftest import APP

DASHBOARD = Path(__file__).resolve().parents[2] / "dashboard"
TRANSLATED = sorted(set(LANGUAGES) - {DEFAULT_LANGUAGE})
PAGES = ("overview", "recidivism", "programs", "impact", "subgroups", "data")


def texts_passed_to_t() -> dict[str, str]:
    """Every literal first argument of ``t(...)`` in dashboard/ -> where it was first seen."""
    found: dict[str, str] = {}
    for path in sorted(DASHBOARD.rglob("*.py")):
        tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
        for node in ast.walk(tree):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id == "t"):
                first = node.args[0] if node.args else None
                assert isinstance(first, ast.Constant) and isinstance(first.value, str), (
                    f"{path.name}:{node.lineno}: t() needs a literal string, or the "
                    "completeness check cannot see the text")
                found.setdefault(first.value, f"{path.name}:{node.lineno}")
    return found


def placeholders(text: str) -> list[str]:
    """The ``{...}`` fields of a format string, with their format specs, sorted."""
    return sorted(f"{name}!{conversion}:{spec}"
                  for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None)


def test_the_extraction_sees_the_interface():
    texts = texts_passed_to_t()
    assert len(texts) > 100
    assert {"Overview", "Release period", "Small sample: {what} rest on fewer than {n} "
            "releases, so they can change a lot with a few more people. Read them as "
            "indicative only."} <= set(texts)


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_translates_every_text_and_nothing_else(language):
    texts = texts_passed_to_t()
    entries = json.loads((LOCALES / f"{language}.json").read_text(encoding="utf-8"))
    missing = sorted(text for text in texts
                     if not isinstance(entries.get(text), str) or not entries[text].strip())
    assert not missing, f"{language}: no translation for {missing}"
    stale = sorted(set(entries) - set(texts))
    assert not stale, f"{language}: not used by the dashboard any more: {stale}"
    wrong = {text: entries[text] for text in texts
             if placeholders(entries[text]) != placeholders(text)}
    assert not wrong, f"{language}: placeholders differ from the English: {wrong}"


def test_lookup_formats_after_translating_and_falls_back_to_english(monkeypatch):
    monkeypatch.setattr("dashboard.i18n.current_language", lambda: "fr")
    assert t("Overview") == catalog("fr")["Overview"] != "Overview"
    assert t("Curves stop where fewer than {k} people remain at risk.", k=7) == (
        catalog("fr")["Curves stop where fewer than {k} people remain at risk."]
        .format(k=7))
    assert t("A text nobody translated {x}", x=1) == "A text nobody translated 1"
    monkeypatch.setattr("dashboard.i18n.current_language", lambda: "en")
    assert t("Counts below {k} are hidden.", k=10) == "Counts below 10 are hidden."


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
              "subgroups": "Subgroups and places", "data": "Data"}
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
