"""Rotating a room: a successor with the same role, areas and members takes its place.

The steps, each recorded before the next, so a crash at any point leaves exactly one of
the two rooms serving and a restart finishes the job:
1. the successor is created with the current members (minus those left out) invited;
2. the network switches to it in one stored step (the core's structure): from then on
   alerts, dispatch calls and rosters go to the successor, and open alerts are posted
   there at their next change;
3. what the outbox still holds for the old room is delivered there before the bot
   leaves (it waits for it, a bounded time), then the old room is told where its members
   went, pointed at the successor (Matrix: `m.room.tombstone`, where the bot may), and
   left.
A crash during 1 leaves the old room serving (an empty successor may be left behind); a
crash after 1 and before 2 switches on restart; after 2, the restart finishes 3.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from bot.api import BotContext, Delivery, RoomRef, plain_message, utc_timestamp

log = logging.getLogger(__name__)

CONTEXT = "zones.rotation"
# How long the bot waits for the old room's queued messages before leaving it anyway.
DRAIN_SECONDS = 60.0


class RotationFailed(Exception):
    """The network would not create the successor: nothing changed."""


@dataclass(frozen=True)
class Rotation:
    transport: str
    old: str
    name: str
    new: str | None = None

    @property
    def old_room(self) -> RoomRef:
        return RoomRef(self.transport, self.old)

    @property
    def new_room(self) -> RoomRef:
        assert self.new is not None
        return RoomRef(self.transport, self.new)


class Rotations:
    def __init__(self, bot: BotContext, now: Callable[[], datetime]) -> None:
        self.bot = bot
        self._now = now
        self.drain_seconds = DRAIN_SECONDS

    async def rotate(self, room: RoomRef, without: Sequence[str]) -> RoomRef:
        """Replace `room` by a successor, without the members `without` (their ids);
        returns it once the old room is left."""
        structure = self.bot.structure
        transport = structure.transport(room.transport)
        members = [m for m in await transport.members(room.room_id) if m not in without]
        rotation = Rotation(room.transport, room.room_id, await structure.room_name(room))
        await self._save(rotation)
        try:
            new = await transport.create_room(rotation.name, members, successor_of=room.room_id)
        except Exception as error:
            await self._forget(rotation)
            log.warning("a rotation failed to create the new room: %s", error)
            raise RotationFailed from error
        rotation = Rotation(room.transport, room.room_id, rotation.name, new)
        await self._save(rotation)
        await structure.replace_room(room, new)
        await self._finish(rotation)
        return rotation.new_room

    async def resume(self) -> list[Rotation]:
        """Finish the rotations a crash interrupted; those not yet switched before the
        successor existed are dropped (the old room still serves)."""
        finished = []
        for rotation in await self._unfinished():
            if rotation.new is None:
                await self._forget(rotation)
                log.warning("a rotation stopped before its successor existed: not done")
                continue
            if self.bot.structure.room_origin(rotation.old_room) is not None:
                await self.bot.structure.replace_room(rotation.old_room, rotation.new)
            else:
                await self.bot.structure.follow(rotation.old_room, rotation.new_room)
            await self._finish(rotation)
            finished.append(rotation)
        return finished

    async def has_successor(self, room: RoomRef) -> bool:
        """Whether a rotation of `room` under way has made its successor already."""
        return any(r.old_room == room and r.new for r in await self._unfinished())

    async def _finish(self, rotation: Rotation) -> None:
        old, new = rotation.old_room, rotation.new_room
        await self._drain(old)
        transport = self.bot.structure.transport(old.transport)
        # The old room is out of the network: it speaks its successor's language.
        t = self.bot.translator(self.bot.settings.room_language(new.transport, new.room_id))
        await self.notify(
            old, f"rotation:{old.room_id}:moved", t("zones.moved_notice", room=rotation.name)
        )
        # Queued, not sent now: the network may take a moment to show the bot its new room.
        welcome = plain_message(t("zones.welcome", room=rotation.name))
        await self.bot.outbox.enqueue([Delivery(f"rotation:{old.room_id}:welcome", new, welcome)])
        linked = await transport.mark_replaced(old.room_id, new.room_id)
        await transport.leave(old.room_id)
        await self._forget(rotation)
        log.info("a room was rotated (%s, linked: %s)", old.transport, linked)

    async def _drain(self, room: RoomRef) -> None:
        """Wait, a bounded time, until the outbox delivered what it holds for `room`."""
        if not await self.bot.outbox.drain(room, self.drain_seconds):
            log.warning("left a rotated room with messages still undelivered")

    async def notify(self, room: RoomRef, key: str, text: str) -> None:
        """A notice in the room, sent now (the outbox retries it if that fails)."""
        try:
            await self.bot.outbox.send_now(Delivery(key, room, plain_message(text)))
        except Exception as error:  # the outbox retries it; the rotation goes on
            log.warning("a rotation notice will be sent later (%s)", type(error).__name__)

    # The record of rotations under way.

    async def _save(self, rotation: Rotation) -> None:
        body = self.bot.cipher.encrypt_json(rotation.__dict__, CONTEXT)
        await self.bot.db.execute(
            "INSERT INTO zone_rotations (key, body, started_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET body = excluded.body",
            (self._key(rotation), body, utc_timestamp(self._now())),
        )

    async def _forget(self, rotation: Rotation) -> None:
        await self.bot.db.execute(
            "DELETE FROM zone_rotations WHERE key = ?", (self._key(rotation),)
        )

    async def _unfinished(self) -> list[Rotation]:
        rows = await self.bot.db.fetchall("SELECT body FROM zone_rotations ORDER BY started_at")
        bodies: list[dict[str, Any]] = [
            self.bot.cipher.decrypt_json(row["body"], CONTEXT) for row in rows
        ]
        return [Rotation(**body) for body in bodies]

    def _key(self, rotation: Rotation) -> str:
        return self.bot.cipher.keyed_hash(f"{rotation.transport}:{rotation.old}", CONTEXT)
