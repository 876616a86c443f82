"""`vecinos check`: the config, data key, database, homeserver, login and rooms, one line
each; then warnings about what works but will surprise (no admins, an area no moderator
sees, a configured room the bot is not in). Warnings do not fail the check."""

from __future__ import annotations

import argparse
import asyncio
import os
import sqlite3
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import aiohttp

from bot.cli.common import (
    CONFIG_ENV,
    EXIT_FAILURE,
    PASSWORD_ENV,
    WRONG_KEY,
    CliError,
    config_path,
    example_config,
)
from bot.core.config import ConfigError, Settings, load_settings
from bot.core.identity import readable_key
from bot.runtime.app import DATABASE_FILE, Application, SecretSessions
from bot.runtime.connect import CROSS_SIGNING_SECRET, MATRIX_SESSION, MATRIX_STORE_DIR
from bot.runtime.plugins import default_plugins, default_schema
from bot.storage.cipher import DecryptionError
from bot.storage.database import MigrationError
from bot.storage.keys import ENV_VAR as DATA_KEY_ENV
from bot.storage.keys import DataKey, DataKeyError, load_data_key
from bot.transports.matrix.cross_signing import CrossSigningKeys
from bot.transports.matrix.reach import VERSIONS, probe
from bot.transports.matrix.session import CRYPTO_STORE

HTTP_TIMEOUT = aiohttp.ClientTimeout(total=15)
NOT_USED = "not used (no [matrix] section)"


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
    warnings: list[str] = field(default_factory=list)

    @property
    def settings(self) -> Settings:
        assert self.loaded is not None, "the config check runs first"
        return self.loaded


def cmd_check(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    if path is None:
        raise CliError([f"no config: give -c FILE or set ${CONFIG_ENV}"])
    return 0 if asyncio.run(_run_checks(_Checkup(path))) else EXIT_FAILURE


async def _run_checks(checkup: _Checkup) -> bool:
    passed: set[str] = set()
    failed: list[str] = []
    skipped: list[str] = []
    try:
        for name, needs, check in _CHECKS:
            if any(need not in passed for need in needs):
                skipped.append(name)
                continue
            try:
                detail = await check(checkup)
            except _CheckFailed as failure:
                _report("FAILED", name, str(failure))
                failed.append(name)
            else:
                _report("ok", name, detail)
                passed.add(name)
    finally:
        if checkup.app is not None:
            await checkup.app.stop()
    if skipped:
        _report("skipped", "", f"{', '.join(skipped)}: they need {' and '.join(failed)} first")
    for warning in checkup.warnings:
        _report("warning", "", warning)
    return len(passed) == len(_CHECKS)


_INDENT = 20


def _report(status: str, name: str, detail: str) -> None:
    print(f"{status:<8}{name:<12}{detail}", flush=True)


async def _check_config(checkup: _Checkup) -> str:
    try:
        checkup.loaded = load_settings(checkup.path, schema=default_schema())
    except ConfigError as error:
        # One problem a line, each at its key, then where every key is explained.
        lines = [*error.problems, f"(every key is explained in {example_config()})"]
        problems = "".join(f"\n{' ' * _INDENT}{line}" for line in lines)
        raise _CheckFailed(f"{_count(len(error.problems), 'problem')}:{problems}") from None
    settings = checkup.settings
    checkup.warnings += settings.warnings()
    if not settings.rooms:
        checkup.warnings.append(
            "0 rooms: the bot serves nobody yet; add [[rooms]] (or `!room here` from chat)"
        )
    areas, rooms = len(settings.areas), len(settings.rooms)
    return f"{checkup.path}: {_count(areas, 'area')}, {_count(rooms, 'room')}"


def _count(number: int, thing: str) -> str:
    return f"{number} {thing}" if number == 1 else f"{number} {thing}s"


async def _check_key(checkup: _Checkup) -> str:
    key_file = checkup.settings.bot.data_key_file
    try:
        checkup.key = load_data_key(key_file)
    except DataKeyError as error:
        raise _CheckFailed(str(error)) from None
    return f"from ${DATA_KEY_ENV}" if DATA_KEY_ENV in os.environ else f"from {key_file}"


async def _check_database(checkup: _Checkup) -> str:
    assert checkup.key is not None
    checkup.app = Application(checkup.settings, checkup.key, default_plugins())
    path = checkup.settings.bot.data_dir / DATABASE_FILE
    try:
        await checkup.app.open()
    except (MigrationError, sqlite3.Error, OSError) as error:
        raise _CheckFailed(f"{path}: {error}", "is bot.data_dir right and writable?") from None
    structure = checkup.app.bot.structure
    checkup.warnings += [*structure.skipped, *structure.clashes()]
    return f"{path}: opens, migrations applied"


async def _check_homeserver(checkup: _Checkup) -> str:
    matrix = checkup.settings.matrix
    if matrix is None:
        return NOT_USED
    why = await probe(str(matrix.homeserver))
    if why is not None:
        hint = "is matrix.homeserver right?"
        raise _CheckFailed(f"cannot reach {matrix.homeserver}: {why}", hint)
    _, body = await _get_json(f"{matrix.homeserver}{VERSIONS}")
    return f"{matrix.homeserver} answers (Matrix {body['versions'][-1]})"


async def _check_login(checkup: _Checkup) -> str:
    if checkup.settings.matrix is None:
        return NOT_USED
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


async def _check_identity(checkup: _Checkup) -> str:
    """The bot's identity key (its cross-signing master key), which partners pin."""
    if checkup.settings.matrix is None:
        return NOT_USED
    assert checkup.app is not None
    secret = await SecretSessions(checkup.app.state, CROSS_SIGNING_SECRET).load()
    if secret is None:
        return "not made yet: the first `vecinos run` makes it"
    key = CrossSigningKeys.from_secret(secret).public("master")
    return f"{readable_key(key)} (partner networks pin this key)"


async def _check_session(checkup: _Checkup) -> str:
    answer = await _ask_as_bot(checkup, "/_matrix/client/v3/account/whoami")
    matrix, login = checkup.settings.matrix, checkup.login
    if answer is None or matrix is None or login is None:
        return NOT_USED
    status, body = answer
    if status != 200:
        raise _CheckFailed(
            f"the homeserver rejected the stored login ({body.get('errcode', status)})",
            "if the device was logged out, move data_dir away and log in again",
        )
    if (body.get("user_id"), body.get("device_id")) != (matrix.user_id, login["device_id"]):
        raise _CheckFailed("the stored login belongs to another account or device")
    return f"the homeserver accepts device {login['device_id']}"


async def _check_rooms(checkup: _Checkup) -> str:
    """The configured Matrix rooms the bot has joined; the others are warned about."""
    answer = await _ask_as_bot(checkup, "/_matrix/client/v3/joined_rooms")
    matrix = checkup.settings.matrix
    if answer is None or matrix is None:
        return NOT_USED
    joined = set(answer[1].get("joined_rooms") or ())
    configured = [room for room in checkup.settings.rooms if room.transport == "matrix"]
    for room in configured:
        if room.id not in joined:
            checkup.warnings.append(
                f"the bot is not in {room.id} ({room.role} room); an admin, or someone in "
                f"invites.allowed_users, must invite {matrix.user_id} to it"
            )
    inside = sum(room.id in joined for room in configured)
    return f"in {inside} of {_count(len(configured), 'configured Matrix room')}"


async def _ask_as_bot(checkup: _Checkup, path: str) -> tuple[int, dict[str, Any]] | None:
    """GET `path` from the homeserver with the stored login; None without Matrix."""
    matrix, login = checkup.settings.matrix, checkup.login
    if matrix is None or login is None:
        return None
    return await _get_json(f"{matrix.homeserver}{path}", token=login["access_token"])


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
    ("identity", ("login",), _check_identity),
    ("session", ("login", "homeserver"), _check_session),
    ("rooms", ("session",), _check_rooms),
)
