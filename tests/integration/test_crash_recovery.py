"""`kill -9` in the middle of handling a batch: after a restart every command is answered,
and none twice. The bot runs as a real `vecinos run` process."""

from __future__ import annotations

import asyncio
import signal
import subprocess
from collections import Counter

import pytest
from integration import bot_harness
from integration.bot_harness import BotSetup, spawn_bot, wait_until_member
from integration.matrix_clients import UserClient, UserFactory

from bot.devtools.local_synapse import LocalSynapse

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

COMMANDS = 40


def _answers(user: UserClient, room_id: str, bot_id: str) -> Counter[str]:
    """How many replies the bot posted in each command's thread."""
    return Counter(
        e.source["content"]["m.relates_to"]["event_id"]
        for e in user.messages(room_id)
        if e.sender == bot_id and "Pong" in e.body
    )


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    process.send_signal(sig)
    process.wait(timeout=30)


async def test_kill_during_catch_up_answers_every_command_exactly_once(
    setup: BotSetup, synapse: LocalSynapse, user_factory: UserFactory
) -> None:
    alice = await user_factory("alice")
    setup.allowed_users = [alice.user_id]
    # One person's backlog larger than the default per-person limit.
    setup.bot_options = {"commands_per_minute": 100}
    bot = spawn_bot(setup)
    try:
        room_id = await alice.create_encrypted_room(invite=[setup.user_id])
        await wait_until_member(synapse, alice.access_token, room_id, setup.user_id)
        await alice.send_text(room_id, "!ping")
        await alice.wait_for_message(room_id, lambda e: e.sender == setup.user_id)
        _stop(bot, signal.SIGTERM)

        # While the bot is down: a backlog it will handle as one batch on restart.
        commands = [await alice.send_text(room_id, "!ping") for _ in range(COMMANDS)]
        bot = spawn_bot(setup)
        async with asyncio.timeout(60):
            while not set(_answers(alice, room_id, setup.user_id)) & set(commands):
                await asyncio.sleep(0.01)
        _stop(bot, signal.SIGKILL)
        await asyncio.sleep(2)
        before_restart = set(_answers(alice, room_id, setup.user_id)) & set(commands)
        assert len(before_restart) < COMMANDS, "the kill came too late to test anything"

        bot = spawn_bot(setup)
        async with asyncio.timeout(90):
            while not set(commands) <= set(_answers(alice, room_id, setup.user_id)):
                await asyncio.sleep(0.2)
        await asyncio.sleep(3)
    finally:
        if bot.poll() is None:
            _stop(bot, signal.SIGTERM)
    answers = _answers(alice, room_id, setup.user_id)
    assert {command: answers[command] for command in commands} == dict.fromkeys(commands, 1)
