"""Sending what the plugin says.

Moderator cards, their edits and the reporter's notices must arrive: they go through the
core's durable outbox, which retries them and survives a crash. Conversation (answers,
dialog questions, the acknowledgement) is sent right away; the person sees an error and
tries again if that fails. Every message has an idempotency key derived from the report
and its purpose, so nothing is ever posted twice.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Callable, Iterable, Sequence

from bot.api import (
    MODERATION,
    BotContext,
    Delivery,
    Language,
    OutgoingMessage,
    Rich,
    RoomRef,
    SentMessage,
    Transaction,
)
from plugins.sightings.card import View, card
from plugins.sightings.config import SightingsConfig
from plugins.sightings.model import Report
from plugins.sightings.store import Card, ReportStore, StoredReport

log = logging.getLogger(__name__)

# Why a message carrying a plate was removed, as the homeserver records it (no details).
REMOVAL = "report details kept with the moderators"

# Another plugin's part of the moderator card (who is going to the scene): given the report's
# id, area, a room's view and the report itself, the part to show, if any.
CardSection = Callable[[str, str, View, Report], Awaitable[Rich | None]]


class Notifier:
    def __init__(self, bot: BotContext, store: ReportStore) -> None:
        self.bot = bot
        self._store = store
        # One card refresh at a time per report, so the last edit queued shows the latest.
        self._locks: dict[str, asyncio.Lock] = {}
        self.sections: list[CardSection] = []

    def view(self, lang: Language) -> View:
        settings = self.bot.settings

        def area_name(slug: str) -> str:
            area = settings.area(slug)
            return area.name(lang) if area is not None else slug

        return View(
            t=self.bot.translator(lang),
            zone=settings.section(SightingsConfig).reports.zone(),
            area_name=area_name,
            command=lambda name: self.bot.command_name(name, lang),
            stale_minutes=settings.section(SightingsConfig).reports.stale_minutes,
        )

    def room_view(self, room: RoomRef) -> View:
        return self.view(self.bot.settings.room_language(room.transport, room.room_id))

    def moderation_rooms(self, area: str) -> list[RoomRef]:
        """The area's moderation rooms, or else its nearest ancestor's."""
        return [
            RoomRef(room.transport, room.id)
            for room in self.bot.settings.serving_rooms(MODERATION, area)
        ]

    def moderates(self, room: RoomRef, area: str) -> bool:
        return room in self.moderation_rooms(area)

    # --- cards --------------------------------------------------------------------------

    async def post_cards(self, stored: StoredReport) -> None:
        """Queue the report's card for each moderation room of its area."""
        rooms = self.moderation_rooms(stored.area)
        if not rooms:
            log.warning("no moderation room is configured for a report's area")
            return
        cards = [(room, f"{stored.key}:card:{room.transport}:{room.room_id}") for room in rooms]
        deliveries = [
            Delivery(key, room, (await self._card(stored, room)).message()) for room, key in cards
        ]

        async def record(tx: Transaction) -> None:
            await self._store.add_cards(stored.id, cards, tx)

        # Where the cards go is recorded with them, in one commit.
        await self.bot.outbox.enqueue(deliveries, along=record)

    async def _card(self, stored: StoredReport, room: RoomRef) -> Rich:
        view = self.room_view(room)
        extra = [
            await section(stored.id, stored.area, view, stored.report) for section in self.sections
        ]
        return card(stored, view, [section for section in extra if section is not None])

    async def withdraw_cards(self, cards: Iterable[Card]) -> None:
        """Edit the cards of erased reports to say so, without the report's details."""
        edits = []
        for shown in cards:
            t = self.room_view(shown.room).t
            text = Rich().bold(t("sightings.card.withdrawn", id=shown.report_id))
            edits.append(_card_edit(shown, "withdrawn", text))
        await self.bot.outbox.enqueue(edits)

    async def refresh_cards(self, report_id: str) -> StoredReport | None:
        """Queue an edit of every card of the report to show its current state, which it
        returns (None: no such report)."""
        lock = self._locks.setdefault(report_id, asyncio.Lock())
        async with lock:
            stored = await self._store.get(report_id)
            if stored is None:
                return None
            for shown in await self._store.cards(report_id):
                text = await self._card(stored, shown.room)
                # A refresh that changes nothing sends nothing. Queued before it is counted:
                # after a crash in between, the same edit is queued again under its key.
                digest = self.bot.cipher.keyed_hash(text.plain, "sightings.card")
                if digest != shown.shown:
                    await self.bot.outbox.enqueue([_card_edit(shown, f"e{shown.edits + 1}", text)])
                    await self._store.card_edited(shown, digest)
        return stored

    async def report_of_card(self, room: RoomRef, event_id: str) -> StoredReport | None:
        """The report whose card in `room` is `event_id`, if it is one."""
        stored = await self._store.by_card(room, event_id)
        if stored is not None:
            return stored
        # Cards sent since the last look: learn their event ids from the outbox.
        for shown in await self._store.unresolved_cards(room):
            sent = await self.bot.outbox.sent_event(shown.key)
            if sent is not None:
                await self._store.card_sent(shown, sent)
        return await self._store.by_card(room, event_id)

    def forget_idle_locks(self) -> None:
        self._locks = {k: lock for k, lock in self._locks.items() if lock.locked()}

    async def reply_to_cards(
        self, stored: StoredReport, render: Callable[[View], Rich], key: str
    ) -> None:
        """A reply to each card of the report, as `render` words it in the card's room."""
        deliveries = []
        for shown in await self._store.cards(stored.id):
            message = render(self.room_view(shown.room)).message()
            deliveries.append(
                Delivery(f"{key}:{shown.room.room_id}", shown.room, message, reply_to_key=shown.key)
            )
        await self.bot.outbox.enqueue(deliveries)

    # --- the reporter -------------------------------------------------------------------

    async def reporter_language(self, stored: StoredReport) -> Language:
        return await self.bot.language_for(stored.origin.room, stored.origin.user_id)

    async def tell_reporter(self, stored: StoredReport, message: Rich, key: str) -> None:
        """Queue a message in the reporter's thread that notifies them (explicit mention)."""
        origin = stored.origin
        outgoing = message.message()
        await self.bot.outbox.enqueue(
            [
                Delivery(
                    key,
                    origin.room,
                    OutgoingMessage(
                        plain=outgoing.plain,
                        html=outgoing.html,
                        thread_root=origin.thread_root,
                        # Nobody to mention once the reporter asked to be forgotten.
                        mentions=(origin.user_id,) if origin.user_id else (),
                    ),
                )
            ]
        )

    # --- conversation -------------------------------------------------------------------

    async def remove_plate_messages(
        self,
        room: RoomRef,
        thread_root: str,
        user_id: str,
        events: Sequence[str],
        lang: Language,
    ) -> None:
        """A plate is for the moderators: the person's messages that held one leave the room
        where the bot may remove them ([reports] redact_plates, keep_plates_in), and the
        person hears why, in the report's thread."""
        limits = self.bot.settings.section(SightingsConfig).reports
        if (
            not events
            or not limits.redact_plates
            or self.bot.room_config(room) is None  # a direct chat: nobody else sees it
            or room.room_id in limits.keep_plates_in
        ):
            return
        removed = [e for e in events if await self.bot.remove(room, e, REMOVAL)]
        if removed:
            view = self.view(lang)
            text = view.t("sightings.plate_removed", report=view.command("report"))
            key = f"sightings:plate-removed:{removed[0]}"
            await self.in_thread(room, thread_root, Rich().text(text), key, mentions=(user_id,))

    async def in_thread(
        self,
        room: RoomRef,
        root: str,
        message: Rich,
        key: str,
        *,
        mentions: tuple[str, ...] = (),
    ) -> SentMessage:
        """Send now, in the thread that starts at `root` (through the outbox: a failure is
        retried)."""
        outgoing = message.message()
        threaded = OutgoingMessage(
            plain=outgoing.plain, html=outgoing.html, thread_root=root, mentions=mentions
        )
        return await self.bot.outbox.send_now(Delivery(key, room, threaded))


def _card_edit(shown: Card, version: str, text: Rich) -> Delivery:
    """An edit that replaces the card's text; keyed by `version`, so it is sent once."""
    message = text.message()
    return Delivery(
        f"{shown.key}:{version}",
        shown.room,
        OutgoingMessage(plain=message.plain, html=message.html),
        edit_of_key=shown.key,
    )
