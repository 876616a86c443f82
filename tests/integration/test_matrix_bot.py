"""The bot in real encrypted rooms on a real Synapse, talking to real matrix-nio users."""

from __future__ import annotations

import asyncio
import io
import logging
import time

import pytest
from integration import bot_harness
from integration.bot_harness import (
    BotSetup,
    RunningBot,
    alice_and_bot,
    from_bot,
    start_bot,
    wait_until_joined,
)
from integration.matrix_clients import TextEvent, UserClient, UserFactory
from testkit.config import load_settings

from bot.devtools.local_synapse import LocalSynapse
from bot.ops.logs import setup_logging
from bot.runtime.app import Application
from bot.runtime.connect import configured_transports
from bot.transports.matrix.session import SessionError

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config


def bot_replies(user: UserClient, room_id: str, setup: BotSetup, text: str = "") -> list[TextEvent]:
    return [e for e in user.messages(room_id) if from_bot(setup, text)(e)]


async def room_with_bot(user: UserClient, setup: BotSetup, encrypted: bool = True) -> str:
    room_id = await user.create_encrypted_room(invite=[setup.user_id], encrypted=encrypted)
    return room_id


async def joined_room(
    user: UserClient, setup: BotSetup, bot: RunningBot, encrypted: bool = True
) -> str:
    """A room `user` made and invited the bot to, once the bot is in."""
    room_id = await room_with_bot(user, setup, encrypted)
    await wait_until_joined(bot, room_id)
    return room_id


async def test_ping_round_trip_in_encrypted_room(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    alice, bot = await alice_and_bot(setup, user_factory)
    round_trips = []
    try:
        room_id = await joined_room(alice, setup, bot)
        for _ in range(10):
            started = time.monotonic()
            command_id = await alice.send_text(room_id, "!ping")
            pong = await alice.wait_for_message(
                room_id, lambda e, c=command_id: from_bot(setup, "Pong")(e) and _in_thread(e, c)
            )
            round_trips.append(time.monotonic() - started)
    finally:
        await bot.stop()
    content = pong.source["content"]
    assert pong.decrypted, "the reply must be end-to-end encrypted"
    assert content["msgtype"] == "m.notice"
    assert content["m.relates_to"]["rel_type"] == "m.thread"
    assert content["m.relates_to"]["event_id"] == command_id
    assert content["m.mentions"] == {"user_ids": []}
    ms = sorted(t * 1000 for t in round_trips)
    print(f"!ping round trip: first {round_trips[0] * 1000:.0f} ms, median {ms[5]:.0f} ms")


async def test_invites_only_from_allowed_users(
    setup: BotSetup, user_factory: UserFactory, synapse: LocalSynapse
) -> None:
    mallory = await user_factory("mallory")
    alice, bot = await alice_and_bot(setup, user_factory)
    try:
        refused = await room_with_bot(mallory, setup)
        accepted = await room_with_bot(alice, setup)
        await wait_until_joined(bot, accepted)
        membership = await _membership(synapse, mallory, refused, setup.user_id)
        async with asyncio.timeout(20):
            while membership == "invite":
                await asyncio.sleep(0.2)
                membership = await _membership(synapse, mallory, refused, setup.user_id)
    finally:
        await bot.stop()
    assert membership == "leave"
    assert refused not in bot.matrix.client.rooms


async def _membership(synapse: LocalSynapse, user: UserClient, room_id: str, target: str) -> str:
    response = await user.client.room_get_state_event(room_id, "m.room.member", target)
    return str(response.content.get("membership"))


async def test_unencrypted_room_is_refused_once(setup: BotSetup, user_factory: UserFactory) -> None:
    alice, bot = await alice_and_bot(setup, user_factory)
    try:
        room_id = await joined_room(alice, setup, bot, encrypted=False)
        await alice.send_text(room_id, "!ping")
        await alice.wait_for_message(room_id, from_bot(setup, "not end-to-end encrypted"))
        await alice.send_text(room_id, "!ping")
        await alice.send_text(room_id, "!help")
        # The bot's answer to a later command would arrive well within this time.
        await asyncio.sleep(3)
    finally:
        await bot.stop()
    assert len(bot_replies(alice, room_id, setup)) == 1
    assert not bot_replies(alice, room_id, setup, "Pong")


async def test_restart_reuses_device_and_never_replays(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    alice, bot = await alice_and_bot(setup, user_factory)
    room_id = await joined_room(alice, setup, bot)
    first_device = bot.matrix.client.device_id
    await alice.send_text(room_id, "!ping")
    await alice.wait_for_message(room_id, from_bot(setup, "Pong"))
    await bot.stop()

    # Sent while the bot is down: handled once when it is back.
    missed = await alice.send_text(room_id, "!help")
    bot = await start_bot(setup)
    try:
        assert bot.matrix.client.device_id == first_device
        await alice.wait_for_message(
            room_id, lambda e: from_bot(setup)(e) and _in_thread(e, missed)
        )
        await alice.send_text(room_id, "!ping")
        async with asyncio.timeout(20):
            while len(bot_replies(alice, room_id, setup, "Pong")) < 2:
                await asyncio.sleep(0.1)
        await asyncio.sleep(2)
    finally:
        await bot.stop()
    assert len(bot_replies(alice, room_id, setup, "Pong")) == 2
    assert len([e for e in bot_replies(alice, room_id, setup) if _in_thread(e, missed)]) == 1


def _in_thread(event: TextEvent, root: str) -> bool:
    relates = event.source["content"].get("m.relates_to") or {}
    return bool(relates.get("event_id") == root)


async def test_history_before_the_join_is_never_executed(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    alice, bot = await alice_and_bot(setup, user_factory)
    try:
        room_id = await alice.create_encrypted_room()
        old = await alice.send_text(room_id, "!ping")
        await alice.invite(room_id, setup.user_id)
        await wait_until_joined(bot, room_id)
        new = await alice.send_text(room_id, "!ping")
        await alice.wait_for_message(room_id, lambda e: from_bot(setup)(e) and _in_thread(e, new))
        await asyncio.sleep(2)
    finally:
        await bot.stop()
    assert not [e for e in bot_replies(alice, room_id, setup) if _in_thread(e, old)]


async def test_missing_crypto_store_fails_loudly(setup: BotSetup) -> None:
    bot = await start_bot(setup)
    await bot.stop()
    (setup.dir / "data" / "matrix-store" / "crypto.db").unlink()
    with pytest.raises(SessionError, match=r"encryption store .* is missing"):
        await start_bot(setup)


async def test_device_id_mismatch_is_refused(setup: BotSetup) -> None:
    bot = await start_bot(setup)
    await bot.stop()
    setup.bot_options = {}
    config = setup.write_config().read_text()
    setup.config_path.write_text(config.replace("[matrix]", '[matrix]\ndevice_id = "OTHERDEVICE"'))
    app = Application(load_settings(setup.config_path, env={}), setup.key)
    await app.open()
    try:
        with pytest.raises(SessionError, match="device_id is OTHERDEVICE"):
            await configured_transports(app)
    finally:
        await app.stop()


async def test_rate_limited_replies_are_delayed_not_dropped(
    setup: BotSetup,
    user_factory: UserFactory,
    synapse: LocalSynapse,
    unique: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    alice = await user_factory("alice")
    admin = synapse.register(f"admin-{unique}", "admin-password", admin=True)
    synapse.override_ratelimit(setup.user_id, 1, 1, admin.access_token)
    setup.allowed_users = [alice.user_id]
    bot = await start_bot(setup)
    try:
        room_id = await joined_room(alice, setup, bot)
        commands = [await alice.send_text(room_id, "!ping") for _ in range(5)]
        async with asyncio.timeout(60):
            while len(bot_replies(alice, room_id, setup, "Pong")) < len(commands):
                await asyncio.sleep(0.2)
    finally:
        await bot.stop()
        synapse.delete_ratelimit_override(setup.user_id, admin.access_token)
    pongs = bot_replies(alice, room_id, setup, "Pong")
    assert {e.source["content"]["m.relates_to"]["event_id"] for e in pongs} == set(commands)
    assert len(pongs) == len(commands)
    assert any("429" in r.getMessage() for r in caplog.records), "no 429 was ever answered"


async def test_logs_at_info_hold_no_bodies_or_user_ids(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    alice = await user_factory("alice")
    setup.allowed_users = [alice.user_id]
    root = logging.getLogger()
    saved_handlers, saved_level = root.handlers[:], root.level
    output = io.StringIO()
    setup_logging("INFO", output)
    try:
        bot = await start_bot(setup)
        try:
            room_id = await joined_room(alice, setup, bot)
            await alice.send_text(room_id, "Unmarked van at 18th & Ashland")
            await alice.send_text(room_id, "!lang xx-secret")
            await alice.wait_for_message(room_id, from_bot(setup, "must be one of"))
        finally:
            await bot.stop()
    finally:
        root.handlers, root.level = saved_handlers, saved_level
    written = output.getvalue()
    assert "Vecinos is running" in written, "the capture saw nothing"
    for secret in ("18th & Ashland", "xx-secret", alice.user_id, setup.user_id, "alice-"):
        assert secret not in written
