"""The guided report as the person sees it: questions in a thread, answers, timeout.

The dialog's logic is in `dialog`; this module talks: it asks, answers problems, files the
finished report through the same intake as written reports, and ends dialogs that time out.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime, timedelta

from bot.api import (
    BotContext,
    Event,
    EventContext,
    LocationEvent,
    MessageEvent,
    Rich,
    Translator,
)
from plugins.sightings.card import problem_text
from plugins.sightings.config import SightingsConfig
from plugins.sightings.dialog import (
    Ask,
    Cancelled,
    Dialog,
    DialogStore,
    Finished,
    Outcome,
    Retry,
    add_attachment,
    answer,
    answer_location,
)
from plugins.sightings.intake import Filing, Intake
from plugins.sightings.model import AttachmentNote, Problem
from plugins.sightings.notify import Notifier
from plugins.sightings.parser import RawFields, build_report
from plugins.sightings.plates import has_plate

TIMEOUT_JOB = "sightings.dialog_timeout"
# A dialog that timed out while the bot was down is forgotten after this, unannounced.
FORGET_AFTER = timedelta(hours=1)


class GuidedReports:
    def __init__(
        self, bot: BotContext, intake: Intake, notifier: Notifier, now: Callable[[], datetime]
    ) -> None:
        self.bot = bot
        self._intake = intake
        self._notifier = notifier
        self._now = now
        self._dialogs = DialogStore(bot.db, bot.cipher)

    @property
    def _timeout(self) -> timedelta:
        return timedelta(
            minutes=self.bot.settings.section(SightingsConfig).reports.dialog_timeout_minutes
        )

    async def start(
        self,
        ctx: EventContext[MessageEvent],
        area: str | None = None,
        written: RawFields | None = None,
    ) -> None:
        """Ask step by step; with `written` (a report typed without its place), ask only
        where, and file it with what was written."""
        person = self.bot.person(ctx.event.sender.user_id)
        if await self._dialogs.load(person, self._now()) is not None:
            await ctx.reply(ctx.t("sightings.dialog.already_open"))
            return
        event = ctx.event
        dialog = Dialog(
            transport=event.room.transport,
            room_id=event.room.room_id,
            root=event.thread_root or event.event_id,
            user_id=event.sender.user_id,
            lang=ctx.lang,
            started_at=event.timestamp.isoformat(),
            area=area,
            raw=dict(written or {}),
            written=written is not None,
            plate_events=[event.event_id] if has_plate(event.body) else [],
        )
        await self._save(person, dialog)
        key = "sightings.dialog.need_place" if written is not None else "sightings.dialog.intro"
        intro = Rich().line(ctx.t(key))
        if not ctx.direct and self.bot.settings.invites.direct_chats:
            report = self._notifier.view(ctx.lang).command("report")
            intro.line(ctx.t("sightings.dialog.private", report=report))
        await self._say(dialog, event, _question(intro, dialog, ctx.t))

    async def continue_here(self, ctx: EventContext[MessageEvent]) -> bool:
        """`!report` in a direct chat while the person's dialog is open in a room: the
        dialog moves here with its answers so far (and the room's area)."""
        person = self.bot.person(ctx.event.sender.user_id)
        dialog = await self._dialogs.load(person, self._now())
        if dialog is None or dialog.room == ctx.room:
            return False
        config = self.bot.room_config(dialog.room)
        dialog.area = dialog.area or (config.areas[0] if config is not None else None)
        event = ctx.event
        dialog.transport, dialog.room_id = event.room.transport, event.room.room_id
        dialog.root = event.thread_root or event.event_id
        await self._save(person, dialog)
        moved = Rich().line(ctx.t("sightings.dialog.moved"))
        await self._say(dialog, event, _question(moved, dialog, ctx.t))
        return True

    async def on_message(self, ctx: EventContext[MessageEvent]) -> bool:
        """Handle the message if it answers the sender's open dialog."""
        found = await self._dialog_of(ctx)
        if found is None:
            return False
        person, dialog = found
        attachments = ctx.event.attachments
        if attachments:
            for attachment in attachments:
                add_attachment(dialog, AttachmentNote.of(attachment.kind, attachment.name))
            await self._save(person, dialog)
            await self._say(dialog, ctx.event, Rich().text(ctx.t("sightings.attachment_added")))
            return True
        plate = dialog.raw.get("plate")
        outcome = answer(dialog, ctx.event.body)
        if dialog.raw.get("plate") not in (None, plate) or has_plate(ctx.event.body):
            dialog.plate_events.append(ctx.event.event_id)
        await self._continue(person, dialog, ctx.event, outcome)
        return True

    async def on_location(self, ctx: EventContext[LocationEvent]) -> None:
        found = await self._dialog_of(ctx)
        if found is not None:
            person, dialog = found
            outcome = answer_location(dialog, ctx.event.geo_uri, ctx.event.description)
            await self._continue(person, dialog, ctx.event, outcome)

    async def time_out(self, person: str) -> None:
        dialog = await self._dialogs.take_expired(person, self._now())
        if dialog is not None:
            t = self.bot.translator(dialog.lang)
            report = self._notifier.view(dialog.lang).command("report")
            text = Rich().text(t("sightings.dialog.timed_out", report=report))
            await self._send(dialog, text, key=f"sightings:dialog-timeout:{dialog.root}")

    async def forget_stale(self, now: datetime) -> None:
        await self._dialogs.delete_expired_before(now - FORGET_AFTER)

    async def _dialog_of(
        self, ctx: EventContext[MessageEvent] | EventContext[LocationEvent]
    ) -> tuple[str, Dialog] | None:
        person = self.bot.person(ctx.event.sender.user_id)
        dialog = await self._dialogs.load(person, self._now())
        if dialog is None or not dialog.belongs(ctx.room, ctx.event.thread_root):
            return None
        return person, dialog

    async def _continue(self, person: str, dialog: Dialog, event: Event, outcome: Outcome) -> None:
        t = self.bot.translator(dialog.lang)
        if isinstance(outcome, Cancelled):
            await self.end(person)
            await self._say(dialog, event, Rich().text(t("sightings.dialog.cancelled")))
        elif isinstance(outcome, Retry):
            message = Rich().line(problem_text(outcome.problem, t))
            await self._save(person, dialog)
            await self._say(dialog, event, _question(message, dialog, t))
        elif isinstance(outcome, Ask):
            await self._save(person, dialog)
            await self._say(dialog, event, _question(Rich(), dialog, t))
        elif isinstance(outcome, Finished):
            await self._finish(person, dialog, event)

    async def _finish(self, person: str, dialog: Dialog, event: Event) -> None:
        result = build_report(
            dialog.raw,
            self._intake.rules(dialog.room, dialog.area),
            observed_default=dialog.observed_default(),
            geo=dialog.geo,
            attachments=dialog.attachment_notes(),
        )
        if isinstance(result, Problem):
            # Most likely a value given at "anything else?": ask that once more.
            await self._continue(person, dialog, event, Retry(result))
            return
        await self.end(person)
        await self._intake.file(
            Filing(
                report=result,
                room=dialog.room,
                thread_root=dialog.root,
                user_id=dialog.user_id,
                lang=dialog.lang,
                event_id=event.event_id,
                plate_events=tuple(dialog.plate_events),
            )
        )

    async def _save(self, person: str, dialog: Dialog) -> None:
        expires_at = self._now() + self._timeout
        await self._dialogs.save(person, dialog, expires_at)
        await self.bot.scheduler.schedule(
            TIMEOUT_JOB, expires_at, {"person": person}, job_id=f"{TIMEOUT_JOB}:{person}"
        )

    async def end(self, person: str) -> None:
        """Drop the person's dialog, if any, and its timeout."""
        await self._dialogs.delete(person)
        await self.bot.scheduler.cancel(f"{TIMEOUT_JOB}:{person}")

    async def _say(self, dialog: Dialog, event: Event, message: Rich) -> None:
        # Keyed by the answer: a replayed answer never asks twice.
        await self._send(dialog, message, key=f"sightings:dialog:{event.event_id}")

    async def _send(self, dialog: Dialog, message: Rich, key: str) -> None:
        await self._notifier.in_thread(dialog.room, dialog.root, message, key)


def _question(message: Rich, dialog: Dialog, t: Translator) -> Rich:
    message.bold(t(f"sightings.dialog.ask.{dialog.step_name}")).newline()
    return message.italic(t("sightings.dialog.controls"))
