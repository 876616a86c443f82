"""`/healthz` and `/metrics` of the real bot: synced with a real Synapse, and the Signal
transport's heartbeat against the fake signal-cli daemon."""

from __future__ import annotations

import asyncio
import json
import os
import re
import sys
from pathlib import Path

import aiohttp
import pytest
from integration.bot_harness import new_bot_setup, start_bot, wait_until_joined
from integration.matrix_clients import UserFactory
from signal_fake import FakeSignalDaemon, harness
from signal_fake.harness import RecordingHost, eventually, running_transport

from bot.devtools.local_synapse import LocalSynapse
from bot.storage.keys import DataKey
from bot.transports.signal import transport

pytestmark = pytest.mark.integration

DOCKERFILE = Path(__file__).resolve().parents[2] / "Dockerfile"

daemon = harness.daemon
mode = harness.mode


async def get(port: int, path: str) -> tuple[int, str]:
    async with (
        aiohttp.ClientSession() as http,
        http.get(f"http://127.0.0.1:{port}{path}") as response,
    ):
        return response.status, await response.text()


def docker_healthcheck() -> list[str]:
    """The Dockerfile's HEALTHCHECK command, with this interpreter as `python`."""
    found = re.search(r"HEALTHCHECK [^\n]*\\\n\s*CMD (\[.*\])", DOCKERFILE.read_text())
    assert found is not None, "no exec-form HEALTHCHECK in the Dockerfile"
    command: list[str] = json.loads(found[1])
    assert command[0] == "python"
    return [sys.executable, *command[1:]]


async def exit_code(command: list[str], port: int) -> int:
    env = {**os.environ, "VECINOS_HEALTH__PORT": str(port)}
    process = await asyncio.create_subprocess_exec(
        *command, env=env, stderr=asyncio.subprocess.DEVNULL
    )
    return await process.wait()


async def test_a_synced_bot_is_healthy_and_shows_its_sync_lag(
    synapse: LocalSynapse, tmp_path: Path, unique: str, user_factory: UserFactory
) -> None:
    alice = await user_factory("alice")
    setup = new_bot_setup(synapse, tmp_path / "bot", f"vecinos-{unique}")
    setup.allowed_users = [alice.user_id]
    bot = await start_bot(setup)
    try:
        port = bot.app.health_port
        assert port is not None
        status, body = await get(port, "/healthz")
        assert status == 200, body
        matrix = json.loads(body)["checks"]["transports"]["matrix"]
        assert matrix["ok"] is True and matrix["seconds_since_activity"] < 60

        room = await alice.create_encrypted_room(invite=[setup.user_id])
        await wait_until_joined(bot, room)
        await alice.send_text(room, "!ping")
        await alice.wait_for_message(room, lambda e: e.sender == setup.user_id)
        status, metrics = await get(port, "/metrics")
        assert status == 200
        lag = re.search(r'^vecinos_sync_lag_seconds\{transport="matrix"\} (\S+)$', metrics, re.M)
        assert lag is not None and 0 <= float(lag[1]) < 60
        assert 'vecinos_commands_total{command="ping",outcome="ok"} 1.0' in metrics
        # Names and ids of people and rooms never appear.
        assert alice.user_id not in metrics and room not in metrics

        assert await exit_code(docker_healthcheck(), port) == 0
    finally:
        await bot.stop()
    assert await exit_code(docker_healthcheck(), port) != 0


async def test_the_signal_heartbeat_keeps_an_idle_transport_current(
    daemon: FakeSignalDaemon,
    mode: str,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setattr(transport, "HEARTBEAT_SECONDS", 0.05)
    monkeypatch.setattr(transport, "MAX_BACKOFF_SECONDS", 0.2)
    async with running_transport(
        daemon, mode, tmp_path, RecordingHost(), DataKey.generate()
    ) as signal:
        started = signal.last_activity
        assert started is not None
        # Nobody writes: only the heartbeat can move it on.
        await eventually(lambda: signal.last_activity != started)
        await daemon.stop()
        await asyncio.sleep(0.3)  # heartbeats in flight settle
        stopped = signal.last_activity
        await asyncio.sleep(0.3)
        assert signal.last_activity == stopped, "no heartbeat while signal-cli is away"
        await daemon.start()
        await eventually(lambda: signal.last_activity != stopped)
