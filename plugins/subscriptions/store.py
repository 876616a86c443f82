"""Subscribers, their areas and the vouching codes, as stored.

A subscriber is a keyed hash plus the encrypted address of their direct chat; the areas
are clear (how many follow an area is what admins may see). Nothing here can list who
subscribes without the data key, and nothing lists them with it but the delivery.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from bot.api import BotContext, RoomRef, utc_timestamp

ADDRESS_CONTEXT = "subscriptions.address"
CODE_PURPOSE = "subscriptions.code"
ROOM_PURPOSE = "subscriptions.room"
# Alerts that could not reach a subscriber (they left the chat, blocked the bot) before
# they are dropped.
DROP_AFTER = 3


@dataclass(frozen=True)
class Address:
    """Where a subscriber is written to: their direct chat with the bot."""

    room: RoomRef
    user_id: str
    # They got in with a member's code (not by being in one of the bot's rooms).
    vouched: bool = False


class Redeemed(Enum):
    OK = "ok"
    UNKNOWN = "unknown"
    USED = "used"
    EXPIRED = "expired"


class Subscribers:
    def __init__(self, bot: BotContext) -> None:
        self.bot = bot

    async def subscribe(
        self, address: Address, areas: Iterable[str], *, now: datetime, vouched_by: str | None
    ) -> None:
        person = self.bot.person(address.user_id)
        body = {"transport": address.room.transport, "room": address.room.room_id}
        sealed = self.bot.cipher.encrypt_json({**body, "user": address.user_id}, ADDRESS_CONTEXT)
        async with self.bot.db.transaction() as tx:
            await tx.execute(
                "INSERT INTO subscribers (person, address, room_key, vouched_by, created_at)"
                " VALUES (?, ?, ?, ?, ?) ON CONFLICT (person) DO UPDATE SET"
                " address = excluded.address, room_key = excluded.room_key, misses = 0,"
                " vouched_by = COALESCE(subscribers.vouched_by, excluded.vouched_by)",
                (person, sealed, self._room(address.room), vouched_by, utc_timestamp(now)),
            )
            await tx.executemany(
                "INSERT OR IGNORE INTO subscriptions (person, area) VALUES (?, ?)",
                [(person, area) for area in areas],
            )

    async def unsubscribe(self, user_id: str, areas: Iterable[str] | None) -> list[str]:
        """Stop `areas` (all when None); the areas stopped. A subscriber left without
        areas is erased."""
        person = self.bot.person(user_id)
        before = await self.areas_of(user_id)
        gone = before if areas is None else [area for area in areas if area in before]
        async with self.bot.db.transaction() as tx:
            await tx.executemany(
                "DELETE FROM subscriptions WHERE person = ? AND area = ?",
                [(person, area) for area in gone],
            )
            if len(gone) == len(before):
                await tx.execute("DELETE FROM subscribers WHERE person = ?", (person,))
        return gone

    async def areas_of(self, user_id: str) -> list[str]:
        rows = await self.bot.db.fetchall(
            "SELECT area FROM subscriptions WHERE person = ? ORDER BY area",
            (self.bot.person(user_id),),
        )
        return [str(row["area"]) for row in rows]

    async def following(
        self, area: str, reach: frozenset[str]
    ) -> tuple[list[Address], list[Address]]:
        """The subscribers of any of `reach`, once each: those of `area` itself, then the
        others."""
        marks = ", ".join("?" * len(reach))
        rows = await self.bot.db.fetchall(
            "SELECT s.address, s.vouched_by, MAX(x.area = ?) AS own FROM subscribers s"
            f" JOIN subscriptions x ON x.person = s.person WHERE x.area IN ({marks})"
            " GROUP BY s.person ORDER BY s.created_at",
            (area, *sorted(reach)),
        )
        own = [self._address(row) for row in rows if row["own"]]
        others = [self._address(row) for row in rows if not row["own"]]
        return own, others

    async def missed(self, *, user_id: str | None = None, room: RoomRef | None = None) -> bool:
        """An alert could not reach the subscriber (by person, or by their chat); whether
        that was one time too many, and they were dropped."""
        where, key = (
            ("person", self.bot.person(user_id)) if user_id else ("room_key", self._room(room))
        )
        row = await self.bot.db.fetchone(
            f"UPDATE subscribers SET misses = misses + 1 WHERE {where} = ? RETURNING misses",
            (key,),
        )
        if row is None or row["misses"] < DROP_AFTER:
            return False
        async with self.bot.db.transaction() as tx:
            await tx.execute(f"DELETE FROM subscribers WHERE {where} = ?", (key,))
            await tx.execute(
                "INSERT INTO subscription_drops (id, dropped) VALUES (1, 1)"
                " ON CONFLICT (id) DO UPDATE SET dropped = dropped + 1"
            )
        return True

    async def dropped(self) -> int:
        row = await self.bot.db.fetchone("SELECT dropped FROM subscription_drops")
        return int(row["dropped"]) if row is not None else 0

    def _room(self, room: RoomRef | None) -> str:
        assert room is not None
        return self.bot.cipher.keyed_hash(f"{room.transport}:{room.room_id}", ROOM_PURPOSE)

    async def counts(self) -> dict[str, int]:
        rows = await self.bot.db.fetchall(
            "SELECT area, COUNT(*) AS n FROM subscriptions GROUP BY area ORDER BY area"
        )
        return {str(row["area"]): int(row["n"]) for row in rows}

    async def forget(self, user_id: str) -> bool:
        person = self.bot.person(user_id)
        return bool(
            await self.bot.db.execute("DELETE FROM subscribers WHERE person = ?", (person,))
        )

    def _address(self, row: Any) -> Address:
        data = self.bot.cipher.decrypt_json(row["address"], ADDRESS_CONTEXT)
        room = RoomRef(data["transport"], data["room"])
        return Address(room, data["user"], vouched=row["vouched_by"] is not None)

    # Vouching.

    async def vouch(self, voucher_id: str, code: str, expires_at: datetime) -> None:
        await self.bot.db.execute(
            "INSERT INTO vouch_codes (code, voucher, expires_at) VALUES (?, ?, ?)",
            (self._code(code), self.bot.person(voucher_id), utc_timestamp(expires_at)),
        )

    async def redeem(self, code: str, now: datetime) -> tuple[Redeemed, str | None]:
        """Use a code once: the outcome, and the voucher (their keyed hash) when it works."""
        key = self._code(code)
        row = await self.bot.db.fetchone(
            "SELECT voucher, expires_at, used_at FROM vouch_codes WHERE code = ?", (key,)
        )
        if row is None:
            return Redeemed.UNKNOWN, None
        if row["used_at"] is not None:
            return Redeemed.USED, None
        if datetime.fromisoformat(row["expires_at"]) <= now:
            return Redeemed.EXPIRED, None
        taken = await self.bot.db.execute(
            "UPDATE vouch_codes SET used_at = ? WHERE code = ? AND used_at IS NULL",
            (utc_timestamp(now), key),
        )
        return (Redeemed.OK, str(row["voucher"])) if taken else (Redeemed.USED, None)

    async def revoke(self, voucher_id: str) -> int:
        """Erase every subscriber `voucher_id` vouched for, and their unused codes."""
        voucher = self.bot.person(voucher_id)
        async with self.bot.db.transaction() as tx:
            await tx.execute("DELETE FROM vouch_codes WHERE voucher = ?", (voucher,))
            return await tx.execute("DELETE FROM subscribers WHERE vouched_by = ?", (voucher,))

    async def vouched(self, user_id: str) -> bool:
        """Whether the person got in with a code."""
        row = await self.bot.db.fetchone(
            "SELECT vouched_by FROM subscribers WHERE person = ?", (self.bot.person(user_id),)
        )
        return row is not None and row["vouched_by"] is not None

    def _code(self, code: str) -> str:
        return self.bot.cipher.keyed_hash(code.strip().upper(), CODE_PURPOSE)
