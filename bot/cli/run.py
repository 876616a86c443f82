"""`vecinos run`: the bot on its configured transports until SIGINT or SIGTERM."""

from __future__ import annotations

import argparse
import asyncio
from collections.abc import Callable
from pathlib import Path

from bot.cli.common import (
    CONFIG_ENV,
    EXIT_FAILURE,
    WRONG_KEY,
    CliError,
    config_path,
    read_key,
    read_settings,
)
from bot.core.transport import Transport
from bot.ops.logs import setup_logging
from bot.runtime.app import Application
from bot.runtime.connect import configured_transports
from bot.runtime.plugins import default_plugins
from bot.storage.cipher import DecryptionError
from bot.transports.matrix.reach import Unreachable
from bot.transports.matrix.session import SessionError
from bot.transports.signal.transport import SignalSetupError


def cmd_run(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    if path is None:
        raise CliError([f"no config: give -c FILE, set ${CONFIG_ENV}, or run `vecinos init`"])
    return run_bot(path)


def run_bot(path: Path, on_started: Callable[[], None] | None = None) -> int:
    """Run the config at `path` with every plugin; `on_started` once its transports are live."""
    settings = read_settings(path)
    if settings.matrix is None and settings.signal is None:
        raise CliError(
            [
                f"{path}: no [matrix] section (nor [signal]), nothing to connect to"
                " (`vecinos console` is local)"
            ]
        )
    key = read_key(settings)
    setup_logging(settings.bot.log_level)
    app = Application(settings, key, default_plugins())
    asyncio.run(_serve(app, on_started))
    return 0


async def _serve(app: Application, on_started: Callable[[], None] | None) -> None:
    try:
        await app.run_until_signalled(await connect(app), on_started)
    except SignalSetupError as error:
        raise CliError([str(error)], EXIT_FAILURE) from None


async def connect(app: Application) -> list[Transport]:
    """Open storage, then log in or restore the login; nothing is left open on failure."""
    await app.open()
    try:
        return await configured_transports(app)
    except BaseException as error:
        await app.stop()
        if isinstance(error, SessionError):
            raise CliError([f"cannot log in to Matrix: {error}"], EXIT_FAILURE) from None
        if isinstance(error, Unreachable):
            raise CliError([str(error)], EXIT_FAILURE) from None
        if isinstance(error, DecryptionError):
            raise CliError([WRONG_KEY]) from None
        raise
