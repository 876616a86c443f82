"""Zones: the network's areas and rooms, changed from chat by admins, and rooms rotated.

`!area` adds areas inside others and links neighbours, `!room` adopts the room where it is
typed, creates new ones or lets one go, `!rooms` shows the network, `!rotate` replaces a
room by a fresh one with the same members (also every `rotate_days`). Changes are the
core's structure: stored, applied at once, kept across restarts.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.api import (
    CommandContext,
    Level,
    Note,
    Plugin,
    Rest,
    RoomRef,
    StructureError,
    command,
    job,
)
from plugins.zones.listing import network_listing
from plugins.zones.rotation import RotationFailed, Rotations
from plugins.zones.schedule import (
    NOTICE_JOB,
    ROTATE_JOB,
    SIZE_INTERVAL,
    RotationSchedule,
    SizeWatch,
)
from plugins.zones.shape import (
    Adoption,
    ZoneError,
    check_slug,
    known_area,
    parse_adoption,
    parse_area,
    role_word,
    room_config,
)

log = logging.getLogger(__name__)

ADD_WORDS = frozenset({"add", "new", "agregar", "añadir", "anadir", "nueva"})
NEAR_WORDS = frozenset({"near", "cerca"})
DROP_WORDS = frozenset({"drop", "remove", "quitar", "borrar"})
HERE_WORDS = frozenset({"here", "aquí", "aqui"})
WITHOUT_WORDS = frozenset({"without", "sin"})
RESUME_JOB = "zones.resume"
ROTATE_NOW_JOB = "zones.rotate_now"
RETRY = timedelta(seconds=5)


class ZonesPlugin(Plugin):
    name = "zones"
    locales = "plugins.zones.locales"
    migrations = "plugins.zones.migrations"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.rotations = Rotations(self.bot, self._now)
        self.schedule = RotationSchedule(self.bot, self._now)
        self.sizes = SizeWatch(self.bot, self._now)

    def _now(self) -> datetime:
        return self.clock()

    async def start(self) -> None:
        await self.schedule.plan()
        self.bot.scheduler.every(SIZE_INTERVAL, self.sizes.look)
        # Rotations a crash interrupted are finished once the networks are connected.
        await self.bot.scheduler.schedule(RESUME_JOB, self._now(), {}, "zones-resume")

    async def forget(self, user_id: str) -> list[Note]:
        """Nothing of a person is kept here: rotations, schedules and size warnings name
        rooms only (the people left out of a rotation are not stored)."""
        return []

    # --- areas ----------------------------------------------------------------------------

    @command("area", level=Level.ADMIN, aliases={"es": ("zona",)}, direct=True, rank=80)
    async def area(self, ctx: CommandContext, change: str, rest: Rest = "") -> None:
        """Admins: add an area (inside another), make two areas near, or remove one."""
        action = change.casefold()
        try:
            if action in ADD_WORDS:
                await self._add_area(ctx, rest)
            elif action in NEAR_WORDS:
                await self._link_areas(ctx, rest.split())
            elif action in DROP_WORDS:
                await self._drop_area(ctx, rest.strip().lower())
            else:
                raise ZoneError("zones.area_usage")
        except ZoneError as error:
            await ctx.reply(ctx.t(error.key, **error.params))
        except StructureError as error:
            await ctx.reply(ctx.t("zones.refused", why=str(error)))

    async def _add_area(self, ctx: CommandContext, text: str) -> None:
        area = parse_area(text)
        if self.bot.settings.area(area.slug) is not None:
            raise ZoneError("zones.area_exists", area=area.slug)
        if area.parent is not None:
            known_area(self.bot, area.parent)
        await self.bot.structure.add_area(area)
        parent = self.bot.settings.area(area.parent) if area.parent else None
        inside = ctx.t("zones.inside", area=parent.name(ctx.lang)) if parent else ""
        await ctx.reply(
            ctx.t("zones.area_added", area=area.slug, name=area.name(ctx.lang), inside=inside)
        )

    async def _link_areas(self, ctx: CommandContext, words: list[str]) -> None:
        if len(words) != 2:
            raise ZoneError("zones.area_usage")
        first, second = (known_area(self.bot, word) for word in words)
        if first == second:
            raise ZoneError("zones.near_itself", area=first)
        area = self.bot.settings.area(first)
        if area is not None and second in area.near:
            raise ZoneError("zones.already_near", area=first, other=second)
        await self.bot.structure.link(first, second)
        await ctx.reply(ctx.t("zones.near_done", area=first, other=second))

    async def _drop_area(self, ctx: CommandContext, slug: str) -> None:
        check_slug(slug)
        slug = known_area(self.bot, slug)
        if self.bot.structure.area_origin(slug) == "config":
            raise ZoneError("zones.area_in_config", area=slug)
        uses = self.bot.structure.area_uses(slug)
        if uses:
            raise ZoneError("zones.area_in_use", area=slug, uses="; ".join(uses))
        await self.bot.structure.drop_area(slug)
        await ctx.reply(ctx.t("zones.area_dropped", area=slug))

    # --- rooms ----------------------------------------------------------------------------

    @command("room", level=Level.ADMIN, aliases={"es": ("sala",)}, direct=True, rank=80)
    async def room(self, ctx: CommandContext, change: str, rest: Rest = "") -> None:
        """Admins: adopt this room for a role and areas, create a new room, or let one go."""
        action = change.casefold()
        try:
            if action in HERE_WORDS:
                await self._adopt(ctx, rest.split())
            elif action in ADD_WORDS:
                await self._create(ctx, rest.split())
            elif action in DROP_WORDS:
                await self._drop_room(ctx)
            else:
                raise ZoneError("zones.room_usage")
        except ZoneError as error:
            await ctx.reply(ctx.t(error.key, **error.params))
        except StructureError as error:
            await ctx.reply(ctx.t("zones.refused", why=str(error)))

    async def _adopt(self, ctx: CommandContext, words: list[str]) -> None:
        if ctx.direct:
            raise ZoneError("zones.not_in_direct_chat")
        origin = self.bot.structure.room_origin(ctx.room)
        if origin == "config":
            raise ZoneError("zones.room_in_config")
        adoption = parse_adoption(self.bot, ctx.t, words)
        before = self.bot.room_config(ctx.room)
        await self.bot.structure.adopt(room_config(ctx.room, adoption))
        said = self._described(ctx, adoption)
        if before is None:
            await ctx.reply(ctx.t("zones.room_adopted", room=said))
        else:
            was = self._described(ctx, Adoption(before.role, before.areas, before.language))
            await ctx.reply(ctx.t("zones.room_changed", room=said, was=was))

    async def _create(self, ctx: CommandContext, words: list[str]) -> None:
        if len(words) < 3:
            raise ZoneError("zones.room_new_usage")
        adoption = parse_adoption(self.bot, ctx.t, words[:2])
        name = " ".join(words[2:])
        transport = self.bot.structure.transport(ctx.room.transport)
        room_id = await transport.create_room(name, [ctx.event.sender.user_id])
        room = RoomRef(ctx.room.transport, room_id)
        await self.bot.structure.adopt(room_config(room, adoption))
        await ctx.reply(ctx.t("zones.room_created", name=name, room=self._described(ctx, adoption)))

    async def _drop_room(self, ctx: CommandContext) -> None:
        origin = self.bot.structure.room_origin(ctx.room)
        if origin is None:
            raise ZoneError("zones.room_not_in_network")
        if origin == "config":
            raise ZoneError("zones.room_in_config")
        await self.bot.structure.drop_room(ctx.room)
        await ctx.reply(ctx.t("zones.room_dropped"))

    def _described(self, ctx: CommandContext, adoption: Adoption) -> str:
        areas = ", ".join(
            area.name(ctx.lang)
            for slug in adoption.areas
            if (area := self.bot.settings.area(slug)) is not None
        )
        language = f" · {adoption.language}" if adoption.language else ""
        return f"{role_word(ctx.t, adoption.role)} · {areas}{language}"

    @command("rooms", level=Level.ADMIN, aliases={"es": ("salas",)}, direct=True, rank=80)
    async def rooms(self, ctx: CommandContext) -> None:
        """Admins: the network, areas and rooms, marking what was added from chat."""
        await ctx.reply(await network_listing(self.bot, ctx.lang))

    # --- rotation -------------------------------------------------------------------------

    @command("rotate", level=Level.NEIGHBOR, aliases={"es": ("rotar",)}, rank=80)
    async def rotate(self, ctx: CommandContext, rest: Rest = "") -> None:
        """Admins or the room's coordinators: move this room's members to a new room."""
        words = rest.split()
        if not await self._may_rotate(ctx, words):
            return
        transport = self.bot.structure.transport(ctx.room.transport)
        named = {n: await transport.members_named(ctx.room.room_id, [n]) for n in words[1:]}
        unknown = [name for name, found in named.items() if not found]
        if unknown:
            await ctx.reply(ctx.t("zones.rotate_unknown", people=", ".join(unknown)))
            return
        # Run by the scheduler, not here: a rotation takes a while (a room to make, people
        # to invite, the old room's messages to deliver), and events keep being handled.
        # Stored before the answer: what the bot says it does survives a crash.
        without = sorted({member for found in named.values() for member in found})
        payload = {"transport": ctx.room.transport, "room": ctx.room.room_id, "without": without}
        job_id = f"rotate-now:{self.schedule.key(ctx.room)}"
        await self.bot.scheduler.schedule(ROTATE_NOW_JOB, self._now(), payload, job_id)
        await ctx.reply(ctx.t("zones.rotating"))

    async def _may_rotate(self, ctx: CommandContext, words: list[str]) -> bool:
        """Whether this room rotates, by this person, as typed; else says why."""
        config = self.bot.room_config(ctx.room)
        if config is None:
            await ctx.reply(ctx.t("zones.room_not_in_network"))
        elif ctx.level < Level.ADMIN and ctx.event.sender.user_id not in config.coordinators:
            await ctx.reply(ctx.t("zones.rotate_not_allowed"))
        elif words and words[0].casefold() not in WITHOUT_WORDS:
            await ctx.reply(ctx.t("zones.rotate_usage"))
        else:
            return True
        return False

    @job(ROTATE_NOW_JOB, grace=timedelta(days=1))
    async def rotate_now(self, payload: dict[str, Any]) -> None:
        room = RoomRef(payload["transport"], payload["room"])
        if self.bot.room_config(room) is None or await self.rotations.has_successor(room):
            return  # rotated already, or the resume job finishes it (after a crash)
        if not self.bot.structure.connected(room.transport):
            await self._later(ROTATE_NOW_JOB, payload, f"rotate-now:{self.schedule.key(room)}")
            return
        try:
            await self._rotate(room, payload["without"])
        except RotationFailed:
            lang = self.bot.settings.room_language(room.transport, room.room_id)
            text = self.bot.translator(lang)("zones.rotate_failed")
            await self.rotations.notify(room, f"rotation:{room.room_id}:failed:{self._now()}", text)

    async def _rotate(self, room: RoomRef, without: list[str]) -> None:
        await self.rotations.rotate(room, without)
        await self.schedule.rotated(room)

    @job(ROTATE_JOB, grace=timedelta(days=3650))
    async def rotate_when_due(self, payload: dict[str, Any]) -> None:
        room = RoomRef(payload["transport"], payload["room"])
        if self.bot.room_config(room) is None or not await self.schedule.is_due(
            room, payload["due"]
        ):
            return
        if not self.bot.structure.connected(room.transport):
            await self._later(ROTATE_JOB, payload, f"rotate:{self.schedule.key(room)}")
            return
        await self._rotate(room, [])

    @job(NOTICE_JOB, grace=timedelta(hours=6))
    async def tell_rotation(self, payload: dict[str, Any]) -> None:
        room = RoomRef(payload["transport"], payload["room"])
        if self.bot.room_config(room) is None:
            return
        lang = self.bot.settings.room_language(room.transport, room.room_id)
        text = self.bot.translator(lang)("zones.rotation_tomorrow")
        await self.rotations.notify(room, f"rotation:{room.room_id}:{payload['due']}", text)

    @job(RESUME_JOB, grace=timedelta(days=3650))
    async def resume(self, payload: dict[str, Any]) -> None:
        try:
            for rotation in await self.rotations.resume():
                await self.schedule.rotated(rotation.old_room)
        except StructureError:  # a network not connected yet
            await self._later(RESUME_JOB, payload, "zones-resume")

    async def _later(self, kind: str, payload: dict[str, Any], job_id: str) -> None:
        """Try a job again in a moment: its network is not up yet (just started)."""
        await self.bot.scheduler.schedule(kind, self._now() + RETRY, payload, job_id)
