"""The dashboard's interface language: English, French, Arabic, Russian or Serbian.

The words come from the one translation mechanism of the project,
:mod:`analysis.i18n` (catalogs ``analysis/i18n/locales/<lang>/*.json``, the
interface's own texts in ``dashboard.json``): a page writes ``t("Release period")``
and gets the translation for the session's language, or the English text when the
catalog has none; ``tn("{n} day", "{n} days", n)`` picks the plural form by
the language's CLDR rules. ``tests/test_i18n_catalogs.py`` checks that every text
passed to :func:`t` and :func:`tn` is translated in every catalog, with the same
placeholders. Results from :mod:`analysis` carry codes and numbers; pages render
their words with :func:`translator`, the same object the HTML report and the CLI use.
"""

from __future__ import annotations

import streamlit as st

from analysis.i18n import (  # noqa: F401 - re-exported for the pages
    DEFAULT_LANGUAGE,
    LANGUAGES,
    RIGHT_TO_LEFT,
    Translator,
    catalog,
)
from analysis.i18n import translator as _translator

#: URL query parameter and session-state key holding the language code.
LANGUAGE_KEY = "lang"

# The document's language and direction. Streamlit serves one index.html with
# <html lang="en"> for every session and offers no setting for either, so a line of script
# (ours, constant but for a code from LANGUAGES) sets both on every run. With dir="rtl" the
# browser lays the page out right to left itself: the sidebar on the right, each block
# aligned right, screen readers and hyphenation in the right language.
_DOCUMENT_SCRIPT = """<script>
(function () {{
  var root = (window.parent || window).document.documentElement;
  root.setAttribute("lang", "{lang}");
  root.setAttribute("dir", "{direction}");
}})();
</script>"""

# Right to left, what dir="rtl" does not do by itself. Streamlit sets text-align: left on
# some containers, hence the second group. A filter chip shows a name from the data, most
# often in Latin letters: it takes the direction of its own first letter (unicode-bidi:
# plaintext) so that a long name loses its end, not its start ("Northfold Wom…", never
# "…old Women's Prison"). Charts, code and inputs stay left to right so that axes, numbers
# and dates read as usual; a metric's value takes the direction of its first letter
# ("49.5 شهر" reads right to left, "31.9%" left to right), and so does each paragraph (the
# English text from analysis/ keeps its punctuation in place). The table widget draws on
# a canvas that cannot be laid out right to left (it shows nothing): it keeps its own
# direction, and its captions and buttons around it follow the page.
_RTL_CSS = """<style>
[data-testid="stMain"], [data-testid="stSidebar"],
[data-testid="stMain"] [data-testid="stElementContainer"],
[data-testid="stSidebar"] [data-testid="stElementContainer"]
  { direction: rtl; text-align: right; }
[data-testid="stPlotlyChart"], [data-testid="stDataFrame"], [data-testid="stTable"],
[data-testid="stCode"], [data-testid="stDateInputField"], input, textarea,
.js-plotly-plot svg { direction: ltr; }
[data-testid="stMultiSelectTagsContainer"] [data-tag] > span[title]
  { unicode-bidi: plaintext; text-align: start; }
[data-testid="stMetricValue"], [data-testid="stMarkdownContainer"] :is(p, li, h1, h2, h3)
  { unicode-bidi: plaintext; }
</style>"""


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
    return translator()(text, **fields)


def tn(singular: str, plural: str, n: int, **fields) -> str:
    """The form of ``singular``/``plural`` for ``n`` in the current language, formatted.

    Examples
    --------
    >>> tn("{n} day", "{n} days", 2)  # English outside a session
    '2 days'
    """
    return translator().plural(singular, plural, n, **fields)


def translator() -> Translator:
    """The :class:`~analysis.i18n.Translator` of the current language (for results' words)."""
    return _translator(current_language())


def apply_direction() -> None:
    """Give the document the current language and its direction (``<html lang dir>``),
    and lay the page out right to left when the language is written that way."""
    language = current_language()
    direction = "rtl" if language in RIGHT_TO_LEFT else "ltr"
    # In the sidebar: there it adds no empty block above a page's title. Drawn in every
    # language, so that switching back from Arabic sets lang="en" dir="ltr" again.
    st.sidebar.html(_DOCUMENT_SCRIPT.format(lang=language, direction=direction),
                    unsafe_allow_javascript=True)
    if direction == "rtl":
        st.sidebar.markdown(_RTL_CSS, unsafe_allow_html=True)
