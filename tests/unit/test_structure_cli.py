"""`vecinos structure`: the network as TOML the config file takes back, the config file's
areas and rooms with those changed from chat (each marked "# from chat"); `vecinos check`
warning of chat changes the config file now overrides; and bad input."""

from __future__ import annotations

import asyncio
import os
import tomllib
from pathlib import Path
from typing import Any

import pytest
import tomli_w
from testkit.config import load_settings

from bot import cli
from bot.core.config import Area, RoomConfig, Settings
from bot.core.events import RoomRef
from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins
from bot.storage.keys import DataKey, load_data_key, write_key_file

FROM_CHAT = "# from chat"
SIGNAL_GROUP = "Pmpi+EfPWmsxiomLe9Nx2XF9HOE483p6iKiFj65iMwI="
CONFIG_AREAS = [
    {"slug": "chicago", "name_en": "Chicago", "name_es": "Chicago"},
    {"slug": "pilsen", "name_en": "Pilsen", "name_es": "Pilsen", "parent": "chicago"},
]
CONFIG_ROOMS = [
    {"id": "mods", "transport": "console", "role": "moderation", "areas": ["chicago"]},
    {"id": "hood", "transport": "console", "role": "neighborhood", "areas": ["pilsen"]},
    {"id": SIGNAL_GROUP, "transport": "signal", "role": "alerts", "areas": ["chicago"]},
    {"id": "old-hood", "transport": "console", "role": "neighborhood", "areas": ["pilsen"]},
]
# Changed from chat: an area inside Pilsen, a room adopted for it, and old-hood rotated.
LOOMIS = Area(slug="loomis", name_en="Loomis", name_es="Loomis", parent="pilsen")
LOBBY = RoomConfig(
    id="lobby", transport="console", role="neighborhood", areas=("loomis",), language="es"
)
SUCCESSOR = "new-hood"


@pytest.fixture(autouse=True)
def _no_vecinos_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in os.environ:
        if name.startswith("VECINOS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)


def config_dict(tmp_path: Path, areas: list[Any], rooms: list[Any]) -> dict[str, Any]:
    return {
        "admins": ["admin"],
        "bot": {"data_dir": str(tmp_path / "data"), "data_key_file": str(tmp_path / "v.key")},
        "reports": {"timezone": "America/Chicago"},
        "signal": {"account": "+15550001111", "mode": "http", "url": "http://127.0.0.1:1"},
        "areas": areas,
        "rooms": rooms,
    }


def write_config(tmp_path: Path, config: dict[str, Any], name: str = "config.toml") -> Path:
    path = tmp_path / name
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return path


async def change_from_chat(settings: Settings, key: DataKey) -> None:
    """What admins would do with !area add, !room here and !rotate, on the opened bot."""
    app = Application(settings, key, default_plugins())
    await app.open()
    try:
        structure = app.bot.structure
        await structure.add_area(LOOMIS)
        await structure.adopt(LOBBY)
        await structure.replace_room(RoomRef("console", "old-hood"), SUCCESSOR)
    finally:
        await app.stop()


@pytest.fixture
def config(tmp_path: Path) -> Path:
    """A config file whose data directory holds changes made from chat."""
    write_key_file(tmp_path / "v.key", DataKey.generate())
    path = write_config(tmp_path, config_dict(tmp_path, CONFIG_AREAS, CONFIG_ROOMS))
    settings = load_settings(path, env={})
    asyncio.run(change_from_chat(settings, load_data_key(settings.bot.data_key_file, {})))
    return path


def structure_of(path: Path, capsys: pytest.CaptureFixture[str]) -> str:
    assert cli.main(["structure", "-c", str(path)]) == 0
    captured = capsys.readouterr()
    assert captured.err == ""
    return captured.out


def tables(text: str) -> list[tuple[bool, str, dict[str, Any]]]:
    """Each `[[areas]]`/`[[rooms]]` table of the output: (marked from chat, kind, values)."""
    found = []
    for chunk in text.split("\n\n"):
        lines = chunk.splitlines()
        heading = next((i for i, line in enumerate(lines) if line.startswith("[[")), None)
        if heading is None:
            continue
        kind = lines[heading].strip("[]")
        [values] = tomllib.loads("\n".join(lines[heading:]))[kind]
        found.append((lines[heading - 1 : heading] == [FROM_CHAT], kind, values))
    return found


def test_the_structure_is_the_configs_with_the_chats_changes_marked(
    config: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    out = structure_of(config, capsys)
    assert out.startswith("# The network as the bot runs it")
    found = tables(out)
    assert [(chat, kind, values.get("slug") or values["id"]) for chat, kind, values in found] == [
        (False, "areas", "chicago"),
        (False, "areas", "pilsen"),
        (True, "areas", "loomis"),
        (False, "rooms", "mods"),
        (False, "rooms", "hood"),
        (False, "rooms", SIGNAL_GROUP),
        (True, "rooms", "lobby"),
        (True, "rooms", SUCCESSOR),  # old-hood's successor takes its place
    ]
    assert out.count(FROM_CHAT) == 3
    by_id = {values.get("slug") or values["id"]: values for _, _, values in found}
    assert by_id["loomis"] == {
        "slug": "loomis",
        "name_en": "Loomis",
        "name_es": "Loomis",
        "parent": "pilsen",
    }
    assert by_id["lobby"] == {
        "transport": "console",
        "id": "lobby",
        "role": "neighborhood",
        "areas": ["loomis"],
        "language": "es",
    }
    assert by_id[SIGNAL_GROUP]["transport"] == "signal"
    assert by_id[SUCCESSOR]["areas"] == ["pilsen"]


def test_the_printed_structure_makes_a_config_with_the_same_network(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    printed = tomllib.loads(structure_of(config, capsys))
    assert set(printed) == {"areas", "rooms"}
    rebuilt = config_dict(tmp_path, printed["areas"], printed["rooms"])
    settings = load_settings(write_config(tmp_path, rebuilt, "rebuilt.toml"), env={})
    running = load_settings(config, env={})
    # Without the chat's changes stored, the rebuilt file alone is the network the bot ran.
    assert [a.slug for a in settings.areas] == ["chicago", "pilsen", "loomis"]
    assert settings.area("loomis") == LOOMIS
    assert settings.room("console", "lobby") == LOBBY
    assert settings.room("console", "old-hood") is None
    new = settings.room("console", SUCCESSOR)
    old = running.room("console", "old-hood")
    assert new is not None and old is not None
    assert new == old.model_copy(update={"id": SUCCESSOR})
    for room in running.rooms:
        if room.id != "old-hood":
            assert settings.room(room.transport, room.id) == room


def test_check_warns_when_the_config_file_now_has_what_chat_changed(
    config: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert cli.main(["check", "-c", str(config)]) == 0
    before = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warning")]
    assert before == []

    # The operator pastes the printed network into the config file, keeping the data.
    printed = tomllib.loads(structure_of(config, capsys))
    write_config(tmp_path, config_dict(tmp_path, printed["areas"], printed["rooms"]))
    assert cli.main(["check", "-c", str(config)]) == 0  # warnings do not fail it
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(": 3 areas, 5 rooms")
    warnings = [line.split(None, 1)[1] for line in lines if line.startswith("warning")]
    assert warnings == [
        "area loomis is both in the config file and added from chat: the file's is used",
        "room lobby (console) is both in the config file and adopted from chat: the file's is used",
        f"room {SUCCESSOR} (console) is both in the config file and adopted from chat:"
        " the file's is used",
    ]
    # And the structure no longer marks them: the file's entries are the ones used.
    assert FROM_CHAT not in structure_of(config, capsys)


def test_the_data_key_may_come_from_the_environment(
    config: Path,
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    key_file = tmp_path / "v.key"
    monkeypatch.setenv("VECINOS_DATA_KEY", key_file.read_text(encoding="utf-8").strip())
    key_file.unlink()  # $VECINOS_DATA_KEY serves instead
    assert structure_of(config, capsys).count(FROM_CHAT) == 3


def test_structure_without_a_config_is_one_error_line(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["structure"]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.splitlines() == ["error: no config: give -c FILE or set $VECINOS_CONFIG"]


def test_structure_with_a_bad_config_names_the_problem(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    rooms = [{"id": "hood", "transport": "console", "role": "neighborhood", "areas": ["nowhere"]}]
    path = write_config(tmp_path, config_dict(tmp_path, CONFIG_AREAS, rooms))
    assert cli.main(["structure", "-c", str(path)]) == 2
    captured = capsys.readouterr()
    assert captured.out == "" and captured.err.startswith("error: ")
    assert "nowhere" in captured.err
