"""A running bot with the sightings plugin on an in-memory transport with several rooms.

The console transport has one room; moderation flows need a neighborhood room and a
moderation room at least. `FakeTransport` records every message the bot sends and, like
Matrix transaction ids, never posts the same idempotency key twice.

The `key`, `world` and `catalog` fixtures are shared: a test module takes them in with
`key = sightings_fakes.key` and so on.
"""

from __future__ import annotations

import asyncio
import itertools
import uuid
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pytest
from testkit.config import load_settings

from bot.core.config import Settings
from bot.core.events import (
    Attachment,
    Event,
    LocationEvent,
    MessageEvent,
    OutgoingMessage,
    ReactionEvent,
    RoomRef,
    Sender,
)
from bot.core.i18n import Catalog
from bot.core.plugin import Plugin
from bot.core.transport import TransportHost
from bot.runtime.app import Application
from bot.storage.keys import DataKey
from plugins.rosters import Rosters
from plugins.sightings import Sightings

TRANSPORT = "console"
PILSEN_EN = "pilsen-en"
PILSEN_ES = "pilsen-es"
VILLITA = "villita"
MODS = "mods"
MODS_LV = "mods-lv"
MODERATORS = ("rosa", "luis")

CONFIG = """
moderators = ["rosa", "luis"]

[bot]
data_dir = "{data}"

[reports]
timezone = "America/Chicago"
{reports}

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"

[[areas]]
slug = "little-village"
name_en = "Little Village"
name_es = "La Villita"

[[rooms]]
id = "pilsen-en"
transport = "console"
role = "neighborhood"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "pilsen-es"
transport = "console"
role = "neighborhood"
areas = ["pilsen"]
language = "es"

[[rooms]]
id = "villita"
transport = "console"
role = "neighborhood"
areas = ["little-village"]
language = "es"

[[rooms]]
id = "mods"
transport = "console"
role = "moderation"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "mods-lv"
transport = "console"
role = "moderation"
areas = ["little-village"]
language = "es"
"""


@dataclass(frozen=True)
class Sent:
    room_id: str
    message: OutgoingMessage
    event_id: str
    key: str | None

    @property
    def text(self) -> str:
        return self.message.plain


class FakeTransport:
    name = TRANSPORT

    def __init__(self) -> None:
        self.sent: list[Sent] = []
        self.reactions: list[tuple[str, str, str]] = []
        self._by_key: dict[tuple[str, str], str] = {}
        self._ids = itertools.count(1)

    @property
    def own_user_id(self) -> str:
        return "vecinos"

    async def start(self, host: TransportHost) -> None:
        self.host = host

    async def stop(self) -> None:
        pass

    async def send(self, room_id: str, message: OutgoingMessage, *, key: str | None = None) -> str:
        if key is not None and (room_id, key) in self._by_key:
            return self._by_key[(room_id, key)]
        event_id = f"$bot{next(self._ids)}"
        self.sent.append(Sent(room_id, message, event_id, key))
        if key is not None:
            self._by_key[(room_id, key)] = event_id
        return event_id

    async def react(self, room_id: str, event_id: str, emoji: str) -> str:
        self.reactions.append((room_id, event_id, emoji))
        return f"$bot{next(self._ids)}"

    async def power_level(self, room_id: str, user_id: str) -> int:
        return 0


class World:
    """The running bot; people act with `say`, `react` and `share_location`."""

    def __init__(self, app: Application, transport: FakeTransport) -> None:
        self.app = app
        self.transport = transport
        self._ids = itertools.count(1)
        # Unique across restarts: the event ledger remembers ids handled by earlier runs.
        self._run = uuid.uuid4().hex[:6]

    @property
    def plugin(self) -> Sightings:
        plugin = self.app.bot.registry.plugin("sightings")
        assert isinstance(plugin, Sightings)
        return plugin

    async def say(
        self,
        room_id: str,
        user: str,
        body: str,
        *,
        thread: str | None = None,
        attachments: Sequence[Attachment] = (),
    ) -> str:
        event_id = self._next_id()
        await self._deliver(
            MessageEvent(
                **self._common(room_id, user, event_id, thread),
                body=body,
                attachments=tuple(attachments),
            )
        )
        return event_id

    async def share_location(
        self,
        room_id: str,
        user: str,
        geo_uri: str,
        description: str = "",
        thread: str | None = None,
    ) -> str:
        event_id = self._next_id()
        await self._deliver(
            LocationEvent(
                **self._common(room_id, user, event_id, thread),
                geo_uri=geo_uri,
                description=description,
            )
        )
        return event_id

    async def react(self, room_id: str, user: str, target: str, key: str) -> str:
        event_id = self._next_id()
        await self._deliver(
            ReactionEvent(
                **self._common(room_id, user, event_id, None), target_event_id=target, key=key
            )
        )
        return event_id

    async def _deliver(self, event: Event) -> None:
        await self.app.deliver(event)
        await self.settle()

    async def settle(self) -> None:
        """Wait until the outbox has sent what the event queued (cards, notices)."""
        outbox = self.app.bot.outbox
        for _ in range(1000):
            if await outbox.backlog() == 0:
                return
            await asyncio.sleep(0.005)
        raise AssertionError("the outbox did not empty")

    def _common(
        self, room_id: str, user: str, event_id: str, thread: str | None
    ) -> dict[str, object]:
        return {
            "room": RoomRef(TRANSPORT, room_id),
            "event_id": event_id,
            "sender": Sender(user, user.capitalize()),
            "timestamp": datetime.now(UTC),
            "thread_root": thread,
            "encrypted": True,
        }

    def _next_id(self) -> str:
        return f"$ev{self._run}-{next(self._ids)}"

    # --- what the bot said -------------------------------------------------------------

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


def settings_for(tmp_path: Path, reports: str = "", rooms: str = "") -> Settings:
    """CONFIG with `reports` in its [reports] table and `rooms` ([[rooms]] tables) after it."""
    path = tmp_path / "config.toml"
    config = CONFIG.format(data=tmp_path / "data", reports=reports) + rooms
    path.write_text(config, encoding="utf-8")
    return load_settings(path, env={})


async def start_world(
    tmp_path: Path,
    key: DataKey,
    reports: str = "",
    *,
    rooms: str = "",
    plugins: Sequence[type[Plugin]] = (Sightings, Rosters),
) -> World:
    app = Application(settings_for(tmp_path, reports, rooms), key, plugins)
    transport = FakeTransport()
    await app.start([transport])
    return World(app, transport)


@pytest.fixture
def key() -> DataKey:
    return DataKey.generate()


@pytest.fixture
async def world(tmp_path: Path, key: DataKey) -> AsyncIterator[World]:
    w = await start_world(tmp_path, key)
    yield w
    await w.app.stop()


@pytest.fixture(scope="module")
def catalog() -> Catalog:
    """The core's strings and the sightings plugin's, in both languages."""
    catalog = Catalog()
    catalog.add_package("bot.core.locales")
    catalog.add_package("plugins.sightings.locales")
    return catalog
