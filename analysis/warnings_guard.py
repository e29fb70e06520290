"""``warnings.catch_warnings`` that is safe where views run in threads.

``warnings.catch_warnings`` saves the process-wide warning filters and handler when
entered and puts them back when left. Two threads that enter and leave in crossed order
(the stored views run two at a time: :mod:`analysis.views.stored`) put back each
other's state: a handler recording into a list of a block long finished then swallows
every later warning of the process, such as the importer's "the stored result of ...
was not computed". Every block of this package takes one lock, so blocks never cross.
"""

from __future__ import annotations

import contextlib
import threading
import warnings
from collections.abc import Iterator

# Re-entrant: a guarded block may call code that has one of its own.
_LOCK = threading.RLock()


@contextlib.contextmanager
def catch_warnings(*, record: bool = False) -> Iterator[list[warnings.WarningMessage] | None]:
    """``warnings.catch_warnings(record=record)``, one thread at a time."""
    with _LOCK, warnings.catch_warnings(record=record) as caught:
        yield caught
