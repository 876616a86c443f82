"""A burst of reports (the performance budget: 500 reports from 50 people across 10 rooms in 60 s,
all acknowledged, none lost).

Fifty E2E clients in this process, five to a room, each file ten `!report`s at stratified
random moments of the 60 s. Vecinos runs as `vecinos run` with the default rate limits
except the report limit, raised from 5 to 10 per person per 10 minutes (the burst's own
number). Every report event must get exactly one acknowledgement (with a report id) in its
thread, every report id must be different, and the moderation room must get exactly one
card per report (cards go through the durable outbox).

The baseline is the bare nio bot (`bench.nio_bot`) answering the same burst, sent by the
same clients on the same schedule in ten rooms of its own, after the Vecinos burst. Its
"acknowledgement" is an echo in the thread, so the latencies compare the bots' handling
and sending, not what the answers say.
"""

from __future__ import annotations

import asyncio
import contextlib
import random
import re
import statistics
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from bench.common import (
    AREA,
    BotFiles,
    CpuMeter,
    E2EClient,
    encrypted_room,
    percentile,
    register,
    related_events,
    start_client,
    text,
)
from bench.procs import Child, nio_process, vecinos_process
from bench.report import Figure
from bot.devtools.local_synapse import LocalSynapse, RegisteredUser

SIDES = ("vecinos", "nio")
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
PLACES = ("18th & Ashland", "Cermak & Blue Island", "21st & Damen", "Loomis & 19th")
SIGHTINGS = ("agents detaining someone", "two unmarked vans", "agents asking for papers")
ACK_TIMEOUT = 180.0
SETTLE_SECONDS = 5.0
POLL_SECONDS = 0.25
START_PARALLEL = 5


@dataclass(frozen=True)
class Sizes:
    people: int
    rooms: int
    per_person: int
    seconds: float


@dataclass
class Sent:
    person: int
    room: str
    event_id: str
    began: float


@dataclass
class Rig:
    sizes: Sizes
    people: list[E2EClient]
    moderator: E2EClient
    bots: dict[str, Child]
    bot_ids: dict[str, str]
    rooms: dict[str, list[str]]  # side -> rooms; person i is in rooms[side][i % rooms]
    mods_room: str
    meter: CpuMeter

    def room_of(self, side: str, person: int) -> str:
        return self.rooms[side][person % self.sizes.rooms]


@dataclass
class Outcome:
    sent: list[Sent] = field(default_factory=list)
    send_errors: list[str] = field(default_factory=list)
    sending_seconds: float = 0.0
    acks: Counter[str] = field(default_factory=Counter)  # event id -> acknowledgements
    latency_ms: list[float] = field(default_factory=list)
    last_ack_after_last_send: float | None = None
    report_ids: Counter[str] = field(default_factory=Counter)
    cards: Counter[str] = field(default_factory=Counter)  # report id -> cards
    synapse_cpu: float | None = None
    bot_cpu: float | None = None
    undecrypted: int = 0  # messages the people and the moderator could not decrypt
    sync_gaps: int = 0  # their sync batches that skipped events (should stay 0)
    bot_warnings: list[str] = field(default_factory=list)

    @property
    def lost(self) -> int:
        return sum(1 for s in self.sent if self.acks[s.event_id] == 0) + len(self.send_errors)

    @property
    def twice(self) -> int:
        return sum(1 for s in self.sent if self.acks[s.event_id] > 1)

    @property
    def acknowledged(self) -> int:
        return sum(1 for s in self.sent if self.acks[s.event_id] == 1)


# --- set-up ---------------------------------------------------------------------------------


async def build(
    synapse: LocalSynapse, workdir: Path, sizes: Sizes, stack: contextlib.AsyncExitStack
) -> Rig:
    bot, nio, mod = [await register(synapse, f"burst-{n}") for n in ("vecinos", "nio", "mod")]
    people = [await register(synapse, f"burst-p{i:02d}") for i in range(sizes.people)]
    rooms = {
        "vecinos": await _rooms(synapse, people, bot, sizes.rooms),
        "nio": await _rooms(synapse, people, nio, sizes.rooms),
    }
    mods_room = await encrypted_room(synapse, mod, [bot])
    bots = {
        "vecinos": vecinos_process(
            _bot_files(synapse, workdir, bot, rooms["vecinos"], mods_room, mod)
        ),
        "nio": nio_process(synapse.base_url, nio, workdir / "nio"),
    }
    for child in bots.values():
        child.start()
        stack.push_async_callback(child.stop)
        await child.wait_ready()
    clients = await _start_clients(synapse, [*people, mod], workdir / "stores", stack)
    bot_ids = {"vecinos": bot.user_id, "nio": nio.user_id}
    rig = Rig(sizes, clients[:-1], clients[-1], bots, bot_ids, rooms, mods_room, CpuMeter(synapse))
    await _prepare(rig)
    return rig


async def _rooms(
    synapse: LocalSynapse, people: list[RegisteredUser], bot: RegisteredUser, count: int
) -> list[str]:
    """`count` rooms with the bot; person i is in room i % count (the first one made it)."""
    rooms = []
    for n in range(count):
        members = people[n::count]
        rooms.append(await encrypted_room(synapse, members[0], [*members[1:], bot]))
    return rooms


def _bot_files(
    synapse: LocalSynapse,
    workdir: Path,
    bot: RegisteredUser,
    rooms: list[str],
    mods_room: str,
    mod: RegisteredUser,
) -> BotFiles:
    area = [AREA["slug"]]
    config_rooms = [{"id": room, "role": "neighborhood", "areas": area} for room in rooms]
    config_rooms.append({"id": mods_room, "role": "moderation", "areas": area})
    # The defaults, but for the report limit: 5 per person per 10 minutes would refuse half.
    overrides = {"bot": {"commands_per_minute": 20}, "reports": {"per_person_limit": 10}}
    return BotFiles(
        workdir / "vecinos", synapse.base_url, bot, config_rooms, [mod.user_id], overrides
    )


async def _start_clients(
    synapse: LocalSynapse,
    users: list[RegisteredUser],
    stores: Path,
    stack: contextlib.AsyncExitStack,
) -> list[E2EClient]:
    slots = asyncio.Semaphore(START_PARALLEL)

    async def one(user: RegisteredUser) -> E2EClient:
        async with slots:
            client = await start_client(synapse, user, stores / user.user_id)
            stack.push_async_callback(client.close)
            return client

    return list(await asyncio.gather(*(one(user) for user in users)))


async def _prepare(rig: Rig) -> None:
    """Every client knows its rooms' members and devices before the clock starts."""
    slots = asyncio.Semaphore(START_PARALLEL)

    async def one(person: int) -> None:
        async with slots:
            for side in SIDES:
                await rig.people[person].prepare(rig.room_of(side, person))

    await asyncio.gather(*(one(person) for person in range(len(rig.people))))
    await rig.moderator.prepare(rig.mods_room)


# --- the burst ------------------------------------------------------------------------------


def schedule(sizes: Sizes, seed: int) -> list[list[float]]:
    """Per person, when to send each report: one at a random moment of each 1/per_person
    slice of the burst, so the rate stays even (about people * per_person / seconds)."""
    rng = random.Random(seed)
    slice_ = sizes.seconds / sizes.per_person
    return [
        [(k + rng.random()) * slice_ for k in range(sizes.per_person)] for _ in range(sizes.people)
    ]


def report_text(n: int) -> str:
    return f"!report {PLACES[n % len(PLACES)]}; {SIGHTINGS[n % len(SIGHTINGS)]}"


async def burst(rig: Rig, side: str, plan: list[list[float]]) -> Outcome:
    outcome = Outcome()
    cpu, bot_cpu = rig.meter.read(), rig.bots[side].cpu_seconds()
    began = time.perf_counter()
    await asyncio.gather(
        *(_person(rig, side, p, moments, began, outcome) for p, moments in enumerate(plan))
    )
    outcome.sending_seconds = time.perf_counter() - began
    await _wait_for_acks(rig, side, outcome)
    outcome.synapse_cpu = (rig.meter.read() - cpu).synapse
    outcome.bot_cpu = rig.bots[side].cpu_seconds() - bot_cpu
    await asyncio.sleep(SETTLE_SECONDS)
    _count(rig, side, outcome)
    clients = [*rig.people, rig.moderator]
    outcome.undecrypted = sum(client.undecrypted() for client in clients)
    outcome.sync_gaps = sum(client.gaps for client in clients)
    outcome.bot_warnings = rig.bots[side].warnings()
    return outcome


async def _person(
    rig: Rig, side: str, person: int, moments: list[float], began: float, outcome: Outcome
) -> None:
    client, room = rig.people[person], rig.room_of(side, person)
    for k, moment in enumerate(moments):
        await asyncio.sleep(max(0.0, began + moment - time.perf_counter()))
        start = time.perf_counter()
        try:
            event_id = await client.send(room, text(report_text(person + k)))
        except Exception as error:  # counted as lost: the burst goes on
            outcome.send_errors.append(f"{client.user_id}: {error}")
            continue
        outcome.sent.append(Sent(person, room, event_id, start))


async def _wait_for_acks(rig: Rig, side: str, outcome: Outcome) -> None:
    """Until every report is acknowledged (and, for Vecinos, has its card) or time is up."""
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(ACK_TIMEOUT):
            while True:
                _count(rig, side, outcome)
                cards_done = side != "vecinos" or len(outcome.cards) >= len(outcome.sent)
                if outcome.acknowledged + outcome.twice == len(outcome.sent) and cards_done:
                    return
                await asyncio.sleep(POLL_SECONDS)


def _count(rig: Rig, side: str, outcome: Outcome) -> None:
    """Acknowledgements per report event, their latencies, report ids and cards."""
    bot_id = rig.bot_ids[side]
    sent = {s.event_id: s for s in outcome.sent}
    acks: Counter[str] = Counter()
    ids: Counter[str] = Counter()
    latency, last = [], 0.0
    for person, client in enumerate(rig.people):
        for message in client.received(rig.room_of(side, person)):
            found = REPORT_ID.search(message.body)
            if message.sender != bot_id or (side == "vecinos" and not found):
                continue
            for event_id in related_events(message.content) & sent.keys():
                if sent[event_id].person != person:
                    continue  # the same ack, seen by the reporter's room mates
                acks[event_id] += 1
                ids.update([found[0]] if found else [])
                latency.append((message.at - sent[event_id].began) * 1000)
                last = max(last, message.at)
    outcome.acks, outcome.report_ids, outcome.latency_ms = acks, ids, latency
    if latency and outcome.sent:
        outcome.last_ack_after_last_send = last - max(s.began for s in outcome.sent)
    if side == "vecinos":
        outcome.cards = _cards(rig)


def _cards(rig: Rig) -> Counter[str]:
    cards: Counter[str] = Counter()
    for message in rig.moderator.received(rig.mods_room):
        found = REPORT_ID.search(message.body)
        if (
            message.sender == rig.bot_ids["vecinos"]
            and found
            and "m.new_content" not in message.content
        ):
            cards[found[0]] += 1
    return cards


# --- figures --------------------------------------------------------------------------------


def figures(sizes: Sizes, outcomes: dict[str, Outcome]) -> list[Figure]:
    bot, nio = outcomes["vecinos"], outcomes["nio"]
    total = sizes.people * sizes.per_person
    cards_ok = len(bot.cards) == len(bot.report_ids) == total and set(bot.cards.values()) == {1}
    ids_ok = len(bot.report_ids) == total and set(bot.report_ids.values()) == {1}
    correct = bot.acknowledged == total and not bot.lost and not bot.twice and cards_ok and ids_ok
    name = (
        f"burst: {total} reports, {sizes.people} people, {sizes.rooms} rooms, {sizes.seconds:.0f} s"
    )
    return [
        Figure(
            name=name,
            value=float(bot.acknowledged),
            baseline=float(nio.acknowledged),
            unit="",
            baseline_name="bare nio bot, same burst",
            budget="all acknowledged once, none lost",
            within=correct,
            value_text=_acks_text(bot, total) + f", {sum(bot.cards.values())} cards",
            baseline_text=_acks_text(nio, total),
        ),
        Figure(
            name=f"burst: ack latency p99 (p50 {_p(bot, 50)} vs {_p(nio, 50)})",
            value=percentile(bot.latency_ms, 99) if bot.latency_ms else None,
            baseline=percentile(nio.latency_ms, 99) if nio.latency_ms else None,
            unit="ms",
            baseline_name="bare nio bot, same burst",
        ),
    ]


def _acks_text(outcome: Outcome, total: int) -> str:
    return f"{outcome.acknowledged}/{total} once, {outcome.lost} lost, {outcome.twice} twice"


def _p(outcome: Outcome, q: float) -> str:
    return f"{percentile(outcome.latency_ms, q):.0f} ms" if outcome.latency_ms else "-"


def details(outcome: Outcome) -> dict[str, Any]:
    latency = outcome.latency_ms
    return {
        "sent": len(outcome.sent),
        "send_errors": outcome.send_errors[:20],
        "sending_seconds": outcome.sending_seconds,
        "acknowledged_once": outcome.acknowledged,
        "lost": outcome.lost,
        "acknowledged_twice": outcome.twice,
        "distinct_report_ids": len(outcome.report_ids),
        "cards": sum(outcome.cards.values()),
        "reports_with_one_card": sum(1 for n in outcome.cards.values() if n == 1),
        "latency_ms": {
            "p50": statistics.median(latency) if latency else None,
            "p90": percentile(latency, 90) if latency else None,
            "p99": percentile(latency, 99) if latency else None,
            "max": max(latency, default=None),
        },
        "last_ack_after_last_send_seconds": outcome.last_ack_after_last_send,
        "synapse_cpu_seconds": outcome.synapse_cpu,
        "bot_process_cpu_seconds": outcome.bot_cpu,
        "undecrypted_by_clients": outcome.undecrypted,
        "client_sync_gaps": outcome.sync_gaps,
        "bot_log_warnings": outcome.bot_warnings,
    }


async def measure(
    synapse: LocalSynapse, workdir: Path, sizes: Sizes
) -> tuple[list[Figure], dict[str, Any]]:
    plan = schedule(sizes, seed=8)
    outcomes: dict[str, Outcome] = {}
    async with contextlib.AsyncExitStack() as stack:
        rig = await build(synapse, workdir, sizes, stack)
        for side in SIDES:
            outcomes[side] = await burst(rig, side, plan)
    return figures(sizes, outcomes), {side: details(o) for side, o in outcomes.items()}
