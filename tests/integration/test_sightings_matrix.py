"""Sighting reports end to end on a real Synapse, in end-to-end-encrypted rooms.

Neighbors (real matrix-nio E2E users) report in a neighborhood room, in English and in
Spanish; moderators see the card in the moderation room and decide by reaction or
command; the reporter sees the decision in their thread.
"""

from __future__ import annotations

import asyncio
import re
import uuid
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, time, timedelta
from typing import Any

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
from nio import Api, RoomSendResponse

from plugins.sightings import Sightings
from plugins.sightings.config import SightingsConfig
from plugins.sightings.lifecycle import Status

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")


@dataclass
class Neighborhood:
    """The bot, an English and a Spanish neighborhood room, and a moderation room."""

    setup: BotSetup
    bot: RunningBot
    ana: UserClient  # neighbor, English room
    bea: UserClient  # vecina, Spanish room
    carl: UserClient  # neighbor, English room
    rosa: UserClient  # moderator (config), also in the English room
    luis: UserClient  # moderator (config)
    english: str
    spanish: str
    mods: str

    def from_bot(self, text: str = "") -> Callable[[TextEvent], bool]:
        return from_bot(self.setup, text)

    async def restart(self) -> None:
        await self.bot.stop()
        self.bot = await start_bot(self.setup, plugins=[Sightings])

    @property
    def plugin(self) -> Sightings:
        plugin = self.bot.app.runtime.registry.plugin("sightings")
        assert isinstance(plugin, Sightings)
        return plugin


@pytest.fixture
async def hood(setup: BotSetup, user_factory: UserFactory) -> AsyncIterator[Neighborhood]:
    ana, bea, carl, rosa, luis = await asyncio.gather(
        *(user_factory(name) for name in ("ana", "bea", "carl", "rosa", "luis"))
    )
    setup.allowed_users = [ana.user_id, bea.user_id, rosa.user_id]
    setup.moderators = [rosa.user_id, luis.user_id]
    english = await ana.create_encrypted_room(invite=[setup.user_id, carl.user_id, rosa.user_id])
    spanish = await bea.create_encrypted_room(invite=[setup.user_id])
    mods = await rosa.create_encrypted_room(invite=[setup.user_id, luis.user_id])
    await asyncio.gather(carl.join(english), rosa.join(english), luis.join(mods))
    setup.rooms = [
        {"id": english, "role": "neighborhood", "language": "en"},
        {"id": spanish, "role": "neighborhood", "language": "es"},
        {"id": mods, "role": "moderation", "language": "en"},
    ]
    bot = await start_bot(setup, plugins=[Sightings])
    hood = Neighborhood(setup, bot, ana, bea, carl, rosa, luis, english, spanish, mods)
    try:
        for room in (english, spanish, mods):
            await wait_until_joined(bot, room)
        yield hood
    finally:
        await hood.bot.stop()


async def wait_for_card_state(
    user: UserClient, room: str, card: str, hood: Neighborhood, text: str
) -> TextEvent:
    return await user.wait_for_message(
        room, lambda e: hood.from_bot()(e) and edit_of(card)(e) and text in new_content(e)
    )


async def report(
    hood: Neighborhood, user: UserClient, room: str, text: str
) -> tuple[str, str, TextEvent]:
    """(report id, the report's event id, the acknowledgement)."""
    event_id = await user.send_text(room, text)
    ack = await user.wait_for_message(room, both(hood.from_bot(), in_thread(event_id)))
    found = REPORT_ID.search(ack.body)
    assert found, ack.body
    return found[0], event_id, ack


async def card_of(hood: Neighborhood, report_id: str) -> TextEvent:
    return await hood.rosa.wait_for_message(
        hood.mods,
        lambda e: (
            hood.from_bot(f"{report_id} · ")(e)
            and not edit_of("")(e)
            and "m.new_content" not in e.source["content"]
        ),
    )


async def send_reaction(user: UserClient, room_id: str, target: str, key: str) -> None:
    """An encrypted reaction, as Element sends it (nio itself sends reactions in clear)."""
    client = user.client
    if client.olm.should_share_group_session(room_id):
        await client.share_group_session(room_id, ignore_unverified_devices=True)
    content = {"m.relates_to": {"rel_type": "m.annotation", "event_id": target, "key": key}}
    event_type, encrypted = client.encrypt(room_id, "m.reaction", content)
    method, path, data = Api.room_send(
        client.access_token, room_id, event_type, encrypted, str(uuid.uuid4())
    )
    response = await client._send(RoomSendResponse, method, path, data, (room_id,))
    assert isinstance(response, RoomSendResponse), response


async def send_location(user: UserClient, room_id: str, thread: str, geo: str, body: str) -> None:
    content: dict[str, Any] = {
        "msgtype": "m.location",
        "body": body,
        "geo_uri": geo,
        "m.relates_to": {
            "rel_type": "m.thread",
            "event_id": thread,
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": thread},
        },
    }
    response = await user.client.room_send(
        room_id, "m.room.message", content, ignore_unverified_devices=True
    )
    assert isinstance(response, RoomSendResponse), response


# --- the whole way, in English and in Spanish ---------------------------------------------


async def test_english_report_to_a_confirmation_by_reaction(hood: Neighborhood) -> None:
    report_id, event_id, ack = await report(
        hood,
        hood.ana,
        hood.english,
        "!report 18th & Ashland; 2 unmarked SUVs, agents detaining someone | plate: ABC1**",
    )
    assert ack.decrypted and ack.source["content"]["msgtype"] == "m.notice"
    assert ack.body.startswith(f"📝 Report {report_id} received — UNCONFIRMED.")
    assert "ABC1" not in ack.body

    card = await card_of(hood, report_id)
    assert card.decrypted
    for line in (
        f"🟡 {report_id} · NEW — UNCONFIRMED",
        "Where: 18th & Ashland",
        "What: detaining someone — “2 unmarked SUVs, agents detaining someone”",
        "Vehicles: 2",
        "Plate: ABC1**",
        "Source: saw it themselves",
        "Also seen by: 0",
    ):
        assert line in card.body.splitlines(), line

    await hood.carl.send_text(hood.english, f"!seen {report_id}")
    await wait_for_card_state(hood.rosa, hood.mods, card.event_id, hood, "Also seen by: 1")

    await hood.rosa.send_text(hood.mods, "!reports")
    listing = await hood.rosa.wait_for_message(
        hood.mods, hood.from_bot("Open reports (1), times in ")
    )
    assert report_id in listing.body

    await send_reaction(hood.rosa, hood.mods, card.event_id, "✅")
    edited = await wait_for_card_state(
        hood.rosa, hood.mods, card.event_id, hood, f"🔴 {report_id} · CONFIRMED"
    )
    assert "✅ confirmed — " in new_content(edited)

    notice = await hood.ana.wait_for_message(
        hood.english, both(hood.from_bot("was CONFIRMED"), in_thread(event_id))
    )
    assert notice.body == f"✅ Your report {report_id} was CONFIRMED by the moderators. Thank you."
    assert notice.source["content"]["m.mentions"] == {"user_ids": [hood.ana.user_id]}
    assert not [
        e
        for e in hood.ana.messages(hood.english)
        if "ABC1" in e.body and e.sender == hood.setup.user_id
    ]


async def test_spanish_report_to_a_decision_by_command(hood: Neighborhood) -> None:
    report_id, event_id, ack = await report(
        hood,
        hood.bea,
        hood.spanish,
        "!reporte donde: 18 y Ashland | que: tocando puertas | agentes: 4 | placa: XYZ9**",
    )
    assert ack.body.startswith(f"📝 Reporte {report_id} recibido — SIN CONFIRMAR.")
    assert "XYZ9" not in ack.body
    card = await card_of(hood, report_id)
    assert "Plate: XYZ9**" in card.body and "Agents: 4" in card.body

    await hood.luis.send_text(hood.mods, f"!needinfo {report_id} ¿siguen ahí?")
    question = await hood.bea.wait_for_message(
        hood.spanish, both(hood.from_bot("¿siguen ahí?"), in_thread(event_id))
    )
    assert question.body.startswith(f"❓ Un moderador necesita más detalles sobre {report_id}.")
    await hood.bea.send_text(hood.spanish, "sí, siguen en la puerta", thread_root=event_id)
    await hood.bea.wait_for_message(
        hood.spanish, both(hood.from_bot("Gracias, tu respuesta llegó"), in_thread(event_id))
    )
    await hood.rosa.wait_for_message(hood.mods, hood.from_bot("sí, siguen en la puerta"))
    await wait_for_card_state(hood.rosa, hood.mods, card.event_id, hood, "NEW — UNCONFIRMED")

    await hood.rosa.send_text(hood.mods, f"!confirmar {report_id} lo vimos dos")
    answer = await hood.rosa.wait_for_message(hood.mods, hood.from_bot("CONFIRMADO"))
    assert answer.body.startswith(f"🔴 {report_id}: CONFIRMADO.")
    notice = await hood.bea.wait_for_message(
        hood.spanish, both(hood.from_bot("fue CONFIRMADO"), in_thread(event_id))
    )
    assert notice.body == (
        f"✅ Tu reporte {report_id} fue CONFIRMADO por los moderadores. Gracias.\nlo vimos dos"
    )


async def test_guided_report_with_a_shared_location_survives_a_restart(
    hood: Neighborhood,
) -> None:
    root = await hood.ana.send_text(hood.english, "!report")
    await hood.ana.wait_for_message(
        hood.english, both(hood.from_bot("Where is it?"), in_thread(root))
    )
    await send_location(hood.ana, hood.english, root, "geo:41.8579,-87.6661;u=20", "Dvorak Park")
    await hood.ana.wait_for_message(
        hood.english, both(hood.from_bot("What is happening?"), in_thread(root))
    )
    await hood.restart()
    await hood.ana.send_text(hood.english, "checkpoint", thread_root=root)
    await hood.ana.wait_for_message(
        hood.english, both(hood.from_bot("How many agents?"), in_thread(root))
    )
    for answer, next_question in (("6", "How many vehicles"), ("skip", "Anything else?")):
        await hood.ana.send_text(hood.english, answer, thread_root=root)
        await hood.ana.wait_for_message(
            hood.english, both(hood.from_bot(next_question), in_thread(root))
        )
    await hood.ana.send_text(hood.english, "no", thread_root=root)
    ack = await hood.ana.wait_for_message(
        hood.english, both(hood.from_bot("UNCONFIRMED"), in_thread(root))
    )
    report_id = REPORT_ID.search(ack.body)
    assert report_id
    card = await card_of(hood, report_id[0])
    assert "Where: Dvorak Park (geo:41.8579,-87.6661;u=20)" in card.body
    assert "What: checkpoint — “checkpoint”" in card.body
    assert "Agents: 6" in card.body


# --- every kind of bad input gets its answer -----------------------------------------------


async def test_bad_reports_get_clear_answers(hood: Neighborhood) -> None:
    cases = {
        "!report where: x | area: narnia": "I don't know the area “narnia”.",
        "!report where: x | when: in 10 min": "is in the future.",
    }
    for text, expected in cases.items():
        event_id = await hood.ana.send_text(hood.english, text)
        answer = await hood.ana.wait_for_message(
            hood.english, both(hood.from_bot(), in_thread(event_id))
        )
        assert expected in answer.body, (text, answer.body)
        assert "!report" in answer.body
    # A detail the bot cannot read never loses the report: filed, and the reporter told.
    kept = {
        "!report where: x | agents: 150": "I could not read the number of agents",
        "!reporte donde: x | vehiculos: 300": "No pude leer los vehículos",
    }
    for text, expected in kept.items():
        _, _, ack = await report(hood, hood.ana, hood.english, text)
        assert expected in ack.body, (text, ack.body)
    # Without a place, the place is asked for.
    event_id = await hood.ana.send_text(hood.english, "!report ; agents at the door")
    await hood.ana.wait_for_message(
        hood.english, both(hood.from_bot("Where is it happening?"), in_thread(event_id))
    )
    await hood.ana.send_text(hood.english, "Cermak & Throop", thread_root=event_id)
    filed = await hood.ana.wait_for_message(
        hood.english, both(hood.from_bot("UNCONFIRMED"), in_thread(event_id))
    )
    assert "Where: Cermak & Throop" in filed.body and "agents at the door" in filed.body
    _, _, stale = await report(
        hood, hood.ana, hood.english, "!report Cermak; convoy | when: 45 min ago"
    )
    assert "⚠ STALE: seen more than 30 minutes before it was reported." in stale.body


async def test_a_clock_time_later_than_now_is_filed_as_last_nights(hood: Neighborhood) -> None:
    # The bot thinks it is the last 03:41 (local) before now, so "23:00" is later than now
    # whatever the hour the test runs at.
    zone = hood.bot.app.bot.settings.section(SightingsConfig).reports.zone()
    now = datetime.now(zone)
    day = now.date() if now.time() >= time(3, 41) else now.date() - timedelta(days=1)
    early = datetime.combine(day, time(3, 41), tzinfo=zone).astimezone(UTC)
    hood.plugin.clock = lambda: early
    report_id, _, ack = await report(
        hood, hood.ana, hood.english, "!report Cermak; convoy | when: 23:00"
    )
    assert "Seen at: yesterday 23:00 " in ack.body
    card = await card_of(hood, report_id)
    lines = card.body.splitlines()
    assert [line for line in lines if line.startswith("Seen at: yesterday 23:00 ")], lines
    assert "⚠ STALE: seen more than 30 minutes before it was reported." in lines


async def test_moderation_refusals_and_a_race(hood: Neighborhood) -> None:
    report_id, _, _ = await report(hood, hood.carl, hood.english, "!report Halsted; parked")
    own_id, _, _ = await report(hood, hood.rosa, hood.english, "!report 21st; checkpoint")
    card = await card_of(hood, report_id)

    async def answer_to(user: UserClient, room: str, command: str) -> str:
        event_id = await user.send_text(room, command)
        event = await user.wait_for_message(room, both(hood.from_bot(), in_thread(event_id)))
        return event.body

    assert await answer_to(hood.carl, hood.english, f"!confirm {report_id}") == (
        "Sorry, you are not allowed to use !confirm."
    )
    assert (await answer_to(hood.rosa, hood.mods, f"!confirm {own_id}")).startswith(
        f"You reported {own_id} yourself, so another moderator has to confirm it"
    )
    assert (await answer_to(hood.rosa, hood.mods, f"!update {report_id} gone")).startswith(
        f"{report_id} is NEW — UNCONFIRMED, so !update does not apply"
    )

    rosa_cmd, luis_cmd = await asyncio.gather(
        hood.rosa.send_text(hood.mods, f"!confirm {report_id}"),
        hood.luis.send_text(hood.mods, f"!false {report_id}"),
    )
    answers = [
        (await hood.rosa.wait_for_message(hood.mods, both(hood.from_bot(), in_thread(c)))).body
        for c in (rosa_cmd, luis_cmd)
    ]
    assert sum(a.startswith("Too late: ") for a in answers) == 1, answers
    stored = await hood.plugin.store.get(report_id)
    assert stored is not None and len(stored.history) == 1
    assert stored.status in (Status.CONFIRMED, Status.FALSE_ALARM)
    await send_reaction(hood.luis, hood.mods, card.event_id, "❓")
    refusal = await hood.luis.wait_for_message(
        hood.mods, both(hood.from_bot(), in_thread(card.event_id))
    )
    assert refusal.body.startswith("Too late: ") or " so " in refusal.body


async def test_rate_limit_expiry_and_purge(hood: Neighborhood) -> None:
    ids = [
        (await report(hood, hood.carl, hood.english, f"!report corner {n}; parked"))[0]
        for n in range(5)
    ]
    event_id = await hood.carl.send_text(hood.english, "!report corner 6; parked")
    polite = await hood.carl.wait_for_message(
        hood.english, both(hood.from_bot(), in_thread(event_id))
    )
    assert polite.body.startswith("Thank you — you have sent 5 reports in the last 10 minutes")

    plugin = hood.plugin
    await hood.rosa.send_text(hood.mods, f"!false {ids[0]}")
    card = await card_of(hood, ids[1])
    plugin.clock = lambda: datetime.now(UTC) + timedelta(hours=4, minutes=1)
    await plugin.sweep()
    await wait_for_card_state(hood.rosa, hood.mods, card.event_id, hood, "EXPIRED")
    await hood.carl.wait_for_message(hood.english, hood.from_bot(f"Nobody could verify {ids[1]}"))

    plugin.clock = lambda: datetime.now(UTC) + timedelta(days=7, hours=5)
    await plugin.sweep()
    db = hood.bot.app.bot.db
    for table, column in (
        ("sighting_reports", "id"),
        ("sighting_cards", "report_id"),
        ("sighting_decisions", "report_id"),
    ):
        row = await db.fetchone(
            f"SELECT COUNT(*) AS n FROM {table} WHERE {column} IN ({', '.join('?' for _ in ids)})",
            ids,
        )
        assert row is not None and row["n"] == 0, table


async def test_a_reporter_asks_to_be_forgotten(hood: Neighborhood) -> None:
    confirmed, _, _ = await report(hood, hood.bea, hood.spanish, "!reporte 18 y Ashland; agentes")
    pending, _, ack = await report(hood, hood.bea, hood.spanish, "!reporte Cermak; dos camionetas")
    await hood.rosa.send_text(hood.mods, f"!confirm {confirmed}")
    await hood.rosa.wait_for_message(hood.mods, hood.from_bot(f"{confirmed}: CONFIRMED"))

    await hood.bea.send_text(hood.spanish, "!olvidame")
    await hood.bea.wait_for_message(hood.spanish, hood.from_bot("Para seguir, envía: !olvidame sí"))
    await hood.bea.send_text(hood.spanish, "!olvidame sí")
    done = await hood.bea.wait_for_message(
        hood.spanish, hood.from_bot("Listo: Vecinos borró lo que guardaba sobre ti.")
    )
    assert "se quitó de su sala" in done.body
    # The acknowledgement of the erased report repeated it: redacted for everyone.
    redacted = await hood.bea.client.room_get_event(hood.spanish, ack.event_id)
    assert redacted.event.source["unsigned"]["redacted_because"]["sender"] == hood.setup.user_id
    assert "Cermak" not in str(redacted.event.source)

    pending_card = await card_of(hood, pending)
    await wait_for_card_state(hood.rosa, hood.mods, pending_card.event_id, hood, "WITHDRAWN")
    store = hood.plugin.store
    assert await store.get(pending) is None
    kept = await store.get(confirmed)
    assert kept is not None and kept.status is Status.CONFIRMED and kept.origin.user_id == ""
    person = hood.bot.app.bot.person(hood.bea.user_id)
    await hood.bot.stop()
    data = hood.setup.dir / "data"
    stored = b"".join(path.read_bytes() for path in data.glob("vecinos.db*"))
    assert person.encode() not in stored
    assert hood.bea.user_id.encode() not in stored
