"""``--lang``: the language of an analysis command's text output.

Only the words change: ``--json`` keys (and codes such as a cause's ``reoffence``) stay
English, names from the data are printed as they are, and numbers keep Latin digits in
the language's own separators (:mod:`analysis.i18n`). The texts are in the catalogs'
``cli`` domain (``analysis/i18n/locales/<lang>/cli.json``).

This module imports the translation machinery (Babel): only the analysis commands
import it, never ``desist --help``.
"""

from __future__ import annotations

import math
from collections.abc import Callable

import click

from analysis.i18n import DEFAULT_LANGUAGE, LANGUAGES, Translator, translator

__all__ = ["count_text", "lang_option", "percent_text", "significant_text", "translator"]

#: What a hidden or missing percentage looks like in a column (as wide as "100.0%").
NO_PERCENT = "   -  "


def lang_option(func: Callable) -> Callable:
    """``--lang en|fr|ar|ru|sr`` (default English), passed to the command as ``lang``."""
    return click.option(
        "--lang", "lang", type=click.Choice(list(LANGUAGES)), default=DEFAULT_LANGUAGE,
        show_default=True,
        help="Language of the text output; --json keys stay English.")(func)


def percent_text(tr: Translator, share: float | None) -> str:
    """``share`` as a percentage one decimal wide (``" 12.3%"``), or a dash when hidden.

    Examples
    --------
    >>> percent_text(translator("en"), 0.123), percent_text(translator("en"), None)
    (' 12.3%', '   -  ')
    """
    return NO_PERCENT if share is None else tr.percent(share, digits=1).rjust(6)


def count_text(tr: Translator, value: int | None, hidden_as: str) -> str:
    """A count in the language's digits grouping, or ``hidden_as`` (``"<10"``) when hidden.

    Examples
    --------
    >>> count_text(translator("fr"), 12345, "<10"), count_text(translator("fr"), None, "<10")
    ('12\\u202f345', '<10')
    """
    return hidden_as if value is None else tr.number(value)


def significant_text(tr: Translator, value: float, digits: int) -> str:
    """``value`` to ``digits`` significant digits as ``f"{value:.{digits}g}"`` writes it
    (``"0.2347"``, ``"8.569e-08"``), in the separators of ``tr``'s language.

    Examples
    --------
    >>> from analysis.i18n import translator
    >>> significant_text(translator("en"), 0.23471, 4), significant_text(translator("fr"), 0.23471, 4)
    ('0.2347', '0,2347')
    >>> significant_text(translator("fr"), 8.5691e-08, 4)
    '8,569e-08'
    """
    text = f"{value:.{digits}g}"
    if not math.isfinite(value):
        return text
    mantissa, e, exponent = text.partition("e")
    # the mantissa is already rounded: tr.number only changes its separators
    return tr.number(float(mantissa), digits=len(mantissa.partition(".")[2])) + e + exponent
