"""The `vecinos` command: run, init, check, demo and console.

A problem the operator can fix (config, data key, login) ends as one `error: ...` line per
problem on stderr and exit status 2 (bad config or key) or 1 (the login failed).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from bot.cli.check import cmd_check
from bot.cli.common import CONFIG_ENV, CliError, config_path
from bot.cli.console import cmd_console
from bot.cli.demo import cmd_demo, run_demo
from bot.cli.init import cmd_init
from bot.cli.key import cmd_key
from bot.cli.run import cmd_run, run_bot
from bot.cli.shred import cmd_shred
from bot.cli.structure import cmd_structure


def main(argv: Sequence[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        return int(args.handler(args))
    except CliError as error:
        for line in error.lines:
            print(f"error: {line}", file=sys.stderr)
        return error.code
    except KeyboardInterrupt:
        return 130


def cmd_default(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    if path is None:
        return run_demo(None, None)
    return run_bot(path)


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="vecinos",
        description="Vecinos, a rapid-response bot for neighborhood groups. Without a "
        f"command: `run` if -c, ${CONFIG_ENV} or ./config.toml gives a config, else `demo`.",
    )
    parser.add_argument("-c", "--config", type=Path, help="the config file (TOML)")
    parser.set_defaults(handler=cmd_default)
    commands = parser.add_subparsers(title="commands", metavar="COMMAND")

    run = _command(commands, "run", cmd_run, "run the bot")
    _config_option(run)
    init = _command(commands, "init", cmd_init, "write a config and a data key, log in once")
    _config_option(init)
    init.add_argument("--homeserver", help="URL of the bot's homeserver")
    init.add_argument("--user", help="the bot's Matrix id, like @vecinos:example.org")
    init.add_argument("--data-dir", default="data", help="data directory (default: data)")
    init.add_argument("--password-file", type=Path, help="file holding the bot's password")
    init.add_argument("--timezone", help="the areas' time zone (default: this machine's)")
    check = _command(commands, "check", cmd_check, "check the config, key, database and login")
    _config_option(check)
    shape = _command(
        commands, "structure", cmd_structure, "print the network (areas, rooms) as TOML"
    )
    _config_option(shape)
    demo = _command(commands, "demo", cmd_demo, "run the bot on a throwaway local homeserver")
    demo.add_argument("--dir", type=Path, help="keep the demo here (default: a temp dir)")
    demo.add_argument("--port-file", type=Path, help="write the homeserver URL here when up")
    chat = _command(commands, "console", cmd_console, "chat with the bot in this terminal")
    _config_option(chat)
    key = _command(commands, "key", cmd_key, "make a new data key file: `key new`")
    _config_option(key)
    key.add_argument("action", choices=["new"], help="new: write a new random key")
    key.add_argument("--file", type=Path, help="where (default: the config's data_key_file)")
    shred = _command(commands, "shred", cmd_shred, "destroy the data key and the data directory")
    _config_option(shred)
    shred.add_argument("--yes", action="store_true", help="do not ask for confirmation")
    return parser


def _command(
    commands: Any, name: str, handler: Callable[[argparse.Namespace], int], help_text: str
) -> argparse.ArgumentParser:
    parser: argparse.ArgumentParser = commands.add_parser(name, help=help_text)
    parser.set_defaults(handler=handler)
    return parser


def _config_option(parser: argparse.ArgumentParser) -> None:
    # SUPPRESS: without -c here, the value given before the command (or None) stays.
    parser.add_argument(
        "-c", "--config", type=Path, default=argparse.SUPPRESS, help="the config file (TOML)"
    )
