"""Reports by direct chat (SPEC section 12): which area a report is for.

A room says its area; a direct chat does not. The person may report in the areas of the
configured rooms they are in that take reports. A report names its area before a colon
(`!report pilsen: 18th & Ashland; ...`); with one area it needs not; with several the bot
asks, and answering with the area's name files it. The report waiting for that answer is
kept in memory only, for a few minutes: nothing is stored before it is filed.
"""

from __future__ import annotations

from dataclasses import dataclass

from cachetools import TTLCache

from bot.api import REPORTS, BotContext, EventContext, MessageEvent
from plugins.sightings.model import IntakeRules
from plugins.sightings.notify import Notifier
from plugins.sightings.parser import area_named

KEEP_SECONDS = 600
MAX_WAITING = 10_000
REPORT_ROOMS = frozenset({REPORTS})


@dataclass(frozen=True)
class Placed:
    """A report's area, and what the person wrote after it ("": the guided dialog)."""

    area: str
    details: str


class DirectAreas:
    def __init__(self, bot: BotContext, notifier: Notifier) -> None:
        self.bot = bot
        self._notifier = notifier
        # (transport, room id, person) -> what followed `!report`, waiting for its area.
        self._waiting: TTLCache[tuple[str, str, str], str] = TTLCache(MAX_WAITING, KEEP_SECONDS)

    async def areas_of(
        self, ctx: EventContext[MessageEvent], roles: frozenset[str] | None = None
    ) -> list[str]:
        """The areas of the person's configured rooms (of `roles`, if given), in order."""
        settings = self.bot.settings
        rooms = await self.bot.shared_rooms(ctx.room.transport, ctx.event.sender.user_id)
        slugs: list[str] = []
        for room in rooms:
            if roles is None or settings.room_fits(room, roles):
                slugs += [slug for slug in room.areas if slug not in slugs]
        return slugs

    async def place(
        self, ctx: EventContext[MessageEvent], details: str, rules: IntakeRules
    ) -> Placed | None:
        """The report's area and text; None when the person was asked or told why not."""
        areas = await self.areas_of(ctx, REPORT_ROOMS)
        if not areas:
            await ctx.reply(ctx.t("sightings.direct.no_areas"))
            return None
        named, rest = _named_area(details, rules)
        if named is not None and named not in areas:
            await ctx.reply(ctx.t("sightings.direct.not_yours", areas=self._names(ctx, areas)))
            return None
        if named is not None or len(areas) == 1:
            return Placed(named or areas[0], rest)
        self._waiting[self._where(ctx)] = details
        await ctx.reply(ctx.t("sightings.direct.which_area", areas=self._names(ctx, areas)))
        return None

    async def answer(self, ctx: EventContext[MessageEvent], rules: IntakeRules) -> Placed | None:
        """The waiting report, when this message names one of the person's areas."""
        where = self._where(ctx)
        if where not in self._waiting:
            return None
        area = area_named(ctx.event.body, rules)
        if area is None or area not in await self.areas_of(ctx, REPORT_ROOMS):
            return None
        return Placed(area, self._waiting.pop(where))

    def asking(self, ctx: EventContext[MessageEvent]) -> bool:
        """Whether the person was asked here for a report's area and has not named it."""
        return self._where(ctx) in self._waiting

    def forget(self, person: str) -> None:
        for where in [w for w in self._waiting if w[2] == person]:
            del self._waiting[where]

    def _where(self, ctx: EventContext[MessageEvent]) -> tuple[str, str, str]:
        room = ctx.room
        return room.transport, room.room_id, self.bot.person(ctx.event.sender.user_id)

    def _names(self, ctx: EventContext[MessageEvent], slugs: list[str]) -> str:
        view = self._notifier.view(ctx.lang)
        return ", ".join(view.area_name(slug) for slug in slugs)


def _named_area(details: str, rules: IntakeRules) -> tuple[str | None, str]:
    """(area, the rest) when `details` starts with an area's name and a colon."""
    head, colon, rest = details.partition(":")
    area = area_named(head, rules) if colon else None
    return (area, rest.strip()) if area is not None else (None, details)
