"""A running bot on a test network, on the in-memory `FakeTransport`.

`World` is the bot and its rooms: people act (`event`, `deliver`, `react`,
`share_location`, `say_together`) and the test reads what the bot sent (`messages`,
`texts`, `last`, `replies`, `in_thread`). Time runs in one of two ways:

- real time (no `clock`): the core scheduler with its timer, plugins on the wall clock; a
  test makes a plugin think it later by replacing its `clock`;
- a `FakeClock`: the `ManualScheduler` runs jobs only when the test moves the clock
  (`advance`, `advance_to`), and every plugin with a `clock` reads the fake one.

Stopping and starting again (`restart`) keeps the data directory, key, transport and clock.

`SightingsWorld` and `RosterWorld` are the two suites' worlds: their network, their plugin
as `plugin`, and `say` as each suite uses it.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import Mapping, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any, Self, TypeVar

from bot.core.events import (
    Attachment,
    Event,
    LocationEvent,
    MessageEvent,
    ReactionEvent,
    RoomRef,
    Sender,
)
from bot.core.plugin import Plugin
from bot.runtime.app import Application
from bot.storage.keys import DataKey
from plugins.rosters import Rosters
from plugins.sightings import Sightings
from testkit.config import data_dir, write_settings
from testkit.fakes import TRANSPORT, FakeClock, FakeTransport, ManualScheduler, Sent, wall_clock
from testkit.networks import DISPATCH, ROSTERS, SIGHTINGS, Network

P = TypeVar("P", bound=Plugin)


class World:
    """The bot on `network`; `config` overrides fields of the network's template."""

    def __init__(
        self,
        tmp_path: Path,
        network: Network,
        *,
        key: DataKey | None = None,
        clock: FakeClock | None = None,
        plugins: Sequence[type[Plugin]] | None = None,
        config: Mapping[str, str] | None = None,
    ) -> None:
        self.tmp_path = tmp_path
        self.network = network
        self.key = key if key is not None else DataKey.generate()
        self.clock = clock
        self.plugins = tuple(plugins) if plugins is not None else network.plugins
        self.config = {**network.defaults, **(config or {})}
        self.transport = FakeTransport(clock or wall_clock)
        self._app: Application | None = None
        self._ids = itertools.count(1)
        # Unique across worlds on one data directory: its event ledger remembers their ids.
        self._run = uuid.uuid4().hex[:6]

    # --- running -------------------------------------------------------------------------

    async def start(self, **config: str) -> Self:
        self.config.update(config)
        settings = write_settings(self.tmp_path, self.network.template, **self.config)
        app = Application(settings, self.key, self.plugins)
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

    async def restart(self, down_until: datetime | None = None, **config: str) -> None:
        """Stop, let the clock move on with the bot down (no job runs), start again."""
        await self.stop()
        if down_until is not None:
            assert self.clock is not None, "a world on real time cannot be down for a while"
            self.clock.now = down_until
        await self.start(**config)

    @property
    def app(self) -> Application:
        assert self._app is not None, "start() first"
        return self._app

    running = app

    def plugin_of(self, kind: type[P]) -> P:
        plugin = self.app.runtime.registry.plugin(kind.name)
        assert isinstance(plugin, kind), kind
        return plugin

    @property
    def scheduler(self) -> ManualScheduler:
        scheduler = self.app.bot.scheduler
        assert isinstance(scheduler, ManualScheduler), "a world on a FakeClock has one"
        return scheduler

    @property
    def data_dir(self) -> Path:
        return data_dir(self.tmp_path)

    def raw_bytes(self) -> bytes:
        """Every file of the data directory, as stored."""
        return b"".join(p.read_bytes() for p in self.data_dir.iterdir() if p.is_file())

    # --- people act ----------------------------------------------------------------------

    def event(self, room_id: str, user: str, body: str, *, direct: bool = False) -> MessageEvent:
        """A message from `user`, not yet delivered; `direct`: in a one-to-one chat."""
        return MessageEvent(**self._fields(room_id, user, None), body=body, direct=direct)

    async def deliver(self, event: Event) -> list[Sent]:
        """Hand the bot an event; what it sent until its outbox was empty again."""
        start = len(self.transport.sent)
        await self.app.deliver(event)
        await self.settle()
        return self.transport.sent[start:]

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
        for _ in range(1000):
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

    def cards(self) -> list[Sent]:
        """Original card messages (not their edits) in the moderation rooms."""
        return [
            s
            for s in self.transport.sent
            if s.key is not None and s.key.endswith(f":card:{TRANSPORT}:{s.room_id}")
        ]

    def card_text(self, card_event: str) -> str:
        """The card as a client shows it: the last edit, or the original."""
        texts = [s.text for s in self.transport.sent if s.event_id == card_event]
        texts += [s.text for s in self.transport.sent if s.message.edit_of == card_event]
        return texts[-1]

    def card_of(self, report_id: str) -> Sent:
        return next(s for s in self.cards() if s.text.split(" ")[1] == report_id)


def on_clock(app: Application, clock: FakeClock) -> None:
    """Put an opened, not yet started `app` on `clock`: its scheduler and its plugins."""
    scheduler = ManualScheduler(app.bot.db, app.bot.cipher, clock)
    for spec, handler in app.runtime.registry.jobs:
        scheduler.register(spec, handler)
    app.bot.scheduler = scheduler
    app.use_clock(clock)
    for plugin in app.plugins:
        if hasattr(plugin, "clock"):
            plugin.clock = clock


class SightingsWorld(World):
    """The sightings network on real time; `say` answers with the new message's event id."""

    def __init__(
        self,
        tmp_path: Path,
        *,
        key: DataKey | None = None,
        plugins: Sequence[type[Plugin]] | None = None,
        **config: str,
    ) -> None:
        super().__init__(tmp_path, SIGHTINGS, key=key, plugins=plugins, config=config)

    @property
    def plugin(self) -> Sightings:
        return self.plugin_of(Sightings)

    async def say(
        self,
        room_id: str,
        user: str,
        body: str,
        *,
        thread: str | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> str:
        fields = self._fields(room_id, user, thread)
        event = MessageEvent(**fields, body=body, attachments=tuple(attachments))
        await self.deliver(event)
        return event.event_id


async def start_world(
    tmp_path: Path,
    key: DataKey,
    reports: str = "",
    *,
    rooms: str = "",
    plugins: Sequence[type[Plugin]] = SIGHTINGS.plugins,
) -> SightingsWorld:
    """A running `SightingsWorld`: `reports` lines in [reports], `rooms` more [[rooms]]."""
    world = SightingsWorld(tmp_path, key=key, plugins=plugins, reports=reports, rooms=rooms)
    return await world.start()


class DispatchWorld(World):
    """The dispatch network on a clock the test moves, from `start`; `say` answers with
    what the bot sent while handling the message."""

    clock: FakeClock

    def __init__(
        self,
        tmp_path: Path,
        start: datetime,
        *,
        key: DataKey | None = None,
        plugins: Sequence[type[Plugin]] | None = None,
        **config: str,
    ) -> None:
        super().__init__(
            tmp_path, DISPATCH, key=key, clock=FakeClock(start), plugins=plugins, config=config
        )

    async def say(
        self, room_id: str, user: str, text: str, *, thread: str | None = None
    ) -> list[Sent]:
        event = MessageEvent(**self._fields(room_id, user, thread), body=text)
        return await self.deliver(event)

    async def ask(self, room_id: str, user: str, text: str) -> str:
        """The text of the bot's single answer to a command."""
        answers = [s for s in await self.say(room_id, user, text) if s.room_id == room_id]
        assert len(answers) == 1, [a.text for a in answers]
        return answers[0].text

    def calls(self, room_id: str) -> list[Sent]:
        """The dispatch calls posted in a room (originals, not edits or follow-ups)."""
        return [
            s
            for s in self.messages(room_id)
            if s.key and s.key.startswith("dispatch:R") and s.key.count(":") == 4
        ]


class RosterWorld(World):
    """The rosters network on a clock the test moves, from `start`; `say` answers with what
    the bot sent while handling the message."""

    clock: FakeClock

    def __init__(
        self, tmp_path: Path, start: datetime, *, key: DataKey | None = None, **config: str
    ) -> None:
        super().__init__(tmp_path, ROSTERS, key=key, clock=FakeClock(start), config=config)

    @property
    def plugin(self) -> Rosters:
        return self.plugin_of(Rosters)

    async def say(self, room_id: str, user: str, text: str) -> list[Sent]:
        return await self.deliver(self.event(room_id, user, text))

    async def ask(self, room_id: str, user: str, text: str) -> str:
        """The text of the bot's single answer to a command."""
        answers = await self.say(room_id, user, text)
        assert len(answers) == 1, [a.text for a in answers]
        return answers[0].text

    async def shift_id(self, site: str, window: str, day: str) -> int:
        row = await self.app.bot.db.fetchone(
            "SELECT id FROM roster_shifts WHERE site = ? AND window_name = ? AND day = ?",
            (self.plugin.sites.key(site), window, day),
        )
        assert row is not None, (site, window, day)
        return int(row["id"])
