"""The legal team's desk: opening cases, changing them, and keeping their cards and
reminders in step.

A case's card is a core broadcast to the legal rooms serving its area (its own, else its
nearest ancestor's), edited after every change under the case's version, so a change
replayed after a crash edits nothing twice. Reminders are stored jobs, one per reminder
time, set again at start for the next time ahead: a reminder missed while the bot was down
is dropped, never sent late.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.api import BotContext, Broadcast, Language, OutgoingMessage, Rich, RoomRef, Target
from plugins.cases import card as render
from plugins.cases.config import LEGAL, CasesConfig
from plugins.cases.model import Case, Entry, Origin
from plugins.cases.store import CaseStore
from plugins.sightings import ReportFeed, View

log = logging.getLogger(__name__)

REMIND = "cases.remind"
REMIND_GRACE = timedelta(hours=1)


def topic(case_id: str) -> str:
    return f"cases:{case_id}"


class Desk:
    def __init__(self, bot: BotContext, store: CaseStore, now: Callable[[], datetime]) -> None:
        self.bot = bot
        self.store = store
        self.now = now
        self._feed: ReportFeed | None = None

    async def start(self, feed: ReportFeed) -> None:
        """Read the cases and set each open one's next reminder (see the module's note)."""
        self._feed = feed
        await self.store.load()
        for case in self.store.open_cases():
            await self.plan(case)

    @property
    def feed(self) -> ReportFeed:
        assert self._feed is not None, "start() first"
        return self._feed

    # --- where a case lives ---------------------------------------------------------------

    def rooms(self, area: str) -> list[Target]:
        """The legal rooms serving `area`: its own, else its nearest ancestor's."""
        return self.bot.broadcasts.serving(LEGAL, area)

    def serves(self, room: RoomRef, area: str) -> bool:
        return any(target.room == room for target in self.rooms(area))

    def view(self, target: Target) -> View:
        return self.feed.view_of(target)

    def lang(self, target: Target) -> Language:
        room = target.room
        return target.lang or self.bot.settings.room_language(room.transport, room.room_id)

    # --- opening --------------------------------------------------------------------------

    async def open(
        self,
        area: str,
        origin: Origin,
        *,
        report_id: str | None = None,
        alias: str | None = None,
        where: str | None = None,
        seen_at: datetime | None = None,
        notes: tuple[str, ...] = (),
    ) -> tuple[Case, bool]:
        """The case, and whether it is new (a report's second `!detained` finds the
        first): a new one is posted to the legal rooms and its reminders set."""
        now = self.now()

        def make(case_id: str) -> Case:
            return Case(
                id=case_id,
                area=area,
                origin=origin,
                opened_at=now,
                report_id=report_id,
                alias=alias,
                where=where,
                seen_at=seen_at,
                notes=tuple(Entry(note, now) for note in notes),
            )

        case, new = await self.store.add(report_id, make)
        if new:
            targets = self.rooms(area)
            if not targets:
                log.warning("a case was opened in an area no legal room serves")
            await self.bot.broadcasts.open(
                f"{topic(case.id)}:card", topic(case.id), targets, self._card(case), at=now
            )
            await self.plan(case)
            log.info("case opened (%s)", origin.value)
        return case, new

    # --- changing -------------------------------------------------------------------------

    async def change(
        self,
        case_id: str,
        change: Callable[[Case], Case],
        notice: Callable[[View], str] | None = None,
    ) -> Case:
        """Apply `change`, edit the card; `notice` (worded for each room) is also posted as
        a reply to the card in every legal room that has it."""
        case = await self.store.update(case_id, change)
        broadcast = await self.bot.broadcasts.latest(topic(case.id))
        if broadcast is not None:
            follow = None if notice is None else self._notice(notice)
            await self.bot.broadcasts.revise(
                broadcast, f"v{case.version}", edit=self._card(case), follow_up=follow
            )
        if case.closed is not None:
            await self.bot.broadcasts.close(topic(case.id), self.now())
        return case

    def _card(self, case: Case) -> Callable[[Target], OutgoingMessage]:
        now = self.now()

        def one(target: Target) -> OutgoingMessage:
            view = self.view(target)
            return render.card(case, view, self.lang(target), now).message(notice=False)

        return one

    def _notice(self, notice: Callable[[View], str]) -> Callable[[Target], OutgoingMessage]:
        def one(target: Target) -> OutgoingMessage:
            return Rich().text(notice(self.view(target))).message(notice=False)

        return one

    # --- reminders ------------------------------------------------------------------------

    async def plan(self, case: Case) -> None:
        """Set the case's next reminder after now, unless nothing is left to remind of."""
        if case.finished:
            return
        at = case.next_reminder(self.now())
        job_id = f"{REMIND}:{case.id}:{at.timestamp():.0f}"
        await self.bot.scheduler.schedule(REMIND, at, {"case": case.id}, job_id)

    async def remind(self, case_id: str, job_id: str) -> None:
        """What is overdue, as a reply to the card; then the next reminder."""
        case = self.store.get(case_id)
        if case is None or case.finished:
            return
        broadcast = await self.bot.broadcasts.latest(topic(case.id))
        now = self.now()
        if case.overdue(now) and broadcast is not None:
            await self._remind(broadcast, case, job_id, now)
        await self.plan(case)

    async def _remind(self, broadcast: Broadcast, case: Case, job_id: str, now: datetime) -> None:
        def one(target: Target) -> OutgoingMessage:
            return render.reminder(case, self.view(target), now).message(notice=False)

        await self.bot.broadcasts.revise(broadcast, job_id, follow_up=one)

    # --- retention ------------------------------------------------------------------------

    async def purge(self) -> list[str]:
        """Erase the cases closed `retention_days` ago; returns their ids."""
        days = self.bot.settings.section(CasesConfig).cases.retention_days
        cutoff = self.now() - timedelta(days=days)
        gone = await self.store.purge(cutoff)
        if gone:
            await self.bot.broadcasts.purge("cases:", cutoff)
            log.info("erased %d closed cases", len(gone))
        return gone
