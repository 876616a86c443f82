"""Nested areas: `parent` and `near` in the config, how far an alert of an area reaches,
who moderates and who is called for an area without rooms of its own, and a dispatch call
going up the tree when nobody answers."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from testkit.alerts import alerted, filed
from testkit.config import load_settings
from testkit.networks import (
    CITY_ALERTS,
    DISPATCH_CITY,
    DISPATCH_HOOD,
    DISPATCH_WEST,
    EAST_HOOD,
    MODS_CITY,
    MODS_EAST,
    MODS_HOOD,
    MONDAY,
    PILSEN_HOOD,
    TREE,
    WEST_HOOD,
)
from testkit.world import World

from bot.api.testing import FakeClock
from bot.core.config import ConfigError
from plugins.dispatch import Dispatch

ALERT_ROOMS = (CITY_ALERTS, PILSEN_HOOD, EAST_HOOD, WEST_HOOD)


def areas(*tables: str) -> str:
    return "".join(f'\n[[areas]]\nname_en = "X"\nname_es = "X"\n{table}\n' for table in tables)


def config_error(tmp_path: Path, text: str) -> str:
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ConfigError) as caught:
        load_settings(path, env={})
    return str(caught.value).replace(f"{path}: ", "")


# --- config --------------------------------------------------------------------------------


def test_an_unknown_parent_or_near_area_is_named(tmp_path: Path) -> None:
    text = areas('slug = "city"', 'slug = "zone"\nparent = "cty"\nnear = ["city", "nowhere"]')
    assert config_error(tmp_path, text) == (
        'areas[1].parent: unknown area "cty": did you mean city? (known: city, zone)\n'
        'areas[1].near: unknown area "nowhere" (known: city, zone)'
    )


def test_a_cycle_of_parents_is_one_line_naming_it(tmp_path: Path) -> None:
    text = areas(
        'slug = "top"',
        'slug = "a"\nparent = "c"',
        'slug = "b"\nparent = "a"',
        'slug = "c"\nparent = "b"',
        'slug = "self"\nparent = "self"',
    )
    assert config_error(tmp_path, text) == (
        "areas[1].parent: cycle of parents: a > c > b > a\n"
        "areas[4].parent: cycle of parents: self > self"
    )


def test_the_reach_of_an_area(tmp_path: Path) -> None:
    settings = World(tmp_path, TREE).settings(env={})
    assert settings.alert_areas("pilsen-west") == {"pilsen-west", "pilsen", "chicago"}
    assert settings.alert_areas("pilsen-east") == {
        "pilsen-east",
        "pilsen",
        "chicago",
        "pilsen-west",  # near
    }
    assert settings.alert_areas("pilsen") == {"pilsen", "chicago", "pilsen-east", "pilsen-west"}
    assert settings.alert_areas("chicago") == {"chicago", "pilsen", "pilsen-east", "pilsen-west"}
    assert settings.ancestors("pilsen-east") == ("pilsen", "chicago")
    # Own rooms first, else the nearest ancestor's; then the next ones up.
    assert settings.serving_areas("moderation", "pilsen-west") == ["pilsen", "chicago"]
    assert settings.serving_areas("moderation", "pilsen-east") == [
        "pilsen-east",
        "pilsen",
        "chicago",
    ]
    assert [r.id for r in settings.serving_rooms("dispatch", "pilsen-east")] == [DISPATCH_HOOD]
    assert [r.id for r in settings.serving_rooms("dispatch", "pilsen-east", 1)] == [DISPATCH_CITY]
    assert settings.serving_rooms("dispatch", "pilsen-east", 2) == []
    assert settings.warnings() == [
        "no admins: nobody can !trust a changed identity or add "
        "watch sites; add admins = [...] at the top of the config"
    ]


def test_a_flat_network_is_unchanged(tmp_path: Path) -> None:
    text = areas('slug = "pilsen"', 'slug = "villita"')
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    settings = load_settings(path, env={})
    assert settings.alert_areas("pilsen") == {"pilsen"}
    assert settings.ancestors("pilsen") == ()
    assert settings.alert_areas("unknown") == {"unknown"}


# --- in the running bot --------------------------------------------------------------------


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    running = await World(tmp_path, TREE, clock=FakeClock(MONDAY)).start()
    yield running
    await running.stop()


def cards(world: World, report_id: str) -> list[str]:
    return [s.room_id for s in world.cards() if report_id in s.text]


def calls(world: World, room: str, report_id: str) -> list[str]:
    """Calls of the report posted in `room` (not follow-ups nor edits)."""
    return [
        s.key
        for s in world.messages(room)
        if s.key
        and s.key.startswith(f"dispatch:{report_id}:")
        and ":follow:" not in s.key
        and ":edit:" not in s.key
    ]


async def test_a_zone_alert_reaches_its_ancestors_not_a_sibling_unless_near(
    world: World,
) -> None:
    west = await filed(world, WEST_HOOD)
    await world.say(MODS_HOOD, "rosa", f"!confirm {west}")
    await world.settle()
    assert alerted(world, west, ALERT_ROOMS) == [CITY_ALERTS, PILSEN_HOOD, WEST_HOOD]
    east = await filed(world, EAST_HOOD)
    await world.say(MODS_EAST, "rosa", f"!confirm {east}")
    await world.settle()
    assert alerted(world, east, ALERT_ROOMS) == [CITY_ALERTS, PILSEN_HOOD, EAST_HOOD, WEST_HOOD]


async def test_status_of_the_city_covers_its_zones(world: World) -> None:
    west = await filed(world, WEST_HOOD)
    await world.say(MODS_HOOD, "rosa", f"!confirm {west}")
    [answer] = [s.text for s in await world.say(CITY_ALERTS, "ana", "!status chicago")]
    for title in ("Chicago", "Pilsen", "Pilsen East", "Pilsen West"):
        assert title in answer
    assert west in answer
    [own] = [s.text for s in await world.say(CITY_ALERTS, "ana", "!status pilsen-west")]
    assert west in own and "Pilsen East" not in own


async def test_a_zone_without_moderation_room_is_moderated_by_its_parents(
    world: World,
) -> None:
    west = await filed(world, WEST_HOOD)
    east = await filed(world, EAST_HOOD)
    assert cards(world, west) == [MODS_HOOD]
    assert cards(world, east) == [MODS_EAST]
    [refused] = [s.text for s in await world.say(MODS_CITY, "rosa", f"!confirm {west}")]
    assert "Pilsen West" in refused and "✅" not in refused
    assert alerted(world, west, ALERT_ROOMS) == []
    await world.say(MODS_HOOD, "rosa", f"!confirm {west}")
    await world.settle()
    assert alerted(world, west, ALERT_ROOMS) == [CITY_ALERTS, PILSEN_HOOD, WEST_HOOD]


async def test_a_zone_without_dispatch_room_is_served_by_its_parents(world: World) -> None:
    east = await filed(world, EAST_HOOD)
    assert calls(world, DISPATCH_HOOD, east) != []
    assert calls(world, DISPATCH_WEST, east) == calls(world, DISPATCH_CITY, east) == []


async def test_nobody_going_calls_up_the_tree_once_per_level(world: World) -> None:
    west = await filed(world, WEST_HOOD)
    assert len(calls(world, DISPATCH_WEST, west)) == 1
    assert calls(world, DISPATCH_HOOD, west) == calls(world, DISPATCH_CITY, west) == []
    sent = await world.advance(timedelta(minutes=5, seconds=1))
    assert any(s.room_id == DISPATCH_WEST and "⏰" in s.text for s in sent)
    # Told to the zone's moderators (Pilsen's room): not the city's, not another zone's.
    told = [s.room_id for s in sent if "Nobody answered" in s.text]
    assert told == [MODS_HOOD]
    [up] = [s for s in sent if s.room_id == DISPATCH_HOOD]
    assert west in up.text and "18th & Ashland" in up.text
    assert calls(world, DISPATCH_CITY, west) == []
    sent = await world.advance(timedelta(minutes=5))
    assert [s.room_id for s in sent] == [DISPATCH_CITY]
    assert await world.advance(timedelta(hours=1)) == []
    # A replay of an escalation posts nothing again.
    await world.plugin_of(Dispatch).on_ack_due({"report": west, "level": 1})
    await world.plugin_of(Dispatch).on_ack_due({"report": west, "level": 2})
    await world.settle()
    assert len(calls(world, DISPATCH_HOOD, west)) == len(calls(world, DISPATCH_CITY, west)) == 1


async def test_someone_going_up_the_tree_stops_the_escalation(world: World) -> None:
    west = await filed(world, WEST_HOOD)
    await world.advance(timedelta(minutes=5, seconds=1))
    assert calls(world, DISPATCH_HOOD, west) != []
    await world.say(DISPATCH_HOOD, "vera", f"!going {west} 20")
    await world.advance(timedelta(minutes=10))
    assert calls(world, DISPATCH_CITY, west) == []


async def test_a_verifier_from_up_the_tree_answers_there_and_is_asked_after_there(
    world: World,
) -> None:
    west = await filed(world, WEST_HOOD)
    sent = await world.advance(timedelta(minutes=5, seconds=1))  # 09:05
    [up] = [s for s in sent if s.room_id == DISPATCH_HOOD]
    await world.react(DISPATCH_HOOD, "vera", up.event_id, "🚗")  # ETA 09:20
    assert world.last(DISPATCH_HOOD).startswith(f"🚗 Vera is going to {west}")
    sent = await world.advance(timedelta(minutes=31))  # grace 15 minutes
    asked = {s.room_id for s in sent if s.text.startswith("Vera: are you OK?")}
    assert asked == {DISPATCH_WEST, DISPATCH_HOOD}
