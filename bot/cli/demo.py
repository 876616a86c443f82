"""`vecinos demo`: the bot on a throwaway local Synapse seeded by `bot.devtools.demo`."""

from __future__ import annotations

import argparse
import importlib.util
import signal
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from types import FrameType

from bot.cli.common import CliError
from bot.cli.run import run_bot
from bot.devtools.demo import ACCOUNTS_FILE, Demo, seed, write_files
from bot.devtools.local_synapse import LocalSynapse
from bot.devtools.network import PEOPLE, walkthrough


def cmd_demo(args: argparse.Namespace) -> int:
    return run_demo(args.dir, args.port_file)


def run_demo(directory: Path | None, port_file: Path | None) -> int:
    """Kept in `directory` if given; the homeserver URL goes to `port_file` once all is up."""
    if importlib.util.find_spec("synapse") is None:
        raise CliError(["the demo needs Synapse: pip install -e '.[dev]' (or use ./dev run)"])
    # Until the bot installs its own handler, SIGTERM must still unwind and stop Synapse.
    signal.signal(signal.SIGTERM, _exit_on_signal)
    with _demo_directory(directory) as workdir:
        synapse = LocalSynapse(workdir / "synapse")
        print(f"Starting a throwaway Synapse homeserver in {workdir} ...", flush=True)
        synapse.start()
        try:
            demo = seed(synapse)
            config = write_files(demo, workdir)
            kept = directory is not None
            return run_bot(config, lambda: _demo_ready(demo, workdir, kept, port_file))
        finally:
            synapse.stop()


def _exit_on_signal(signum: int, frame: FrameType | None) -> None:
    raise SystemExit(128 + signum)


@contextmanager
def _demo_directory(requested: Path | None) -> Iterator[Path]:
    if requested is None:
        with tempfile.TemporaryDirectory(prefix="vecinos-demo-") as temporary:
            yield Path(temporary)
        return
    if requested.exists() and any(requested.iterdir()):
        raise CliError([f"{requested} is not empty; give the demo a new directory"])
    requested.mkdir(parents=True, exist_ok=True)
    yield requested.resolve()


def _demo_ready(demo: Demo, workdir: Path, kept: bool, port_file: Path | None) -> None:
    print(_demo_instructions(demo, workdir, kept), flush=True)
    if port_file is not None:
        # Written whole, then renamed: whoever waits for the file never reads half of it.
        partial = port_file.with_name(port_file.name + ".partial")
        partial.write_text(demo.homeserver + "\n", encoding="utf-8")
        partial.replace(port_file)


def _demo_instructions(demo: Demo, workdir: Path, kept: bool) -> str:
    people = [
        f"  {user.user_id:<18} password {user.password:<14} {PEOPLE[name]}: "
        + ", ".join(demo.rooms_of(name))
        for name, user in demo.people.items()
    ]
    where = f"Everything lives in {workdir}" + ("" if kept else " (deleted when the demo stops)")
    return "\n".join(
        [
            "",
            "The Vecinos demo is running.",
            f"Homeserver: {demo.homeserver}",
            "Log in with a Matrix client (e.g. Element Desktop: Sign in, edit the homeserver):",
            *people,
            f"The bot is {demo.bot.user_id}: say !ping or !help (en español: !ayuda) in a room.",
            *walkthrough({room: room for room in demo.room_ids}),
            f"{where}; the logins are also in {workdir / ACCOUNTS_FILE}.",
            "Press Ctrl-C to stop the bot and the homeserver.",
            "",
        ]
    )
