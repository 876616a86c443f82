"""Exponential backoff with jitter, for the loops that retry a server until it answers.

Why one helper: each reconnect or retry loop needs the same three things, and they are easy
to get subtly wrong by hand. Wait longer after each failure in a row, so that a server in
trouble is not hammered; never longer than a cap, so that the bot comes back soon after
the server does; and spread the waits (jitter), so that clients that lost the same server
at the same moment do not all come back at the same instant.

The helper only counts and computes: each loop sleeps its own way (one is cut short by a
stop, one takes a sleep function from its tests) and logs the delay before sleeping.
"""

from __future__ import annotations

import random
from collections.abc import Callable


class Backoff:
    """Delays for failures in a row: `first`, then doubling up to `cap`, each jittered.

    `jitter` is the range of the factor each delay is multiplied by; `uniform` draws it
    (`random.uniform` unless a test passes its own).
    """

    def __init__(
        self,
        first: float = 1.0,
        cap: float = 60.0,
        jitter: tuple[float, float] = (0.8, 1.2),
        *,
        uniform: Callable[[float, float], float] = random.uniform,
    ) -> None:
        if first <= 0 or cap <= 0:
            raise ValueError("a backoff needs first > 0 and cap > 0")  # else a busy loop
        self.first = first
        self.cap = cap
        self.jitter = jitter
        self._uniform = uniform
        self._next = first
        self.failures = 0

    def failed(self, retry_after: float | None = None) -> float:
        """Count one more failure in a row; returns the seconds to wait before retrying.

        `retry_after`, when the server said how long to wait, replaces the doubling delay
        for this wait (still capped and jittered); the doubling goes on underneath.
        """
        self.failures += 1
        delay = self._next if retry_after is None else retry_after
        # Doubled and capped step by step: no 2**failures that overflows in a long outage.
        self._next = min(self.cap, self._next * 2)
        return min(self.cap, delay) * self._uniform(*self.jitter)

    def reset(self) -> None:
        """A success (or a healthy stretch): the next failure waits `first` again."""
        self._next = self.first
        self.failures = 0
