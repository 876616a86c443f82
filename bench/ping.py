"""`!ping` round trip and restart catch-up, Vecinos against the bare nio bot.

Both bots run as separate processes (`vecinos run` and `bench.nio_bot`) on the same
Synapse; one E2E client, in this process, talks to each in its own encrypted room.

- Round trip (budget: <= 1.2x): from the client starting to send `!ping` until it has the
  answer decrypted. Rounds alternate between the bots (ABBA), after two untimed rounds
  each (the first message of a room shares its megolm key).
- Dispatch (budget: <= 1.2x the `!ping` round trip of the same run): from the client starting
  to send a `!report` in the neighborhood room until a verifier's client, in the dispatch
  room only, has the dispatch call decrypted.
- Restart catch-up (no time budget; nothing may be lost): each bot is stopped,
  the client sends it N commands, and the bot is started again; the time is from the start
  of its process until the client has every answer. Each command must be answered once.
"""

from __future__ import annotations

import asyncio
import contextlib
import statistics
import time
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from bench.common import (
    AREA,
    BotFiles,
    E2EClient,
    Received,
    encrypted_room,
    percentile,
    register,
    related_events,
    start_client,
    text,
)
from bench.procs import Child, nio_process, vecinos_process
from bench.report import Figure
from bot.devtools.local_synapse import LocalSynapse

GOAL = 1.2
WARM_UP = 2
ROUND_TIMEOUT = 30.0
CATCH_UP_TIMEOUT = 180.0
SETTLE_SECONDS = 3.0  # after the last answer, so that a late duplicate would be seen
SIDES = ("vecinos", "nio")


@dataclass
class Rig:
    client: E2EClient
    bots: dict[str, Child]  # side -> process
    bot_ids: dict[str, str]
    rooms: dict[str, str]
    dispatch_room: str  # Vecinos' dispatch room for the area of its neighborhood room
    verifier: E2EClient  # in the dispatch room only


def answers(client: E2EClient, room: str, bot_id: str, commands: Iterable[str]) -> Counter[str]:
    """How many answers from `bot_id` each of `commands` (event ids) got."""
    wanted = set(commands)
    found: Counter[str] = Counter()
    for message in client.received(room):
        if message.sender == bot_id:
            found.update(related_events(message.content) & wanted)
    return found


# --- set-up ---------------------------------------------------------------------------------


async def build(synapse: LocalSynapse, workdir: Path, stack: contextlib.AsyncExitStack) -> Rig:
    names = ("ping-vecinos", "ping-nio", "ping-alice", "ping-vera")
    vecinos_user, nio_user, alice, vera = [await register(synapse, name) for name in names]
    rooms = {
        "vecinos": await encrypted_room(synapse, alice, [vecinos_user]),
        "nio": await encrypted_room(synapse, alice, [nio_user]),
    }
    mods = await encrypted_room(synapse, alice, [vecinos_user])
    dispatch = await encrypted_room(synapse, vera, [vecinos_user])
    config_rooms = [
        {"id": rooms["vecinos"], "role": "neighborhood", "areas": [AREA["slug"]]},
        {"id": mods, "role": "moderation", "areas": [AREA["slug"]]},
        {"id": dispatch, "role": "dispatch", "areas": [AREA["slug"]]},
    ]
    files = BotFiles(workdir / "vecinos", synapse.base_url, vecinos_user, config_rooms)
    bots = {
        "vecinos": vecinos_process(files),
        "nio": nio_process(synapse.base_url, nio_user, workdir / "nio"),
    }
    for bot in bots.values():
        bot.start()
        stack.push_async_callback(bot.stop)
        await bot.wait_ready()
    client = await start_client(synapse, alice, workdir / "stores" / "alice")
    stack.push_async_callback(client.close)
    verifier = await start_client(synapse, vera, workdir / "stores" / "vera")
    stack.push_async_callback(verifier.close)
    bot_ids = {"vecinos": vecinos_user.user_id, "nio": nio_user.user_id}
    return Rig(client, bots, bot_ids, rooms, dispatch, verifier)


# --- round trips ----------------------------------------------------------------------------


async def round_trip(rig: Rig, side: str) -> float:
    return await ping_once(rig.client, rig.rooms[side], rig.bot_ids[side])


async def ping_once(client: E2EClient, room: str, bot_id: str) -> float:
    """Seconds from starting to send `!ping` in `room` until `bot_id`'s answer is in."""
    began = time.perf_counter()
    event_id = await client.send(room, text("!ping"))

    def answer() -> Received | None:
        return next(
            (
                m
                for m in client.received(room)
                if m.sender == bot_id and event_id in related_events(m.content)
            ),
            None,
        )

    await client.wait_until(lambda: answer() is not None, ROUND_TIMEOUT, f"{bot_id} answer")
    found = answer()
    assert found is not None
    return found.at - began


async def round_trips(rig: Rig, rounds: int) -> dict[str, list[float]]:
    for side in SIDES:
        await rig.client.prepare(rig.rooms[side])
        for _ in range(WARM_UP):
            await round_trip(rig, side)
    seconds: dict[str, list[float]] = {side: [] for side in SIDES}
    for n in range(rounds):
        for side in SIDES if n % 2 == 0 else reversed(SIDES):
            seconds[side].append(await round_trip(rig, side))
    return seconds


def round_trip_figure(seconds: dict[str, list[float]]) -> Figure:
    bot, nio = (statistics.median(seconds[side]) * 1000 for side in SIDES)
    return Figure(
        name=f"!ping round trip, median of {len(seconds['vecinos'])}",
        value=bot,
        baseline=nio,
        unit="ms",
        baseline_name="bare nio bot, alternating",
        budget=f"<= {GOAL}x",
        within=bot <= GOAL * nio,
    )


def round_trip_details(seconds: dict[str, list[float]]) -> dict[str, Any]:
    return {
        side: {
            "ms": [round(s * 1000, 2) for s in values],
            "median_ms": statistics.median(values) * 1000,
            "p90_ms": percentile(values, 90) * 1000,
        }
        for side, values in seconds.items()
    }


# --- dispatch calls -------------------------------------------------------------------------

CALL_TITLE = "VERIFIER NEEDED"
CARD_SECONDS = 0.3


async def dispatch_trip(rig: Rig, n: int) -> float:
    """Seconds from sending a report until its dispatch call is decrypted."""
    room, bot_id, verifier = rig.dispatch_room, rig.bot_ids["vecinos"], rig.verifier

    def calls() -> list[Received]:
        return [m for m in verifier.received(room) if m.sender == bot_id and CALL_TITLE in m.body]

    before = len(calls())
    hood = rig.rooms["vecinos"]
    began = time.perf_counter()
    event_id = await rig.client.send(hood, text(f"!report {n} 18th St; agents detaining"))
    await verifier.wait_until(lambda: len(calls()) > before, ROUND_TIMEOUT, "dispatch call")
    seen = calls()[-1].at - began
    # As between pings, the next round starts once the bot is done: the reporter has the
    # answer, and the moderator card (not waited for by anyone here) has had time to go.
    await rig.client.wait_until(
        lambda: bool(answers(rig.client, hood, bot_id, [event_id])), ROUND_TIMEOUT, "report ack"
    )
    await asyncio.sleep(CARD_SECONDS)
    return seen


async def dispatch_trips(rig: Rig, rounds: int) -> list[float]:
    for n in range(WARM_UP):
        await dispatch_trip(rig, n)
    return [await dispatch_trip(rig, WARM_UP + n) for n in range(rounds)]


def dispatch_figure(trips: list[float], pings: list[float]) -> Figure:
    call, ping = statistics.median(trips) * 1000, statistics.median(pings) * 1000
    return Figure(
        name=f"report to dispatch call seen, median of {len(trips)}",
        value=call,
        baseline=ping,
        unit="ms",
        baseline_name="Vecinos !ping round trip, same run",
        budget=f"<= {GOAL}x",
        within=call <= GOAL * ping,
    )


# --- restart catch-up -------------------------------------------------------------------------


async def catch_up(rig: Rig, side: str, commands: int) -> dict[str, Any]:
    """Stop the bot, send it `commands` pings, start it: seconds until all are answered."""
    bot, room, bot_id = rig.bots[side], rig.rooms[side], rig.bot_ids[side]
    await bot.stop()
    sent = [await rig.client.send(room, text("!ping")) for _ in range(commands)]
    bot.start()
    answered = {"n": 0}

    def all_answered() -> bool:
        answered["n"] = len(answers(rig.client, room, bot_id, sent))
        return answered["n"] == commands

    with contextlib.suppress(TimeoutError):
        await rig.client.wait_until(all_answered, CATCH_UP_TIMEOUT, f"{side} catch-up")
    last = max(
        (
            m.at
            for m in rig.client.received(room)
            if m.sender == bot_id and related_events(m.content) & set(sent)
        ),
        default=0.0,
    )
    seconds = last - bot.started_at if answered["n"] == commands else None
    await asyncio.sleep(SETTLE_SECONDS)
    counts = answers(rig.client, room, bot_id, sent)
    return {
        "commands": commands,
        "seconds": seconds,
        "answered": len(counts),
        "answered_twice": sum(1 for n in counts.values() if n > 1),
    }


def catch_up_figure(results: dict[str, dict[str, Any]]) -> Figure:
    bot, nio = results["vecinos"], results["nio"]
    complete = bot["answered"] == bot["commands"] and not bot["answered_twice"]
    return Figure(
        name=f"restart catch-up: {bot['commands']} commands sent while down, all answered",
        value=bot["seconds"],
        baseline=nio["seconds"],
        unit="s",
        baseline_name="bare nio bot, same backlog",
        budget="all answered, none twice",
        within=complete,
        value_text=_catch_up_text(bot),
        baseline_text=_catch_up_text(nio),
    )


def _catch_up_text(result: dict[str, Any]) -> str:
    seconds = result["seconds"]
    shown = "not all" if seconds is None else f"{seconds:.2f} s"
    extra = f", {result['answered_twice']} twice" if result["answered_twice"] else ""
    return f"{shown} ({result['answered']}/{result['commands']}{extra})"


# --- running --------------------------------------------------------------------------------


async def measure(
    synapse: LocalSynapse, workdir: Path, rounds: int, backlog: int
) -> tuple[list[Figure], dict[str, Any]]:
    async with contextlib.AsyncExitStack() as stack:
        rig = await build(synapse, workdir, stack)
        seconds = await round_trips(rig, rounds)
        trips = await dispatch_trips(rig, rounds)
        restarts = {side: await catch_up(rig, side, backlog) for side in SIDES}
    figures = [
        round_trip_figure(seconds),
        dispatch_figure(trips, seconds["vecinos"]),
        catch_up_figure(restarts),
    ]
    details = {
        "round_trip": round_trip_details(seconds),
        "dispatch_ms": [round(s * 1000, 2) for s in trips],
        "catch_up": restarts,
    }
    return figures, details
