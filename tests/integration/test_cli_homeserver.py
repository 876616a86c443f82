"""The `vecinos` command against real homeservers: init, check and the demo."""

from __future__ import annotations

import contextlib
import json
import os
import signal
import stat
import subprocess
import sys
import time
import urllib.error
import urllib.parse
import urllib.request
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from testkit.config import load_settings

from bot.devtools.local_synapse import LocalSynapse
from bot.storage.keys import DataKey, write_key_file

pytestmark = pytest.mark.integration

DEMO_START_TIMEOUT = 180.0


def clean_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("VECINOS_")}


def vecinos(*args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "bot", *args],
        cwd=cwd,
        env=clean_env(),
        stdin=subprocess.DEVNULL,  # nothing may wait for an answer
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def statuses(output: str) -> dict[str, str]:
    """`check` output as {check name: status}."""
    return {line[8:20].strip(): line.split()[0] for line in output.splitlines()}


def http(method: str, url: str, body: Any = None, token: str | None = None) -> dict[str, Any]:
    data = None if body is None else json.dumps(body).encode()
    request = urllib.request.Request(url, data=data, method=method)
    request.add_header("Content-Type", "application/json")
    if token is not None:
        request.add_header("Authorization", f"Bearer {token}")
    with urllib.request.urlopen(request, timeout=30) as response:
        answer: dict[str, Any] = json.loads(response.read())
        return answer


def devices(synapse: LocalSynapse, token: str) -> list[dict[str, Any]]:
    answer = synapse.admin_request("GET", "/_matrix/client/v3/devices", token=token)
    return list(answer["devices"])


def test_check_reaches_the_homeserver_and_fails_cleanly_without_a_login(
    synapse: LocalSynapse, tmp_path: Path, unique: str
) -> None:
    write_key_file(tmp_path / "vecinos.key", DataKey.generate())
    (tmp_path / "config.toml").write_text(
        '[bot]\ndata_key_file = "vecinos.key"\n'
        f'[matrix]\nhomeserver = "{synapse.base_url}"\nuser_id = "@bot-{unique}:localhost"\n'
    )
    result = vecinos("check", "-c", "config.toml", cwd=tmp_path)

    assert result.returncode == 1, result.stdout + result.stderr
    assert statuses(result.stdout) == {
        "config": "ok",
        "data key": "ok",
        "database": "ok",
        "homeserver": "ok",
        "login": "FAILED",
        "": "warning",  # no admins, 0 rooms; after the one line of checks not run:
    }
    assert (
        "skipped             identity, session, rooms: they need login first"
        in result.stdout.splitlines()
    )
    login = next(line for line in result.stdout.splitlines() if line.startswith("FAILED"))
    assert "no stored login" in login and "vecinos init" in login
    assert result.stderr == ""


def test_init_logs_in_once_then_check_passes_and_init_never_overwrites(
    synapse: LocalSynapse, tmp_path: Path, unique: str
) -> None:
    bot = synapse.register(f"bot-{unique}", f"secret-{unique}")
    (tmp_path / "password").write_text(bot.password + "\n")
    init = [
        "init",
        "--config",
        "config.toml",
        "--homeserver",
        synapse.base_url,
        "--user",
        bot.user_id,
        "--password-file",
        "password",
    ]
    result = vecinos(*init, cwd=tmp_path)

    assert result.returncode == 0, result.stdout + result.stderr
    key_file = tmp_path / "vecinos.key"
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    assert (tmp_path / "data" / "matrix-store" / "crypto.db").exists()
    config_text = (tmp_path / "config.toml").read_text()
    assert bot.password not in config_text
    settings = load_settings(tmp_path / "config.toml", {})
    assert settings.matrix is not None and settings.matrix.password_value() is None
    assert len(devices(synapse, bot.access_token)) == 2  # registration's, and init's login

    check = vecinos("check", "-c", "config.toml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    assert statuses(check.stdout).pop("") == "warning"  # the starter config has no admins
    assert set(statuses(check.stdout).values()) - {"warning"} == {"ok"}
    identity = next(
        line for line in check.stdout.splitlines() if line.startswith("ok      identity")
    )
    assert identity.endswith("(partner networks pin this key)")  # in groups of four
    assert len(devices(synapse, bot.access_token)) == 2  # check reused the stored login

    again = vecinos(*init, cwd=tmp_path)
    assert again.returncode == 2
    assert again.stderr.strip() == "error: config.toml already exists; init never overwrites it"
    assert (tmp_path / "config.toml").read_text() == config_text
    assert key_file.read_text() != "" and stat.S_IMODE(key_file.stat().st_mode) == 0o600

    # A configured room nobody invited the bot to: said, with who may invite it.
    owner = synapse.register(f"owner-{unique}", f"secret-{unique}")
    room = http("POST", f"{synapse.base_url}/_matrix/client/v3/createRoom", {}, owner.access_token)
    with (tmp_path / "config.toml").open("a") as config:
        config.write(
            f'\n[[areas]]\nslug = "pilsen"\nname_en = "Pilsen"\nname_es = "Pilsen"\n'
            f'[[rooms]]\nid = "{room["room_id"]}"\nrole = "moderation"\nareas = ["pilsen"]\n'
        )
    check = vecinos("check", "-c", "config.toml", cwd=tmp_path)
    assert check.returncode == 0, check.stdout + check.stderr
    lines = check.stdout.splitlines()
    assert "ok      rooms       in 0 of 1 configured Matrix room" in lines
    assert (
        f"warning             the bot is not in {room['room_id']} (moderation room); an admin,"
        f" or someone in invites.allowed_users, must invite {bot.user_id} to it"
    ) in lines


def test_init_with_a_wrong_password_leaves_nothing_behind(
    synapse: LocalSynapse, tmp_path: Path, unique: str
) -> None:
    bot = synapse.register(f"bot-{unique}", f"secret-{unique}")
    (tmp_path / "password").write_text("not the password\n")
    args = ["init", "--homeserver", synapse.base_url, "--user", bot.user_id]
    result = vecinos(*args, "--password-file", "password", cwd=tmp_path)

    assert result.returncode == 1
    assert result.stderr.splitlines()[-1] == (
        "error: cannot log in to Matrix: login failed: Invalid username or password"
    )
    assert "Traceback" not in result.stderr
    assert sorted(path.name for path in tmp_path.iterdir()) == ["password"]


@contextlib.contextmanager
def demo_process(directory: Path, port_file: Path, log: Path) -> Iterator[subprocess.Popen[str]]:
    with log.open("w") as output:
        command = ["demo", "--dir", str(directory), "--port-file", str(port_file)]
        process = subprocess.Popen(
            [sys.executable, "-m", "bot", *command],
            cwd=directory.parent,
            env=clean_env(),
            stdin=subprocess.DEVNULL,
            stdout=output,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            yield process
        finally:
            if process.poll() is None:
                process.kill()
                process.wait()
                _kill_leftover_synapse(directory)


def _kill_leftover_synapse(directory: Path) -> None:
    pid_file = directory / "synapse" / "homeserver.pid"
    if pid_file.exists():
        with contextlib.suppress(ProcessLookupError, ValueError):
            os.kill(int(pid_file.read_text()), signal.SIGKILL)


def wait_for_file(path: Path, process: subprocess.Popen[str], log: Path) -> str:
    deadline = time.monotonic() + DEMO_START_TIMEOUT
    while not path.exists():
        if process.poll() is not None or time.monotonic() > deadline:
            pytest.fail(f"the demo did not come up:\n{log.read_text()[-4000:]}")
        time.sleep(0.2)
    return path.read_text().strip()


def test_demo_comes_up_with_the_bot_in_its_encrypted_rooms_and_stops_quietly_on_sigterm(
    tmp_path: Path,
) -> None:
    directory, port_file, log = tmp_path / "demo", tmp_path / "port", tmp_path / "demo.log"
    with demo_process(directory, port_file, log) as process:
        homeserver = wait_for_file(port_file, process, log)
        accounts = json.loads((directory / "demo.json").read_text())
        admin = accounts["people"]["admin"]
        login = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": admin["user_id"]},
            "password": admin["password"],
        }
        token = http("POST", f"{homeserver}/_matrix/client/v3/login", login)["access_token"]

        assert len(accounts["rooms"]) == 6  # two areas, a room of every kind
        for room_id in accounts["rooms"].values():
            room = f"{homeserver}/_matrix/client/v3/rooms/{urllib.parse.quote(room_id)}"
            joined = http("GET", f"{room}/joined_members", token=token)["joined"]
            assert "@vecinos:localhost" in joined
            encryption = http("GET", f"{room}/state/m.room.encryption/", token=token)
            assert encryption["algorithm"] == "m.megolm.v1.aes-sha2"
        moderation = urllib.parse.quote(accounts["rooms"]["Moderación"])
        levels_url = f"{homeserver}/_matrix/client/v3/rooms/{moderation}/state/m.room.power_levels/"
        assert http("GET", levels_url, token=token)["users"]["@mod:localhost"] == 50
        printed = log.read_text()
        assert "@ana:localhost" in printed  # the login instructions
        assert "1. As ana in Pilsen – vecinos: !reporte" in printed  # and the walk-through

        process.send_signal(signal.SIGTERM)
        assert process.wait(timeout=60) == 0, log.read_text()[-4000:]
    with pytest.raises(urllib.error.URLError):
        http("GET", f"{homeserver}/_matrix/client/versions")  # the homeserver stopped too
    output = log.read_text()
    assert "Traceback" not in output
    after_stop = output.split(" INFO bot.runtime.app: stopping", 1)[1]
    assert " WARNING " not in after_stop and " ERROR " not in after_stop, after_stop
