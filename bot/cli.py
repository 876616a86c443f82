"""The `vecinos` command: run, init, check, demo and console.

A problem the operator can fix (config, data key, login) ends as one `error: ...` line per
problem on stderr and exit status 2 (bad config or key) or 1 (the login failed).
"""

from __future__ import annotations

import argparse
import asyncio
import getpass
import importlib.util
import os
import shutil
import signal
import sqlite3
import sys
import tempfile
from collections.abc import Awaitable, Callable, Iterable, Iterator, Mapping, Sequence
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from pathlib import Path
from types import FrameType
from typing import Any

import aiohttp

from bot.app import DATABASE_FILE, Application, SecretSessions
from bot.config import Area, BotSection, ConfigError, RoomConfig, Settings, load_settings
from bot.demo import (
    ACCOUNTS_FILE,
    KEY_FILE,
    PEOPLE,
    Demo,
    seed,
    toml_value,
    write_files,
    write_private_file,
)
from bot.local_synapse import LocalSynapse
from bot.logs import setup_logging
from bot.storage.cipher import DecryptionError
from bot.storage.database import MigrationError
from bot.storage.keys import ENV_VAR as DATA_KEY_ENV
from bot.storage.keys import DataKey, DataKeyError, load_data_key, write_key_file
from bot.transports import console
from bot.transports.base import Transport
from bot.transports.console import ConsoleTransport
from bot.transports.factory import MATRIX_SESSION, MATRIX_STORE_DIR, configured_transports
from bot.transports.matrix.session import CRYPTO_STORE, SessionError
from plugins import DEFAULT_PLUGINS

CONFIG_ENV = "VECINOS_CONFIG"
DEFAULT_CONFIG = Path("config.toml")
PASSWORD_ENV = "VECINOS_MATRIX__PASSWORD"
# The name under which bot.transports.factory stores the Matrix login.
EXIT_FAILURE = 1
EXIT_USAGE = 2
HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)
WRONG_KEY = "the stored login does not decrypt: use the data key this data_dir was made with"

CONSOLE_USER = "you"
CONSOLE_BANNER = """\
Vecinos console: a local chat with the bot; nothing leaves this computer.
You are "{user}". Type {prefix}help to list the commands, /as NAME to speak as someone else,
Ctrl-D to quit."""

STARTER_CONFIG = """\
# Vecinos configuration, written by `vecinos init`. config.example.toml explains every key;
# any key can be overridden by a VECINOS_<SECTION>__<KEY> environment variable.
#
# Next: add the admins, moderators, areas and rooms, say whose invites the bot accepts,
# invite the bot to the rooms, then run `vecinos check -c {config}`.

# Matrix ids of the people who configure the bot (their invites are always accepted).
admins = []
# Trained verifiers (anyone with power level >= 50 in a moderation room also counts).
moderators = []

[bot]
data_dir = {data_dir}
# Without this key nothing in data_dir can be read: keep a backup of it somewhere safe.
data_key_file = {key_file}

[matrix]
homeserver = {homeserver}
user_id = {user_id}
# `vecinos init` used the password once to log in; the login is kept, encrypted, in data_dir.

[invites]
allowed_users = []
allowed_servers = []

# [[areas]]
# slug = "pilsen"
# name_en = "Pilsen"
# name_es = "Pilsen"
#
# [[rooms]]
# id = "!roomid:example.org"
# role = "neighborhood"  # neighborhood, moderation, alerts or watch
# areas = ["pilsen"]
# language = "es"
"""


class CliError(Exception):
    """A problem the operator can fix: printed as `error: ` lines, then exit with `code`."""

    def __init__(self, lines: Iterable[str], code: int = EXIT_USAGE) -> None:
        self.lines = tuple(lines)
        self.code = code
        super().__init__("\n".join(self.lines))


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
    check = _command(commands, "check", cmd_check, "check the config, key, database and login")
    _config_option(check)
    demo = _command(commands, "demo", cmd_demo, "run the bot on a throwaway local homeserver")
    demo.add_argument("--dir", type=Path, help="keep the demo here (default: a temp dir)")
    demo.add_argument("--port-file", type=Path, help="write the homeserver URL here when up")
    chat = _command(commands, "console", cmd_console, "chat with the bot in this terminal")
    _config_option(chat)
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


def _config_path(given: Path | None) -> Path | None:
    if given is not None:
        return given
    if os.environ.get(CONFIG_ENV):
        return Path(os.environ[CONFIG_ENV])
    return DEFAULT_CONFIG if DEFAULT_CONFIG.exists() else None


# --- default, run ------------------------------------------------------------------------


def cmd_default(args: argparse.Namespace) -> int:
    path = _config_path(args.config)
    if path is None:
        return _demo(None, None)
    return _run_bot(path)


def cmd_run(args: argparse.Namespace) -> int:
    path = _config_path(args.config)
    if path is None:
        raise CliError([f"no config: give -c FILE, set ${CONFIG_ENV}, or run `vecinos init`"])
    return _run_bot(path)


def _run_bot(path: Path, on_ready: Callable[[], None] = lambda: None) -> int:
    settings = _load_settings(path)
    if settings.matrix is None:
        raise CliError(
            [f"{path}: no [matrix] section, nothing to connect to (`vecinos console` is local)"]
        )
    key = _load_key(settings)
    setup_logging(settings.bot.log_level)
    asyncio.run(_serve(_ReadyApplication(settings, key, on_ready)))
    return 0


class _ReadyApplication(Application):
    """The application with every plugin, telling the caller once its transports are live."""

    def __init__(self, settings: Settings, key: DataKey, on_ready: Callable[[], None]) -> None:
        super().__init__(settings, key, DEFAULT_PLUGINS)
        self._on_ready = on_ready

    async def start(self, transports: Sequence[Transport]) -> None:
        await super().start(transports)
        self._on_ready()


async def _serve(app: Application) -> None:
    await app.run_until_signalled(await _connect(app))


async def _connect(app: Application) -> list[Transport]:
    """Open storage, then log in or restore the login; nothing is left open on failure."""
    await app.open()
    try:
        return await configured_transports(app)
    except BaseException as error:
        await app.stop()
        if isinstance(error, SessionError):
            raise CliError([f"cannot log in to Matrix: {error}"], EXIT_FAILURE) from None
        if isinstance(error, DecryptionError):
            raise CliError([WRONG_KEY]) from None
        raise


def _load_settings(path: Path, env: Mapping[str, str] | None = None) -> Settings:
    try:
        return load_settings(path, env)
    except ConfigError as error:
        raise CliError(error.problems) from None


def _load_key(settings: Settings) -> DataKey:
    try:
        return load_data_key(settings.bot.data_key_file)
    except DataKeyError as error:
        raise CliError([str(error)]) from None


# --- init --------------------------------------------------------------------------------


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
    homeserver = _ask("Homeserver URL (like https://matrix.example.org): ", args.homeserver)
    user_id = _ask("The bot's Matrix id (like @vecinos:example.org): ", args.user)
    password = _password(args.password_file, user_id)
    key = DataKey.generate()
    with ExitStack() as undo:
        # Until the login succeeded, every file made here is removed again on failure.
        undo.callback(_remove_new_data_dir, plan.data_dir, plan.data_dir.exists())
        write_private_file(plan.config, _starter_config(plan, homeserver, user_id))
        undo.callback(plan.config.unlink)
        write_key_file(plan.key_file, key)
        undo.callback(plan.key_file.unlink)
        # The password reaches the login the way an operator's would: as an override.
        settings = _load_settings(plan.config, {**os.environ, PASSWORD_ENV: password})
        setup_logging(settings.bot.log_level)
        asyncio.run(_log_in_once(settings, key))
        undo.pop_all()
    print(
        f"Wrote {plan.config} and {plan.key_file} (keep a backup of the key: without it "
        f"nothing in {plan.data_dir} can be read).\n"
        f"Logged in; the login and the encryption store are in {plan.data_dir}. "
        "The password was not saved.\n"
        f"Next: add areas and rooms to {plan.config}, invite the bot, then "
        f"`vecinos check -c {plan.config}` and `vecinos run -c {plan.config}`."
    )
    return 0


def _ask(prompt: str, given: str | None) -> str:
    if given:
        return given
    try:
        answer = input(prompt).strip()
    except EOFError:
        answer = ""
    if not answer:
        raise CliError([f"no answer to: {prompt.strip()}"])
    return answer


def _password(password_file: Path | None, user_id: str) -> str:
    if password_file is None:
        text = getpass.getpass(f"Password of {user_id} (used once to log in, not saved): ")
    else:
        try:
            text = password_file.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise CliError([f"cannot read {password_file}: {error.strerror}"]) from None
    if not text:
        raise CliError(["the password is empty"])
    return text


def _starter_config(plan: _InitPlan, homeserver: str, user_id: str) -> str:
    return STARTER_CONFIG.format(
        config=plan.config,
        data_dir=toml_value(plan.data_dir_setting),
        key_file=toml_value(KEY_FILE),
        homeserver=toml_value(homeserver),
        user_id=toml_value(user_id),
    )


async def _log_in_once(settings: Settings, key: DataKey) -> None:
    """The same login as `run`, then stop: the token and encryption store stay saved."""
    app = Application(settings, key, DEFAULT_PLUGINS)
    for transport in await _connect(app):
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


# --- check -------------------------------------------------------------------------------


class _CheckFailed(Exception):
    def __init__(self, problem: str, hint: str = "") -> None:
        super().__init__(f"{problem} (hint: {hint})" if hint else problem)


@dataclass
class _Checkup:
    """What the checks found so far; each check needs those listed before it."""

    path: Path
    loaded: Settings | None = None
    key: DataKey | None = None
    app: Application | None = None
    login: dict[str, str] | None = None

    @property
    def settings(self) -> Settings:
        assert self.loaded is not None, "the config check runs first"
        return self.loaded


def cmd_check(args: argparse.Namespace) -> int:
    path = _config_path(args.config)
    if path is None:
        raise CliError([f"no config: give -c FILE or set ${CONFIG_ENV}"])
    return 0 if asyncio.run(_run_checks(_Checkup(path))) else EXIT_FAILURE


async def _run_checks(checkup: _Checkup) -> bool:
    passed: set[str] = set()
    try:
        for name, needs, check in _CHECKS:
            missing = [need for need in needs if need not in passed]
            if missing:
                _report("skipped", name, f"needs {', '.join(missing)}")
                continue
            try:
                detail = await check(checkup)
            except _CheckFailed as failure:
                _report("FAILED", name, str(failure))
            else:
                _report("ok", name, detail)
                passed.add(name)
    finally:
        if checkup.app is not None:
            await checkup.app.stop()
    return len(passed) == len(_CHECKS)


def _report(status: str, name: str, detail: str) -> None:
    print(f"{status:<8}{name:<12}{detail}", flush=True)


async def _check_config(checkup: _Checkup) -> str:
    try:
        checkup.loaded = load_settings(checkup.path)
    except ConfigError as error:
        raise _CheckFailed("; ".join(error.problems), "see config.example.toml") from None
    settings = checkup.settings
    return f"{checkup.path}: {len(settings.areas)} areas, {len(settings.rooms)} rooms"


async def _check_key(checkup: _Checkup) -> str:
    key_file = checkup.settings.bot.data_key_file
    try:
        checkup.key = load_data_key(key_file)
    except DataKeyError as error:
        raise _CheckFailed(str(error)) from None
    return f"from ${DATA_KEY_ENV}" if DATA_KEY_ENV in os.environ else f"from {key_file}"


async def _check_database(checkup: _Checkup) -> str:
    assert checkup.key is not None
    checkup.app = Application(checkup.settings, checkup.key, DEFAULT_PLUGINS)
    path = checkup.settings.bot.data_dir / DATABASE_FILE
    try:
        await checkup.app.open()
    except (MigrationError, sqlite3.Error, OSError) as error:
        raise _CheckFailed(f"{path}: {error}", "is bot.data_dir right and writable?") from None
    return f"{path}: opens, migrations applied"


async def _check_homeserver(checkup: _Checkup) -> str:
    matrix = checkup.settings.matrix
    if matrix is None:
        return "not used (no [matrix] section)"
    url = f"{matrix.homeserver}/_matrix/client/versions"
    status, body = await _get_json(url)
    versions = body.get("versions")
    if status != 200 or not isinstance(versions, list) or not versions:
        raise _CheckFailed(f"{url} answered HTTP {status}", "is matrix.homeserver right?")
    return f"{matrix.homeserver} answers (Matrix {versions[-1]})"


async def _check_login(checkup: _Checkup) -> str:
    if checkup.settings.matrix is None:
        return "not used (no [matrix] section)"
    assert checkup.app is not None
    try:
        checkup.login = await SecretSessions(checkup.app.state, MATRIX_SESSION).load()
    except DecryptionError:
        raise _CheckFailed(WRONG_KEY) from None
    if checkup.login is None:
        hint = f"run `vecinos init`, or `vecinos run` once with ${PASSWORD_ENV} set"
        raise _CheckFailed("no stored login", hint)
    store = checkup.settings.bot.data_dir / MATRIX_STORE_DIR / CRYPTO_STORE
    if not store.exists():
        raise _CheckFailed(f"the encryption store {store} is missing", "restore it from backup")
    return f"device {checkup.login['device_id']}, with its encryption store"


async def _check_session(checkup: _Checkup) -> str:
    matrix, login = checkup.settings.matrix, checkup.login
    if matrix is None or login is None:
        return "not used (no [matrix] section)"
    url = f"{matrix.homeserver}/_matrix/client/v3/account/whoami"
    status, body = await _get_json(url, token=login["access_token"])
    if status != 200:
        raise _CheckFailed(
            f"the homeserver rejected the stored login ({body.get('errcode', status)})",
            "if the device was logged out, move data_dir away and log in again",
        )
    if (body.get("user_id"), body.get("device_id")) != (matrix.user_id, login["device_id"]):
        raise _CheckFailed("the stored login belongs to another account or device")
    return f"the homeserver accepts device {login['device_id']}"


async def _get_json(url: str, token: str | None = None) -> tuple[int, dict[str, Any]]:
    headers = {"Authorization": f"Bearer {token}"} if token else {}
    try:
        async with (
            aiohttp.ClientSession(timeout=HTTP_TIMEOUT) as http,
            http.get(url, headers=headers) as response,
        ):
            body = await response.json(content_type=None)
            return response.status, body if isinstance(body, dict) else {}
    except (aiohttp.ClientError, TimeoutError, ValueError) as error:
        problem = str(error) or type(error).__name__
        raise _CheckFailed(f"{url}: {problem}", "is the homeserver up and reachable?") from None


_CheckFn = Callable[[_Checkup], Awaitable[str]]
# (name, checks it needs, check), in order.
_CHECKS: tuple[tuple[str, tuple[str, ...], _CheckFn], ...] = (
    ("config", (), _check_config),
    ("data key", ("config",), _check_key),
    ("database", ("data key",), _check_database),
    ("homeserver", ("config",), _check_homeserver),
    ("login", ("database",), _check_login),
    ("session", ("login", "homeserver"), _check_session),
)


# --- demo --------------------------------------------------------------------------------


def cmd_demo(args: argparse.Namespace) -> int:
    return _demo(args.dir, args.port_file)


def _demo(directory: Path | None, port_file: Path | None) -> int:
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
            return _run_bot(config, lambda: _demo_ready(demo, workdir, kept, port_file))
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
            f"{where}; the logins are also in {workdir / ACCOUNTS_FILE}.",
            "Press Ctrl-C to stop the bot and the homeserver.",
            "",
        ]
    )


# --- console -----------------------------------------------------------------------------


def cmd_console(args: argparse.Namespace) -> int:
    with ExitStack() as stack:
        if args.config is None:
            temporary = stack.enter_context(tempfile.TemporaryDirectory(prefix="vecinos-"))
            settings, key = console_settings(Path(temporary)), DataKey.generate()
        else:
            settings = _load_settings(args.config)
            key = _load_key(settings)
        setup_logging(settings.bot.log_level)
        asyncio.run(_chat(settings, key))
    return 0


def console_settings(data_dir: Path) -> Settings:
    """A throwaway setup: one console room in a `demo` area, its one person an admin."""
    room = RoomConfig(id=console.ROOM_ID, transport="console", role="neighborhood", areas=("demo",))
    return Settings(
        bot=BotSection(data_dir=data_dir, log_level="WARNING"),
        areas=(Area(slug="demo", name_en="Demo", name_es="Demo"),),
        rooms=(room,),
        admins=(CONSOLE_USER,),
    )


async def _chat(settings: Settings, key: DataKey) -> None:
    app = Application(settings, key, DEFAULT_PLUGINS)
    transport = ConsoleTransport(user=CONSOLE_USER)
    await app.start([transport])
    try:
        if settings.room(transport.room.transport, transport.room.room_id) is None:
            print("note: the config has no console room, so commands act as in an unknown room")
        print(CONSOLE_BANNER.format(user=transport.user, prefix=settings.bot.command_prefix))
        await transport.read_stdin()
    finally:
        await app.stop()
