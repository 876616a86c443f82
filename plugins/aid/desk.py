"""Requests from filing to closing: posted to the aid rooms, offered on, accepted or
declined, done, re-announced, expired; and the people told by direct message.

Every message goes through the outbox with a key derived from the request and the change,
so a replay after a crash sends nothing twice. The request's timers are one stored job
per request, set from its stored moments (see `timers`).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable
from dataclasses import replace
from datetime import datetime

from bot.api import BotContext, Delivery, OutgoingMessage, Rich, Target
from plugins.aid.cards import Wording, shown_text
from plugins.aid.config import AID, AidConfig, AidSection
from plugins.aid.face import AidChange
from plugins.aid.kinds import KINDS
from plugins.aid.store import ACTIVE, Address, AidRequest, Filing, Requests, State

log = logging.getLogger(__name__)

Listener = Callable[[AidChange], Awaitable[None]]
# What the legal room hears of a case's request.
CASE_STATES = (State.TAKEN, State.DONE, State.EXPIRED, State.WITHDRAWN)


def topic(request_id: str) -> str:
    return f"aid:{request_id}"


class Desk:
    def __init__(self, bot: BotContext, store: Requests, now: Callable[[], datetime]) -> None:
        self.bot = bot
        self.store = store
        self.now = now
        self.listeners: list[Listener] = []
        # Set by the plugin: the request's next timer, from its stored moments.
        self.plan: Callable[[AidRequest], Awaitable[None]] | None = None

    @property
    def settings(self) -> AidSection:
        return self.bot.settings.section(AidConfig).aid

    def serving(self, area: str) -> list[Target]:
        return self.bot.broadcasts.serving(AID, area)

    # --- filing --------------------------------------------------------------------------

    async def file(self, filing: Filing) -> AidRequest:
        """Store the request, give the volunteers with a standing offer their head start
        (or post it at once), and set its timer."""
        requester = filing.requester
        but = None if requester is None else self.bot.person(requester.user_id)
        areas = (filing.area, *self.bot.settings.ancestors(filing.area))
        first = await self.store.offering(filing.kind, areas, but)
        head_start = bool(first) and self.settings.offer_head_start_minutes > 0
        request_id = await self.store.file(filing, self.now(), head_start=head_start)
        request = await self.store.get(request_id)
        assert request is not None
        for address in first:
            await self.tell(address, f"aid:{request.id}:first", self._first(request))
        if not head_start:
            request = await self.post(request)
        await self._plan(request)
        log.info("an aid request was filed (%d standing offers told first)", len(first))
        return request

    async def file_for_case(self, kind: str, area: str, details: str) -> str:
        if kind not in KINDS:
            raise ValueError(f"unknown aid kind {kind!r}; the kinds: {', '.join(KINDS)}")
        if self.bot.settings.area(area) is None:
            raise ValueError("unknown area")
        lang = self.bot.settings.bot.default_language
        filing = Filing(kind, area, "", details, lang, requester=None, intake=None)
        return (await self.file(filing)).id

    def _first(self, request: AidRequest) -> Callable[[Wording], Rich]:
        def render(w: Wording) -> Rich:
            rich = Rich().bold(w.t("aid.first_title", summary=w.summary(request))).newline()
            if request.text:
                rich.italic(shown_text(request.text)).newline()
            return rich.text(w.t("aid.first_give", give=w.command("give"), id=request.id))

        return render

    async def post(self, request: AidRequest) -> AidRequest:
        """The card in the aid rooms serving the request's area."""
        now = self.now()
        targets = self.serving(request.area)
        await self.bot.broadcasts.open(
            topic(request.id), topic(request.id), targets, self._card(request), at=now
        )
        await self.store.mark(request.id, "posted", now)
        posted = await self.store.get(request.id)
        assert posted is not None
        return posted

    async def repost(self, request: AidRequest) -> None:
        """Not taken yet: posted once more, as a reply to the card."""
        await self.store.mark(request.id, "reposted", self.now())
        shown = await self.bot.broadcasts.latest(topic(request.id))
        if shown is not None:
            await self.bot.broadcasts.revise(
                shown, "again", follow_up=self._card(request, again=True)
            )

    def _card(
        self, request: AidRequest, *, again: bool = False
    ) -> Callable[[Target], OutgoingMessage]:
        def render(target: Target) -> OutgoingMessage:
            lang = target.lang or self.bot.settings.room_language(
                target.room.transport, target.room.room_id
            )
            return Wording(self.bot, lang).card(request, again=again)

        return render

    async def show(self, request: AidRequest) -> None:
        """The card edited to the request's state now."""
        shown = await self.bot.broadcasts.latest(topic(request.id))
        if shown is not None:
            await self.bot.broadcasts.revise(
                shown, f"state:{request.revision}", edit=self._card(request)
            )
        if request.state not in ACTIVE:
            await self.bot.broadcasts.close(topic(request.id), self.now())

    # --- changes -------------------------------------------------------------------------

    async def changed(self, request: AidRequest) -> None:
        """After a change of state: the card, the timer and, for a case, the legal room."""
        await self.show(request)
        await self._plan(request)
        if request.for_case and request.state in CASE_STATES:
            for listener in self.listeners:
                await listener(AidChange(request.id, request.state.value))

    async def _plan(self, request: AidRequest) -> None:
        if self.plan is not None:
            await self.plan(request)

    # --- telling people ------------------------------------------------------------------

    async def tell(
        self,
        address: Address,
        key: str,
        render: Callable[[Wording], Rich],
        *,
        mentions: tuple[str, ...] = (),
    ) -> None:
        """A message to a person's direct chat, in their language, that must arrive;
        `mentions` names whom it introduces (a Matrix pill, a Signal mention)."""
        message = replace(render(Wording(self.bot, address.lang)).message(), mentions=mentions)
        delivery = Delivery(f"{key}:{address.room.room_id}", address.room, message)
        await self.bot.outbox.enqueue([delivery])

    async def say(self, address: Address, key: str, string: str, **params: object) -> None:
        """One line of the locales to a person's direct chat."""
        await self.tell(address, key, lambda w: w.rich(string, **params))
