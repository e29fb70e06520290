"""Terminal-safe output: control characters from the data never reach the terminal raw.

Programme, facility and covariate names are printed by every command. A name holding
``ESC [2J`` would clear the screen, ``ESC ] 8 ;;`` make a hidden link, ``\\r`` overwrite a
line. The importer refuses control characters today, but databases built before must
be safe to read too, so the ``desist`` group wraps standard output and standard error
(:func:`protect_streams`) for the whole command: every control character except the
line feed and the tab is written as its ``\\uXXXX`` escape. In ``--json`` output that is
the same escape JSON uses, so the parsed value is unchanged.
"""

from __future__ import annotations

import io
import re
import sys
from collections.abc import Callable

# C0 (without tab and line feed), DEL and C1 — C1 holds the 8-bit CSI (U+009B).
_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def _escape(match: re.Match) -> str:
    return f"\\u{ord(match.group()):04x}"


def terminal_safe(text: str) -> str:
    r"""``text`` with every control character but ``\n`` and ``\t`` written as ``\uXXXX``.

    Examples
    --------
    >>> print(terminal_safe("North\x1b[2Jgate\r\x9bPrison"))
    North\u001b[2Jgate\u000d\u009bPrison
    """
    return _CONTROL.sub(_escape, text)


class TerminalSafeStream(io.TextIOBase):
    """A text stream that escapes control characters and writes to ``target``.

    It has no ``buffer``: click then writes through it rather than around it.
    """

    def __init__(self, target) -> None:
        self._target = target

    @property
    def target(self):
        """The wrapped stream."""
        return self._target

    @property
    def encoding(self):
        return getattr(self._target, "encoding", "utf-8")

    @property
    def errors(self):
        return getattr(self._target, "errors", "strict")

    def writable(self) -> bool:
        return True

    def write(self, text: str) -> int:
        self._target.write(terminal_safe(text))
        return len(text)

    def flush(self) -> None:
        self._target.flush()

    def isatty(self) -> bool:
        return self._target.isatty()

    def fileno(self) -> int:
        return self._target.fileno()


def protect_streams() -> Callable[[], None]:
    """Wrap ``sys.stdout`` and ``sys.stderr``; returns the function that unwraps them."""
    saved = sys.stdout, sys.stderr
    if not isinstance(sys.stdout, TerminalSafeStream):
        sys.stdout = TerminalSafeStream(sys.stdout)
    if not isinstance(sys.stderr, TerminalSafeStream):
        sys.stderr = TerminalSafeStream(sys.stderr)

    def restore() -> None:
        sys.stdout, sys.stderr = saved

    return restore
