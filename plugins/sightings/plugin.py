"""The sightings plugin: neighbors report, moderators decide, the reporter hears back.

This module only routes: commands, reactions and messages to the services that do the
work (intake, the guided dialog, decisions, the moderator cards).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.api import (
    MODERATION,
    REPORTS,
    BotContext,
    CommandContext,
    EventContext,
    Level,
    LocationEvent,
    MessageEvent,
    Note,
    Plugin,
    ReactionEvent,
    Rest,
    Rich,
    command,
    job,
    on_event,
    reaction,
)
from plugins.sightings.card import View, listing, problem_text
from plugins.sightings.config import ReportsSection, SightingsConfig
from plugins.sightings.decisions import Decisions, Request
from plugins.sightings.direct import DirectAreas
from plugins.sightings.feed import ReportFeed
from plugins.sightings.guided import GuidedReports
from plugins.sightings.ids import normalize_id
from plugins.sightings.intake import Filing, Intake
from plugins.sightings.lifecycle import CLOSED, OPEN, UNDECIDED, Action, Status
from plugins.sightings.model import Problem, ProblemError
from plugins.sightings.notify import Notifier
from plugins.sightings.parser import area_named, build_report, split_fields
from plugins.sightings.signals import ReportChange, ReportSignals
from plugins.sightings.status import area_status, status_text
from plugins.sightings.store import Actor, ReportStore, StoredReport
from plugins.sightings.threads import ReportThreads
from plugins.sightings.vocabulary import quote

log = logging.getLogger(__name__)

REPORT_ROOMS = frozenset({REPORTS})
MOD_ROOMS = frozenset({MODERATION})
# Reactions on a card; some clients add the emoji variation selector U+FE0F.
REACTIONS = {"✅": Action.CONFIRM, "❌": Action.FALSE, "❓": Action.NEED_INFO}
SWEEP_INTERVAL = timedelta(minutes=1)


class Sightings(Plugin):
    name = "sightings"
    locales = "plugins.sightings.locales"
    migrations = "plugins.sightings.migrations"
    config = SightingsConfig

    def __init__(self, bot: BotContext) -> None:
        super().__init__(bot)
        # Replaceable in tests that move time forward.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.signals = ReportSignals()
        self.store = ReportStore(bot.db, bot.cipher)
        self.notifier = Notifier(bot, self.store)
        self.intake = Intake(bot, self.store, self.notifier, self.signals, self._now)
        self.decisions = Decisions(bot, self.store, self.notifier, self.signals, self._now)
        self.guided = GuidedReports(bot, self.intake, self.notifier, self._now)
        self.threads = ReportThreads(bot, self.store, self.notifier, self.decisions)
        self.direct = DirectAreas(bot, self.notifier, self._now)
        retention = timedelta(days=bot.settings.section(SightingsConfig).reports.retention_days)
        feed = ReportFeed(self.signals, self.store, self.notifier, self.decisions, retention)
        bot.provide(ReportFeed, feed)

    def _now(self) -> datetime:
        return self.clock()

    async def start(self) -> None:
        self.bot.scheduler.every(SWEEP_INTERVAL, self.sweep)
        self.bot.metrics.gauge_callback(
            "vecinos_reports",
            "Sighting reports stored, by state (closed ones until they are purged)",
            self.store.count_by_status,
            label="state",
        )

    async def forget(self, user_id: str) -> list[Note]:
        """Erase the person; the acknowledgements of their erased reports leave the rooms
        too, where the network lets the bot delete its own messages."""
        person = self.bot.person(user_id)
        await self.direct.forget(user_id)
        await self.guided.end(user_id)
        erased = await self.store.forget(person, user_id)
        await self.notifier.withdraw_cards(erased.cards)
        removed = [await self.bot.retract(room, event_id) for room, event_id in erased.acks]
        notes = []
        if any(removed):
            notes.append(Note("sightings.forgotten.acks_removed", {"count": sum(removed)}))
        if not all(removed):
            kept = len(removed) - sum(removed)
            notes.append(Note("sightings.forgotten.acks_kept", {"count": kept}))
        return notes

    async def changes_after(self, seq: int) -> list[ReportChange]:
        """For subscribers catching up after a restart; see `signals`."""
        return await self.decisions.changes_after(seq)

    # --- reporting ----------------------------------------------------------------------

    @command(
        "report",
        level=Level.NEIGHBOR,
        aliases={"es": ("reporte",)},
        roles=REPORT_ROOMS,
        direct=True,
        rank=1,
        own_limit=True,  # reports per person, answered with the wait (minutes_to_wait)
    )
    async def report(self, ctx: CommandContext, details: Rest = "") -> None:
        wait = await self.intake.minutes_to_wait(ctx.event.sender.user_id)
        if wait is not None:
            limits = self.bot.settings.section(SightingsConfig).reports
            await ctx.reply(
                ctx.t(
                    "sightings.rate_limited",
                    reports=ctx.t("sightings.reports", count=limits.per_person_limit),
                    window=ctx.t("sightings.minutes", count=limits.per_person_window_minutes),
                    wait=ctx.t("sightings.minutes", count=wait),
                )
            )
            return
        area = None
        if ctx.direct and not details and await self.guided.continue_here(ctx):
            return
        if ctx.direct:
            placed = await self.direct.place(ctx, details, self.intake.rules(ctx.room))
            if placed is None:
                return
            area, details = placed.area, placed.details
        await self._take(ctx, details, area)

    async def _take(self, ctx: EventContext[MessageEvent], details: str, area: str | None) -> None:
        """A written report filed, or the guided dialog started (no `details`); `area`
        where the room does not say."""
        if not details:
            await self.guided.start(ctx, area)
            return
        try:
            raw = split_fields(details)
        except ProblemError as error:
            await ctx.reply(self.report_help(ctx, problem_text(error.problem, ctx.t)))
            return
        if not raw.get("location", "").strip():
            # Nothing lost for want of a place: it is asked for, the rest is kept.
            await self.guided.start(ctx, area, written=raw)
            return
        result = build_report(
            raw, self.intake.rules(ctx.room, area), observed_default=ctx.event.timestamp
        )
        if isinstance(result, Problem):
            await ctx.reply(self.report_help(ctx, problem_text(result, ctx.t)))
            return
        event = ctx.event
        await self.intake.file(
            Filing(
                report=result,
                room=ctx.room,
                thread_root=event.thread_root or event.event_id,
                user_id=event.sender.user_id,
                lang=ctx.lang,
                event_id=event.event_id,
                plate_events=(event.event_id,) if result.plates else (),
            )
        )

    def report_help(self, ctx: EventContext[Any], problem: str) -> str:
        return ctx.t(
            "sightings.report_help", problem=problem, report=self._view(ctx).command("report")
        )

    @command("seen", level=Level.NEIGHBOR, aliases={"es": ("visto",)}, rank=3)
    async def seen(self, ctx: CommandContext, report_id: str) -> None:
        stored = await self._find(ctx, report_id)
        if stored is None:
            return
        person = self.bot.person(ctx.event.sender.user_id)
        if person == stored.reporter:
            await ctx.reply(ctx.t("sightings.seen.own", id=stored.id))
        elif stored.status in CLOSED:
            status = ctx.t(f"sightings.status.{stored.status.value}")
            await ctx.reply(ctx.t("sightings.seen.closed", id=stored.id, status=status))
        elif not await self.store.corroborate(stored.id, person, self._now()):
            await ctx.reply(ctx.t("sightings.seen.again", id=stored.id))
        else:
            await self.notifier.refresh_cards(stored.id)
            await ctx.reply(
                ctx.t("sightings.seen.counted", id=stored.id, count=stored.corroborations + 1)
            )

    @command(
        "answer",
        level=Level.NEIGHBOR,
        aliases={"es": ("respuesta",)},
        roles=REPORT_ROOMS,
        direct=True,
        rank=2,
    )
    async def answer_question(self, ctx: CommandContext, report_id: str, answer: Rest) -> None:
        """The reporter answers a moderator's question by command: where there is nothing
        to reply to (the console), from another room, or when a reply is not handy."""
        stored = await self._find(ctx, report_id)
        if stored is None:
            return
        if self.bot.person(ctx.event.sender.user_id) != stored.reporter:
            await ctx.reply(ctx.t("sightings.answer_cmd.not_yours", id=stored.id))
        elif stored.status is not Status.NEEDS_INFO:
            status = ctx.t(f"sightings.status.{stored.status.value}")
            await ctx.reply(ctx.t("sightings.answer_cmd.not_waiting", id=stored.id, status=status))
        else:
            await self.threads.answer(ctx, stored, answer)

    @on_event(MessageEvent)
    async def on_message(self, ctx: EventContext[MessageEvent]) -> None:
        placed = await self.direct.answer(ctx, self.intake.rules(ctx.room)) if ctx.direct else None
        if placed is not None:
            await self._take(ctx, placed.details, placed.area)
        elif not await self.guided.on_message(ctx):
            # A pending question of the bot's own (which area?) is answered first.
            next_in_direct = ctx.direct and not await self.direct.asking(ctx)
            await self.threads.on_message(ctx, next_in_direct=next_in_direct)

    @on_event(LocationEvent)
    async def on_location(self, ctx: EventContext[LocationEvent]) -> None:
        await self.guided.on_location(ctx)

    @job("sightings.dialog_timeout", grace=timedelta(hours=1))
    async def dialog_timeout(self, payload: dict[str, Any]) -> None:
        await self.guided.time_out(payload)

    # --- moderation ---------------------------------------------------------------------

    @command("status", level=Level.NEIGHBOR, aliases={"es": ("estado",)}, rank=2)
    async def status(self, ctx: CommandContext, area: Rest = "") -> None:
        rules = self.intake.rules(ctx.room)
        if area:
            slug = area_named(area, rules)
            if slug is None:
                answer = ctx.t(
                    "sightings.status_cmd.unknown_area",
                    area=self._view(ctx).hiding_plates(area),
                    known=rules.area_listing,
                )
                await ctx.reply(answer)
                return
            # The same areas as its alerts reach: ancestors, descendants, near areas.
            reach = self.bot.settings.alert_areas(slug)
            slugs: list[str] = [slug, *sorted(reach - {slug})]
        else:
            slugs = await self._areas_here(ctx)
        now = self._now()
        statuses = [await area_status(self.store, slug, now) for slug in slugs]
        await ctx.reply(status_text(statuses, self._view(ctx), now))

    @command(
        "reports", level=Level.MODERATOR, aliases={"es": ("reportes",)}, roles=MOD_ROOMS, rank=1
    )
    async def reports(self, ctx: CommandContext) -> None:
        # Its areas, and the areas under them without a moderation room of their own.
        areas = [
            area.slug
            for area in self.bot.settings.areas
            if self.notifier.moderates(ctx.room, area.slug)
        ]
        await ctx.reply(listing(await self.store.open_in(areas, OPEN), self._view(ctx)))

    @command(
        "confirm", level=Level.MODERATOR, aliases={"es": ("confirmar",)}, roles=MOD_ROOMS, rank=2
    )
    async def confirm(self, ctx: CommandContext, report_id: str, note: Rest = "") -> None:
        await self._decide(ctx, Action.CONFIRM, report_id, note)

    @command("false", level=Level.MODERATOR, aliases={"es": ("falso",)}, roles=MOD_ROOMS, rank=3)
    async def false_alarm(self, ctx: CommandContext, report_id: str, note: Rest = "") -> None:
        await self._decide(ctx, Action.FALSE, report_id, note)

    @command(
        "unverifiable",
        level=Level.MODERATOR,
        aliases={"es": ("inverificable",)},
        roles=MOD_ROOMS,
    )
    async def unverifiable(self, ctx: CommandContext, report_id: str, note: Rest = "") -> None:
        await self._decide(ctx, Action.UNVERIFIABLE, report_id, note)

    @command(
        "needinfo", level=Level.MODERATOR, aliases={"es": ("masinfo",)}, roles=MOD_ROOMS, rank=4
    )
    async def needinfo(self, ctx: CommandContext, report_id: str, question: Rest) -> None:
        await self._decide(ctx, Action.NEED_INFO, report_id, question)

    @command("dup", level=Level.MODERATOR, aliases={"es": ("duplicado",)}, roles=MOD_ROOMS)
    async def dup(self, ctx: CommandContext, report_id: str, original_id: str) -> None:
        original = normalize_id(original_id)
        if original is None:
            await ctx.reply(ctx.t("sightings.unknown_report", id=quote(original_id)))
            return
        await self._decide(ctx, Action.DUPLICATE, report_id, "", duplicate_of=original)

    @command(
        "update", level=Level.MODERATOR, aliases={"es": ("actualizar",)}, roles=MOD_ROOMS, rank=5
    )
    async def update(self, ctx: CommandContext, report_id: str, news: Rest) -> None:
        await self._decide(ctx, Action.UPDATE, report_id, news)

    @command(
        "clear", level=Level.MODERATOR, aliases={"es": ("despejado",)}, roles=MOD_ROOMS, rank=6
    )
    async def clear(self, ctx: CommandContext, report_id: str, note: Rest = "") -> None:
        await self._decide(ctx, Action.CLEAR, report_id, note)

    @command("retract", level=Level.MODERATOR, aliases={"es": ("retractar",)}, roles=MOD_ROOMS)
    async def retract(self, ctx: CommandContext, report_id: str, reason: Rest) -> None:
        await self._decide(ctx, Action.RETRACT, report_id, reason)

    async def _decide(
        self,
        ctx: CommandContext,
        action: Action,
        report_id: str,
        note: str,
        *,
        duplicate_of: str | None = None,
    ) -> None:
        normalized = normalize_id(report_id)
        if normalized is None:
            await ctx.reply(ctx.t("sightings.unknown_report", id=quote(report_id)))
            return
        request = Request(
            report_id=normalized,
            action=action,
            actor=_actor(ctx),
            room=ctx.room,
            cause=ctx.event.event_id,
            note=note or None,
            duplicate_of=duplicate_of,
        )
        result = await self.decisions.decide(request, self._view(ctx))
        # After the alerts it sent, not beside them: the homeserver serves them first.
        await ctx.reply_queued(result.text)

    @reaction(*REACTIONS, *(f"{emoji}\ufe0f" for emoji in REACTIONS))
    async def on_card_reaction(self, ctx: EventContext[ReactionEvent]) -> None:
        event = ctx.event
        if event.removed:
            return  # taking a reaction back undoes nothing
        stored = await self.notifier.report_of_card(ctx.room, event.target_event_id)
        if stored is None:
            return  # not a card
        view = self._view(ctx)
        if await self.bot.level_of(ctx.room, event.sender.user_id) < Level.MODERATOR:
            answer = view.t("sightings.refuse.not_moderator")
        else:
            request = Request(
                report_id=stored.id,
                action=REACTIONS[event.key.removesuffix("\ufe0f")],
                actor=_actor(ctx),
                room=ctx.room,
                cause=event.event_id,
            )
            result = await self.decisions.decide(request, view)
            if result.applied:
                return  # the edited card says it
            answer = result.text
        # In the card's thread, so the answer sits with the card it is about.
        await self.notifier.in_thread(
            ctx.room,
            event.target_event_id,
            Rich().text(answer),
            key=f"reply:{event.event_id}",
            mentions=(event.sender.user_id,),
        )

    # --- housekeeping -------------------------------------------------------------------

    async def sweep(self) -> None:
        """Expire undecided reports, mark quiet alerts stale or lapsed, purge closed ones,
        forget timed-out dialogs. Everything is read from the stored reports, so nothing
        is lost across a restart, and an alert found past both limits only lapses."""
        now = self._now()
        limits = self.bot.settings.section(SightingsConfig).reports
        due = [
            (report_id, Action.EXPIRE)
            for report_id in await self.store.in_status_since_before(
                UNDECIDED, now - timedelta(hours=limits.expire_hours)
            )
        ]
        areas = [area.slug for area in self.bot.settings.areas]
        for stored in await self.store.open_in(areas, {Status.CONFIRMED}):
            action = _alert_due(stored, now, limits)
            if action is not None:
                due.append((stored.id, action))
        for report_id, action in due:
            try:
                await self.decisions.by_clock(report_id, action)
            except Exception:
                log.exception("a timed report change failed")
        purged = await self.store.purge_closed_before(now - timedelta(days=limits.retention_days))
        await self.guided.forget_stale(now)
        await self.direct.forget_stale(now)
        self.notifier.forget_idle_locks()
        if due or purged:
            log.info("reports: %d changed by time, %d purged", len(due), purged)

    async def _areas_here(self, ctx: CommandContext) -> list[str]:
        """The room's areas; in a direct chat, those of the person's rooms; else all."""
        config = self.bot.room_config(ctx.room)
        if config is not None:
            return list(config.areas)
        if ctx.direct:
            return await self.direct.areas_of(ctx)
        return sorted(area.slug for area in self.bot.settings.areas)

    async def _find(self, ctx: CommandContext, text: str) -> StoredReport | None:
        report_id = normalize_id(text)
        stored = await self.store.get(report_id) if report_id else None
        if stored is None:
            await ctx.reply(ctx.t("sightings.unknown_report", id=report_id or quote(text)))
        return stored

    def _view(self, ctx: EventContext[Any]) -> View:
        return self.notifier.view(ctx.lang)


def _alert_due(stored: StoredReport, now: datetime, limits: ReportsSection) -> Action | None:
    """LAPSE, STALE or nothing, for a confirmed alert quiet since its last news."""
    quiet = now - (stored.last_news or stored.created_at)
    if quiet >= timedelta(hours=limits.alert_expire_hours):
        return Action.LAPSE
    if quiet >= timedelta(hours=limits.alert_stale_hours) and not stored.marked_stale:
        return Action.STALE
    return None


def _actor(ctx: EventContext[Any]) -> Actor:
    sender = ctx.event.sender
    return Actor(sender.user_id, sender.display_name or sender.user_id)
