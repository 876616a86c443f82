"""What other plugins hear of (see `feed`): a report filed, and the changes that relay it:
confirmed, updated, gone stale (no update for a while), cleared, retracted, expired."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.api import RoomRef
from plugins.sightings.lifecycle import Action
from plugins.sightings.model import Report

log = logging.getLogger(__name__)


class ChangeKind(StrEnum):
    CONFIRMED = "confirmed"
    UPDATED = "updated"
    CLEARED = "cleared"
    RETRACTED = "retracted"
    STALE = "stale"  # no update for a while: it may be over (still confirmed)
    EXPIRED = "expired"  # no update for much longer: closed


KIND_OF_ACTION: dict[Action, ChangeKind] = {
    Action.CONFIRM: ChangeKind.CONFIRMED,
    Action.UPDATE: ChangeKind.UPDATED,
    Action.CLEAR: ChangeKind.CLEARED,
    Action.RETRACT: ChangeKind.RETRACTED,
    Action.STALE: ChangeKind.STALE,
    Action.LAPSE: ChangeKind.EXPIRED,
}
# The changes after which the alert is over.
CLOSING = frozenset({ChangeKind.CLEARED, ChangeKind.RETRACTED, ChangeKind.EXPIRED})


@dataclass(frozen=True)
class ReportChange:
    kind: ChangeKind
    # Increasing and unique across all reports: the position of this change in the log.
    seq: int
    report_id: str
    report: Report
    at: datetime
    # The moderator's note; for an update, the update's text.
    note: str | None
    # When the alert was last confirmed or updated ("last update 14:05").
    last_update: datetime
    # The reporter's room and thread, which also gets the alert.
    reporter_room: RoomRef
    reporter_thread: str


@dataclass(frozen=True)
class FiledReport:
    """A report just filed, any way it came in (not yet decided)."""

    report_id: str
    report: Report
    filed_at: datetime


Subscriber = Callable[[ReportChange], Awaitable[None]]
FilingSubscriber = Callable[[FiledReport], Awaitable[None]]


class ReportSignals:
    def __init__(self) -> None:
        self._subscribers: list[Subscriber] = []
        self._filing_subscribers: list[FilingSubscriber] = []
        # Changes a subscriber itself posts in the reporter's room (the relay's follow-ups):
        # the reporter's own notice of them would say the same thing twice.
        self.reaching_reporter: set[ChangeKind] = set()

    def subscribe(self, subscriber: Subscriber) -> None:
        self._subscribers.append(subscriber)

    def subscribe_filings(self, subscriber: FilingSubscriber) -> None:
        self._filing_subscribers.append(subscriber)

    async def publish(self, change: ReportChange) -> None:
        for subscriber in self._subscribers:
            try:
                await subscriber(change)
            except Exception:
                log.exception("a subscriber failed on a report change (seq %d)", change.seq)

    async def publish_filing(self, filed: FiledReport) -> None:
        for subscriber in self._filing_subscribers:
            try:
                await subscriber(filed)
            except Exception:
                log.exception("a subscriber failed on a filed report")
