"""`!rights` and `!hotline`: configured texts win, built-in ones otherwise, both languages."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from bot.app import Application
from bot.config import load_settings
from bot.storage.keys import DataKey
from bot.transports.console import ConsoleTransport
from plugins.resources import Resources

CONFIG = """
[bot]
data_dir = "{data}"

[resources]
{resources}

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"

[[rooms]]
id = "console"
transport = "console"
role = "neighborhood"
areas = ["pilsen"]
"""


class Chat:
    def __init__(self, transport: ConsoleTransport, lines: list[str]) -> None:
        self.transport = transport
        self.lines = lines

    async def say(self, text: str) -> str:
        self.lines.clear()
        await self.transport.say(text)
        return "\n".join(self.lines)


async def chat(tmp_path: Path, resources: str = "") -> AsyncIterator[Chat]:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(data=tmp_path / "data", resources=resources))
    lines: list[str] = []
    transport = ConsoleTransport(write=lines.append)
    app = Application(load_settings(path, env={}), DataKey.generate(), [Resources])
    await app.start([transport])
    try:
        yield Chat(transport, lines)
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
