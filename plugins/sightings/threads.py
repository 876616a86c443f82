"""Messages in a reporter's thread after the report was filed.

The reporter may answer a moderator's question there (the report goes back to the
moderators as new; keyed fields in the answer, "vehicles: 2 | direction: north", update
the report) or send photos and files, which go to the moderator card only. Anything else
in the thread is neighbors talking, and is left alone.
"""

from __future__ import annotations

from bot.api import BotContext, EventContext, MessageEvent, Rich
from plugins.sightings.card import View, problem_text
from plugins.sightings.decisions import Decisions
from plugins.sightings.lifecycle import OPEN, Status
from plugins.sightings.model import AttachmentNote, Problem, ProblemError
from plugins.sightings.notify import Notifier
from plugins.sightings.parser import keyed_fields, updated_report
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

    async def on_message(self, ctx: EventContext[MessageEvent]) -> None:
        event = ctx.event
        if event.thread_root is None:
            return
        stored = await self._store.by_thread(event.thread_root)
        if stored is None or self.bot.person(event.sender.user_id) != stored.reporter:
            return
        if event.attachments and stored.status in OPEN:
            await self._attach(stored.id, event)
            await ctx.reply(ctx.t("sightings.attachment_added"))
        elif stored.status is Status.NEEDS_INFO and event.body.strip():
            await self._answer(ctx, stored)

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

    async def _answer(self, ctx: EventContext[MessageEvent], stored: StoredReport) -> None:
        answer = ctx.event.body.strip()
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
