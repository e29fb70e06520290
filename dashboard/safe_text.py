"""Data text in Markdown contexts: names from the data are shown as text, never as Markdown.

Streamlit renders Markdown in titles, headers, captions, alerts, tab and expander labels
and ``st.markdown``. A programme, facility or covariate value is whatever the data
provider typed, so ``![t](http://elsewhere/x.png)`` would make every browser that opens
the page fetch an image from another host, and ``<b>``, ``**``, ``$…$`` or ``:red[…]``
would change what the reader sees. Every data-supplied string that goes into one of those
contexts passes through :func:`md_literal` first; the translated templates around it keep
their own Markdown (``t("**Outcome.** {definition}", definition=md_literal(text))``).

Widgets' *options* (select boxes, multiselects) and table cells are not Markdown: they are
shown as they are and must not be escaped.
"""

from __future__ import annotations

import re

# CommonMark lets a backslash escape any ASCII punctuation, and the escaped character is
# shown literally. Escaped: every character that starts or ends Markdown or HTML (also
# at the start of a line: # > - + = 1.), and Streamlit's own extensions ($ for LaTeX,
# :colour[...] and :material/...: directives, ~ for strike-through). Commas, quotes and
# the like mean nothing and stay as they are.
MARKDOWN_CHARACTERS = "\\`*_{}[]()<>#+-=.!|~$:&^"
_PUNCTUATION = re.compile("([" + re.escape(MARKDOWN_CHARACTERS) + "])")
# Line breaks would end a heading or start a new block; other control characters have
# no business on screen.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f\u2028\u2029]+")
# GitHub-flavoured Markdown turns "http://…", "www.…" and "name@host.org" in *text* into
# links, after escapes are resolved. An invisible word joiner (U+2060) after ":" and "@"
# and after "www" breaks those patterns; the reader sees the same characters.
_AUTOLINK = re.compile(r"(?<=[:@])|(?<=www)(?=\.)", re.IGNORECASE)
WORD_JOINER = "\u2060"


def md_literal(value: object) -> str:
    r"""``value`` as text that Streamlit's Markdown shows exactly as it reads.

    Parameters
    ----------
    value
        A data-supplied name or sentence (``None`` gives ``""``; anything else is
        converted with ``str``).

    Returns
    -------
    str
        The text with every character of :data:`MARKDOWN_CHARACTERS` backslash-escaped,
        line breaks and other control characters replaced by a space, outer spaces
        removed, and a word joiner (U+2060, invisible) after every ``:`` and ``@`` and
        after ``www`` so that no address in it becomes a link.

    Examples
    --------
    >>> print(md_literal("![t](x.png) <b> **bold**"))
    \!\[t\]\(x\.png\) \<b\> \*\*bold\*\*
    >>> md_literal("Northgate Prison")
    'Northgate Prison'
    """
    if value is None:
        return ""
    # Leading spaces would make an indented code block; trailing ones mean nothing.
    text = _AUTOLINK.sub(WORD_JOINER, _CONTROL.sub(" ", str(value)).strip())
    return _PUNCTUATION.sub(r"\\\1", text)
