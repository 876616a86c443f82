"""The `vecinos` command without a homeserver: console, config errors, checks, demo files."""

from __future__ import annotations

import argparse
import asyncio
import os
import stat
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest
from testkit.config import load_settings
from testkit.console import console_network

from bot import cli
from bot.cli import console, init, run
from bot.cli.common import WRONG_KEY, example_config
from bot.cli.console import console_settings
from bot.devtools.demo import Demo, write_files
from bot.devtools.local_synapse import RegisteredUser
from bot.devtools.network import ADMIN, BOT, HOTLINE, MODERATOR, PEOPLE, ROOMS
from bot.runtime.app import Application, SecretSessions
from bot.runtime.connect import MATRIX_SESSION
from bot.storage.keys import DataKey, load_data_key, write_key_file
from plugins.resources.config import ResourcesConfig

CONSOLE_SCRIPT = "!ping\n/room villita\n!ping\n!help\n!lang es\n!ping\n"


def clean_env() -> dict[str, str]:
    """The environment without VECINOS_* variables, so a developer's setup cannot leak in."""
    return {name: value for name, value in os.environ.items() if not name.startswith("VECINOS_")}


@pytest.fixture(autouse=True)
def _no_vecinos_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in os.environ:
        if name.startswith("VECINOS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    # In-process runs must not replace the root handlers pytest captures logs with.
    for module in (run, init, console):
        monkeypatch.setattr(module, "setup_logging", lambda level: None)


def write_config(tmp_path: Path, text: str, with_key: bool = True) -> Path:
    if with_key:
        write_key_file(tmp_path / "vecinos.key", DataKey.generate())
        text = f'[bot]\ndata_key_file = "vecinos.key"\n{text}'
    path = tmp_path / "config.toml"
    path.write_text(text, encoding="utf-8")
    return path


def test_the_console_answers_in_each_rooms_language_and_says_where(tmp_path: Path) -> None:
    result = subprocess.run(
        [sys.executable, "-m", "bot", "console"],
        input=CONSOLE_SCRIPT,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=clean_env(),
        check=False,
    )
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "Ctrl-D" in out and "/as NAME" in out and "/room NAME" in out  # the banner
    assert "Try the whole flow:" in out  # and the walk-through
    replies = [line for line in out.splitlines() if " vecinos> " in line]
    assert replies[0] == "[pilsen] vecinos> ¡Pong! Vecinos está aquí."  # a Spanish room
    assert "(you are now in villita, as ana)" in out
    assert replies[1] == "[villita] vecinos> Pong! Vecinos is here."
    assert replies[2] == "[villita] vecinos> Commands you can use here:"
    assert "!ping — Check that the bot is alive." in out
    assert replies[3] == "[villita] vecinos> Listo: te hablaré en español."
    assert replies[4] == "[villita] vecinos> ¡Pong! Vecinos está aquí."
    assert "Traceback" not in result.stderr


def test_run_with_a_bad_key_is_one_line_naming_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, 'log_levle = "INFO"\n')
    assert cli.main(["run", "-c", str(path)]) == 2
    err = capsys.readouterr().err.splitlines()
    assert err == [f"error: {path}: bot.log_levle: unknown key: did you mean log_level?"]


def test_run_without_a_data_key_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = '[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@bot:localhost"\n'
    path = write_config(tmp_path, matrix, with_key=False)
    assert cli.main(["-c", str(path), "run"]) == 2
    (line,) = capsys.readouterr().err.splitlines()
    assert line.startswith("error: no data key: $VECINOS_DATA_KEY is not set")


async def store_fake_login(config: Path) -> None:
    settings = load_settings(config, {})
    app = Application(settings, load_data_key(settings.bot.data_key_file, {}))
    await app.open()
    login = {"user_id": "@bot:localhost", "device_id": "DEV", "access_token": "t"}
    await SecretSessions(app.state, MATRIX_SESSION).save(login)
    await app.stop()


def test_a_data_key_that_does_not_match_the_data_is_one_clear_line(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = '[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@bot:localhost"\n'
    path = write_config(tmp_path, matrix)
    asyncio.run(store_fake_login(path))
    (tmp_path / "vecinos.key").unlink()
    write_key_file(tmp_path / "vecinos.key", DataKey.generate())

    assert cli.main(["run", "-c", str(path)]) == 2
    assert capsys.readouterr().err.splitlines() == [f"error: {WRONG_KEY}"]
    assert cli.main(["check", "-c", str(path)]) == 1
    login = next(line for line in capsys.readouterr().out.splitlines() if "login" in line[:20])
    assert login.startswith("FAILED  login") and WRONG_KEY in login


def test_run_without_matrix_says_there_is_nothing_to_connect_to(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, "")
    assert cli.main(["run", "-c", str(path)]) == 2
    assert "no [matrix] section" in capsys.readouterr().err


def test_run_without_any_config_points_to_init(capsys: pytest.CaptureFixture[str]) -> None:
    assert cli.main(["run"]) == 2
    assert "vecinos init" in capsys.readouterr().err


def test_no_command_runs_the_config_if_there_is_one_else_the_demo(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    calls: list[tuple[str, Path | None]] = []

    def run_bot(path: Path) -> int:
        calls.append(("run", path))
        return 0

    def demo(directory: Path | None, port_file: Path | None) -> int:
        calls.append(("demo", directory))
        return 0

    monkeypatch.setattr(cli, "run_bot", run_bot)
    monkeypatch.setattr(cli, "run_demo", demo)

    assert cli.main([]) == 0
    monkeypatch.setenv(cli.CONFIG_ENV, "from-env.toml")
    assert cli.main([]) == 0
    assert cli.main(["-c", "given.toml"]) == 0
    monkeypatch.delenv(cli.CONFIG_ENV)
    (tmp_path / "config.toml").write_text("")
    assert cli.main([]) == 0

    assert calls == [
        ("demo", None),
        ("run", Path("from-env.toml")),
        ("run", Path("given.toml")),
        ("run", Path("config.toml")),
    ]


def test_the_console_is_a_small_network_of_every_kind_of_room(tmp_path: Path) -> None:
    settings = console_settings(tmp_path)
    roles = {room.id: room.role for room in settings.rooms}
    assert roles == {
        "pilsen": "neighborhood",
        "villita": "neighborhood",
        "moderacion": "moderation",
        "alertas": "alerts",
        "despacho": "dispatch",
        "jungman": "watch",
    }
    assert {room.transport for room in settings.rooms} == {"console"}
    assert (settings.admins, settings.moderators) == (("admin",), ("mod",))
    assert settings.bot.data_dir == tmp_path and settings.matrix is None


async def test_a_console_session_goes_from_report_to_alert(tmp_path: Path) -> None:
    async with console_network(tmp_path) as type_:
        overview = "\n".join(await type_("!ayuda")).splitlines()
        assert overview[0] == "[pilsen] vecinos> Comandos que puedes usar aquí:"
        assert overview[1].startswith("!reporte ")  # the most used first

        shown = await type_("!reporte 18 y Ashland; dos agentes deteniendo a alguien")
        ack = next(line for line in shown if line.startswith("[pilsen] vecinos> 📝 Reporte "))
        report_id = ack.split()[4]
        assert any(line.startswith(f"[moderacion] vecinos> 🟡 {report_id}") for line in shown)
        assert any(line.startswith("[despacho] vecinos> 🚨 VERIFIER NEEDED") for line in shown)

        assert await type_("/as mod") == ["(you are now mod, in pilsen)"]
        assert await type_("/room mod") == ["(you are now in moderacion, as mod)"]
        shown = await type_(f"!confirm {report_id}")
        rooms = {line.split("]")[0].strip("[") for line in shown if "CONFIRMADA" in line}
        assert rooms == {"pilsen", "alertas", "jungman"}  # not villita: another area
        assert await type_("/room x") == [
            "(rooms: pilsen, villita, moderacion, alertas, despacho, jungman; say /room NAME)"
        ]


def test_check_reports_a_bad_config_and_skips_what_needs_it(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = write_config(tmp_path, "[bot]\ncommand_prefix = 'too long'\n", with_key=False)
    assert cli.main(["check", "-c", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[0] == "FAILED  config      1 problem:"
    assert lines[1].strip().startswith(f"{path}: bot.command_prefix: must be 1 to 3 characters")
    assert lines[2].strip() == f"(every key is explained in {example_config()})"
    # One line for the checks that could not run, not one each.
    assert lines[3:] == [
        "skipped             data key, database, homeserver, login, identity, session, rooms:"
        " they need config first"
    ]


def test_check_passes_for_a_console_only_config(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tzlocal.get_localzone_name", lambda: "America/Chicago")
    path = write_config(tmp_path, "")
    assert cli.main(["check", "-c", str(path)]) == 0
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines] == ["ok"] * 8 + ["warning"] * 2
    assert lines[0].endswith(": 0 areas, 0 rooms")
    assert all("not used" in line for line in lines[3:8])
    assert lines[8].startswith("warning             no admins: nobody can !trust")
    assert lines[9] == (
        "warning             0 rooms: the bot serves nobody yet; add [[rooms]] (or `!room here`"
        " from chat)"
    )
    assert (tmp_path / "data" / "vecinos.db").exists()


def test_check_reports_a_wrong_key(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write_config(tmp_path, "")
    (tmp_path / "vecinos.key").chmod(0o644)
    assert cli.main(["check", "-c", str(path)]) == 1
    lines = capsys.readouterr().out.splitlines()
    assert lines[1].startswith("FAILED  data key") and "chmod 600" in lines[1]
    assert [line for line in lines if line.startswith("skipped")] == [
        "skipped             database, login, identity, session, rooms: they need data key first"
    ]


def test_init_refuses_to_overwrite_before_asking_anything(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    (tmp_path / "config.toml").write_text("# mine\n")
    assert cli.main(["init"]) == 2  # would block on input() if it asked first
    assert "config.toml already exists" in capsys.readouterr().err
    assert (tmp_path / "config.toml").read_text() == "# mine\n"
    assert not (tmp_path / "vecinos.key").exists()


def test_init_refuses_a_data_dir_in_use(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "vecinos.db").write_text("")
    assert cli.main(["init", "--homeserver", "http://127.0.0.1:1", "--user", "@b:x"]) == 2
    assert "is not empty" in capsys.readouterr().err


def test_the_starter_config_keeps_its_comments_and_escapes_its_values() -> None:
    args = argparse.Namespace(config=Path("config.toml"), data_dir='da"ta\\ – ñ')
    homeserver, user_id = "https://matrix.example.org", '@ve"ci\\nos:example.org'
    text = init._starter_config(init._InitPlan.of(args), homeserver, user_id, "America/Bogota")
    assert "# Without this key nothing in data_dir can be read" in text
    assert "# [[rooms]]" in text
    config = tomllib.loads(text)
    assert config["bot"] == {"data_dir": 'da"ta\\ – ñ', "data_key_file": "vecinos.key"}
    assert config["matrix"] == {"homeserver": homeserver, "user_id": user_id}
    assert config["admins"] == [] and config["invites"]["allowed_servers"] == []
    assert config["reports"] == {"timezone": "America/Bogota"}  # never silently UTC


def fake_demo() -> Demo:
    def user(name: str) -> RegisteredUser:
        return RegisteredUser(f"@{name}:localhost", f"pw-{name}", "token", "DEVICE")

    room_ids = {room.name: f"!{index}:localhost" for index, room in enumerate(ROOMS)}
    return Demo("http://127.0.0.1:8008", user(BOT), {n: user(n) for n in PEOPLE}, room_ids)


def test_demo_files_make_a_loadable_config_with_private_secrets(tmp_path: Path) -> None:
    config = write_files(fake_demo(), tmp_path)
    settings = load_settings(config, {})
    assert {room.role for room in settings.rooms} == {
        "neighborhood",
        "moderation",
        "alerts",
        "dispatch",
        "watch",
    }
    assert {area for room in settings.rooms for area in room.areas} == {"pilsen", "little-village"}
    assert settings.section(ResourcesConfig).resources.hotline == HOTLINE
    assert "es" in {room.language for room in settings.rooms}
    assert settings.admins == (f"@{ADMIN}:localhost",)
    assert settings.moderators == (f"@{MODERATOR}:localhost",)
    assert settings.invite_allowed(f"@{ADMIN}:localhost")
    assert settings.matrix is not None and settings.matrix.password_value() == f"pw-{BOT}"
    for secret in ("vecinos.key", "bot-password", "demo.json"):
        assert stat.S_IMODE((tmp_path / secret).stat().st_mode) == 0o600


def test_check_warns_of_no_admins_and_an_area_without_moderators(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("tzlocal.get_localzone_name", lambda: "America/Chicago")
    areas = "".join(
        f'[[areas]]\nslug = "{slug}"\nname_en = "{slug}"\nname_es = "{slug}"\n'
        for slug in ("pilsen", "lv")
    )
    rooms = (
        '[[rooms]]\nid = "mods"\ntransport = "console"\nrole = "moderation"\nareas = ["pilsen"]\n'
        '[[rooms]]\nid = "hood"\ntransport = "console"\nrole = "neighborhood"\nareas = ["lv"]\n'
    )
    path = write_config(tmp_path, areas + rooms)
    assert cli.main(["check", "-c", str(path)]) == 0  # warnings do not fail it
    lines = capsys.readouterr().out.splitlines()
    assert lines[0].endswith(": 2 areas, 2 rooms")
    assert [line for line in lines if line.startswith("warning")] == [
        "warning             no admins: nobody can !trust a changed identity or add watch"
        " sites; add admins = [...] at the top of the config",
        "warning             area lv has no moderation room: its reports reach no moderator",
    ]


def test_key_new_writes_a_private_key_never_over_one_and_warns_about_old_data(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text('[bot]\ndata_key_file = "secret.key"\n', encoding="utf-8")
    assert cli.main(["key", "new", "-c", str(path)]) == 0
    key_file = tmp_path / "secret.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    load_data_key(key_file, {})  # a valid key
    assert capsys.readouterr().out.startswith(f"wrote a new data key to {key_file}")

    assert cli.main(["key", "new", "-c", str(path)]) == 2  # never overwrites
    assert "refusing to overwrite" in capsys.readouterr().err

    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "vecinos.db").write_bytes(b"")
    assert cli.main(["key", "new", "-c", str(path), "--file", str(tmp_path / "other.key")]) == 0
    assert "this new key cannot read" in capsys.readouterr().err


def test_a_missing_key_names_the_commands_that_make_one(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    matrix = '[matrix]\nhomeserver = "http://127.0.0.1:1"\nuser_id = "@bot:localhost"\n'
    text = f'[bot]\ndata_key_file = "nowhere.key"\n{matrix}'
    path = write_config(tmp_path, text, with_key=False)
    assert cli.main(["run", "-c", str(path)]) == 2
    error = capsys.readouterr().err
    assert "`vecinos key new`" in error and "`vecinos init`" in error
    assert "cannot read a data directory made with another one" in error
    assert "write_key_file" not in error


def test_shred_destroys_the_key_and_the_data_and_says_what_remains(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    path = write_config(tmp_path, "")
    data = tmp_path / "data"
    (data / "matrix-store").mkdir(parents=True)
    (data / "vecinos.db").write_bytes(b"reports" * 100)
    (data / "matrix-store" / "crypto.db").write_bytes(b"keys" * 100)

    monkeypatch.setattr("builtins.input", lambda prompt: "no")
    assert cli.main(["shred", "-c", str(path)]) == 1  # not confirmed: nothing happens
    assert (tmp_path / "vecinos.key").exists() and (data / "vecinos.db").exists()
    assert "Nothing was destroyed." in capsys.readouterr().out

    monkeypatch.setattr("builtins.input", lambda prompt: "shred")
    assert cli.main(["shred", "-c", str(path)]) == 0
    assert not (tmp_path / "vecinos.key").exists()
    assert data.is_dir() and list(data.iterdir()) == []
    out = capsys.readouterr().out
    assert "destroyed 2 files" in out
    assert "the homeserver" in out and "members' phones" in out and "backups" in out


def test_shred_with_yes_asks_nothing(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    path = write_config(tmp_path, "")
    monkeypatch.setattr("builtins.input", lambda prompt: pytest.fail("asked"))
    assert cli.main(["shred", "-c", str(path), "--yes"]) == 0
    assert not (tmp_path / "vecinos.key").exists()
