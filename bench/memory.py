"""Resident memory with many joined rooms (the performance budget: RSS <= 200 MB with 500 rooms).

Both bots join the same N encrypted rooms (three members each: the owner and the two bots)
before they start, and every room is in Vecinos' config (as a neighborhood room), as in a
real deployment. Each bot then runs on its own, as its own process: `vecinos run` and the
bare nio bot. Once its first sync is handled its RSS is sampled for a few seconds; the
figure is the highest sample, and the peak so far (VmHWM, the first sync) is kept too.
"""

from __future__ import annotations

import time
from pathlib import Path
from typing import Any

from bench.common import AREA, BotFiles, encrypted_rooms, register
from bench.procs import Child, Memory, measure_memory, nio_process, vecinos_process
from bench.report import Figure
from bot.devtools.local_synapse import LocalSynapse

BUDGET_MB = 200.0
SIDES = ("vecinos", "nio")


async def measure(
    synapse: LocalSynapse, workdir: Path, rooms: int, sample_seconds: float
) -> tuple[list[Figure], dict[str, Any]]:
    bot, nio, owner = [await register(synapse, f"mem-{n}") for n in ("vecinos", "nio", "owner")]
    began = time.perf_counter()
    room_ids = await encrypted_rooms(synapse, rooms, owner, [bot, nio])
    setup_seconds = time.perf_counter() - began
    config_rooms = [{"id": r, "role": "neighborhood", "areas": [AREA["slug"]]} for r in room_ids]
    children = {
        "vecinos": vecinos_process(
            BotFiles(workdir / "vecinos", synapse.base_url, bot, config_rooms)
        ),
        "nio": nio_process(synapse.base_url, nio, workdir / "nio"),
    }
    results = {side: await _run(child, sample_seconds) for side, child in children.items()}
    bot_memory, nio_memory = results["vecinos"][0], results["nio"][0]
    peaks = f"peak {bot_memory.peak_mb:.0f} vs {nio_memory.peak_mb:.0f} MB"
    figure = Figure(
        name=f"RSS with {rooms} joined rooms ({peaks})",
        value=bot_memory.rss_mb,
        baseline=nio_memory.rss_mb,
        unit="MB",
        baseline_name="bare nio bot, same rooms",
        budget=f"<= {BUDGET_MB:.0f} MB",
        within=bot_memory.rss_mb <= BUDGET_MB,
    )
    details = {
        "rooms": rooms,
        "room_setup_seconds": setup_seconds,
        **{
            side: {"rss_mb": m.rss_mb, "peak_mb": m.peak_mb, "ready_seconds": ready}
            for side, (m, ready) in results.items()
        },
    }
    return [figure], details


async def _run(child: Child, sample_seconds: float) -> tuple[Memory, float]:
    """Start, wait for the first sync, sample, stop; memory and seconds to ready."""
    child.start()
    try:
        ready = await child.wait_ready()
        return await measure_memory(child, sample_seconds), ready
    finally:
        await child.stop()
