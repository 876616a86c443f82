"""One console room in the Pilsen area: its config, and a chat that keeps the bot's answers.

Shared by the unit tests that drive the whole core through the console transport.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from pathlib import Path

from bot.cli import console
from bot.core.config import Settings
from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins
from bot.storage.keys import DataKey
from bot.transports.console import BOT_ID, ConsoleTransport
from testkit.config import write_settings
from testkit.networks import CONSOLE


def console_settings(
    tmp_path: Path,
    *,
    head: str = "",
    bot: str = "",
    sections: str = "",
    role: str = "neighborhood",
    room: str = "",
) -> Settings:
    """Write tmp_path/config.toml for the one console room and load it without the environment.

    `head` goes before the first table (moderators, admins), `bot` into [bot], `sections` are
    whole tables of their own, `room` extra keys of the room.
    """
    return write_settings(
        tmp_path, CONSOLE, head=head, bot=bot, sections=sections, role=role, room=room
    )


class ConsoleChat:
    """A console transport that keeps what the bot writes; `say` returns its answers."""

    def __init__(self, user: str = "you") -> None:
        self.output: list[str] = []
        self.transport = ConsoleTransport(user=user, write=self.output.append)

    async def say(self, line: str, *, user: str | None = None) -> list[str]:
        """Type `line` (as `user`, who stays the speaker after); the bot's lines it caused."""
        if user is not None:
            self.transport.user = user
        return await self.answers(self.transport.say(line))

    async def answers(self, handled: Awaitable[object]) -> list[str]:
        """What the bot wrote while `handled` ran, without its `vecinos> ` prefix."""
        start = len(self.output)
        await handled
        prefix = f"{BOT_ID}> "
        return [line.removeprefix(prefix) for line in self.output[start:]]


Typist = Callable[[str], Awaitable[list[str]]]


@asynccontextmanager
async def console_network(tmp_path: Path) -> AsyncIterator[Typist]:
    """The `vecinos console` network (a room of every kind) running with every plugin; yields
    a typist: it types a line (or a /command) and returns every line the bot wrote for it,
    once nothing is left to send."""
    settings = console.console_settings(tmp_path)
    app = Application(settings, DataKey.generate(), default_plugins())
    out: list[str] = []
    transport = console.console_transport(settings, write=out.append)
    await app.start([transport])

    async def type_(line: str) -> list[str]:
        start = len(out)
        await transport.say(line)
        while await app.bot.outbox.backlog():
            await asyncio.sleep(0.01)
        return out[start:]

    try:
        yield type_
    finally:
        await app.stop()
