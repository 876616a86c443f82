"""The alert relay: a confirmed report reaches every room watching its area, exactly once.

It listens to the sightings plugin's report changes (`ReportFeed`). A confirmation becomes a
broadcast to every room whose role hears alerts in the report's area (plus the reporter's
thread, when that room is not alerted anyway); an update, an all-clear or a retraction edits
every alert sent and posts a short follow-up replying to it. The core's broadcasts keep
deliveries durable and keyed, so replaying a change after a crash adds nothing. The last
change relayed is remembered, and the changes after it are caught up at start.
"""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.api import ALERTS, Level, OutgoingMessage, Plugin, Role, RoomRef, Target
from plugins.relay.render import alert, follow_up
from plugins.sightings import ChangeKind, ReportChange, ReportFeed

log = logging.getLogger(__name__)

PURGE_INTERVAL = timedelta(hours=6)
CLOSING = frozenset({ChangeKind.CLEARED, ChangeKind.RETRACTED})
# Broadcast keys and topics of this plugin start with this.
PREFIX = "relay:"


class Relay(Plugin):
    name = "relay"
    locales = "plugins.relay.locales"
    migrations = "plugins.relay.migrations"
    requires = ("sightings",)
    # Broadcast-only rooms that hear the confirmed alerts of their areas.
    roles = (Role("alerts", Level.NEIGHBOR, frozenset({ALERTS})),)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._feed: ReportFeed | None = None

    @property
    def feed(self) -> ReportFeed:
        assert self._feed is not None, "start() first"
        return self._feed

    async def start(self) -> None:
        self._feed = self.bot.service(ReportFeed)
        await self.feed.follow(self.name, self.on_change)
        self.bot.scheduler.every(PURGE_INTERVAL, self.purge)

    async def on_change(self, change: ReportChange) -> None:
        if change.kind is ChangeKind.CONFIRMED:
            rooms = await self._alert(change)
        else:
            rooms = await self._revise(change)
        log.info("relayed a report change to %d rooms", rooms)

    async def _alert(self, change: ReportChange) -> int:
        targets = self.bot.broadcasts.audience(ALERTS, change.report.area)
        if all(target.room != change.reporter_room for target in targets):
            targets.append(Target(change.reporter_room, change.reporter_thread))

        def render(room: RoomRef) -> OutgoingMessage:
            return _notifying(alert(change, change.at, self.feed.view(room)).message())

        # The key names the confirmation: report ids can come back after a purge.
        key = f"{PREFIX}{change.seq}"
        await self.bot.broadcasts.open(
            key, _topic(change), targets, render, at=change.at, urgent=True
        )
        return len(targets)

    async def _revise(self, change: ReportChange) -> int:
        broadcast = await self.bot.broadcasts.latest(_topic(change))
        if broadcast is None:
            return 0
        confirmed_at = broadcast.opened_at

        def edit(room: RoomRef) -> OutgoingMessage:
            return _notifying(alert(change, confirmed_at, self.feed.view(room)).message())

        def follow(room: RoomRef) -> OutgoingMessage:
            return _notifying(follow_up(change, self.feed.view(room)).message())

        await self.bot.broadcasts.revise(
            broadcast, str(change.seq), edit=edit, follow_up=follow, urgent=True
        )
        if change.kind in CLOSING:
            await self.bot.broadcasts.close(_topic(change), change.at)
        return len(broadcast.targets)

    async def purge(self) -> None:
        """Forget where closed alerts went once their reports are past retention."""
        await self.bot.broadcasts.purge(PREFIX, datetime.now(UTC) - self.feed.retention)


def _topic(change: ReportChange) -> str:
    return f"{PREFIX}{change.report_id}"


def _notifying(message: OutgoingMessage) -> OutgoingMessage:
    """Alerts notify: m.text, not a notice."""
    return replace(message, notice=False)
