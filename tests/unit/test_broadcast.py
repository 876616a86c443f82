"""Broadcasts: one message to every room of an audience and area, once, and its later changes
edit exactly those messages; where alerts went before the upgrade is carried over."""

from __future__ import annotations

import asyncio
import sqlite3
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.core.broadcast import Broadcasts, Target
from bot.core.config import ALERTS, Role, Schema, Settings
from bot.core.cursors import Cursors
from bot.core.events import OutgoingMessage, RoomRef, SentMessage
from bot.core.outbox import Outbox
from bot.storage.cipher import FieldCipher
from bot.storage.database import CORE_MIGRATIONS, Database, MigrationSet
from bot.storage.keys import DataKey

AT = datetime(2026, 12, 2, 18, 0, tzinfo=UTC)
SETTINGS = Settings.with_schema(Schema(roles=(Role("alerts", traits=frozenset({ALERTS})),)))(
    areas=[
        {"slug": "pilsen", "name_en": "Pilsen", "name_es": "Pilsen"},
        {"slug": "villita", "name_en": "Little Village", "name_es": "La Villita"},
    ],
    rooms=[
        {"id": "hood", "transport": "console", "role": "neighborhood", "areas": ["pilsen"]},
        {"id": "alerts", "transport": "console", "role": "alerts", "areas": ["pilsen", "villita"]},
        {"id": "mods", "transport": "console", "role": "moderation", "areas": ["pilsen"]},
        {"id": "lv", "transport": "console", "role": "neighborhood", "areas": ["villita"]},
    ],
)


class Rooms:
    """A transport's view: what each room shows, edits applied."""

    def __init__(self) -> None:
        self.sent: list[tuple[str, OutgoingMessage, str]] = []

    async def __call__(self, room: RoomRef, message: OutgoingMessage, key: str) -> SentMessage:
        event_id = f"$ev{len(self.sent)}"
        self.sent.append((room.room_id, message, event_id))
        return SentMessage(room, event_id)

    def shown(self, room_id: str) -> list[str]:
        """The room's messages as a client shows them: each original, edited."""
        texts: dict[str, str] = {}
        for room, message, event_id in self.sent:
            if room != room_id:
                continue
            if message.edit_of is not None:
                texts[message.edit_of] = message.plain
            else:
                texts[event_id] = message.plain
        return list(texts.values())


class Bench:
    def __init__(self, db: Database) -> None:
        self.db = db
        self.rooms = Rooms()
        self.outbox = Outbox(db, FieldCipher(DataKey.generate()), self.rooms)
        self.broadcasts = Broadcasts(db, self.outbox, lambda: SETTINGS)

    async def drain(self) -> None:
        async with asyncio.timeout(5):
            while await self.outbox.backlog():
                await asyncio.sleep(0.01)


@pytest.fixture
async def bench(tmp_path: Path) -> AsyncIterator[Bench]:
    db = await Database.open(tmp_path / "bot.db", [CORE_MIGRATIONS])
    bench = Bench(db)
    await bench.outbox.start()
    yield bench
    await bench.outbox.stop()
    await db.close()


def text(value: str) -> OutgoingMessage:
    return OutgoingMessage(plain=value)


async def test_an_audience_is_every_room_whose_role_hears_it_in_the_area(bench: Bench) -> None:
    pilsen = {t.room.room_id for t in bench.broadcasts.audience(ALERTS, "pilsen")}
    assert pilsen == {"hood", "alerts"}
    villita = {t.room.room_id for t in bench.broadcasts.audience(ALERTS, "villita")}
    assert villita == {"alerts", "lv"}


async def test_opened_once_revised_everywhere_then_closed_and_purged(bench: Bench) -> None:
    targets = [
        *bench.broadcasts.audience(ALERTS, "pilsen"),
        Target(RoomRef("console", "mods"), "$root"),
    ]
    for _ in range(2):  # a replay after a crash adds nothing
        await bench.broadcasts.open("t:1", "t:R1", targets, lambda target: text("ALERT"), at=AT)
    await bench.drain()
    assert [bench.rooms.shown(r) for r in ("hood", "alerts", "mods")] == [["ALERT"]] * 3
    in_thread = next(m for r, m, _ in bench.rooms.sent if r == "mods")
    assert (in_thread.thread_root, in_thread.reply_to) == ("$root", "$root")

    latest = await bench.broadcasts.latest("t:R1")
    assert latest is not None and latest.opened_at == AT and set(latest.targets) == set(targets)
    for _ in range(2):
        await bench.broadcasts.revise(
            latest,
            "2",
            edit=lambda target: text("ALERT, updated"),
            follow_up=lambda target: text("see above"),
        )
    await bench.drain()
    assert bench.rooms.shown("hood") == ["ALERT, updated", "see above"]
    follow = [m for r, m, _ in bench.rooms.sent if r == "mods" and m.plain == "see above"]
    assert len(follow) == 1 and follow[0].thread_root == "$root"

    await bench.broadcasts.close("t:R1", AT)
    await bench.broadcasts.purge("other:", AT + timedelta(days=1))
    assert await bench.broadcasts.latest("t:R1") is not None  # another plugin's purge
    await bench.broadcasts.purge("t:", AT + timedelta(days=1))
    assert await bench.broadcasts.latest("t:R1") is None
    rooms = await bench.db.fetchone("SELECT COUNT(*) AS n FROM broadcast_rooms")
    assert rooms is not None and rooms["n"] == 0


async def test_the_latest_broadcast_on_a_topic_wins(bench: Bench) -> None:
    hood = [Target(RoomRef("console", "hood"))]
    await bench.broadcasts.open("t:1", "t:R1", hood, lambda target: text("first"), at=AT)
    later = AT + timedelta(hours=1)
    await bench.broadcasts.open("t:2", "t:R1", hood, lambda target: text("second"), at=later)
    latest = await bench.broadcasts.latest("t:R1")
    assert latest is not None and latest.key == "t:2" and latest.opened_at == later
    assert await bench.broadcasts.latest("t:R2") is None


async def test_alerts_sent_before_the_upgrade_are_carried_over(tmp_path: Path) -> None:
    """A data directory of the previous release (the relay kept its own tables) is migrated:
    an update after the upgrade still edits the alerts sent before it, and the relay goes on
    from the change it had reached."""
    path = tmp_path / "bot.db"
    relay = MigrationSet(component="relay", package="plugins.relay.migrations")
    await (await Database.open(path, [CORE_MIGRATIONS, relay])).close()
    previous_release(path)
    db = await Database.open(path, [CORE_MIGRATIONS, relay])
    try:
        broadcasts = Broadcasts(
            db, Outbox(db, FieldCipher(DataKey.generate()), Rooms()), lambda: SETTINGS
        )
        latest = await broadcasts.latest("relay:R7K3")
        assert latest is not None and latest.opened_at == AT
        assert latest.room_key(RoomRef("matrix", "!hood:x")) == "relay:4:matrix:!hood:x"
        assert set(latest.targets) == {
            Target(RoomRef("matrix", "!hood:x")),
            Target(RoomRef("matrix", "!mods:x"), "$thread"),
        }
        gone = await db.fetchall(
            "SELECT name FROM sqlite_master WHERE name IN ('relay_alerts', 'relay_position')"
        )
        assert gone == []
        assert await Cursors(db).get("relay") == 4  # the relay goes on where it was
    finally:
        await db.close()


def previous_release(path: Path) -> None:
    """Turn the schema back into the previous release's, with two alerts sent."""
    conn = sqlite3.connect(path)
    conn.executescript(
        "DROP TABLE broadcast_rooms; DROP TABLE broadcasts; DROP TABLE cursors;"
        " DELETE FROM schema_migrations WHERE (component, version) IN"
        " (('core', 6), ('core', 7), ('core', 11), ('core', 12), ('relay', 2), ('relay', 3));"
        " CREATE TABLE relay_position (id INTEGER PRIMARY KEY CHECK (id = 1),"
        " last_seq INTEGER NOT NULL); INSERT INTO relay_position VALUES (1, 4);"
        " CREATE TABLE relay_alerts (report_id TEXT NOT NULL, confirm_seq INTEGER NOT NULL,"
        " confirmed_at TEXT NOT NULL, transport TEXT NOT NULL, room_id TEXT NOT NULL,"
        " thread_root TEXT, closed_at TEXT, PRIMARY KEY (confirm_seq, transport, room_id));"
    )
    conn.executemany(
        "INSERT INTO relay_alerts VALUES (?, ?, ?, ?, ?, ?, ?)",
        [
            ("R7K3", 4, AT.isoformat(), "matrix", "!hood:x", None, None),
            ("R7K3", 4, AT.isoformat(), "matrix", "!mods:x", "$thread", None),
        ],
    )
    conn.commit()
    conn.close()
