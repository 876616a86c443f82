"""Getting verifiers and responders to the scene (README, "Rapid response: dispatch").

Every new report, any way it came in, posts a dispatch call to its area's dispatch rooms,
mentioning who is on call now. Verifiers answer (`!going`, 🚗, `!notgoing`, `!onscene`,
`!scene`), and the moderator card shows it live. Nobody going in time escalates; a verifier
silent past their arrival is asked after, then the moderators are told. A confirmation
calls out responders with a live tally; an all-clear or retraction stands them down.
Calls and call-outs are core broadcasts (durable, keyed), timers are stored jobs.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.api import (
    MODERATION,
    BotContext,
    CommandContext,
    Delivery,
    EventContext,
    Level,
    Note,
    OutgoingMessage,
    Plugin,
    ReactionEvent,
    Rest,
    Rich,
    RoomRef,
    Transaction,
    command,
    job,
    reaction,
)
from plugins.dispatch import quotas, render
from plugins.dispatch.alarms import (
    Alarms,
    call_broadcasts,
    call_render,
    call_topic,
    person_job,
)
from plugins.dispatch.callouts import Callouts
from plugins.dispatch.config import (
    DISPATCH,
    DISPATCH_ROLE,
    DISPATCH_ROOMS,
    DispatchConfig,
    DispatchSection,
)
from plugins.dispatch.handoff import Handoff
from plugins.dispatch.lines import CallLines
from plugins.dispatch.scene import Scene
from plugins.dispatch.stats import DispatchMetrics, stats_text
from plugins.dispatch.store import Call, DispatchStore, Outcome, State
from plugins.rosters import Rotas
from plugins.sightings import (
    FiledReport,
    Report,
    ReportFeed,
    ReportState,
    Verdict,
    View,
    normalize_id,
)

log = logging.getLogger(__name__)

CAR = "🚗"
OUTCOMES = {
    "confirmed": Outcome.CONFIRMED,
    "confirmado": Outcome.CONFIRMED,
    "nothing": Outcome.NOTHING,
    "nada": Outcome.NOTHING,
    "gone": Outcome.GONE,
    "se-fueron": Outcome.GONE,
    "sefueron": Outcome.GONE,
}
MAX_ETA_MINUTES = 240
PURGE_INTERVAL = timedelta(hours=6)
MOD_ROOMS = frozenset({MODERATION})
HANDOFF_ROOMS = DISPATCH_ROOMS | MOD_ROOMS
# How often the shift-change handoffs are set again (a one-off shift added from chat).
HANDOFF_SWEEP = timedelta(minutes=30)


class Dispatch(Plugin):
    name = "dispatch"
    locales = "plugins.dispatch.locales"
    migrations = "plugins.dispatch.migrations"
    config = DispatchConfig
    roles = (DISPATCH_ROLE,)
    requires = ("sightings", "rosters")

    def __init__(self, bot: BotContext) -> None:
        super().__init__(bot)
        # Replaceable in tests that move time forward.
        self.clock: Callable[[], datetime] = lambda: datetime.now(UTC)
        self.store = DispatchStore(bot.db, bot.cipher)
        self.metrics = DispatchMetrics(bot.metrics)
        self._feed: ReportFeed | None = None
        self._rotas: Rotas | None = None
        self._callouts: Callouts | None = None
        self._alarms: Alarms | None = None
        self._handoff: Handoff | None = None
        # Lines other plugins add to the call (a known vehicle): see lines.py.
        self.lines = CallLines()
        bot.provide(CallLines, self.lines)
        bot.provide(Scene, Scene(self.store, bot.person))

    @property
    def settings(self) -> DispatchSection:
        return self.bot.settings.section(DispatchConfig).dispatch

    @property
    def feed(self) -> ReportFeed:
        assert self._feed is not None, "start() first"
        return self._feed

    async def start(self) -> None:
        self._feed = self.bot.service(ReportFeed)
        self._rotas = self.bot.service(Rotas)
        self.feed.subscribe_filings(self.on_filed)
        self.feed.add_card_section(self.card_section)
        # Reports filed while a crash interrupted their call are called now, once.
        for filed in await self.feed.undecided():
            await self.on_filed(filed)
        self._callouts = Callouts(self.bot, self.store, self.feed, self.metrics)
        self._alarms = Alarms(
            self.bot, self.store, self.feed, self._rotas_of(), self.clock, self.lines
        )
        self._handoff = Handoff(self.bot, self.store, self.feed, self.clock)
        await self.feed.follow(self.name, self._callouts.on_change)
        self.bot.scheduler.every(PURGE_INTERVAL, self.purge)
        self.bot.scheduler.every(HANDOFF_SWEEP, self.plan_handoffs)
        await self.plan_handoffs()

    async def forget(self, user_id: str) -> list[Note]:
        for report_id in await self.store.forget(self.bot.person(user_id)):
            await self.feed.refresh_card(report_id)
        return []

    # --- the call -----------------------------------------------------------------------

    async def on_filed(self, filed: FiledReport) -> None:
        # The area's own dispatch rooms, or its nearest ancestor's; escalation goes up.
        targets = self.bot.broadcasts.serving(DISPATCH, filed.report.area)
        if not targets or await self.store.call(filed.report_id) is not None:
            return
        now = self.clock()
        lines = await self.lines.keys(filed.report_id, filed.report)
        message = await call_render(
            self._rotas_of(), self.feed, filed.report_id, filed.report, targets, now, lines
        )
        topic = call_topic(filed.report_id)
        key = f"{topic}:{filed.filed_at.timestamp():.6f}"
        ack_at = max(filed.filed_at, now) + timedelta(minutes=self.settings.ack_minutes)
        payload = {"report": filed.report_id}

        async def record(tx: Transaction) -> None:
            job = _job("ack", filed)
            await self.bot.scheduler.schedule("dispatch.ack", ack_at, payload, job, tx=tx)
            await self.store.add_call(filed.report_id, filed.report.area, now, tx)

        # The call, its escalation timer and its record: one commit, while the verifiers
        # and the reporter wait.
        await self.bot.broadcasts.open(
            key, topic, targets, message, at=now, urgent=True, along=record
        )
        log.info("dispatch call for a new report to %d rooms", len(targets))

    # --- verifiers' answers -------------------------------------------------------------

    @command("going", level=Level.NEIGHBOR, aliases={"es": ("voy",)}, roles=DISPATCH_ROOMS, rank=1)
    async def going(self, ctx: CommandContext, report_id: str, minutes: int | None = None) -> None:
        if minutes is not None and not 1 <= minutes <= MAX_ETA_MINUTES:
            await ctx.reply(ctx.t("dispatch.bad_minutes", usage=ctx.usage()))
            return
        await self._going(ctx, report_id, minutes)

    @reaction(CAR, f"{CAR}\ufe0f")
    async def on_car(self, ctx: EventContext[ReactionEvent]) -> None:
        if ctx.event.removed:
            return
        report_id = await self._call_of(ctx.room, ctx.event.target_event_id)
        if report_id is not None:
            await self._going(ctx, report_id, None)

    async def _going(self, ctx: EventContext[Any], report_id: str, minutes: int | None) -> None:
        call = await self._find_call(ctx, report_id)
        if call is None:
            return
        sender, now = ctx.event.sender, self.clock()
        eta = now + timedelta(minutes=minutes or self.settings.default_eta_minutes)
        # After the confirmation, those going are responders answering the call-out.
        responder = call.confirmed_at is not None
        if responder and await self._full_without(call, self.bot.person(sender.user_id)):
            await self._redirect(ctx, call)
            return
        await self.store.answer(
            call.report_id,
            self.bot.person(sender.user_id),
            _who(ctx),
            responder=responder,
            state=State.GOING,
            at=now,
            eta=eta,
        )
        view = self.feed.view(ctx.room, ctx.lang)
        await ctx.reply(
            ctx.t("dispatch.going", who=_who(ctx)[1], id=call.report_id, eta=view.time(eta))
        )
        if responder:
            await self._callouts_of().retally(call.report_id)
        else:
            self.metrics.first_going(call.called_at, now, await self.store.firsts(call.report_id))
            check_at = eta + timedelta(minutes=self.settings.checkin_grace_minutes)
            payload = {"report": call.report_id, "person": self.bot.person(sender.user_id)}
            await self.bot.scheduler.schedule(
                "dispatch.checkin", check_at, payload, person_job("checkin", payload)
            )
        await self.feed.refresh_card(call.report_id)

    async def _full_without(self, call: Call, person: str) -> bool:
        """Whether the call-out has enough people going, `person` not among them."""
        going = quotas.going(await self.store.people(call.report_id))
        if any(p.person == person for p in going):
            return False  # already counted: a new arrival time, not one more person
        return len(going) >= quotas.enough_for(self.bot, call.area)

    async def _redirect(self, ctx: EventContext[Any], call: Call) -> None:
        """Enough people at this call-out: name the open ones nearby with the fewest."""
        view = self.feed.view(ctx.room, ctx.lang)
        lines = [ctx.t("dispatch.enough_here", id=call.report_id)]
        needs = await quotas.needing(self.bot, self.store, call)
        for need in needs:
            report = await self.feed.report(need.call.report_id)
            where = view.readable(report).location if report else ""
            lines.append(
                ctx.t(
                    "dispatch.needs_people",
                    id=need.call.report_id,
                    location=where,
                    going=need.going,
                    enough=need.enough,
                )
            )
        if not needs:
            lines.append(ctx.t("dispatch.none_needs_people"))
        await ctx.reply("\n".join(lines))

    @command("notgoing", level=Level.NEIGHBOR, aliases={"es": ("novoy",)}, roles=DISPATCH_ROOMS)
    async def notgoing(self, ctx: CommandContext, report_id: str) -> None:
        call = await self._find_call(ctx, report_id)
        if call is None:
            return
        person = self.bot.person(ctx.event.sender.user_id)
        responder = call.confirmed_at is not None
        await self.store.answer(
            call.report_id,
            person,
            _who(ctx),
            responder=responder,
            state=State.NOT_GOING,
            at=self.clock(),
        )
        payload = {"report": call.report_id, "person": person}
        await self.bot.scheduler.cancel(person_job("checkin", payload))
        await self.bot.scheduler.cancel(person_job("overdue", payload))
        await ctx.reply(ctx.t("dispatch.notgoing", who=_who(ctx)[1], id=call.report_id))
        if responder:
            await self._callouts_of().retally(call.report_id)
        await self.feed.refresh_card(call.report_id)

    @command(
        "onscene",
        level=Level.NEIGHBOR,
        aliases={"es": ("enelsitio",)},
        roles=DISPATCH_ROOMS,
        rank=2,
    )
    async def onscene(self, ctx: CommandContext, report_id: str) -> None:
        call = await self._find_call(ctx, report_id)
        if call is None:
            return
        now = self.clock()
        await self._arrive(ctx, call.report_id, now)
        await ctx.reply(ctx.t("dispatch.onscene", who=_who(ctx)[1], id=call.report_id))
        self.metrics.first_on_scene(call.called_at, now, await self.store.firsts(call.report_id))
        await self.feed.refresh_card(call.report_id)

    @command(
        "scene", level=Level.NEIGHBOR, aliases={"es": ("escena",)}, roles=DISPATCH_ROOMS, rank=3
    )
    async def scene(
        self, ctx: CommandContext, report_id: str, outcome: str, note: Rest = ""
    ) -> None:
        chosen = OUTCOMES.get(outcome.casefold())
        if chosen is None:
            await ctx.reply(ctx.t("dispatch.bad_outcome", usage=ctx.usage()))
            return
        call = await self._find_call(ctx, report_id)
        if call is None:
            return
        person, now = self.bot.person(ctx.event.sender.user_id), self.clock()
        verifier = await self.store.verifier(call.report_id, person)
        if verifier is None or verifier.state is not State.ON_SCENE:
            await self._arrive(ctx, call.report_id, now)
        if note:
            await self.feed.keep_plates(call.report_id, note)  # the moderators get the plates
        await self.store.observe(call.report_id, person, _who(ctx)[1], chosen, note or None, now)
        view = self.feed.view(ctx.room, ctx.lang)
        lines = [render.observed(_who(ctx)[1], call.report_id, chosen, note, view)]
        if chosen is Outcome.CONFIRMED:
            lines.append(await self._confirm(ctx, call.report_id, note, view))
        await self.feed.refresh_card(call.report_id)
        await ctx.reply("\n".join(line for line in lines if line))

    async def _arrive(self, ctx: CommandContext, report_id: str, now: datetime) -> None:
        person = self.bot.person(ctx.event.sender.user_id)
        await self.store.answer(
            report_id, person, _who(ctx), responder=False, state=State.ON_SCENE, at=now
        )
        payload = {"report": report_id, "person": person}
        await self.bot.scheduler.cancel(person_job("checkin", payload))
        await self.bot.scheduler.cancel(person_job("overdue", payload))

    async def _confirm(self, ctx: CommandContext, report_id: str, note: str, view: View) -> str:
        """A verifier's "confirmed": it decides only where the area lets verifiers decide."""
        state = await self.feed.state(report_id)
        if state is not None and not state.undecided:
            return _decided(ctx, state, view)
        if state is None or state.area not in self.settings.verifier_confirms:
            return ctx.t("dispatch.moderators_decide", id=report_id)
        sender = ctx.event.sender
        verdict = await self.feed.confirm_on_scene(
            report_id, sender.user_id, _who(ctx)[1], note, ctx.event.event_id
        )
        if verdict is Verdict.CONFIRMED:
            return ctx.t("dispatch.confirmed_by_verifier", id=report_id)
        if verdict is Verdict.OWN_REPORT:
            return ctx.t("dispatch.own_report", id=report_id)
        return _decided(ctx, await self.feed.state(report_id) or state, view)

    # `!bien` alone is a safety check-in's "I am safe": this one always names a report.
    @command(
        "ok",
        level=Level.NEIGHBOR,
        aliases={"es": ("bien",)},
        roles=DISPATCH_ROOMS,
        rank=4,
        routes=r"\S+",
    )
    async def ok(self, ctx: CommandContext, report_id: str) -> None:
        call = await self._find_call(ctx, report_id)
        if call is None:
            return
        person = self.bot.person(ctx.event.sender.user_id)
        if not await self.store.heard(call.report_id, person, self.clock()):
            going = self.feed.view(ctx.room, ctx.lang).command("going")
            await ctx.reply(ctx.t("dispatch.not_going_yet", going=going, id=call.report_id))
            return
        await self.bot.scheduler.cancel(
            person_job("overdue", {"report": call.report_id, "person": person})
        )
        await ctx.reply(ctx.t("dispatch.heard", who=_who(ctx)[1]))

    # --- timers (see alarms.py) ---------------------------------------------------------

    @job("dispatch.ack", grace=timedelta(minutes=10))
    async def on_ack_due(self, payload: dict[str, Any]) -> None:
        await self._alarms_of().nobody_going(payload["report"], payload.get("level", 1))

    @job("dispatch.checkin", grace=timedelta(minutes=30))
    async def on_checkin_due(self, payload: dict[str, Any]) -> None:
        await self._alarms_of().ask_after(payload["report"], payload["person"])

    @job("dispatch.overdue", grace=timedelta(minutes=30))
    async def on_overdue(self, payload: dict[str, Any]) -> None:
        await self._alarms_of().overdue(payload["report"], payload["person"])

    # --- the handoff (see handoff.py) ---------------------------------------------------

    @command(
        "handoff",
        level=Level.VOLUNTEER,
        aliases={"es": ("relevo",)},
        roles=HANDOFF_ROOMS,
        rank=5,
    )
    async def handoff(self, ctx: CommandContext) -> None:
        config = self.bot.room_config(ctx.room)
        areas = config.areas if config else ()
        on_call = await self._rotas_of().on_duty(ctx.room, self.clock())
        rich = await self._handoff_of().message(areas, self.feed.view(ctx.room, ctx.lang), on_call)
        await ctx.reply(rich, threaded=False)

    @job("dispatch.handoff", grace=timedelta(minutes=10))
    async def on_shift_change(self, payload: dict[str, Any]) -> None:
        """A shift of a dispatch room's rota starts: the handoff, then the next one set."""
        room = RoomRef(payload["transport"], payload["room"])
        config = self.bot.room_config(room)
        if config is None or not self.bot.settings.room_fits(config, DISPATCH_ROOMS):
            return
        now = self.clock()
        on_call = await self._rotas_of().on_duty(room, now)
        rich = await self._handoff_of().message(config.areas, self.feed.view(room), on_call)
        key = f"dispatch:handoff:{room.room_id}:{payload['at']}"
        message = OutgoingMessage(
            plain=rich.plain, html=rich.html, notice=False, mentions=tuple(on_call)
        )
        await self.bot.outbox.enqueue([Delivery(key, room, message)])
        await self._plan_handoff(room, now)

    async def plan_handoffs(self) -> None:
        """Set each dispatch room's handoff at the start of its rota's next shift."""
        now = self.clock()
        for config in self.bot.settings.rooms:
            if self.bot.settings.room_fits(config, DISPATCH_ROOMS):
                await self._plan_handoff(RoomRef(config.transport, config.id), now)

    async def _plan_handoff(self, room: RoomRef, now: datetime) -> None:
        starts = await self._rotas_of().next_shift_start(room, now)
        name = f"dispatch.handoff:{room.transport}:{room.room_id}"
        if starts is None:
            await self.bot.scheduler.cancel(name)
            return
        payload = {
            "transport": room.transport,
            "room": room.room_id,
            "at": f"{starts.timestamp():.0f}",
        }
        await self.bot.scheduler.schedule("dispatch.handoff", starts, payload, name)

    # --- the card, stats, upkeep --------------------------------------------------------

    async def card_section(
        self, report_id: str, area: str, view: View, _report: Report
    ) -> Rich | None:
        if not self.bot.broadcasts.serving(DISPATCH, area):
            return None
        people = await self.store.people(report_id)
        if not people:  # nobody answered: a call, or none at all
            called = await self.store.call(report_id) is not None
            return render.card_section([], [], view) if called else None
        # Only those who answered observe: no answers, nothing seen.
        call = await self.store.call(report_id)
        confirmed = call is not None and call.confirmed_at is not None
        responders = quotas.going(people) if confirmed else []
        observations = await self.store.observations(report_id)
        return render.card_section(people, observations, view, responders)

    @command(
        "stats",
        level=Level.MODERATOR,
        aliases={"es": ("estadisticas", "estadísticas")},
        roles=MOD_ROOMS,
    )
    async def stats(self, ctx: CommandContext, days: int = 7) -> None:
        days = max(1, min(days, 90))
        since = self.clock() - timedelta(days=days)
        states = await self.feed.states_since(since)
        firsts = await self.store.firsts_of([s.report_id for s in states])
        await ctx.reply(stats_text(self.feed.view(ctx.room, ctx.lang), days, states, firsts))

    async def purge(self) -> None:
        """Dispatch records go with their report: erased once it is purged."""
        for call in await self.store.calls():
            if await self.feed.state(call.report_id) is None:
                await self.store.drop(call.report_id)

    # --- helpers ------------------------------------------------------------------------

    def _alarms_of(self) -> Alarms:
        assert self._alarms is not None, "start() first"
        return self._alarms

    def _handoff_of(self) -> Handoff:
        assert self._handoff is not None, "start() first"
        return self._handoff

    def _callouts_of(self) -> Callouts:
        assert self._callouts is not None, "start() first"
        return self._callouts

    def _rotas_of(self) -> Rotas:
        assert self._rotas is not None, "start() first"
        return self._rotas

    async def _find_call(self, ctx: EventContext[Any], text: str) -> Call | None:
        report_id = normalize_id(text) or text
        call = await self.store.call(report_id)
        if call is None:
            await ctx.reply(ctx.t("dispatch.no_call", id=report_id))
        return call

    async def _call_of(self, room: RoomRef, event_id: str) -> str | None:
        """The report whose dispatch call in `room` is `event_id`, if it is one."""
        config = self.bot.room_config(room)
        if config is None or not self.bot.settings.room_fits(config, DISPATCH_ROOMS):
            return None
        for call in await self.store.calls(open_only=True):
            for broadcast in await call_broadcasts(self.bot, call.report_id):
                if await self.bot.outbox.sent_event(broadcast.room_key(room)) == event_id:
                    return call.report_id
        return None


def _job(kind: str, filed: FiledReport) -> str:
    return f"dispatch.{kind}:{filed.report_id}:{filed.filed_at.timestamp():.0f}"


def _decided(ctx: CommandContext, state: ReportState, view: View) -> str:
    """A verifier's "confirmed" on a report already decided: said as it stands."""
    if state.status.value == "confirmed":
        return ctx.t("dispatch.already_confirmed", id=state.report_id)
    status = view.status(state.status.value)
    return ctx.t("dispatch.already_decided", id=state.report_id, status=status)


def _who(ctx: EventContext[Any]) -> tuple[str, str]:
    sender = ctx.event.sender
    return sender.user_id, sender.display_name or sender.user_id
