"""What transports persist through the core: resume tokens, joined rooms, secrets."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from bot.storage.cipher import FieldCipher
from bot.storage.database import Database, utc_timestamp


class TransportState:
    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self._db = db
        self._cipher = cipher

    async def load_token(self, transport: str) -> str | None:
        row = await self._db.fetchone(
            "SELECT token FROM sync_state WHERE transport = ?", (transport,)
        )
        return None if row is None else str(row["token"])

    async def save_token(self, transport: str, token: str) -> None:
        await self._db.execute(
            "INSERT INTO sync_state (transport, token, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (transport) DO UPDATE SET token = excluded.token,"
            " updated_at = excluded.updated_at",
            (transport, token, utc_timestamp()),
        )

    async def room_joined_at(self, transport: str, room_id: str, joined_at: datetime) -> datetime:
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT OR IGNORE INTO joined_rooms (transport, room_id, joined_at)"
                " VALUES (?, ?, ?)",
                (transport, room_id, utc_timestamp(joined_at)),
            )
            row = await tx.fetchone(
                "SELECT joined_at FROM joined_rooms WHERE transport = ? AND room_id = ?",
                (transport, room_id),
            )
        assert row is not None
        return datetime.fromisoformat(row["joined_at"])

    async def claim_refusal(self, transport: str, room_id: str) -> bool:
        """True the first time only: the unencrypted-room explanation is sent once."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "INSERT OR IGNORE INTO joined_rooms (transport, room_id, joined_at)"
                " VALUES (?, ?, ?)",
                (transport, room_id, utc_timestamp()),
            )
            changed = await tx.execute(
                "UPDATE joined_rooms SET refusal_sent = 1"
                " WHERE transport = ? AND room_id = ? AND refusal_sent = 0",
                (transport, room_id),
            )
        return changed == 1

    async def load_secret(self, name: str) -> Any:
        row = await self._db.fetchone("SELECT value FROM secrets WHERE name = ?", (name,))
        return None if row is None else self._cipher.decrypt_json(row["value"], f"secrets.{name}")

    async def save_secret(self, name: str, value: Any) -> None:
        await self._db.execute(
            "INSERT INTO secrets (name, value) VALUES (?, ?)"
            " ON CONFLICT (name) DO UPDATE SET value = excluded.value",
            (name, self._cipher.encrypt_json(value, f"secrets.{name}")),
        )
