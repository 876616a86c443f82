"""Broadcasts: one message to many rooms, durably and exactly once, with later changes.

A broadcast has a key (which derives each room's outbox key, so opening it again after a
crash adds nothing) and a topic (what it is about, e.g. "relay:R7K3", to find the latest
broadcast on it). Its rooms are remembered, so a later change edits exactly the messages
that were sent and posts a short follow-up replying to each. Rooms come from the roles'
audiences (`Settings.rooms_alerted`: an area's alerts also reach the rooms of its ancestors,
descendants and near areas) or from the rooms serving an area (`Settings.serving_rooms`),
plus any room a plugin adds (the reporter's thread).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import astuple, dataclass, replace
from datetime import datetime

from bot.core.config import Settings
from bot.core.events import OutgoingMessage, RoomRef
from bot.core.i18n import Language, parse_language
from bot.core.outbox import Along, Delivery, Outbox
from bot.storage.database import Database, Transaction, utc_timestamp

# Renders the message for one target (its room's language or its own, its view).
Render = Callable[["Target"], OutgoingMessage]
# More targets of an audience than its rooms (a plugin's subscribers' direct chats), for
# an area and the areas its alerts reach: those of the area itself, and the others.
AudienceProvider = Callable[[str, frozenset[str]], Awaitable[tuple[list["Target"], list["Target"]]]]


@dataclass(frozen=True)
class Target:
    room: RoomRef
    # Where the message is a reply in a thread: that thread's root event.
    thread: str | None = None
    # The room replaced one the message was sent to: nothing there to edit yet.
    moved: bool = False
    # The language to write in, where it is not the room's (one person's direct chat).
    lang: Language | None = None


@dataclass(frozen=True)
class Broadcast:
    key: str
    topic: str
    opened_at: datetime
    targets: tuple[Target, ...]

    def room_key(self, room: RoomRef) -> str:
        return room_key(self.key, room)


class Broadcasts:
    def __init__(self, db: Database, outbox: Outbox, settings: Callable[[], Settings]) -> None:
        self._db = db
        self._outbox = outbox
        # The settings in force: rooms come and go while the bot runs.
        self._settings = settings
        self._providers: dict[str, list[AudienceProvider]] = {}

    def add_audience(self, audience: str, provider: AudienceProvider) -> None:
        """Who else hears `audience` besides its rooms (a plugin's subscribers)."""
        self._providers.setdefault(audience, []).append(provider)

    def audience(self, audience: str, area: str) -> list[Target]:
        """Every configured room whose role hears `audience`, covering `area` or an area
        its alerts reach (its ancestors, descendants and near areas)."""
        return [
            Target(RoomRef(room.transport, room.id))
            for room in self._settings().rooms_alerted(audience, area)
        ]

    async def reach(self, audience: str, area: str) -> list[Target]:
        """`audience`'s rooms for `area`, and whoever else hears it there (see
        `add_audience`: the subscribers of the areas `area`'s alerts reach). Those of
        `area` itself come first (the outbox sends in this order), then the rest."""
        settings = self._settings()
        reach = settings.alert_areas(area)
        own: list[Target] = []
        rest: list[Target] = []
        for room in settings.rooms_alerted(audience, area):
            (own if area in room.areas else rest).append(Target(RoomRef(room.transport, room.id)))
        for provider in self._providers.get(audience, ()):
            theirs, others = await provider(area, reach)
            own += theirs
            rest += others
        return own + rest

    def serving(self, role: str, area: str, level: int = 0) -> list[Target]:
        """The rooms fitting `role` that serve `area`: its own, or its nearest ancestor's;
        `level` 1 is the next area up that has such rooms, and so on."""
        return [
            Target(RoomRef(room.transport, room.id))
            for room in self._settings().serving_rooms(role, area, level)
        ]

    async def open(
        self,
        key: str,
        topic: str,
        targets: Sequence[Target],
        render: Render,
        *,
        at: datetime,
        urgent: bool = False,
        along: Along | None = None,
    ) -> Broadcast:
        """Send one message per target; opening the same key again sends nothing new.
        `along` writes what goes with it in the same transaction."""
        deliveries = [
            Delivery(room_key(key, t.room), t.room, _placed(render(t), t.thread), urgent=urgent)
            for t in targets
        ]

        async def remember(tx: Transaction) -> None:
            await tx.execute(
                "INSERT OR IGNORE INTO broadcasts (key, topic, opened_at) VALUES (?, ?, ?)",
                (key, topic, utc_timestamp(at)),
            )
            await tx.executemany(
                "INSERT OR IGNORE INTO broadcast_rooms (key, transport, room_id, thread_root,"
                " lang) VALUES (?, ?, ?, ?, ?)",
                [(key, t.room.transport, t.room.room_id, t.thread, t.lang) for t in targets],
            )
            if along is not None:
                await along(tx)

        # Where it went is recorded with the deliveries, in one commit: the moderator's
        # answer waits for it. (Opening the same key again after a crash adds nothing.)
        await self._outbox.enqueue(deliveries, along=remember)
        return Broadcast(key, topic, at, tuple(targets))

    async def latest(self, topic: str) -> Broadcast | None:
        """The most recent broadcast on `topic`, with the rooms it went to."""
        row = await self._db.fetchone(
            "SELECT key, opened_at FROM broadcasts WHERE topic = ?"
            " ORDER BY opened_at DESC, rowid DESC LIMIT 1",
            (topic,),
        )
        if row is None:
            return None
        rooms = await self._db.fetchall(
            "SELECT transport, room_id, thread_root, moved, lang FROM broadcast_rooms"
            " WHERE key = ?",
            (row["key"],),
        )
        targets = tuple(
            Target(
                RoomRef(r["transport"], r["room_id"]),
                r["thread_root"],
                bool(r["moved"]),
                parse_language(r["lang"]) if r["lang"] else None,
            )
            for r in rooms
        )
        return Broadcast(row["key"], topic, datetime.fromisoformat(row["opened_at"]), targets)

    async def revise(
        self,
        broadcast: Broadcast,
        change: str,
        *,
        edit: Render | None = None,
        follow_up: Render | None = None,
        urgent: bool = False,
    ) -> None:
        """Edit every message of `broadcast` and/or post a follow-up replying to each.

        `change` names this change among the broadcast's changes (a sequence number): the
        same change given again after a crash sends nothing twice.
        """
        deliveries = []
        for target in broadcast.targets:
            original = broadcast.room_key(target.room)
            if target.moved:
                whole = edit or follow_up
                assert whole is not None, "a change edits or follows up"
                deliveries.append(Delivery(original, target.room, whole(target), urgent=urgent))
                continue
            if edit is not None:
                deliveries.append(
                    Delivery(
                        f"{original}:edit:{change}",
                        target.room,
                        edit(target),
                        edit_of_key=original,
                        urgent=urgent,
                    )
                )
            if follow_up is not None:
                deliveries.append(
                    Delivery(
                        f"{original}:follow:{change}",
                        target.room,
                        _placed(follow_up(target), target.thread),
                        reply_to_key=original,
                        urgent=urgent,
                    )
                )
        await self._outbox.enqueue(deliveries)
        moved = [(broadcast.key, *astuple(t.room)) for t in broadcast.targets if t.moved]
        await self._db.executemany(
            "UPDATE broadcast_rooms SET moved = 0 WHERE key = ? AND transport = ? AND room_id = ?",
            moved,
        )

    async def move(self, old: RoomRef, new: RoomRef) -> None:
        """`new` replaced `old`: the open broadcasts' next change is posted whole in `new`
        (the bot is leaving `old`, where nothing can be edited any more)."""
        async with self._db.transaction() as tx:
            await tx.execute(
                "UPDATE OR IGNORE broadcast_rooms SET room_id = ?, moved = 1, thread_root = NULL"
                " WHERE transport = ? AND room_id = ? AND key IN"
                " (SELECT key FROM broadcasts WHERE closed_at IS NULL)",
                (new.room_id, old.transport, old.room_id),
            )
            await tx.execute(
                "DELETE FROM broadcast_rooms WHERE transport = ? AND room_id = ?",
                (old.transport, old.room_id),
            )

    async def close(self, topic: str, at: datetime) -> None:
        """The topic is over: its broadcasts are kept only until `purge` passes them."""
        await self._db.execute(
            "UPDATE broadcasts SET closed_at = ? WHERE topic = ? AND closed_at IS NULL",
            (utc_timestamp(at), topic),
        )

    async def purge(self, topic_prefix: str, closed_before: datetime) -> None:
        """Forget where broadcasts on topics starting with `topic_prefix` that closed before
        then went: they can no longer be edited."""
        await self._db.execute(
            "DELETE FROM broadcasts WHERE closed_at < ? AND substr(topic, 1, ?) = ?",
            (utc_timestamp(closed_before), len(topic_prefix), topic_prefix),
        )


def room_key(broadcast_key: str, room: RoomRef) -> str:
    return f"{broadcast_key}:{room.transport}:{room.room_id}"


def _placed(message: OutgoingMessage, thread: str | None) -> OutgoingMessage:
    """In a thread, a broadcast message is a reply to the thread's root."""
    if thread is None:
        return message
    return replace(message, thread_root=thread, reply_to=thread)
