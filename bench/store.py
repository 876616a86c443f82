"""What the encrypted crypto store costs: `vecinos run` on SQLCipher against the same bot
on the previous release's plaintext store (bench.plain_store), in the same run.

Both bots join the same N encrypted rooms and get their own room with a client; each runs
as its own process. Figures: resident memory after the first sync (as bench.memory), the
seconds to that first sync, and the `!ping` round trip (median, rounds alternating between
the two bots), where every command is decrypted and every answer encrypted through the
store.
"""

from __future__ import annotations

import contextlib
import statistics
import sys
from pathlib import Path
from typing import Any

from bench.common import AREA, BotFiles, encrypted_room, encrypted_rooms, register, start_client
from bench.ping import WARM_UP, ping_once
from bench.procs import Child, measure_memory, vecinos_process
from bench.report import Figure
from bot.devtools.local_synapse import LocalSynapse

SIDES = ("sqlcipher", "plaintext")


async def measure(
    synapse: LocalSynapse, workdir: Path, rooms: int, rounds: int, sample_seconds: float
) -> tuple[list[Figure], dict[str, Any]]:
    bots = {side: await register(synapse, f"store-{side}") for side in SIDES}
    owner = await register(synapse, "store-owner")
    shared = await encrypted_rooms(synapse, rooms, owner, list(bots.values()))
    own = {side: await encrypted_room(synapse, owner, [bot]) for side, bot in bots.items()}
    children = {}
    for side, bot in bots.items():
        files = BotFiles(workdir / side, synapse.base_url, bot, _rooms([*shared, own[side]]))
        children[side] = _child(side, files)
    ready, memory = {}, {}
    async with contextlib.AsyncExitStack() as stack:
        for side, child in children.items():
            child.start()
            stack.push_async_callback(child.stop)
            ready[side] = await child.wait_ready()
            memory[side] = await measure_memory(child, sample_seconds)
        client = await start_client(synapse, owner, workdir / "client")
        stack.push_async_callback(client.close)
        seconds: dict[str, list[float]] = {side: [] for side in SIDES}
        for side in SIDES:
            await client.prepare(own[side])
            for _ in range(WARM_UP):
                await ping_once(client, own[side], bots[side].user_id)
        for n in range(rounds):
            for side in SIDES if n % 2 == 0 else reversed(SIDES):
                seconds[side].append(await ping_once(client, own[side], bots[side].user_id))
    ping_ms = {side: statistics.median(values) * 1000 for side, values in seconds.items()}
    figures = [
        Figure(
            name=f"RSS with {rooms} rooms, SQLCipher crypto store",
            value=memory["sqlcipher"].rss_mb,
            baseline=memory["plaintext"].rss_mb,
            unit="MB",
            baseline_name="plaintext store (previous release), same run",
            budget="<= 200 MB",
            within=memory["sqlcipher"].rss_mb <= 200,
        ),
        Figure(
            name=f"!ping round trip, SQLCipher crypto store, median of {rounds}",
            value=ping_ms["sqlcipher"],
            baseline=ping_ms["plaintext"],
            unit="ms",
            baseline_name="plaintext store (previous release), alternating",
            budget="none (its cost)",
            within=True,
        ),
    ]
    details = {
        "rooms": rooms,
        **{
            side: {
                "rss_mb": memory[side].rss_mb,
                "peak_mb": memory[side].peak_mb,
                "first_sync_seconds": ready[side],
                "ping_ms": [round(s * 1000, 2) for s in seconds[side]],
            }
            for side in SIDES
        },
    }
    return figures, details


def _rooms(ids: list[str]) -> list[dict[str, Any]]:
    return [{"id": r, "role": "neighborhood", "areas": [AREA["slug"]]} for r in ids]


def _child(side: str, files: BotFiles) -> Child:
    if side == "sqlcipher":
        return vecinos_process(files)
    config, _key = files.write()
    command = [sys.executable, "-m", "bench.plain_store", "run", "-c", str(config)]
    return Child(
        "vecinos, plaintext store", command, files.directory / "bot.log", "Vecinos is running"
    )
