"""A running bot with the rosters plugin, on a clock the test moves by hand.

`ManualScheduler` is the core scheduler with the timer taken out: jobs are persisted and
rebuilt exactly as in production, but they run only when the test advances the clock
(`World.advance_to`), one by one at their own time, as a running bot would run them.
`FakeTransport` records what the bot sends and, like Matrix transaction ids, never posts
the same idempotency key twice.

The `world` fixture is shared: a test module takes it in with `world = rosters_fakes.world`.
"""

from __future__ import annotations

import asyncio
import itertools
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
from testkit.config import load_settings

from bot.core.events import MessageEvent, OutgoingMessage, RoomRef, Sender
from bot.core.scheduler import Scheduler
from bot.core.transport import TransportHost
from bot.runtime.app import Application
from bot.storage.cipher import FieldCipher
from bot.storage.database import Database, utc_timestamp
from bot.storage.keys import DataKey
from plugins.rosters import Rosters

TRANSPORT = "console"
WHITTIER = "whittier-room"  # English watch room of the Whittier site
JUAREZ = "juarez-room"  # Spanish watch room of the Juárez site
HOOD = "pilsen-hood"  # a neighborhood room: no roster commands there
CHICAGO = "America/Chicago"

ADMIN = "@ana:example.org"
MODERATOR = "@rosa:example.org"
COORDINATOR = "@coco:example.org"
MARIA = "@maria:example.org"
JUAN = "@juan:example.org"
LUPE = "@lupe:example.org"
PEDRO = "@pedro:example.org"

CONFIG = """
admins = ["@ana:example.org"]
moderators = ["@rosa:example.org"]

[bot]
data_dir = "{data}"
commands_per_minute = 1000

[rosters]
{rosters}

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"

[[rooms]]
id = "whittier-room"
transport = "console"
role = "watch"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "juarez-room"
transport = "console"
role = "watch"
areas = ["pilsen"]
language = "es"

[[rooms]]
id = "pilsen-hood"
transport = "console"
role = "neighborhood"
areas = ["pilsen"]

[[sites]]
slug = "whittier"
name = "Whittier Elementary"
area = "pilsen"
timezone = "America/Chicago"
room = "whittier-room"
windows = {windows}
skip = {skip}
coordinators = ["@coco:example.org"]

[[sites]]
slug = "juarez"
name = "Escuela Juárez"
area = "pilsen"
timezone = "America/Chicago"
room = "juarez-room"
windows = ["entrada lun-vie 07:45-08:15 necesita 1"]
"""

WINDOWS = '["dropoff mon-fri 07:30-08:15 need 2 max 3", "pickup mon-fri 14:45-15:30 need 2"]'


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class ManualScheduler(Scheduler):
    def __init__(self, db: Database, cipher: FieldCipher, clock: FakeClock) -> None:
        super().__init__(db, cipher, now=clock)
        self.clock = clock
        self.recurring: list[Callable[[], Awaitable[None]]] = []

    def _arm(self, job_id: str, run_at: datetime) -> None:
        """No timer: jobs run when the test moves the clock past them."""

    def every(self, interval: timedelta, func: Callable[[], Awaitable[None]]) -> None:
        self.recurring.append(func)

    async def run_until(self, moment: datetime) -> None:
        """Run every job due up to `moment`, each with the clock at its own time."""
        while (row := await self._next_due(moment)) is not None:
            self.clock.now = max(self.clock.now, datetime.fromisoformat(row[1]))
            await self._fire(row[0])
        self.clock.now = max(self.clock.now, moment)

    async def _next_due(self, moment: datetime) -> tuple[str, str] | None:
        row = await self._db.fetchone(
            "SELECT job_id, run_at FROM scheduled_jobs WHERE run_at <= ? ORDER BY run_at, job_id",
            (utc_timestamp(moment),),
        )
        return None if row is None else (row["job_id"], row["run_at"])

    async def jobs(self) -> dict[str, datetime]:
        rows = await self._db.fetchall("SELECT job_id, run_at FROM scheduled_jobs")
        return {row["job_id"]: datetime.fromisoformat(row["run_at"]) for row in rows}


@dataclass(frozen=True)
class Sent:
    room_id: str
    message: OutgoingMessage
    key: str | None
    at: datetime  # the fake clock when it was sent

    @property
    def text(self) -> str:
        return self.message.plain

    @property
    def mentions(self) -> tuple[str, ...]:
        return self.message.mentions


class FakeTransport:
    name = TRANSPORT

    def __init__(self, clock: FakeClock) -> None:
        self.sent: list[Sent] = []
        self._clock = clock
        self._keys: set[tuple[str, str]] = set()
        self._ids = itertools.count(1)

    @property
    def own_user_id(self) -> str:
        return "vecinos"

    async def start(self, host: TransportHost) -> None:
        pass

    async def stop(self) -> None:
        pass

    async def send(self, room_id: str, message: OutgoingMessage, *, key: str | None = None) -> str:
        if key is not None and (room_id, key) in self._keys:
            return "$dup"
        if key is not None:
            self._keys.add((room_id, key))
        self.sent.append(Sent(room_id, message, key, self._clock.now))
        return f"$bot{next(self._ids)}"

    async def react(self, room_id: str, event_id: str, emoji: str) -> str:
        return f"$bot{next(self._ids)}"

    async def power_level(self, room_id: str, user_id: str) -> int:
        return 0


class World:
    """The bot and its rooms. Restarting keeps the data directory, key and transport."""

    def __init__(
        self,
        tmp_path: Path,
        start: datetime,
        *,
        rosters: str = "",
        windows: str = WINDOWS,
        skip: str = "[]",
    ) -> None:
        self.tmp_path = tmp_path
        self.key = DataKey.generate()
        self.clock = FakeClock(start)
        self.transport = FakeTransport(self.clock)
        self.config = {"rosters": rosters, "windows": windows, "skip": skip}
        self._events = itertools.count(1)
        self.app: Application | None = None

    @property
    def data_dir(self) -> Path:
        return self.tmp_path / "data"

    async def start(self, **config: str) -> World:
        self.config.update(config)
        path = self.tmp_path / "config.toml"
        path.write_text(CONFIG.format(data=self.data_dir, **self.config), encoding="utf-8")
        app = Application(load_settings(path, env={}), self.key, [Rosters])
        await app.open()
        scheduler = ManualScheduler(app.bot.db, app.bot.cipher, self.clock)
        for spec, handler in app.bot.registry.jobs:
            scheduler.register(spec, handler)
        app.bot.scheduler = scheduler
        self.app = app
        self.plugin.clock = self.clock
        await app.start([self.transport])
        return self

    async def stop(self) -> None:
        if self.app is not None:
            app, self.app = self.app, None
            await app.stop()

    async def restart(self, down_until: datetime | None = None, **config: str) -> None:
        """Stop, let time pass with the bot down (no job runs), start again."""
        await self.stop()
        if down_until is not None:
            self.clock.now = down_until
        await self.start(**config)

    @property
    def running(self) -> Application:
        assert self.app is not None, "start() first"
        return self.app

    @property
    def plugin(self) -> Rosters:
        plugin = self.running.bot.registry.plugin("rosters")
        assert isinstance(plugin, Rosters)
        return plugin

    @property
    def scheduler(self) -> ManualScheduler:
        scheduler = self.running.bot.scheduler
        assert isinstance(scheduler, ManualScheduler)
        return scheduler

    async def say(self, room: str, user: str, text: str) -> list[Sent]:
        """Deliver a message; returns what the bot sent while handling it."""
        start = len(self.transport.sent)
        await self.running.deliver(self.event(room, user, text))
        return self.transport.sent[start:]

    async def ask(self, room: str, user: str, text: str) -> str:
        """The text of the bot's single answer to a command."""
        answers = await self.say(room, user, text)
        assert len(answers) == 1, [a.text for a in answers]
        return answers[0].text

    def event(self, room: str, user: str, text: str) -> MessageEvent:
        return MessageEvent(
            room=RoomRef(TRANSPORT, room),
            event_id=f"$e{next(self._events)}",
            sender=Sender(user),
            # The dispatcher's max-age check runs on real time; the plugin uses the clock.
            timestamp=datetime.now(UTC),
            encrypted=True,
            body=text,
        )

    async def say_together(self, room: str, lines: list[tuple[str, str]]) -> list[Sent]:
        """Several people send at the same moment; returns everything the bot sent."""
        start = len(self.transport.sent)
        events = [self.event(room, user, text) for user, text in lines]
        await asyncio.gather(*(self.running.deliver(event) for event in events))
        return self.transport.sent[start:]

    async def advance_to(self, moment: datetime) -> list[Sent]:
        """Let time run to `moment` with the bot up; returns what it sent meanwhile."""
        start = len(self.transport.sent)
        await self.scheduler.run_until(moment)
        return self.transport.sent[start:]

    async def advance(self, delta: timedelta) -> list[Sent]:
        return await self.advance_to(self.clock.now + delta)

    async def shift_id(self, site: str, window: str, day: str) -> int:
        row = await self.running.bot.db.fetchone(
            "SELECT id FROM roster_shifts WHERE site = ? AND window_name = ? AND day = ?",
            (self.plugin.sites.key(site), window, day),
        )
        assert row is not None, (site, window, day)
        return int(row["id"])

    def raw_bytes(self) -> bytes:
        return b"".join(p.read_bytes() for p in self.data_dir.iterdir() if p.is_file())


def chicago(text: str) -> datetime:
    """`"2026-03-09 07:30"` in Chicago wall-clock time, as an aware UTC datetime."""
    local = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(CHICAGO))
    return local.astimezone(UTC)


def wall(moment: datetime) -> str:
    """An instant as Chicago wall-clock text, to assert on what people would see."""
    return moment.astimezone(ZoneInfo(CHICAGO)).strftime("%Y-%m-%d %H:%M")


MONDAY = chicago("2026-03-02 09:00")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[World]:
    """A running world whose clock starts on Monday 2026-03-02 at 09:00 in Chicago."""
    running = await World(tmp_path, MONDAY).start()
    yield running
    await running.stop()
