"""Cursors: how far each follower of an ordered log got, kept across restarts."""

from __future__ import annotations

from bot.storage.database import Database


class Cursors:
    def __init__(self, db: Database) -> None:
        self._db = db

    async def get(self, name: str) -> int:
        """The last position `name` handled; 0 before the first."""
        row = await self._db.fetchone("SELECT position FROM cursors WHERE name = ?", (name,))
        return 0 if row is None else int(row["position"])

    async def set(self, name: str, position: int) -> None:
        await self._db.execute(
            "INSERT INTO cursors (name, position) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            (name, position),
        )
