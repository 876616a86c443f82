"""Reports as people really type them, through intake, moderation, dispatch and relay, in
memory: a plate written anywhere reaches the moderators and nobody else, and nothing a
neighbor wrote is lost for a number, a time or a missing place."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from testkit.networks import DISPATCH_EN, DISPATCH_ES, HOOD_EN, MODS_PILSEN, MONDAY
from testkit.world import DispatchWorld

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
HIDDEN_EN = "[plate: moderators only]"
HIDDEN_ES = "[placa: solo moderadores]"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[DispatchWorld]:
    running = await DispatchWorld(tmp_path, MONDAY).start()
    yield running
    await running.stop()


async def report(world: DispatchWorld, text: str, user: str = "ana") -> str:
    sent = await world.say(HOOD_EN, user, text)
    acks = [s.text for s in sent if s.room_id == HOOD_EN and REPORT_ID.search(s.text)]
    assert acks, [s.text for s in sent]
    match = REPORT_ID.search(acks[0])
    assert match
    return match[0]


def card(world: DispatchWorld, report_id: str) -> str:
    return world.shown(world.card_of(report_id))


def outside_moderation(world: DispatchWorld) -> list[str]:
    """Everything the bot sent to any room but the moderation room, edits included."""
    return [s.text for s in world.transport.sent if s.room_id != MODS_PILSEN]


def shows(texts: list[str], plate: str) -> bool:
    squeezed = plate.replace(" ", "").replace("-", "").upper()
    return any(squeezed in re.sub(r"[\s-]", "", text).upper() for text in texts)


async def test_a_plate_in_the_description_stays_with_the_moderators_to_the_end(
    world: DispatchWorld,
) -> None:
    report_id = await report(world, "!reporte Blue Island y 21; camioneta gris placa XYZ987")
    assert f"camioneta gris {HIDDEN_ES}" in world.texts(HOOD_EN)[0]  # answered in Spanish
    assert HIDDEN_ES in world.calls(DISPATCH_ES)[0].text
    assert HIDDEN_EN in world.calls(DISPATCH_EN)[0].text
    assert "camioneta gris XYZ987" in card(world, report_id)
    assert "Plate: XYZ987" in card(world, report_id)
    await world.say(MODS_PILSEN, "rosa", f"!confirm {report_id}")
    await world.say(MODS_PILSEN, "rosa", f"!update {report_id} now a black sedan, tag ABC 1234")
    await world.say(HOOD_EN, "bob", "!status")
    final = card(world, report_id)
    assert "Plate: XYZ987, ABC 1234" in final
    assert "now a black sedan, ABC 1234" in final  # the update, as the moderator wrote it
    alerts = [t for t in world.texts(HOOD_EN) if "CONFIRMED" in t or "UPDATE" in t.upper()]
    assert alerts and all(HIDDEN_EN in t for t in alerts if "sedan" in t)
    for plate in ("XYZ987", "ABC 1234"):
        assert not shows(outside_moderation(world), plate), plate


async def test_nothing_lost_for_a_plate_beside_a_count(world: DispatchWorld) -> None:
    report_id = await report(world, "!report 26th and Pulaski; ICE van plate ABC 1234, 3 agents")
    text = card(world, report_id)
    assert "Agents: 3" in text and "Plate: ABC 1234" in text
    assert not shows(outside_moderation(world), "ABC 1234")


async def test_a_report_message_with_a_plate_leaves_the_room_where_the_bot_may_remove_it(
    world: DispatchWorld,
) -> None:
    world.transport.may_remove = {HOOD_EN}
    sent = await world.say(HOOD_EN, "ana", "!report 18th & Ashland; gray van XYZ987 parked")
    event = world.transport.removed[0][1]
    assert world.transport.removed == [(HOOD_EN, event)]
    told = [s.text for s in sent if s.room_id == HOOD_EN and "removed your message" in s.text]
    assert told, [s.text for s in sent]


async def test_a_guided_report_keeps_plates_from_what_and_anything_else(
    world: DispatchWorld,
) -> None:
    world.transport.may_remove = {HOOD_EN}
    start = await world.say(HOOD_EN, "ana", "!report")
    root = start[0].message.thread_root
    answers = [
        "26th & Pulaski",
        "una camioneta blanca con 3 agentes, placa ABC 1234",
        "3",
        "1",
        "XYZ 987",
    ]
    for answer in answers:
        await world.say(HOOD_EN, "ana", answer, thread=root)
    ack = next(t for t in world.texts(HOOD_EN) if "received" in t)
    report_id = REPORT_ID.search(ack)
    assert report_id, ack
    text = card(world, report_id[0])
    assert "Plate: ABC 1234, XYZ 987" in text
    assert "Agents: 3" in text
    for plate in ("ABC 1234", "XYZ 987"):
        assert not shows(outside_moderation(world), plate), plate
    assert len(world.transport.removed) == 2  # the two answers that held a plate


async def test_a_verifiers_scene_note_keeps_its_plate_with_the_moderators(
    world: DispatchWorld,
) -> None:
    report_id = await report(world, "!report 18th & Ashland; agents at a door")
    await world.say(DISPATCH_EN, "vera", f"!going {report_id} 5")
    answer = await world.ask(DISPATCH_EN, "vera", f"!scene {report_id} confirmed car KLM 482")
    assert HIDDEN_EN in answer
    assert "Plate: KLM 482" in card(world, report_id)
    assert card(world, report_id).count("KLM 482") == 2  # the plate, and the note as written
    assert not shows(outside_moderation(world), "KLM 482")


async def test_a_report_without_a_place_asks_where_and_keeps_what_was_written(
    world: DispatchWorld,
) -> None:
    sent = await world.say(HOOD_EN, "ana", "!report 2 vans, agents detaining someone")
    [question] = [s for s in sent if s.room_id == HOOD_EN]
    assert "Where is it happening?" in question.text
    await world.say(HOOD_EN, "ana", "26th & Pulaski", thread=question.message.thread_root)
    ack = next(t for t in world.texts(HOOD_EN) if "received" in t)
    assert "Where: 26th & Pulaski" in ack
    assert "detaining someone" in ack and "Vehicles: 2" in ack


async def test_counts_and_times_that_cannot_be_read_never_lose_the_report(
    world: DispatchWorld,
) -> None:
    report_id = await report(
        world, "!reporte donde: 18 y Ashland | agentes: muchísimos | cuando: ayer tarde"
    )
    text = card(world, report_id)
    assert "Agents: unknown" in text
    assert "⚠ Could not read the number of agents: “muchísimos”" in text
    assert "⚠ Could not read the time: “ayer tarde”" in text


async def test_a_plate_in_an_answer_to_a_moderator_stays_with_the_moderators(
    world: DispatchWorld,
) -> None:
    world.transport.may_remove = {HOOD_EN}
    report_id = await report(world, "!report 26th & Pulaski; agents watching")
    root = next(s.message.thread_root for s in world.messages(HOOD_EN) if report_id in s.text)
    assert root
    await world.say(MODS_PILSEN, "rosa", f"!needinfo {report_id} what car?")
    assert world.transport.removed == []
    answer = await world.say(HOOD_EN, "ana", "un sedán gris, placa QRS 789", thread=root)
    assert len(world.transport.removed) == 1  # the answer, which held the plate
    assert any("removed your message" in s.text for s in answer if s.room_id == HOOD_EN)
    assert "Plate: QRS 789" in card(world, report_id)
    assert not shows(outside_moderation(world), "QRS 789")
