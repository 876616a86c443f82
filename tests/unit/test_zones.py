"""Zones from chat: areas added and linked, rooms adopted, created and let go, the network
listed, each applied at once and kept across restarts; bad input changing nothing."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from testkit.alerts import alerted, confirmed
from testkit.networks import (
    CITY_ALERTS,
    EAST_HOOD,
    LOOMIS_HOOD,
    MODS_HOOD,
    MONDAY,
    PILSEN_HOOD,
    WEST_HOOD,
    ZONE_ADMIN,
    ZONES,
)
from testkit.world import World

from bot.api.testing import FakeClock
from bot.core.config import RoomConfig
from bot.core.events import RoomRef
from bot.core.structure import StructureError

LOBBY = "lobby"  # a room the bot is in that the config does not name
ALERT_ROOMS = (CITY_ALERTS, PILSEN_HOOD, EAST_HOOD, WEST_HOOD, LOOMIS_HOOD, LOBBY)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    running = await World(tmp_path, ZONES, clock=FakeClock(MONDAY)).start()
    yield running
    await running.stop()


async def answer(world: World, room: str, text: str, user: str = ZONE_ADMIN) -> str:
    [reply] = [s.text for s in await world.say(room, user, text) if s.room_id == room]
    return reply


def stored(world: World) -> int:
    return len(world.app.bot.structure.shape.areas) + len(world.app.bot.structure.shape.rooms)


async def test_a_zone_added_and_a_room_adopted_serve_at_once_and_after_a_restart(
    world: World,
) -> None:
    added = await answer(world, LOBBY, "!area add pilsen-loomis in pilsen-west Loomis / Loomis")
    assert "Loomis (pilsen-loomis) inside Pilsen West" in added
    adopted = await answer(world, LOBBY, "!room here neighborhood pilsen-loomis es")
    assert adopted == "This room now serves the network: neighborhood · Loomis · es."
    report = await confirmed(world, LOBBY, MODS_HOOD)  # moderated by Pilsen's room, its ancestor
    assert alerted(world, report, ALERT_ROOMS) == [
        CITY_ALERTS,
        PILSEN_HOOD,
        WEST_HOOD,
        LOOMIS_HOOD,
        LOBBY,
    ]
    await world.restart()
    again = await confirmed(world, LOBBY, MODS_HOOD)
    assert alerted(world, again, ALERT_ROOMS) == [
        CITY_ALERTS,
        PILSEN_HOOD,
        WEST_HOOD,
        LOOMIS_HOOD,
        LOBBY,
    ]
    # The room speaks Spanish now.
    assert "(pilsen-loomis · agregada desde el chat)" in await answer(world, LOBBY, "!rooms")


async def test_spanish_commands_and_role_words(world: World) -> None:
    await world.say(LOBBY, ZONE_ADMIN, "!lang es")
    added = await answer(world, LOBBY, "!zona agregar loomis en pilsen-west Loomis / Loomis")
    assert "Agregué el área Loomis (loomis) dentro de Pilsen Oeste" in added
    adopted = await answer(world, LOBBY, "!sala aquí vecindario loomis")
    assert adopted == "Esta sala ahora sirve a la red: vecindario · Loomis."
    changed = await answer(world, LOBBY, "!sala aquí alertas loomis,pilsen en")
    assert changed == (
        "Esta sala ahora sirve como alertas · Loomis, Pilsen · en (antes: vecindario · Loomis)."
    )


async def test_near_areas_from_chat_hear_each_other(world: World) -> None:
    await answer(world, LOBBY, "!area add loomis in pilsen Loomis")
    await answer(world, LOBBY, "!room here neighborhood loomis")
    assert "near each other" in await answer(world, LOBBY, "!area near loomis pilsen-east")
    report = await confirmed(world, EAST_HOOD, "mods-east")
    assert LOBBY in alerted(world, report, ALERT_ROOMS)
    other = await confirmed(world, LOBBY, MODS_HOOD)
    assert EAST_HOOD in alerted(world, other, ALERT_ROOMS)
    assert "already" in await answer(world, LOBBY, "!area near pilsen-east loomis")


@pytest.mark.parametrize(
    ("command", "expected"),
    [
        ("!area add pilsen Pilsen", "The area pilsen exists already: nothing changed."),
        ("!area add Loomis_St Loomis", "“loomis_st” cannot be an area's short name"),
        (
            "!area add loomis in pilsn Loomis",
            "I do not know the area “pilsn”. Did you mean: pilsen",
        ),
        ("!area add loomis", "Area loomis needs a name"),
        ("!area grow loomis", "Usage: !area add SLUG"),
        ("!area near pilsen pilsen", "An area cannot be near itself"),
        ("!area drop pilsen", "The area pilsen is in the config file"),
        ("!room here neighbourhood pilsen", "“neighbourhood” is not a room role. The roles: "),
        ("!room here neighborhood pilsen fr", "“fr” is not a language I speak"),
        ("!room here neighborhood", "Usage: !room here ROLE AREA"),
        ("!room here neighborhood pilsen-wst", "Did you mean: pilsen-west"),
        ("!room drop", "This room is not part of the network."),
    ],
)
async def test_bad_input_changes_nothing_and_says_why(
    world: World, command: str, expected: str
) -> None:
    before = world.app.bot.settings
    assert expected in await answer(world, LOBBY, command)
    assert world.app.bot.settings is before and stored(world) == 0


async def test_only_admins_change_the_network(world: World) -> None:
    refused = await answer(world, PILSEN_HOOD, "!area add loomis Loomis", user="ana")
    assert "!area" in refused and "Loomis" not in refused
    assert stored(world) == 0


async def test_config_rooms_and_direct_chats_are_not_adopted(world: World) -> None:
    assert "in the config file" in await answer(world, WEST_HOOD, "!room here alerts pilsen")
    assert "in the config file" in await answer(world, WEST_HOOD, "!room drop")
    [direct] = [
        s.text
        for s in await world.say("dm-ada", ZONE_ADMIN, "!room here alerts pilsen", direct=True)
    ]
    assert "not in a direct chat" in direct
    assert stored(world) == 0


async def test_an_area_in_use_is_not_dropped_and_its_users_are_named(world: World) -> None:
    await answer(world, LOBBY, "!area add loomis in pilsen Loomis")
    await answer(world, LOBBY, "!area add loomis-north in loomis Loomis North")
    await answer(world, LOBBY, "!room here neighborhood loomis")
    refused = await answer(world, LOBBY, "!area drop loomis")
    assert "area loomis-north" in refused and "room lobby (neighborhood)" in refused
    await answer(world, LOBBY, "!area drop loomis-north")
    await answer(world, LOBBY, "!room drop")
    assert await answer(world, LOBBY, "!area drop loomis") == "Removed the area loomis."
    await world.restart()
    assert world.app.bot.settings.area("loomis") is None
    assert world.app.bot.room_config(RoomRef("console", LOBBY)) is None


async def test_a_watch_site_keeps_its_area(world: World) -> None:
    await answer(world, LOBBY, "!area add loomis in pilsen Loomis")
    await answer(world, LOBBY, "!room here watch loomis")
    await world.say(
        LOBBY, ZONE_ADMIN, "!site add whittier loomis America/Chicago Whittier Elementary"
    )
    refused = await answer(world, LOBBY, "!area drop loomis")
    assert "site Whittier Elementary" in refused


async def test_a_new_room_is_created_adopted_and_the_admin_invited(world: World) -> None:
    await answer(world, LOBBY, "!area add loomis in pilsen-west Loomis")
    created = await answer(world, LOBBY, "!room new neighborhood loomis Loomis vecinos")
    assert (
        created
        == "Created the encrypted room “Loomis vecinos” (neighborhood · Loomis) and invited you."
    )
    [(room_id, name)] = world.transport.created.items()
    assert name == "Loomis vecinos" and (room_id, ZONE_ADMIN) in world.transport.invited
    assert world.app.bot.room_config(RoomRef("console", room_id)) is not None


async def test_the_listing_shows_the_tree_and_marks_what_came_from_chat(world: World) -> None:
    await answer(world, LOBBY, "!area add loomis in pilsen-west Loomis")
    await answer(world, LOBBY, "!room here alerts loomis")
    listing = await answer(world, LOBBY, "!rooms")
    assert listing.splitlines()[:6] == [
        "Areas (5)",
        "• Chicago (chicago)",
        "  • Pilsen (pilsen)",
        "    • Pilsen East (pilsen-east · near pilsen-west)",
        "    • Pilsen West (pilsen-west)",
        "      • Loomis (loomis · added from chat)",
    ]
    assert "• “lobby” · Loomis · added from chat · console" in listing
    assert f"• “{LOOMIS_HOOD}” · Pilsen West · es · console" in listing


async def test_the_structure_refuses_a_change_that_breaks_the_network(world: World) -> None:
    structure = world.app.bot.structure
    bad = RoomConfig(id="x", transport="console", role="neighborhood", areas=("nowhere",))
    with pytest.raises(StructureError, match='unknown area "nowhere"'):
        await structure.adopt(bad)
    assert stored(world) == 0
    rows = await world.app.bot.db.fetchall("SELECT * FROM structure")
    assert rows == []


async def test_what_is_stored_names_nothing(world: World) -> None:
    await answer(world, LOBBY, "!area add loomis-secreto in pilsen Loomis Secreto")
    await answer(world, LOBBY, "!room here neighborhood loomis-secreto")
    rows = await world.app.bot.db.fetchall("SELECT key, kind, body FROM structure")
    dump = b"".join(bytes(row["body"]) + row["key"].encode() for row in rows)
    assert len(rows) == 2 and b"secreto" not in dump.lower() and b"lobby" not in dump
