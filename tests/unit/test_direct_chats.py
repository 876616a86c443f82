"""Direct chats (README, "Private reports by direct chat"), in memory: who the bot talks with
one to one, reports that name their area or are asked for it, and the commands that work
there."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from testkit.networks import MODS, MODS_LV, PILSEN_EN, PILSEN_ES, VILLITA
from testkit.world import SightingsWorld, start_world

from bot.api.testing import Sent
from bot.storage.keys import DataKey
from plugins.relay import Relay
from plugins.resources import Resources
from plugins.rosters import Rosters
from plugins.sightings import Sightings

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
# ana is in the English Pilsen room; bea in the Spanish Pilsen room and in La Villita's.
MEMBERS = {PILSEN_EN: {"ana"}, PILSEN_ES: {"bea"}, VILLITA: {"bea"}, MODS: {"rosa"}}


@pytest.fixture
async def world(tmp_path: Path, key: DataKey) -> AsyncIterator[SightingsWorld]:
    running = await start_world(tmp_path, key, plugins=[Sightings, Relay, Rosters, Resources])
    running.transport.people = {room: set(people) for room, people in MEMBERS.items()}
    yield running
    await running.app.stop()


async def dm(world: SightingsWorld, user: str, text: str) -> list[Sent]:
    """`user` writes to the bot in their direct chat; what the bot sent there."""
    room = f"dm-{user}"
    sent = await world.deliver(world.event(room, user, text, direct=True))
    return [s for s in sent if s.room_id == room]


async def answer(world: SightingsWorld, user: str, text: str) -> str:
    [reply] = await dm(world, user, text)
    return reply.text


def card_area(world: SightingsWorld, report_id: str) -> str:
    card = world.card_of(report_id)
    line = next(line for line in card.text.splitlines() if line.startswith(("Area:", "Área:")))
    return f"{card.room_id}: {line}"


async def test_a_report_by_direct_chat_is_filed_in_the_persons_only_area(
    world: SightingsWorld,
) -> None:
    ack = await answer(world, "ana", "!report 18th & Ashland; two agents detaining someone")
    assert "UNCONFIRMED" in ack
    report_id = REPORT_ID.findall(ack)[0]
    assert card_area(world, report_id) == f"{MODS}: Area: Pilsen"
    # Nothing of it in the neighborhood room until a moderator confirms it.
    assert not [t for t in world.texts(PILSEN_EN) if report_id in t]

    await world.say(MODS, "rosa", f"!confirm {report_id}")
    await world.settle()
    told = [s.text for s in world.messages("dm-ana")]
    assert any(t.startswith(f"✅ Your report {report_id} was CONFIRMED") for t in told)
    assert any(t.startswith("🔴 CONFIRMED ALERT · Pilsen") for t in told)  # the alert too
    assert any(t.startswith("🔴 CONFIRMED ALERT · Pilsen") for t in world.texts(PILSEN_EN))


async def test_with_several_areas_the_bot_asks_which_and_the_answer_files_it(
    world: SightingsWorld,
) -> None:
    asked = await answer(world, "bea", "!reporte Cermak y Pulaski; dos camionetas")
    assert asked == "¿De qué área es este reporte? Responde con su nombre: Pilsen, La Villita."
    assert await dm(world, "bea", "no sé") == []  # not an area: still waiting, nothing filed
    ack = await answer(world, "bea", "la villita")
    report_id = REPORT_ID.findall(ack)[0]
    assert card_area(world, report_id) == f"{MODS_LV}: Área: La Villita"
    assert await dm(world, "bea", "pilsen") == []  # answered once: nothing more to file


async def test_the_report_waiting_for_its_area_survives_a_restart(world: SightingsWorld) -> None:
    asked = await answer(world, "bea", "!reporte Cermak y Pulaski; dos camionetas")
    assert asked.startswith("¿De qué área es este reporte?")
    assert b"Pulaski" not in world.raw_bytes()  # stored encrypted
    await world.restart()
    assert await dm(world, "bea", "no sé") == []  # still waiting
    ack = await answer(world, "bea", "la villita")
    report_id = REPORT_ID.findall(ack)[0]
    assert card_area(world, report_id) == f"{MODS_LV}: Área: La Villita"
    assert "Cermak y Pulaski" in world.card_of(report_id).text
    assert await dm(world, "bea", "pilsen") == []


async def test_a_report_names_its_area_before_a_colon(world: SightingsWorld) -> None:
    ack = await answer(world, "bea", "!reporte pilsen: 18 y Ashland; agentes")
    assert card_area(world, REPORT_ID.findall(ack)[0]) == f"{MODS}: Area: Pilsen"
    # Keyed fields are not an area: "where:" stays the report's own.
    ack = await answer(world, "ana", "!report where: 18th & Ashland | what: parked")
    assert "UNCONFIRMED" in ack
    refused = await answer(world, "ana", "!report little village: 26th & Pulaski; a checkpoint")
    assert refused == "Here I take reports for your areas only: Pilsen."


async def test_the_guided_report_works_in_a_direct_chat(world: SightingsWorld) -> None:
    question = await answer(world, "ana", "!report")
    assert "Where is it? A cross-street or landmark" in question
    await dm(world, "ana", "18th & Ashland")
    await dm(world, "ana", "parked")
    await dm(world, "ana", "2")
    await dm(world, "ana", "1 white van")
    ack = await answer(world, "ana", "no")
    assert card_area(world, REPORT_ID.findall(ack)[0]) == f"{MODS}: Area: Pilsen"


async def test_status_rights_language_and_forgetme_answer_there(world: SightingsWorld) -> None:
    status = await answer(world, "bea", "!estado")
    assert "Verificado en Pilsen:" in status and "Verificado en La Villita:" in status
    assert "Know your rights" in await answer(world, "ana", "!rights")
    assert await answer(world, "ana", "!lang es") == "Listo: te hablaré en español."
    assert "!olvidame sí" in await answer(world, "ana", "!olvidame")


async def test_moderation_stays_in_moderation_rooms(world: SightingsWorld) -> None:
    refused = await answer(world, "rosa", "!confirm R7K3")
    assert refused == "!confirm works in “mods”: use it there."  # rosa is in it


async def test_strangers_and_people_who_left_get_no_answer(world: SightingsWorld) -> None:
    assert await dm(world, "zed", "!report 18th & Ashland; agents") == []
    assert await dm(world, "zed", "!help") == []
    world.transport.people[PILSEN_EN].discard("ana")  # ana left her room
    assert await dm(world, "ana", "!status") == []


async def test_direct_chats_can_be_turned_off(tmp_path: Path, key: DataKey) -> None:
    world = await start_world(tmp_path, key, rooms="[invites]\ndirect_chats = false")
    try:
        world.transport.people = {PILSEN_EN: {"ana"}}
        assert await dm(world, "ana", "!status") == []
    finally:
        await world.app.stop()


# --- private intake in rooms ---------------------------------------------------------------

PLATED = "!report where: 18th & Ashland | what: detaining | plate: ABC123"


async def test_a_plate_leaves_the_room_where_the_bot_may_remove_it(world: SightingsWorld) -> None:
    world.transport.may_remove = {PILSEN_EN}
    event = await world.write(PILSEN_EN, "ana", PLATED)
    assert world.transport.removed == [(PILSEN_EN, event)]
    told = world.in_thread(PILSEN_EN, event)[-1]
    assert told.startswith("🔒 I removed your message from this room because it had a plate")
    assert "!report in a direct chat" in told
    report_id = REPORT_ID.findall(world.in_thread(PILSEN_EN, event)[0])[0]
    assert "Plate: ABC123" in world.card_of(report_id).text  # the moderators still have it
    await world.say(PILSEN_EN, "ana", "!report where: Cermak | what: parked")
    assert len(world.transport.removed) == 1  # no plate, nothing removed


async def test_without_the_power_or_where_kept_nothing_is_removed(
    tmp_path: Path, key: DataKey
) -> None:
    world = await start_world(tmp_path, key, reports=f'keep_plates_in = ["{PILSEN_ES}"]')
    try:
        world.transport.may_remove = {PILSEN_ES}
        for room in (PILSEN_EN, PILSEN_ES):  # no power in one, kept by config in the other
            event = await world.write(room, "ana", PLATED)
            assert "🔒" not in world.in_thread(room, event)[-1]
        assert world.transport.removed == []
    finally:
        await world.app.stop()


async def test_the_guided_answer_with_the_plate_is_removed_once_filed(
    world: SightingsWorld,
) -> None:
    world.transport.may_remove = {PILSEN_EN}
    root = await world.write(PILSEN_EN, "ana", "!report")
    answers = ["18th & Ashland", "detaining", "2", "1 van"]
    for text in answers:
        await world.say(PILSEN_EN, "ana", text, thread=root)
    assert world.transport.removed == []
    plate = await world.write(PILSEN_EN, "ana", "plate: XYZ9 | direction: north", thread=root)
    assert world.transport.removed == [(PILSEN_EN, plate)]


async def test_a_guided_report_continues_in_a_direct_chat(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_EN, "ana", "!report")
    assert "Rather answer in private? Send me !report in a direct chat" in world.last(PILSEN_EN)
    await world.say(PILSEN_EN, "ana", "18th & Ashland", thread=root)
    moved = await answer(world, "ana", "!report")
    assert moved.startswith("We continue here, in private; your answers so far are kept.")
    assert "What is happening?" in moved  # the next question, not the first
    await dm(world, "ana", "detaining")
    await dm(world, "ana", "2")
    await dm(world, "ana", "skip")
    ack = await answer(world, "ana", "plate: XYZ9")
    report_id = REPORT_ID.findall(ack)[0]
    card = world.card_of(report_id).text
    assert "Where: 18th & Ashland" in card and "Plate: XYZ9" in card
    assert card_area(world, report_id) == f"{MODS}: Area: Pilsen"
    assert world.transport.removed == []  # a direct chat keeps its messages
