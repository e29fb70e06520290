r"""A view's table for the screen: words in the reader's language, numbers in its signs.

:func:`~analysis.views.words.render_table` words the headers and the coded cells, for
the screen and the downloads alike. On screen the numbers are written too: with the
grouping and decimal signs of the page's language (Babel's CLDR data, through
:meth:`analysis.i18n.Translator.number` and :meth:`~analysis.i18n.Translator.percent`,
always in Latin digits). The result is a pandas ``Styler`` whose *display* values are
those texts while the data stay numbers, so a column still sorts as numbers.

Why not Streamlit's own number formats: ``NumberColumn(format="localized")`` and
``"percent"`` follow the *browser's* language (``navigator.languages``), not the page's
(a French page in an English browser would show ``1,234.5``), and printf formats
(``"%,d"``) write English separators only.

Counts a view holds as text (``"5411"``, ``"<10"``) get their separators as well.

Examples
--------
>>> table = pd.DataFrame({"releases": ["5411", "<10"], "rate": [0.2345, None]})
>>> shown = screen_table(table, "fr", formats={"rate": "percent"})
>>> [c.replace("\N{NARROW NO-BREAK SPACE}", " ").replace("\N{NO-BREAK SPACE}", " ")
...  for c in shown.to_string(delimiter="|").splitlines()[1].split("|")[1:]]
['5 411', '23,4 %']
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Iterable, Mapping

import pandas as pd
from pandas.io.formats.style import Styler

from analysis.i18n import Translator, translator
from analysis.views.words import COUNT_COLUMNS, render_table

#: Decimals of a decimal column whose format the caller does not name.
DEFAULT_DIGITS = 3
#: Integer columns that are not quantities: a year is written without separators.
_NOT_GROUPED = frozenset({"release_year", "years", "years_available", "line"})
#: A Streamlit-style printf format the pages pass ("%.2f"): its number of decimals.
_PRINTF = re.compile(r"^%\.(\d)f$")
_COUNT = re.compile(r"^(<?)(\d+)$")
#: Columns of numbers at risk at a month (``at_6``), counts held as text.
_AT_MONTH = re.compile(r"^at_\d+$")
#: Decimals of a percentage column (``share_pct``, ``complete_pct``: 0–100).
PERCENT_DIGITS = 1

Formatter = Callable[[object], str]


def _missing(value: object) -> bool:
    return value is None or value is pd.NA or (isinstance(value, float) and math.isnan(value))


def number_formatter(fmt: str | None, tr: Translator) -> Formatter:
    """A function writing a number as ``fmt`` says, in ``tr``'s language ("" if missing).

    ``fmt`` is ``"percent"`` (a share, one decimal), a printf ``"%.Nf"`` (N decimals),
    ``"integer"`` (grouped, no decimals) or None (:data:`DEFAULT_DIGITS` decimals).

    Examples
    --------
    >>> number_formatter("%.2f", translator("sr"))(1234.5), number_formatter(
    ...     "percent", translator("en"))(0.204)
    ('1.234,50', '20.4%')
    """
    if fmt == "percent":
        def write(value: float) -> str:
            return tr.percent(value, 1)
    else:
        match = _PRINTF.match(fmt or "")
        digits = (0 if fmt == "integer" else int(match.group(1)) if match
                  else DEFAULT_DIGITS)

        def write(value: float) -> str:
            return tr.number(value, digits)

    def formatter(value: object) -> str:
        if _missing(value):
            return ""
        if isinstance(value, int | float):
            return write(value)
        return str(value)

    return formatter


def text_number(text: object, tr: Translator) -> object:
    """A count (``"5411"``, ``"<1000"``) written as text by a view, in ``tr``'s signs;
    any other value as it is.

    Examples
    --------
    >>> fr = translator("fr")
    >>> text_number("12345", translator("ru")).replace("\N{NO-BREAK SPACE}", " ")
    '12 345'
    >>> text_number("masqué", fr), text_number(12, fr)
    ('masqué', 12)
    """
    if not isinstance(text, str):
        return text
    count = _COUNT.match(text)
    if count:
        return count.group(1) + tr.number(int(count.group(2)))
    return text


def _column_formatter(column: str, values: pd.Series, fmt: str | None,
                      tr: Translator, counts: frozenset[str]) -> Formatter | None:
    if pd.api.types.is_bool_dtype(values):
        return None
    if pd.api.types.is_integer_dtype(values):
        return None if column in _NOT_GROUPED else number_formatter(fmt or "integer", tr)
    if pd.api.types.is_float_dtype(values):
        if fmt is None and column.endswith("_pct"):
            fmt = f"%.{PERCENT_DIGITS}f"
        return number_formatter(fmt, tr)
    if column in counts:
        return lambda value: "" if _missing(value) else str(text_number(value, tr))
    return None


def screen_table(table: pd.DataFrame, language: str = "en", *,
                 formats: Mapping[str, str] | None = None,
                 note_params: Mapping[str, object] | None = None,
                 coded: Iterable[str] = ()) -> Styler:
    """``table`` (a view's, with column codes) as shown on screen, in ``language``.

    The words are :func:`~analysis.views.words.render_table`'s (``note_params`` and
    ``coded`` as there); ``formats`` maps column codes to ``"percent"`` or ``"%.Nf"``
    (see :func:`number_formatter`); other decimal columns get :data:`DEFAULT_DIGITS`
    decimals (percentages ``*_pct``: :data:`PERCENT_DIGITS`), integer columns
    separators (years excepted), and the text counts of
    :data:`~analysis.views.words.COUNT_COLUMNS` and of the numbers at risk (``at_6``)
    and the text rates the language's signs (:func:`text_number`).

    Examples
    --------
    >>> shown = screen_table(pd.DataFrame({"people": [1200], "p": [0.01234]}), "en")
    >>> shown.to_string(delimiter="|").splitlines()
    ['|People|p-value', '0|1,200|0.012']
    """
    tr = translator(language)
    formats = dict(formats or {})
    numbers_as_text = (COUNT_COLUMNS
                       | {str(c) for c in table.columns if _AT_MONTH.match(str(c))})
    rendered = render_table(table, language, note_params=note_params, coded=coded)
    writers: dict[object, Formatter] = {}
    for code, header in zip(table.columns, rendered.columns, strict=True):
        writer = _column_formatter(str(code), rendered[header], formats.get(str(code)), tr,
                                   numbers_as_text)
        if writer is not None:
            writers[header] = writer
    rendered = _mixed_as_text(rendered)
    # Styler formats by column label: two codes with one header never meet in a table
    return rendered.style.format(writers, na_rep="")


def _mixed_as_text(table: pd.DataFrame) -> pd.DataFrame:
    """Columns mixing numbers with text (a count beside ``"<10"``) as text columns.

    Streamlit sends a table as Arrow, which refuses such a column: it then logs a
    traceback and converts the table again, on every run of the page. Their numbers
    are shown as text anyway (:func:`text_number`).

    Examples
    --------
    >>> _mixed_as_text(pd.DataFrame({"n": [5411, "<10", None]}))["n"].tolist()
    ['5411', '<10', <NA>]
    """
    out = table
    for position in range(table.shape[1]):
        values = table.iloc[:, position]
        if values.dtype != object:
            continue
        present = values.dropna()
        kinds = {isinstance(v, str) for v in present}
        if kinds == {True, False}:
            if out is table:
                out = table.copy()
            text = values.map(lambda v: v if v is None or v != v else str(v))
            out.isetitem(position, text.astype("string"))
    return out

