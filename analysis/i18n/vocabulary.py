"""Words of the data contract every output shares: event types and their lists.

The dashboard, the HTML report and the CLI all say "rearrest or reconviction" the same
way, in every language, from these tables (their texts are in the catalogs'
``views`` and ``cli`` domains).
"""

from __future__ import annotations

import functools
from collections.abc import Iterable

from analysis.i18n import N_, Translator, translator

#: Sex codes of the data contract (:data:`analysis.contract.SEX_CODES`), in words:
#: tables, filters and the balance terms of the reports (``sex[F]``) word them alike.
SEX_WORDS: dict[str, str] = {
    "F": N_("female"),
    "M": N_("male"),
    "X": N_("other sex"),
    "U": N_("sex unknown"),
}

#: Event types and competing end reasons of the data contract, in words.
EVENT_WORDS: dict[str, str] = {
    "rearrest": N_("rearrest"),
    "reconviction": N_("reconviction"),
    "reincarceration": N_("reincarceration"),
    "violation": N_("violation of conditions"),
    "death": N_("death"),
    "deportation": N_("deportation"),
    "emigration": N_("emigration"),
}


def or_list(words: Iterable[str], language: str = "en") -> str:
    """``"a"``, ``"a or b"``, ``"a, b or c"`` in ``language``.

    Examples
    --------
    >>> or_list(["a", "b", "c"]), or_list(["a", "b"], "fr"), or_list([])
    ('a, b or c', 'a ou b', '')
    """
    words = list(words)
    if len(words) <= 1:
        return "".join(words)
    tr = joining_translator(language)
    items = words[0]
    for word in words[1:-1]:
        items = tr("{items}, {item}", items=items, item=word)
    return tr("{items} or {item}", items=items, item=words[-1])


@functools.cache
def joining_translator(language: str) -> Translator:
    # The pieces joined are words of the same language, not foreign values: no
    # directional isolates between them.
    return Translator(language, isolate=False)


def event_words(code: str, language: str = "en") -> str:
    """An event type or end reason in words; a code the contract does not know is
    quoted as recorded (underscores as spaces)."""
    if code in EVENT_WORDS:
        return translator(language)(EVENT_WORDS[code])
    return code.replace("_", " ")


def outcome_words(event_types: tuple[str, ...] | None, language: str = "en") -> str:
    """The events an outcome counts, in words: ``"rearrest or reconviction"``; ``None``
    (every type) reads "any event".

    Examples
    --------
    >>> outcome_words(("rearrest", "reconviction")), outcome_words(None, "fr")
    ('rearrest or reconviction', 'tout événement')
    """
    if event_types is None:
        tr = joining_translator(language)
        return tr("any event")
    return or_list([event_words(e, language) for e in event_types], language)
