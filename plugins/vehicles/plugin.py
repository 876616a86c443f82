"""Known vehicles: plates compared across reports, and the network's plate list (README,
"Known vehicles").

Every new report's plates are kept (encrypted, found by a keyed hash) and compared with the
plates of the earlier reports still kept, each written however it was (spaces, dashes,
case, O/0 I/1 B/8 S/5, `*` for a character not read). The moderator card shows the earlier
reports with a matching plate, "same plate, different vehicle", and the network's list entry
of the plate; a known agency vehicle's dispatch call says "known vehicle", never the plate.
Moderators keep the list with `!plate` and `!plates`, in moderation rooms only.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

from bot.api import (
    MODERATION,
    BotContext,
    CommandContext,
    Level,
    Note,
    Plugin,
    Rest,
    command,
)
from plugins.dispatch import CallLines
from plugins.sightings import FiledReport, ReportFeed, View
from plugins.vehicles import render
from plugins.vehicles.commands import (
    MAX_NOTE,
    Lookup,
    Refusal,
    Setting,
    category_of,
    read_plate_command,
)
from plugins.vehicles.config import VehiclesConfig, VehiclesSection
from plugins.vehicles.index import ReportPlates
from plugins.vehicles.matching import Matcher
from plugins.vehicles.plate_list import Entry, PlateList

log = logging.getLogger(__name__)

MOD_ROOMS = frozenset({MODERATION})
PURGE_INTERVAL = timedelta(hours=1)


class Vehicles(Plugin):
    name = "vehicles"
    locales = "plugins.vehicles.locales"
    migrations = "plugins.vehicles.migrations"
    config = VehiclesConfig
    requires = ("sightings",)

    def __init__(self, bot: BotContext) -> None:
        super().__init__(bot)
        # Replaceable in tests that move time forward.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.index = ReportPlates(bot.db, bot.cipher)
        self.plate_list = PlateList(bot.db, bot.cipher)
        self._matcher: Matcher | None = None

    @property
    def settings(self) -> VehiclesSection:
        return self.bot.settings.section(VehiclesConfig).vehicles

    @property
    def matcher(self) -> Matcher:
        assert self._matcher is not None, "start() first"
        return self._matcher

    async def start(self) -> None:
        feed = self.bot.service(ReportFeed)
        self._matcher = Matcher(
            feed,
            self.index,
            self.plate_list,
            lambda: self.settings.suspected_for,
            lambda: self.clock(),
        )
        feed.subscribe_filings(self.on_filed)
        feed.add_card_section(self.matcher.section)
        try:
            self.bot.service(CallLines).add(self.matcher.call_line)
        except LookupError:
            log.info("no dispatch plugin: dispatch calls say nothing of known vehicles")
        # Reports filed while a crash interrupted their filing are kept now (once).
        for filed in await feed.undecided():
            await self.on_filed(filed)
        self.bot.scheduler.every(PURGE_INTERVAL, self.purge)

    async def on_filed(self, filed: FiledReport) -> None:
        if filed.report.plates:
            await self.index.add(filed.report_id, filed.report.plates, filed.filed_at)

    # --- the network's list -------------------------------------------------------------

    @command("plate", level=Level.MODERATOR, aliases={"es": ("placa",)}, roles=MOD_ROOMS, rank=20)
    async def plate(self, ctx: CommandContext, plate: str, entry: Rest = "") -> None:
        view = self.bot.service(ReportFeed).view(ctx.room, ctx.lang)
        read = read_plate_command(f"{plate} {entry}")
        if isinstance(read, Refusal):
            await ctx.reply(ctx.t(read.key, usage=ctx.usage(), **read.params))
        elif isinstance(read, Lookup):
            await self._lookup(ctx, view, read)
        elif read.category is None:
            await self._remove(ctx, view, read)
        else:
            await self._set(ctx, view, read)

    async def _lookup(self, ctx: CommandContext, view: View, read: Lookup) -> None:
        entries = await self.plate_list.find(read.form, self.clock(), self.settings.suspected_for)
        reports = await self.matcher.matching_reports(read.form)
        text = render.lookup(view, read.plate, entries, reports, self.settings.suspected_for)
        await ctx.reply(text)

    async def _set(self, ctx: CommandContext, view: View, read: Setting) -> None:
        assert read.category is not None
        sender = ctx.event.sender
        entry = Entry(
            read.plate,
            read.category,
            read.note,
            sender.display_name or sender.user_id,
            self.clock(),
        )
        before = await self.plate_list.put(entry, self.bot.person(sender.user_id))
        suspected_for = self.settings.suspected_for
        now = self.clock()
        text = render.entry_text(view, entry, suspected_for)
        lines = [ctx.t("vehicles.set", plate=entry.plate, entry=text)]
        if before is not None and before.live(now, suspected_for):
            was = render.entry_text(view, before, suspected_for)
            lines.append(ctx.t("vehicles.was", entry=was))
        if read.cut:
            lines.append(ctx.t("vehicles.note_cut", max=MAX_NOTE))
        await ctx.reply("\n".join(lines))
        log.info("a plate list entry was set")
        await self._refresh_cards(read.form)

    async def _remove(self, ctx: CommandContext, view: View, read: Setting) -> None:
        before = await self.plate_list.remove(read.plate)
        if before is None or not before.live(self.clock(), self.settings.suspected_for):
            await ctx.reply(ctx.t("vehicles.not_listed", plate=read.plate))
            return
        text = render.entry_text(view, before, self.settings.suspected_for)
        await ctx.reply(ctx.t("vehicles.removed", plate=before.plate, entry=text))
        log.info("a plate list entry was removed")
        await self._refresh_cards(read.form)

    async def _refresh_cards(self, form: str) -> None:
        """The cards of the open reports with the plate show its entry now."""
        feed = self.bot.service(ReportFeed)
        for seen in await self.matcher.matching_reports(form):
            state = await feed.state(seen.report_id)
            if state is not None and state.undecided:
                await feed.refresh_card(seen.report_id)

    @command("plates", level=Level.MODERATOR, aliases={"es": ("placas",)}, roles=MOD_ROOMS, rank=21)
    async def plates(self, ctx: CommandContext, category: str | None = None) -> None:
        only = None if category is None else category_of(category)
        if category is not None and only is None:
            await ctx.reply(ctx.t("vehicles.unknown_category", word=category, usage=ctx.usage()))
            return
        suspected_for = self.settings.suspected_for
        entries = await self.plate_list.live(self.clock(), suspected_for)
        chosen = [e for e in entries if only is None or e.category is only]
        view = self.bot.service(ReportFeed).view(ctx.room, ctx.lang)
        await ctx.reply(render.listing(view, chosen, only, suspected_for))

    # --- upkeep -------------------------------------------------------------------------

    async def purge(self) -> None:
        """The plates of reports no longer kept go, and suspected entries past their time."""
        await self.index.drop_gone(self._gone)
        await self.plate_list.sweep(self.clock(), self.settings.suspected_for)

    async def forget(self, user_id: str) -> list[Note]:
        """The person's reports were just erased (sightings forgets first): their plates go
        too. The network's list holds no reporter; a moderator's name leaves their entries,
        which stay."""
        await self.index.drop_gone(self._gone)
        await self.plate_list.forget(self.bot.person(user_id))
        return []

    async def _gone(self, report_id: str) -> bool:
        return await self.bot.service(ReportFeed).state(report_id) is None
