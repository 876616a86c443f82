"""The application: storage, plugins, scheduler and transports wired together."""

from __future__ import annotations

import asyncio
import gc
import logging
import signal
from collections.abc import Callable, Sequence
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.config import Settings
from bot.core.context import BotContext
from bot.core.events import Event
from bot.core.identity import Seen
from bot.core.metrics import Metrics
from bot.core.plugin import Plugin
from bot.core.transport import Transport
from bot.ops.health import HealthServer, register_core_gauges
from bot.runtime.builtin import CorePlugin
from bot.runtime.ledger import EventLedger
from bot.runtime.plugins import ordered
from bot.runtime.routing import Router
from bot.runtime.services import Runtime
from bot.runtime.transport_state import TransportState
from bot.storage.cipher import FieldCipher
from bot.storage.database import CORE_MIGRATIONS, Database, MigrationSet
from bot.storage.keys import DataKey

log = logging.getLogger(__name__)

DATABASE_FILE = "vecinos.db"
LEDGER_PRUNE_INTERVAL = timedelta(hours=1)
RETENTION_INTERVAL = timedelta(minutes=10)


class Application:
    """Owns every service; also the host that transports deliver events to."""

    def __init__(
        self, settings: Settings, key: DataKey, plugins: Sequence[type[Plugin]] = ()
    ) -> None:
        self.settings = settings
        self._key = key
        self._plugin_types: list[type[Plugin]] = [CorePlugin, *ordered(plugins)]
        self.plugins: list[Plugin] = []
        self.transports: list[Transport] = []
        self._runtime: Runtime | None = None
        self._router: Router | None = None
        self._state: TransportState | None = None
        self._health: HealthServer | None = None

    @property
    def runtime(self) -> Runtime:
        assert self._runtime is not None, "start() first"
        return self._runtime

    @property
    def bot(self) -> BotContext:
        """What the plugins see."""
        return self.runtime.bot

    async def open(self) -> None:
        """Open storage and load plugins; no network yet."""
        cipher = FieldCipher(self._key)
        db = await Database.open(self.settings.bot.data_dir / DATABASE_FILE, self._migrations())
        runtime = self._runtime = Runtime(self.settings, db, cipher, Metrics())
        register_core_gauges(runtime.bot, runtime.transports)
        self._check_settings()
        for line in await runtime.bot.structure.load():
            log.warning("network: %s", line)
        for plugin_type in self._plugin_types:
            plugin = CorePlugin(runtime) if plugin_type is CorePlugin else plugin_type(runtime.bot)
            if plugin.locales:
                runtime.catalog.add_package(plugin.locales)
            runtime.registry.add_plugin(plugin)
            self.plugins.append(plugin)
        for spec, handler in runtime.registry.jobs:
            runtime.bot.scheduler.register(spec, handler)
        self._state = TransportState(db, cipher)
        self._router = Router(runtime, EventLedger(db), self._state)

    def use_clock(self, now: Callable[[], datetime]) -> None:
        """Judge the age of incoming commands and of the bot's own messages by `now`
        (tests that move time by hand)."""
        assert self._router is not None, "open() first"
        self._router.now = now
        self.runtime.retention.now = now

    def _check_settings(self) -> None:
        """The settings must have been loaded with these plugins' config keys."""
        for plugin_type in self._plugin_types:
            if plugin_type.config is not None:
                self.settings.section(plugin_type.config)  # raises LookupError if missing

    def _migrations(self) -> list[MigrationSet]:
        extra = [
            MigrationSet(component=p.name, package=p.migrations)
            for p in self._plugin_types
            if p.migrations
        ]
        return [CORE_MIGRATIONS, *extra]

    async def start(self, transports: Sequence[Transport]) -> None:
        """Start plugins, the scheduler, then each transport (after its first sync)."""
        if self._runtime is None:
            await self.open()
        bot = self.bot
        for warning in [*bot.settings.warnings(), *bot.structure.clashes()]:
            log.warning("config: %s", warning)
        for plugin in self.plugins:
            await plugin.start()
        bot.scheduler.every(LEDGER_PRUNE_INTERVAL, self._prune_ledger)
        bot.scheduler.every(RETENTION_INTERVAL, self.delete_old_messages)
        await bot.scheduler.start()
        for transport in transports:
            self.runtime.add_transport(transport)
            self.transports.append(transport)
            await transport.start(self)
        await bot.outbox.start()
        if self.settings.health.enabled:
            # Last: "healthy" is only ever said of a bot whose transports are all up.
            self._health = HealthServer(bot, self.runtime.transports)
            await self._health.start()
        # What start-up built lives as long as the bot: out of the collector's full passes,
        # whose pause would otherwise land on someone's command.
        gc.freeze()
        log.info("Vecinos is running on %s", ", ".join(t.name for t in transports) or "nothing")

    @property
    def health_port(self) -> int | None:
        """The port serving /healthz and /metrics, once started (None when not served)."""
        return self._health.port if self._health is not None else None

    async def stop(self) -> None:
        if self._health is not None:
            await self._health.stop()
            self._health = None
        if self._runtime is not None:
            await self.bot.outbox.stop()
        for transport in reversed(self.transports):
            await transport.stop()
        if self._runtime is not None:
            for plugin in reversed(self.plugins):
                await plugin.stop()
            await self.bot.scheduler.stop()
            await self.bot.db.close()

    async def run_until_signalled(
        self, transports: Sequence[Transport], on_started: Callable[[], None] | None = None
    ) -> None:
        stopping = asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.add_signal_handler(sig, stopping.set)
        try:
            await self.start(transports)
            if on_started is not None:
                on_started()
            await stopping.wait()
            log.info("stopping")
        finally:
            await self.stop()

    async def delete_old_messages(self) -> None:
        """The bot's own messages past their room's retention, a batch at a time."""
        await self.runtime.retention.sweep(self.bot.retract)

    async def _prune_ledger(self) -> None:
        assert self._router is not None
        await EventLedger(self.bot.db).prune(
            datetime.now(UTC), self._router.max_age + timedelta(hours=1)
        )

    # TransportHost

    async def deliver(self, event: Event) -> None:
        assert self._router is not None
        await self._router.deliver(event)

    async def invite_allowed(self, transport: str, inviter: str, *, direct: bool) -> bool:
        if direct:
            return await self.runtime.serves_direct_chat(transport, inviter)
        return self.settings.invite_allowed(inviter)

    async def room_joined_at(self, transport: str, room_id: str, joined_at: datetime) -> datetime:
        assert self._state is not None
        return await self._state.room_joined_at(transport, room_id, joined_at)

    async def load_token(self, transport: str) -> str | None:
        assert self._state is not None
        return await self._state.load_token(transport)

    async def save_token(self, transport: str, token: str) -> None:
        assert self._state is not None
        await self._state.save_token(transport, token)

    async def identity_seen(self, transport: str, user_id: str, master_key: str) -> None:
        bot = self.bot
        if await bot.identities.seen(user_id, master_key) is not Seen.CHANGED:
            return
        if not await self.runtime.moderates(transport, user_id):
            return
        log.warning("a moderator's identity key changed: moderator rights held until !trust")
        await bot.tell_moderators(
            "core.identity_changed",
            # Once per new key, even if a crash makes the bot learn it again.
            key=f"identity:{bot.person(user_id)}:{master_key}",
            user=user_id,
            prefix=bot.settings.bot.command_prefix,
        )

    @property
    def state(self) -> TransportState:
        assert self._state is not None
        return self._state


class SecretSessions:
    """A transport's login, kept encrypted in the core's secrets table."""

    def __init__(self, state: TransportState, name: str) -> None:
        self._state = state
        self._name = name

    async def load(self) -> Any:
        return await self._state.load_secret(self._name)

    async def save(self, session: dict[str, str]) -> None:
        await self._state.save_secret(self._name, session)
