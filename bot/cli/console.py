"""`vecinos console`: chat with the bot in this terminal; nothing leaves the computer."""

from __future__ import annotations

import argparse
import asyncio
import tempfile
from contextlib import ExitStack
from pathlib import Path

from bot.cli.common import read_key, read_settings
from bot.core.config import Area, BotSection, HealthSection, RoomConfig, Settings
from bot.ops.logs import setup_logging
from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins, default_schema
from bot.storage.keys import DataKey
from bot.transports.console import ROOM_ID, ConsoleTransport

CONSOLE_USER = "you"
CONSOLE_BANNER = """\
Vecinos console: a local chat with the bot; nothing leaves this computer.
You are "{user}". Type {prefix}help to list the commands, /as NAME to speak as someone else,
Ctrl-D to quit."""


def cmd_console(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        if args.config is None:
            temporary = stack.enter_context(tempfile.TemporaryDirectory(prefix="vecinos-"))
            settings, key = console_settings(Path(temporary)), DataKey.generate()
        else:
            settings = read_settings(args.config)
            key = read_key(settings)
        setup_logging(settings.bot.log_level)
        asyncio.run(_chat(settings, key))
    return 0


def console_settings(data_dir: Path) -> Settings:
    """A throwaway setup: one console room in a `demo` area, its one person an admin."""
    room = RoomConfig(id=ROOM_ID, transport="console", role="neighborhood", areas=("demo",))
    settings_class = Settings.with_schema(default_schema())
    return settings_class(
        bot=BotSection(data_dir=data_dir, log_level="WARNING"),
        areas=(Area(slug="demo", name_en="Demo", name_es="Demo"),),
        rooms=(room,),
        admins=(CONSOLE_USER,),
    )


async def _chat(settings: Settings, key: DataKey) -> None:
    # A terminal chat is no service to watch, and the real bot may hold the health port.
    settings = settings.model_copy(update={"health": HealthSection(enabled=False)})
    app = Application(settings, key, default_plugins())
    transport = ConsoleTransport(user=CONSOLE_USER)
    await app.start([transport])
    try:
        if settings.room(transport.room.transport, transport.room.room_id) is None:
            print("note: the config has no console room, so commands act as in an unknown room")
        print(CONSOLE_BANNER.format(user=transport.user, prefix=settings.bot.command_prefix))
        await transport.read_stdin()
    finally:
        await app.stop()
