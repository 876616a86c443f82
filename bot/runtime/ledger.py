"""The exactly-once ledger of incoming events.

An event is marked `started` before its handler runs and `done` after. A replayed event that
is `done` is skipped. One left `started` by a crash is handled again: the replies it sends
carry deterministic transaction keys, so the homeserver drops the copies it already has. An
event that crashed the bot twice is given up on rather than crashing it forever.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.storage.database import Database, utc_timestamp

MAX_ATTEMPTS = 2


class EventLedger:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def begin(self, transport: str, event_id: str) -> bool:
        """Claim the event for handling; False when it was handled or given up on."""
        # One statement: a new event is inserted as started; one left started by a crash
        # gets another attempt, at most MAX_ATTEMPTS in all.
        row = await self._db.fetchone(
            "INSERT INTO handled_events (event_id, transport, state, seen_at)"
            " VALUES (?, ?, 'started', ?)"
            " ON CONFLICT (event_id) DO UPDATE SET attempts = attempts + 1"
            " WHERE state = 'started' AND attempts < ?"
            " RETURNING attempts",
            (event_id, transport, utc_timestamp(), MAX_ATTEMPTS),
        )
        return row is not None

    async def finish(self, event_id: str) -> None:
        await self._db.execute(
            "UPDATE handled_events SET state = 'done' WHERE event_id = ?", (event_id,)
        )

    async def skip(self, transport: str, event_id: str) -> None:
        await self._db.execute(
            "INSERT OR IGNORE INTO handled_events (event_id, transport, state, seen_at)"
            " VALUES (?, ?, 'skipped', ?)",
            (event_id, transport, utc_timestamp()),
        )

    async def prune(self, now: datetime, keep: timedelta) -> int:
        """Forget entries older than `keep`: events that old are refused by age anyway."""
        return await self._db.execute(
            "DELETE FROM handled_events WHERE seen_at < ?", (utc_timestamp(now - keep),)
        )
