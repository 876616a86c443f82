"""The rosters plugin: school watch shifts that volunteers claim, swap and check in to.

This module routes commands and jobs to the services that do the work: the site book, the
shift store, generation, reminders and rendering.
"""

from __future__ import annotations

import functools
from collections.abc import Awaitable, Callable, Mapping
from datetime import UTC, datetime, timedelta
from typing import Any, Concatenate, ParamSpec

from bot.api import (
    BotContext,
    CommandContext,
    Language,
    Level,
    Note,
    Plugin,
    Rest,
    RoomRef,
    Translator,
    command,
    job,
)
from plugins.rosters import reminders as jobs
from plugins.rosters.coming import ComingDays
from plugins.rosters.config import ROTA_ROOMS, WATCH_ROLE, RostersConfig
from plugins.rosters.model import RosterError, Shift, Site, Staffed
from plugins.rosters.reminders import Reminders
from plugins.rosters.render import roster, shift_line, shift_params
from plugins.rosters.rotas import Rotas
from plugins.rosters.shifts import ShiftPlanner
from plugins.rosters.site_admin import SiteAdmin
from plugins.rosters.sites import SiteBook
from plugins.rosters.store import Outcome, RosterStore
from plugins.rosters.targets import ShiftFinder
from plugins.rosters.windows import fold
from plugins.rosters.wording import answer, command_names

MAINTENANCE_INTERVAL = timedelta(hours=1)
# `!here` is accepted from this long before a shift starts until it ends.
CHECKIN_MINUTES = 30
CHECKIN_EARLY = timedelta(minutes=CHECKIN_MINUTES)
# `!done` is accepted until this long after a shift ended.
CHECKOUT_LATE = timedelta(hours=2)
_NEXT = {"next", "proxima", "siguiente"}
# Errors about a shift that is not there end by pointing to a roster that has shifts.
_POINTS_TO_ROSTER = {"target.unknown", "target.none"}
_ON = {"on", "si", "yes"}
_OFF = {"off", "no"}

P = ParamSpec("P")
Handler = Callable[Concatenate["Rosters", CommandContext, P], Awaitable[None]]


def answers_errors(func: Handler[P]) -> Handler[P]:
    """A `RosterError` raised by the handler becomes a localized answer."""

    async def run(self: Rosters, ctx: CommandContext, /, *args: P.args, **kwargs: P.kwargs) -> None:
        try:
            await func(self, ctx, *args, **kwargs)
        except RosterError as error:
            params = {**self.help_params(ctx.room, ctx.lang), **error.params}
            if error.key in _POINTS_TO_ROSTER:
                see = await self.coming.with_shifts(ctx.room)
                params["see_roster"] = answer(ctx, f"rosters.see.{see}")
            await ctx.reply(answer(ctx, f"rosters.error.{error.key}", **params))

    # The command decorator reads the wrapped signature for the arguments.
    functools.update_wrapper(run, func)
    return run


class Rosters(Plugin):
    name = "rosters"
    locales = "plugins.rosters.locales"
    migrations = "plugins.rosters.migrations"
    config = RostersConfig
    roles = (WATCH_ROLE,)

    def __init__(self, bot: BotContext) -> None:
        super().__init__(bot)
        # Replaceable in tests that move time forward (with a scheduler on the same clock).
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.sites = SiteBook(bot)
        self.store = RosterStore(bot.db, bot.cipher)
        self.reminders = Reminders(bot, self.sites, self.store, self._now)
        self.planner = ShiftPlanner(
            bot.settings.section(RostersConfig).rosters,
            self.sites,
            self.store,
            self.reminders,
            self._now,
        )
        self.finder = ShiftFinder(self.sites, self.store, self._now)
        self.coming = ComingDays(self.sites, self.store, self._now)
        self.site_admin = SiteAdmin(self.sites, self.planner, self._now)
        self.rotas = Rotas(self.sites, self.store, self.planner, self._now)
        bot.provide(Rotas, self.rotas)

    def _now(self) -> datetime:
        return self.clock()

    async def room_replaced(self, old: RoomRef, new: RoomRef) -> None:
        await self.sites.room_replaced(old, new)

    def area_uses(self, slug: str) -> list[str]:
        return [f"site {site.name}" for site in self.sites.in_area(slug)]

    async def forget(self, user_id: str) -> list[Note]:
        await self.store.forget(self.bot.person(user_id))
        return []

    async def start(self) -> None:
        await self.sites.load()
        # Config times (reminder minutes, evening hour) may have changed while stopped.
        await self.planner.generate(replan=True)
        await self.planner.purge()
        self.bot.scheduler.every(MAINTENANCE_INTERVAL, self.maintain)

    async def maintain(self) -> None:
        await self.planner.generate()
        await self.planner.purge()

    # --- reading ------------------------------------------------------------------------

    @command("roster", level=Level.VOLUNTEER, aliases={"es": ("turnos",)}, roles=ROTA_ROOMS, rank=1)
    @answers_errors
    async def roster(
        self, ctx: CommandContext, site: str | None = None, week: str | None = None
    ) -> None:
        if week is None and site is not None and fold(site) in _NEXT:
            site, week = None, site
        if week is not None and fold(week) not in _NEXT:
            raise RosterError("roster_week", word=week)
        chosen = [self.finder.site_here(ctx.room, site)] if site else self._sites_here(ctx)
        person = self.bot.person(ctx.event.sender.user_id)
        for one in chosen:
            days = await self.coming.of(one, later=week is not None)
            await ctx.reply(roster(ctx.t, one, days, person, self._now()))

    @command(
        "myshifts",
        level=Level.VOLUNTEER,
        aliases={"es": ("misturnos",)},
        roles=ROTA_ROOMS,
        direct=True,
        rank=3,
    )
    @answers_errors
    async def myshifts(self, ctx: CommandContext) -> None:
        sites = await self._my_sites(ctx) if ctx.direct else self._sites_here(ctx)
        here = {self.sites.key(site.slug): site for site in sites}
        person = self.bot.person(ctx.event.sender.user_id)
        mine = [s for s in await self.store.of_person(person, self._now()) if s.shift.site in here]
        if not mine:
            await ctx.reply(answer(ctx, "rosters.myshifts.none"))
            return
        lines = [ctx.t("rosters.myshifts.title")]
        for staffed in mine:
            line = shift_line(ctx.t, here[staffed.shift.site], staffed)
            claim = staffed.holds(person)
            if claim is not None and claim.offered:
                line += ctx.t("rosters.myshifts.offered")
            lines.append(line)
        await ctx.reply("\n".join(lines))

    # --- claiming -----------------------------------------------------------------------

    @command("claim", level=Level.VOLUNTEER, aliases={"es": ("tomar",)}, roles=ROTA_ROOMS, rank=2)
    @answers_errors
    async def claim(self, ctx: CommandContext, shift: Rest) -> None:
        found, site = await self.finder.find(ctx.room, shift)
        user = ctx.event.sender.user_id
        outcome = await self.store.claim(found.id, user, self.bot.person(user), self._now())
        await self._answer(ctx, "claim", outcome, found, site)
        if outcome is Outcome.DONE:
            await self.rotas.claimed(found.id, user, site.room)

    @command("unclaim", level=Level.VOLUNTEER, aliases={"es": ("soltar",)}, roles=ROTA_ROOMS)
    @answers_errors
    async def unclaim(self, ctx: CommandContext, shift: Rest) -> None:
        found, site = await self.finder.find(ctx.room, shift)
        person = self.bot.person(ctx.event.sender.user_id)
        outcome = await self.store.unclaim(found.id, person, self._now())
        await self._answer(ctx, "unclaim", outcome, found, site)

    @command("swap", level=Level.VOLUNTEER, aliases={"es": ("ceder",)}, roles=ROTA_ROOMS)
    @answers_errors
    async def swap(self, ctx: CommandContext, shift: Rest) -> None:
        found, site = await self.finder.find(ctx.room, shift)
        person = self.bot.person(ctx.event.sender.user_id)
        outcome = await self.store.offer(found.id, person, self._now())
        if outcome is not Outcome.DONE:
            await self._answer(ctx, "swap", outcome, found, site)
            return
        # The offer is for everyone in the room: in the main timeline, not a thread.
        room = ctx.room
        t = self.bot.translator(self.bot.settings.room_language(room.transport, room.room_id))
        text = t(
            "rosters.swap.offered", who=ctx.event.sender.user_id, **self._params(t, found, site)
        )
        await ctx.reply(text, threaded=False)

    @command("take", level=Level.VOLUNTEER, aliases={"es": ("cubrir",)}, roles=ROTA_ROOMS)
    @answers_errors
    async def take(self, ctx: CommandContext, shift: Rest) -> None:
        found, site = await self.finder.find(ctx.room, shift)
        user = ctx.event.sender.user_id
        taken = await self.store.take(found.id, user, self.bot.person(user), self._now())
        await self._answer(ctx, "take", taken.outcome, found, site)
        if taken.giver is not None:
            await self._tell_giver(ctx, taken.giver, found, site)
            await self.rotas.claimed(found.id, user, site.room)

    async def _tell_giver(self, ctx: CommandContext, giver: str, shift: Shift, site: Site) -> None:
        t = self.bot.translator(await self.bot.language_for(ctx.room, giver))
        taker = ctx.event.sender.user_id
        text = t("rosters.take.giver", who=giver, taker=taker, **self._params(t, shift, site))
        await ctx.reply(text, mentions=(giver,), threaded=False)

    # --- on site ------------------------------------------------------------------------

    @command("here", level=Level.VOLUNTEER, aliases={"es": ("aquí", "aqui")}, roles=ROTA_ROOMS)
    @answers_errors
    async def here(self, ctx: CommandContext, shift: str | None = None) -> None:
        now = self._now()
        user = ctx.event.sender.user_id
        person = self.bot.person(user)
        found, site = await self._current(ctx, shift, person, now)
        outcome = await self.store.check_in(found.id, user, person, now)
        await self._answer(ctx, "here", outcome, found, site)
        if outcome is Outcome.WALK_UP:
            await self.rotas.claimed(found.id, user, site.room)

    async def _current(
        self, ctx: CommandContext, shift: str | None, person: str, now: datetime
    ) -> tuple[Shift, Site]:
        """The shift `!here` is about: the named one, else the sender's, else the only one."""
        if shift is None:
            return await self._on_now(ctx, person, now)
        found, site = await self.finder.find(ctx.room, shift)
        if not found.starts_at - CHECKIN_EARLY <= now < found.ends_at:
            raise RosterError("here_not_now", id=found.id, minutes=CHECKIN_MINUTES)
        return found, site

    async def _on_now(self, ctx: CommandContext, person: str, now: datetime) -> tuple[Shift, Site]:
        here = {self.sites.key(site.slug): site for site in self._sites_here(ctx)}
        current = await self.store.around(list(here), now + CHECKIN_EARLY, now)
        mine = [s for s in current if s.holds(person)]
        if not mine and len(current) != 1:
            ids = ", ".join(f"#{s.shift.id}" for s in current)
            raise RosterError("here_which" if current else "here_none", ids=ids)
        chosen = (mine or current)[0].shift
        return chosen, here[chosen.site]

    @command("done", level=Level.VOLUNTEER, aliases={"es": ("listo",)}, roles=ROTA_ROOMS)
    @answers_errors
    async def done(self, ctx: CommandContext) -> None:
        now = self._now()
        person = self.bot.person(ctx.event.sender.user_id)
        here = {self.sites.key(site.slug): site for site in self._sites_here(ctx)}
        mine = await self.store.of_person(person, now - CHECKOUT_LATE)
        for staffed in mine:
            claim = staffed.holds(person)
            on_duty = claim is not None and claim.checked_in and not claim.checked_out
            if on_duty and staffed.shift.site in here:
                await self.store.check_out(staffed.shift.id, person, now)
                await self._answer(
                    ctx, "done", Outcome.DONE, staffed.shift, here[staffed.shift.site]
                )
                return
        raise RosterError("done_none")

    @command("backup", level=Level.VOLUNTEER, aliases={"es": ("reserva",)}, roles=ROTA_ROOMS)
    @answers_errors
    async def backup(self, ctx: CommandContext, switch: str | None = None) -> None:
        user = ctx.event.sender.user_id
        person = self.bot.person(user)
        sites = self._sites_here(ctx)
        names = ", ".join(site.name for site in sites)
        if switch is None:
            pools = [await self.store.backups(self.sites.key(site.slug)) for site in sites]
            state = "on" if any(person in pool for pool in pools) else "off"
            await ctx.reply(answer(ctx, f"rosters.backup.is_{state}", sites=names))
            return
        if fold(switch) not in _ON | _OFF:
            raise RosterError("backup_switch", word=switch)
        on = fold(switch) in _ON
        for site in sites:
            await self.store.set_backup(self.sites.key(site.slug), user, person, on, self._now())
        await ctx.reply(answer(ctx, f"rosters.backup.{'on' if on else 'off'}", sites=names))

    # --- sites --------------------------------------------------------------------------

    @command("site", level=Level.VOLUNTEER, aliases={"es": ("sitio",)})
    @answers_errors
    async def site(
        self, ctx: CommandContext, action: str | None = None, definition: Rest = ""
    ) -> None:
        await self.site_admin.run(ctx, action, definition)

    # --- jobs ---------------------------------------------------------------------------

    @job(jobs.EVENING, grace=jobs.GRACE[jobs.EVENING])
    async def evening_reminder(self, payload: dict[str, Any]) -> None:
        await self.reminders.remind(payload, "evening")

    @job(jobs.SOON, grace=jobs.GRACE[jobs.SOON])
    async def soon_reminder(self, payload: dict[str, Any]) -> None:
        await self.reminders.remind(payload, "soon")

    @job(jobs.COVERAGE, grace=jobs.GRACE[jobs.COVERAGE])
    async def coverage_alert(self, payload: dict[str, Any]) -> None:
        await self.reminders.coverage(payload)

    @job(jobs.CHECKIN, grace=jobs.GRACE[jobs.CHECKIN])
    async def missed_checkin(self, payload: dict[str, Any]) -> None:
        await self.reminders.missed_checkin(payload)

    @job(jobs.CANCELLED, grace=jobs.GRACE[jobs.CANCELLED])
    async def shift_cancelled(self, payload: dict[str, Any]) -> None:
        await self.reminders.tell_cancelled(payload)

    # --- helpers ------------------------------------------------------------------------

    def _params(self, t: Translator, shift: Shift, site: Site) -> dict[str, object]:
        return {**command_names(self.bot, t), **shift_params(t, site, shift)}

    def help_params(self, room: RoomRef, lang: Language) -> Mapping[str, str]:
        """Examples name a real window of the room's school ("tue entrada")."""
        windows = [window for site in self.sites.in_room(room) for window in site.windows]
        name = windows[0].name if windows else self.bot.translator(lang)("rosters.example_window")
        return {"window": name}

    async def _my_sites(self, ctx: CommandContext) -> list[Site]:
        """In a direct chat: the sites of the person's rota rooms."""
        rooms = await self.bot.shared_rooms(ctx.room.transport, ctx.event.sender.user_id)
        settings = self.bot.settings
        return [
            site
            for room in rooms
            if settings.room_fits(room, ROTA_ROOMS)
            for site in self.sites.in_room(RoomRef(room.transport, room.id))
        ]

    def _sites_here(self, ctx: CommandContext) -> list[Site]:
        sites = self.sites.in_room(ctx.room)
        if not sites:
            raise RosterError("no_sites")
        return sites

    async def _answer(
        self, ctx: CommandContext, command_name: str, outcome: Outcome, shift: Shift, site: Site
    ) -> None:
        """The answer to a slot change, with the shift's coverage after it."""
        staffed = await self.store.staffed(shift.id) or Staffed(shift, ())
        shared = outcome in (Outcome.STARTED, Outcome.GONE)
        key = f"rosters.{outcome.value}" if shared else f"rosters.{command_name}.{outcome.value}"
        await ctx.reply(answer(ctx, key, taken=staffed.taken, **shift_params(ctx.t, site, shift)))
