"""Mutual aid: requests by direct chat posted to the area's aid rooms without a name,
offers the person who asked accepts or declines, introductions by direct message only,
standing offers with a head start, timers on a controllable clock, a legal team's case
needs through `Aid`, and `!forgetme`."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime
from pathlib import Path

import pytest

from bot.api.testing import FakeClock, PluginWorld, Sent
from plugins.aid import Aid, AidChange, AidPlugin

# A Sunday.
SUNDAY = datetime(2026, 3, 8, 15, 0, tzinfo=UTC)
AID_ROOM, AID_ES, HOOD, VILLITA_HOOD = "aid-pilsen", "aid-villita", "hood-east", "hood-villita"
ANA_DM, BETO_DM, CARA_DM = "dm-ana", "dm-beto", "dm-cara"
ANA, BETO, CARA = "@ana:example.org", "@beto:example.org", "@cara:example.org"
ID = re.compile(r"\bA[2-9A-HJ-NP-TV-Z]{3,4}\b")

CONFIG = """
[bot]
data_dir = "{data}"

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"

[[areas]]
slug = "pilsen-east"
name_en = "Pilsen East"
name_es = "Pilsen Este"
parent = "pilsen"

[[areas]]
slug = "la-villita"
name_en = "Little Village"
name_es = "La Villita"

[[areas]]
slug = "loop"
name_en = "Loop"
name_es = "Loop"

[[rooms]]
id = "hood-east"
transport = "console"
role = "neighborhood"
areas = ["pilsen-east"]

[[rooms]]
id = "hood-villita"
transport = "console"
role = "neighborhood"
areas = ["la-villita"]
language = "es"

[[rooms]]
id = "aid-pilsen"
transport = "console"
role = "aid"
areas = ["pilsen"]

[[rooms]]
id = "aid-villita"
transport = "console"
role = "aid"
areas = ["la-villita"]
language = "es"
"""


def world_for(tmp_path: Path) -> PluginWorld:
    world = PluginWorld(tmp_path, plugins=[AidPlugin], config=CONFIG, clock=FakeClock(SUNDAY))
    people = world.transport.people
    people[HOOD] = {ANA}
    people[VILLITA_HOOD] = {CARA}
    people[AID_ROOM] = {BETO}
    people[AID_ES] = {BETO}
    for room, user in ((ANA_DM, ANA), (BETO_DM, BETO), (CARA_DM, CARA)):
        people[room] = {user}
    return world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[PluginWorld]:
    running = await world_for(tmp_path).start()
    yield running
    await running.stop()


async def dm(world: PluginWorld, room: str, user: str, text: str) -> list[str]:
    return [s.text for s in await world.say(room, user, text, direct=True) if s.room_id == room]


async def answer(world: PluginWorld, room: str, user: str, text: str) -> str:
    """The bot's one answer to what `user` wrote in a room."""
    sent = await world.say(room, user, text)
    [reply] = [s.text for s in sent if s.room_id == room and s.key and s.key.startswith("reply:")]
    return reply


def cards(world: PluginWorld, room: str = AID_ROOM) -> list[Sent]:
    return [s for s in world.messages(room) if s.key and s.key.startswith("aid:")]


async def test_a_case_need_is_posted_taken_at_once_and_the_legal_side_hears(
    world: PluginWorld,
) -> None:
    aid = world.bot.service(Aid)
    heard: list[AidChange] = []

    async def listen(change: AidChange) -> None:
        heard.append(change)

    aid.on_change(listen)
    request_id = await aid.file_for_case("childcare", "pilsen-east", "two kids after school")
    await world.settle()
    [card] = cards(world)
    assert request_id in card.text and "childcare" in card.text and "Pilsen East" in card.text
    assert "two kids after school" in card.text
    reply = await answer(world, AID_ROOM, BETO, f"!give {request_id}")
    assert reply.startswith(f"Thank you, {request_id} is yours")
    assert heard == [AidChange(request_id, "taken")]
    assert world.shown(card).endswith("✅ Taken: someone is helping.")
    await world.say(AID_ROOM, BETO, f"!done {request_id.lower()}")
    assert heard[-1] == AidChange(request_id, "done")
    with pytest.raises(ValueError, match="groceries, ride"):
        await aid.file_for_case("rent", "pilsen")
