"""People, a group, a recording host and a transport wired to the fake daemon, for tests.

The `daemon` and `mode` fixtures are shared: a test module takes them in with
`daemon = harness.daemon` and `mode = harness.mode`.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Awaitable, Callable
from contextlib import asynccontextmanager
from datetime import datetime
from pathlib import Path

import pytest

from bot.core.config import SignalSection
from bot.core.events import Event
from bot.storage.cipher import FieldCipher
from bot.storage.database import CORE_MIGRATIONS, Database
from bot.storage.keys import DataKey
from bot.transports.signal.build import signal_transport
from bot.transports.signal.transport import SignalTransport
from signal_fake.daemon import FakeSignalDaemon
from signal_fake.envelopes import Group, Person

# The golden file's account, sender and group.
BOT = Person("Vecinos", "2c5b6a10-2222-4c3d-8e9f-abcdefabcdef", "+15550001111")
ALICE = Person("Alice", "8f1e4c2a-1111-4b7e-9d7a-0123456789ab", "+15550002222")
# Someone whose phone number Signal keeps private.
BETO = Person("Beto", "5d0c1e77-3333-4f00-8a11-fedcba987654", None)
GROUP_ID = "Pmpi+EfPWmsxiomLe9Nx2XF9HOE483p6iKiFj65iMwI="
OTHER_GROUP_ID = "QUJDREVGR0hJSktMTU5PUFFSU1RVVldYWVphYmNkZWY="
TIMEOUT = 10.0


def new_group() -> Group:
    return Group(GROUP_ID, "Test Group", members=[BOT, ALICE, BETO], admins=[ALICE])


def new_daemon(keepalive_seconds: float = 0.2) -> FakeSignalDaemon:
    daemon = FakeSignalDaemon(account=str(BOT.number), me=BOT, keepalive_seconds=keepalive_seconds)
    daemon.add_person(BOT)
    daemon.add_group(new_group())
    daemon.add_group(Group(OTHER_GROUP_ID, "Other", members=[BOT, ALICE]))
    return daemon


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    """A started fake daemon (`new_daemon()`), stopped after the test."""
    fake = new_daemon()
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture(params=["http", "tcp"])
def mode(request: pytest.FixtureRequest) -> str:
    """Each test twice: over the daemon's HTTP and over its TCP interface."""
    return str(request.param)


def section_for(daemon: FakeSignalDaemon, mode: str, account: str | None = None) -> SignalSection:
    account = account or daemon.account
    if mode == "http":
        return SignalSection(account=account, mode="http", url=daemon.url)
    return SignalSection(account=account, mode="tcp", port=daemon.tcp_port)


class RecordingHost:
    """The core, reduced to a list of what it was handed (optionally slow to handle it)."""

    def __init__(self, handle: Callable[[Event], Awaitable[None]] | None = None) -> None:
        self.events: list[Event] = []
        self.identities: list[tuple[str, str]] = []
        self._handle = handle
        self._changed = asyncio.Condition()

    async def deliver(self, event: Event) -> None:
        if self._handle is not None:
            await self._handle(event)
        async with self._changed:
            self.events.append(event)
            self._changed.notify_all()

    async def invite_allowed(self, transport: str, inviter: str, *, direct: bool) -> bool:
        return False

    async def room_joined_at(self, transport: str, room_id: str, joined_at: datetime) -> datetime:
        return joined_at

    async def load_token(self, transport: str) -> str | None:
        return None

    async def save_token(self, transport: str, token: str) -> None:
        return None

    async def identity_seen(self, transport: str, user_id: str, master_key: str) -> None:
        self.identities.append((user_id, master_key))

    async def wait_for(self, count: int) -> list[Event]:
        """The first `count` events, once that many arrived."""
        async with self._changed:
            await asyncio.wait_for(
                self._changed.wait_for(lambda: len(self.events) >= count), TIMEOUT
            )
        return self.events[:count]


@asynccontextmanager
async def running_transport(
    daemon: FakeSignalDaemon,
    mode: str,
    data_dir: Path,
    host: RecordingHost,
    key: DataKey,
    account: str | None = None,
) -> AsyncIterator[SignalTransport]:
    """A started transport on its own database in `data_dir`; stopped afterwards."""
    db = await Database.open(data_dir / "vecinos.db", [CORE_MIGRATIONS])
    section = section_for(daemon, mode, account)
    transport = signal_transport(section, db, FieldCipher(key))
    try:
        await asyncio.wait_for(transport.start(host), TIMEOUT)
        yield transport
    finally:
        await transport.stop()
        await db.close()


async def eventually(check: Callable[[], bool], timeout: float = TIMEOUT) -> None:
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while not check():
        if loop.time() > deadline:
            raise AssertionError("condition not met in time")
        await asyncio.sleep(0.02)
