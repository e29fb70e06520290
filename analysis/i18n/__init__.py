r"""Words at the edge: the one translation mechanism of the dashboard, the report and the CLI.

Results carry codes and numbers; whoever shows them to a person renders the words in
that person's language through a :class:`Translator`. The English text is the key (a
gettext ``msgid``), so code reads as what it shows and a missing translation falls back
to English rather than to a code:

- ``tr("Release period")``: the text in the translator's language;
- ``tr("Counts below {k} are hidden.", k=10)``: looked up first, formatted afterwards,
  so that a translation may move ``{k}`` where its grammar needs it;
- ``tr.plural("{n} day", "{n} days", n)``: the form for ``n`` chosen by the
  CLDR plural rules of the language (from Babel: Arabic has six forms, Russian and
  Serbian three, French counts 0 and 1 as singular);
- ``tr.number(x)`` and ``tr.percent(x)``: the language's decimal and grouping signs,
  always in Latin digits (the ones used in the records and on forms in every country
  we serve);
- ``N_("...")`` marks a text for the catalogs without translating it, for tables that
  map a result's code to its words.

Catalogs are JSON files ``analysis/i18n/locales/<lang>/<domain>.json``: ``{msgid:
translation}``, and for a plural ``{singular msgid: {CLDR category: form}}`` with exactly
the categories Babel lists for the language. The domains (``dashboard``, ``views``,
``results``, ``report``, ``cli``, ``common``, ``guide``) only split the files by who edits them; a language's domains are
merged, and a text may appear in one of them only. English has no catalog.
``tests/test_i18n_catalogs.py`` extracts every literal passed to ``t``, ``tr``, ``N_``
and ``plural`` in ``analysis/`` and ``dashboard/`` (with Babel's extractor) and requires
each language to translate each one, with the same placeholders, and nothing else.

Examples
--------
>>> tr = translator("fr")
>>> tr.plural("{n} day", "{n} days", 1), tr.plural("{n} day", "{n} days", 3)
('1 jour', '3 jours')
>>> [translator("ru").plural("{n} day", "{n} days", n) for n in (1, 3, 5, 21)]
['1 день', '3 дня', '5 дней', '21 день']
>>> translator("en").percent(0.1234), translator("en").number(12345.678, digits=1)
('12.3%', '12,345.7')
>>> translator("fr").percent(0.1234).replace("\N{NO-BREAK SPACE}", " ")
'12,3 %'
>>> translator("en")("Counts below {k} are hidden.", k=10)
'Counts below 10 are hidden.'
"""

from __future__ import annotations

import functools
import json
import re
from collections.abc import Mapping
from pathlib import Path

from babel import Locale
from babel.numbers import format_decimal, format_percent

#: Language code -> its name in that language (what a language selector shows).
LANGUAGES: dict[str, str] = {
    "en": "English",
    "fr": "Français",
    "ar": "العربية",
    "ru": "Русский",
    "sr": "Srpski",  # Latin script
}
DEFAULT_LANGUAGE = "en"
#: Languages written right to left.
RIGHT_TO_LEFT = frozenset({"ar"})
#: Babel locale of each language: Serbian is written in Latin script by our users.
_BABEL_LOCALES = {"en": "en", "fr": "fr", "ar": "ar", "ru": "ru", "sr": "sr_Latn"}
LOCALES = Path(__file__).resolve().parent / "locales"
# Unicode "first strong isolate" and "pop directional isolate": a value placed in
# right-to-left text (an English programme name, a number, a path) keeps its own order.
_ISOLATE = "\u2068{}\u2069"

Entry = str | Mapping[str, str]
#: The digits part of a CLDR number pattern ("#,##0.###").
_NUMBER_PART = re.compile(r"[#,0.]+")


def N_(msgid: str) -> str:  # noqa: N802 - the gettext name every extractor knows
    """Mark ``msgid`` for the catalogs and return it unchanged (translate it later).

    Examples
    --------
    >>> N_("Matched participants")
    'Matched participants'
    """
    return msgid


def check_language(language: str) -> str:
    """``language`` when it is one of :data:`LANGUAGES`, else a ValueError listing them.

    Examples
    --------
    >>> check_language("ar")
    'ar'
    """
    if language not in LANGUAGES:
        raise ValueError(f"unknown language {language!r}: expected one of "
                         f"{', '.join(LANGUAGES)}")
    return language


def plural_categories(language: str) -> frozenset[str]:
    """The CLDR plural categories of ``language``, ``other`` included.

    Examples
    --------
    >>> sorted(plural_categories("ru"))
    ['few', 'many', 'one', 'other']
    """
    rule = Locale.parse(_BABEL_LOCALES[check_language(language)]).plural_form
    return frozenset(rule.tags) | {"other"}


@functools.cache
def catalog(language: str) -> dict[str, Entry]:
    """The merged catalog of ``language`` (``{}`` for English), read once per process.

    A text found in two domain files is an error: it would be translated twice, maybe
    differently.
    """
    if check_language(language) == DEFAULT_LANGUAGE:
        return {}
    merged: dict[str, Entry] = {}
    for path in sorted((LOCALES / language).glob("*.json")):
        entries = json.loads(path.read_text(encoding="utf-8"))
        twice = sorted(set(entries) & set(merged))
        if twice:
            raise ValueError(f"{path}: already translated in another domain: {twice}")
        merged.update(entries)
    return merged


class Translator:
    """Renders texts in one language. Get one with :func:`translator`.

    Parameters
    ----------
    language : str
        One of :data:`LANGUAGES`.
    isolate : bool, optional
        Wrap every formatted field in Unicode directional isolates. Default: when the
        language is written right to left, so that a Latin name or a number keeps its
        order inside Arabic text.
    """

    def __init__(self, language: str, *, isolate: bool | None = None) -> None:
        self.language = check_language(language)
        self.right_to_left = language in RIGHT_TO_LEFT
        self.isolate = self.right_to_left if isolate is None else isolate
        self._catalog = catalog(language)
        self._locale = Locale.parse(_BABEL_LOCALES[language])

    def __repr__(self) -> str:
        return f"Translator({self.language!r})"

    def _format(self, text: str, fields: Mapping[str, object]) -> str:
        if not fields:
            return text
        if self.isolate:
            fields = {name: _ISOLATE.format(value) for name, value in fields.items()}
        return text.format(**fields)

    def __call__(self, msgid: str, **fields: object) -> str:
        """``msgid`` in this language (English when untranslated), then formatted."""
        entry = self._catalog.get(msgid)
        text = entry if isinstance(entry, str) and entry else msgid
        return self._format(text, fields)

    def plural(self, singular: str, plural: str, n: int, **fields: object) -> str:
        """The form of ``singular``/``plural`` for the count ``n``, formatted with ``n``.

        Examples
        --------
        >>> ar = Translator("ar", isolate=False)
        >>> [ar.plural("{n} day", "{n} days", n) for n in (1, 2, 3, 11, 100)]
        ['يوم واحد', 'يومان', '3 أيام', '11 يومًا', '100 يوم']
        """
        entry = self._catalog.get(singular)
        if isinstance(entry, Mapping):
            category = self._locale.plural_form(abs(n))
            text = entry.get(category) or entry["other"]
        else:
            text = singular if n == 1 else plural
        return self._format(text, {"n": n, **fields})

    def number(self, value: float, digits: int = 0) -> str:
        """``value`` with ``digits`` decimals, in this language's separators."""
        return self._with_digits(self._locale.decimal_formats[None].pattern, value,
                                 digits, format_decimal)

    def percent(self, share: float, digits: int = 1) -> str:
        """``share`` (0.123) as a percentage ("12.3%") in this language's format."""
        return self._with_digits(self._locale.percent_formats[None].pattern, share,
                                 digits, format_percent)

    def _with_digits(self, pattern: str, value: float, digits: int, formatter) -> str:
        # The language's own pattern (where the sign goes, the space before "%" in
        # French) with a fixed number of decimals instead of its default.
        fixed = "#,##0" + ("." + "0" * digits if digits > 0 else "")
        pattern = _NUMBER_PART.sub(fixed, pattern.split(";")[0], count=1)
        return formatter(value, format=pattern, locale=self._locale,
                         numbering_system="latn")


@functools.cache
def translator(language: str = DEFAULT_LANGUAGE) -> Translator:
    """The (shared, cached) :class:`Translator` of ``language``.

    Examples
    --------
    >>> translator("en")("Release period")
    'Release period'
    >>> translator("xx")
    Traceback (most recent call last):
    ...
    ValueError: unknown language 'xx': expected one of en, fr, ar, ru, sr
    """
    return Translator(language)
