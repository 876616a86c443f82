"""The guided report as the person sees it: questions in a thread, answers, timeout.

The steps are in `dialog`, the asking and storing in the core's `Dialogs`; this module adds
what is the report's own: the intro, a shared location and attachments as answers, moving
to a direct chat, and filing the finished report through the same intake as written ones.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.api import (
    BotContext,
    Dialog,
    Dialogs,
    Event,
    EventContext,
    LocationEvent,
    MessageEvent,
    Rich,
)
from plugins.sightings.config import SightingsConfig
from plugins.sightings.dialog import (
    STEPS,
    ReportProblem,
    add_attachment,
    answer_location,
    attachment_notes,
    new_data,
    raw,
)
from plugins.sightings.intake import Filing, Intake
from plugins.sightings.model import AttachmentNote, Problem
from plugins.sightings.notify import Notifier
from plugins.sightings.parser import RawFields, build_report
from plugins.sightings.plates import has_plate

KIND = "sightings.report"
TIMEOUT_JOB = "sightings.dialog_timeout"


class GuidedReports:
    def __init__(
        self, bot: BotContext, intake: Intake, notifier: Notifier, now: Callable[[], datetime]
    ) -> None:
        self.bot = bot
        self._intake = intake
        self._notifier = notifier
        minutes = bot.settings.section(SightingsConfig).reports.dialog_timeout_minutes
        self.dialogs = Dialogs(
            bot,
            KIND,
            STEPS,
            timeout=timedelta(minutes=minutes),
            finish=self._file,
            timeout_job=TIMEOUT_JOB,
            timed_out=self._timed_out,
            now=now,
        )

    async def start(
        self,
        ctx: EventContext[MessageEvent],
        area: str | None = None,
        written: RawFields | None = None,
    ) -> None:
        """Ask step by step; with `written` (a report typed without its place), ask only
        where, and file it with what was written."""
        key = "sightings.dialog.need_place" if written is not None else "sightings.dialog.intro"
        intro = Rich().line(ctx.t(key))
        if not ctx.direct and self.bot.settings.invites.direct_chats:
            report = self._notifier.view(ctx.lang).command("report")
            intro.line(ctx.t("sightings.dialog.private", report=report))
        data = new_data(area, written, ctx.event)
        steps = ("location",) if written is not None else None
        if await self.dialogs.start(ctx, data, steps=steps, lead=intro) is None:
            await ctx.reply(ctx.t("sightings.dialog.already_open"))

    async def continue_here(self, ctx: EventContext[MessageEvent]) -> bool:
        """`!report` in a direct chat while the person's dialog is open in a room: the
        dialog moves here with its answers so far (and the room's area)."""
        dialog = await self.dialogs.of(ctx.event.sender.user_id)
        if dialog is None or dialog.room == ctx.room:
            return False
        config = self.bot.room_config(dialog.room)
        area = dialog.data["area"] or (config.areas[0] if config is not None else None)
        dialog.data["area"] = area
        dialog.move(ctx.event)
        await self.dialogs.ask(dialog, ctx.event, Rich().line(ctx.t("sightings.dialog.moved")))
        return True

    async def on_message(self, ctx: EventContext[MessageEvent]) -> bool:
        """Handle the message if it answers the sender's open dialog."""
        dialog = await self.dialogs.find(ctx)
        if dialog is None:
            return False
        event = ctx.event
        if event.attachments:
            for attachment in event.attachments:
                add_attachment(dialog, AttachmentNote.of(attachment.kind, attachment.name))
            await self.dialogs.save(dialog)
            await self.dialogs.say(dialog, event, Rich().text(ctx.t("sightings.attachment_added")))
            return True
        plate = raw(dialog).get("plate")
        outcome = self.dialogs.answer(dialog, event.body)
        if raw(dialog).get("plate") not in (None, plate) or has_plate(event.body):
            dialog.data["plate_events"].append(event.event_id)
        await self.dialogs.respond(dialog, event, outcome)
        return True

    async def on_location(self, ctx: EventContext[LocationEvent]) -> None:
        dialog = await self.dialogs.find(ctx)
        if dialog is not None:
            event = ctx.event
            outcome = answer_location(self.dialogs, dialog, event.geo_uri, event.description)
            await self.dialogs.respond(dialog, event, outcome)

    async def time_out(self, payload: dict[str, Any]) -> None:
        await self.dialogs.time_out(payload)

    async def forget_stale(self, now: datetime) -> None:
        await self.dialogs.sweep(now)

    async def end(self, user_id: str) -> None:
        """Drop the person's dialog, if any, and its timeout."""
        await self.dialogs.end(user_id)

    async def _file(self, dialog: Dialog, event: Event) -> None:
        result = build_report(
            raw(dialog),
            self._intake.rules(dialog.room, dialog.data["area"]),
            observed_default=dialog.started,
            geo=dialog.data["geo"],
            attachments=attachment_notes(dialog),
        )
        if isinstance(result, Problem):
            # Most likely a value given at "anything else?": ask that once more.
            raise ReportProblem(result)
        await self._intake.file(
            Filing(
                report=result,
                room=dialog.room,
                thread_root=dialog.root,
                user_id=dialog.user_id,
                lang=dialog.lang,
                event_id=event.event_id,
                plate_events=tuple(dialog.data["plate_events"]),
            )
        )

    def _timed_out(self, dialog: Dialog) -> Rich:
        t = self.bot.translator(dialog.lang)
        report = self._notifier.view(dialog.lang).command("report")
        return Rich().text(t("sightings.dialog.timed_out", report=report))
