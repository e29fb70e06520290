"""Column names that R, Stata and Python all read back unchanged.

An exported file is refitted in R (``read.csv``, ``foreign::read.dta``) and Stata
(``use``), which accept fewer names than the database: a programme id such as
``VOC-METAL`` is a column of the counting-process rows, and neither R's
``read.csv`` (it makes ``VOC.METAL``) nor Stata (it refuses ``-``) keeps it. So every
format gets the same *portable* names, chosen once here:

* each character other than an ASCII letter, digit or ``_`` becomes ``_``;
* a name that then starts with a digit or ``_`` (or is empty) gets a leading ``x``;
* a name reserved in R or Stata (``if``, ``in``, ``double``...) gets a trailing ``_``.

Valid names (``age_at_release``, ``sex``, ``VOC``) are kept as they are. Two columns
that would get the same name, and, for Stata files, a name longer than Stata's 32
characters, are refused with a message naming them (:func:`portable_names`); the data
dictionary lists every renaming.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from analysis.errors import AnalysisError

#: Stata's longest variable name.
STATA_MAX_NAME = 32
#: Words R's parser or Stata reserve as names (R: ``?Reserved``; Stata: [U] 11.3).
RESERVED_NAMES = frozenset({
    # R
    "if", "else", "repeat", "while", "function", "for", "next", "break", "TRUE", "FALSE",
    "NULL", "Inf", "NaN", "NA", "NA_integer_", "NA_real_", "NA_character_", "NA_complex_",
    "in",
    # Stata (the ones that start with "_" cannot occur: such names get a leading "x")
    "byte", "double", "float", "int", "long", "strL", "using", "with",
})
_VALID = re.compile(r"[A-Za-z][A-Za-z0-9_]*\Z")
_STATA_STRING_TYPE = re.compile(r"str[0-9]+\Z")


def is_portable(name: str) -> bool:
    """Whether R and Stata both accept ``name`` as it is (Stata's length limit aside).

    Examples
    --------
    >>> is_portable("age_at_release"), is_portable("VOC-METAL"), is_portable("in")
    (True, False, False)
    """
    return (_VALID.match(name) is not None and name not in RESERVED_NAMES
            and _STATA_STRING_TYPE.match(name) is None)


def portable_name(name: str) -> str:
    """``name`` as a column name R and Stata keep (see the module notes).

    Examples
    --------
    >>> portable_name("VOC-METAL"), portable_name("2nd_chance"), portable_name("in")
    ('VOC_METAL', 'x2nd_chance', 'in_')
    >>> portable_name("age_at_release")
    'age_at_release'
    """
    safe = re.sub(r"[^A-Za-z0-9_]", "_", name)
    if not safe or not safe[0].isalpha():
        safe = "x" + safe
    if not is_portable(safe):
        safe += "_"  # a reserved word, or a Stata type name such as str10
    return safe


def portable_names(names: Iterable[str], *, stata: bool = False) -> dict[str, str]:
    """Original name -> portable name for every column, refusing clashes.

    Parameters
    ----------
    names : iterable of str
        The columns, in file order.
    stata : bool
        Also refuse names longer than :data:`STATA_MAX_NAME` characters (a ``.dta``
        file cannot hold them).

    Returns
    -------
    dict
        Every name mapped to its portable form (most map to themselves).

    Raises
    ------
    AnalysisError
        When two columns get the same name, or (``stata``) a name is too long.

    Examples
    --------
    >>> portable_names(["person_id", "VOC-METAL"])
    {'person_id': 'person_id', 'VOC-METAL': 'VOC_METAL'}
    >>> portable_names(["VOC-METAL", "VOC_METAL"])
    Traceback (most recent call last):
    ...
    analysis.errors.AnalysisError: columns 'VOC-METAL' and 'VOC_METAL' would both be named 'VOC_METAL' in the exported file (R and Stata accept only letters, digits and _); export one of them only
    """
    mapping: dict[str, str] = {}
    taken: dict[str, str] = {}
    for name in names:
        new = portable_name(name)
        if new in taken:
            raise AnalysisError(
                f"columns {taken[new]!r} and {name!r} would both be named {new!r} in the "
                "exported file (R and Stata accept only letters, digits and _); export one "
                "of them only"
            )
        if stata and len(new) > STATA_MAX_NAME:
            raise AnalysisError(
                f"column {name!r} needs a name of {len(new)} characters ({new!r}); a Stata "
                f".dta file allows at most {STATA_MAX_NAME}. Export it as --format csv or "
                "parquet, or leave that column out"
            )
        taken[new] = name
        mapping[name] = new
    return mapping
