"""`vecinos console`: chat with the bot in this terminal; nothing leaves the computer.

Log lines go to a file in the data directory, named once at the start, so that they never
land in the middle of the chat.
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from collections.abc import Callable
from contextlib import ExitStack
from pathlib import Path

from bot.cli.common import read_key, read_settings
from bot.core.config import HealthSection, Settings
from bot.devtools.network import PEOPLE, ROOMS, rooms_of, sample_config, walkthrough
from bot.ops.logs import setup_logging
from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins, default_schema
from bot.storage.keys import DataKey
from bot.transports.console import ROOM_ID, ConsoleTransport

CONSOLE_USER = "ana"
LOG_FILE = "console.log"
CONSOLE_BANNER = """\
Vecinos console: a small network in this terminal; nothing leaves this computer.
Rooms: {rooms}. People: {people}.
You are {user} in {room}. /room NAME switches room, /as NAME person; {prefix}help lists the
commands you may use where you are. Ctrl-D quits."""


def cmd_console(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        if args.config is None:
            temporary = stack.enter_context(tempfile.TemporaryDirectory(prefix="vecinos-"))
            settings, key = console_settings(Path(temporary)), DataKey.generate()
        else:
            settings = read_settings(args.config)
            key = read_key(settings)
        log = settings.bot.data_dir / LOG_FILE
        log.parent.mkdir(parents=True, exist_ok=True)
        setup_logging(settings.bot.log_level, stack.enter_context(log.open("a", encoding="utf-8")))
        print(f"(log lines go to {log}{'' if args.config else ', removed when you quit'})")
        asyncio.run(_chat(settings, key))
    return 0


def console_settings(data_dir: Path) -> Settings:
    """The sample network (`bot.devtools.network`) on console rooms named by their short
    names, its people by their sample names."""
    config = sample_config({room.name: room.short for room in ROOMS}, {p: p for p in PEOPLE})
    for room in config["rooms"]:
        room["transport"] = "console"
    config["bot"] = {"data_dir": data_dir, "log_level": "WARNING"}
    return Settings.with_schema(default_schema())(**config)


def console_transport(settings: Settings, write: Callable[[str], None] = print) -> ConsoleTransport:
    """The terminal, in the config's console rooms, as the first sample person."""
    rooms = [room.id for room in settings.rooms if room.transport == "console"]
    return ConsoleTransport(
        user=CONSOLE_USER, write=write, rooms=rooms or [ROOM_ID], members=_sample_members(rooms)
    )


def _sample_members(rooms: list[str]) -> dict[str, set[str]] | None:
    """Who is in which room, when the rooms are the sample network's: each person is in the
    rooms it gives them, so a hint about another room names only theirs."""
    if {room.short for room in ROOMS} != set(rooms):
        return None
    members: dict[str, set[str]] = {room: set() for room in rooms}
    for person in PEOPLE:
        for room in rooms_of(person):
            members[room.short].add(person)
    return members


async def _chat(settings: Settings, key: DataKey) -> None:
    # A terminal chat is no service to watch, and the real bot may hold the health port.
    settings = settings.model_copy(update={"health": HealthSection(enabled=False)})
    app = Application(settings, key, default_plugins())
    transport = console_transport(settings)
    await app.start([transport])
    try:
        if not any(room.transport == "console" for room in settings.rooms):
            print("note: the config has no console room, so commands act as in an unknown room")
        print(
            CONSOLE_BANNER.format(
                rooms=", ".join(transport.rooms),
                people=", ".join(f"{name} ({role})" for name, role in PEOPLE.items()),
                user=transport.user,
                room=transport.current,
                prefix=settings.bot.command_prefix,
            )
        )
        print("\n".join(walkthrough({room.name: room.short for room in ROOMS})))
        await transport.read_stdin()
    finally:
        await app.stop()
