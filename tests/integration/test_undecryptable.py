"""Messages the bot cannot decrypt yet: it asks for the key, acts once the key comes, and
tells the sender (once) when it never does.

The sending client withholds the megolm session from the bot's device (blacklisted), then
sends the `m.room_key` for that session to the bot's device after the message: the real
"unable to decrypt" case of a room key that arrives after the message it unlocks.
"""

from __future__ import annotations

import asyncio
from typing import Any

import pytest
from integration import bot_harness
from integration.bot_harness import BotSetup, RunningBot, alice_and_bot, from_bot, wait_until_joined
from integration.matrix_clients import UserClient, UserFactory
from nio import ToDeviceError, ToDeviceMessage

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config


async def _room_withholding_keys(
    alice: UserClient, setup: BotSetup, bot: RunningBot
) -> tuple[str, object]:
    room_id = await alice.create_encrypted_room(invite=[setup.user_id])
    await wait_until_joined(bot, room_id)
    # A first message makes alice fetch the bot's device keys.
    await alice.send_text(room_id, "hello")
    device = alice.client.device_store[setup.user_id][bot.matrix.client.device_id]
    alice.client.blacklist_device(device)
    return room_id, device


def _start_new_session(alice: UserClient, room_id: str) -> dict[str, str]:
    """Start the megolm session the next message will use; returns its m.room_key content."""
    olm = alice.client.olm
    olm.create_outbound_group_session(room_id)
    session = olm.outbound_group_sessions[room_id]
    return {
        "algorithm": "m.megolm.v1.aes-sha2",
        "room_id": room_id,
        "session_id": session.id,
        "session_key": session.session_key,
    }


async def _send_room_key(alice: UserClient, device: Any, room_key: dict[str, str]) -> None:
    olm = alice.client.olm
    olm_session = olm.session_store.get(device.curve25519)
    content = olm._olm_encrypt(olm_session, device, "m.room_key", room_key)
    message = ToDeviceMessage("m.room.encrypted", device.user_id, device.id, content)
    response = await alice.client.to_device(message)
    assert not isinstance(response, ToDeviceError), response


def _replies_to(alice: UserClient, room_id: str, setup: BotSetup, event_id: str) -> list[str]:
    return [
        e.body
        for e in alice.messages(room_id)
        if e.sender == setup.user_id
        and (e.source["content"].get("m.relates_to") or {}).get("event_id") == event_id
    ]


async def test_message_is_handled_when_the_key_arrives_late(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    setup.bot_options = {"undecryptable_wait_seconds": 60}
    alice, bot = await alice_and_bot(setup, user_factory)
    try:
        room_id, device = await _room_withholding_keys(alice, setup, bot)
        room_key = _start_new_session(alice, room_id)
        command = await alice.send_text(room_id, "!ping")
        await asyncio.sleep(2)
        assert not _replies_to(alice, room_id, setup, command), "it cannot have read it yet"
        await _send_room_key(alice, device, room_key)

        pong = await alice.wait_for_message(room_id, from_bot(setup, "Pong"))
    finally:
        await bot.stop()
    assert pong.source["content"]["m.relates_to"]["event_id"] == command


async def test_sender_is_told_once_when_the_key_never_arrives(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    setup.bot_options = {"undecryptable_wait_seconds": 2}
    alice, bot = await alice_and_bot(setup, user_factory)
    try:
        room_id, _ = await _room_withholding_keys(alice, setup, bot)
        first = await alice.send_text(room_id, "!ping")
        await alice.send_text(room_id, "!help")
        notice = await alice.wait_for_message(room_id, from_bot(setup, "could not decrypt"))
        await asyncio.sleep(4)
    finally:
        await bot.stop()
    told = [e for e in alice.messages(room_id) if e.sender == setup.user_id]
    assert len(told) == 1, [e.body for e in told]
    assert notice.source["content"]["m.mentions"] == {"user_ids": [alice.user_id]}
    assert notice.source["content"]["m.relates_to"]["event_id"] == first
