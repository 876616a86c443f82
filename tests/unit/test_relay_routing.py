"""The relay in memory: which rooms get an alert, in which language, and exactly once."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from testkit.networks import MODS, MODS_LV, PILSEN_EN, PILSEN_ES, VILLITA
from testkit.world import SightingsWorld, start_world

from bot.core.plugin import Plugin
from bot.storage.keys import DataKey
from plugins.relay import Relay
from plugins.rosters import Rosters
from plugins.sightings import Sightings

ALERTS = "alerts-pilsen"
ALERTS_LV = "alerts-lv"
WATCH = "watch-pilsen"
EXTRA_ROOMS = """
[[rooms]]
id = "alerts-pilsen"
transport = "console"
role = "alerts"
areas = ["pilsen"]
language = "es"

[[rooms]]
id = "alerts-lv"
transport = "console"
role = "alerts"
areas = ["little-village"]

[[rooms]]
id = "watch-pilsen"
transport = "console"
role = "watch"
areas = ["pilsen"]
"""
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")


async def start(tmp_path: Path, key: DataKey, plugins: Sequence[type[Plugin]]) -> SightingsWorld:
    return await start_world(tmp_path, key, rooms=EXTRA_ROOMS, plugins=plugins)


@pytest.fixture
async def world(tmp_path: Path, key: DataKey) -> AsyncIterator[SightingsWorld]:
    w = await start(tmp_path, key, [Sightings, Relay, Rosters])
    yield w
    await w.app.stop()


async def report(world: SightingsWorld, text: str) -> tuple[str, str]:
    """(report id, the reporter's event id)."""
    event = await world.write(PILSEN_EN, "ana", text)
    found = REPORT_ID.search(world.in_thread(PILSEN_EN, event)[0])
    assert found
    return found[0], event


async def confirmed_report(world: SightingsWorld, text: str, moderators_room: str = MODS) -> str:
    report_id, _ = await report(world, text)
    await world.say(moderators_room, "rosa", f"!confirm {report_id}")
    await world.settle()
    return report_id


def alerts(world: SightingsWorld, room: str, report_id: str) -> list[str]:
    return [
        s.text
        for s in world.messages(room)
        if s.key is not None
        and s.key.startswith("relay:")
        and ":edit:" not in s.key
        and ":follow:" not in s.key
        and report_id in s.text
    ]


async def test_alert_goes_to_every_room_watching_the_area_once(world: SightingsWorld) -> None:
    report_id = await confirmed_report(world, "!report 18th & Ashland; agents detaining someone")
    for room in (PILSEN_EN, PILSEN_ES, ALERTS, WATCH):
        assert len(alerts(world, room, report_id)) == 1, room
    for room in (VILLITA, ALERTS_LV, MODS, MODS_LV):
        assert not alerts(world, room, report_id), room
    assert "ALERTA CONFIRMADA" in alerts(world, ALERTS, report_id)[0]
    assert "CONFIRMED ALERT" in alerts(world, WATCH, report_id)[0]


async def test_the_alerts_go_before_the_answer_to_the_moderator(world: SightingsWorld) -> None:
    """The homeserver serves the alerts first: the moderator's answer waits for them."""
    report_id, _ = await report(world, "!report 18th & Ashland; agents detaining someone")
    start = len(world.transport.sent)
    await world.say(MODS, "rosa", f"!confirm {report_id}")
    sent = world.transport.sent[start:]
    relayed = [at for at, s in enumerate(sent) if s.key and s.key.startswith("relay:")]
    [answer] = [at for at, s in enumerate(sent) if s.key and s.key.startswith("reply:")]
    assert len(relayed) == 4  # the two neighborhood rooms, the alerts room, the watch room
    assert max(relayed) < answer
    assert report_id in sent[answer].text and sent[answer].room_id == MODS


async def test_reporter_outside_the_area_gets_the_alert_in_their_thread(
    world: SightingsWorld,
) -> None:
    event = await world.write(
        PILSEN_EN, "ana", "!report 26th & Pulaski; checkpoint | area: La Villita"
    )
    report_id = REPORT_ID.search(world.in_thread(PILSEN_EN, event)[0])[0]  # type: ignore[index]
    await world.say(MODS_LV, "rosa", f"!confirm {report_id}")
    await world.settle()
    for room in (VILLITA, ALERTS_LV):
        assert len(alerts(world, room, report_id)) == 1, room
    assert not alerts(world, PILSEN_ES, report_id)
    in_thread = [s for s in world.messages(PILSEN_EN) if s.key and s.key.startswith("relay:")]
    assert len(in_thread) == 1
    assert in_thread[0].message.thread_root == event


async def test_unconfirmed_and_false_alarms_are_never_relayed(world: SightingsWorld) -> None:
    report_id, _ = await report(world, "!report 18th & Ashland; a van parked")
    await world.say(MODS, "rosa", f"!false {report_id} a delivery van")
    await world.settle()
    assert not [s for s in world.transport.sent if s.key and s.key.startswith("relay:")]


async def test_a_change_replayed_after_a_crash_adds_nothing(world: SightingsWorld) -> None:
    report_id = await confirmed_report(world, "!report 18th & Ashland; agents detaining someone")
    relay = world.app.runtime.registry.plugin("relay")
    sightings = world.plugin
    assert isinstance(relay, Relay)
    for change in await sightings.changes_after(0):
        await relay.on_change(change)
    await world.settle()
    assert len(alerts(world, ALERTS, report_id)) == 1


async def test_confirmations_missed_while_the_relay_was_off_are_caught_up(
    tmp_path: Path, key: DataKey
) -> None:
    without_relay = await start(tmp_path, key, [Sightings, Rosters])
    report_id = await confirmed_report(
        without_relay, "!report 18th & Ashland; agents detaining someone"
    )
    await without_relay.app.stop()
    assert not alerts(without_relay, ALERTS, report_id)

    world = await start(tmp_path, key, [Sightings, Relay, Rosters])
    try:
        await world.settle()
        assert len(alerts(world, ALERTS, report_id)) == 1
    finally:
        await world.app.stop()


async def test_an_answer_with_fields_updates_what_the_alert_says(world: SightingsWorld) -> None:
    report_id, event = await report(world, "!report 18th & Ashland; agents detaining someone")
    await world.say(MODS, "rosa", f"!needinfo {report_id} how many vehicles, which way?")
    await world.say(
        PILSEN_EN, "ana", "vehicles: 3 white vans | direction: north | plate: ZZ9", thread=event
    )
    card = world.card_text(world.card_of(report_id).event_id)
    assert "Vehicles: 3 (white vans)" in card and "ZZ9" in card
    await world.say(MODS, "rosa", f"!confirm {report_id}")
    await world.settle()
    [alert] = alerts(world, ALERTS, report_id)  # the Spanish alerts room
    assert "vehículos: 3" in alert and "Dirección: norte" in alert and "ZZ9" not in alert


async def test_a_wrong_field_in_an_answer_is_kept_for_the_moderators(
    world: SightingsWorld,
) -> None:
    report_id, event = await report(world, "!report 18th & Ashland; agents detaining someone")
    await world.say(MODS, "rosa", f"!needinfo {report_id} how many agents?")
    await world.say(PILSEN_EN, "ana", "agents: 400", thread=event)
    # Not read, so not taken, but not lost: the moderators see it and may ask again.
    card = world.card_text(world.card_of(report_id).event_id)
    assert "Agents: unknown" in card and "⚠ Could not read the number of agents: “400”" in card
    await world.say(MODS, "rosa", f"!needinfo {report_id} how many exactly?")
    await world.say(PILSEN_EN, "ana", "agents: 4 | yes: they are still there", thread=event)
    card = world.card_text(world.card_of(report_id).event_id)
    assert card.startswith(f"🟡 {report_id} · NEW") and "Agents: 4" in card
    await world.say(MODS, "rosa", f"!needinfo {report_id} sure?")
    await world.say(PILSEN_EN, "ana", "agents: 5 | agents: 6", thread=event)
    assert world.last(PILSEN_EN) == "The number of agents is given twice. Please give it once."
    assert "Agents: 4" in world.card_text(world.card_of(report_id).event_id)


# --- rumor control ---------------------------------------------------------------------------


def notices(world: SightingsWorld, room: str, report_id: str) -> list[str]:
    return [
        s.text
        for s in world.messages(room)
        if s.key and s.key.startswith("debunk:") and report_id in s.text
    ]


async def test_a_false_alarm_is_debunked_once_in_every_room_of_its_area(
    world: SightingsWorld,
) -> None:
    report_id, _ = await report(
        world, "!report where: 18th & Ashland | what: checkpoint | plate: ABC123"
    )
    await world.say(MODS, "rosa", f"!debunk {report_id}")
    assert world.replies(MODS)[-1] == (
        f"Only a false alarm can be debunked; {report_id} is NEW — UNCONFIRMED."
    )
    await world.say(MODS, "rosa", f"!false {report_id} a film crew")
    await world.say(MODS, "rosa", f"!debunk {report_id} It was a film crew.")
    assert world.replies(MODS)[-1] == f"FALSE ALARM notice for {report_id} sent to 4 rooms."
    await world.settle()
    [english] = notices(world, PILSEN_EN, report_id)
    assert english.startswith(f"❌ FALSE ALARM · Pilsen · {report_id}")
    assert "checkpoint at 18th & Ashland" in english and "It was a film crew." in english
    assert "send !status" in english
    [spanish] = notices(world, ALERTS, report_id)
    assert spanish.startswith(f"❌ FALSA ALARMA · Pilsen · {report_id}")
    for room in (PILSEN_EN, PILSEN_ES, ALERTS, WATCH):
        assert len(notices(world, room, report_id)) == 1
    for room in (VILLITA, ALERTS_LV):
        assert notices(world, room, report_id) == []
    for text in notices(world, PILSEN_EN, report_id) + notices(world, ALERTS, report_id):
        assert "ABC123" not in text and "rosa" not in text.lower()
    await world.say(MODS, "rosa", f"!debunk {report_id}")
    assert world.replies(MODS)[-1] == f"The false alarm notice for {report_id} was already sent."
    await world.say(MODS_LV, "luis", f"!desmentir {report_id}")
    assert world.replies(MODS_LV)[-1] == f"{report_id} no es de un área que esta sala modera."


async def test_an_update_is_one_message_in_the_reporters_room(world: SightingsWorld) -> None:
    report_id, event = await report(world, "!report 18th & Ashland; agents detaining someone")
    await world.say(MODS, "rosa", f"!confirm {report_id}")
    await world.settle()
    before = len(world.messages(PILSEN_EN))
    await world.say(MODS, "luis", f"!update {report_id} moving north on Ashland")
    await world.settle()
    assert world.replies(MODS)[-1] == (
        f"🔄 {report_id}: updated. The card and the alerts show the update."
    )
    new = [s for s in world.messages(PILSEN_EN)[before:] if not s.message.edit_of]
    assert [s.text for s in new] == [f"Update on alert {report_id}: moving north on Ashland"]
    # The confirmation itself keeps its personal notice in the reporter's thread.
    assert any("was CONFIRMED" in text for text in world.in_thread(PILSEN_EN, event))
