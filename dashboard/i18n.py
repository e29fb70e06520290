"""The dashboard's interface language: English, French, Arabic, Russian or Serbian.

The English text is the key, as a gettext ``msgid``: a page writes
``t("Release period")`` and gets the translation for the current language, or the
English text when the catalog has none. Catalogs are ``dashboard/locales/<lang>.json``
(UTF-8, ``{english: translation}``); ``tests/dashboard/test_i18n.py`` checks that every
text passed to :func:`t` is translated in every catalog, with the same placeholders.

This module translates the interface. Sentences that :mod:`analysis` generates from
the numbers (the outcome sentence, the impact headline and the rules' reasons) are
written in the chosen language by :mod:`analysis.impact.wording_locales`: pages pass
:func:`current_language` to those views. Notes, table column names, chart titles and
the HTML report stay in English.
"""

from __future__ import annotations

import functools
import json
from pathlib import Path

import streamlit as st

#: Language code -> its name in that language (what the selector shows).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "ar": "العربية",
    "ru": "Русский",
    "sr": "Srpski",  # Latin script
}
DEFAULT_LANGUAGE = "en"
#: URL query parameter and session-state key holding the language code.
LANGUAGE_KEY = "lang"
#: Languages written right to left.
RIGHT_TO_LEFT = frozenset({"ar"})
LOCALES = Path(__file__).resolve().parent / "locales"

# Right-to-left text for the main area and the sidebar (Streamlit aligns each element's
# container left, hence the second selector). Charts, tables and inputs stay left to right
# so that axes, numbers and dates read as usual; a metric's value takes the direction of
# its first letter ("49.5 شهر" reads right to left, "31.9%" left to right), and so does
# each paragraph (the English text from analysis/ keeps its punctuation in place).
_RTL_CSS = """<style>
[data-testid="stMain"], [data-testid="stSidebar"],
[data-testid="stMain"] [data-testid="stElementContainer"],
[data-testid="stSidebar"] [data-testid="stElementContainer"]
  { direction: rtl; text-align: right; }
[data-testid="stPlotlyChart"], [data-testid="stDataFrame"], [data-testid="stTable"],
[data-testid="stCode"], [data-testid="stDateInputField"], input, textarea { direction: ltr; }
[data-testid="stMetricValue"], [data-testid="stMarkdownContainer"] :is(p, li, h1, h2, h3)
  { unicode-bidi: plaintext; }
</style>"""
# Unicode "first strong isolate" and "pop directional isolate": a value placed in
# right-to-left text (an English programme name, a number, a path) keeps its own order.
_ISOLATE = "\u2068{}\u2069"


@functools.cache
def catalog(language: str) -> dict[str, str]:
    """The translations of ``language`` (``{}`` for English), read once per process."""
    if language == DEFAULT_LANGUAGE:
        return {}
    path = LOCALES / f"{language}.json"
    return json.loads(path.read_text(encoding="utf-8"))


def _valid(language) -> str | None:
    return language if isinstance(language, str) and language in LANGUAGES else None


def current_language() -> str:
    """The language code of this session: the URL's ``lang``, else the session's, else English.

    An unknown code counts as absent, so ``?lang=xx`` opens the dashboard in English.
    """
    return (_valid(st.query_params.get(LANGUAGE_KEY))
            or _valid(st.session_state.get(LANGUAGE_KEY))
            or DEFAULT_LANGUAGE)


def t(text: str, **fields) -> str:
    """``text`` in the current language, then ``str.format(**fields)``.

    Formatting after the lookup keeps placeholders such as ``{k}`` in the key, so a
    translation may move them where its grammar needs them. A missing or empty
    translation falls back to the English text. In a right-to-left language every field
    is wrapped in Unicode directional isolates, so that an English name in parentheses
    or a file path is not reordered by the Arabic around it.

    Examples
    --------
    >>> t("Counts below {k} are hidden.", k=10)  # English outside a session
    'Counts below 10 are hidden.'
    """
    language = current_language()
    translated = catalog(language).get(text) or text
    if not fields:
        return translated
    if language in RIGHT_TO_LEFT:
        fields = {name: _ISOLATE.format(value) for name, value in fields.items()}
    return translated.format(**fields)


def apply_direction() -> None:
    """Lay the page out right to left when the current language is written that way."""
    if current_language() in RIGHT_TO_LEFT:
        # In the sidebar: a style applies to the whole page wherever it sits, and there it
        # adds no empty block above a page's title.
        st.sidebar.markdown(_RTL_CSS, unsafe_allow_html=True)
