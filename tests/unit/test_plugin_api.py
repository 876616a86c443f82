"""A plugin written against the public plugin API only (tests/unit/tally_plugin/) works:
its config section and role, its command in both languages, its table, and `!forgetme`.
Tested as a plugin's author would, with the plugin test kit (`bot.api.testing`) alone."""

from __future__ import annotations

import ast
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from tally_plugin import Tally

from bot.api.testing import ConfigError, PluginWorld

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


def world(
    tmp_path: Path, tally: str = "", plugins: tuple[type[Tally], ...] = (Tally,)
) -> PluginWorld:
    return PluginWorld(tmp_path, plugins=plugins, config=CONFIG.replace("{tally}", tally))


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


def test_its_tests_import_nothing_of_the_core_but_the_test_kit() -> None:
    tree = ast.parse(Path(__file__).read_text(encoding="utf-8"))
    imported = {n.module for n in ast.walk(tree) if isinstance(n, ast.ImportFrom) and n.module}
    assert {name for name in imported if name.split(".")[0] == "bot"} == {"bot.api.testing"}


def test_its_config_section_is_checked_like_the_cores(tmp_path: Path) -> None:
    settings = world(tmp_path, "[tally]\nmax_per_person = 2").settings()
    assert settings.role("counting").level > 0
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as bad:
        world(tmp_path, '[tally]\nmax_per_person = 0\ncolour = "red"').settings()
    assert str(bad.value).splitlines() == [
        f"{path}: tally.max_per_person: must be at least 1",
        f"{path}: tally.colour: unknown key",
    ]
    # References to the rest of the config are checked once every key is valid.
    with pytest.raises(ConfigError) as bad:
        world(tmp_path, '[tally]\narea = "pilsn"').settings()
    assert str(bad.value) == (
        f'{path}: tally.area: unknown area "pilsn": did you mean pilsen? (known: pilsen)'
    )
    overridden = world(tmp_path).settings(env={"VECINOS_TALLY__MAX_PER_PERSON": "7"})
    assert overridden.section(Tally.config).tally.max_per_person == 7  # type: ignore[union-attr]


def test_without_the_plugin_its_keys_and_role_are_unknown(tmp_path: Path) -> None:
    path = tmp_path / "config.toml"
    with pytest.raises(ConfigError) as bad:
        world(tmp_path, "[tally]", plugins=()).settings()
    # Both at once: the unknown key, and the room role nothing declares.
    assert str(bad.value).splitlines() == [
        f"{path}: tally: unknown key",
        f'{path}: rooms[0].role: must be one of neighborhood, moderation (got "counting")',
    ]
    with pytest.raises(ConfigError) as bad:
        world(tmp_path, plugins=()).settings()
    expected = 'rooms[0].role: must be one of neighborhood, moderation (got "counting")'
    assert str(bad.value) == f"{path}: {expected}"


@pytest.fixture
async def running(tmp_path: Path) -> AsyncIterator[PluginWorld]:
    started = await world(tmp_path, "[tally]\nmax_per_person = 2").start()
    try:
        yield started
    finally:
        await started.stop()


async def say(running: PluginWorld, text: str) -> list[str]:
    return [sent.text for sent in await running.say("console", USER, text)]


async def test_its_command_works_in_both_languages_and_stores_encrypted(
    running: PluginWorld,
) -> None:
    assert await say(running, "!tally guava") == ["You have 1 word."]
    assert await say(running, "!cuenta mango") == ["Tienes 2 palabras."]
    assert await say(running, "!tally kiwi") == ["You already have 2 words."]
    data = running.raw_bytes()
    assert b"guava" not in data and b"mango" not in data and USER.encode() not in data
    help_text = "\n".join(await say(running, "!help"))
    assert "!tally <word>" in help_text and "Keep a word and count yours." in help_text


async def test_forgetme_erases_what_it_kept(running: PluginWorld) -> None:
    await say(running, "!tally guava")
    await say(running, "!forgetme yes")
    row = await running.bot.db.fetchone("SELECT COUNT(*) AS n FROM tally_words")
    assert row is not None and row["n"] == 0
    assert await say(running, "!tally guava") == ["You have 1 word."]
