"""A bot running some plugins on an in-memory network: the world a plugin's tests live in.

    world = await PluginWorld(tmp_path, plugins=[Tally], config=CONFIG).start()
    sent = await world.say("console", "@ana:example.org", "!tally guava")
    assert [s.text for s in sent] == ["You have 1 word."]
    await world.stop()

`config` is the config file's text; `{data}` in it stands for the data directory. People
act (`say`, `write`, `event` and `deliver`, `react`, `share_location`, `say_together`) and
the test reads what the bot sent (`messages`, `texts`, `last`, `replies`, `in_thread`,
`shown`). Time runs in one of two ways:

- real time (no `clock`): the core scheduler with its timer;
- a `FakeClock`: jobs run only when the test moves the clock (`advance`, `advance_to`,
  `tick` for the recurring sweeps), and every plugin with a `clock` attribute reads it.

`restart` keeps the data directory, key, transport and clock.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self, TypeVar

from bot.api.testing.fakes import (
    TRANSPORT,
    FakeClock,
    FakeTransport,
    ManualScheduler,
    Sent,
    wall_clock,
)
from bot.core.config import Schema, Settings, load_settings
from bot.core.context import BotContext
from bot.core.events import (
    Attachment,
    Event,
    LocationEvent,
    MessageEvent,
    ReactionEvent,
    RoomRef,
    Sender,
)
from bot.core.plugin import Plugin, schema_of
from bot.runtime.app import Application
from bot.storage.keys import DataKey

P = TypeVar("P", bound=Plugin)
OUTBOX_POLLS = 1000


class PluginWorld:
    def __init__(
        self,
        tmp_path: Path,
        *,
        plugins: Sequence[type[Plugin]],
        config: str,
        key: DataKey | None = None,
        clock: FakeClock | None = None,
    ) -> None:
        self.tmp_path = tmp_path
        self.plugins = tuple(plugins)
        self.config = config
        self.key = key if key is not None else DataKey.generate()
        self.clock = clock
        self.transport = FakeTransport(clock or wall_clock)
        self._app: Application | None = None
        self._ids = itertools.count(1)
        # Unique across worlds on one data directory: its event ledger remembers their ids.
        self._run = uuid.uuid4().hex[:6]

    # --- running -------------------------------------------------------------------------

    async def start(self) -> Self:
        app = Application(self.settings(), self.key, self.plugins)
        if self.clock is not None:
            await app.open()
            on_clock(app, self.clock)
        self._app = app
        await app.start([self.transport])
        return self

    async def stop(self) -> None:
        if self._app is not None:
            app, self._app = self._app, None
            await app.stop()

    async def restart(self, down_until: datetime | None = None) -> None:
        """Stop, let the clock move on with the bot down (no job runs), start again."""
        await self.stop()
        if down_until is not None:
            assert self.clock is not None, "a world on real time cannot be down for a while"
            self.clock.now = down_until
        await self.start()

    def settings(self, env: Mapping[str, str] | None = None) -> Settings:
        """The config written to tmp_path/config.toml and loaded, with `env` as the
        environment (none by default); raises `ConfigError` as `vecinos run` would."""
        path = self.tmp_path / "config.toml"
        path.write_text(self.config_text(), encoding="utf-8")
        return load_settings(path, env or {}, self.schema())

    def config_text(self) -> str:
        return self.config.format(data=self.data_dir)

    def schema(self) -> Schema:
        """The config keys and room roles the world's config may use."""
        return schema_of(self.plugins)

    @property
    def app(self) -> Application:
        assert self._app is not None, "start() first"
        return self._app

    @property
    def bot(self) -> BotContext:
        """What the plugins see (its `db`, `settings`, ...)."""
        return self.app.bot

    def plugin_of(self, kind: type[P]) -> P:
        """The running instance of a loaded plugin."""
        found = self.app.runtime.registry.plugin(kind.name)
        assert isinstance(found, kind), kind
        return found

    @property
    def scheduler(self) -> ManualScheduler:
        scheduler = self.app.bot.scheduler
        assert isinstance(scheduler, ManualScheduler), "a world on a FakeClock has one"
        return scheduler

    @property
    def data_dir(self) -> Path:
        return self.tmp_path / "data"

    def raw_bytes(self) -> bytes:
        """Every file of the data directory, as stored."""
        return b"".join(p.read_bytes() for p in self.data_dir.iterdir() if p.is_file())

    # --- people act ----------------------------------------------------------------------

    def event(
        self,
        room_id: str,
        user: str,
        body: str,
        *,
        thread: str | None = None,
        direct: bool = False,
        attachments: Sequence[Attachment] = (),
    ) -> MessageEvent:
        """A message from `user`, not yet delivered; `direct`: in a one-to-one chat."""
        return MessageEvent(
            **self._fields(room_id, user, thread),
            body=body,
            direct=direct,
            attachments=tuple(attachments),
        )

    async def deliver(self, event: Event) -> list[Sent]:
        """Hand the bot an event; what it sent until its outbox was empty again."""
        start = len(self.transport.sent)
        await self.app.deliver(event)
        await self.settle()
        return self.transport.sent[start:]

    async def say(self, room_id: str, user: str, body: str, **options: Any) -> list[Sent]:
        """`user` writes `body` (options as for `event`); what the bot sent for it."""
        return await self.deliver(self.event(room_id, user, body, **options))

    async def write(self, room_id: str, user: str, body: str, **options: Any) -> str:
        """As `say`; the event id of what `user` wrote (to answer in its thread)."""
        event = self.event(room_id, user, body, **options)
        await self.deliver(event)
        return event.event_id

    async def say_together(self, room_id: str, lines: list[tuple[str, str]]) -> list[Sent]:
        """Several people send at the same moment; returns everything the bot sent."""
        start = len(self.transport.sent)
        events = [self.event(room_id, user, text) for user, text in lines]
        await asyncio.gather(*(self.app.deliver(event) for event in events))
        await self.settle()
        return self.transport.sent[start:]

    async def share_location(
        self,
        room_id: str,
        user: str,
        geo_uri: str,
        description: str = "",
        thread: str | None = None,
    ) -> str:
        event = LocationEvent(
            **self._fields(room_id, user, thread), geo_uri=geo_uri, description=description
        )
        await self.deliver(event)
        return event.event_id

    async def react(self, room_id: str, user: str, target: str, key: str) -> str:
        event = ReactionEvent(**self._fields(room_id, user, None), target_event_id=target, key=key)
        await self.deliver(event)
        return event.event_id

    async def settle(self) -> None:
        """Wait until the outbox has sent what the bot queued (cards, notices)."""
        outbox = self.app.bot.outbox
        for _ in range(OUTBOX_POLLS):
            if await outbox.backlog() == 0:
                return
            await asyncio.sleep(0.005)
        raise AssertionError("the outbox did not empty")

    def _fields(self, room_id: str, user: str, thread: str | None) -> dict[str, Any]:
        return {
            "room": RoomRef(TRANSPORT, room_id),
            "event_id": f"$ev{self._run}-{next(self._ids)}",
            "sender": Sender(user, user.capitalize()),
            "timestamp": self.clock.now if self.clock else datetime.now(UTC),
            "thread_root": thread,
            "encrypted": True,
        }

    # --- time moves (on a FakeClock) -----------------------------------------------------

    async def advance_to(self, moment: datetime) -> list[Sent]:
        """Let time run to `moment` with the bot up; returns what it sent meanwhile."""
        start = len(self.transport.sent)
        await self.scheduler.run_until(moment)
        await self.settle()
        return self.transport.sent[start:]

    async def advance(self, delta: timedelta) -> list[Sent]:
        assert self.clock is not None, "a world on real time cannot be moved"
        return await self.advance_to(self.clock.now + delta)

    async def tick(self, moment: datetime) -> list[Sent]:
        """`advance_to(moment)`, then run the recurring jobs (the sweeps) once there."""
        start = len(self.transport.sent)
        await self.scheduler.run_until(moment)
        for job in self.scheduler.recurring:
            await job()
        await self.settle()
        return self.transport.sent[start:]

    # --- what the bot said ---------------------------------------------------------------

    def messages(self, room_id: str) -> list[Sent]:
        return [s for s in self.transport.sent if s.room_id == room_id]

    def texts(self, room_id: str) -> list[str]:
        return [s.text for s in self.messages(room_id)]

    def last(self, room_id: str) -> str:
        return self.messages(room_id)[-1].text

    def replies(self, room_id: str) -> list[str]:
        """Direct answers to commands and reactions (not cards, edits or notices)."""
        return [s.text for s in self.messages(room_id) if s.key and s.key.startswith("reply:")]

    def in_thread(self, room_id: str, root: str) -> list[str]:
        return [s.text for s in self.messages(room_id) if s.message.thread_root == root]

    def shown(self, sent: Sent) -> str:
        """A message as a client shows it: its last edit, or the original."""
        edits = [s.text for s in self.transport.sent if s.message.edit_of == sent.event_id]
        return edits[-1] if edits else sent.text


def on_clock(app: Application, clock: FakeClock) -> None:
    """Put an opened, not yet started `app` on `clock`: its scheduler and its plugins
    (also for a bot on a real homeserver whose timers a test moves)."""
    scheduler = ManualScheduler(app.bot.db, app.bot.cipher, clock)
    for spec, handler in app.runtime.registry.jobs:
        scheduler.register(spec, handler)
    app.bot.scheduler = scheduler
    app.use_clock(clock)
    for plugin in app.plugins:
        if hasattr(plugin, "clock"):
            plugin.clock = clock
