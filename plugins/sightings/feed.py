"""What the sightings plugin publishes for other plugins: `bot.service(ReportFeed)`.

    feed = bot.service(ReportFeed)          # in start(), once every plugin is loaded
    feed.subscribe(on_change)               # confirmed, updated, cleared, retracted
    for change in await feed.changes_after(last_seq): ...   # catching up after a restart
    view = feed.view(room)                  # how reports read in that room

Subscribers are called after the change is stored, in order, each in turn; one that fails
is logged and does not stop the others. A subscriber that must never miss a change (a
relay across crashes) remembers the last `seq` it handled and catches up at start.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from datetime import timedelta

from bot.api import RoomRef
from plugins.sightings.card import View
from plugins.sightings.signals import ReportChange, ReportSignals, Subscriber


class ReportFeed:
    def __init__(
        self,
        signals: ReportSignals,
        changes_after: Callable[[int], Awaitable[list[ReportChange]]],
        view: Callable[[RoomRef], View],
        retention: timedelta,
    ) -> None:
        self._signals = signals
        self._changes_after = changes_after
        self._view = view
        # Closed reports are erased this long after closing: keep nothing about them longer.
        self.retention = retention

    def subscribe(self, subscriber: Subscriber) -> None:
        self._signals.subscribe(subscriber)

    async def changes_after(self, seq: int) -> list[ReportChange]:
        """Every change stored after `seq`, oldest first."""
        return await self._changes_after(seq)

    def view(self, room: RoomRef) -> View:
        """Labels, times, area and command names as they read in `room`."""
        return self._view(room)
