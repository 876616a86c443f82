"""A plugin written against the public plugin API only (tests/unit/tally_plugin/) works:
its config section and role, its command in both languages, its table, and `!forgetme`."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tally_plugin import Tally
from testkit.console import ConsoleChat

from bot.core.config import ConfigError, Settings, load_settings
from bot.core.plugin import schema_of
from bot.runtime.app import Application
from bot.storage.keys import DataKey

PLUGIN_DIR = Path(__file__).parent / "tally_plugin"
USER = "@ana:example.org"
CONFIG = """
[bot]
data_dir = "{data}"

{tally}

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"

[[rooms]]
id = "console"
transport = "console"
role = "counting"
areas = ["pilsen"]
"""


def load(tmp_path: Path, tally: str = "", env: dict[str, str] | None = None) -> Settings:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(data=tmp_path / "data", tally=tally), encoding="utf-8")
    return load_settings(path, env or {}, schema_of([Tally]))


def test_the_plugin_imports_nothing_of_the_core_but_bot_api() -> None:
    imported = set()
    for source in PLUGIN_DIR.rglob("*.py"):
        for node in ast.walk(ast.parse(source.read_text(encoding="utf-8"))):
            if isinstance(node, ast.ImportFrom) and node.module:
                imported.add(node.module)
            elif isinstance(node, ast.Import):
                imported.update(alias.name for alias in node.names)
    core = {name for name in imported if name.split(".")[0] in ("bot", "plugins")}
    assert core == {"bot.api", "bot.api.config"}


def test_its_config_section_is_checked_like_the_cores(tmp_path: Path) -> None:
    settings = load(tmp_path, "[tally]\nmax_per_person = 2")
    assert settings.role("counting").level > 0
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as bad:
        load(tmp_path, '[tally]\nmax_per_person = 0\ncolour = "red"')
    assert str(bad.value).splitlines() == [
        f"{path}: tally.max_per_person: must be at least 1",
        f"{path}: tally.colour: unknown key",
    ]
    # References to the rest of the config are checked once every key is valid.
    with pytest.raises(ConfigError) as bad:
        load(tmp_path, '[tally]\narea = "pilsn"')
    assert str(bad.value) == f'{path}: tally.area: unknown area "pilsn" (known: pilsen)'
    overridden = load(tmp_path, env={"VECINOS_TALLY__MAX_PER_PERSON": "7"})
    assert overridden.section(Tally.config).tally.max_per_person == 7  # type: ignore[union-attr]


def test_without_the_plugin_its_keys_and_role_are_unknown(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG.format(data=tmp_path / "data", tally="[tally]"), encoding="utf-8")
    with pytest.raises(ConfigError) as bad:
        load_settings(path, {})
    assert str(bad.value) == f"{path}: tally: unknown key"
    path.write_text(CONFIG.format(data=tmp_path / "data", tally=""), encoding="utf-8")
    with pytest.raises(ConfigError) as bad:
        load_settings(path, {})
    expected = 'rooms[0].role: must be one of neighborhood, moderation (got "counting")'
    assert str(bad.value) == f"{path}: {expected}"


@pytest.fixture
async def chat(tmp_path: Path) -> AsyncIterator[tuple[ConsoleChat, Application]]:
    console = ConsoleChat(user=USER)
    app = Application(load(tmp_path, "[tally]\nmax_per_person = 2"), DataKey.generate(), [Tally])
    await app.start([console.transport])
    try:
        yield console, app
    finally:
        await app.stop()


async def test_its_command_works_in_both_languages_and_stores_encrypted(
    chat: tuple[ConsoleChat, Application], tmp_path: Path
) -> None:
    console, _app = chat
    assert await console.say("!tally guava") == ["You have 1 words."]
    assert await console.say("!cuenta mango") == ["Tienes 2 palabras."]
    assert await console.say("!tally kiwi") == ["You already have 2 words."]
    data = b"".join(p.read_bytes() for p in (tmp_path / "data").iterdir() if p.is_file())
    assert b"guava" not in data and b"mango" not in data and USER.encode() not in data
    help_text = "\n".join(await console.say("!help"))
    assert "!tally <word>" in help_text and "Keep a word and count yours." in help_text


async def test_forgetme_erases_what_it_kept(chat: tuple[ConsoleChat, Application]) -> None:
    console, app = chat
    await console.say("!tally guava")
    await console.say("!forgetme yes")
    row = await app.bot.db.fetchone("SELECT COUNT(*) AS n FROM tally_words")
    assert row is not None and row["n"] == 0
    assert await console.say("!tally guava") == ["You have 1 words."]
