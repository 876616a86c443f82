"""What the sightings plugin publishes for other plugins: `bot.service(ReportFeed)`.

    feed = bot.service(ReportFeed)          # in start(), once every plugin is loaded
    await feed.follow("relay", on_change)   # confirmed, updated, cleared, retracted: each
                                            # once, in order, caught up after a restart
    feed.subscribe_filings(on_filed)        # every new report, any way it came in
    feed.add_card_section(section)          # a part of the moderator card; refresh_card()
    view = feed.view(room)                  # how reports read in that room

Subscribers are called after the change is stored, in order, each in turn; one that fails
is logged and does not stop the others. A follower's place in the change log is kept
under its name (the core's cursors), so it never misses a change across crashes; one that
must never miss a filing looks at `undecided()` at start.
"""

from __future__ import annotations

import asyncio
from datetime import datetime, timedelta

from bot.api import Language, RoomRef, Target
from plugins.sightings.card import View
from plugins.sightings.decisions import Decisions, Verdict
from plugins.sightings.lifecycle import UNDECIDED
from plugins.sightings.model import Report
from plugins.sightings.notify import CardSection, Notifier
from plugins.sightings.signals import (
    ChangeKind,
    FiledReport,
    FilingSubscriber,
    ReportChange,
    ReportSignals,
    Subscriber,
)
from plugins.sightings.store import Actor, ReportState, ReportStore


class ReportFeed:
    def __init__(
        self,
        signals: ReportSignals,
        store: ReportStore,
        notifier: Notifier,
        decisions: Decisions,
        retention: timedelta,
    ) -> None:
        self._signals = signals
        self._store = store
        self._notifier = notifier
        self._decisions = decisions
        # Closed reports are erased this long after closing: keep nothing about them longer.
        self.retention = retention

    async def follow(
        self,
        name: str,
        handler: Subscriber,
        *,
        reaches_reporter: frozenset[ChangeKind] = frozenset(),
    ) -> None:
        """Hand `handler` every change after the last one it handled (kept under `name`):
        those missed while stopped now, then each as it comes; each once and in order.
        `reaches_reporter`: the changes the handler itself posts in the reporter's room, so
        the reporter gets no separate notice of them."""
        self._signals.reaching_reporter |= reaches_reporter
        cursors, lock = self._notifier.bot.cursors, asyncio.Lock()

        async def deliver(change: ReportChange) -> None:
            async with lock:
                if change.seq <= await cursors.get(name):
                    return
                await handler(change)
                await cursors.set(name, change.seq)

        for change in await self.changes_after(await cursors.get(name)):
            await deliver(change)
        self._signals.subscribe(deliver)

    def subscribe_filings(self, subscriber: FilingSubscriber) -> None:
        self._signals.subscribe_filings(subscriber)

    async def changes_after(self, seq: int) -> list[ReportChange]:
        """Every change stored after `seq`, oldest first."""
        return await self._decisions.changes_after(seq)

    async def undecided(self) -> list[FiledReport]:
        """Every report still waiting for a decision, oldest first."""
        rows = await self._store.open_in(
            [area.slug for area in self._notifier.bot.settings.areas], UNDECIDED
        )
        return [FiledReport(stored.id, stored.report, stored.created_at) for stored in rows]

    async def state(self, report_id: str) -> ReportState | None:
        """Where the report stands; None once it is gone (purged or erased)."""
        return await self._store.state(report_id)

    async def states_since(self, since: datetime) -> list[ReportState]:
        return await self._store.states_since(since)

    def view(self, room: RoomRef, lang: Language | None = None) -> View:
        """Labels, times, area and command names as they read in `room` (or, given, in the
        language of the person answered)."""
        return self._notifier.view(lang) if lang else self._notifier.room_view(room)

    def view_of(self, target: Target) -> View:
        """The view for one target of a broadcast: its own language, else its room's."""
        return self.view(target.room, target.lang)

    async def report(self, report_id: str) -> Report | None:
        """The report's fields as they stand (with the plate: never show it outside the
        moderation rooms)."""
        stored = await self._store.get(report_id)
        return stored.report if stored else None

    def add_card_section(self, section: CardSection) -> None:
        """Add a part to every moderator card, shown before the next steps."""
        self._notifier.sections.append(section)

    async def refresh_card(self, report_id: str) -> None:
        """Edit the report's cards now that a section has something new to show."""
        await self._notifier.refresh_cards(report_id)

    async def keep_plates(self, report_id: str, text: str) -> str:
        """`text` written about the report (a verifier's note) with each plate in it hidden,
        and those plates kept on the report for its moderators. Show the result with
        `view.public`."""
        return await self._decisions.keep_plates(report_id, text)

    async def confirm_on_scene(
        self, report_id: str, user_id: str, name: str, note: str, cause: str
    ) -> Verdict:
        """A verifier's on-scene confirmation, where the area lets verifiers decide; the
        two-person rule holds (never the reporter's own). `cause` is the event that said it."""
        return await self._decisions.confirm_on_scene(report_id, Actor(user_id, name), note, cause)
