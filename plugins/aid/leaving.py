"""`!forgetme` for aid: a person's requests and standing offers erased, and whoever was
already matched with them told that the request was withdrawn."""

from __future__ import annotations

from bot.api import Note
from plugins.aid.desk import Desk
from plugins.aid.store import ACTIVE, AidRequest, Requests, State

MATCHED = (State.OFFERED, State.TAKEN)


class Leaving:
    def __init__(self, desk: Desk, store: Requests) -> None:
        self.desk = desk
        self.store = store
        self.bot = desk.bot

    async def forget(self, user_id: str) -> list[Note]:
        person = self.bot.person(user_id)
        involving = await self.store.involving(person)
        asked = [r for r in involving if r.requester == person]
        for request in asked:
            await self._withdraw(request)
        for request in involving:
            if request.requester != person and request.state in MATCHED:
                await self._step_back(request)
        await self.store.erase([r.id for r in asked])
        await self.store.drop_volunteer(person)
        offers = await self.store.forget_person(user_id)
        if asked:
            return [Note("aid.forgotten", {"count": len(asked)})]
        return [Note("aid.forgotten_volunteer")] if involving or offers else []

    async def _withdraw(self, request: AidRequest) -> None:
        """Their own request: the card says withdrawn (without their words), and the
        volunteer matched with it is told."""
        withdrawn = await self.store.change(
            request.id, State.WITHDRAWN, self.desk.now(), was=(*ACTIVE, State.TAKEN)
        )
        if withdrawn is None:
            return
        await self.desk.changed(withdrawn)
        if request.state in MATCHED and request.volunteer_address is not None:
            await self.desk.say(
                request.volunteer_address,
                f"aid:{request.id}:withdrawn",
                "aid.withdrawn_to_volunteer",
                id=request.id,
            )

    async def _step_back(self, request: AidRequest) -> None:
        """A request they offered on or took: open again for others, and the person who
        asked is told."""
        reopened = await self.store.change(
            request.id, State.OPEN, self.desk.now(), was=MATCHED, keep_volunteer=False
        )
        if reopened is None:
            return
        await self.desk.changed(reopened)
        if request.requester_address is not None:
            await self.desk.say(
                request.requester_address,
                f"aid:{request.id}:volunteer-left:{reopened.revision}",
                "aid.volunteer_left",
                id=request.id,
            )
