"""What the Signal transport remembers across restarts: sent keys and thread membership."""

from __future__ import annotations

from datetime import datetime, timedelta

from bot.storage.cipher import FieldCipher
from bot.storage.database import Database, utc_timestamp

# Longer than any retry of a send, and than anyone answers in a thread.
KEEP = timedelta(days=30)


class SignalStore:
    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self._db = db
        self._cipher = cipher

    async def sent_timestamp(self, key: str) -> int | None:
        row = await self._db.fetchone(
            "SELECT timestamp FROM signal_sent WHERE key_hash = ?", (self._hash(key),)
        )
        return None if row is None else int(row["timestamp"])

    async def remember_sent(self, key: str, timestamp: int) -> None:
        await self._db.execute(
            "INSERT OR REPLACE INTO signal_sent (key_hash, timestamp, sent_at) VALUES (?, ?, ?)",
            (self._hash(key), timestamp, utc_timestamp()),
        )

    async def thread_of(self, message: str) -> str | None:
        row = await self._db.fetchone(
            "SELECT root FROM signal_threads WHERE message = ?", (message,)
        )
        return None if row is None else str(row["root"])

    async def remember_thread(self, message: str, root: str) -> None:
        await self._db.execute(
            "INSERT OR IGNORE INTO signal_threads (message, root, created_at) VALUES (?, ?, ?)",
            (message, root, utc_timestamp()),
        )

    async def prune(self, now: datetime) -> None:
        cutoff = utc_timestamp(now - KEEP)
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM signal_sent WHERE sent_at < ?", (cutoff,))
            await tx.execute("DELETE FROM signal_threads WHERE created_at < ?", (cutoff,))

    def _hash(self, key: str) -> str:
        # Keys name the events they answer, and so their senders: only a hash is kept.
        return self._cipher.keyed_hash(key, "signal.sent")
