"""Rooms that rotate by themselves (`rotate_days`), and rooms nearing their size limit.

A room's next rotation is stored, so it happens once per period whatever restarts come
between; a day before, the room is told. One missed while the bot was down happens at
the next start. Room sizes are looked at every hour: the admins hear once of a room
reaching its `size_warning` (a Signal group: 900 of its 1,000), until it is smaller again.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta

from bot.api import (
    MODERATION,
    BotContext,
    Delivery,
    RoomConfig,
    RoomRef,
    plain_message,
    utc_timestamp,
)

ROTATE_JOB = "zones.rotate"
NOTICE_JOB = "zones.rotate_notice"
NOTICE_BEFORE = timedelta(days=1)
SIZE_INTERVAL = timedelta(hours=1)
KEY_PURPOSE = "zones.room"


def room_ref(config: RoomConfig) -> RoomRef:
    return RoomRef(config.transport, config.id)


class RotationSchedule:
    def __init__(self, bot: BotContext, now: Callable[[], datetime]) -> None:
        self.bot = bot
        self._now = now

    def key(self, room: RoomRef) -> str:
        return self.bot.cipher.keyed_hash(f"{room.transport}:{room.room_id}", KEY_PURPOSE)

    async def plan(self) -> None:
        """Every room with `rotate_days` has its next rotation stored and its jobs set."""
        for config in self.bot.settings.rooms:
            if config.rotate_days is not None:
                await self._plan_room(config, config.rotate_days)

    async def _plan_room(self, config: RoomConfig, days: int) -> None:
        room, now = room_ref(config), self._now()
        key = self.key(room)
        row = await self.bot.db.fetchone("SELECT next_at FROM zone_schedule WHERE key = ?", (key,))
        if row is None:
            due = now + timedelta(days=days)
            await self.bot.db.execute(
                "INSERT INTO zone_schedule (key, next_at) VALUES (?, ?)", (key, utc_timestamp(due))
            )
        else:
            due = datetime.fromisoformat(row["next_at"])
        payload = {"transport": room.transport, "room": room.room_id, "due": due.isoformat()}
        await self.bot.scheduler.schedule(ROTATE_JOB, max(due, now), payload, f"rotate:{key}")
        if due - NOTICE_BEFORE > now:
            await self.bot.scheduler.schedule(
                NOTICE_JOB, due - NOTICE_BEFORE, payload, f"rotate-notice:{key}"
            )

    async def is_due(self, room: RoomRef, due: str) -> bool:
        """Whether the job for `due` is still the room's next rotation (not replaced)."""
        row = await self.bot.db.fetchone(
            "SELECT next_at FROM zone_schedule WHERE key = ?", (self.key(room),)
        )
        return row is not None and datetime.fromisoformat(row["next_at"]) == datetime.fromisoformat(
            due
        )

    async def rotated(self, old: RoomRef) -> None:
        """The old room's schedule ends; its successor's starts now (see `plan`)."""
        await self.bot.db.execute("DELETE FROM zone_schedule WHERE key = ?", (self.key(old),))
        await self.plan()


class SizeWatch:
    def __init__(self, bot: BotContext, now: Callable[[], datetime]) -> None:
        self.bot = bot
        self._now = now

    async def look(self) -> None:
        for config in self.bot.settings.rooms:
            limit = config.members_to_warn_at()
            if limit is not None and self.bot.structure.connected(config.transport):
                await self._look_at(config, limit)

    async def _look_at(self, config: RoomConfig, limit: int) -> None:
        room = room_ref(config)
        count = len(await self.bot.structure.members(room))
        key = self.bot.cipher.keyed_hash(f"{room.transport}:{room.room_id}", KEY_PURPOSE)
        if count < limit:
            await self.bot.db.execute("DELETE FROM zone_size_warnings WHERE key = ?", (key,))
            return
        told = await self.bot.db.execute(
            "INSERT OR IGNORE INTO zone_size_warnings (key, warned_at) VALUES (?, ?)",
            (key, utc_timestamp(self._now())),
        )
        if told:
            await self._tell_admins(config, count)

    async def _tell_admins(self, config: RoomConfig, count: int) -> None:
        settings = self.bot.settings
        name = await self.bot.structure.room_name(room_ref(config))
        limit = self.bot.structure.transport(config.transport).member_limit
        targets = {
            room_ref(room)
            for area in config.areas
            for room in settings.serving_rooms(MODERATION, area)
        }
        for target in sorted(targets, key=lambda ref: ref.room_id):
            lang = settings.room_language(target.transport, target.room_id)
            t = self.bot.translator(lang)
            text = t("zones.size_warning", room=name, count=count)
            if limit is not None:
                text += " " + t("zones.size_limit", count=limit)
            text += " " + t("zones.size_choices", area=self.bot.command_name("area", lang))
            message = replace(plain_message(text), mentions=tuple(settings.admins))
            key = f"zones:size:{config.id}:{target.room_id}:{utc_timestamp(self._now())}"
            await self.bot.outbox.enqueue([Delivery(key, target, message)])
