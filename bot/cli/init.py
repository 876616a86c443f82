"""`vecinos init`: write a starter config and a new data key, then log in once.

Every value given or typed is checked before the password is asked for. When the homeserver
cannot be reached, the config and key are still written, and init says what it could not
check and how to log in later.
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import os
import shutil
import sys
from collections.abc import Callable
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path

import tomli_w
from pydantic import TypeAdapter, ValidationError

from bot.cli.common import (
    CONFIG_ENV,
    DEFAULT_CONFIG,
    PASSWORD_ENV,
    CliError,
    example_config,
    read_settings,
)
from bot.cli.run import connect
from bot.core.config import Settings
from bot.core.config.values import HttpUrl, MatrixUserId, TimeZone, system_time_zone
from bot.devtools.demo import KEY_FILE, write_private_file
from bot.ops.logs import setup_logging
from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins, default_schema
from bot.storage.keys import ENV_VAR as DATA_KEY_ENV
from bot.storage.keys import DataKey, write_key_file
from bot.transports.matrix.reach import probe

# The comments for the operator around the values; each {key} is a `key = value` line
# written by tomli-w.
STARTER_CONFIG = """\
# Vecinos configuration, written by `vecinos init`. {example} explains
# every key; any key can be overridden by a VECINOS_<SECTION>__<KEY> environment variable.
#
# Next: add the admins, moderators, areas and rooms, say whose invites the bot accepts,
# invite the bot to the rooms, then run `vecinos check -c {config}`.

# Matrix ids of the people who configure the bot (their invites are always accepted).
admins = []
# Trained verifiers (anyone with power level >= 50 in a moderation room also counts).
moderators = []

[bot]
{data_dir}
# Without this key nothing in data_dir can be read: keep a backup of it somewhere safe.
{data_key_file}

[matrix]
{homeserver}
{user_id}
# `vecinos init` used the password once to log in; the login is kept, encrypted, in data_dir.

[invites]
allowed_users = []
allowed_servers = []

[reports]
# The areas' local time zone (IANA name): times are read and shown in it.
{timezone}

# [[areas]]
# slug = "pilsen"
# name_en = "Pilsen"
# name_es = "Pilsen"
#
# [[rooms]]
# id = "!roomid:example.org"
# role = "neighborhood"  # {roles}
# areas = ["pilsen"]
# language = "es"
"""


@dataclass(frozen=True)
class _InitPlan:
    config: Path
    key_file: Path
    data_dir: Path
    data_dir_setting: str

    @classmethod
    def of(cls, args: argparse.Namespace) -> _InitPlan:
        config = args.config or Path(os.environ.get(CONFIG_ENV) or DEFAULT_CONFIG)
        base = config.absolute().parent
        return cls(config, base / KEY_FILE, base / Path(args.data_dir).expanduser(), args.data_dir)

    def refuse_unsafe(self) -> None:
        """init creates a new bot: it never overwrites a config, a key or someone's data."""
        if DATA_KEY_ENV in os.environ:
            raise CliError([f"${DATA_KEY_ENV} is set and would replace the key file; unset it"])
        if not self.config.absolute().parent.is_dir():
            raise CliError([f"the directory of {self.config} does not exist"])
        for path in (self.config, self.key_file):
            if path.exists():
                raise CliError([f"{path} already exists; init never overwrites it"])
        if self.data_dir.exists() and any(self.data_dir.iterdir()):
            raise CliError([f"the data directory {self.data_dir} is not empty"])


def cmd_init(args: argparse.Namespace) -> int:
    plan = _InitPlan.of(args)
    plan.refuse_unsafe()
    # What was given on the command line is checked before anything is asked.
    given = [
        _checked(_TIMEZONE, args.timezone, "--timezone"),
        _checked(_USER, args.user, "--user"),
        _checked(_HOMESERVER, args.homeserver, "--homeserver"),
    ]
    timezone = given[0] or _default_timezone()
    homeserver = _ask("Homeserver URL (like https://matrix.example.org): ", given[2], _HOMESERVER)
    user_id = _ask("The bot's Matrix id (like @vecinos:example.org): ", given[1], _USER)
    config_text = _starter_config(plan, homeserver, user_id, timezone)
    why = asyncio.run(probe(homeserver))
    if why is not None:
        _write_only(plan, config_text)
        print(
            f"Wrote {plan.config} and {plan.key_file} (keep a backup of the key).\n"
            f"Could not reach {homeserver}: {why}. So I could not check that it is a Matrix "
            f"homeserver, that {user_id} exists there, or its password, and the bot is not "
            f"logged in yet. When the homeserver answers: `vecinos check -c {plan.config}`, "
            f"then `vecinos run -c {plan.config}` once with ${PASSWORD_ENV} set to log in."
        )
        return 0
    password = _password(args.password_file, user_id)
    _create(plan, config_text, password)
    print(
        f"Wrote {plan.config} and {plan.key_file} (keep a backup of the key: without it "
        f"nothing in {plan.data_dir} can be read).\n"
        f"Logged in; the login and the encryption store are in {plan.data_dir}. "
        "The password was not saved.\n"
        f"Next: add areas and rooms to {plan.config}, invite the bot, then "
        f"`vecinos check -c {plan.config}` and `vecinos run -c {plan.config}`."
    )
    return 0


_Check = Callable[[str], str]
_TIMEZONE: _Check = TypeAdapter(TimeZone).validate_python
_USER: _Check = TypeAdapter(MatrixUserId).validate_python
_HOMESERVER: _Check = TypeAdapter(HttpUrl).validate_python


def _checked(check: _Check, value: str | None, name: str) -> str | None:
    """`value` as the config will hold it; a bad one is a one-line error naming `name`."""
    if value is None:
        return None
    try:
        return check(value.strip())
    except ValidationError as error:
        reason = str(error.errors()[0]["ctx"]["error"])
        raise CliError([f"{name} {value.strip()!r}: {reason}"]) from None


def _default_timezone() -> str:
    timezone = system_time_zone()
    if timezone == "UTC":
        print(
            "note: this machine's time zone is UTC, so the config says UTC; set [reports] "
            "timezone to your areas' zone (or give --timezone America/Chicago)",
            file=sys.stderr,
        )
    return timezone


def _ask(prompt: str, given: str | None, check: _Check) -> str:
    if given:
        return given
    answer = _typed(lambda: input(prompt)).strip()
    if not answer:
        raise CliError([f"no answer to: {prompt.strip()}"])
    return _checked(check, answer, "the answer") or answer


def _typed(read: Callable[[], str]) -> str:
    """What the operator typed; the end of input (Ctrl-D, a closed pipe) is one line."""
    try:
        return read()
    except EOFError:
        print(file=sys.stderr)  # the prompt had no newline
        ended = "the input ended before init had what it needs; nothing was written"
        raise CliError([ended]) from None


def _password(password_file: Path | None, user_id: str) -> str:
    if password_file is None:
        prompt = f"Password of {user_id} (used once to log in, not saved): "
        text = _typed(lambda: getpass.getpass(prompt))
    else:
        try:
            text = password_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise CliError([f"cannot read {password_file}: {error.strerror}"]) from None
    if not text:
        raise CliError(["the password is empty"])
    return text


def _starter_config(plan: _InitPlan, homeserver: str, user_id: str, timezone: str) -> str:
    values = {
        "data_dir": plan.data_dir_setting,
        "data_key_file": KEY_FILE,
        "homeserver": homeserver,
        "user_id": user_id,
        "timezone": timezone,
    }
    lines = {key: tomli_w.dumps({key: value}).rstrip("\n") for key, value in values.items()}
    roles = [role.name for role in default_schema().all_roles()]
    return STARTER_CONFIG.format(
        config=plan.config,
        example=example_config(),
        roles=f"{', '.join(roles[:-1])} or {roles[-1]}",
        **lines,
    )


def _write_only(plan: _InitPlan, config_text: str) -> None:
    """The config and a new key, without logging in."""
    write_private_file(plan.config, config_text)
    write_key_file(plan.key_file, DataKey.generate())


def _create(plan: _InitPlan, config_text: str, password: str) -> None:
    """Write the config and a new key, then log in; on failure, remove all of it again."""
    key = DataKey.generate()
    with ExitStack() as undo:
        undo.callback(_remove_new_data_dir, plan.data_dir, plan.data_dir.exists())
        write_private_file(plan.config, config_text)
        undo.callback(plan.config.unlink)
        write_key_file(plan.key_file, key)
        undo.callback(plan.key_file.unlink)
        # The password reaches the login the way an operator's would: as an override.
        settings = read_settings(plan.config, {**os.environ, PASSWORD_ENV: password})
        setup_logging(settings.bot.log_level)
        asyncio.run(_log_in_once(settings, key))
        undo.pop_all()


async def _log_in_once(settings: Settings, key: DataKey) -> None:
    """The same login as `run`, then stop: the token and encryption store stay saved."""
    app = Application(settings, key, default_plugins())
    for transport in await connect(app):
        await transport.stop()
    await app.stop()


def _remove_new_data_dir(data_dir: Path, existed: bool) -> None:
    # init checked that it was empty or absent, so everything in it is init's own.
    if not existed:
        shutil.rmtree(data_dir, ignore_errors=True)
        return
    for child in data_dir.iterdir():
        if child.is_dir():
            shutil.rmtree(child)
        else:
            child.unlink()
