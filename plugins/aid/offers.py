"""Standing offers: `!offer KIND [area] [when]`, `!offer stop KIND`, `!offers`.

A volunteer of an aid room says what they can usually do; a new request of that kind in
that area (or an area inside it) reaches them by direct message before it is posted.
"""

from __future__ import annotations

from bot.api import CommandContext, fold
from plugins.aid.asking import kinds_listing
from plugins.aid.cards import Wording
from plugins.aid.config import AID_ROOMS
from plugins.aid.desk import Desk
from plugins.aid.kinds import kind_at_start, kind_named
from plugins.aid.matching import Matching
from plugins.aid.need import area_at_start
from plugins.aid.store import Requests, StandingOffer

STOP_WORDS = frozenset({"stop", "end", "parar", "dejar", "quitar", "basta"})


class Offers:
    def __init__(self, desk: Desk, store: Requests, matching: Matching) -> None:
        self.desk = desk
        self.store = store
        self.matching = matching
        self.bot = desk.bot

    async def offer(self, ctx: CommandContext, typed: str) -> None:
        words = typed.split()
        if words and fold(words[0]) in STOP_WORDS:
            await self._stop(ctx, " ".join(words[1:]))
            return
        kind, rest = kind_at_start(typed)
        if kind is None:
            await ctx.reply(
                ctx.t("aid.offer.usage", offer=ctx.typed_name(), choices=kinds_listing(ctx.t))
            )
            return
        area, when = area_at_start(rest, self.bot.settings)
        areas = [area] if area is not None else await self._aid_areas(ctx)
        if not areas:
            await ctx.reply(ctx.t("aid.offer.aid_rooms_only"))
            return
        address = await self.matching.reachable(ctx)
        for slug in areas:
            await self.store.offer(
                address, StandingOffer(kind, slug, when.strip()), self.desk.now()
            )
        w = Wording(self.bot, ctx.lang)
        await ctx.reply(
            ctx.t(
                "aid.offer.saved",
                kind=w.kind(kind),
                areas=", ".join(w.area(slug) for slug in areas),
                when=w.when(when.strip()),
                minutes=self.desk.settings.offer_head_start_minutes,
            )
        )

    async def _stop(self, ctx: CommandContext, typed: str) -> None:
        kind = kind_named(typed)
        if kind is None:
            await ctx.reply(
                ctx.t("aid.offer.usage", offer=ctx.typed_name(), choices=kinds_listing(ctx.t))
            )
            return
        stopped = await self.store.stop_offers(ctx.event.sender.user_id, kind)
        key = "aid.offer.stopped" if stopped else "aid.offer.none_of_kind"
        await ctx.reply(ctx.t(key, kind=Wording(self.bot, ctx.lang).kind(kind)))

    async def listing(self, ctx: CommandContext) -> None:
        await self.matching.reachable(ctx)
        offers = await self.store.offers_of(ctx.event.sender.user_id)
        if not offers:
            await ctx.reply(
                ctx.t("aid.offers.none", offer=self.bot.command_name("offer", ctx.lang))
            )
            return
        w = Wording(self.bot, ctx.lang)
        lines = [ctx.t("aid.offers.title")]
        lines += [
            ctx.t("aid.offers.line", kind=w.kind(o.kind), area=w.area(o.area), when=w.when(o.when))
            for o in offers
        ]
        await ctx.reply("\n".join(lines))

    async def _aid_areas(self, ctx: CommandContext) -> list[str]:
        """This aid room's areas; in a direct chat, those of the person's aid rooms."""
        settings = self.bot.settings
        if not ctx.direct:
            config = self.bot.room_config(ctx.room)
            return list(config.areas) if config is not None else []
        rooms = await self.bot.shared_rooms(ctx.room.transport, ctx.event.sender.user_id)
        slugs: list[str] = []
        for room in rooms:
            if settings.room_fits(room, AID_ROOMS):
                slugs += [slug for slug in room.areas if slug not in slugs]
        return slugs
