"""Cleaning and checking text cells: control characters, Unicode forms, look-alike ids.

Text reaches the importer from many systems and keyboards. Two cells that look the
same must be the same value, and a value must never hide bytes that a screen does not
show. So, for every text cell:

* control characters (NUL, ESC, DEL, the C1 range ...) are refused; free text may hold
  a tab or a line break (a quoted CSV cell can), identifiers and codes may not;
* everything is put in Unicode normal form NFC (``"é"`` typed as ``e`` + accent equals
  the single character ``é``);
* identifiers and codes also lose the invisible zero-width characters
  (:data:`analysis.contract.ZERO_WIDTH_CHARACTERS`).

Identifiers that mix alphabets (a Cyrillic ``Р`` inside a Latin ``R-2019``), and
distinct identifiers that become the same once look-alike letters are read as Latin,
get a warning: they are legal, but usually a typing accident.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd

from analysis.contract import ZERO_WIDTH_CHARACTERS
from analysis.ingest.cells import control_bytes_possible

#: Control characters refused in every text cell (C0 without tab/LF/CR, DEL, C1).
CONTROL_IN_TEXT = re.compile(r"[\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f]")
#: In identifiers and codes, tab and line breaks are refused too.
CONTROL_IN_IDS = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_ZERO_WIDTH = re.compile(f"[{ZERO_WIDTH_CHARACTERS}]")

#: Letters of Cyrillic and Greek that print like a Latin letter, mapped to it (the
#: common part of Unicode's confusables list for these alphabets).
_LOOK_ALIKES: dict[str, str] = {
    **dict(zip("АВЕЅІЈКМНОРСТХУ", "ABESIJKMHOPCTXY", strict=True)),
    **dict(zip("аеѕіјорсхуԁһӏԛԝ", "aesijopcxydhlqw", strict=True)),
    **dict(zip("ΑΒΕΖΗΙΚΜΝΟΡΤΥΧ", "ABEZHIKMNOPTYX", strict=True)),
    **dict(zip("οαιν", "oaiv", strict=True)),
}
_SKELETON = str.maketrans(_LOOK_ALIKES)


def control_character_mask(raw: pd.Series, *, identifier: bool) -> np.ndarray:
    """True for every cell that holds a refused control character."""
    # Nearly every block has none: one count of its bytes settles that, and only a block
    # that may hold one is searched cell by cell.
    if not control_bytes_possible(raw, allow_line_breaks=not identifier):
        return np.zeros(len(raw), dtype=bool)
    pattern = CONTROL_IN_IDS if identifier else CONTROL_IN_TEXT
    return raw.str.contains(pattern.pattern, regex=True).fillna(False).to_numpy(dtype=bool)


def describe_control_character(value: str, *, identifier: bool) -> str:
    """Name of the first refused control character in ``value``, e.g. ``U+0000 (NUL)``."""
    pattern = CONTROL_IN_IDS if identifier else CONTROL_IN_TEXT
    found = pattern.search(value)
    if found is None:
        return "a control character"
    code = ord(found.group())
    return f"U+{code:04X}" + (f" ({_CONTROL_NAMES[code]})" if code in _CONTROL_NAMES else "")


_CONTROL_NAMES = {0x00: "NUL", 0x09: "tab", 0x0A: "line feed", 0x0D: "carriage return",
                  0x1B: "ESC", 0x7F: "DEL"}


def normalise_text(raw: pd.Series, *, identifier: bool) -> pd.Series:
    """Cells in NFC; identifiers and codes also without zero-width characters.

    Only cells with a non-ASCII character are touched, so plain ASCII columns cost one
    vectorised test.
    """
    special = ~raw.str.isascii().fillna(True).to_numpy(dtype=bool)
    if not special.any():
        return raw
    cleaned = raw.copy()
    values = raw[special].tolist()
    if identifier:
        # zero-width characters first: one between a letter and its accent blocks NFC
        values = [unicodedata.normalize("NFC", _ZERO_WIDTH.sub("", v)).strip() for v in values]
    else:
        values = [unicodedata.normalize("NFC", v) for v in values]
    cleaned[special] = values
    return cleaned


def _script(ch: str) -> str | None:
    """Alphabet of a letter (the first word of its Unicode name), None for other characters."""
    if not ch.isalpha():
        return None
    name = unicodedata.name(ch, "")
    return name.split(" ", 1)[0] if name else None


def scripts_of(value: str) -> set[str]:
    """The alphabets of the letters of ``value`` (``{"LATIN", "CYRILLIC"}``)."""
    return {s for s in map(_script, value) if s}


def look_alike_skeleton(value: str) -> str:
    """``value`` with Cyrillic and Greek look-alike letters read as Latin ones."""
    return value.translate(_SKELETON)


def look_alike_findings(values: pd.Series) -> tuple[np.ndarray, list[tuple[int, int]]]:
    """Rows whose value mixes alphabets, and pairs of rows with look-alike distinct values.

    Returns
    -------
    mixed
        First row of every distinct value that has letters of more than one alphabet.
    pairs
        ``(row, earlier_row)``: first rows of two distinct values that read the same once
        look-alike letters are taken as Latin.
    """
    if bool(values.fillna("").str.isascii().all()):  # vectorised: the usual case
        return np.array([], dtype=np.int64), []
    texts = values.astype(object).where(values.notna(), None)
    codes, uniques = pd.factorize(texts, use_na_sentinel=True)
    if not len(uniques):
        return np.array([], dtype=np.int64), []
    uniques = list(uniques)
    special = [i for i, v in enumerate(uniques) if not v.isascii()]
    if not special:
        return np.array([], dtype=np.int64), []
    first_row = np.full(len(uniques), -1, dtype=np.int64)
    seen = codes >= 0
    order = np.flatnonzero(seen)
    # first occurrence of each distinct value: reversed assignment keeps the earliest
    first_row[codes[order][::-1]] = order[::-1]
    mixed = sorted(int(first_row[i]) for i in special if len(scripts_of(uniques[i])) > 1)
    # Only a value with look-alike letters can read like another one.
    skeleton_of = {i: look_alike_skeleton(uniques[i]) for i in special}
    disguised = {i: k for i, k in skeleton_of.items() if k != uniques[i]}
    if not disguised:
        return np.array(mixed, dtype=np.int64), []
    index_of = {v: i for i, v in enumerate(uniques)}
    groups: dict[str, set[int]] = {}
    for i, skeleton in disguised.items():
        group = groups.setdefault(skeleton, set())
        group.add(i)
        if skeleton in index_of:
            group.add(index_of[skeleton])
    for i, skeleton in skeleton_of.items():
        if skeleton in groups:
            groups[skeleton].add(i)
    pairs = []
    for members in groups.values():
        if len(members) < 2:
            continue
        rows = sorted(int(first_row[i]) for i in members)
        pairs.extend((row, rows[0]) for row in rows[1:])
    return np.array(mixed, dtype=np.int64), sorted(pairs)
