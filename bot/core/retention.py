"""Disappearing bot messages: in a room with `message_retention_days`, the bot deletes its
own messages once they are that old (the README's "Privacy").

Every message the bot sends there is recorded (room, event, send key, time; never its
text). A sweep deletes the oldest that are due, a small batch at a time and spaced out, so
the homeserver's rate limits are never hit and a restart resumes where it stopped. An
alert (a broadcast's message, its edits and follow-ups) waits until its broadcast has
been closed that long: an alert that is still live never disappears.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta

from bot.core.config import Settings
from bot.core.events import RoomRef
from bot.storage.database import Database, utc_timestamp

log = logging.getLogger(__name__)

BATCH = 20
# Between two deletions: 20 in 10 s, far below any homeserver's rate limit.
SPACING_SECONDS = 0.5

Retract = Callable[[RoomRef, str], Awaitable[bool]]


class Retention:
    def __init__(
        self,
        db: Database,
        settings: Callable[[], Settings],
        sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
    ) -> None:
        self._db = db
        # The settings in force: rooms come and go while the bot runs.
        self._settings = settings
        self._sleep = sleep
        # Replaced by tests that move time by hand (`Application.use_clock`).
        self.now: Callable[[], datetime] = lambda: datetime.now(UTC)

    def days(self, room: RoomRef) -> int | None:
        config = self._settings().room(room.transport, room.room_id)
        return config.message_retention_days if config is not None else None

    async def record(self, room: RoomRef, event_id: str, key: str | None) -> None:
        """A message the bot just sent; kept track of only where the room wants it gone."""
        if self.days(room) is None:
            return
        await self._db.execute(
            "INSERT OR IGNORE INTO retained_messages"
            " (transport, room_id, event_id, send_key, sent_at) VALUES (?, ?, ?, ?, ?)",
            (room.transport, room.room_id, event_id, key, utc_timestamp(self.now())),
        )

    async def sweep(self, retract: Retract) -> int:
        """Delete up to a batch of messages that are due; how many were deleted."""
        deleted = 0
        for room, event_id in await self._due(self.now()):
            if await retract(room, event_id):
                deleted += 1
            # Gone, or never deletable (a room the bot left): not tried again either way.
            await self._db.execute(
                "DELETE FROM retained_messages WHERE transport = ? AND room_id = ?"
                " AND event_id = ?",
                (room.transport, room.room_id, event_id),
            )
            await self._sleep(SPACING_SECONDS)
        if deleted:
            log.info("deleted %d old bot messages", deleted)
        return deleted

    async def _due(self, now: datetime) -> list[tuple[RoomRef, str]]:
        due: list[tuple[RoomRef, str]] = []
        for room in self._settings().rooms:
            if room.message_retention_days is None or len(due) >= BATCH:
                continue
            cutoff = utc_timestamp(now - timedelta(days=room.message_retention_days))
            rows = await self._db.fetchall(
                "SELECT event_id FROM retained_messages m"
                " WHERE transport = ? AND room_id = ? AND sent_at < ?"
                # A broadcast's message waits for the broadcast to be closed long enough.
                " AND NOT EXISTS (SELECT 1 FROM broadcasts b"
                "   WHERE substr(m.send_key, 1, length(b.key) + 1) = b.key || ':'"
                "   AND (b.closed_at IS NULL OR b.closed_at >= ?))"
                " ORDER BY sent_at LIMIT ?",
                (room.transport, room.id, cutoff, cutoff, BATCH - len(due)),
            )
            ref = RoomRef(room.transport, room.id)
            due += [(ref, str(row["event_id"])) for row in rows]
        return due
