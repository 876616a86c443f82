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

from bot.api import BotContext, RoomRef, utc_timestamp

ADDRESS_CONTEXT = "subscriptions.address"
CODE_PURPOSE = "subscriptions.code"


@dataclass(frozen=True)
class Address:
    """Where a subscriber is written to: their direct chat with the bot."""

    room: RoomRef
    user_id: str


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
                "INSERT INTO subscribers (person, address, vouched_by, created_at)"
                " VALUES (?, ?, ?, ?) ON CONFLICT (person) DO UPDATE SET"
                " address = excluded.address,"
                " vouched_by = COALESCE(subscribers.vouched_by, excluded.vouched_by)",
                (person, sealed, vouched_by, utc_timestamp(now)),
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

    async def following(self, areas: frozenset[str]) -> list[Address]:
        """Each subscriber of any of `areas`, once."""
        if not areas:
            return []
        marks = ", ".join("?" * len(areas))
        rows = await self.bot.db.fetchall(
            "SELECT address FROM subscribers WHERE person IN"
            f" (SELECT person FROM subscriptions WHERE area IN ({marks})) ORDER BY created_at",
            tuple(sorted(areas)),
        )
        return [self._address(row["address"]) for row in rows]

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

    def _address(self, sealed: bytes) -> Address:
        data = self.bot.cipher.decrypt_json(sealed, ADDRESS_CONTEXT)
        return Address(RoomRef(data["transport"], data["room"]), data["user"])

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
