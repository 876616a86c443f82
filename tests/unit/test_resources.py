"""`!rights` and `!hotline`: configured texts win, built-in ones otherwise, both languages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from testkit.console import ConsoleChat, console_settings

from bot.runtime.app import Application
from bot.storage.keys import DataKey
from plugins.resources import Resources


class Chat:
    """The bot's answers to one line, as one text."""

    def __init__(self, chat: ConsoleChat) -> None:
        self.chat = chat

    async def say(self, text: str) -> str:
        return "\n".join(await self.chat.say(text))


async def chat(tmp_path: Path, resources: str = "") -> AsyncIterator[Chat]:
    settings = console_settings(tmp_path, sections=f"[resources]\n{resources}")
    console = ConsoleChat()
    app = Application(settings, DataKey.generate(), [Resources])
    await app.start([console.transport])
    try:
        yield Chat(console)
    finally:
        await app.stop()


@pytest.fixture
async def default(tmp_path: Path) -> AsyncIterator[Chat]:
    async for c in chat(tmp_path):
        yield c


@pytest.fixture
async def configured(tmp_path: Path) -> AsyncIterator[Chat]:
    resources = 'rights_es = "Llama a la línea."\nhotline = "(773) 555-0100"'
    async for c in chat(tmp_path, resources):
        yield c


async def test_built_in_rights_in_english_and_spanish(default: Chat) -> None:
    assert "right to remain silent" in await default.say("!rights")
    assert "derecho a guardar silencio" in await default.say("!derechos")


async def test_no_hotline_is_said_plainly(default: Chat) -> None:
    assert "No hotline number is configured" in await default.say("!hotline")


async def test_configured_texts_win(configured: Chat) -> None:
    spanish = await configured.say("!derechos")
    assert "Llama a la línea." in spanish and "(773) 555-0100" in spanish
    assert "right to remain silent" in await configured.say("!rights")
    assert "(773) 555-0100" in await configured.say("!linea")
