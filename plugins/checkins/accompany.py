"""Accompaniment: a request becomes a nameless one-off shift on the area's dispatch rota;
whoever claims it meets the person only if the person says yes."""

from __future__ import annotations

import logging
import secrets
from datetime import datetime

from bot.api import BotContext, RoomRef
from plugins.checkins.config import CheckinsConfig
from plugins.checkins.notify import Notifier
from plugins.checkins.store import Accompaniment, Accompaniments, Address
from plugins.rosters import ClaimedShift

log = logging.getLogger(__name__)

# Where accompaniment shifts go: the area's dispatch rooms keep its on-call rota.
DISPATCH = "dispatch"
WHEN = "%Y-%m-%d %H:%M"
KINDS = {
    "court": "court",
    "corte": "court",
    "tribunal": "court",
    "audiencia": "court",
    "checkin": "checkin",
    "cita": "checkin",
    "aviso": "checkin",
}


class Companions:
    def __init__(self, bot: BotContext, store: Accompaniments, notifier: Notifier) -> None:
        self.bot = bot
        self.store = store
        self.notifier = notifier

    def rota_rooms(self, area: str) -> list[RoomRef]:
        """The dispatch rooms serving `area` (one of them keeps its rota)."""
        rooms = self.bot.settings.serving_rooms(DISPATCH, area)
        return [RoomRef(room.transport, room.id) for room in rooms]

    async def request(
        self, owner: Address, kind: str, area: str, at: tuple[RoomRef, str, datetime]
    ) -> None:
        """Keep the request behind shift `at` (its rota's room, number, start)."""
        room, shift, starts_at = at
        request = Accompaniment(secrets.token_hex(8), owner, kind, area, starts_at, "open")
        await self.store.add(request, room, shift)

    async def claimed(self, claim: ClaimedShift) -> None:
        """Someone took a shift: if it is one of ours, ask the person about them."""
        request = await self.store.open_for(claim.room, claim.shift)
        if request is None:
            return
        volunteer = await self.notifier.chat_with(claim.room.transport, claim.user_id)
        if not await self.store.claimed(request, volunteer):
            return
        lang = await self.notifier.lang_of(request.owner)
        await self.notifier.tell(
            request.owner,
            f"checkins:claimed:{request.id}",
            "checkins.accompany_claimed",
            kind=self.bot.translator(lang)(f"checkins.kind_{request.kind}"),
            when=self.when(request),
            share=self.bot.command_name("share", lang),
        )
        log.info("an accompaniment was claimed; the person is asked")

    async def answer(self, request: Accompaniment, yes: bool) -> None:
        volunteer = request.volunteer
        assert volunteer is not None
        await self.store.answered(request.id, "introduced" if yes else "declined")
        if not yes:
            await self.notifier.tell(
                volunteer, f"checkins:declined:{request.id}", "checkins.accompany_declined"
            )
            return
        await self.notifier.tell(
            request.owner,
            f"checkins:intro-owner:{request.id}",
            "checkins.intro_owner",
            contact=_reach(volunteer),
        )
        lang = await self.notifier.lang_of(volunteer)
        await self.notifier.tell(
            volunteer,
            f"checkins:intro-volunteer:{request.id}",
            "checkins.intro_volunteer",
            contact=_reach(request.owner),
            kind=self.bot.translator(lang)(f"checkins.kind_{request.kind}"),
            when=self.when(request),
        )

    def when(self, request: Accompaniment) -> str:
        zone = self.bot.settings.section(CheckinsConfig).checkins.zone(
            self.bot.settings, request.area
        )
        return request.starts_at.astimezone(zone).strftime(WHEN)


def _reach(person: Address) -> str:
    """How the other one writes to them: a Matrix id, or a Signal contact."""
    return person.user
