"""Setting a bot up without a homeserver: `vecinos init` and `vecinos check` as a newcomer
meets them (bad values, closed input, a homeserver that does not answer, a config with
several mistakes)."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

from bot import cli
from bot.cli import init
from bot.cli.common import example_config
from bot.runtime.plugins import default_schema
from bot.storage.keys import DataKey, write_key_file

# Nothing listens on port 1: the connection is refused at once.
NOWHERE = "http://127.0.0.1:1"
ROLES = [role.name for role in default_schema().all_roles()]


@pytest.fixture(autouse=True)
def _here(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    for name in os.environ:
        if name.startswith("VECINOS_"):
            monkeypatch.delenv(name)
    monkeypatch.chdir(tmp_path)
    monkeypatch.setattr("tzlocal.get_localzone_name", lambda: "America/Chicago")
    monkeypatch.setattr(init, "setup_logging", lambda level: None)


def never_asked(*args: object) -> str:
    raise AssertionError("asked for input")


def test_init_without_a_reachable_homeserver_writes_the_config_and_says_what_it_did_not_check(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("getpass.getpass", never_asked)  # no password for an unreachable server
    args = ["init", "--homeserver", NOWHERE, "--user", "@bot:example.org"]
    assert cli.main(args) == 0
    out = capsys.readouterr().out
    assert "Could not reach http://127.0.0.1:1: connection refused" in out
    assert "I could not check that it is a Matrix homeserver, that @bot:example.org exists" in out
    assert "`vecinos run -c config.toml` once with $VECINOS_MATRIX__PASSWORD set" in out
    config = tomllib.loads((tmp_path / "config.toml").read_text(encoding="utf-8"))
    assert config["matrix"] == {"homeserver": NOWHERE, "user_id": "@bot:example.org"}
    assert config["reports"] == {"timezone": "America/Chicago"}
    assert (tmp_path / "vecinos.key").exists()
    # The config it wrote passes the offline checks.
    assert cli.main(["check"]) == 1  # the homeserver does not answer
    lines = capsys.readouterr().out.splitlines()
    assert [line.split()[0] for line in lines[:3]] == ["ok", "ok", "ok"]


@pytest.mark.parametrize(
    ("given", "error"),
    [
        (
            ["--user", "vecinos"],
            "error: --user 'vecinos': must be a Matrix user id like @name:example.org",
        ),
        (
            ["--timezone", "Chicago"],
            "error: --timezone 'Chicago': must be an IANA time zone like America/Chicago",
        ),
        (
            ["--homeserver", "matrix.example.org"],
            "error: --homeserver 'matrix.example.org': must be an http(s) URL like"
            " https://matrix.example.org",
        ),
    ],
)
def test_init_checks_what_it_was_given_before_asking_anything(
    tmp_path: Path,
    capsys: pytest.CaptureFixture[str],
    monkeypatch: pytest.MonkeyPatch,
    given: list[str],
    error: str,
) -> None:
    monkeypatch.setattr("getpass.getpass", never_asked)
    monkeypatch.setattr("builtins.input", never_asked)
    assert cli.main(["init", *given]) == 2
    assert capsys.readouterr().err.splitlines() == [error]
    assert list(tmp_path.iterdir()) == []


def test_a_typed_answer_is_checked_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("builtins.input", lambda prompt: "@bot")
    assert cli.main(["init", "--homeserver", NOWHERE]) == 2
    assert capsys.readouterr().err.splitlines() == [
        "error: the answer '@bot': must be a Matrix user id like @name:example.org"
    ]


def test_init_with_closed_input_exits_with_one_line_and_writes_nothing(tmp_path: Path) -> None:
    env = {name: value for name, value in os.environ.items() if not name.startswith("VECINOS_")}
    env["TZ"] = "America/Chicago"  # no note about a UTC machine before the questions
    result = subprocess.run(
        [sys.executable, "-m", "bot", "init"],
        stdin=subprocess.DEVNULL,
        capture_output=True,
        text=True,
        timeout=60,
        cwd=tmp_path,
        env=env,
        check=False,
    )
    assert result.returncode == 2
    errors = [line for line in result.stderr.splitlines() if line.strip()]
    assert errors == ["error: the input ended before init had what it needs; nothing was written"]
    assert list(tmp_path.iterdir()) == []


def test_the_end_of_input_at_the_password_is_one_line_too(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    async def answers(url: str) -> None:
        return None

    def ended(prompt: str) -> str:
        raise EOFError

    monkeypatch.setattr(init, "probe", answers)
    monkeypatch.setattr("getpass.getpass", ended)
    assert cli.main(["init", "--homeserver", NOWHERE, "--user", "@bot:example.org"]) == 2
    assert capsys.readouterr().err.strip().splitlines() == [
        "error: the input ended before init had what it needs; nothing was written"
    ]
    assert list(tmp_path.iterdir()) == []


def test_the_starter_config_names_every_role_and_where_the_example_is() -> None:
    text = init._starter_config(
        init._InitPlan.of(init.argparse.Namespace(config=Path("config.toml"), data_dir="data")),
        "https://matrix.example.org",
        "@bot:example.org",
        "America/Chicago",
    )
    assert {"neighborhood", "moderation", "alerts", "watch", "dispatch"} <= set(ROLES)
    [line] = [line for line in text.splitlines() if line.startswith("# role = ")]
    assert line == f'# role = "neighborhood"  # {", ".join(ROLES[:-1])} or {ROLES[-1]}'
    assert f"{example_config()} explains" in text


def test_the_example_config_ships_with_the_program() -> None:
    path = example_config()
    assert path.is_file() and path.name == "config.example.toml"
    assert "# --- plugin: rosters ---" in path.read_text(encoding="utf-8")


CONFIG_WITH_MISTAKES = """\
admins = ["@ana:example.org"]

[bot]
data_key_file = "vecinos.key"
comand_prefix = "!"

[reports]
timezone = "Mars/Olympus"

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"

[[rooms]]
id = "mods"
transport = "console"
role = "moderatoin"
areas = ["pilsn"]
"""


def test_check_reports_every_config_error_at_once_with_close_names(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    path = tmp_path / "config.toml"
    path.write_text(CONFIG_WITH_MISTAKES, encoding="utf-8")
    assert cli.main(["check", "-c", str(path)]) == 1
    lines = [line.strip() for line in capsys.readouterr().out.splitlines()]
    assert lines[:7] == [
        "FAILED  config      4 problems:",
        f"{path}: bot.comand_prefix: unknown key: did you mean command_prefix?",
        f"{path}: reports.timezone: must be an IANA time zone like America/Chicago",
        f"{path}: rooms[0].role: must be one of {', '.join(ROLES)}"
        ' (got "moderatoin": did you mean moderation?)',
        f'{path}: rooms[0].areas: unknown area "pilsn": did you mean pilsen? (known: pilsen)',
        f"(every key is explained in {example_config()})",
        "skipped             data key, database, homeserver, login, identity, session, rooms:"
        " they need config first",
    ]
    assert len(lines) == 7


def test_check_warns_about_utc_times(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    write_key_file(tmp_path / "vecinos.key", DataKey.generate())
    path = tmp_path / "config.toml"
    path.write_text(
        'admins = ["@ana:example.org"]\n[bot]\ndata_key_file = "vecinos.key"\n'
        '[reports]\ntimezone = "UTC"\n',
        encoding="utf-8",
    )
    assert cli.main(["check", "-c", str(path)]) == 0
    warnings = [line for line in capsys.readouterr().out.splitlines() if line.startswith("warn")]
    assert [w.split(maxsplit=1)[1] for w in warnings] == [
        "reports.timezone is UTC: people see UTC times; if they do not live by it, set [reports]"
        ' timezone = "America/Chicago" (your zone)',
        "0 rooms: the bot serves nobody yet; add [[rooms]] (or `!room here` from chat)",
    ]
