"""Subscriptions: alerts by direct message for the areas a person follows (nested as rooms
are), in their language, with updates; who may subscribe (members, vouched with a one-time
code, anyone); counts for admins and never names; erased on `!unsubscribe all` and
`!forgetme`; nothing in the data directory names a subscriber."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from testkit.alerts import KEYED, alerts_in, confirmed
from testkit.networks import (
    EAST_HOOD,
    LOOMIS_HOOD,
    MODS_EAST,
    MODS_HOOD,
    MONDAY,
    WEST_HOOD,
    ZONE_ADMIN,
    ZONES,
)
from testkit.world import World

from bot.api.testing import FakeClock
from plugins.subscriptions import SubscriptionsPlugin

ANA_DM, NEWCOMER_DM, ADMIN_DM = "dm-ana", "dm-nico", "dm-ada"
CODE = re.compile(r"\b[2-9A-HJKMNP-Z]{8}\b")


def world_for(tmp_path: Path, who: str = "members") -> World:
    section = f'\n[subscriptions]\nwho = "{who}"\n'
    world = World(
        tmp_path,
        ZONES,
        clock=FakeClock(MONDAY),
        plugins=(*ZONES.plugins, SubscriptionsPlugin),
        config={"room": section},
    )
    world.transport.people[WEST_HOOD] = {"ana"}
    return world


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    running = await world_for(tmp_path).start()
    yield running
    await running.stop()


async def dm(world: World, room: str, user: str, text: str) -> str:
    world.transport.people.setdefault(room, set()).add(user)  # their direct chat
    [reply] = [s.text for s in await world.say(room, user, text, direct=True) if s.room_id == room]
    return reply


async def test_in_a_room_the_commands_point_to_a_direct_chat(world: World) -> None:
    [reply] = [s.text for s in await world.say(WEST_HOOD, "ana", "!subscribe pilsen-west")]
    assert reply.startswith("Subscriptions live in a direct chat")
    assert await world.bot.db.fetchall("SELECT * FROM subscribers") == []


async def test_a_subscriber_gets_the_alerts_that_reach_their_area_and_their_changes(
    world: World,
) -> None:
    reply = await dm(world, ANA_DM, "ana", "!subscribe pilsen-east")
    assert reply.startswith("Subscribed: you will get the confirmed alerts of Pilsen East")
    west = await confirmed(world, WEST_HOOD, MODS_HOOD, reporter="beto")
    assert alerts_in(world, ANA_DM, west) == []  # West's alert reaches Pilsen and up, not East
    east = await confirmed(world, EAST_HOOD, MODS_EAST, reporter="beto")
    [alert] = alerts_in(world, ANA_DM, east)
    assert "18th & Ashland" in alert
    [sent] = [s for s in world.messages(ANA_DM) if s.key and s.key.startswith("relay:")]
    assert sent.mentions == () and not sent.message.mention_room
    await world.say(MODS_EAST, "rosa", f"!clear {east}")
    await world.settle()
    edits = [s for s in world.messages(ANA_DM) if s.message.edit_of == sent.event_id]
    assert edits, "the update edits the subscriber's copy"


async def test_alerts_come_in_the_subscribers_language(world: World) -> None:
    await dm(world, ANA_DM, "ana", "!lang es")
    await dm(world, ANA_DM, "ana", "!suscribir pilsen-east")
    east = await confirmed(world, EAST_HOOD, MODS_EAST, reporter="beto")
    [alert] = alerts_in(world, ANA_DM, east)
    assert "ALERTA" in alert or "CONFIRMAD" in alert.upper()


async def test_an_unknown_area_gets_the_nearest_names(world: World) -> None:
    reply = await dm(world, ANA_DM, "ana", "!subscribe pilsen-wst")
    assert (
        reply
        == "I do not know the area “pilsen-wst”. Did you mean: pilsen-west, pilsen-east, pilsen?"
    )
    assert await world.bot.db.fetchall("SELECT * FROM subscribers") == []


async def test_unsubscribing_all_stops_the_alerts_and_erases_the_subscriber(world: World) -> None:
    await dm(world, ANA_DM, "ana", "!subscribe pilsen-east pilsen")
    assert await dm(world, ANA_DM, "ana", "!unsubscribe pilsen") == (
        "No more alerts of Pilsen. Still subscribed: Pilsen East."
    )
    assert (await dm(world, ANA_DM, "ana", "!unsubscribe all")).startswith("Done")
    assert await world.bot.db.fetchall("SELECT * FROM subscribers") == []
    east = await confirmed(world, EAST_HOOD, MODS_EAST, reporter="beto")
    assert alerts_in(world, ANA_DM, east) == []


async def test_forgetme_erases_the_subscription(world: World) -> None:
    await dm(world, ANA_DM, "ana", "!subscribe pilsen-east")
    await dm(world, ANA_DM, "ana", "!forgetme")
    answer = await dm(world, ANA_DM, "ana", "!forgetme yes")
    assert "Your subscriptions are erased." in answer
    assert await world.bot.db.fetchall("SELECT * FROM subscribers") == []


async def test_admins_see_counts_never_names(world: World) -> None:
    await dm(world, ANA_DM, "ana", "!subscribe pilsen-east pilsen")
    counts = await dm(world, ADMIN_DM, ZONE_ADMIN, "!subscriptions count")
    assert counts.splitlines()[1:] == ["pilsen: 1 subscriber", "pilsen-east: 1 subscriber"]
    assert "ana" not in counts
    refused = await dm(world, ANA_DM, "ana", "!subscriptions count")
    assert refused.startswith("Only admins")


async def test_with_members_a_stranger_gets_no_answer(world: World) -> None:
    sent = await world.say(NEWCOMER_DM, "nico", "!subscribe pilsen", direct=True)
    assert sent == []
    assert await world.bot.db.fetchall("SELECT * FROM subscribers") == []


async def test_a_vouched_newcomer_gets_in_once_with_a_code(tmp_path: Path) -> None:
    world = await world_for(tmp_path, "vouched").start()
    try:
        assert (await dm(world, NEWCOMER_DM, "nico", "hola")).startswith("This is an alert line")
        refused = await dm(world, NEWCOMER_DM, "nico", "!subscribe pilsen")
        assert refused.startswith("You need a code from a member first")
        code_reply = await dm(world, ANA_DM, "ana", "!vouch")
        match = CODE.search(code_reply)
        assert match and "valid 48 hours" in code_reply
        assert (await dm(world, NEWCOMER_DM, "nico", "!join WRONG123")).startswith(
            "That code is not"
        )
        assert (await dm(world, NEWCOMER_DM, "nico", f"!join {match[0]}")).startswith("You are in")
        assert (await dm(world, NEWCOMER_DM, "nico", "!subscribe pilsen-east")).startswith(
            "Subscribed"
        )
        again = await dm(world, "dm-otto", "otto", f"!join {match[0]}")
        assert again.startswith("That code was used already")
        east = await confirmed(world, EAST_HOOD, MODS_EAST, reporter="beto")
        assert alerts_in(world, NEWCOMER_DM, east) != []
        revoked = await dm(world, ADMIN_DM, ZONE_ADMIN, "!revoke-vouched ana")
        assert revoked == "Removed 1 subscriber vouched for by ana."
        assert await world.bot.db.fetchall("SELECT * FROM subscribers") == []
    finally:
        await world.stop()


async def test_a_code_expires(tmp_path: Path) -> None:
    world = await world_for(tmp_path, "vouched").start()
    try:
        match = CODE.search(await dm(world, ANA_DM, "ana", "!vouch"))
        assert match
        await world.advance(timedelta(hours=48, minutes=1))
        assert (await dm(world, NEWCOMER_DM, "nico", f"!join {match[0]}")).startswith(
            "That code has expired"
        )
    finally:
        await world.stop()


async def test_with_anyone_a_stranger_is_told_how_and_may_subscribe(tmp_path: Path) -> None:
    world = await world_for(tmp_path, "anyone").start()
    try:
        welcome = await dm(world, NEWCOMER_DM, "nico", "hello?")
        assert welcome.startswith("This is an alert line: send !subscribe AREA")
        assert (await dm(world, NEWCOMER_DM, "nico", "!subscribe pilsen-east")).startswith(
            "Subscribed"
        )
        refused = [s.text for s in await world.say(NEWCOMER_DM, "nico", KEYED, direct=True)]
        assert refused and "Pilsen" not in refused[0]  # a stranger cannot report
    finally:
        await world.stop()


async def test_the_data_directory_names_no_subscriber(world: World) -> None:
    world.transport.people[WEST_HOOD].add("ana-secreta")
    await dm(world, ANA_DM, "ana-secreta", "!subscribe pilsen-east")
    await world.stop()
    raw = world.raw_bytes()
    assert b"ana-secreta" not in raw and ANA_DM.encode() not in raw
    await world.start()


async def test_the_alerts_own_area_is_served_first(world: World) -> None:
    world.transport.people[WEST_HOOD].add("carla")
    await dm(world, "dm-city", "carla", "!subscribe chicago")
    await dm(world, ANA_DM, "ana", "!subscribe pilsen-east")
    targets = [t.room.room_id for t in await world.bot.broadcasts.reach("alerts", "pilsen-east")]
    assert targets[:2] == [EAST_HOOD, ANA_DM]  # the zone's room and subscriber
    assert set(targets[2:]) == {"city-alerts", "pilsen-hood", WEST_HOOD, LOOMIS_HOOD, "dm-city"}


async def test_a_subscriber_who_left_their_chat_is_dropped_and_counted(world: World) -> None:
    await dm(world, ANA_DM, "ana", "!subscribe pilsen-east")
    world.transport.people[ANA_DM].discard("ana")
    for _ in range(3):
        east = await confirmed(world, EAST_HOOD, MODS_EAST, reporter="beto")
        assert alerts_in(world, ANA_DM, east) == []
    assert await world.bot.db.fetchall("SELECT * FROM subscribers") == []
    counts = await dm(world, ADMIN_DM, ZONE_ADMIN, "!subscriptions count")
    assert (
        "Dropped, no longer reachable (left the chat or blocked the bot): 1 subscriber." in counts
    )


async def test_a_chat_the_network_refuses_for_good_drops_its_subscriber(world: World) -> None:
    class Blocked(Exception):
        permanent = True

    await dm(world, ANA_DM, "ana", "!subscribe pilsen-east")
    send = world.transport.send

    async def refuse(room_id: str, message: object, *, key: str | None = None) -> str:
        if room_id == ANA_DM:
            raise Blocked("M_FORBIDDEN")
        return await send(room_id, message, key=key)  # type: ignore[arg-type]

    world.transport.send = refuse  # type: ignore[method-assign]
    for _ in range(3):
        await confirmed(world, EAST_HOOD, MODS_EAST, reporter="beto")
    assert await world.bot.db.fetchall("SELECT * FROM subscribers") == []
