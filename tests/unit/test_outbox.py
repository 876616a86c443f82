"""The durable outbox: every delivery sent once, retried on failure, resumed after a crash."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest

from bot.core.events import OutgoingMessage, RoomRef, SentMessage
from bot.core.outbox import MAX_ATTEMPTS, Delivery, Outbox
from bot.storage.cipher import FieldCipher
from bot.storage.database import CORE_MIGRATIONS, Database
from bot.storage.keys import DataKey

ROOM = RoomRef("matrix", "!alerts:example.org")


class FakeSender:
    """Records sends; fails the first `failures` attempts of every key."""

    def __init__(self, failures: int = 0) -> None:
        self.failures = failures
        self.attempts: dict[str, int] = {}
        self.sent: list[tuple[str, OutgoingMessage]] = []
        self.gate = asyncio.Event()
        self.gate.set()

    async def __call__(self, room: RoomRef, message: OutgoingMessage, key: str) -> SentMessage:
        await self.gate.wait()
        self.attempts[key] = self.attempts.get(key, 0) + 1
        if self.attempts[key] <= self.failures:
            raise ConnectionError("homeserver unreachable")
        self.sent.append((key, message))
        return SentMessage(room, f"$event-{key}")


class AlertRoomDown(FakeSender):
    """Every send to the key "alert" fails."""

    async def __call__(self, room: RoomRef, message: OutgoingMessage, key: str) -> SentMessage:
        if key == "alert":
            raise ConnectionError("the room's server is unreachable")
        return await super().__call__(room, message, key)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "bot.db", [CORE_MIGRATIONS])
    yield database
    await database.close()


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(DataKey.generate())


@asynccontextmanager
async def running(outbox: Outbox) -> AsyncIterator[Outbox]:
    await outbox.start()
    try:
        yield outbox
    finally:
        await outbox.stop()


async def run_outbox(outbox: Outbox, until: Callable[[], object], timeout: float = 5) -> None:
    async with running(outbox), asyncio.timeout(timeout):
        while not until():
            await asyncio.sleep(0.01)


def delivery(key: str, text: str = "alert", **refs: str) -> Delivery:
    return Delivery(key, ROOM, OutgoingMessage(plain=text, mentions=("@a:x",)), **refs)


async def test_each_delivery_is_sent_once_even_if_enqueued_twice(
    db: Database, cipher: FieldCipher
) -> None:
    sender = FakeSender()
    outbox = Outbox(db, cipher, sender)
    await outbox.enqueue([delivery("a"), delivery("b")])
    await outbox.enqueue([delivery("a")])
    await run_outbox(outbox, lambda: len(sender.sent) == 2)
    await asyncio.sleep(0.05)
    assert sorted(key for key, _ in sender.sent) == ["a", "b"]
    assert sender.sent[0][1].mentions == ("@a:x",)
    assert await outbox.sent_event("a") == "$event-a"
    assert await outbox.backlog() == 0


async def test_failures_are_retried_with_backoff(db: Database, cipher: FieldCipher) -> None:
    sender = FakeSender(failures=2)
    outbox = Outbox(db, cipher, sender, first_retry=timedelta(milliseconds=20))
    await outbox.enqueue([delivery("a")])
    await run_outbox(outbox, lambda: sender.sent)
    assert sender.attempts["a"] == 3


async def test_a_delivery_is_given_up_after_max_attempts(db: Database, cipher: FieldCipher) -> None:
    sender = FakeSender(failures=MAX_ATTEMPTS)
    outbox = Outbox(db, cipher, sender, first_retry=timedelta(milliseconds=1))
    await outbox.enqueue([delivery("a")])

    async def failed() -> bool:
        row = await db.fetchone("SELECT state FROM outbox WHERE key = 'a'")
        return row is not None and row["state"] == "failed"

    async with running(outbox):
        async with asyncio.timeout(10):
            while not await failed():
                await asyncio.sleep(0.02)
    assert sender.attempts["a"] == MAX_ATTEMPTS
    assert not sender.sent


async def test_an_edit_waits_for_the_message_it_edits(db: Database, cipher: FieldCipher) -> None:
    sender = FakeSender()
    outbox = Outbox(db, cipher, sender)
    await outbox.enqueue([delivery("edit", "updated", edit_of_key="alert")])
    await outbox.enqueue([delivery("alert"), delivery("follow", "update", reply_to_key="alert")])
    await run_outbox(outbox, lambda: len(sender.sent) == 3)
    order = [key for key, _ in sender.sent]
    assert order.index("alert") < order.index("edit")
    sent = dict(sender.sent)
    assert sent["edit"].edit_of == "$event-alert"
    assert sent["follow"].reply_to == "$event-alert"


async def test_a_sent_message_keeps_only_its_event_id(db: Database, cipher: FieldCipher) -> None:
    sender = FakeSender()
    outbox = Outbox(db, cipher, sender)
    await outbox.enqueue([delivery("alert", "2 agents at 18th & Ashland")])
    await run_outbox(outbox, lambda: len(sender.sent) == 1)
    row = await db.fetchone("SELECT message, event_id FROM outbox WHERE key = 'alert'")
    assert row is not None and (row["message"], row["event_id"]) == (b"", "$event-alert")

    # An edit queued later still finds what it edits.
    await outbox.enqueue([delivery("edit", "cleared", edit_of_key="alert")])
    await run_outbox(outbox, lambda: len(sender.sent) == 2)
    assert dict(sender.sent)["edit"].edit_of == "$event-alert"


async def test_urgent_deliveries_go_first_and_nothing_else_starts_meanwhile(
    db: Database, cipher: FieldCipher
) -> None:
    sender = FakeSender()
    outbox = Outbox(db, cipher, sender, concurrency=3)
    # The card's edit is queued first, then the alerts; the outbox sends three at a time.
    await outbox.enqueue([delivery("card-edit"), delivery("notice")])
    alerts = [replace(delivery(f"alert-{n}"), urgent=True) for n in range(12)]
    await outbox.enqueue(alerts)
    await run_outbox(outbox, lambda: len(sender.sent) == 14)
    order = [key for key, _ in sender.sent]
    assert sorted(order[:12]) == sorted(a.key for a in alerts)
    assert sorted(order[12:]) == ["card-edit", "notice"]


class Counting(FakeSender):
    """Records how many sends were under way at once; each takes a moment."""

    def __init__(self) -> None:
        super().__init__()
        self.under_way = 0
        self.most = 0

    async def __call__(self, room: RoomRef, message: OutgoingMessage, key: str) -> SentMessage:
        self.under_way += 1
        self.most = max(self.most, self.under_way)
        try:
            await asyncio.sleep(0.002)
            return await super().__call__(room, message, key)
        finally:
            self.under_way -= 1


async def test_sends_to_many_rooms_run_at_the_set_concurrency_and_none_is_missed(
    db: Database, cipher: FieldCipher
) -> None:
    """An alert to hundreds of direct chats: the homeserver gets exactly `concurrency` sends
    at a time (busy, not flooded), and each chat its message once."""
    sender = Counting()
    outbox = Outbox(db, cipher, sender, concurrency=7)
    rooms = [RoomRef("matrix", f"!chat{n}:example.org") for n in range(300)]
    await outbox.enqueue(
        [
            Delivery(f"alert-{n}", room, OutgoingMessage(plain="alert"))
            for n, room in enumerate(rooms)
        ]
    )
    await run_outbox(outbox, lambda: len(sender.sent) == len(rooms))
    assert sender.most == 7
    assert sorted(key for key, _ in sender.sent) == sorted(f"alert-{n}" for n in range(300))


async def test_an_urgent_delivery_in_backoff_holds_back_nothing(
    db: Database, cipher: FieldCipher
) -> None:
    sender = AlertRoomDown()
    outbox = Outbox(db, cipher, sender, first_retry=timedelta(seconds=30))
    await outbox.enqueue([replace(delivery("alert"), urgent=True)])
    await outbox.enqueue([delivery("card-edit")])
    await run_outbox(outbox, lambda: "card-edit" in dict(sender.sent))
    assert "alert" not in dict(sender.sent)  # still waiting for its retry


async def test_pending_deliveries_survive_a_restart(db: Database, cipher: FieldCipher) -> None:
    stuck = FakeSender()
    stuck.gate.clear()  # the first process never gets to send
    first = Outbox(db, cipher, stuck)
    await first.enqueue([delivery("a"), delivery("b")])
    await first.start()
    await asyncio.sleep(0.05)
    await first.stop()

    sender = FakeSender()
    await run_outbox(Outbox(db, cipher, sender), lambda: len(sender.sent) == 2)
    assert not stuck.sent


async def test_messages_are_encrypted_at_rest(
    db: Database, cipher: FieldCipher, tmp_path: Path
) -> None:
    await Outbox(db, cipher, FakeSender()).enqueue([delivery("a", "2 agents at 18th & Ashland")])
    await db.close()
    raw = b"".join(p.read_bytes() for p in tmp_path.glob("bot.db*"))
    assert b"18th & Ashland" not in raw
    assert b"@a:x" not in raw


async def test_a_slow_send_does_not_hold_back_later_deliveries(
    db: Database, cipher: FieldCipher
) -> None:
    release = asyncio.Event()
    sent: list[str] = []

    async def send(room: RoomRef, message: OutgoingMessage, key: str) -> SentMessage:
        if key == "slow":
            await release.wait()
        sent.append(key)
        return SentMessage(room, f"$event-{key}")

    outbox = Outbox(db, cipher, send)
    await outbox.enqueue([delivery("slow")])
    async with running(outbox):
        await asyncio.sleep(0.05)
        other_room = replace(delivery("alert"), room=RoomRef("matrix", "!other:x"))
        await outbox.enqueue([other_room, delivery("same-room")])
        async with asyncio.timeout(5):
            while "alert" not in sent:
                await asyncio.sleep(0.01)
        await asyncio.sleep(0.05)
        # Another room's goes at once; the slow one's room keeps its order.
        assert sent == ["alert"]
        release.set()
        async with asyncio.timeout(5):
            while "same-room" not in sent:
                await asyncio.sleep(0.01)
        assert sent == ["alert", "slow", "same-room"]


async def test_a_delivery_the_network_refuses_for_good_is_given_up_at_once(
    db: Database, cipher: FieldCipher
) -> None:
    class Refused(Exception):
        permanent = True

    async def send(room: RoomRef, message: OutgoingMessage, key: str) -> SentMessage:
        raise Refused("M_FORBIDDEN")

    told: list[RoomRef] = []

    async def given_up(room: RoomRef) -> None:
        told.append(room)

    outbox = Outbox(db, cipher, send)
    outbox.on_given_up(given_up)
    await outbox.enqueue([delivery("blocked")])
    async with running(outbox):
        async with asyncio.timeout(5):
            while not told:
                await asyncio.sleep(0.01)
        assert told == [ROOM] and await outbox.backlog() == 0


async def test_an_answer_can_wait_for_the_urgent_deliveries_to_go_first(
    db: Database, cipher: FieldCipher
) -> None:
    sender = FakeSender()
    sender.gate.clear()  # the homeserver is slow
    outbox = Outbox(db, cipher, sender)
    async with running(outbox):
        await outbox.enqueue([replace(delivery("call"), urgent=True)])
        assert await outbox.urgent_sent(within=0.2) is False  # still on its way
        sender.gate.set()
        assert await outbox.urgent_sent(within=5) is True
        assert [key for key, _ in sender.sent] == ["call"]
        # Queued again (a replay): it went already, so nothing to wait for.
        await outbox.enqueue([replace(delivery("call"), urgent=True)])
        assert await outbox.urgent_sent(within=0.01) is True


async def test_an_alert_is_handed_to_the_network_as_it_is_queued(
    db: Database, cipher: FieldCipher
) -> None:
    """Not at the worker's next look at the queue: the verifiers' call leaves as soon as
    it is recorded, while the reporter's answer waits for it."""
    sender = FakeSender()
    outbox = Outbox(db, cipher, sender)
    async with running(outbox):
        await asyncio.sleep(0.01)  # the worker looked, found nothing, and sleeps
        await outbox.enqueue([replace(delivery("call"), urgent=True)])
        await asyncio.sleep(0)  # one turn of the loop
        assert [key for key, _ in sender.sent] == ["call"]


async def test_an_alert_sent_is_recorded_as_sent_even_if_the_outbox_stops_at_once(
    db: Database, cipher: FieldCipher
) -> None:
    """The answer waiting for an alert goes as soon as the alert is sent, before the outbox
    records it as sent; a stop right then still records it, so it is never sent twice."""
    sender = FakeSender()
    outbox = Outbox(db, cipher, sender)
    await outbox.start()
    await outbox.enqueue([replace(delivery("call"), urgent=True)])
    assert await outbox.urgent_sent(within=5) is True
    await outbox.stop()
    assert await outbox.backlog() == 0
    await run_outbox(outbox, lambda: True)
    assert [key for key, _ in sender.sent] == ["call"]


async def test_alerts_queued_together_for_one_room_go_one_at_a_time_in_order(
    db: Database, cipher: FieldCipher
) -> None:
    sender = Counting()
    outbox = Outbox(db, cipher, sender)
    async with running(outbox):
        await outbox.enqueue([replace(delivery(f"alert-{n}"), urgent=True) for n in range(3)])
        assert await outbox.urgent_sent(within=5) is True
        assert [key for key, _ in sender.sent] == ["alert-0", "alert-1", "alert-2"]
        assert sender.most == 1


async def test_an_alert_queued_after_the_outbox_stopped_waits_for_the_next_start(
    db: Database, cipher: FieldCipher
) -> None:
    sender = FakeSender()
    outbox = Outbox(db, cipher, sender)
    await outbox.start()
    await outbox.stop()
    await outbox.enqueue([replace(delivery("call"), urgent=True)])
    await asyncio.sleep(0.01)
    assert sender.sent == []
    await run_outbox(outbox, lambda: sender.sent)
    assert [key for key, _ in sender.sent] == ["call"]


class HeldRoom(FakeSender):
    """Sends to every room but one at once; that one's sends wait for `held`."""

    def __init__(self, room: RoomRef) -> None:
        super().__init__()
        self.room = room
        self.held = asyncio.Event()

    async def __call__(self, room: RoomRef, message: OutgoingMessage, key: str) -> SentMessage:
        if room == self.room:
            await self.held.wait()
        return await super().__call__(room, message, key)


async def test_an_answer_waits_for_the_urgent_deliveries_queued_before_it_only(
    db: Database, cipher: FieldCipher
) -> None:
    """In a burst of reports, each acknowledgement waits for its own report's dispatch call,
    not for the calls of the reports filed after it."""
    slow = RoomRef("matrix", "!slow:example.org")
    sender = HeldRoom(slow)
    outbox = Outbox(db, cipher, sender)
    async with running(outbox):
        await outbox.enqueue([replace(delivery("first call"), urgent=True)])
        waiting = asyncio.create_task(outbox.urgent_sent(within=5))
        await asyncio.sleep(0)
        later = Delivery("later call", slow, OutgoingMessage(plain="call"), urgent=True)
        await outbox.enqueue([later])
        assert await waiting is True
        assert [key for key, _ in sender.sent] == ["first call"]  # the later one still held
        sender.held.set()


# --- sent now, ahead of the queue ---------------------------------------------------------


async def test_a_message_sent_now_is_sent_with_its_key_and_not_queued(
    db: Database, cipher: FieldCipher
) -> None:
    sender = FakeSender()
    outbox = Outbox(db, cipher, sender)
    sent = await outbox.send_now(delivery("ack", "received"))
    assert sent == SentMessage(ROOM, "$event-ack")
    assert [key for key, _ in sender.sent] == ["ack"]  # the transport drops a key seen before
    assert await outbox.backlog() == 0


async def test_a_message_sent_now_goes_ahead_of_a_busy_queue(
    db: Database, cipher: FieldCipher
) -> None:
    sender = FakeSender()
    outbox = Outbox(db, cipher, sender, concurrency=1)
    await outbox.enqueue([delivery(f"alert-{n}") for n in range(20)])
    sender.gate.clear()  # the worker's sends hang
    async with running(outbox):
        await asyncio.sleep(0.05)
        sender.gate.set()
        sent = await outbox.send_now(delivery("answer", "now"))
    assert sent.event_id == "$event-answer"
    assert [key for key, _ in sender.sent].index("answer") < 20


async def test_a_message_that_cannot_be_sent_now_is_retried_by_the_worker(
    db: Database, cipher: FieldCipher
) -> None:
    sender = FakeSender(failures=1)
    outbox = Outbox(db, cipher, sender, first_retry=timedelta(milliseconds=10))
    async with running(outbox):
        with pytest.raises(ConnectionError):
            await outbox.send_now(delivery("question", "how many?"))
        async with asyncio.timeout(5):
            while await outbox.sent_event("question") is None:
                await asyncio.sleep(0.01)
    assert [key for key, _ in sender.sent] == ["question"]
    assert sender.attempts == {"question": 2}  # once now, once by the worker
