"""A request's timers: its head start, the repost, the question whether it is still
needed, and its expiry.

They are one stored job per request, set from the request's own stored moments, so at
start every open request's next moment is set again from the database. What came due
while the bot was down is not sent late: a missed repost or question is skipped (a
request whose whole time passed is not posted at all), and an expiry only closes it
and edits its card.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta

from bot.api import BotContext
from plugins.aid.desk import Desk
from plugins.aid.store import ACTIVE, AidRequest, Requests, State

log = logging.getLogger(__name__)

JOB = "aid.step"
# A moment missed by more than this (the bot was down) is not acted on late.
GRACE = timedelta(hours=1)


class Timers:
    def __init__(
        self, bot: BotContext, store: Requests, desk: Desk, now: Callable[[], datetime]
    ) -> None:
        self.bot = bot
        self.store = store
        self.desk = desk
        self.now = now

    def due(self, request: AidRequest) -> tuple[str, datetime] | None:
        """What comes next for the request, and when; None for one taken or closed."""
        if request.state not in ACTIVE:
            return None
        settings = self.desk.settings
        ask_at = request.filed_at + timedelta(hours=settings.expire_hours)
        if request.posted_at is None:
            minutes = settings.offer_head_start_minutes if request.head_start else 0
            return "post", request.filed_at + timedelta(minutes=minutes)
        repost_at = request.posted_at + timedelta(hours=settings.repost_hours)
        if request.reposted_at is None and request.state is State.OPEN and repost_at < ask_at:
            return "repost", repost_at
        if request.for_case:
            return "expire", ask_at  # nobody to ask
        if request.asked_at is None:
            return "ask", ask_at
        return "expire", request.asked_at + timedelta(hours=settings.still_needed_hours)

    async def plan(self, request: AidRequest) -> None:
        job_id = f"aid:{request.id}"
        due = self.due(request)
        if due is None:
            await self.bot.scheduler.cancel(job_id)
        else:
            await self.bot.scheduler.schedule(JOB, due[1], {"request": request.id}, job_id)

    async def run(self, request_id: str) -> None:
        """Do what has come due for the request, then set its next moment."""
        while (request := await self.store.get(request_id)) is not None:
            due = self.due(request)
            if due is None or due[1] > self.now():
                await self.plan(request)
                return
            step, at = due
            await self._step(request, step, at, late=self.now() - at > GRACE)

    async def rebuild(self) -> None:
        """At start: every open request's timer, from what is stored."""
        for request in await self.store.active():
            await self.run(request.id)

    async def _step(self, request: AidRequest, step: str, at: datetime, *, late: bool) -> None:
        settings = self.desk.settings
        if step == "post":
            expires = request.filed_at + timedelta(hours=settings.expire_hours)
            if late and self.now() >= expires:
                await self.store.mark(request.id, "posted", at)  # its time passed unseen
            else:
                await self.desk.post(request)
        elif step == "repost":
            if late:
                await self.store.mark(request.id, "reposted", at)
            else:
                await self.desk.repost(request)
        elif step == "ask":
            await self.store.mark(request.id, "asked", at)
            if not late:
                await self._ask(request)
        else:
            await self._expire(request, told=not late)

    async def _ask(self, request: AidRequest) -> None:
        address = request.requester_address
        assert address is not None
        settings = self.desk.settings
        await self.desk.tell(
            address,
            f"aid:{request.id}:still-needed:{request.filed_at.timestamp():.0f}",
            lambda w: w.rich(
                "aid.still_needed",
                summary=w.summary(request),
                hours=settings.expire_hours,
                renew=w.command("renew"),
                id=request.id,
                left=settings.still_needed_hours,
            ),
        )

    async def _expire(self, request: AidRequest, *, told: bool) -> None:
        expired = await self.store.change(request.id, State.EXPIRED, self.now(), was=ACTIVE)
        if expired is None:
            return
        await self.desk.changed(expired)
        address = expired.requester_address
        if told and address is not None:
            await self.desk.tell(
                address,
                f"aid:{request.id}:expired",
                lambda w: w.rich("aid.expired", summary=w.summary(expired), need=w.command("need")),
            )
        log.info("an aid request expired")
