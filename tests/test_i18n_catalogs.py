"""Every text the project renders is translated in every language, once, and nothing else.

The texts are found the way gettext tools find them: Babel's Python extractor reads
every literal passed to ``t``, ``tr``, ``tn``, ``N_`` and ``plural`` in ``analysis/``
and ``dashboard/``. A call with a non-literal text cannot be checked, so it is an
error too (``tr(variable)`` is allowed only for a msgid marked elsewhere with ``N_``).
"""

from __future__ import annotations

import ast
import json
import string
from pathlib import Path

import pytest
from babel.messages.extract import extract_from_dir

from analysis.i18n import DEFAULT_LANGUAGE, LANGUAGES, LOCALES, catalog, plural_categories

ROOT = Path(__file__).resolve().parents[1]
SOURCES = ("analysis", "dashboard")
#: Keyword -> Babel's spec: which arguments are the singular (and plural) msgids.
KEYWORDS = {"t": (1,), "tr": (1,), "N_": (1,), "tn": (1, 2), "plural": (1, 2)}
TRANSLATED = sorted(set(LANGUAGES) - {DEFAULT_LANGUAGE})


def extracted() -> dict[str, tuple[str, ...]]:
    """msgid -> its forms (one for a text, singular and plural for a plural)."""
    found: dict[str, tuple[str, ...]] = {}
    for folder in SOURCES:
        for _file, _line, message, _comments, _context in extract_from_dir(
                ROOT / folder, method_map=[("**.py", "python")], keywords=KEYWORDS,
                comment_tags=(), strip_comment_tags=True):
            forms = message if isinstance(message, tuple) else (message,)
            if forms and all(forms):
                found.setdefault(forms[0], forms)
    return found


def placeholders(text: str) -> list[str]:
    """The ``{...}`` fields of a format string, with their format specs, sorted."""
    return sorted(f"{name}!{conversion}:{spec}"
                  for _, name, spec, conversion in string.Formatter().parse(text)
                  if name is not None)


def non_literal_calls() -> list[str]:
    """``t(x)``/``tr(x)``/``tn(x, ...)`` calls whose text is not a string literal."""
    bad = []
    for folder in SOURCES:
        for path in sorted((ROOT / folder).rglob("*.py")):
            tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
            for node in ast.walk(tree):
                if not isinstance(node, ast.Call):
                    continue
                name = (node.func.id if isinstance(node.func, ast.Name) else
                        node.func.attr if isinstance(node.func, ast.Attribute) else None)
                if name not in ("t", "tn", "N_") or not node.args:
                    continue
                first = node.args[0]
                if not (isinstance(first, ast.Constant) and isinstance(first.value, str)):
                    bad.append(f"{path.relative_to(ROOT)}:{node.lineno}")
    return bad


def test_the_extraction_sees_the_interface_and_the_results():
    texts = extracted()
    assert len(texts) > 100
    assert {"Overview", "Release period", "{n} day"} <= set(texts)
    assert texts["{n} day"] == ("{n} day", "{n} days")


def test_dashboard_texts_are_literals():
    assert not non_literal_calls(), (
        "t()/tn()/N_() need a literal string, or the completeness check cannot see it: "
        + ", ".join(non_literal_calls()))


@pytest.mark.parametrize("language", TRANSLATED)
def test_catalog_translates_every_text_and_nothing_else(language):
    texts = extracted()
    entries = catalog(language)
    missing = sorted(msgid for msgid in texts if not entries.get(msgid))
    assert not missing, f"{language}: no translation for {missing}"
    stale = sorted(set(entries) - set(texts))
    assert not stale, f"{language}: not used any more: {stale}"


@pytest.mark.parametrize("language", TRANSLATED)
def test_translations_keep_the_placeholders_and_the_plural_forms(language):
    categories = plural_categories(language)
    wrong = {}
    for msgid, forms in extracted().items():
        entry = catalog(language).get(msgid)
        if len(forms) == 1:
            if not isinstance(entry, str) or placeholders(entry) != placeholders(msgid):
                wrong[msgid] = entry
            continue
        if not isinstance(entry, dict) or set(entry) != categories:
            wrong[msgid] = f"needs exactly the forms {sorted(categories)}: {entry}"
            continue
        # A form may spell the number out ("شخصان", two people) but adds no other field.
        others = {p for p in placeholders(forms[1]) if not p.startswith("n!")}
        for category, form in entry.items():
            fields = set(placeholders(form))
            if {p for p in fields if not p.startswith("n!")} != others or not (
                    fields <= set(placeholders(forms[1]))):
                wrong[f"{msgid} [{category}]"] = form
    assert not wrong, f"{language}: {wrong}"


def test_catalog_files_are_json_objects_of_texts():
    for path in sorted(LOCALES.glob("*/*.json")):
        assert path.parent.name in TRANSLATED, path
        entries = json.loads(path.read_text(encoding="utf-8"))
        assert isinstance(entries, dict), path
        for msgid, entry in entries.items():
            assert isinstance(entry, str | dict), (path, msgid)
