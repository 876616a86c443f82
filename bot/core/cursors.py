"""Cursors: how far each follower of an ordered log got, kept across restarts."""

from __future__ import annotations

from bot.storage.database import Database


class Cursors:
    def __init__(self, db: Database) -> None:
        self._db = db
        # Each position as last read or set: a follower asks before every change it hears
        # of, and only this object writes them.
        self._positions: dict[str, int] = {}

    async def get(self, name: str) -> int:
        """The last position `name` handled; 0 before the first."""
        if name not in self._positions:
            row = await self._db.fetchone("SELECT position FROM cursors WHERE name = ?", (name,))
            self._positions[name] = 0 if row is None else int(row["position"])
        return self._positions[name]

    async def set(self, name: str, position: int) -> None:
        await self._db.execute(
            "INSERT INTO cursors (name, position) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET position = excluded.position",
            (name, position),
        )
        self._positions[name] = position
