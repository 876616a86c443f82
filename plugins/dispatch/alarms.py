"""The dispatch alarms: nobody going in time (the call then goes up the tree of areas, to
the dispatch rooms of the next area up, once per level), a verifier silent past their
arrival, and still silent after being asked. Each runs as a stored job (see the plugin), so
it survives a restart and is dropped, not sent late, when it came due long before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from datetime import datetime, timedelta
from typing import Any

from bot.api import BotContext, Broadcast, OutgoingMessage, Target
from plugins.dispatch import render
from plugins.dispatch.config import DISPATCH, DispatchConfig, DispatchSection
from plugins.dispatch.lines import CallLines
from plugins.dispatch.store import Call, DispatchStore, Person, State
from plugins.rosters import Rotas
from plugins.sightings import Report, ReportFeed

log = logging.getLogger(__name__)

CALL = "dispatch:"  # broadcast key and topic prefix of calls


class Alarms:
    def __init__(
        self,
        bot: BotContext,
        store: DispatchStore,
        feed: ReportFeed,
        rotas: Rotas,
        clock: Callable[[], datetime],
        lines: CallLines | None = None,
    ) -> None:
        self.bot = bot
        self.store = store
        self.feed = feed
        self.rotas = rotas
        self.clock = clock
        self.lines = lines if lines is not None else CallLines()

    @property
    def settings(self) -> DispatchSection:
        return self.bot.settings.section(DispatchConfig).dispatch

    async def nobody_going(self, report_id: str, level: int = 1) -> None:
        """Nobody said they go in time: the first time, call the whole room and its backup
        pool and tell the moderators; each time, call the next area up (`level` 1: the
        dispatch rooms serving the parent area)."""
        call, state = await self.store.call(report_id), await self.feed.state(report_id)
        if call is None or state is None or not state.undecided:
            return
        people = await self.store.people(report_id, responder=False)
        if any(p.state is not State.NOT_GOING for p in people):
            return
        if level == 1:
            await self._escalate(call)
        await self._call_up(call, level)

    async def _call_up(self, call: Call, level: int) -> None:
        """The call, to the dispatch rooms `level` areas up; the next level is due after
        `ack_minutes` more. Keyed by level: a replay posts nothing twice."""
        targets = self.bot.broadcasts.serving(DISPATCH, call.area, level)
        report = await self.feed.report(call.report_id)
        if not targets or report is None:
            return
        now = self.clock()
        lines = await self.lines.keys(call.report_id, report)
        message = await call_render(
            self.rotas, self.feed, call.report_id, report, targets, now, lines
        )
        topic = up_topic(call.report_id, level)
        key = f"{topic}:{call.called_at.timestamp():.6f}"
        await self.bot.broadcasts.open(key, topic, targets, message, at=now, urgent=True)
        log.warning("nobody answered a dispatch call in time: called %d areas up", level)
        if self.bot.broadcasts.serving(DISPATCH, call.area, level + 1):
            due = now + timedelta(minutes=self.settings.ack_minutes)
            payload = {"report": call.report_id, "level": level + 1}
            name = f"dispatch.ack:{call.report_id}:{call.called_at.timestamp():.0f}:up{level + 1}"
            await self.bot.scheduler.schedule("dispatch.ack", due, payload, name)

    async def _escalate(self, call: Call) -> None:
        report_id = call.report_id
        minutes = self.settings.ack_minutes
        broadcast = await self.bot.broadcasts.latest(call_topic(report_id))
        if broadcast is None:
            return
        pools = {t.room: await self.rotas.backup_pool(t.room) for t in broadcast.targets}

        def escalation(target: Target) -> OutgoingMessage:
            view = self.feed.view_of(target)
            text = view.t(
                "dispatch.escalate",
                id=report_id,
                area=view.area_name(call.area),
                minutes=render.minutes(view, minutes),
                going=view.command("going"),
            )
            return OutgoingMessage(
                plain=text, notice=False, mentions=tuple(pools[target.room]), mention_room=True
            )

        await self.bot.broadcasts.revise(broadcast, "escalate", follow_up=escalation, urgent=True)
        area = self.bot.settings.area(call.area)
        await self.bot.tell_moderators(
            "dispatch.escalate_moderators",
            key=f"dispatch:escalated:{report_id}:{call.called_at.timestamp():.0f}",
            about=call.area,
            id=report_id,
            area=lambda t: area.name(t.lang) if area else call.area,
            minutes=lambda t: t("dispatch.minutes", count=minutes),
        )
        log.warning("nobody answered a dispatch call in time: escalated")

    async def ask_after(self, report_id: str, person: str) -> None:
        """A verifier going is silent past their arrival: ask them, and set the alarm."""
        verifier = await self._silent_verifier(report_id, person)
        if verifier is None:
            return
        now = self.clock()
        await self.store.asked(report_id, person, now)
        broadcasts = await call_broadcasts(self.bot, report_id)
        if not broadcasts:
            return

        def ask(target: Target) -> OutgoingMessage:
            view = self.feed.view_of(target)
            text = view.t(
                "dispatch.checkin",
                who=verifier.name,
                id=report_id,
                ok=view.command("ok"),
                onscene=view.command("onscene"),
            )
            return OutgoingMessage(plain=text, notice=False, mentions=(verifier.user_id,))

        # Wherever the call went, up the tree too: the verifier may have come from there.
        for broadcast in broadcasts:
            await self.bot.broadcasts.revise(
                broadcast, f"checkin:{person}:{now.timestamp():.0f}", follow_up=ask, urgent=True
            )
        overdue_at = now + timedelta(minutes=self.settings.overdue_minutes)
        payload = {"report": report_id, "person": person}
        await self.bot.scheduler.schedule(
            "dispatch.overdue", overdue_at, payload, person_job("overdue", payload)
        )

    async def overdue(self, report_id: str, person: str) -> None:
        """Still silent after being asked: the moderators are told."""
        verifier = await self._silent_verifier(report_id, person)
        if verifier is None or verifier.asked_at is None:
            return
        call = await self.store.call(report_id)
        area = self.bot.settings.area(call.area) if call else None
        await self.bot.tell_moderators(
            "dispatch.overdue",
            key=f"dispatch:overdue:{report_id}:{person}:{verifier.asked_at.timestamp():.0f}",
            about=call.area if call else None,
            who=verifier.name,
            id=report_id,
            area=lambda t: area.name(t.lang) if area else "",
            minutes=lambda t: t("dispatch.minutes", count=self.settings.overdue_minutes),
        )
        log.warning("a verifier did not answer after being asked if they are OK")

    async def _silent_verifier(self, report_id: str, person: str) -> Person | None:
        """The verifier, if they went and have not arrived nor said they turned back."""
        verifier = await self.store.verifier(report_id, person)
        if verifier is None or verifier.state is not State.GOING:
            return None
        return verifier


async def call_render(
    rotas: Rotas,
    feed: ReportFeed,
    report_id: str,
    report: Report,
    targets: Sequence[Target],
    now: datetime,
    lines: Sequence[str] = (),
) -> Callable[[Target], OutgoingMessage]:
    """The dispatch call for each of `targets`, mentioning who is on call there now;
    `lines`: other plugins' lines (locale keys, see lines.py)."""
    on_call = {t.room: await rotas.on_duty(t.room, now) for t in targets}

    def message(target: Target) -> OutgoingMessage:
        view = feed.view_of(target)
        rich = render.call(report_id, report, view, on_call[target.room], lines)
        return OutgoingMessage(
            plain=rich.plain, html=rich.html, notice=False, mentions=tuple(on_call[target.room])
        )

    return message


def call_topic(report_id: str) -> str:
    return f"{CALL}{report_id}"


def up_topic(report_id: str, level: int) -> str:
    """The topic of the call's post `level` areas up the tree."""
    return f"{call_topic(report_id)}:up{level}"


async def call_broadcasts(bot: BotContext, report_id: str) -> list[Broadcast]:
    """The report's call, then its posts up the tree of areas, in order; none if no call."""
    found: list[Broadcast] = []
    topic = call_topic(report_id)
    while (broadcast := await bot.broadcasts.latest(topic)) is not None:
        found.append(broadcast)
        topic = up_topic(report_id, len(found))
    return found


def person_job(kind: str, payload: dict[str, Any]) -> str:
    return f"dispatch.{kind}:{payload['report']}:{payload['person']}"
