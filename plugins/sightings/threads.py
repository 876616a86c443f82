"""Messages from a reporter after the report was filed.

The reporter may answer a moderator's question (the report goes back to the moderators as
new; keyed fields in the answer, "vehicles: 2 | direction: north", update the report) or
send photos and files, which go to the moderator card only. An answer comes in the
report's thread, as a reply to one of the bot's messages about the report (the question
among them), as the reporter's next message in a direct chat while exactly one of their
reports waits for an answer, or with the answer command (see the plugin). Anything else
in the thread is neighbors talking, and a plain message in a group room may be about
anything: both are left alone.
"""

from __future__ import annotations

from bot.api import BotContext, EventContext, MessageEvent, Rich
from plugins.sightings.card import View, problem_text
from plugins.sightings.decisions import Decisions, notice_key
from plugins.sightings.lifecycle import OPEN, Status
from plugins.sightings.model import AttachmentNote, Problem, ProblemError
from plugins.sightings.notify import Notifier
from plugins.sightings.parser import keyed_fields, updated_report
from plugins.sightings.plates import has_plate
from plugins.sightings.store import ReportStore, StoredReport

# Concurrent changes are rare; a few attempts always get through.
_ATTEMPTS = 5


class ReportThreads:
    def __init__(
        self, bot: BotContext, store: ReportStore, notifier: Notifier, decisions: Decisions
    ) -> None:
        self.bot = bot
        self._store = store
        self._notifier = notifier
        self._decisions = decisions

    async def on_message(
        self, ctx: EventContext[MessageEvent], *, next_in_direct: bool = False
    ) -> None:
        """`next_in_direct`: the message is in a direct chat where the bot asked nothing
        else, so it answers the one report of the sender that waits for an answer."""
        event = ctx.event
        person = self.bot.person(event.sender.user_id)
        stored = await self._store.by_thread(event.thread_root) if event.thread_root else None
        if stored is not None:
            if stored.reporter == person:
                await self._from_reporter(ctx, stored)
            return
        if event.reply_to is None and not next_in_direct:
            return
        waiting = await self._store.waiting_for_answer(person)
        replied = await self._replied(event, waiting)
        if replied is not None:
            await self._from_reporter(ctx, replied)
        elif next_in_direct and self._plain(event) and len(waiting) == 1:
            await self._from_reporter(ctx, waiting[0])
        elif next_in_direct and self._plain(event) and waiting:
            await ctx.reply(self._which(ctx, waiting))

    async def _from_reporter(self, ctx: EventContext[MessageEvent], stored: StoredReport) -> None:
        event = ctx.event
        if event.attachments and stored.status in OPEN:
            await self._attach(stored.id, event)
            await ctx.reply(ctx.t("sightings.attachment_added"))
        elif stored.status is Status.NEEDS_INFO and event.body.strip():
            await self.answer(ctx, stored, event.body.strip())

    async def _replied(
        self, event: MessageEvent, waiting: list[StoredReport]
    ) -> StoredReport | None:
        """The waiting report whose message in the reporter's room `event` replies to: the
        report itself, its acknowledgement, or a notice (the question among them)."""
        if event.reply_to is None:
            return None
        for stored in waiting:
            if stored.origin.room != event.room:
                continue
            about = {stored.origin.thread_root, await self._store.ack_event(stored.id)}
            about |= {await self.bot.outbox.sent_event(notice_key(d.seq)) for d in stored.history}
            if event.reply_to in about:
                return stored
        return None

    def _plain(self, event: MessageEvent) -> bool:
        """Something said, not a command (those never reach here, but "! …" does)."""
        text = event.body.strip()
        prefix = self.bot.settings.bot.command_prefix
        return bool(text or event.attachments) and not text.startswith(prefix)

    def _which(self, ctx: EventContext[MessageEvent], waiting: list[StoredReport]) -> str:
        view = self._notifier.view(ctx.lang)
        return ctx.t(
            "sightings.answer_which",
            ids=", ".join(stored.id for stored in waiting),
            answer=f"{view.command('answer')} {waiting[-1].id}",
        )

    async def _with_fields(
        self, ctx: EventContext[MessageEvent], stored: StoredReport, answer: str
    ) -> StoredReport | None:
        """The report with the fields the answer gives (itself when it gives none); None
        when a field is wrong, which the reporter is told, to answer again."""
        try:
            # "yes: they left" is part of the answer, not an unknown key.
            raw = keyed_fields(answer, strict=False)
        except ProblemError as error:  # a key given twice
            await ctx.reply(problem_text(error.problem, ctx.t))
            return None
        if not raw or set(raw) <= {"notes"}:
            return stored
        for _ in range(_ATTEMPTS):
            report = updated_report(stored.report, raw)
            if isinstance(report, Problem):
                await ctx.reply(problem_text(report, ctx.t))
                return None
            if await self._store.replace_report(stored.id, stored.version, report):
                break
            current = await self._store.get(stored.id)  # changed meanwhile: again on it
            if current is None:
                return None
            stored = current
        return await self._store.get(stored.id)

    async def _attach(self, report_id: str, event: MessageEvent) -> None:
        notes = [AttachmentNote.of(a.kind, a.name) for a in event.attachments]
        for _ in range(_ATTEMPTS):
            stored = await self._store.get(report_id)
            if stored is None:
                return
            report = stored.report
            for note in notes:
                report = report.with_attachment(note)
            if await self._store.replace_report(report_id, stored.version, report):
                break
        await self._notifier.refresh_cards(report_id)

    async def answer(
        self, ctx: EventContext[MessageEvent], stored: StoredReport, answer: str
    ) -> None:
        """The reporter's answer to the question about `stored` (waiting for it), however
        it came: the same for the thread, a reply, a direct chat and the command."""
        updated = await self._with_fields(ctx, stored, answer)
        if updated is None:
            return
        if not await self._decisions.reporter_answered(updated, answer, ctx.event.event_id):
            return
        key = f"{stored.key}:answer:{ctx.event.event_id}"

        def quoted(view: View) -> Rich:
            return Rich().text(view.t("sightings.answered", id=stored.id)).newline().italic(answer)

        await self._notifier.reply_to_cards(stored, quoted, key)
        await ctx.reply(ctx.t("sightings.answer_passed", id=stored.id))
        if has_plate(answer):
            event = ctx.event
            here = stored.origin.room == ctx.room
            thread = stored.origin.thread_root if here else event.thread_root or event.event_id
            await self._notifier.remove_plate_messages(
                ctx.room, thread, event.sender.user_id, (event.event_id,), ctx.lang
            )
