"""The dispatch alarms: nobody going in time, a verifier silent past their arrival, and
still silent after being asked. Each runs as a stored job (see the plugin), so it survives
a restart and is dropped, not sent late, when it came due long before.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Any

from bot.api import BotContext, OutgoingMessage, RoomRef
from plugins.dispatch import render
from plugins.dispatch.config import DispatchConfig, DispatchSection
from plugins.dispatch.store import DispatchStore, Person, State
from plugins.rosters import Rotas
from plugins.sightings import ReportFeed

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
    ) -> None:
        self.bot = bot
        self.store = store
        self.feed = feed
        self.rotas = rotas
        self.clock = clock

    @property
    def settings(self) -> DispatchSection:
        return self.bot.settings.section(DispatchConfig).dispatch

    async def nobody_going(self, report_id: str) -> None:
        """Nobody said they go in time: call the whole room and its backup pool, tell the
        moderators."""
        call, state = await self.store.call(report_id), await self.feed.state(report_id)
        if call is None or state is None or not state.undecided:
            return
        people = await self.store.people(report_id, responder=False)
        if any(p.state is not State.NOT_GOING for p in people):
            return
        minutes = self.settings.ack_minutes
        broadcast = await self.bot.broadcasts.latest(call_topic(report_id))
        if broadcast is None:
            return
        pools = {t.room: await self.rotas.backup_pool(t.room) for t in broadcast.targets}

        def escalation(room: RoomRef) -> OutgoingMessage:
            view = self.feed.view(room)
            text = view.t(
                "dispatch.escalate",
                id=report_id,
                area=view.area_name(call.area),
                minutes=render.minutes(view, minutes),
                going=view.command("going"),
            )
            return OutgoingMessage(
                plain=text, notice=False, mentions=tuple(pools[room]), mention_room=True
            )

        await self.bot.broadcasts.revise(broadcast, "escalate", follow_up=escalation, urgent=True)
        area = self.bot.settings.area(call.area)
        await self.bot.tell_moderators(
            "dispatch.escalate_moderators",
            key=f"dispatch:escalated:{report_id}:{call.called_at.timestamp():.0f}",
            id=report_id,
            area=area.name_en if area else call.area,
            minutes=minutes,
        )
        log.warning("nobody answered a dispatch call in time: escalated")

    async def ask_after(self, report_id: str, person: str) -> None:
        """A verifier going is silent past their arrival: ask them, and set the alarm."""
        verifier = await self._silent_verifier(report_id, person)
        if verifier is None:
            return
        now = self.clock()
        await self.store.asked(report_id, person, now)
        broadcast = await self.bot.broadcasts.latest(call_topic(report_id))
        if broadcast is None:
            return

        def ask(room: RoomRef) -> OutgoingMessage:
            view = self.feed.view(room)
            text = view.t(
                "dispatch.checkin",
                who=verifier.name,
                id=report_id,
                ok=view.command("ok"),
                onscene=view.command("onscene"),
            )
            return OutgoingMessage(plain=text, notice=False, mentions=(verifier.user_id,))

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
            who=verifier.name,
            id=report_id,
            area=area.name_en if area else "",
            minutes=self.settings.overdue_minutes,
        )
        log.warning("a verifier did not answer after being asked if they are OK")

    async def _silent_verifier(self, report_id: str, person: str) -> Person | None:
        """The verifier, if they went and have not arrived nor said they turned back."""
        verifier = await self.store.verifier(report_id, person)
        if verifier is None or verifier.state is not State.GOING:
            return None
        return verifier


def call_topic(report_id: str) -> str:
    return f"{CALL}{report_id}"


def person_job(kind: str, payload: dict[str, Any]) -> str:
    return f"dispatch.{kind}:{payload['report']}:{payload['person']}"
