"""The partners plugin: our confirmed alerts to partner networks, theirs to our rooms.

Sending: each change of an alert in an area we send (confirmed, updated, stale, cleared,
retracted, expired) becomes one custom event in the partner's exchange room, through the
durable outbox under a key naming the change, so it goes exactly once.

Receiving: an event counts only when its sending device is vouched for by the partner
bot's pinned identity key (the cross-signing chain, checked by the transport; a name or
a room says nothing). It becomes an alert in our rooms of the mapped area, marked with
the partner's name, through the core's broadcasts: later events edit it and follow up,
a replay adds nothing. What we receive is never a change of our reports, so it is never
sent on to another partner: no loops. A key that changes suspends the partner until an
admin re-pins it.
"""

from __future__ import annotations

import logging
from typing import Any

from bot.api import (
    ALERTS,
    CommandContext,
    CustomEvent,
    Delivery,
    EventContext,
    Level,
    Note,
    OutgoingMessage,
    Plugin,
    RoomRef,
    Target,
    command,
    on_event,
    readable_key,
)
from plugins.partners.config import PartnerConfig, PartnersConfig
from plugins.partners.render import follow_up, partner_alert
from plugins.partners.wire import EVENT_TYPE, WireAlert, describe, from_wire, to_wire
from plugins.sightings import CLOSING, ChangeKind, ReportChange, ReportFeed

log = logging.getLogger(__name__)

MATRIX = "matrix"
PREFIX = "partner:"


class Partners(Plugin):
    name = "partners"
    locales = "plugins.partners.locales"
    migrations = "plugins.partners.migrations"
    config = PartnersConfig
    requires = ("sightings",)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._feed: ReportFeed | None = None

    @property
    def partners(self) -> tuple[PartnerConfig, ...]:
        return self.bot.settings.section(PartnersConfig).partners

    @property
    def feed(self) -> ReportFeed:
        assert self._feed is not None, "start() first"
        return self._feed

    async def start(self) -> None:
        self._feed = self.bot.service(ReportFeed)
        await self.feed.follow(self.name, self.send)

    async def forget(self, user_id: str) -> list[Note]:
        """Nothing of a person's is kept here: its table holds the partner bots' identity
        keys, and what it sends and relays are alerts, which name no one."""
        return []

    # --- sending ----------------------------------------------------------------------

    async def send(self, change: ReportChange) -> None:
        deliveries = [
            Delivery(
                f"{PREFIX}{partner.bot}:{change.seq}",
                RoomRef(MATRIX, partner.room),
                OutgoingMessage(
                    plain=f"alert {change.report_id} {change.kind.value}",
                    event_type=EVENT_TYPE,
                    data=to_wire(change),
                ),
            )
            for partner in self.partners
            if change.report.area in partner.send_areas
        ]
        await self.bot.outbox.enqueue(deliveries)

    # --- receiving --------------------------------------------------------------------

    @on_event(CustomEvent)
    async def receive(self, ctx: EventContext[CustomEvent]) -> None:
        event = ctx.event
        partner = self._partner_of(event)
        if partner is None or event.event_type != EVENT_TYPE:
            return
        alert = from_wire(event.content)
        if alert is None:
            log.info("ignored a malformed or unknown-version partner event")
        elif await self._vouched(partner, event.vouched_by):
            area = partner.areas.get(alert.area)
            if area is None:
                log.info("ignored a partner alert of an area we do not take")
            else:
                await self._relay(partner, alert, area)

    def _partner_of(self, event: CustomEvent) -> PartnerConfig | None:
        room = event.room
        return next(
            (
                p
                for p in self.partners
                if room.transport == MATRIX
                and p.room == room.room_id
                and p.bot == event.sender.user_id
            ),
            None,
        )

    async def _vouched(self, partner: PartnerConfig, key: str | None) -> bool:
        """Whether the partner's pinned key vouches for the event; a new key suspends."""
        if key is None:
            log.info("ignored a partner event no identity key vouches for")
            return False
        state = await self._state(partner)
        pinned = state["pinned"] or partner.master_key
        if key != pinned:
            await self._suspend(partner, key, told=state["seen"] == key)
            return False
        return not state["suspended"]

    async def _relay(self, partner: PartnerConfig, alert: WireAlert, area: str) -> None:
        topic = f"{PREFIX}{partner.bot}:{alert.alert}"

        def render(target: Target) -> OutgoingMessage:
            view = self.feed.view_of(target)
            rich = partner_alert(alert, partner.name(view.t.lang), area, view)
            return rich.message(notice=False)

        if alert.change is ChangeKind.CONFIRMED:
            targets = await self.bot.broadcasts.reach(ALERTS, area)
            key = f"{topic}:{alert.seq}"
            await self.bot.broadcasts.open(key, topic, targets, render, at=alert.at, urgent=True)
            log.info("relayed a partner alert to %d rooms (%s)", len(targets), describe(alert))
            return
        broadcast = await self.bot.broadcasts.latest(topic)
        if broadcast is None:
            return

        def follow(target: Target) -> OutgoingMessage:
            view = self.feed.view_of(target)
            return follow_up(alert, partner.name(view.t.lang), view).message(notice=False)

        quiet = alert.change is ChangeKind.STALE
        await self.bot.broadcasts.revise(
            broadcast, str(alert.seq), edit=render, follow_up=None if quiet else follow, urgent=True
        )
        if alert.change in CLOSING:
            await self.bot.broadcasts.close(topic, alert.at)

    # --- identity keys ------------------------------------------------------------------

    async def _state(self, partner: PartnerConfig) -> dict[str, Any]:
        row = await self.bot.db.fetchone(
            "SELECT pinned, seen, suspended FROM partner_keys WHERE partner = ?",
            (self._id(partner),),
        )
        return dict(row) if row is not None else {"pinned": None, "seen": None, "suspended": 0}

    async def _suspend(self, partner: PartnerConfig, key: str, *, told: bool) -> None:
        """Suspend the partner; the moderators hear of each new key once (`told`)."""
        await self.bot.db.execute(
            "INSERT INTO partner_keys (partner, seen, suspended) VALUES (?, ?, 1)"
            " ON CONFLICT (partner) DO UPDATE SET seen = excluded.seen, suspended = 1",
            (self._id(partner), key),
        )
        if not told:
            log.warning("a partner's identity key changed: partner suspended until re-pinned")
            await self.bot.tell_moderators(
                "partners.key_changed",
                key=f"partners:key:{self._id(partner)}:{key}",
                partner=lambda t: partner.name(t.lang),
                trust=f"{self.bot.settings.bot.command_prefix}partner trust {partner.bot}",
            )

    def _id(self, partner: PartnerConfig) -> str:
        return self.bot.cipher.keyed_hash(partner.bot, "partner")

    # --- commands -----------------------------------------------------------------------

    @command("partner", level=Level.ADMIN, aliases={"es": ("aliado",)})
    async def partner(self, ctx: CommandContext, subcommand: str = "", bot_id: str = "") -> None:
        """`!partner` lists partners, `!partner key` shows ours, `!partner trust BOT`
        re-pins a partner's new key."""
        if subcommand == "key":
            keys = self.bot.identity_keys()
            shown = "; ".join(f"{name} {readable_key(key)}" for name, key in keys.items())
            await ctx.reply(ctx.t("partners.own_key", identity=shown or "—"))
        elif subcommand == "trust":
            await ctx.reply(await self._trust(ctx, bot_id))
        else:
            await ctx.reply(await self._listing(ctx))

    async def _trust(self, ctx: CommandContext, name: str) -> str:
        partner = next((p for p in self.partners if name in (p.bot, p.name_en, p.name_es)), None)
        if partner is None:
            return ctx.t("partners.unknown", name=name)
        state = await self._state(partner)
        if not state["suspended"] or not state["seen"]:
            return ctx.t("partners.not_suspended", partner=partner.name(ctx.lang))
        await self.bot.db.execute(
            "UPDATE partner_keys SET pinned = seen, suspended = 0 WHERE partner = ?",
            (self._id(partner),),
        )
        return ctx.t(
            "partners.trusted", partner=partner.name(ctx.lang), identity=readable_key(state["seen"])
        )

    async def _listing(self, ctx: CommandContext) -> str:
        if not self.partners:
            return ctx.t("partners.none")
        lines = []
        for partner in self.partners:
            state = await self._state(partner)
            status = "suspended" if state["suspended"] else "active"
            lines.append(
                ctx.t(f"partners.line_{status}", partner=partner.name(ctx.lang), bot=partner.bot)
            )
        return "\n".join(lines)
