"""Zones on a real Synapse: an area added and a room adopted from chat serve at once and
after a restart; a room the bot created, rotated: a neighbor follows the tombstone and
gets the next alert in the successor, the person left out gets nothing; a dispatch call
nobody answers goes up the tree when the test moves the clock."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Callable
from datetime import UTC, datetime, timedelta

import pytest
from integration import bot_harness
from integration.bot_harness import BotSetup, RunningBot, from_bot, start_bot, wait_until_joined
from integration.matrix_clients import TextEvent, UserClient, UserFactory

from bot.api.testing import FakeClock, ManualScheduler
from bot.core.events import RoomRef
from plugins.dispatch import Dispatch
from plugins.relay import Relay
from plugins.rosters import Rosters
from plugins.sightings import Sightings
from plugins.zones import ZonesPlugin

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

PLUGINS = [Sightings, Relay, ZonesPlugin]
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
REPORT = "!report where: 18th & Ashland | what: detaining | agents: 2 | vehicle: white van"


def _alert(setup: BotSetup, report_id: str) -> Callable[[TextEvent], bool]:
    return lambda e: from_bot(setup, report_id)(e) and "ALERT" in e.body


async def _report(neighbor: UserClient, room: str, setup: BotSetup) -> str:
    event_id = await neighbor.send_text(room, REPORT)
    ack = await neighbor.wait_for_message(
        room, lambda e: from_bot(setup)(e) and _replies_to(e, event_id) and "R" in e.body
    )
    found = REPORT_ID.search(ack.body)
    assert found, ack.body
    return found[0]


async def _confirmed(
    neighbor: UserClient, room: str, rosa: UserClient, mods: str, setup: BotSetup
) -> str:
    report_id = await _report(neighbor, room, setup)
    await rosa.wait_for_message(mods, from_bot(setup, report_id))  # the card
    await rosa.send_text(mods, f"!confirm {report_id}")
    return report_id


async def _ask(admin: UserClient, room: str, text: str, setup: BotSetup, expect: str) -> TextEvent:
    event_id = await admin.send_text(room, text)
    return await admin.wait_for_message(
        room, lambda e: from_bot(setup, expect)(e) and _replies_to(e, event_id)
    )


async def _moderated(
    setup: BotSetup, user_factory: UserFactory
) -> tuple[UserClient, UserClient, str]:
    """An admin, a moderator and the moderation room for "pilsen", in the config."""
    ada, rosa = await asyncio.gather(user_factory("ada"), user_factory("rosa"))
    setup.admins = [ada.user_id]
    setup.allowed_users = [ada.user_id, rosa.user_id]
    setup.moderators = [rosa.user_id]
    mods = await rosa.create_encrypted_room(invite=[setup.user_id, ada.user_id])
    await ada.join(mods)
    setup.rooms = [{"id": mods, "role": "moderation", "areas": ["pilsen"], "language": "en"}]
    return ada, rosa, mods


async def test_an_area_and_a_room_from_chat_serve_at_once_and_after_a_restart(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    ada, rosa, mods = await _moderated(setup, user_factory)
    nora = await user_factory("nora")
    running = await start_bot(setup, plugins=PLUGINS)
    try:
        await wait_until_joined(running, mods)
        loomis = await ada.create_encrypted_room(
            invite=[setup.user_id, nora.user_id], name="Loomis"
        )
        await nora.join(loomis)
        await wait_until_joined(running, loomis)
        await _ask(
            ada, loomis, "!area add loomis in pilsen Loomis / Loomis", setup, "Added the area"
        )
        await _ask(ada, loomis, "!room here neighborhood loomis en", setup, "now serves")
        report_id = await _confirmed(nora, loomis, rosa, mods, setup)
        await nora.wait_for_message(loomis, _alert(setup, report_id))
        await running.stop()
        running = await start_bot(setup, plugins=PLUGINS)
        await wait_until_joined(running, loomis)
        listing = await _ask(ada, loomis, "!rooms", setup, "Rooms (2)")
        assert "Loomis (loomis · added from chat)" in listing.body
        again = await _confirmed(nora, loomis, rosa, mods, setup)
        await nora.wait_for_message(loomis, _alert(setup, again))
    finally:
        await running.stop()


async def test_a_created_room_rotated_the_neighbor_follows_and_the_left_out_gets_nothing(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    ada, rosa, mods = await _moderated(setup, user_factory)
    nora, lou = await asyncio.gather(user_factory("nora"), user_factory("lou"))
    running = await start_bot(setup, plugins=PLUGINS)
    try:
        await wait_until_joined(running, mods)
        await _ask(ada, mods, "!room new neighborhood pilsen Loomis vecinos", setup, "Created")
        old = await ada.wait_for_invite()
        await ada.join(old)
        for person in (nora, lou):
            await ada.invite(old, person.user_id)
            await person.wait_for_invite(old)
            await person.join(old)
        await _until(lambda: _members(running, old) == {ada.user_id, nora.user_id, lou.user_id})
        await ada.send_text(old, f"!rotate without {lou.user_id}")
        new = await nora.wait_for_invite()
        moved = await nora.wait_for_message(old, from_bot(setup, "has moved to"))
        assert "Loomis vecinos" in moved.body
        async with asyncio.timeout(20):  # Element shows "this room has been replaced"
            while await _replacement(nora, old) != new:
                await asyncio.sleep(0.2)
        await nora.join(new)
        await _until(lambda: nora.user_id in _members(running, new))
        report_id = await _confirmed(nora, new, rosa, mods, setup)
        await nora.wait_for_message(new, _alert(setup, report_id))
        await asyncio.sleep(2)
        assert new not in lou.client.invited_rooms and new not in lou.client.rooms
        assert not [e for e in lou.messages(old) if report_id in e.body]
        assert running.app.bot.room_config(RoomRef("matrix", old)) is None
        await _until(lambda: setup.user_id not in nora.client.rooms[old].users)  # the bot left
    finally:
        await running.stop()


async def test_a_dispatch_call_nobody_answers_goes_up_the_tree(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    ada, _, mods = await _moderated(setup, user_factory)
    vera, hugo = await asyncio.gather(user_factory("vera"), user_factory("hugo"))
    setup.extra = {
        "areas": [
            {"slug": "pilsen", "name_en": "Pilsen", "name_es": "Pilsen"},
            {
                "slug": "pilsen-west",
                "name_en": "Pilsen West",
                "name_es": "Pilsen Oeste",
                "parent": "pilsen",
            },
        ]
    }
    west = await ada.create_encrypted_room(invite=[setup.user_id, vera.user_id])
    zone_dispatch = await vera.create_encrypted_room(invite=[setup.user_id])
    hood_dispatch = await hugo.create_encrypted_room(invite=[setup.user_id])
    await vera.join(west)
    setup.allowed_users += [vera.user_id, hugo.user_id]
    setup.rooms += [
        {"id": west, "role": "neighborhood", "areas": ["pilsen-west"], "language": "en"},
        {"id": zone_dispatch, "role": "dispatch", "areas": ["pilsen-west"], "language": "en"},
        {"id": hood_dispatch, "role": "dispatch", "areas": ["pilsen"], "language": "en"},
    ]
    clock = FakeClock(datetime.now(UTC))
    running = await start_bot(setup, plugins=[*PLUGINS, Rosters, Dispatch], clock=clock)
    try:
        for room in (mods, west, zone_dispatch, hood_dispatch):
            await wait_until_joined(running, room)
        report_id = await _report(vera, west, setup)
        await vera.wait_for_message(zone_dispatch, from_bot(setup, report_id))
        await asyncio.sleep(1)
        assert not [e for e in hugo.messages(hood_dispatch) if report_id in e.body]
        scheduler = running.app.bot.scheduler
        assert isinstance(scheduler, ManualScheduler)
        await scheduler.run_until(clock.now + timedelta(minutes=6))  # past ack_minutes
        call = await hugo.wait_for_message(hood_dispatch, from_bot(setup, report_id))
        assert "Pilsen West" in call.body
    finally:
        await running.stop()


async def _replacement(user: UserClient, room_id: str) -> str | None:
    answer = await user.client.room_get_state_event(room_id, "m.room.tombstone")
    content = getattr(answer, "content", None) or {}
    return content.get("replacement_room")


def _members(running: RunningBot, room_id: str) -> set[str]:
    room = running.matrix.client.rooms.get(room_id)
    if room is None:
        return set()
    return {user for user, member in room.users.items() if not member.invited} - {
        running.matrix.own_user_id
    }


async def _until(check: Callable[[], bool], timeout: float = 30) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(0.1)


def _replies_to(event: TextEvent, target: str) -> bool:
    relates = event.source["content"].get("m.relates_to") or {}
    return relates.get("event_id") == target or (
        (relates.get("m.in_reply_to") or {}).get("event_id") == target
    )
