"""The login throttle: a sliding window per key, thread-safe, bounded in memory."""

from __future__ import annotations

import threading

import pytest

import analysis.access.throttle as throttle_module
from analysis.access.throttle import LoginThrottle


class Clock:
    def __init__(self):
        self.now = 1000.0

    def __call__(self):
        return self.now


@pytest.fixture
def clock():
    return Clock()


def test_attempts_are_refused_after_max_failures_until_the_window_passes(clock):
    throttle = LoginThrottle(max_failures=3, window_seconds=600, clock=clock)
    for second in (0, 10, 20):
        assert throttle.retry_after("user:ana") == 0
        clock.now = 1000.0 + second
        throttle.failed("user:ana")
    assert throttle.retry_after("user:ana") == pytest.approx(580)
    clock.now = 1599.0
    assert throttle.retry_after("user:ana") == pytest.approx(1)
    clock.now = 1600.0  # the first failure left the window: two remain, below 3
    assert throttle.retry_after("user:ana") == 0


def test_keys_are_counted_separately_and_the_longest_wait_wins(clock):
    throttle = LoginThrottle(max_failures=2, window_seconds=100, clock=clock)
    throttle.failed("user:ana", "ip:10.0.0.7")
    clock.now += 50
    throttle.failed("user:bob", "ip:10.0.0.7")
    assert throttle.retry_after("user:ana") == 0
    assert throttle.retry_after("user:carl", "ip:10.0.0.7") == pytest.approx(50)
    throttle.failed("user:ana")
    assert throttle.retry_after("user:ana", "ip:10.0.0.8") == pytest.approx(50)


def test_success_forgets_only_the_keys_given(clock):
    throttle = LoginThrottle(max_failures=1, window_seconds=100, clock=clock)
    throttle.failed("user:ana", "ip:1")
    throttle.succeeded("user:ana")
    assert throttle.retry_after("user:ana") == 0
    assert throttle.retry_after("ip:1") == pytest.approx(100)


def test_memory_is_bounded_by_forgetting_the_oldest_keys(clock, monkeypatch):
    monkeypatch.setattr(throttle_module, "MAX_KEYS", 3)
    throttle = LoginThrottle(max_failures=1, window_seconds=100, clock=clock)
    for name in "abcd":
        throttle.failed("user:" + name)
    assert throttle.retry_after("user:a") == 0
    assert all(throttle.retry_after("user:" + n) > 0 for n in "bcd")


def test_concurrent_failures_are_all_counted():
    throttle = LoginThrottle(max_failures=10_000, window_seconds=3600)

    def fail():
        for _ in range(500):
            throttle.failed("ip:1")

    threads = [threading.Thread(target=fail) for _ in range(8)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(throttle._failures["ip:1"]) == 4000


def test_nonsense_settings_are_refused():
    with pytest.raises(ValueError):
        LoginThrottle(max_failures=0)
    with pytest.raises(ValueError):
        LoginThrottle(window_seconds=0)
