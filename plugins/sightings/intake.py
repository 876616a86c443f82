"""Taking a report in: the rules it is checked against, the rate limit, and filing it.

Filing stores the report, acknowledges it in the reporter's thread as UNCONFIRMED and posts
the moderator cards. A replay of the same event after a crash finds the stored report and
re-sends only what the homeserver has not got yet (the sends are keyed).
"""

from __future__ import annotations

import logging
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from bot.api import Area, BotContext, Language, RoomRef
from plugins.sightings.card import acknowledgement
from plugins.sightings.config import SightingsConfig
from plugins.sightings.model import IntakeRules, Report
from plugins.sightings.notify import Notifier
from plugins.sightings.signals import FiledReport, ReportSignals
from plugins.sightings.store import Origin, ReportStore
from plugins.sightings.vocabulary import fold

log = logging.getLogger(__name__)

# A report at the place of an open one filed this recently may be the same sighting.
SAME_SIGHTING = timedelta(minutes=60)
# How long the acknowledgement waits for urgent messages (a dispatch call) to go first.
URGENT_FIRST_SECONDS = 2.0


@dataclass(frozen=True)
class AreaNames:
    slugs: frozenset[str]
    # Each area's English and Spanish names, folded, to its slug.
    aliases: dict[str, str]
    # The areas as a person is told them ("Pilsen, Little Village / La Villita").
    listing: str

    @classmethod
    def of(cls, areas: Sequence[Area]) -> AreaNames:
        return cls(
            slugs=frozenset(a.slug for a in areas),
            aliases={fold(name): a.slug for a in areas for name in (a.name_en, a.name_es)},
            listing=", ".join(
                a.name_en if a.name_en == a.name_es else f"{a.name_en} / {a.name_es}" for a in areas
            ),
        )


@dataclass(frozen=True)
class Filing:
    """A report ready to file, and where it came from."""

    report: Report
    room: RoomRef
    # The reporter's thread: answers and decisions are posted there.
    thread_root: str
    user_id: str
    lang: Language
    # The event that filed it; the same event never files twice.
    event_id: str
    # The report's messages that carried its plate: removed from the room once filed.
    plate_events: tuple[str, ...] = ()


class Intake:
    def __init__(
        self,
        bot: BotContext,
        store: ReportStore,
        notifier: Notifier,
        signals: ReportSignals,
        now: Callable[[], datetime],
    ) -> None:
        self.bot = bot
        self._store = store
        self._notifier = notifier
        self._signals = signals
        self._now = now
        self._names: tuple[Sequence[Area], AreaNames] | None = None

    def rules(self, room: RoomRef, area: str | None = None) -> IntakeRules:
        """What a report from `room` is checked against; `area`: the report's area when
        the room does not say (a direct chat)."""
        settings = self.bot.settings
        config = self.bot.room_config(room)
        names = self._area_names(settings.areas)
        return IntakeRules(
            now=self._now(),
            zone=settings.section(SightingsConfig).reports.zone(),
            default_area=area or (config.areas[0] if config is not None else ""),
            areas=names.slugs,
            area_aliases=names.aliases,
            area_listing=names.listing,
            stale_after=timedelta(minutes=settings.section(SightingsConfig).reports.stale_minutes),
        )

    def _area_names(self, areas: Sequence[Area]) -> AreaNames:
        """How reports may name the areas: worked out again only when they change (the
        network changed from chat: the settings are new)."""
        if self._names is None or self._names[0] is not areas:
            self._names = (areas, AreaNames.of(areas))
        return self._names[1]

    async def minutes_to_wait(self, user_id: str) -> int | None:
        """None while the person is within their report limit, else minutes to wait."""
        limits = self.bot.settings.section(SightingsConfig).reports
        window = timedelta(minutes=limits.per_person_window_minutes)
        now = self._now()
        # Of the reports that count, the oldest leaves the window first.
        oldest = await self._store.nth_newest_since(
            self.bot.person(user_id), now - window, limits.per_person_limit
        )
        if oldest is None:
            return None
        return max(1, math.ceil((oldest + window - now).total_seconds() / 60))

    async def file(self, filing: Filing) -> str:
        """Store, acknowledge and send to the moderators; the report's id."""
        room = filing.room
        origin = Origin(room.transport, room.room_id, filing.thread_root, filing.user_id)
        now = self._now()
        person = self.bot.person(filing.user_id)
        stored = await self._store.file(
            filing.report, person, origin, filing.event_id, now, now - SAME_SIGHTING
        )
        report_id = stored.id
        view = self._notifier.view(filing.lang)
        ack = acknowledgement(stored, view)
        if not self._notifier.moderation_rooms(stored.area):
            ack.newline().bold(view.t("sightings.ack.no_moderators"))
        # Subscribers first (a dispatch call is urgent, and the card shows it), then the
        # cards: all only queued, so durable before anything is sent. On a replay too:
        # subscribers key what they do, so hearing it twice adds nothing.
        await self._signals.publish_filing(FiledReport(report_id, stored.report, stored.created_at))
        await self._notifier.post_cards(stored)
        # The verifiers' call goes out before the reporter's acknowledgement, not beside it.
        await self.bot.outbox.urgent_sent(within=URGENT_FIRST_SECONDS)
        sent = await self._notifier.in_thread(
            filing.room, filing.thread_root, ack, f"{stored.key}:ack"
        )
        await self._store.acknowledged(report_id, sent.event_id)
        await self._notifier.remove_plate_messages(
            filing.room, filing.thread_root, filing.user_id, filing.plate_events, filing.lang
        )
        log.debug("filed report %s", report_id)
        return report_id
