"""Mutual aid: requests and offers, matched privately (README, "Mutual aid").

Someone asks for help in a direct chat (`!need`); the area's aid rooms see the kind, the
area, when and a short description, never who. A volunteer offers (`!give`), the person
who asked accepts or declines by direct message, and only then are the two introduced.
This module only routes commands, messages and jobs to the services that do the work.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.api import (
    BotContext,
    CommandContext,
    EventContext,
    Language,
    Level,
    MessageEvent,
    Note,
    Plugin,
    Rest,
    command,
    job,
    on_event,
)
from plugins.aid.asking import TIMEOUT_JOB, Asking
from plugins.aid.config import AID_ROLE, AID_ROOMS, AidConfig
from plugins.aid.desk import Desk, topic
from plugins.aid.face import Aid
from plugins.aid.kinds import ALIASES
from plugins.aid.leaving import Leaving
from plugins.aid.matching import Matching
from plugins.aid.offers import Offers
from plugins.aid.store import IDS, Requests
from plugins.aid.timers import GRACE, JOB, Timers

SWEEP_INTERVAL = timedelta(hours=1)
# `!accept A7K3` and `!done A7K3` share their names with other plugins' commands
# (emergency contacts' `!accept CODE`, the rosters' `!done`): the id routes them here.
AID_ID = IDS.typed()


def _es(name: str) -> dict[Language, tuple[str, ...]]:
    return {"es": ALIASES[name]}


def _both(name: str) -> dict[Language, tuple[str, ...]]:
    """For a command whose English name is another plugin's too (`!done`): its own
    canonical name, so that its help is its own, and the shared one as an alias."""
    return {"en": (name,), "es": ALIASES[name]}


class AidPlugin(Plugin):
    name = "aid"
    locales = "plugins.aid.locales"
    migrations = "plugins.aid.migrations"
    config = AidConfig
    roles = (AID_ROLE,)

    def __init__(self, bot: BotContext) -> None:
        super().__init__(bot)
        # Replaceable in tests that move time forward.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.store = Requests(bot)
        self.desk = Desk(bot, self.store, self._now)
        self.timers = Timers(bot, self.store, self.desk, self._now)
        self.desk.plan = self.timers.plan
        self.matching = Matching(self.desk, self.store)
        self.asking = Asking(bot, self.desk, self.matching, self._now)
        self.offers = Offers(self.desk, self.store, self.matching)
        self.leaving = Leaving(self.desk, self.store)
        bot.provide(Aid, Aid(self.desk))

    def _now(self) -> datetime:
        return self.clock()

    async def start(self) -> None:
        await self.timers.rebuild()
        self.bot.scheduler.every(SWEEP_INTERVAL, self.sweep)

    async def forget(self, user_id: str) -> list[Note]:
        await self.asking.end(user_id)
        return await self.leaving.forget(user_id)

    # --- asking --------------------------------------------------------------------------

    @command("need", level=Level.NEIGHBOR, aliases=_es("need"), direct=True, rank=40)
    async def need(self, ctx: CommandContext, request: Rest = "") -> None:
        """Ask for help privately: groceries, a ride, childcare, money, housing, medicine."""
        await self.asking.need(ctx, request)

    @on_event(MessageEvent)
    async def on_message(self, ctx: EventContext[MessageEvent]) -> None:
        await self.asking.on_message(ctx)

    @job(TIMEOUT_JOB, grace=timedelta(hours=1))
    async def dialog_timeout(self, payload: dict[str, Any]) -> None:
        await self.asking.time_out(payload)

    # --- matching ------------------------------------------------------------------------

    @command(
        "give", level=Level.VOLUNTEER, aliases=_es("give"), roles=AID_ROOMS, direct=True, rank=41
    )
    async def give(self, ctx: CommandContext, request: str) -> None:
        """Aid volunteers: offer to take a request; the person who asked decides."""
        await self.matching.give(ctx, request)

    @command(
        "aid-accept",
        level=Level.NEIGHBOR,
        aliases=_both("accept"),
        direct=True,
        rank=42,
        routes=AID_ID,
    )
    async def accept(self, ctx: CommandContext, request: str) -> None:
        """Accept a volunteer's offer on your request: you are introduced to each other."""
        await self.matching.accept(ctx, request)

    @command(
        "decline", level=Level.NEIGHBOR, aliases=_es("decline"), direct=True, rank=43, routes=AID_ID
    )
    async def decline(self, ctx: CommandContext, request: str) -> None:
        """Decline a volunteer's offer on your request: it stays open for others."""
        await self.matching.decline(ctx, request)

    @command(
        "aid-done",
        level=Level.NEIGHBOR,
        aliases=_both("done"),
        roles=AID_ROOMS,
        direct=True,
        rank=44,
        routes=AID_ID,
    )
    async def done(self, ctx: CommandContext, request: str) -> None:
        """The person who asked, or the volunteer who took it: close a request."""
        await self.matching.done(ctx, request)

    @command("renew", level=Level.NEIGHBOR, aliases=_es("renew"), direct=True, rank=45)
    async def renew(self, ctx: CommandContext, request: str) -> None:
        """Keep your request open: it is still needed."""
        await self.matching.renew(ctx, request)

    # --- standing offers -----------------------------------------------------------------

    @command(
        "offer", level=Level.VOLUNTEER, aliases=_es("offer"), roles=AID_ROOMS, direct=True, rank=46
    )
    async def offer(self, ctx: CommandContext, offering: Rest = "") -> None:
        """Aid volunteers: what you can usually do, to hear of such requests first."""
        await self.offers.offer(ctx, offering)

    @command(
        "offers",
        level=Level.VOLUNTEER,
        aliases=_es("offers"),
        roles=AID_ROOMS,
        direct=True,
        rank=47,
    )
    async def my_offers(self, ctx: CommandContext) -> None:
        """Aid volunteers: your standing offers."""
        await self.offers.listing(ctx)

    # --- time ----------------------------------------------------------------------------

    @job(JOB, grace=GRACE)
    async def step(self, payload: dict[str, Any]) -> None:
        await self.timers.run(str(payload["request"]))

    async def sweep(self) -> None:
        """Erase what is past its time: closed requests, their cards' records, dialogs."""
        before = self._now() - timedelta(days=self.desk.settings.retention_days)
        await self.store.erase(await self.store.finished_before(before))
        await self.bot.broadcasts.purge(topic(""), before)
        await self.asking.sweep()
