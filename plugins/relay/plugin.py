"""The alert relay: a confirmed report reaches every room watching its area, exactly once.

It listens to the reports plugin's changes. A confirmation becomes one outbox delivery per
room (plus the reporter's thread, when that room is not alerted anyway); an update, an
all-clear or a retraction becomes an edit of every alert sent and a short follow-up that
replies to it. Deliveries go through the core's durable outbox, keyed so that replaying a
change after a crash adds nothing. The last change relayed is remembered, and the changes
after it are caught up at start.
"""

from __future__ import annotations

import asyncio
import logging
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.events import OutgoingMessage, RoomRef
from bot.outbox import Delivery
from bot.plugin import Plugin
from bot.storage.database import utc_timestamp
from plugins.relay.render import alert, follow_up
from plugins.relay.routing import alert_rooms
from plugins.sightings.card import View
from plugins.sightings.plugin import Sightings
from plugins.sightings.signals import ChangeKind, ReportChange

log = logging.getLogger(__name__)

PURGE_INTERVAL = timedelta(hours=6)
CLOSING = frozenset({ChangeKind.CLEARED, ChangeKind.RETRACTED})


class Relay(Plugin):
    name = "relay"
    locales = "plugins.relay.locales"
    migrations = "plugins.relay.migrations"

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._lock = asyncio.Lock()
        self._sightings: Sightings | None = None

    async def start(self) -> None:
        sightings = self.bot.registry.plugin("sightings")
        if not isinstance(sightings, Sightings):
            raise RuntimeError("the relay needs the sightings plugin")
        self._sightings = sightings
        sightings.signals.subscribe(self.on_change)
        for change in await sightings.changes_after(await self._position()):
            await self.on_change(change)
        self.bot.scheduler.every(PURGE_INTERVAL, self.purge)

    async def on_change(self, change: ReportChange) -> None:
        async with self._lock:
            if change.seq <= await self._position():
                return
            if change.kind is ChangeKind.CONFIRMED:
                deliveries = await self._alerts(change)
            else:
                deliveries = await self._changes(change)
            await self.bot.outbox.enqueue(deliveries)
            await self._advance(change.seq)
        log.info("relayed a report change to %d rooms", len(deliveries))

    async def _alerts(self, change: ReportChange) -> list[Delivery]:
        rooms = alert_rooms(self.bot.settings, change.report.area)
        targets: list[tuple[RoomRef, str | None]] = [(room, None) for room in rooms]
        if change.reporter_room not in rooms:
            targets.append((change.reporter_room, change.reporter_thread))
        async with self.bot.db.transaction() as tx:
            await tx.executemany(
                "INSERT OR IGNORE INTO relay_alerts (report_id, confirm_seq, confirmed_at,"
                " transport, room_id, thread_root) VALUES (?, ?, ?, ?, ?, ?)",
                [
                    (change.report_id, change.seq, utc_timestamp(change.at), *_room(room), thread)
                    for room, thread in targets
                ],
            )
        return [
            Delivery(
                _key(change.seq, room),
                room,
                _placed(alert(change, change.at, self._view(room)).message(), thread),
                urgent=True,
            )
            for room, thread in targets
        ]

    async def _changes(self, change: ReportChange) -> list[Delivery]:
        rows = await self.bot.db.fetchall(
            "SELECT * FROM relay_alerts WHERE confirm_seq ="
            " (SELECT MAX(confirm_seq) FROM relay_alerts WHERE report_id = ?)",
            (change.report_id,),
        )
        deliveries = []
        for row in rows:
            room, thread = RoomRef(row["transport"], row["room_id"]), row["thread_root"]
            view, original = self._view(room), _key(row["confirm_seq"], room)
            confirmed_at = datetime.fromisoformat(row["confirmed_at"])
            edit = replace(alert(change, confirmed_at, view).message(), notice=False)
            follow = _placed(follow_up(change, view).message(), thread)
            deliveries += [
                Delivery(
                    f"{original}:edit:{change.seq}", room, edit, edit_of_key=original, urgent=True
                ),
                Delivery(
                    f"{original}:follow:{change.seq}",
                    room,
                    follow,
                    reply_to_key=original,
                    urgent=True,
                ),
            ]
        if change.kind in CLOSING:
            await self.bot.db.execute(
                "UPDATE relay_alerts SET closed_at = ? WHERE report_id = ? AND closed_at IS NULL",
                (utc_timestamp(change.at), change.report_id),
            )
        return deliveries

    def _view(self, room: RoomRef) -> View:
        assert self._sightings is not None
        return self._sightings.notifier.room_view(room)

    async def _position(self) -> int:
        row = await self.bot.db.fetchone("SELECT last_seq FROM relay_position WHERE id = 1")
        return 0 if row is None else int(row["last_seq"])

    async def _advance(self, seq: int) -> None:
        await self.bot.db.execute(
            "INSERT INTO relay_position (id, last_seq) VALUES (1, ?)"
            " ON CONFLICT (id) DO UPDATE SET last_seq = excluded.last_seq",
            (seq,),
        )

    async def purge(self) -> None:
        """Forget where closed alerts went once their reports are past retention."""
        keep = timedelta(days=self.bot.settings.reports.retention_days)
        await self.bot.db.execute(
            "DELETE FROM relay_alerts WHERE closed_at < ?",
            (utc_timestamp(datetime.now(UTC) - keep),),
        )


def _key(confirm_seq: int, room: RoomRef) -> str:
    return f"relay:{confirm_seq}:{room.transport}:{room.room_id}"


def _room(room: RoomRef) -> tuple[str, str]:
    return room.transport, room.room_id


def _placed(message: OutgoingMessage, thread: str | None) -> OutgoingMessage:
    """Alerts notify (m.text, not a notice); in the reporter's thread they are replies."""
    return replace(message, notice=False, thread_root=thread, reply_to=thread)
