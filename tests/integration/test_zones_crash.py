"""`kill -9` during a rotation, on a real Synapse with the bot as a real `vecinos run`
process: right after it said it was rotating, and when the successor's invites went out
(each time the rotation is still under way, as its stored job or record shows). Each
time exactly one of the two rooms
serves the network (as `vecinos structure` prints it: never neither, never both), and
the restarted bot finishes the rotation it had promised: it leaves the old room, and the
room serving is the successor the members were invited to (the one already serving, if
the kill came after the switch). A kill while the successor is being created can leave
that half-made room behind, empty but for invites; the restart makes another one."""

from __future__ import annotations

import asyncio
import signal
import sqlite3
import subprocess
import sys
import tomllib
from collections.abc import Awaitable, Callable

import pytest
from integration import bot_harness
from integration.bot_harness import BotSetup, from_bot, spawn_bot, wait_until_member
from integration.matrix_clients import UserClient, UserFactory

from bot.devtools.local_synapse import LocalSynapse

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

KillPoint = Callable[[UserClient, UserClient, str], Awaitable[object]]


async def _said_rotating(ada: UserClient, nora: UserClient, room: str) -> object:
    return await ada.wait_for_message(room, lambda e: "Creating the new room" in e.body)


async def _invited(ada: UserClient, nora: UserClient, room: str) -> object:
    return await nora.wait_for_invite(timeout=60)


@pytest.mark.parametrize("kill_when", [_said_rotating, _invited])
async def test_a_kill_during_a_rotation_leaves_exactly_one_room_serving(
    setup: BotSetup, synapse: LocalSynapse, user_factory: UserFactory, kill_when: KillPoint
) -> None:
    ada, nora = await asyncio.gather(user_factory("ada"), user_factory("nora"))
    setup.admins = [ada.user_id]
    setup.allowed_users = [ada.user_id]
    hood = await ada.create_encrypted_room(invite=[setup.user_id, nora.user_id], name="Pilsen")
    await nora.join(hood)
    setup.rooms = [{"id": hood, "role": "neighborhood", "areas": ["pilsen"], "language": "en"}]
    bot = spawn_bot(setup)
    try:
        await wait_until_member(synapse, ada.access_token, hood, setup.user_id)
        await ada.send_text(hood, "!ping")
        await ada.wait_for_message(hood, from_bot(setup, "Pong"), timeout=60)
        await ada.send_text(hood, "!rotate")
        await kill_when(ada, nora, hood)
        _stop(bot, signal.SIGKILL)
        assert _under_way(setup), "the kill came too late to test anything"
        [serving] = _serving(setup)  # exactly one, whichever

        bot = spawn_bot(setup)
        async with asyncio.timeout(120):
            while setup.user_id in await _joined(synapse, ada, hood):
                await asyncio.sleep(0.5)
        _stop(bot, signal.SIGTERM)
        [after] = _serving(setup)
        assert after != hood and serving in (hood, after)
        await nora.wait_for_invite(after)  # the members are asked into the one serving
    finally:
        if bot.poll() is None:
            _stop(bot, signal.SIGTERM)


def _under_way(setup: BotSetup) -> bool:
    """A rotation is stored as under way: its job waits, or its record is kept."""
    with sqlite3.connect(setup.dir / "data" / "vecinos.db") as db:
        jobs = db.execute(
            "SELECT COUNT(*) FROM scheduled_jobs WHERE kind = 'zones.rotate_now'"
        ).fetchone()[0]
        records = db.execute("SELECT COUNT(*) FROM zone_rotations").fetchone()[0]
    return bool(jobs or records)


def _serving(setup: BotSetup) -> list[str]:
    """The neighborhood rooms of the network, as `vecinos structure` prints it."""
    printed = subprocess.run(
        [sys.executable, "-m", "bot", "structure", "-c", str(setup.config_path)],
        capture_output=True,
        check=True,
        text=True,
    ).stdout
    rooms = tomllib.loads(printed).get("rooms", [])
    return [room["id"] for room in rooms if room["role"] == "neighborhood"]


async def _joined(synapse: LocalSynapse, user: UserClient, room: str) -> set[str]:
    path = f"/_matrix/client/v3/rooms/{room}/joined_members"
    answer = await asyncio.to_thread(synapse.admin_request, "GET", path, token=user.access_token)
    return set(answer.get("joined", {}))


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    process.send_signal(sig)
    process.wait(timeout=30)
