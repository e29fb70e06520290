"""The login throttle: repeated failures for one user name or one address are refused.

One :class:`LoginThrottle` per server process, shared by every session (thread-safe).
Keys are free text; :mod:`analysis.access.identity` uses ``"user:NAME"`` and
``"ip:ADDRESS"``, so guessing many passwords for one account, and guessing one password
for many accounts from one machine, are both slowed down.

Examples
--------
>>> now = [0.0]
>>> throttle = LoginThrottle(max_failures=2, window_seconds=60, clock=lambda: now[0])
>>> throttle.failed("user:ana"); throttle.failed("user:ana")
>>> throttle.retry_after("user:ana", "ip:10.0.0.7")
60.0
>>> now[0] = 61.0
>>> throttle.retry_after("user:ana")
0.0
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

#: Keys remembered at most; beyond, the oldest are forgotten first (a flood of made-up
#: user names must not exhaust the server's memory).
MAX_KEYS = 100_000


class LoginThrottle:
    """Refuse attempts for a key that failed ``max_failures`` times within the window.

    Parameters
    ----------
    max_failures
        Failures allowed within the window (``[login] max_failures``).
    window_seconds
        The sliding window (``[login] window_minutes`` x 60).
    clock
        Seconds, monotonic (tests pass a fake one).
    """

    def __init__(self, max_failures: int = 5, window_seconds: float = 900,
                 clock: Callable[[], float] = time.monotonic) -> None:
        if max_failures < 1 or window_seconds <= 0:
            raise ValueError("max_failures must be at least 1 and window_seconds positive")
        self.max_failures = int(max_failures)
        self.window_seconds = float(window_seconds)
        self._clock = clock
        self._lock = threading.Lock()
        # Insertion-ordered: the first key is the one least recently failed.
        self._failures: dict[str, deque[float]] = {}

    def _recent(self, key: str, now: float) -> deque[float]:
        times = self._failures.get(key)
        if times is None:
            return deque()
        while times and times[0] <= now - self.window_seconds:
            times.popleft()
        if not times:
            del self._failures[key]
        return times

    def retry_after(self, *keys: str) -> float:
        """Seconds until an attempt for all of ``keys`` is allowed (0: allowed now)."""
        with self._lock:
            now = self._clock()
            wait = 0.0
            for key in keys:
                times = self._recent(key, now)
                if len(times) >= self.max_failures:
                    # Allowed again when the max_failures-th most recent failure leaves
                    # the window.
                    oldest_counted = times[len(times) - self.max_failures]
                    wait = max(wait, oldest_counted + self.window_seconds - now)
            return wait

    def failed(self, *keys: str) -> None:
        """Count a failed attempt against each of ``keys``."""
        with self._lock:
            now = self._clock()
            for key in keys:
                times = self._failures.pop(key, None) or deque()
                times.append(now)
                # Only the last max_failures failures can decide a wait.
                while len(times) > self.max_failures:
                    times.popleft()
                self._failures[key] = times  # re-inserted: now the most recent key
            while len(self._failures) > MAX_KEYS:
                del self._failures[next(iter(self._failures))]

    def succeeded(self, *keys: str) -> None:
        """Forget the failures of ``keys`` (after a successful sign-in)."""
        with self._lock:
            for key in keys:
                self._failures.pop(key, None)
