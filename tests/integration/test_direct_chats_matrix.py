"""Direct chats on a real Synapse: a neighbor opens an encrypted one-to-one room with the bot
and reports there privately; a stranger's direct chat, and a neighbor's invite to a group
room, are refused. Where the bot may redact, a report carrying a plate leaves the room."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from integration import bot_harness
from integration.bot_harness import (
    BotSetup,
    RunningBot,
    from_bot,
    in_thread,
    start_bot,
    wait_until_joined,
)
from integration.matrix_clients import UserClient, UserFactory

from plugins.relay import Relay
from plugins.sightings import Sightings

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")


@dataclass
class Network:
    setup: BotSetup
    bot: RunningBot
    rosa: UserClient  # moderator; set the rooms up
    nina: UserClient  # neighbor, in the neighborhood room only
    hood: str
    mods: str


@pytest.fixture
async def network(setup: BotSetup, user_factory: UserFactory) -> AsyncIterator[Network]:
    rosa, nina = await asyncio.gather(user_factory("rosa"), user_factory("nina"))
    setup.allowed_users = [rosa.user_id]  # only rosa may invite the bot to rooms
    setup.moderators = [rosa.user_id]
    hood = await rosa.create_encrypted_room(invite=[setup.user_id, nina.user_id])
    mods = await rosa.create_encrypted_room(invite=[setup.user_id], name="Moderación")
    await nina.join(hood)
    setup.rooms = [
        {"id": hood, "role": "neighborhood", "language": "en"},
        {"id": mods, "role": "moderation", "language": "en"},
    ]
    bot = await start_bot(setup, plugins=[Sightings, Relay])
    try:
        for room in (hood, mods):
            await wait_until_joined(bot, room)
        yield Network(setup, bot, rosa, nina, hood, mods)
    finally:
        await bot.stop()


async def membership(user: UserClient, room_id: str, target: str) -> str:
    response = await user.client.room_get_state_event(room_id, "m.room.member", target)
    return str(response.content.get("membership"))


async def until_refused(user: UserClient, room_id: str, bot_id: str) -> None:
    async with asyncio.timeout(20):
        while await membership(user, room_id, bot_id) == "invite":
            await asyncio.sleep(0.2)
    assert await membership(user, room_id, bot_id) == "leave"


async def test_a_neighbor_reports_in_a_direct_chat(network: Network) -> None:
    n = network
    dm = await n.nina.create_encrypted_room(invite=[n.setup.user_id], is_direct=True)
    await wait_until_joined(n.bot, dm)

    asked = await n.nina.send_text(dm, "!report 18th & Ashland; two agents detaining someone")
    ack = await n.nina.wait_for_message(dm, lambda e: from_bot(n.setup)(e) and in_thread(asked)(e))
    assert "UNCONFIRMED" in ack.body
    report_id = REPORT_ID.findall(ack.body)[0]
    card = await n.rosa.wait_for_message(n.mods, from_bot(n.setup, report_id))
    assert "18th & Ashland" in card.body
    assert not [e for e in n.nina.messages(n.hood) if report_id in e.body]  # private so far

    await n.rosa.send_text(n.mods, f"!confirm {report_id}")
    await n.nina.wait_for_message(dm, from_bot(n.setup, f"Your report {report_id} was CONFIRMED"))
    await n.nina.wait_for_message(n.hood, from_bot(n.setup, "CONFIRMED ALERT · Pilsen"))
    status_id = await n.nina.send_text(dm, "!status")
    status = await n.nina.wait_for_message(
        dm, lambda e: from_bot(n.setup)(e) and in_thread(status_id)(e)
    )
    assert f"CONFIRMED {report_id} · 18th & Ashland" in status.body


async def test_strangers_and_group_invites_from_neighbors_are_refused(
    network: Network, user_factory: UserFactory
) -> None:
    n = network
    zed = await user_factory("zed")
    stranger = await zed.create_encrypted_room(invite=[n.setup.user_id], is_direct=True)
    group = await n.nina.create_encrypted_room(invite=[n.setup.user_id])  # not a direct chat
    await until_refused(zed, stranger, n.setup.user_id)
    await until_refused(n.nina, group, n.setup.user_id)
    assert stranger not in n.bot.matrix.client.rooms


async def test_a_report_with_a_plate_is_redacted_where_the_bot_may(network: Network) -> None:
    n = network
    bot_id = n.setup.user_id
    await n.rosa.set_power(n.hood, bot_id, 50)
    async with asyncio.timeout(20):  # until the bot's sync has seen its new power
        while n.bot.matrix.client.rooms[n.hood].power_levels.get_user_level(bot_id) < 50:
            await asyncio.sleep(0.1)

    plated = "!report where: 18th & Ashland | what: detaining | plate: ABC123"
    event_id = await n.nina.send_text(n.hood, plated)
    told = await n.nina.wait_for_message(n.hood, from_bot(n.setup, "🔒 I removed your message"))
    assert told.source["content"]["m.mentions"] == {"user_ids": [n.nina.user_id]}
    redacted = await n.rosa.client.room_get_event(n.hood, event_id)
    assert redacted.event.source["unsigned"]["redacted_because"]["sender"] == bot_id
    assert "ABC123" not in str(redacted.event.source)
    card = await n.rosa.wait_for_message(n.mods, from_bot(n.setup, "Plate: ABC123"))
    assert "18th & Ashland" in card.body  # the moderators have it


async def test_a_command_in_the_wrong_room_names_the_right_one(network: Network) -> None:
    n = network
    asked = await n.rosa.send_text(n.hood, "!confirm R7K3")
    answer = await n.rosa.wait_for_message(
        n.hood, lambda e: from_bot(n.setup)(e) and in_thread(asked)(e)
    )
    assert answer.body == "!confirm works in “Moderación”: use it there."
    # nina is in no moderation room: no room named to her, and no rights either.
    asked = await n.nina.send_text(n.hood, "!confirm R7K3")
    answer = await n.nina.wait_for_message(
        n.hood, lambda e: from_bot(n.setup)(e) and in_thread(asked)(e)
    )
    assert answer.body == "Sorry, you are not allowed to use !confirm."
