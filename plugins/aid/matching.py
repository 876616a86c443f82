"""Matching a request with a volunteer: `!give`, `!accept`, `!decline`, `!done`, `!renew`.

A volunteer offers in an aid room (or in a direct chat); the person who asked hears of it
by direct message and accepts or declines; only on accepting are the two introduced, each
getting the other's Matrix id or Signal contact. A request from a legal team's case has
nobody to ask: an offer takes it at once, and the legal room hears through `Aid`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from bot.api import CommandContext, Rich, RoomRef
from plugins.aid.cards import Wording
from plugins.aid.desk import Desk
from plugins.aid.store import ACTIVE, CLOSED, IDS, Address, AidRequest, Requests, State

log = logging.getLogger(__name__)


class Matching:
    def __init__(self, desk: Desk, store: Requests) -> None:
        self.desk = desk
        self.store = store
        self.bot = desk.bot

    # --- the volunteer -------------------------------------------------------------------

    async def give(self, ctx: CommandContext, typed_id: str) -> None:
        request = await self.find(ctx, typed_id)
        if request is None or not await self._may_take(ctx, request):
            return
        if request.for_case:  # nobody to introduce: no direct chat needed
            address = Address(ctx.room, ctx.event.sender.user_id, ctx.lang)
        else:
            address = await self.reachable(ctx)
        state = State.TAKEN if request.for_case else State.OFFERED
        now = self.desk.now()
        changed = await self.store.change(
            request.id, state, now, was=(State.OPEN,), volunteer=address
        )
        if changed is None:  # someone else was quicker
            await ctx.reply(ctx.t("aid.give.waiting", id=request.id))
            return
        await self.desk.changed(changed)
        if changed.for_case:
            await ctx.reply(ctx.t("aid.give.case", id=request.id, done=self._cmd(ctx, "done")))
            return
        requester = changed.requester_address
        assert requester is not None
        await self.desk.tell(
            requester,
            f"aid:{request.id}:offer:{changed.revision}",
            lambda w: w.rich(
                "aid.offer_to_requester",
                summary=w.summary(changed),
                accept=w.command("accept"),
                decline=w.command("decline"),
                id=changed.id,
            ),
        )
        await ctx.reply(ctx.t("aid.give.sent", id=request.id))
        log.info("an offer on an aid request was sent to the person who asked")

    async def _may_take(self, ctx: CommandContext, request: AidRequest) -> bool:
        """Whether this person may offer on it here; if not, they are told why."""
        person = self.bot.person(ctx.event.sender.user_id)
        if person == request.requester:
            problem = ctx.t("aid.give.own", id=request.id)
        elif request.state is State.OFFERED:
            problem = ctx.t("aid.give.waiting", id=request.id)
        elif request.state is State.TAKEN:
            problem = ctx.t("aid.give.taken", id=request.id)
        elif request.state in CLOSED:
            state = ctx.t(f"aid.state.{request.state.value}")
            problem = ctx.t("aid.give.closed", id=request.id, state=state)
        elif not await self._serves(ctx, request.area):
            w = Wording(self.bot, ctx.lang)
            problem = ctx.t("aid.give.not_here", id=request.id, area=w.area(request.area))
        else:
            return True
        await ctx.reply(problem)
        return False

    async def _serves(self, ctx: CommandContext, area: str) -> bool:
        """Here, or (in a direct chat) one of the person's rooms, is an aid room of the
        request's area."""
        rooms = [target.room for target in self.desk.serving(area)]
        if not ctx.direct:
            return ctx.room in rooms
        user_id = ctx.event.sender.user_id
        theirs = await self.bot.shared_rooms(ctx.room.transport, user_id)
        return any(RoomRef(room.transport, room.id) in rooms for room in theirs)

    async def reachable(self, ctx: CommandContext) -> Address:
        """Where the bot writes to the sender: this direct chat, the one they used
        before, or one the bot opens with them (remembered for next time)."""
        user_id = ctx.event.sender.user_id
        if not ctx.direct:
            known = await self.store.address_of(user_id)
            if known is not None:
                return known
        room = ctx.room if ctx.direct else await self.bot.direct_chat(ctx.room.transport, user_id)
        address = Address(room, user_id, ctx.lang)
        await self.store.remember(address)
        return address

    # --- the person who asked ------------------------------------------------------------

    async def accept(self, ctx: CommandContext, typed_id: str) -> None:
        request = await self._offered(ctx, typed_id)
        if request is None:
            return
        taken = await self.store.change(
            request.id, State.TAKEN, self.desk.now(), was=(State.OFFERED,)
        )
        if taken is None:
            await ctx.reply(ctx.t("aid.accept.nothing", id=request.id))
            return
        await self.desk.changed(taken)
        await self._introduce(taken)
        log.info("an aid request was taken; the two were introduced")

    async def _introduce(self, request: AidRequest) -> None:
        """Each gets the other's Matrix id or Signal contact, mentioned."""
        volunteer, requester = request.volunteer_address, request.requester_address
        assert volunteer is not None and requester is not None
        for me, other, key in (
            (requester, volunteer, "aid.intro_requester"),
            (volunteer, requester, "aid.intro_volunteer"),
        ):
            await self.desk.tell(
                me,
                f"aid:{request.id}:intro",
                _intro(request, key, other),
                mentions=(other.user_id,),
            )

    async def decline(self, ctx: CommandContext, typed_id: str) -> None:
        request = await self._offered(ctx, typed_id)
        if request is None:
            return
        reopened = await self.store.change(
            request.id, State.OPEN, self.desk.now(), was=(State.OFFERED,), keep_volunteer=False
        )
        if reopened is None:
            await ctx.reply(ctx.t("aid.accept.nothing", id=request.id))
            return
        await self.desk.changed(reopened)
        if request.volunteer_address is not None:
            await self.desk.say(
                request.volunteer_address,
                f"aid:{request.id}:declined:{reopened.revision}",
                "aid.declined_to_volunteer",
                id=request.id,
            )
        await ctx.reply(ctx.t("aid.declined", id=request.id))

    async def _offered(self, ctx: CommandContext, typed_id: str) -> AidRequest | None:
        """The person's own request that a volunteer offered to take, else None (answered)."""
        request = await self._own(ctx, typed_id)
        if request is not None and request.state is not State.OFFERED:
            await ctx.reply(ctx.t("aid.accept.nothing", id=request.id))
            return None
        return request

    async def renew(self, ctx: CommandContext, typed_id: str) -> None:
        request = await self._own(ctx, typed_id)
        if request is None:
            return
        if request.state not in ACTIVE:
            state = ctx.t(f"aid.state.{request.state.value}")
            await ctx.reply(ctx.t("aid.renew.closed", id=request.id, state=state))
            return
        await self.store.renew(request.id, self.desk.now())
        renewed = await self.store.get(request.id)
        assert renewed is not None
        await self.desk.changed(renewed)
        hours = self.desk.settings.expire_hours
        await ctx.reply(ctx.t("aid.renew.done", id=request.id, hours=hours))

    # --- either of them ------------------------------------------------------------------

    async def done(self, ctx: CommandContext, typed_id: str) -> None:
        request = await self.find(ctx, typed_id)
        if request is None:
            return
        person = self.bot.person(ctx.event.sender.user_id)
        asked = person == request.requester
        if not asked and not (person == request.volunteer and request.state is State.TAKEN):
            await ctx.reply(ctx.t("aid.done.not_yours", id=request.id))
            return
        if request.state in CLOSED:
            state = ctx.t(f"aid.state.{request.state.value}")
            await ctx.reply(ctx.t("aid.give.closed", id=request.id, state=state))
            return
        done = await self.store.change(
            request.id, State.DONE, self.desk.now(), was=(*ACTIVE, State.TAKEN)
        )
        if done is None:
            return
        await self.desk.changed(done)
        other = done.volunteer_address if asked else done.requester_address
        if other is not None and done.volunteer is not None:
            await self.desk.say(other, f"aid:{done.id}:done", "aid.done.told", id=done.id)
        await ctx.reply(ctx.t("aid.done.closed", id=done.id))

    # --- finding -------------------------------------------------------------------------

    async def find(self, ctx: CommandContext, typed_id: str) -> AidRequest | None:
        request_id = IDS.normalize(typed_id)
        request = None if request_id is None else await self.store.get(request_id)
        if request is None:
            await ctx.reply(ctx.t("aid.unknown_id", id=typed_id.strip()[:12]))
        return request

    async def _own(self, ctx: CommandContext, typed_id: str) -> AidRequest | None:
        """The sender's own request, answered in a direct chat; else None, told why."""
        if not ctx.direct:
            await ctx.reply(ctx.t("aid.direct_only", command=ctx.typed_name()))
            return None
        request = await self.find(ctx, typed_id)
        if request is not None and self.bot.person(ctx.event.sender.user_id) != request.requester:
            await ctx.reply(ctx.t("aid.not_requester", id=request.id))
            return None
        return request

    def _cmd(self, ctx: CommandContext, name: str) -> str:
        return self.bot.command_name(name, ctx.lang)


def _intro(request: AidRequest, key: str, other: Address) -> Callable[[Wording], Rich]:
    def render(w: Wording) -> Rich:
        return w.rich(
            key,
            contact=other.user_id,
            summary=w.summary(request),
            done=w.command("done"),
            id=request.id,
        )

    return render
