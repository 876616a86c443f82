"""`!need`: a request typed whole, asked step by step, or moved out of a room.

In a direct chat a request with its kind (and an area, where the person's rooms do not
say it) is filed at once; what is missing is asked one step at a time on the core's
dialogs. Typed in a room, nothing is filed there: the message is removed where the bot
may, and the bot goes on in a direct chat with the person (opening one if need be), with
what they wrote and the room's area.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from datetime import datetime, timedelta
from typing import Any

from bot.api import (
    BotContext,
    CommandContext,
    Delivery,
    Dialog,
    Dialogs,
    Event,
    EventContext,
    Invalid,
    MessageEvent,
    Rich,
    Step,
    Translator,
)
from plugins.aid.cards import Wording
from plugins.aid.desk import Desk
from plugins.aid.kinds import KINDS, kind_named
from plugins.aid.matching import Matching
from plugins.aid.need import area_named, read_need
from plugins.aid.store import Address, AidRequest, Filing

KIND = "aid.need"
TIMEOUT_JOB = "aid.dialog_timeout"
# What the server is told when a request leaves a room (never what it said).
REMOVAL = "A request for help is kept private"
ORDER = ("kind", "area", "when", "details")


class Listed(Invalid):
    """A refused answer that lists what is expected, in the person's language."""

    def __init__(self, key: str, listing: Callable[[Translator], str]) -> None:
        super().__init__(key)
        self.listing = listing

    def text(self, t: Translator) -> str:
        return t(self.key, choices=self.listing(t))


def kinds_listing(t: Translator) -> str:
    return ", ".join(t(f"aid.kind.{kind}") for kind in KINDS)


class Asking:
    def __init__(
        self, bot: BotContext, desk: Desk, matching: Matching, now: Callable[[], datetime]
    ) -> None:
        self.bot = bot
        self.desk = desk
        self.matching = matching
        minutes = desk.settings.dialog_timeout_minutes
        steps = (
            Step("kind", "aid.ask.kind", self._check_kind),
            Step("area", "aid.ask.area", self._check_area),
            Step("when", "aid.ask.when", _keep("when")),
            Step("details", "aid.ask.details", _keep("text")),
        )
        self.dialogs = Dialogs(
            bot,
            KIND,
            steps,
            timeout=timedelta(minutes=minutes),
            finish=self._finish,
            timeout_job=TIMEOUT_JOB,
            now=now,
        )

    # --- the command ---------------------------------------------------------------------

    async def need(self, ctx: CommandContext, typed: str) -> None:
        need = read_need(typed, self.bot.settings)
        if typed and need.kind is None and ctx.direct:
            await ctx.reply(self._bad_kind(ctx, typed))
            return
        data: dict[str, Any] = {
            "kind": need.kind,
            "area": need.area,
            "when": need.when,
            "text": need.text if need.kind else typed.strip(),
        }
        if not ctx.direct:
            await self._move(ctx, data, bool(typed))
            return
        await self.matching.reachable(ctx)  # remembered: offers are asked here
        await self._go_on(ctx, data)

    def _bad_kind(self, ctx: CommandContext, typed: str) -> str:
        word = typed.split()[0][:30]
        return ctx.t(
            "aid.need.bad_kind",
            word=word,
            kinds=kinds_listing(ctx.t),
            need=ctx.typed_name(),
        )

    async def _move(self, ctx: CommandContext, data: dict[str, Any], typed: bool) -> None:
        """Typed in a room: removed from it where the bot may, the person told why there,
        and the request goes on in their direct chat with what they wrote."""
        config = self.bot.room_config(ctx.room)
        if data["area"] is None and config is not None and config.areas:
            data["area"] = config.areas[0]
        removed = typed and await self.bot.remove(ctx.room, ctx.event.event_id, REMOVAL)
        key = "aid.moved.removed" if removed else "aid.moved.here"
        await ctx.reply(ctx.t(key), mentions=(ctx.event.sender.user_id,))
        chat = await self.matching.reachable(ctx)
        opening = Delivery(
            f"aid:moved:{ctx.event.event_id}",
            chat.room,
            Rich().text(ctx.t("aid.moved.intro")).message(),
        )
        sent = await self.bot.outbox.send_now(opening)
        # On from the bot's first message there, as if the person had written it.
        event = replace(
            ctx.event, room=chat.room, event_id=sent.event_id, thread_root=None, direct=True
        )
        there = CommandContext(self.bot, event, ctx.lang, spec=ctx.spec, level=ctx.level)
        await self._go_on(there, data)

    async def _go_on(self, ctx: CommandContext, data: dict[str, Any]) -> None:
        """File it, or ask what is missing."""
        areas = await self._areas_of(ctx)
        if data["area"] is None and len(areas) == 1:
            data["area"] = areas[0]
        guided = data["kind"] is None
        given = {"kind": data["kind"], "area": data["area"], "when": data["when"]}
        given["details"] = data["text"]
        steps = [s for s in ORDER if not given[s] and (guided or s in ("kind", "area"))]
        if steps:
            lead = Rich().line(ctx.t("aid.ask.intro"))
            if await self.dialogs.start(ctx, data, steps=steps, lead=lead) is None:
                await ctx.reply(ctx.t("aid.ask.already_open"))
            return
        if not self._has_group(data["area"]):
            await ctx.reply(self._no_group(ctx.t, data["area"]))
            return
        request = await self._file(
            data, ctx.lang, Address(ctx.room, ctx.event.sender.user_id, ctx.lang), ctx.event
        )
        await ctx.reply(self._filed(Wording(self.bot, ctx.lang), request))

    async def _areas_of(self, ctx: CommandContext) -> list[str]:
        rooms = await self.bot.shared_rooms(ctx.room.transport, ctx.event.sender.user_id)
        slugs: list[str] = []
        for room in rooms:
            slugs += [slug for slug in room.areas if slug not in slugs]
        return slugs

    # --- the dialog ----------------------------------------------------------------------

    async def on_message(self, ctx: EventContext[MessageEvent]) -> bool:
        return await self.dialogs.on_message(ctx)

    def _check_kind(self, dialog: Dialog, answer: str | None) -> None:
        kind = None if answer is None else kind_named(answer)
        if kind is None:
            raise Listed("aid.ask.bad_kind", kinds_listing)
        dialog.data["kind"] = kind

    def _check_area(self, dialog: Dialog, answer: str | None) -> None:
        area = None if answer is None else area_named(answer, self.bot.settings)
        if area is None or not self._has_group(area):
            raise Listed("aid.ask.bad_area", self._group_areas)
        dialog.data["area"] = area

    async def _finish(self, dialog: Dialog, event: Event) -> None:
        data = dialog.data
        if not self._has_group(data["area"]):
            raise Listed("aid.ask.bad_area", self._group_areas)
        request = await self._file(
            data, dialog.lang, Address(dialog.room, dialog.user_id, dialog.lang), event
        )
        text = self._filed(Wording(self.bot, dialog.lang), request)
        await self.dialogs.say(dialog, event, Rich().text(text))

    async def _file(
        self, data: dict[str, Any], lang: Any, requester: Address, event: Event
    ) -> AidRequest:
        filing = Filing(
            kind=data["kind"],
            area=data["area"],
            when=data["when"],
            text=data["text"],
            lang=lang,
            requester=requester,
            intake=event.event_id,
        )
        return await self.desk.file(filing)

    def _filed(self, w: Wording, request: AidRequest) -> str:
        return w.t(
            "aid.need.filed",
            summary=w.summary(request),
            area=w.area(request.area),
            done=w.command("done"),
            id=request.id,
        )

    # --- areas with an aid group ---------------------------------------------------------

    def _has_group(self, area: str | None) -> bool:
        return area is not None and bool(self.desk.serving(area))

    def _group_areas(self, t: Translator) -> str:
        lang = t.lang
        w = Wording(self.bot, lang)
        return ", ".join(
            f"{a.slug} ({w.area(a.slug)})"
            for a in self.bot.settings.areas
            if self._has_group(a.slug)
        )

    def _no_group(self, t: Translator, area: str) -> str:
        return t("aid.need.no_group", area=area, choices=self._group_areas(t))

    # --- time and forgetting -------------------------------------------------------------

    async def time_out(self, payload: dict[str, Any]) -> None:
        await self.dialogs.time_out(payload)

    async def sweep(self) -> None:
        await self.dialogs.sweep()

    async def end(self, user_id: str) -> None:
        await self.dialogs.end(user_id)


def _keep(name: str) -> Callable[[Dialog, str | None], None]:
    def check(dialog: Dialog, answer: str | None) -> None:
        dialog.data[name] = answer or ""

    return check
