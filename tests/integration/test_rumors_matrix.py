"""Rumor control on a real Synapse, in end-to-end-encrypted rooms: `!status` says what is
verified, `!debunk` sends a FALSE ALARM notice, a typo is run by `!yes`, an alert nobody
updates says it may be over and then closes (on a clock the test moves, across a restart)."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import pytest
from integration import bot_harness
from integration.bot_harness import (
    BotSetup,
    RunningBot,
    both,
    edit_of,
    from_bot,
    in_thread,
    new_content,
    start_bot,
    wait_until_joined,
)
from integration.matrix_clients import TextEvent, UserClient, UserFactory

from plugins.relay import Relay
from plugins.sightings import Sightings

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")


@dataclass
class Hood:
    setup: BotSetup
    bot: RunningBot | None
    ana: UserClient  # neighbor
    rosa: UserClient  # moderator
    english: str
    spanish: str
    mods: str

    @property
    def running(self) -> RunningBot:
        assert self.bot is not None, "start() first"
        return self.bot

    async def start(self) -> None:
        self.bot = await start_bot(self.setup, plugins=[Sightings, Relay])
        for room in (self.english, self.spanish, self.mods):
            await wait_until_joined(self.bot, room)

    async def sweep_at(self, later: timedelta) -> None:
        """The sightings sweep, with the bot's clock `later` from now."""
        sightings = self.running.plugin(Sightings)
        sightings.clock = lambda: datetime.now(UTC) + later
        await sightings.sweep()

    def from_bot(self, text: str = "") -> Callable[[TextEvent], bool]:
        return from_bot(self.setup, text)

    async def answer(self, user: UserClient, room: str, text: str) -> str:
        event_id = await user.send_text(room, text)
        reply = await user.wait_for_message(
            room, lambda e: self.from_bot()(e) and in_thread(event_id)(e)
        )
        return reply.body


@pytest.fixture
async def hood(setup: BotSetup, user_factory: UserFactory) -> AsyncIterator[Hood]:
    ana, rosa = await asyncio.gather(user_factory("ana"), user_factory("rosa"))
    setup.allowed_users = [ana.user_id, rosa.user_id]
    setup.moderators = [rosa.user_id]
    english = await ana.create_encrypted_room(invite=[setup.user_id])
    spanish = await ana.create_encrypted_room(invite=[setup.user_id])
    mods = await rosa.create_encrypted_room(invite=[setup.user_id])
    setup.rooms = [
        {"id": english, "role": "neighborhood", "language": "en"},
        {"id": spanish, "role": "neighborhood", "language": "es"},
        {"id": mods, "role": "moderation", "language": "en"},
    ]
    hood = Hood(setup, None, ana, rosa, english, spanish, mods)
    await hood.start()
    try:
        yield hood
    finally:
        await hood.running.stop()


async def test_status_debunk_and_a_typo_in_encrypted_rooms(hood: Hood) -> None:
    h = hood
    assert "Nothing is confirmed in Pilsen in the last 24 hours." in await h.answer(
        h.ana, h.english, "!status"
    )
    ack = await h.answer(h.ana, h.english, "!reprot 18th & Ashland; agents detaining someone")
    assert "Did you mean !report?" in ack
    ack = await h.answer(h.ana, h.english, "!yes")
    confirmed = REPORT_ID.findall(ack)[0]
    ack = await h.answer(h.ana, h.english, "!report 26th & Pulaski; a checkpoint")
    false = REPORT_ID.findall(ack)[0]
    assert "confirmed" in (await h.answer(h.rosa, h.mods, f"!confirm {confirmed}")).lower()
    await h.answer(h.rosa, h.mods, f"!false {false}")

    status = await h.answer(h.ana, h.english, "!status")
    assert f"CONFIRMED {confirmed} · 18th & Ashland" in status
    assert f"FALSE ALARM {false} · 26th & Pulaski" in status

    sent = await h.answer(h.rosa, h.mods, f"!debunk {false} It was a film crew.")
    assert sent == f"FALSE ALARM notice for {false} sent to 2 rooms."
    notice = await h.ana.wait_for_message(h.spanish, h.from_bot(f"FALSA ALARMA · Pilsen · {false}"))
    assert "It was a film crew." in notice.body
    assert notice.source["content"]["m.mentions"] == {"user_ids": []}


async def test_a_quiet_alert_says_it_may_be_over_then_closes_across_a_restart(hood: Hood) -> None:
    h = hood
    ack = await h.answer(h.ana, h.english, "!report 18th & Ashland; agents detaining someone")
    report_id = REPORT_ID.findall(ack)[0]
    await h.answer(h.rosa, h.mods, f"!confirm {report_id}")
    alert = await h.ana.wait_for_message(h.spanish, h.from_bot("ALERTA CONFIRMADA"))
    await h.running.stop()  # the timers live in the stored reports, not in the process
    await h.start()

    await h.sweep_at(timedelta(hours=2, minutes=1))
    stale = await h.ana.wait_for_message(h.spanish, both(h.from_bot(), edit_of(alert.event_id)))
    assert "sin novedades desde las" in new_content(stale)
    assert "puede haber terminado" in new_content(stale)
    asked = await h.rosa.wait_for_message(h.mods, h.from_bot(f"🟠 {report_id} has had no update"))
    assert f"!clear {report_id}" in asked.body
    status = await h.answer(h.ana, h.english, "!status")
    assert f"🟠 CONFIRMED {report_id} · 18th & Ashland" in status

    await h.sweep_at(timedelta(hours=12, minutes=1))
    closed = await h.ana.wait_for_message(
        h.spanish, both(h.from_bot(), edit_of(alert.event_id), lambda e: "CERRADA" in e.body)
    )
    assert new_content(closed).startswith("⌛ CERRADA · sin novedades desde las")
    follow = await h.ana.wait_for_message(h.spanish, h.from_bot(f"La alerta {report_id} se cerró"))
    assert follow.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == alert.event_id
    await h.ana.wait_for_message(h.english, h.from_bot(f"Alert {report_id} has closed"))
    status = await h.answer(h.ana, h.english, "!status")
    assert "No alert is active in Pilsen now" in status


async def test_a_possible_duplicate_and_an_answer_that_fills_in_fields(hood: Hood) -> None:
    h = hood
    ack = await h.answer(h.ana, h.english, "!report 18th & Ashland; agents detaining someone")
    first = REPORT_ID.findall(ack)[0]
    second_event = await h.ana.send_text(h.spanish, "!reporte calle 18 y Ashland; agentes")
    ack = await h.ana.wait_for_message(h.spanish, both(h.from_bot(), in_thread(second_event)))
    assert f"Parece ser {first}" in ack.body and f"!visto {first}" in ack.body
    second = REPORT_ID.findall(ack.body.replace(first, ""))[0]
    card = await h.rosa.wait_for_message(h.mods, h.from_bot(f"Possible duplicate of {first}"))
    assert card.body.split(" ")[1] == second

    await h.rosa.send_text(h.mods, f"!needinfo {second} which way did they go?")
    await h.ana.wait_for_message(h.spanish, both(h.from_bot("which way"), in_thread(second_event)))
    await h.ana.send_text(h.spanish, "dirección: norte | vehículos: 3", thread_root=second_event)
    await h.rosa.wait_for_message(h.mods, h.from_bot("dirección: norte"))  # the answer, quoted
    await h.answer(h.rosa, h.mods, f"!confirm {second}")
    alert = await h.ana.wait_for_message(
        h.spanish, both(h.from_bot(f"Reporte {second}"), lambda e: "ALERTA" in e.body)
    )
    assert "Dirección: norte" in alert.body and "vehículos: 3" in alert.body
