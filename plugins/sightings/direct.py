"""Reports by direct chat (README, "Private reports by direct chat"): which area a report is for.

A room says its area; a direct chat does not. The person may report in the areas of the
configured rooms they are in that take reports. A report names its area before a colon
(`!report pilsen: 18th & Ashland; ...`); with one area it needs not; with several the bot
asks, and answering with the area's name files it; anything else is no answer, and goes
where it would have gone. The report waiting for that answer is kept for ten minutes as a
dialog of the core's (stored encrypted, so a restart keeps it), one per person.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.api import REPORTS, BotContext, Dialog, Dialogs, EventContext, MessageEvent
from plugins.sightings.model import IntakeRules
from plugins.sightings.notify import Notifier
from plugins.sightings.parser import area_named

KEEP = timedelta(minutes=10)
REPORT_ROOMS = frozenset({REPORTS})


@dataclass(frozen=True)
class Placed:
    """A report's area, and what the person wrote after it ("": the guided dialog)."""

    area: str
    details: str


class DirectAreas:
    def __init__(self, bot: BotContext, notifier: Notifier, now: Callable[[], datetime]) -> None:
        self.bot = bot
        self._notifier = notifier
        # What followed `!report` (`details`), waiting for its area in the chat it was sent
        # to. A dialog without steps: the question and its answer are this module's.
        self._waiting = Dialogs(bot, "sightings.area", timeout=KEEP, now=now)

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
        # A new report replaces one still waiting.
        await self._waiting.end(ctx.event.sender.user_id)
        await self._waiting.start(ctx, {"details": details})
        await ctx.reply(ctx.t("sightings.direct.which_area", areas=self._names(ctx, areas)))
        return None

    async def answer(self, ctx: EventContext[MessageEvent], rules: IntakeRules) -> Placed | None:
        """The waiting report, when this message names one of the person's areas."""
        waiting = await self._waiting_here(ctx)
        if waiting is None:
            return None
        area = area_named(ctx.event.body, rules)
        if area is None or area not in await self.areas_of(ctx, REPORT_ROOMS):
            return None
        await self._waiting.end(waiting.user_id)
        return Placed(area, str(waiting.data["details"]))

    async def asking(self, ctx: EventContext[MessageEvent]) -> bool:
        """Whether the person was asked here for a report's area and has not named it."""
        return await self._waiting_here(ctx) is not None

    async def forget(self, user_id: str) -> None:
        await self._waiting.end(user_id)

    async def forget_stale(self, now: datetime) -> None:
        await self._waiting.sweep(now)

    async def _waiting_here(self, ctx: EventContext[MessageEvent]) -> Dialog | None:
        # Asked in this chat: any message in it may name the area, in a thread or not.
        waiting = await self._waiting.of(ctx.event.sender.user_id)
        return waiting if waiting is not None and waiting.room == ctx.room else None

    def _names(self, ctx: EventContext[MessageEvent], slugs: list[str]) -> str:
        view = self._notifier.view(ctx.lang)
        return ", ".join(view.area_name(slug) for slug in slugs)


def _named_area(details: str, rules: IntakeRules) -> tuple[str | None, str]:
    """(area, the rest) when `details` starts with an area's name and a colon."""
    head, colon, rest = details.partition(":")
    area = area_named(head, rules) if colon else None
    return (area, rest.strip()) if area is not None else (None, details)
