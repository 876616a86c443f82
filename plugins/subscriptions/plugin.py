"""Subscriptions: confirmed alerts by direct message, so nobody sees who else gets them.

In a direct chat with the bot a person subscribes to areas; every broadcast to the alert
audience of an area (alerts, their changes, debunks, partner alerts) then also goes to the
direct chats of the subscribers of the areas it reaches, in each one's language, through
the same durable outbox as the rooms. Who may subscribe is `[subscriptions] who`: members
of the bot's rooms, people a member vouched for with a one-time code, or anyone.
"""

from __future__ import annotations

import difflib
import logging
import secrets
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.api import (
    ALERTS,
    CommandContext,
    EventContext,
    Level,
    MessageEvent,
    Note,
    Plugin,
    Rest,
    RoomRef,
    StructureError,
    Target,
    command,
    on_event,
)
from plugins.subscriptions.config import SubscriptionsConfig, SubscriptionsSection
from plugins.subscriptions.store import DROP_AFTER, Address, Redeemed, Subscribers

# Codes people read to each other: no 0/O, 1/I/L.
CODE_ALPHABET = "23456789ABCDEFGHJKMNPQRSTUVWXYZ"
CODE_LENGTH = 8
ALL_WORDS = frozenset({"all", "todas", "todo"})
COUNT_WORDS = frozenset({"count", "cuantos", "cuántos"})

log = logging.getLogger(__name__)


class SubscriptionsPlugin(Plugin):
    name = "subscriptions"
    locales = "plugins.subscriptions.locales"
    migrations = "plugins.subscriptions.migrations"
    config = SubscriptionsConfig

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.subscribers = Subscribers(self.bot)

    @property
    def settings(self) -> SubscriptionsSection:
        return self.bot.settings.section(SubscriptionsConfig).subscriptions

    async def start(self) -> None:
        self.bot.broadcasts.add_audience(ALERTS, self._targets)
        self.bot.outbox.on_given_up(self._given_up)

    async def _targets(self, area: str, reach: frozenset[str]) -> tuple[list[Target], list[Target]]:
        """The direct chats of the subscribers of `reach` (those of `area` first), each in
        its person's language; a subscriber no longer in their chat is counted out."""
        own, others = await self.subscribers.following(area, reach)
        return await self._reachable(own), await self._reachable(others)

    async def _reachable(self, addresses: list[Address]) -> list[Target]:
        targets = []
        for address in addresses:
            if not await self._still_allowed(address):
                continue  # removed from the network's rooms: no alerts until back
            if not await self._in_chat(address):
                await self._missed(user_id=address.user_id)
                continue
            lang = await self.bot.language_for(address.room, address.user_id)
            targets.append(Target(address.room, lang=lang))
        return targets

    async def _still_allowed(self, address: Address) -> bool:
        """Whether the person may still subscribe: with `members`, they are still in one of
        the bot's rooms (people removed from the network stop getting alerts); one who got
        in with a code keeps it; with `anyone`, everyone may."""
        who = self.settings.who
        if who == "anyone" or (who == "vouched" and address.vouched):
            return True
        user_id, transport = address.user_id, address.room.transport
        if self.bot.settings.invite_allowed(user_id):
            return True
        try:
            network = self.bot.structure.transport(transport)
        except StructureError:
            return True  # not up yet: cannot tell
        for room in self.bot.settings.rooms:
            if room.transport == transport and await network.is_member(room.id, user_id):
                return True
        return False

    async def _in_chat(self, address: Address) -> bool:
        """Whether the person is still in their direct chat with the bot (a network not
        up yet cannot tell: then yes)."""
        try:
            transport = self.bot.structure.transport(address.room.transport)
        except StructureError:
            return True
        return await transport.is_member(address.room.room_id, address.user_id)

    async def _given_up(self, room: RoomRef) -> None:
        await self._missed(room=room)

    async def _missed(self, **whom: Any) -> None:
        if await self.subscribers.missed(**whom):
            log.info("dropped a subscriber who could not be reached %d times", DROP_AFTER)

    async def welcomes(self, transport: str, user_id: str) -> bool:
        return self.settings.who != "members"

    async def forget(self, user_id: str) -> list[Note]:
        erased = await self.subscribers.forget(user_id)
        return [Note("subscriptions.forgotten")] if erased else []

    # --- subscribing ----------------------------------------------------------------------

    @command("subscribe", aliases={"es": ("suscribir", "suscribirme")}, direct=True, rank=20)
    async def subscribe(self, ctx: CommandContext, areas: Rest = "") -> None:
        """Get the confirmed alerts of these areas by direct message."""
        if not await self._in_direct_chat(ctx) or not await self._may_subscribe(ctx):
            return
        wanted = [word.strip(",").lower() for word in areas.split() if word.strip(",")]
        if not wanted:
            await ctx.reply(ctx.t("subscriptions.usage", areas=self._known_areas(ctx)))
            return
        unknown = [slug for slug in wanted if self.bot.settings.area(slug) is None]
        if unknown:
            await ctx.reply(self._unknown(ctx, unknown[0]))
            return
        address = Address(ctx.room, ctx.event.sender.user_id)
        await self.subscribers.subscribe(address, wanted, now=self.clock(), vouched_by=None)
        names = self._names(ctx, await self.subscribers.areas_of(address.user_id))
        await ctx.reply(ctx.t("subscriptions.subscribed", areas=names))

    @command("unsubscribe", aliases={"es": ("desuscribir", "desuscribirme")}, direct=True, rank=21)
    async def unsubscribe(self, ctx: CommandContext, which: str = "all") -> None:
        """Stop the alerts of an area, or of all (and be forgotten as a subscriber)."""
        if not await self._in_direct_chat(ctx):
            return
        everything = which.casefold() in ALL_WORDS
        user_id = ctx.event.sender.user_id
        gone = await self.subscribers.unsubscribe(user_id, None if everything else [which.lower()])
        if not gone:
            await ctx.reply(ctx.t("subscriptions.not_subscribed", area=which))
            return
        left = await self.subscribers.areas_of(user_id)
        if not left:
            await ctx.reply(ctx.t("subscriptions.unsubscribed_all"))
            return
        names = self._names(ctx, gone)
        await ctx.reply(
            ctx.t("subscriptions.unsubscribed", areas=names, left=self._names(ctx, left))
        )

    @command("subscriptions", aliases={"es": ("suscripciones",)}, direct=True, rank=22)
    async def subscriptions(self, ctx: CommandContext, what: str = "") -> None:
        """Your subscriptions; admins: `count`, how many follow each area."""
        if what.casefold() in COUNT_WORDS:
            await self._counts(ctx)
            return
        if not await self._in_direct_chat(ctx):
            return
        areas = await self.subscribers.areas_of(ctx.event.sender.user_id)
        if not areas:
            await ctx.reply(ctx.t("subscriptions.none", areas=self._known_areas(ctx)))
            return
        await ctx.reply(ctx.t("subscriptions.listing", areas=self._names(ctx, areas)))

    async def _counts(self, ctx: CommandContext) -> None:
        if ctx.level < Level.ADMIN:
            await ctx.reply(ctx.t("subscriptions.count_admins"))
            return
        counts = await self.subscribers.counts()
        dropped = await self.subscribers.dropped()
        lines = [ctx.t("subscriptions.count_title")]
        lines += [
            ctx.t("subscriptions.count_line", area=area, count=n) for area, n in counts.items()
        ]
        if dropped:
            lines.append(ctx.t("subscriptions.count_dropped", count=dropped))
        await ctx.reply(
            "\n".join(lines) if counts or dropped else ctx.t("subscriptions.count_none")
        )

    # --- vouching -------------------------------------------------------------------------

    @command("vouch", level=Level.NEIGHBOR, aliases={"es": ("avalar",)}, direct=True, rank=23)
    async def vouch(self, ctx: CommandContext) -> None:
        """Members: a one-time code for a newcomer to get alerts by direct message."""
        if not await self._in_direct_chat(ctx):
            return
        if self.settings.who != "vouched":
            await ctx.reply(ctx.t("subscriptions.vouch_not_needed"))
            return
        code = "".join(secrets.choice(CODE_ALPHABET) for _ in range(CODE_LENGTH))
        hours = self.settings.vouch_hours
        await self.subscribers.vouch(
            ctx.event.sender.user_id, code, self.clock() + timedelta(hours=hours)
        )
        join = self.bot.command_name("join", ctx.lang)
        await ctx.reply(ctx.t("subscriptions.vouched", code=code, hours=hours, join=join))

    @command("join", aliases={"es": ("unirme",)}, direct=True, rank=24)
    async def join(self, ctx: CommandContext, code: str) -> None:
        """With a code from a member: get in, then subscribe."""
        if not await self._in_direct_chat(ctx):
            return
        if self.settings.who != "vouched":
            await ctx.reply(ctx.t("subscriptions.join_not_needed"))
            return
        outcome, voucher = await self.subscribers.redeem(code, self.clock())
        if outcome is not Redeemed.OK:
            await ctx.reply(ctx.t(f"subscriptions.code_{outcome.value}"))
            return
        address = Address(ctx.room, ctx.event.sender.user_id)
        await self.subscribers.subscribe(address, [], now=self.clock(), vouched_by=voucher)
        await ctx.reply(
            ctx.t(
                "subscriptions.joined",
                subscribe=self.bot.command_name("subscribe", ctx.lang),
                areas=self._known_areas(ctx),
            )
        )

    @command(
        "revoke-vouched",
        level=Level.ADMIN,
        aliases={"es": ("revocar-avalados",)},
        direct=True,
        rank=90,
    )
    async def revoke_vouched(self, ctx: CommandContext, person: str) -> None:
        """Admins: unsubscribe everyone this person vouched for."""
        removed = await self.subscribers.revoke(person)
        await ctx.reply(ctx.t("subscriptions.revoked", user=person, count=removed))

    # --- strangers ------------------------------------------------------------------------

    @on_event(MessageEvent)
    async def on_message(self, ctx: EventContext[MessageEvent]) -> None:
        """Someone who shares no room with the bot writes one to one (a public line, or a
        vouched one): the only answer is how to subscribe."""
        user_id = ctx.event.sender.user_id
        if not ctx.direct or self.settings.who == "members":
            return
        if await self.bot.level_of(ctx.room, user_id, direct=True) > Level.GUEST:
            return
        if await self.subscribers.areas_of(user_id) or await self.subscribers.vouched(user_id):
            return
        key = (
            "subscriptions.welcome_anyone"
            if self.settings.who == "anyone"
            else "subscriptions.welcome_vouched"
        )
        await ctx.reply(
            ctx.t(
                key,
                subscribe=self.bot.command_name("subscribe", ctx.lang),
                join=self.bot.command_name("join", ctx.lang),
            )
        )

    # --- helpers --------------------------------------------------------------------------

    async def _in_direct_chat(self, ctx: CommandContext) -> bool:
        """Subscriptions live in direct chats: typed in a room, say how to open one."""
        if ctx.direct:
            return True
        await ctx.reply(ctx.t("subscriptions.direct_only", command=ctx.typed_name()))
        return False

    async def _may_subscribe(self, ctx: CommandContext) -> bool:
        who, user_id = self.settings.who, ctx.event.sender.user_id
        if who == "anyone" or ctx.level >= Level.NEIGHBOR:
            return True
        if who == "vouched" and await self.subscribers.vouched(user_id):
            return True
        key = "subscriptions.members_only" if who == "members" else "subscriptions.needs_code"
        await ctx.reply(ctx.t(key, join=self.bot.command_name("join", ctx.lang)))
        return False

    def _known_areas(self, ctx: CommandContext) -> str:
        return ", ".join(f"{a.slug} ({a.name(ctx.lang)})" for a in self.bot.settings.areas)

    def _unknown(self, ctx: CommandContext, slug: str) -> str:
        names = [area.slug for area in self.bot.settings.areas]
        close = difflib.get_close_matches(slug, names, n=3, cutoff=0.5)
        return ctx.t("subscriptions.unknown_area", area=slug, known=", ".join(close or names))

    def _names(self, ctx: CommandContext, slugs: list[str]) -> str:
        return ", ".join(
            area.name(ctx.lang) if (area := self.bot.settings.area(slug)) else slug
            for slug in slugs
        )
