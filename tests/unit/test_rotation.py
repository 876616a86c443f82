"""Rotating a room: the successor gets its members (minus those left out), role, areas and
language; alerts, open alerts' changes and sites follow it; what was queued for the old
room is delivered there before the bot leaves; a crash at any step leaves exactly one of
the two serving; rotation every `rotate_days`; and the size watch."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from testkit.alerts import alerts_in, confirmed
from testkit.networks import (
    LOOMIS_HOOD,
    MODS_CITY,
    MODS_HOOD,
    MONDAY,
    ZONE_ADMIN,
    ZONE_COORDINATOR,
    ZONES,
)
from testkit.world import World

from bot.api.testing import FakeClock, FakeTransport
from bot.core.events import OutgoingMessage, RoomRef
from bot.core.formatting import plain_message
from bot.core.outbox import Delivery
from bot.core.structure import Structure
from plugins.rosters import Rosters
from plugins.zones import ZonesPlugin

PEOPLE = {"ana", "beto", ZONE_COORDINATOR}
OLD = RoomRef("console", LOOMIS_HOOD)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    running = World(tmp_path, ZONES, clock=FakeClock(MONDAY))
    running.transport.people[LOOMIS_HOOD] = set(PEOPLE)
    running.transport.may_replace.add(LOOMIS_HOOD)
    await running.start()
    yield running
    await running.stop()


async def rotation_runs(world: World) -> None:
    """The scheduler runs the rotation the command asked for."""
    await world.advance(timedelta(seconds=1))


def successor(world: World) -> str:
    [room_id] = world.transport.created
    return room_id


def serving(world: World) -> list[str]:
    """Which of the old room and its successors the network has now."""
    return [
        room.id
        for room in world.app.bot.settings.rooms
        if room.id == LOOMIS_HOOD or room.id in world.transport.created
    ]


async def test_a_rotation_moves_the_members_and_the_alerts_but_not_those_left_out(
    world: World,
) -> None:
    [reply] = [s.text for s in await world.say(LOOMIS_HOOD, ZONE_ADMIN, "!rotate without beto")]
    assert reply.startswith("Creando la sala nueva")
    assert world.transport.created == {}  # the rotation runs as a job, not in the command
    await rotation_runs(world)
    new = successor(world)
    assert world.transport.created[new] == LOOMIS_HOOD  # the old room's name
    assert sorted(user for room, user in world.transport.invited if room == new) == [
        "ana",
        ZONE_COORDINATOR,
    ]
    assert serving(world) == [new]
    config = world.app.bot.room_config(RoomRef("console", new))
    assert config is not None
    assert (config.role, config.areas, config.language, config.coordinators) == (
        "neighborhood",
        ("pilsen-west",),
        "es",
        (ZONE_COORDINATOR,),
    )
    assert "Esta sala se mudó a" in world.last(LOOMIS_HOOD)
    assert world.transport.replaced == {LOOMIS_HOOD: new}
    assert world.transport.left == [LOOMIS_HOOD]
    assert "reemplaza" in world.texts(new)[0]
    report = await confirmed(world, "west-hood", MODS_HOOD)
    assert alerts_in(world, new, report) != [] and alerts_in(world, LOOMIS_HOOD, report) == []
    await world.restart()
    assert serving(world) == [new]


async def test_an_open_alert_is_posted_whole_in_the_successor_at_its_next_change(
    world: World,
) -> None:
    report = await confirmed(world, "west-hood", MODS_HOOD)
    [original] = [s for s in world.messages(LOOMIS_HOOD) if s.key and s.key.startswith("relay:")]
    await world.say(LOOMIS_HOOD, ZONE_ADMIN, "!rotate")
    await rotation_runs(world)
    new = successor(world)
    await world.say(MODS_HOOD, "rosa", f"!clear {report}")
    await world.settle()
    moved = [s for s in world.messages(new) if s.key and s.key.startswith("relay:")]
    assert moved and moved[0].message.edit_of is None and report in moved[0].text
    assert [s for s in world.messages(LOOMIS_HOOD) if s.message.edit_of == original.event_id] == []


async def test_coordinators_may_rotate_and_neighbors_may_not(world: World) -> None:
    [refused] = [s.text for s in await world.say(LOOMIS_HOOD, "ana", "!rotar")]
    assert "coordinadores" in refused and world.transport.created == {}
    await world.say(LOOMIS_HOOD, ZONE_COORDINATOR, "!rotar")
    await rotation_runs(world)
    assert serving(world) == [successor(world)]
    [usage] = [s.text for s in await world.say("west-hood", ZONE_ADMIN, "!rotate beto")]
    assert usage.startswith("Usage: !rotate")
    [unknown] = [s.text for s in await world.say("west-hood", ZONE_ADMIN, "!rotate without zoe")]
    assert unknown.startswith("Not in this room, so nothing changed: zoe.")


class HeldTransport(FakeTransport):
    """Holds sends to one room until released: a homeserver slow to take them."""

    def __init__(self, clock: FakeClock) -> None:
        super().__init__(clock)
        self.hold: str | None = None
        self.release = asyncio.Event()

    async def send(self, room_id: str, message: OutgoingMessage, *, key: str | None = None) -> str:
        if room_id == self.hold and key == "queued":
            await self.release.wait()
        return await super().send(room_id, message, key=key)


async def test_what_was_queued_for_the_old_room_is_delivered_there_before_leaving(
    tmp_path: Path,
) -> None:
    clock = FakeClock(MONDAY)
    world = World(tmp_path, ZONES, clock=clock)
    world.transport = HeldTransport(clock)
    world.transport.people[LOOMIS_HOOD] = set(PEOPLE)
    await world.start()
    try:
        await world.say(LOOMIS_HOOD, ZONE_ADMIN, "!rotate")
        world.transport.hold = LOOMIS_HOOD
        await world.app.bot.outbox.enqueue([Delivery("queued", OLD, plain_message("queued"))])
        rotating = asyncio.create_task(rotation_runs(world))
        await asyncio.sleep(0.2)
        assert world.transport.left == [] and serving(world) == [successor(world)]
        world.transport.release.set()
        await rotating
        texts = world.texts(LOOMIS_HOOD)
        assert texts.index("queued") < len(texts) - 1  # then the moved notice, then left
        assert world.transport.left == [LOOMIS_HOOD]
    finally:
        await world.stop()


async def test_a_crash_after_the_successor_exists_is_finished_at_the_next_start(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(*args: object) -> None:
        raise SystemExit("killed")

    monkeypatch.setattr(Structure, "replace_room", crash)
    with pytest.raises(SystemExit):
        await _rotate(world)
    assert serving(world) == [LOOMIS_HOOD]  # not switched: the old room still serves
    monkeypatch.undo()
    await world.restart()
    await world.advance(timedelta(seconds=1))  # the resume job
    assert serving(world) == [successor(world)]
    assert world.transport.left == [LOOMIS_HOOD]


async def test_a_crash_before_the_successor_exists_leaves_the_old_room(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def crash(*args: object, **kwargs: object) -> str:
        raise SystemExit("killed")

    monkeypatch.setattr(world.transport, "create_room", crash)
    with pytest.raises(SystemExit):
        await _rotate(world)
    monkeypatch.undo()
    await world.restart()
    await world.advance(timedelta(seconds=1))
    assert serving(world) == [LOOMIS_HOOD] and world.transport.left == []
    assert await world.app.bot.db.fetchall("SELECT * FROM zone_rotations") == []


async def test_a_network_refusing_the_new_room_changes_nothing_and_says_so(
    world: World, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def refuse(*args: object, **kwargs: object) -> str:
        raise RuntimeError("M_FORBIDDEN")

    monkeypatch.setattr(world.transport, "create_room", refuse)
    await world.say(LOOMIS_HOOD, ZONE_ADMIN, "!rotar")
    await rotation_runs(world)
    assert world.last(LOOMIS_HOOD).startswith("La red no quiso crear la sala nueva")
    assert serving(world) == [LOOMIS_HOOD] and world.transport.left == []
    assert await world.app.bot.db.fetchall("SELECT * FROM zone_rotations") == []


async def _rotate(world: World) -> None:
    zones = next(p for p in world.app.plugins if isinstance(p, ZonesPlugin))
    await zones.rotations.rotate(OLD, [])


async def test_a_site_follows_its_room(world: World) -> None:
    await world.say(
        LOOMIS_HOOD, ZONE_ADMIN, "!room here watch pilsen-west"
    )  # in the config: refused
    await world.say("lobby", ZONE_ADMIN, "!room here watch pilsen-west")
    await world.say("lobby", ZONE_ADMIN, "!site add whittier pilsen-west America/Chicago Whittier")
    world.transport.people["lobby"] = {"ana"}
    await world.say("lobby", ZONE_ADMIN, "!rotate")
    await rotation_runs(world)
    new = successor(world)
    rosters = next(p for p in world.app.plugins if isinstance(p, Rosters))
    site = rosters.sites.get("whittier")
    assert site is not None and site.room == RoomRef("console", new)
    await world.restart()
    rosters = next(p for p in world.app.plugins if isinstance(p, Rosters))
    site = rosters.sites.get("whittier")
    assert site is not None and site.room == RoomRef("console", new)


async def test_a_room_rotates_every_rotate_days_once_and_is_told_the_day_before(
    tmp_path: Path,
) -> None:
    world = World(tmp_path, ZONES, clock=FakeClock(MONDAY), config={"room": "rotate_days = 30"})
    world.transport.people[LOOMIS_HOOD] = set(PEOPLE)
    await world.start()
    try:
        await world.advance(timedelta(days=28, hours=23))
        assert world.transport.created == {}
        assert not any("Mañana" in text for text in world.texts(LOOMIS_HOOD))
        await world.advance(timedelta(hours=2))
        assert "Mañana esta sala se muda" in world.last(LOOMIS_HOOD)
        # Down across the due moment: rotated once at the next start.
        await world.restart(down_until=MONDAY + timedelta(days=31))
        await world.advance(timedelta(seconds=1))
        new = successor(world)
        assert serving(world) == [new]
        await world.restart()
        await world.advance(timedelta(days=1))
        assert list(world.transport.created) == [new]  # once per period
        await world.advance(timedelta(days=30))
        assert len(world.transport.created) == 2  # the successor's own period
    finally:
        await world.stop()


async def test_the_admins_hear_once_of_a_room_nearing_its_size(tmp_path: Path) -> None:
    world = World(tmp_path, ZONES, clock=FakeClock(MONDAY), config={"room": "size_warning = 3"})
    world.transport.people[LOOMIS_HOOD] = {"ana", "beto"}
    await world.start()
    try:
        assert await world.tick(MONDAY + timedelta(hours=1)) == []
        world.transport.people[LOOMIS_HOOD].add("carla")
        [warning] = await world.tick(MONDAY + timedelta(hours=2))
        assert warning.room_id == MODS_HOOD and warning.mentions == (ZONE_ADMIN,)
        assert warning.text.startswith(f"“{LOOMIS_HOOD}” has 3 members.")
        assert await world.tick(MONDAY + timedelta(hours=3)) == []
        world.transport.people[LOOMIS_HOOD].discard("carla")
        await world.tick(MONDAY + timedelta(hours=4))
        world.transport.people[LOOMIS_HOOD].add("carla")
        assert len(await world.tick(MONDAY + timedelta(hours=5))) == 1
        assert MODS_CITY not in [s.room_id for s in world.transport.sent]
    finally:
        await world.stop()
