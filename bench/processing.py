"""Command processing time, network excluded (the performance budget: p99 <= 5 ms).

The whole bot (every plugin, its SQLite database on disk, its durable outbox) runs in this
process on the console transport, which hands each typed line to the dispatcher as an
event and "sends" answers by calling a function. A sample is the wall time of one
`ConsoleTransport.say()`: event in, ledger, permissions, rate limits, the handler, its
database writes, the answer out. `!report` also files the report and queues a card for the
moderation room; the outbox sends those cards between samples, untimed, as it would
between two people's messages.

The baseline is the harness alone: the same transport, in the same loop, delivering the
same line to a host that only echoes it. Each command sample is followed by one baseline
sample, so both see the machine in the same state. The SQLite statements per command are
counted too, untimed: they are most of a command's cost, and what this code controls.
"""

from __future__ import annotations

import asyncio
import itertools
import statistics
import tempfile
import time
from collections.abc import Awaitable, Callable, Iterator
from contextlib import AsyncExitStack
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, cast

import tomli_w

from bench.common import AREA, percentile
from bench.report import Figure
from bot.core.config import load_settings
from bot.core.events import Event, OutgoingMessage
from bot.core.transport import TransportHost
from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins, default_schema
from bot.storage.keys import DataKey
from bot.transports.console import ROOM_ID, ConsoleTransport
from plugins.vehicles import Vehicles

BUDGET_MS = 5.0
PEOPLE = 50  # reports rotate over people: 20 each in the full run, within the limit of 100
PLACES = ("18th & Ashland", "Cermak & Blue Island", "21st & Damen", "Loomis & 19th")
SIGHTINGS = ("agents detaining someone", "two unmarked vans", "agents asking for papers")
COUNTED_COMMANDS = 20
# Plates of earlier reports a new report with a plate is compared with.
STORED_PLATES = 10_000
PLATED = f"report with a plate ({STORED_PLATES:,} plates stored)"

Lines = Callable[[], Iterator[tuple[str, str]]]
Say = Callable[[str, str], Awaitable[object]]


@dataclass(frozen=True)
class Sizes:
    warm_up: int
    pings: int
    reports: int


@dataclass
class Sampled:
    """One command's samples (ms), its baseline's, and its SQLite statements."""

    statements: float
    bot: list[float]
    floor: list[float]


async def measure(sizes: Sizes) -> tuple[list[Figure], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="vecinos-bench-cmd-") as tmp:
        sampled = await _sample(Path(tmp), sizes)
    figures = [_figure(f"!{name}", s) for name, s in sampled.items()]
    details = {
        "samples": {name: len(s.bot) for name, s in sampled.items()},
        "sqlite_statements_per_command": {name: s.statements for name, s in sampled.items()},
        "ms": {name: stats(s.bot) for name, s in sampled.items()},
        "echo_host_ms": {name: stats(s.floor) for name, s in sampled.items()},
    }
    return figures, details


def _figure(command: str, sampled: Sampled) -> Figure:
    statements = f"; {sampled.statements:g} SQLite statements"
    return p99_figure(f"command p99, {command}", "", sampled.bot, sampled.floor, statements)


def p99_figure(
    name: str, setting: str, bot: list[float], floor: list[float], floor_note: str = ""
) -> Figure:
    """A command's p99 against the per-command budget, beside the echo host's; the name
    says the p50 after `setting` (what was stored meanwhile, if anything)."""
    p99 = percentile(bot, 99)
    return Figure(
        name=f"{name} ({setting}p50 {statistics.median(bot):.2f} ms)",
        value=p99,
        baseline=percentile(floor, 99),
        unit="ms",
        baseline_name=f"echo host{floor_note}",
        budget=f"p99 <= {BUDGET_MS:g} ms",
        within=p99 <= BUDGET_MS,
        show_ratio=False,
    )


def stats(values: list[float]) -> dict[str, float]:
    return {
        "p50": statistics.median(values),
        "p90": percentile(values, 90),
        "p99": percentile(values, 99),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


# --- the bot --------------------------------------------------------------------------------


async def _sample(workdir: Path, sizes: Sizes) -> dict[str, Sampled]:
    commands: dict[str, tuple[Lines, int]] = {
        "ping": (_pings, sizes.pings),
        "report": (_reports, sizes.reports),
        PLATED: (_plated_reports, sizes.reports),
    }
    async with AsyncExitStack() as stack:
        app = Application(
            load_settings(_write_config(workdir), env={}, schema=default_schema()),
            DataKey.generate(),
            default_plugins(),
        )
        transport = ConsoleTransport(write=lambda _line: None)
        await app.start([transport])
        stack.push_async_callback(app.stop)
        say, echo = speaker(transport), speaker(await echo_transport())
        await _store_plates(app)
        sampled = {}
        for name, (lines, count) in commands.items():
            await _timed(say, itertools.islice(lines(), sizes.warm_up), app)
            statements = await _count_statements(app, say, lines())
            bot, floor = await _timed(say, itertools.islice(lines(), count), app, echo)
            sampled[name] = Sampled(statements, bot, floor)
    return sampled


async def _count_statements(app: Application, say: Say, lines: Iterator[tuple[str, str]]) -> float:
    """SQLite statements per command (BEGIN and COMMIT included), the outbox's own excluded.

    Traces the database's connection: the bench reaches into `Database` for it.
    """
    connection = app.bot.db._conn
    statements: list[str] = []
    counted = 0
    connection.set_trace_callback(statements.append)
    try:
        for person, line in itertools.islice(lines, COUNTED_COMMANDS):
            await drain(app)
            statements.clear()
            await say(person, line)
            counted += sum(1 for sql in statements if not _outbox_work(sql))
    finally:
        connection.set_trace_callback(None)
    return counted / COUNTED_COMMANDS


def _outbox_work(sql: str) -> bool:
    """The outbox worker's statements (it runs meanwhile), not queueing into the outbox."""
    return "FROM outbox" in sql or sql.startswith("UPDATE outbox")


def _write_config(workdir: Path) -> Path:
    rooms = [
        {"id": ROOM_ID, "transport": "console", "role": "neighborhood", "areas": [AREA["slug"]]},
        {"id": "mods", "transport": "console", "role": "moderation", "areas": [AREA["slug"]]},
        # Every report also calls the area's verifiers (its dispatch rooms).
        {"id": "dispatch", "transport": "console", "role": "dispatch", "areas": [AREA["slug"]]},
    ]
    config = {
        "bot": {"data_dir": str(workdir / "data"), "commands_per_minute": 1000},
        "reports": {"per_person_limit": 100},
        "health": {"enabled": False},  # no network in this figure
        "areas": [AREA],
        "rooms": rooms,
    }
    path = workdir / "config.toml"
    path.write_text(tomli_w.dumps(config))
    return path


def speaker(transport: ConsoleTransport) -> Say:
    async def say(person: str, line: str) -> object:
        transport.user = person
        return await transport.say(line)

    return say


async def _timed(
    say: Say,
    lines: Iterator[tuple[str, str]],
    app: Application | None,
    floor: Say | None = None,
) -> tuple[list[float], list[float]]:
    """Milliseconds per line, each followed by the same line said to `floor`; the outbox is
    drained between lines, untimed."""
    samples, floors = [], []
    for person, line in lines:
        samples.append(await milliseconds(say(person, line)))
        if app is not None:
            await drain(app)
        if floor is not None:
            floors.append(await milliseconds(floor(person, line)))
    return samples, floors


async def milliseconds(work: Awaitable[object]) -> float:
    began = time.perf_counter()
    await work
    return (time.perf_counter() - began) * 1000


async def drain(app: Application) -> None:
    while await app.bot.outbox.backlog():  # noqa: ASYNC110 (no "drained" event to wait on)
        await asyncio.sleep(0.001)


def _pings() -> Iterator[tuple[str, str]]:
    for n in itertools.count():
        yield f"person{n % PEOPLE}", "!ping"


def _reports() -> Iterator[tuple[str, str]]:
    for n in itertools.count():
        place, what = PLACES[n % len(PLACES)], SIGHTINGS[n % len(SIGHTINGS)]
        yield f"person{n % PEOPLE}", f"!report {place}; {what}"


def _plated_reports() -> Iterator[tuple[str, str]]:
    """Reports with a plate: one in three a plate stored before (read with a dash or an O
    for a 0), one in five partly read, the rest new; by other people than `_reports`'."""
    for n in itertools.count():
        place, what = PLACES[n % len(PLACES)], SIGHTINGS[n % len(SIGHTINGS)]
        plate = _plate(n + STORED_PLATES)
        if n % 3 == 0:
            stored = _plate(n % STORED_PLATES)
            plate = f"{stored[:3]}-{stored[3:]}".replace("0", "O")
        elif n % 5 == 0:
            plate = _plate(n % STORED_PLATES)[:4] + "**"
        yield f"plater{n % PEOPLE}", f"!report where: {place} | what: {what} | plate: {plate}"


def _plate(n: int) -> str:
    """The nth of a run of distinct plates: three letters, three digits."""
    letters = "ABCDEFGHJKLMNPRSTUVWXYZ"
    a, b, c = n % 23, n // 23 % 23, n // 529 % 23
    return f"{letters[a]}{letters[b]}{letters[c]}{n % 1000:03d}"


async def _store_plates(app: Application) -> None:
    """The plates of earlier reports a new one is compared with, as the vehicles plugin
    keeps them (each encrypted, under a keyed hash)."""
    vehicles = app.runtime.registry.plugin(Vehicles.name)
    assert isinstance(vehicles, Vehicles)
    filed_at = datetime.now(UTC)
    for n in range(STORED_PLATES):
        await vehicles.index.add(f"RB{n:05d}", [_plate(n)], filed_at)
    # Written over days in a real network: their write-ahead log long checkpointed.
    await app.bot.db.fetchone("PRAGMA wal_checkpoint(TRUNCATE)")


# --- the floor ----------------------------------------------------------------------------


class EchoHost:
    """A host that answers every event with its own text: nothing but the plumbing."""

    def __init__(self, transport: ConsoleTransport) -> None:
        self._transport = transport

    async def deliver(self, event: Event) -> None:
        body = getattr(event, "body", "")
        await self._transport.send(event.room.room_id, OutgoingMessage(plain=body))


async def echo_transport() -> ConsoleTransport:
    transport = ConsoleTransport(write=lambda _line: None)
    # Only `deliver` is ever called by the console transport.
    await transport.start(cast(TransportHost, EchoHost(transport)))
    return transport
