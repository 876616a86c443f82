"""Run the real Vecinos bot against the test Synapse, in-process or as a subprocess."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, TypeVar

import pytest
import tomli_w
from integration.matrix_clients import TextEvent, UserClient, UserFactory
from testkit.config import load_settings

from bot.api.testing import FakeClock, on_clock
from bot.core.config import Settings
from bot.core.plugin import Plugin
from bot.devtools.local_synapse import LocalSynapse, RegisteredUser
from bot.runtime.app import Application
from bot.runtime.connect import configured_transports
from bot.storage.keys import DataKey, write_key_file
from bot.transports.matrix.transport import MatrixTransport

P = TypeVar("P", bound=Plugin)

BOT_PASSWORD = "bot-password-123"


@dataclass
class BotSetup:
    """A bot account plus the config and data dir it runs from."""

    synapse: LocalSynapse
    dir: Path
    user: RegisteredUser
    key: DataKey
    allowed_users: list[str] = field(default_factory=list)
    rooms: list[dict[str, Any]] = field(default_factory=list)
    moderators: list[str] = field(default_factory=list)
    admins: list[str] = field(default_factory=list)
    bot_options: dict[str, Any] = field(default_factory=dict)
    # Areas besides "pilsen" (named after their slug).
    extra_areas: list[str] = field(default_factory=list)
    matrix_options: dict[str, Any] = field(default_factory=dict)
    # A `[signal]` section (account, mode, url or port) when set: Signal groups may then be
    # rooms too (`"transport": "signal"`).
    signal_options: dict[str, Any] = field(default_factory=dict)
    rosters_options: dict[str, Any] = field(default_factory=dict)
    sites: list[dict[str, Any]] = field(default_factory=list)
    # A free port by default: bots side by side (and parallel test runs) never share 9464.
    health_options: dict[str, Any] = field(default_factory=lambda: {"port": 0})
    # Further top-level keys (a plugin's own, such as [[partners]]).
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.dir / "config.toml"

    @property
    def user_id(self) -> str:
        return self.user.user_id

    def write_config(self) -> Path:
        areas = [{"slug": slug, "name_en": slug, "name_es": slug} for slug in self.extra_areas]
        config: dict[str, Any] = {
            "moderators": self.moderators,
            "admins": self.admins,
            "bot": {
                "data_dir": str(self.dir / "data"),
                "data_key_file": str(self.dir / "vecinos.key"),
                "undecryptable_wait_seconds": 5,
                **self.bot_options,
            },
            "matrix": {
                "homeserver": self.synapse.base_url,
                "user_id": self.user.user_id,
                "password": BOT_PASSWORD,
                **self.matrix_options,
            },
            "invites": {"allowed_users": self.allowed_users},
            "rosters": self.rosters_options,
            "health": self.health_options,
            "areas": [{"slug": "pilsen", "name_en": "Pilsen", "name_es": "Pilsen"}, *areas],
        }
        if self.signal_options:
            config["signal"] = self.signal_options
        if self.rooms:
            config["rooms"] = [{"areas": ["pilsen"], **room} for room in self.rooms]
        if self.sites:
            config["sites"] = [{"area": "pilsen", **site} for site in self.sites]
        config.update(self.extra)
        self.config_path.write_text(tomli_w.dumps(config))
        return self.config_path

    def settings(self) -> Settings:
        return load_settings(self.write_config(), env={})


def new_bot_setup(synapse: LocalSynapse, directory: Path, localpart: str) -> BotSetup:
    directory.mkdir(parents=True, exist_ok=True)
    user = synapse.register(localpart, BOT_PASSWORD)
    key = DataKey.generate()
    write_key_file(directory / "vecinos.key", key)
    return BotSetup(synapse=synapse, dir=directory, user=user, key=key)


@pytest.fixture
def setup(synapse: LocalSynapse, tmp_path: Path, unique: str) -> BotSetup:
    """A new bot account, configured from tmp_path/bot; a test module takes the fixture in
    with `setup = bot_harness.setup`."""
    return new_bot_setup(synapse, tmp_path / "bot", f"vecinos-{unique}")


class RunningBot:
    """The bot running in this event loop, as `vecinos run` would run it."""

    def __init__(self, app: Application) -> None:
        self.app = app

    @property
    def matrix(self) -> MatrixTransport:
        transport = self.app.runtime.transports["matrix"]
        assert isinstance(transport, MatrixTransport)
        return transport

    def plugin(self, kind: type[P]) -> P:
        plugin = self.app.runtime.registry.plugin(kind.name)
        assert isinstance(plugin, kind), kind
        return plugin

    async def stop(self) -> None:
        await self.app.stop()


async def start_bot(
    setup: BotSetup, plugins: Sequence[type[Any]] = (), clock: FakeClock | None = None
) -> RunningBot:
    """The bot in this loop; on `clock`, its timers run only when the test moves it
    (`app.bot.scheduler.run_until`)."""
    app = Application(setup.settings(), setup.key, plugins)
    await app.open()
    if clock is not None:
        on_clock(app, clock)
    try:
        await app.start(await configured_transports(app))
    except BaseException:
        await app.stop()
        raise
    return RunningBot(app)


async def alice_and_bot(
    setup: BotSetup, user_factory: UserFactory
) -> tuple[UserClient, RunningBot]:
    """A new user alice, the one allowed to invite the bot, and the bot started in-process."""
    alice = await user_factory("alice")
    setup.allowed_users = [alice.user_id]
    return alice, await start_bot(setup)


def from_bot(setup: BotSetup, text: str = "") -> Callable[[TextEvent], bool]:
    """Matches the bot's messages that contain `text`."""
    return lambda e: e.sender == setup.user_id and text in e.body


async def wait_until_joined(bot: RunningBot, room_id: str, timeout: float = 20) -> None:
    async with asyncio.timeout(timeout):
        while room_id not in bot.matrix.client.rooms:
            await asyncio.sleep(0.05)


async def wait_until_member(
    synapse: LocalSynapse, token: str, room_id: str, member: str, timeout: float = 60
) -> None:
    """Until `member` has joined `room_id`, as the server sees it (for a bot in a subprocess)."""
    path = f"/_matrix/client/v3/rooms/{room_id}/joined_members"
    async with asyncio.timeout(timeout):
        while member not in synapse.admin_request("GET", path, token=token)["joined"]:
            await asyncio.sleep(0.2)


def spawn_bot(setup: BotSetup, env: Mapping[str, str] | None = None) -> subprocess.Popen[bytes]:
    """`vecinos run` as a separate process, for tests that kill it."""
    setup.write_config()
    return subprocess.Popen(
        [sys.executable, "-m", "bot", "run", "-c", str(setup.config_path)],
        env={**os.environ, **(env or {})},
        stdout=subprocess.DEVNULL,
        stderr=open(setup.dir / "bot.log", "ab"),
    )


# --- what clients see of the bot's messages ---------------------------------------------------


def in_thread(root: str) -> Callable[[TextEvent], bool]:
    def check(event: TextEvent) -> bool:
        relates = event.source["content"].get("m.relates_to") or {}
        return relates.get("rel_type") == "m.thread" and relates.get("event_id") == root

    return check


def edit_of(target: str) -> Callable[[TextEvent], bool]:
    def check(event: TextEvent) -> bool:
        relates = event.source["content"].get("m.relates_to") or {}
        return relates.get("rel_type") == "m.replace" and relates.get("event_id") == target

    return check


def both(*checks: Callable[[TextEvent], bool]) -> Callable[[TextEvent], bool]:
    return lambda e: all(check(e) for check in checks)


def new_content(event: TextEvent) -> str:
    return str(event.source["content"]["m.new_content"]["body"])
