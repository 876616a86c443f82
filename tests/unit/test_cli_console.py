"""`vecinos console` as a newcomer uses it: Ctrl-C quits at once, log lines stay out of the
chat, and people are in the rooms the sample network gives them."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time
from pathlib import Path

from testkit.console import console_network

from bot.storage.keys import DataKey, write_key_file


def clean_env() -> dict[str, str]:
    return {name: value for name, value in os.environ.items() if not name.startswith("VECINOS_")}


def console(tmp_path: Path, *args: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "console", *args],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
        env=clean_env(),
    )


def test_ctrl_c_quits_at_once_without_waiting_for_a_line(tmp_path: Path) -> None:
    chat = console(tmp_path)
    assert chat.stdout is not None
    while "Ctrl-D quits" not in chat.stdout.readline():  # the banner: the chat is up
        assert chat.poll() is None
    time.sleep(0.5)  # reading the first line
    chat.send_signal(signal.SIGINT)
    started = time.monotonic()
    try:
        chat.wait(timeout=10)
    finally:
        chat.kill()
    assert time.monotonic() - started < 5
    assert chat.returncode == 130
    assert chat.stderr is not None and "Traceback" not in chat.stderr.read()


def test_log_lines_go_to_a_file_named_once_not_into_the_chat(tmp_path: Path) -> None:
    write_key_file(tmp_path / "vecinos.key", DataKey.generate())
    # An area without a moderation room: the bot logs a warning as it starts.
    (tmp_path / "config.toml").write_text(
        '[bot]\ndata_key_file = "vecinos.key"\n[reports]\ntimezone = "America/Chicago"\n'
        '[[areas]]\nslug = "pilsen"\nname_en = "Pilsen"\nname_es = "Pilsen"\n'
        '[[rooms]]\nid = "hood"\ntransport = "console"\nrole = "neighborhood"\n'
        'areas = ["pilsen"]\n',
        encoding="utf-8",
    )
    chat = console(tmp_path, "-c", "config.toml")
    out, err = chat.communicate("!ping\n", timeout=60)
    assert chat.returncode == 0, err
    log = tmp_path / "data" / "console.log"
    assert out.splitlines()[0] == f"(log lines go to {log})"
    assert out.count("log lines go to") == 1
    assert "Pong! Vecinos is here." in out
    assert "WARNING" not in out and "WARNING" not in err
    assert "area pilsen has no moderation room" in log.read_text(encoding="utf-8")


async def test_a_wrong_room_hint_names_only_the_persons_rooms(tmp_path: Path) -> None:
    async with console_network(tmp_path) as type_:
        # ana is in the school's watch room, not in the dispatch room (also a roster's).
        assert await type_("!turnos") == [
            "[pilsen] vecinos> !turnos funciona en “jungman”: úsalo allí."
        ]
        await type_("/as beto")
        assert await type_("!turnos") == [
            "[pilsen] vecinos> !turnos funciona en “despacho”, “jungman”: úsalo allí."
        ]
        await type_("/as mod")
        assert await type_("!turnos") == [
            "[pilsen] vecinos> !turnos funciona en las salas de despacho / vigilancia, no aquí."
        ]
