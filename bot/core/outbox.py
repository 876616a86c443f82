"""The durable outbox: messages that must arrive, exactly once, whatever happens.

Each delivery (a message to one room) is a row before anything is sent. A worker sends due
rows with bounded concurrency; a failure is retried with exponential backoff, and a
delivery still pending at a crash is sent after the restart. Every send carries the row's
key as its idempotency key (a Matrix transaction id), so a retry of a message that did
reach the homeserver before the crash is dropped there instead of posted twice.

Urgent deliveries (alerts) go first: they start as they are queued, and while one is due
or being sent nothing else starts, so a moderator card's edit or a notice never competes
with an alert for the homeserver.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import random
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, fields, replace
from datetime import UTC, datetime, timedelta
from typing import Any

from bot.core.events import OutgoingMessage, RoomRef, SentMessage
from bot.core.metrics import Metrics
from bot.storage.cipher import FieldCipher
from bot.storage.database import Database, Transaction, utc_timestamp

log = logging.getLogger(__name__)

Sender = Callable[[RoomRef, OutgoingMessage, str], Awaitable[SentMessage]]
GivenUp = Callable[[RoomRef], Awaitable[None]]
# Other writes to make in the transaction that records deliveries (see `Outbox.enqueue`).
Along = Callable[[Transaction], Awaitable[None]]
MESSAGE_CONTEXT = "outbox.message"
MAX_ATTEMPTS = 12
BACKOFF_CAP = timedelta(minutes=5)
# Deliveries waiting for another one (an edit of an alert not yet sent) look again after:
DEPENDENCY_WAIT = timedelta(seconds=1)
# Due deliveries looked at beyond those under way, each time a send slot is free: the first
# of them whose room has nothing under way start (their contents are read as each starts).
LOOK_AHEAD = 50
# What the worker reads of due deliveries to choose which to start: no contents.
_QUEUED = "key, transport, room_id, urgent, attempts, edit_of_key, reply_to_key"
_MESSAGE_FIELDS = tuple(field.name for field in fields(OutgoingMessage))


@dataclass(frozen=True)
class Delivery:
    key: str
    room: RoomRef
    message: OutgoingMessage
    # Resolved when sending: the event id of the delivery with this key.
    edit_of_key: str | None = None
    reply_to_key: str | None = None
    urgent: bool = False


class Outbox:
    def __init__(
        self,
        db: Database,
        cipher: FieldCipher,
        send: Sender,
        concurrency: int = 10,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        first_retry: timedelta = timedelta(seconds=2),
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._metrics = metrics or Metrics()
        self._cipher = cipher
        self._send = send
        self._concurrency = concurrency
        self._now = now
        self._first_retry = first_retry
        self._wake = asyncio.Event()
        self._task: asyncio.Task[None] | None = None
        self._in_flight: dict[str, asyncio.Task[None]] = {}
        self._urgent_in_flight: set[str] = set()
        # Urgent deliveries queued by this process and not yet tried, and an event set
        # whenever one was (sent, or put off to a retry).
        self._urgent_waiting: set[str] = set()
        self._urgent_ended = asyncio.Event()
        # Set whenever a delivery ended (sent, put off or given up), for `drain`.
        self._ended = asyncio.Event()
        # Rooms with a delivery under way, and whether a due one waits for its room.
        self._rooms_in_flight: set[tuple[str, str]] = set()
        self._held_by_room = False
        # Told of each room a delivery to which was given up (see `on_given_up`).
        self._given_up: list[GivenUp] = []
        # The contents of deliveries this process queued and has not sent yet: not read back
        # and decrypted from the table to send them (after a restart they are).
        self._contents: dict[str, OutgoingMessage] = {}

    async def start(self) -> None:
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        tasks = [t for t in (self._task, *self._in_flight.values()) if t is not None]
        self._task = None
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)

    async def enqueue(self, deliveries: Sequence[Delivery], along: Along | None = None) -> None:
        """Record deliveries atomically, for the worker to send; a key already recorded is
        left as it is. `along` writes what goes with them in the same transaction (where a
        broadcast went): one commit instead of several, while everyone waits for an alert."""
        if along is None:
            new = await self._record(deliveries, self._db)
        else:
            async with self._db.transaction() as tx:
                await along(tx)
                new = await self._record(deliveries, tx)
        if new == len(deliveries):  # each as queued just now (else, as first queued)
            self._contents.update((d.key, d.message) for d in deliveries)
        urgent = [d.key for d in deliveries if d.urgent]
        if urgent and new == len(deliveries):
            # Each one was recorded just now, so each is still to send: no need to look, and
            # the alerts start at once, without waiting for the worker to read them back.
            self._urgent_waiting.update(urgent)
            if self._task is not None:  # started, not stopped
                self._start(self._one_per_room([_queued(d) for d in deliveries if d.urgent]))
        elif urgent:
            # Only those still to send: a key queued before may have gone already.
            rows = await self._db.fetchall(
                f"SELECT key FROM outbox WHERE state = 'pending' AND key IN"
                f" ({', '.join('?' * len(urgent))})",
                urgent,
            )
            self._urgent_waiting.update(row["key"] for row in rows)
        # The worker looks for what can start now, unless nothing can: all started, or only
        # what waits for the alerts under way (the end of each wakes it).
        if any(d.key not in self._in_flight for d in deliveries) and not (
            self._urgent_in_flight and not urgent
        ):
            self._wake.set()

    async def send_now(self, delivery: Delivery) -> SentMessage:
        """Send `delivery` here and now, ahead of the queue: for a message that answers
        someone and whose event id the caller needs. Like a reply, it is idempotent by its
        key (the transport drops a key it has seen); unlike one, if the send fails it is
        recorded for the worker's retries, and the error raised."""
        assert delivery.edit_of_key is None and delivery.reply_to_key is None
        try:
            return await self._send(delivery.room, delivery.message, delivery.key)
        except Exception:
            await self.enqueue([replace(delivery, urgent=False)])
            raise

    async def _record(self, deliveries: Sequence[Delivery], db: Database | Transaction) -> int:
        """Insert the deliveries not recorded yet, with `db` (in a transaction, or atomic on
        its own); how many were new."""
        now = utc_timestamp(self._now())
        # A broadcast hands the same message for many rooms: it is written out once (by
        # identity: the deliveries hold it meanwhile), and encrypted for each room (a nonce
        # of its own).
        texts: dict[int, str] = {}
        for d in deliveries:
            if id(d.message) not in texts:
                texts[id(d.message)] = _message_text(d.message)
        return await db.executemany(
            "INSERT OR IGNORE INTO outbox (key, transport, room_id, message, state,"
            " next_attempt_at, edit_of_key, reply_to_key, urgent, created_at)"
            " VALUES (?, ?, ?, ?, 'pending', ?, ?, ?, ?, ?)",
            [
                (
                    d.key,
                    d.room.transport,
                    d.room.room_id,
                    self._cipher.encrypt(texts[id(d.message)], MESSAGE_CONTEXT),
                    now,
                    d.edit_of_key,
                    d.reply_to_key,
                    d.urgent,
                    now,
                )
                for d in deliveries
            ],
        )

    async def sent_event(self, key: str) -> str | None:
        row = await self._db.fetchone(
            "SELECT event_id FROM outbox WHERE key = ? AND state = 'sent'", (key,)
        )
        return None if row is None else str(row["event_id"])

    async def waiting_for(self, room: RoomRef) -> int:
        """How many deliveries to `room` are still to be sent (retries included)."""
        row = await self._db.fetchone(
            "SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'"
            " AND transport = ? AND room_id = ?",
            (room.transport, room.room_id),
        )
        return int(row["n"]) if row is not None else 0

    async def drain(self, room: RoomRef, within: float) -> bool:
        """Wait until nothing is left to send to `room`, at most `within` seconds;
        whether that happened (a room about to be left gets what was queued for it)."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(within):
                while await self.waiting_for(room):
                    self._ended.clear()
                    await self._ended.wait()
        return not await self.waiting_for(room)

    async def backlog(self) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) AS n FROM outbox WHERE state = 'pending'")
        return 0 if row is None else int(row["n"])

    async def urgent_sent(self, within: float) -> bool:
        """Wait until the urgent deliveries queued so far were tried, `within` seconds at most;
        so that a conversational answer does not compete with an alert for the homeserver."""
        # Only those queued so far: in a burst of reports, each report's acknowledgement
        # would otherwise wait for the dispatch calls of the reports filed after it.
        waiting = set(self._urgent_waiting)
        try:
            async with asyncio.timeout(within):
                while waiting & self._urgent_waiting:
                    self._urgent_ended.clear()
                    await self._urgent_ended.wait()
        except TimeoutError:
            return False
        return True

    async def _run(self) -> None:
        while True:
            self._wake.clear()
            if len(self._in_flight) >= self._concurrency:
                await self._wake.wait()  # each delivery that ends frees a slot, and wakes us
            elif not await self._start_due():
                await self._sleep_until_due()

    async def _start_due(self) -> bool:
        """Start due deliveries not already under way, as many as there are free slots; each
        runs on its own, so one slow send never holds back the ones queued after it.
        Whether to look again at once: more may be due than one look takes in."""
        limit = len(self._in_flight) + LOOK_AHEAD
        rows = await self._db.fetchall(
            f"SELECT {_QUEUED} FROM outbox WHERE state = 'pending' AND next_attempt_at <= ?"
            " ORDER BY urgent DESC, created_at, rowid LIMIT ?",
            (utc_timestamp(self._now()), limit),
        )
        fresh = [row for row in rows if row["key"] not in self._in_flight]
        if self._urgent_in_flight or any(row["urgent"] for row in fresh):
            fresh = [row for row in fresh if row["urgent"]]
        started = self._one_per_room(fresh)
        # Due ones behind another delivery (to their room, or for a slot) wait for it to end.
        self._held_by_room = len(started) < len(fresh)
        self._start(started)
        return bool(started) and len(rows) == limit

    def _one_per_room(self, rows: list[Any]) -> list[Any]:
        """The first due delivery of each room with none under way, as many as there are
        free slots: a room (a person's direct chat) gets its messages one at a time, in the
        order they were queued."""
        busy = set(self._rooms_in_flight)
        chosen = []
        for row in rows:
            room = (row["transport"], row["room_id"])
            if room not in busy:
                busy.add(room)
                chosen.append(row)
        return chosen[: self._concurrency - len(self._in_flight)]

    def _start(self, rows: list[Any]) -> None:
        for row in rows:
            if row["urgent"]:
                self._urgent_in_flight.add(row["key"])
            self._rooms_in_flight.add((row["transport"], row["room_id"]))
            self._in_flight[row["key"]] = asyncio.create_task(self._deliver_then_wake(row))

    async def _deliver_then_wake(self, row: Any) -> None:
        try:
            await self._deliver(row)
        finally:
            del self._in_flight[row["key"]]
            self._rooms_in_flight.discard((row["transport"], row["room_id"]))
            if row["urgent"]:
                self._urgent_in_flight.discard(row["key"])
                self._tried(row["key"])
            self._ended.set()
            # A delivery may unblock another (an edit waits for its alert).
            self._wake.set()

    async def _sleep_until_due(self) -> None:
        if self._urgent_in_flight or self._held_by_room:
            # What is due waits for the urgent ones, each of which wakes us when done.
            await self._wake.wait()
            return
        busy = list(self._in_flight)
        row = await self._db.fetchone(
            "SELECT MIN(next_attempt_at) AS due FROM outbox WHERE state = 'pending'"
            f" AND key NOT IN ({', '.join('?' * len(busy))})",
            busy,
        )
        delay = 3600.0
        if row is not None and row["due"] is not None:
            due = datetime.fromisoformat(row["due"])
            delay = max(0.0, (due - self._now()).total_seconds())
        # asyncio.timeout, not wait_for: Python 3.11's wait_for can swallow a cancellation
        # that comes as the event is set, and stop() would then wait for ever.
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(delay):
                await self._wake.wait()

    async def _deliver(self, row: Any) -> None:
        stored = self._contents.get(row["key"]) or await self._stored(row["key"])
        if stored is None:  # not possible while it is under way; nothing to send
            return
        message = await self._resolve(row, stored)
        if message is None:
            await self._postpone(row["key"], DEPENDENCY_WAIT, count_attempt=False)
            return
        room = RoomRef(row["transport"], row["room_id"])
        try:
            sent = await self._send(room, message, row["key"])
        except Exception as error:
            await self._failed(row, error)
            return
        if not row["urgent"]:
            await self._mark_sent(row["key"], row["transport"], sent.event_id)
            return
        # Sent: an answer waiting for it (see `urgent_sent`) goes now, before the row is
        # marked sent, which happens whatever comes meanwhile.
        self._tried(row["key"])
        try:
            await asyncio.sleep(0)
        finally:
            await self._mark_sent(row["key"], row["transport"], sent.event_id)

    def _tried(self, key: str) -> None:
        """An urgent delivery was sent or put off: nothing waits for it any more."""
        self._urgent_waiting.discard(key)
        self._urgent_ended.set()

    async def _stored(self, key: str) -> OutgoingMessage | None:
        row = await self._db.fetchone("SELECT message FROM outbox WHERE key = ?", (key,))
        if row is None:
            return None
        return _from_json(self._cipher.decrypt_json(row["message"], MESSAGE_CONTEXT))

    async def _mark_sent(self, key: str, transport: str, event_id: str) -> None:
        self._contents.pop(key, None)
        # Once sent, edits and replies need only the event id; the content (report text,
        # people's ids to mention) is not kept.
        now = utc_timestamp(self._now())
        row = await self._db.fetchone(
            "UPDATE outbox SET state = 'sent', event_id = ?, sent_at = ?, message = x''"
            " WHERE key = ? RETURNING created_at",
            (event_id, now, key),
        )
        self._metrics.deliveries.labels(transport=transport, result="sent").inc()
        if row is not None:
            # Includes retries and any downtime: what the people in the room waited.
            waited = (self._now() - datetime.fromisoformat(row["created_at"])).total_seconds()
            self._metrics.delivery_seconds.labels(transport=transport).observe(max(0.0, waited))

    async def _resolve(self, row: Any, message: OutgoingMessage) -> OutgoingMessage | None:
        """Fill in the event ids of the deliveries this one edits or replies to."""
        found: dict[str, str] = {}
        for field, key in (("edit_of", row["edit_of_key"]), ("reply_to", row["reply_to_key"])):
            if key is None:
                continue
            event_id = await self.sent_event(key)
            if event_id is None:
                return None
            found[field] = event_id
        return replace(
            message,
            edit_of=found.get("edit_of", message.edit_of),
            reply_to=found.get("reply_to", message.reply_to),
        )

    def on_given_up(self, listener: GivenUp) -> None:
        """Be told of the room of each delivery given up on (the person blocked the bot,
        left the chat): a plugin that writes to people stops writing to them."""
        self._given_up.append(listener)

    async def _failed(self, row: Any, error: Exception) -> None:
        self._metrics.send_failures.labels(transport=row["transport"]).inc()
        attempts = row["attempts"] + 1
        # A refusal that no retry changes (the network said the room is not the bot's to
        # write to) is given up at once.
        if attempts >= MAX_ATTEMPTS or getattr(error, "permanent", False):
            await self._give_up(row, attempts, error)
            return
        backoff = self._first_retry * 2 ** (attempts - 1)
        delay = min(BACKOFF_CAP, backoff) * random.uniform(0.8, 1.2)
        # A rate limit is waited out as long as the network advised (Signal: up to a day),
        # and is not a failure of the delivery: it never counts towards giving up.
        advised = getattr(error, "retry_after", None)
        if advised:
            delay = max(delay, timedelta(seconds=float(advised)))
        limited = bool(getattr(error, "rate_limited", False))
        log.info(
            "delivery failed (%s); retry %d in %.0fs",
            type(error).__name__,
            attempts,
            delay.total_seconds(),
        )
        await self._postpone(row["key"], delay, count_attempt=not limited)

    async def _give_up(self, row: Any, attempts: int, error: Exception) -> None:
        self._contents.pop(row["key"], None)
        self._metrics.deliveries.labels(transport=row["transport"], result="gave_up").inc()
        log.warning("gave up on a delivery after %d attempts (%s)", attempts, type(error).__name__)
        await self._db.execute(
            "UPDATE outbox SET state = 'failed', attempts = ? WHERE key = ?",
            (attempts, row["key"]),
        )
        room = RoomRef(row["transport"], row["room_id"])
        for listener in self._given_up:
            await listener(room)

    async def _postpone(self, key: str, delay: timedelta, count_attempt: bool) -> None:
        await self._db.execute(
            "UPDATE outbox SET next_attempt_at = ?, attempts = attempts + ? WHERE key = ?",
            (utc_timestamp(self._now() + delay), int(count_attempt), key),
        )


def _queued(delivery: Delivery) -> dict[str, Any]:
    """A delivery just queued, as the worker reads it from the table (see `_QUEUED`)."""
    return {
        "key": delivery.key,
        "transport": delivery.room.transport,
        "room_id": delivery.room.room_id,
        "urgent": delivery.urgent,
        "attempts": 0,
        "edit_of_key": delivery.edit_of_key,
        "reply_to_key": delivery.reply_to_key,
    }


def _message_text(message: OutgoingMessage) -> str:
    """The message as JSON, as `FieldCipher.encrypt_json` writes it (`_from_json` reads it).

    Field by field, not `asdict`: its deep copy of every value cost more than the rest of
    recording an alert, and the fields are plain values."""
    data: dict[str, Any] = {name: getattr(message, name) for name in _MESSAGE_FIELDS}
    data["mentions"] = list(message.mentions)
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"))


def _from_json(data: dict[str, Any]) -> OutgoingMessage:
    return OutgoingMessage(**{**data, "mentions": tuple(data.get("mentions", ()))})
