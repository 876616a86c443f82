"""`!site`: list the sites; admins add one, coordinators add windows and skip dates.

A change takes effect at once: shifts are regenerated, and people on a cancelled shift are
told.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime

from bot.api import CommandContext, Level
from plugins.rosters.config import ROTA_ROOMS
from plugins.rosters.model import RosterError, Site
from plugins.rosters.render import day_label, site_summary
from plugins.rosters.shifts import ShiftPlanner
from plugins.rosters.sites import SiteBook
from plugins.rosters.windows import WindowError, fold, parse_window
from plugins.rosters.wording import answer

ACTIONS = {
    "add": "add",
    "agregar": "add",
    "window": "window",
    "horario": "window",
    "skip": "skip",
    "saltar": "skip",
}


class SiteAdmin:
    def __init__(self, sites: SiteBook, planner: ShiftPlanner, now: Callable[[], datetime]) -> None:
        self._sites = sites
        self._planner = planner
        self._now = now

    async def run(self, ctx: CommandContext, action: str | None, definition: str) -> None:
        if action is None:
            await self._list(ctx)
            return
        chosen = ACTIONS.get(fold(action))
        if chosen is None:
            raise RosterError("site.action", word=action)
        if chosen == "add":
            await self._add(ctx, definition)
            return
        slug, _, rest = definition.strip().partition(" ")
        if not slug:
            raise RosterError(f"site.{chosen}_usage")
        site = self._sites.get(slug)
        if site is None:
            raise RosterError("site.unknown", site=slug)
        if not await coordinates(ctx, site):
            raise RosterError("site.not_allowed", site=site.slug)
        if chosen == "window":
            await self._set_window(ctx, site, rest)
        else:
            await self._skip(ctx, site, rest)

    async def _list(self, ctx: CommandContext) -> None:
        everywhere = ctx.level >= Level.MODERATOR
        sites = self._sites.all() if everywhere else self._sites.in_room(ctx.room)
        if not sites:
            raise RosterError("no_sites")
        today = sites[0].today(self._now())
        await ctx.reply("\n\n".join(site_summary(ctx.t, site, today) for site in sites))

    async def _add(self, ctx: CommandContext, definition: str) -> None:
        if ctx.level < Level.ADMIN:
            raise RosterError("site.admins_only")
        config = ctx.bot.room_config(ctx.room)
        if config is None or not ctx.bot.settings.room_fits(config, ROTA_ROOMS):
            raise RosterError("site.watch_room_only")
        words = definition.split(maxsplit=3)
        if len(words) < 4:
            raise RosterError("site.add_usage")
        slug, area, timezone, name = words
        site = await self._sites.add(
            slug, name, area, timezone, room=ctx.room, coordinator=ctx.event.sender.user_id
        )
        await ctx.reply(answer(ctx, "rosters.site.added", slug=site.slug, site=site.name))

    async def _set_window(self, ctx: CommandContext, site: Site, text: str) -> None:
        try:
            window = parse_window(text)
        except WindowError as error:
            raise RosterError(f"window.{error.key}", **error.params) from None
        await self._sites.set_window(site, window)
        done = await self._planner.generate()
        await ctx.reply(
            answer(
                ctx,
                "rosters.site.window_set",
                slug=site.slug,
                window=window.name,
                created=done.created,
                cancelled=done.cancelled,
            )
        )

    async def _skip(self, ctx: CommandContext, site: Site, text: str) -> None:
        try:
            day = date.fromisoformat(text.strip())
        except ValueError:
            raise RosterError("site.skip_usage") from None
        await self._sites.skip(site, day)
        done = await self._planner.generate()
        await ctx.reply(
            answer(
                ctx,
                "rosters.site.skipped",
                site=site.name,
                date=day_label(ctx.t, day),
                cancelled=done.cancelled,
            )
        )


async def coordinates(ctx: CommandContext, site: Site) -> bool:
    """Moderators and admins, and the site's coordinators (unless their identity changed:
    like moderators, they wait for an admin's `!trust`)."""
    if ctx.level >= Level.MODERATOR:
        return True
    user = ctx.event.sender.user_id
    return user in site.coordinators and not await ctx.bot.identities.flagged(user)
