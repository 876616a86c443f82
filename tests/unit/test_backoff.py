"""The backoff shared by the reconnect and retry loops, with the jitter drawn by the test."""

from __future__ import annotations

import random

import pytest

from bot.core.backoff import Backoff


def no_jitter(low: float, high: float) -> float:
    return 1.0


def delays(backoff: Backoff, count: int) -> list[float]:
    return [backoff.failed() for _ in range(count)]


def test_delays_double_from_the_first() -> None:
    backoff = Backoff(first=1.0, cap=60.0, uniform=no_jitter)
    assert delays(backoff, 5) == [1.0, 2.0, 4.0, 8.0, 16.0]
    assert backoff.failures == 5


def test_delays_stop_growing_at_the_cap() -> None:
    backoff = Backoff(first=1.0, cap=30.0, uniform=no_jitter)
    assert delays(backoff, 8) == [1.0, 2.0, 4.0, 8.0, 16.0, 30.0, 30.0, 30.0]


def test_a_cap_below_the_first_delay_wins() -> None:
    # Tests shorten the transports' caps this way.
    assert delays(Backoff(first=1.0, cap=0.2, uniform=no_jitter), 3) == [0.2, 0.2, 0.2]


def test_a_long_outage_does_not_overflow() -> None:
    backoff = Backoff(first=1.0, cap=60.0, uniform=no_jitter)
    assert delays(backoff, 5000)[-1] == 60.0


@pytest.mark.parametrize("jitter", [(0.8, 1.2), (1.0, 1.2)])
def test_jitter_stays_within_its_bounds(jitter: tuple[float, float]) -> None:
    backoff = Backoff(first=1.0, cap=8.0, jitter=jitter, uniform=random.Random(3).uniform)
    low, high = jitter
    for plain in [1.0, 2.0, 4.0, *[8.0] * 200]:
        assert plain * low <= backoff.failed() <= plain * high


def test_jitter_is_drawn_from_the_given_range() -> None:
    drawn: list[tuple[float, float]] = []

    def uniform(low: float, high: float) -> float:
        drawn.append((low, high))
        return high

    backoff = Backoff(first=0.5, cap=60.0, jitter=(1.0, 1.2), uniform=uniform)
    assert delays(backoff, 2) == [pytest.approx(0.6), pytest.approx(1.2)]
    assert drawn == [(1.0, 1.2), (1.0, 1.2)]


def test_reset_starts_over() -> None:
    backoff = Backoff(first=1.0, cap=60.0, uniform=no_jitter)
    delays(backoff, 10)
    backoff.reset()
    assert backoff.failures == 0
    assert delays(backoff, 3) == [1.0, 2.0, 4.0]


def test_a_server_retry_after_replaces_the_delay_but_the_doubling_goes_on() -> None:
    backoff = Backoff(first=1.0, cap=60.0, uniform=no_jitter)
    assert backoff.failed() == 1.0
    assert backoff.failed(retry_after=10.0) == 10.0
    assert backoff.failed(retry_after=600.0) == 60.0  # still capped
    assert backoff.failed() == 8.0


@pytest.mark.parametrize(("first", "cap"), [(0.0, 60.0), (1.0, 0.0), (-1.0, 60.0)])
def test_a_backoff_that_would_not_wait_is_refused(first: float, cap: float) -> None:
    with pytest.raises(ValueError, match="first > 0"):
        Backoff(first=first, cap=cap)
