"""The alert relay on a real Synapse: confirmed reports reach every room watching the area,
exactly once, edits follow every update, and a kill -9 mid fan-out loses and repeats nothing.
"""

from __future__ import annotations

import asyncio
import re
import signal
from collections import Counter
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from integration import bot_harness
from integration.bot_harness import (
    BotSetup,
    RunningBot,
    both,
    from_bot,
    in_thread,
    spawn_bot,
    start_bot,
    wait_until_joined,
    wait_until_member,
)
from integration.matrix_clients import TextEvent, UserClient, UserFactory

from bot.devtools.local_synapse import LocalSynapse
from plugins.relay import Relay
from plugins.sightings import Sightings

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
REPORT = (
    "!report where: 18th & Ashland <b>@room</b> | what: detaining | agents: 4"
    " | vehicle: white SUV | plate: ABC1**"
)


@dataclass
class Watchers:
    setup: BotSetup
    ana: UserClient  # reporter
    rosa: UserClient  # moderator
    walt: UserClient  # member of every room, to see what each room gets
    hood: str
    mods: str
    alerted: dict[str, str]  # role -> room, all in pilsen
    quiet: dict[str, str]  # role -> room, in another area

    def from_bot(self, text: str = "") -> Callable[[TextEvent], bool]:
        return from_bot(self.setup, text)


async def _watch_rooms(setup: BotSetup, user_factory: UserFactory) -> Watchers:
    ana, rosa, walt = await asyncio.gather(*(user_factory(n) for n in ("ana", "rosa", "walt")))
    setup.allowed_users = [walt.user_id, rosa.user_id]
    setup.moderators = [rosa.user_id]
    setup.extra_areas = ["lawndale"]
    hood = await walt.create_encrypted_room(invite=[setup.user_id, ana.user_id, rosa.user_id])
    await asyncio.gather(ana.join(hood), rosa.join(hood))
    mods = await rosa.create_encrypted_room(invite=[setup.user_id])
    alerted = {
        role: await walt.create_encrypted_room(invite=[setup.user_id])
        for role in ("alerts", "watch")
    }
    quiet = {
        role: await walt.create_encrypted_room(invite=[setup.user_id])
        for role in ("neighborhood", "alerts")
    }
    setup.rooms = [
        {"id": hood, "role": "neighborhood", "language": "en"},
        {"id": mods, "role": "moderation", "areas": ["pilsen", "lawndale"]},
        {"id": alerted["alerts"], "role": "alerts", "language": "es"},
        {"id": alerted["watch"], "role": "watch"},
        *({"id": room, "role": role, "areas": ["lawndale"]} for role, room in quiet.items()),
    ]
    return Watchers(setup, ana, rosa, walt, hood, mods, alerted, quiet)


@pytest.fixture
async def watchers(setup: BotSetup, user_factory: UserFactory) -> Watchers:
    return await _watch_rooms(setup, user_factory)


@pytest.fixture
async def bot(watchers: Watchers) -> AsyncIterator[RunningBot]:
    running = await start_bot(watchers.setup, plugins=[Sightings, Relay])
    try:
        for room in (watchers.hood, watchers.mods, *watchers.alerted.values()):
            await wait_until_joined(running, room)
        yield running
    finally:
        await running.stop()


async def _report(w: Watchers) -> str:
    event_id = await w.ana.send_text(w.hood, REPORT)
    ack = await w.ana.wait_for_message(w.hood, lambda e: w.from_bot()(e) and _relates(e, event_id))
    found = REPORT_ID.search(ack.body)
    assert found, ack.body
    return found[0]


async def _report_and_confirm(w: Watchers) -> str:
    report_id = await _report(w)
    await w.rosa.send_text(w.mods, f"!confirm {report_id}")
    return report_id


def _relates(event: TextEvent, target: str) -> bool:
    relates = event.source["content"].get("m.relates_to") or {}
    return relates.get("event_id") == target or (
        (relates.get("m.in_reply_to") or {}).get("event_id") == target
    )


def _alerts(user: UserClient, room: str, w: Watchers, report_id: str) -> list[TextEvent]:
    """Original alert posts (not edits, not follow-ups) about `report_id` in `room`."""
    return [
        e
        for e in user.messages(room)
        if w.from_bot(report_id)(e)
        and "m.new_content" not in e.source["content"]
        and ("ALERT" in e.body or "ALERTA" in e.body)
        and "m.in_reply_to" not in (e.source["content"].get("m.relates_to") or {})
    ]


async def test_confirmed_report_reaches_every_room_of_its_area_once(
    watchers: Watchers, bot: RunningBot
) -> None:
    w = watchers
    report_id = await _report_and_confirm(w)
    rooms = {"hood": w.hood, **w.alerted}
    async with asyncio.timeout(30):
        while not all(_alerts(w.walt, room, w, report_id) for room in rooms.values()):
            await asyncio.sleep(0.1)
    await asyncio.sleep(2)
    for name, room in rooms.items():
        assert len(_alerts(w.walt, room, w, report_id)) == 1, name
    for name, room in w.quiet.items():
        assert not [e for e in w.walt.messages(room) if w.from_bot(report_id)(e)], name
    assert not [e for e in w.rosa.messages(w.mods) if w.from_bot("ALERT")(e)]

    english = _alerts(w.walt, w.hood, w, report_id)[0]
    spanish = _alerts(w.walt, w.alerted["alerts"], w, report_id)[0]
    assert "CONFIRMED ALERT" in english.body and "ALERTA CONFIRMADA" in spanish.body
    for alert in (english, spanish):
        content = alert.source["content"]
        assert alert.decrypted
        assert content["msgtype"] == "m.text"
        assert content["m.mentions"] == {"user_ids": []}
        assert "18th & Ashland" in alert.body and "white SUV" in alert.body
        assert "ABC1" not in alert.body and "ABC1" not in content["formatted_body"]
        assert "<b>@room</b>" not in content["formatted_body"]
        assert "&lt;b&gt;@room&lt;/b&gt;" in content["formatted_body"]
        assert "!rights" in alert.body or "!derechos" in alert.body


async def test_updates_and_retraction_edit_every_alert_and_follow_up(
    watchers: Watchers, bot: RunningBot
) -> None:
    w = watchers
    report_id = await _report_and_confirm(w)
    rooms = [w.hood, *w.alerted.values()]
    async with asyncio.timeout(30):
        while not all(_alerts(w.walt, room, w, report_id) for room in rooms):
            await asyncio.sleep(0.1)
    originals = {room: _alerts(w.walt, room, w, report_id)[0].event_id for room in rooms}

    await w.rosa.send_text(w.mods, f"!update {report_id} two more cars arrived")
    await w.rosa.send_text(w.mods, f"!retract {report_id} it was a film crew")
    for room, original in originals.items():
        edits = await _wait_for(w.walt, room, lambda e, o=original: _edit_of(e, o), count=2)
        assert "two more cars arrived" in edits[0].source["content"]["m.new_content"]["body"]
        retracted = edits[1].source["content"]["m.new_content"]["body"]
        assert "RETRACTED" in retracted or "RETIRADA" in retracted
        follow_ups = await _wait_for(w.walt, room, lambda e, o=original: _replies_to(e, o), count=2)
        assert "film crew" in follow_ups[1].body


def _edit_of(event: TextEvent, target: str) -> bool:
    relates = event.source["content"].get("m.relates_to") or {}
    return relates.get("rel_type") == "m.replace" and relates.get("event_id") == target


def _replies_to(event: TextEvent, target: str) -> bool:
    relates = event.source["content"].get("m.relates_to") or {}
    return (relates.get("m.in_reply_to") or {}).get("event_id") == target


async def _wait_for(
    user: UserClient, room: str, match: Callable[[TextEvent], bool], count: int
) -> list[TextEvent]:
    async with asyncio.timeout(30):
        while len(found := [e for e in user.messages(room) if match(e)]) < count:
            await asyncio.sleep(0.1)
    return found


FANOUT_ROOMS = 20


async def test_kill_mid_fan_out_leaves_every_room_with_the_alert_exactly_once(
    synapse: LocalSynapse, unique: str, setup: BotSetup, user_factory: UserFactory
) -> None:
    ana, rosa, walt = await asyncio.gather(*(user_factory(n) for n in ("ana", "rosa", "walt")))
    setup.allowed_users = [walt.user_id, rosa.user_id, ana.user_id]
    setup.moderators = [rosa.user_id]
    hood = await ana.create_encrypted_room(invite=[setup.user_id])
    mods = await rosa.create_encrypted_room(invite=[setup.user_id])
    rooms = [await walt.create_encrypted_room(invite=[setup.user_id]) for _ in range(FANOUT_ROOMS)]
    setup.rooms = [
        {"id": hood, "role": "neighborhood"},
        {"id": mods, "role": "moderation"},
        *({"id": room, "role": "alerts"} for room in rooms),
    ]
    admin = synapse.register(f"admin-{unique}", "admin-password", admin=True)
    process = spawn_bot(setup)
    try:
        await wait_until_member(synapse, ana.access_token, hood, setup.user_id)
        await wait_until_member(synapse, rosa.access_token, mods, setup.user_id)
        for room in rooms:
            await wait_until_member(synapse, walt.access_token, room, setup.user_id)
        w = Watchers(setup, ana, rosa, walt, hood, mods, {}, {})
        report_id = await _report(w)
        await rosa.wait_for_message(mods, w.from_bot(report_id))  # its card: nothing more to send
        # A slow homeserver (1 message/s) keeps the fan-out going long enough to cut it.
        synapse.override_ratelimit(setup.user_id, 1, 1, admin.access_token)
        await rosa.send_text(mods, f"!confirm {report_id}")
        async with asyncio.timeout(60):
            while not any(_alerts(walt, room, w, report_id) for room in rooms):
                await asyncio.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
        await asyncio.sleep(2)
        before = sum(bool(_alerts(walt, room, w, report_id)) for room in rooms)
        assert before < FANOUT_ROOMS, "the kill came after the fan-out: nothing was tested"

        synapse.delete_ratelimit_override(setup.user_id, admin.access_token)
        process = spawn_bot(setup)
        async with asyncio.timeout(90):
            while not all(_alerts(walt, room, w, report_id) for room in rooms):
                await asyncio.sleep(0.2)
        await asyncio.sleep(3)
    finally:
        if process.poll() is None:
            process.send_signal(signal.SIGTERM)
            process.wait(timeout=30)
    counts = Counter(room for room in rooms for _ in _alerts(walt, room, w, report_id))
    assert counts == Counter(dict.fromkeys(rooms, 1))


# --- plates typed anywhere -----------------------------------------------------------------

PLATES = ("XYZ987", "ABC 1234", "LMN 456", "KJR 5521")


async def _answer_in_thread(w: Watchers, root: str, answer: str, next_question: str) -> str:
    event_id = await w.ana.send_text(w.hood, answer, thread_root=root)
    await w.ana.wait_for_message(w.hood, both(w.from_bot(next_question), in_thread(root)))
    return event_id


def _report_id(ack: TextEvent) -> str:
    found = REPORT_ID.search(ack.body)
    assert found, ack.body
    return found[0]


async def test_a_plate_typed_anywhere_reaches_the_moderators_and_no_other_room(
    watchers: Watchers, bot: RunningBot
) -> None:
    """A one-line report with the plate in its description, a guided one with plates in
    "what?" and "anything else?", an update with a plate: the card has every plate, no other
    room ever gets one, and the messages that held them leave the reporter's room."""
    w, bot_id = watchers, watchers.setup.user_id
    await w.walt.set_power(w.hood, bot_id, 50)
    async with asyncio.timeout(20):  # until the bot's sync has seen its new power
        while bot.matrix.client.rooms[w.hood].power_levels.get_user_level(bot_id) < 50:
            await asyncio.sleep(0.1)

    one_line = await w.ana.send_text(
        w.hood, "!reporte Blue Island y 21; camioneta gris placa XYZ987"
    )
    ack = await w.ana.wait_for_message(w.hood, both(w.from_bot(), in_thread(one_line)))
    assert "camioneta gris [placa: solo moderadores]" in ack.body
    first = _report_id(ack)

    root = await w.ana.send_text(w.hood, "!report")
    await w.ana.wait_for_message(w.hood, both(w.from_bot("Where is it?"), in_thread(root)))
    await _answer_in_thread(w, root, "26th & Pulaski", "What is happening?")
    what = "una camioneta blanca con 3 agentes, placa ABC 1234"
    plated = [await _answer_in_thread(w, root, what, "How many agents?")]
    await _answer_in_thread(w, root, "3", "How many vehicles")
    await _answer_in_thread(w, root, "1", "Anything else?")
    plated.append(await w.ana.send_text(w.hood, "LMN 456", thread_root=root))
    guided = await w.ana.wait_for_message(w.hood, both(w.from_bot("UNCONFIRMED"), in_thread(root)))
    second = _report_id(guided)

    await w.rosa.send_text(w.mods, f"!confirm {first}")
    await w.rosa.send_text(w.mods, f"!update {first} se fueron en un sedán negro, tag KJR 5521")
    for room in w.alerted.values():
        await w.walt.wait_for_message(room, w.from_bot("sedán negro"))
    cards = await w.rosa.wait_for_message(w.mods, w.from_bot("KJR 5521"))
    assert "XYZ987, KJR 5521" in cards.body  # the card's plate line, after the update
    second_card = await w.rosa.wait_for_message(w.mods, w.from_bot(f"{second} · "))
    assert "ABC 1234, LMN 456" in second_card.body

    rooms = (w.hood, *w.alerted.values())
    elsewhere = [e for room in rooms for e in w.walt.messages(room) if e.sender == bot_id]
    assert len(elsewhere) >= 6  # acknowledgements, questions, alerts, their edits
    for event in elsewhere:
        text = re.sub(r"[\s-]", "", str(event.source["content"])).upper()
        for plate in PLATES:
            assert plate.replace(" ", "") not in text, (plate, event.body)
    for event_id in (one_line, *plated):
        response = await w.rosa.client.room_get_event(w.hood, event_id)
        assert response.event.source["unsigned"]["redacted_because"]["sender"] == bot_id
        assert "placa" not in str(response.event.source)
