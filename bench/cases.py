"""Case commands with 1,000 open cases stored (the budget: p99 <= 5 ms per command).

Like `bench.processing`, the whole bot runs in this process on the console transport, with
its SQLite database on disk and its durable outbox, and a sample is the wall time of one
`ConsoleTransport.say()` in the legal room, followed by one sample of the same line said
to a host that only echoes it (the baseline). The outbox sends what a command queued (the
edit of the case's card) between samples, untimed.

Before sampling, 1,000 cases are opened through the plugin as `!case new` opens them (each
stored encrypted, its card sent, its reminder set), then the legal team's commands go
round them: `!case C… note TEXT` (the note stored, the card edited), `!case C… located
PLACE`, and `!cases` (the open cases of the room, each with what is overdue).
"""

from __future__ import annotations

import itertools
import tempfile
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from bench.common import AREA
from bench.processing import Say, drain, echo_transport, milliseconds, p99_figure, speaker, stats
from bench.report import Figure
from bot.core.config import load_settings
from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins, default_schema
from bot.storage.keys import DataKey
from bot.transports.console import TRANSPORT, ConsoleTransport
from plugins.cases import CasesPlugin

OPEN_CASES = 1000
LEGAL = "legal"
TEAM = tuple(f"legal{n}" for n in range(10))  # within 1,000 commands a minute each
PLACES = ("Broadview", "Dodge County", "the processing center", "Kenosha")
NOTES = ("family called", "lawyer visit set for Monday", "bond fund asked", "kids with aunt")


@dataclass(frozen=True)
class Sizes:
    warm_up: int
    samples: int  # of each command


@dataclass
class Sampled:
    bot: list[float]
    floor: list[float]


async def measure(sizes: Sizes) -> tuple[list[Figure], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="vecinos-bench-cases-") as tmp:
        async with _running(Path(tmp)) as (app, say, echo):
            ids = await _open_cases(app, say)
            sampled = {
                name: await _sample(app, say, echo, lines(ids), sizes)
                for name, lines in COMMANDS.items()
            }
    figures = [_figure(name, s) for name, s in sampled.items()]
    details = {
        "open_cases": OPEN_CASES,
        "samples": {name: len(s.bot) for name, s in sampled.items()},
        "ms": {name: stats(s.bot) for name, s in sampled.items()},
        "echo_host_ms": {name: stats(s.floor) for name, s in sampled.items()},
    }
    return figures, details


def _figure(command: str, sampled: Sampled) -> Figure:
    setting = f"{OPEN_CASES:,} open cases; "
    return p99_figure(f"case command p99, {command}", setting, sampled.bot, sampled.floor)


# --- the commands -----------------------------------------------------------------------------


def _notes(ids: list[str]) -> Iterator[tuple[str, str]]:
    for n in itertools.count():
        yield TEAM[n % len(TEAM)], f"!case {ids[n % len(ids)]} note {NOTES[n % len(NOTES)]}"


def _located(ids: list[str]) -> Iterator[tuple[str, str]]:
    for n in itertools.count():
        # From the other end of the cases, so notes and places fall on different cards.
        case = ids[-1 - n % len(ids)]
        yield TEAM[n % len(TEAM)], f"!case {case} located {PLACES[n % len(PLACES)]}"


def _listings(ids: list[str]) -> Iterator[tuple[str, str]]:
    for n in itertools.count():
        yield TEAM[n % len(TEAM)], "!cases"


COMMANDS = {"!case … note": _notes, "!case … located": _located, "!cases": _listings}


async def _sample(
    app: Application, say: Say, echo: Say, lines: Iterator[tuple[str, str]], sizes: Sizes
) -> Sampled:
    sampled = Sampled([], [])
    for index, (person, line) in enumerate(itertools.islice(lines, sizes.warm_up + sizes.samples)):
        bot = await milliseconds(say(person, line))
        await drain(app)
        floor = await milliseconds(echo(person, line))
        if index >= sizes.warm_up:
            sampled.bot.append(bot)
            sampled.floor.append(floor)
    return sampled


# --- the bot ----------------------------------------------------------------------------------


async def _open_cases(app: Application, say: Say) -> list[str]:
    """1,000 open cases in the legal room's area, opened with `!case new` (untimed)."""
    for n in range(OPEN_CASES):
        await say(TEAM[n % len(TEAM)], f"!case new {AREA['slug']} P{n}")
        await drain(app)
    plugin = app.runtime.registry.plugin(CasesPlugin.name)
    assert isinstance(plugin, CasesPlugin)
    ids = [case.id for case in plugin.store.open_cases()]
    if len(ids) != OPEN_CASES:
        raise RuntimeError(f"{len(ids)} cases open, not {OPEN_CASES}")
    # Opened over weeks in a real network: the write-ahead log long checkpointed.
    await app.bot.db.fetchone("PRAGMA wal_checkpoint(TRUNCATE)")
    return ids


def _write_config(workdir: Path) -> Path:
    config = {
        "bot": {"data_dir": str(workdir / "data"), "commands_per_minute": 1000},
        "reports": {"timezone": "America/Chicago"},
        "health": {"enabled": False},  # no network in these figures
        "areas": [AREA],
        "rooms": [
            {"id": LEGAL, "transport": TRANSPORT, "role": "legal", "areas": [AREA["slug"]]},
            {"id": "mods", "transport": TRANSPORT, "role": "moderation", "areas": [AREA["slug"]]},
        ],
    }
    path = workdir / "config.toml"
    path.write_text(tomli_w.dumps(config))
    return path


@asynccontextmanager
async def _running(workdir: Path) -> AsyncIterator[tuple[Application, Say, Say]]:
    settings = load_settings(_write_config(workdir), env={}, schema=default_schema())
    app = Application(settings, DataKey.generate(), default_plugins())
    transport = ConsoleTransport(write=lambda _line: None, rooms=[LEGAL, "mods"])
    transport.current = LEGAL
    await app.start([transport])
    try:
        yield app, speaker(transport), speaker(await echo_transport())
    finally:
        await app.stop()
