"""The Signal transport against the fake signal-cli daemon, in HTTP (+SSE) and TCP mode.

These use the fake (tests/signal_fake), not real signal-cli: real signal-cli cannot register
an account offline. What the fake copies from the real daemon is checked in
test_signal_cli_contract.py (real signal-cli 0.13.19) and test_signal_fake_golden.py.
"""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from signal_fake import FakeSignalDaemon, envelopes, harness
from signal_fake.envelopes import Quote
from signal_fake.harness import (
    ALICE,
    BETO,
    BOT,
    GROUP_ID,
    RecordingHost,
    eventually,
    new_daemon,
    new_group,
    running_transport,
)

from bot.core.events import (
    EditEvent,
    Event,
    MessageEvent,
    OutgoingMessage,
    ReactionEvent,
    RedactionEvent,
)
from bot.storage.keys import DataKey
from bot.transports.signal import rpc, transport
from bot.transports.signal.transport import SendError, SignalSetupError, SignalTransport

GROUP = new_group()

# The shared fixtures: a running fake daemon, reached over HTTP and over TCP.
daemon = harness.daemon
mode = harness.mode


@pytest.fixture(autouse=True)
def fast_retries(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(transport, "MAX_BACKOFF_SECONDS", 0.2)
    monkeypatch.setattr(rpc, "RATE_LIMIT_FIRST_WAIT", 0.01)


@pytest.fixture
def key() -> DataKey:
    return DataKey.generate()


@pytest.fixture
def host() -> RecordingHost:
    return RecordingHost()


@pytest.fixture
async def signal(
    daemon: FakeSignalDaemon, mode: str, tmp_path: Path, host: RecordingHost, key: DataKey
) -> AsyncIterator[SignalTransport]:
    async with running_transport(daemon, mode, tmp_path, host, key) as started:
        yield started


def say(daemon: FakeSignalDaemon, text: str, **kwargs: object) -> int:
    """Alice posts `text` in the group; returns its sent timestamp."""
    timestamp = daemon.now()
    daemon.receive(envelopes.message(daemon.account, ALICE, text, timestamp, group=GROUP, **kwargs))  # type: ignore[arg-type]
    return timestamp


# --- receiving --------------------------------------------------------------------------


async def test_group_messages_arrive_normalized_in_order(
    daemon: FakeSignalDaemon, signal: SignalTransport, host: RecordingHost
) -> None:
    first = say(daemon, "!ping")
    say(daemon, "!help", quote=Quote(first, ALICE, "!ping"))
    one, two = await host.wait_for(2)
    assert isinstance(one, MessageEvent) and isinstance(two, MessageEvent)
    assert (one.body, two.body) == ("!ping", "!help")
    assert one.room.room_id == GROUP_ID and one.sender.user_id == ALICE.uuid and one.encrypted
    assert one.event_id == signal.converter.message_id(ALICE.number, ALICE.uuid, first)
    assert two.reply_to == one.event_id
    assert two.thread_root == one.event_id  # a quote continues the quoted message's thread


async def test_reactions_edits_and_deletes(
    daemon: FakeSignalDaemon, signal: SignalTransport, host: RecordingHost
) -> None:
    account = daemon.account
    sent = await signal.send(GROUP_ID, OutgoingMessage("card"))
    card = daemon.sent[-1].timestamp
    for remove in (False, True):
        payload = envelopes.reaction(
            account, ALICE, "✅", BOT, card, daemon.now(), group=GROUP, remove=remove
        )
        daemon.receive(payload)
    original = say(daemon, "!report 18th")
    daemon.receive(
        envelopes.edit(account, ALICE, original, "!report 19th", daemon.now(), group=GROUP)
    )
    daemon.receive(envelopes.remote_delete(account, ALICE, original, daemon.now(), group=GROUP))
    react, unreact, message, edit, delete = await host.wait_for(5)
    assert isinstance(react, ReactionEvent) and isinstance(unreact, ReactionEvent)
    assert react.target_event_id == sent and not react.removed
    assert unreact.target_event_id == sent and unreact.removed
    assert isinstance(edit, EditEvent) and edit.target_event_id == message.event_id
    assert edit.new_body == "!report 19th"
    assert isinstance(delete, RedactionEvent) and delete.target_event_id == message.event_id


async def test_sync_receipt_and_typing_messages_are_skipped(
    daemon: FakeSignalDaemon, signal: SignalTransport, host: RecordingHost
) -> None:
    account = daemon.account
    daemon.receive(envelopes.sync_sent(account, BOT, "from the bot's phone", daemon.now()))
    daemon.receive(envelopes.receipt(account, ALICE, [1], daemon.now()))
    daemon.receive(envelopes.typing(account, ALICE, daemon.now(), group=GROUP))
    say(daemon, "!ping")
    [only] = await host.wait_for(1)
    assert isinstance(only, MessageEvent) and only.body == "!ping"
    await asyncio.sleep(0.2)
    assert len(host.events) == 1


async def test_one_to_one_chats_work_both_ways(
    daemon: FakeSignalDaemon, signal: SignalTransport, host: RecordingHost
) -> None:
    daemon.receive(envelopes.message(daemon.account, BETO, "!ping", daemon.now()))
    [event] = await host.wait_for(1)
    assert event.room.room_id.startswith("dm.") and BETO.uuid not in event.room.room_id
    assert event.sender.user_id == BETO.uuid
    await signal.send(event.room.room_id, OutgoingMessage("pong", reply_to=event.event_id))
    assert daemon.sent[-1].params["recipient"] == [BETO.uuid]
    assert daemon.sent[-1].params["quoteAuthor"] == BETO.uuid


async def test_each_senders_identity_key_is_reported_before_delivery(
    daemon: FakeSignalDaemon, signal: SignalTransport, host: RecordingHost
) -> None:
    say(daemon, "!ping")
    await host.wait_for(1)
    assert host.identities == [(ALICE.uuid, daemon.fingerprints[ALICE.uuid])]


# --- sending ----------------------------------------------------------------------------


async def test_a_reply_quotes_the_command_and_returns_the_sent_id(
    daemon: FakeSignalDaemon, signal: SignalTransport, host: RecordingHost
) -> None:
    command = say(daemon, "!ping")
    [event] = await host.wait_for(1)
    reply = OutgoingMessage("Pong!", reply_to=event.event_id, thread_root=event.event_id)
    sent_id = await signal.send(GROUP_ID, reply)
    sent = daemon.sent[-1]
    assert sent.method == "send"
    assert sent.params == {
        "groupId": GROUP_ID,
        "message": "Pong!",
        "quoteTimestamp": command,
        "quoteAuthor": ALICE.uuid,
        "account": daemon.account,
    }
    assert sent_id == signal.converter.message_id(BOT.number, BOT.uuid, sent.timestamp)


async def test_edits_reactions_and_remote_deletes_go_out(
    daemon: FakeSignalDaemon, signal: SignalTransport, host: RecordingHost
) -> None:
    alert = await signal.send(GROUP_ID, OutgoingMessage("alert"))
    alert_timestamp = daemon.sent[-1].timestamp
    edited = await signal.send(GROUP_ID, OutgoingMessage("alert (updated)", edit_of=alert))
    assert daemon.sent[-1].params["editTimestamp"] == alert_timestamp
    command = say(daemon, "!confirm R7K3")
    [event] = await host.wait_for(1)
    await signal.react(GROUP_ID, event.event_id, "✅")
    assert daemon.sent[-1].method == "sendReaction"
    assert daemon.sent[-1].params == {
        "groupId": GROUP_ID,
        "emoji": "✅",
        "targetAuthor": ALICE.uuid,
        "targetTimestamp": command,
        "remove": False,
        "account": daemon.account,
    }
    await signal.delete(GROUP_ID, edited)
    assert daemon.sent[-1].method == "remoteDelete"
    assert daemon.sent[-1].params["targetTimestamp"] == daemon.sent[1].timestamp
    with pytest.raises(ValueError, match="own messages"):
        await signal.delete(GROUP_ID, event.event_id)


async def test_rate_limits_are_retried_and_post_once(
    daemon: FakeSignalDaemon, signal: SignalTransport
) -> None:
    for _ in range(2):
        daemon.fail_next("send", -5, "Failed to send message due to rate limiting")
    await signal.send(GROUP_ID, OutgoingMessage("alert"))
    assert [sent.params["message"] for sent in daemon.sent] == ["alert"]
    assert [method for method, _ in daemon.calls].count("send") == 3


async def test_other_errors_surface_with_their_code(
    daemon: FakeSignalDaemon, signal: SignalTransport
) -> None:
    daemon.fail_next("send", -4, "Failed to send message due to untrusted identities")
    with pytest.raises(SendError, match=r"untrusted identity \(-4\)") as caught:
        await signal.send(GROUP_ID, OutgoingMessage("alert"))
    assert caught.value.code == -4
    unknown_group = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    with pytest.raises(SendError, match=r"user error \(-1\)"):
        await signal.send(unknown_group, OutgoingMessage("alert"))
    assert daemon.sent == []


async def test_a_key_makes_a_send_idempotent_across_restarts(
    daemon: FakeSignalDaemon, mode: str, tmp_path: Path, host: RecordingHost, key: DataKey
) -> None:
    message = OutgoingMessage("alert")
    async with running_transport(daemon, mode, tmp_path, host, key) as first:
        sent_id = await first.send(GROUP_ID, message, key="alert:R7K3:room")
        same = await asyncio.gather(
            *(first.send(GROUP_ID, message, key="alert:R7K3:room") for _ in range(3))
        )
        assert same == [sent_id] * 3
    async with running_transport(daemon, mode, tmp_path, host, key) as second:
        assert await second.send(GROUP_ID, message, key="alert:R7K3:room") == sent_id
        await second.send(GROUP_ID, message, key="alert:R7K3:other")
    assert len(daemon.sent) == 2
    stored = b"".join(path.read_bytes() for path in tmp_path.iterdir() if path.is_file())
    assert b"R7K3" not in stored  # keys are kept as keyed hashes


async def test_group_admins_have_power_50(
    daemon: FakeSignalDaemon, signal: SignalTransport
) -> None:
    assert await signal.power_level(GROUP_ID, ALICE.uuid) == 50
    assert await signal.power_level(GROUP_ID, BETO.uuid) == 0
    chat = signal.converter.sealer.chat_id(ALICE.uuid)
    assert await signal.power_level(chat, ALICE.uuid) == 0


# --- connection -------------------------------------------------------------------------


async def test_an_unknown_account_fails_start_clearly(
    daemon: FakeSignalDaemon, mode: str, tmp_path: Path, host: RecordingHost, key: DataKey
) -> None:
    with pytest.raises(SignalSetupError, match="does not know the account"):
        async with running_transport(daemon, mode, tmp_path, host, key, "+15559990000"):
            pass


async def test_start_waits_for_a_daemon_that_is_not_up_yet(
    mode: str, tmp_path: Path, host: RecordingHost, key: DataKey
) -> None:
    fake = new_daemon()
    await fake.start()
    await fake.stop()  # its ports are known now, and closed
    say(fake, "!ping")

    async def start_late() -> None:
        await asyncio.sleep(0.5)
        await fake.start()

    late = asyncio.create_task(start_late())
    try:
        async with running_transport(fake, mode, tmp_path, host, key):
            [event] = await host.wait_for(1)
            assert isinstance(event, MessageEvent) and event.body == "!ping"
    finally:
        await late
        await fake.stop()


async def test_a_daemon_restart_loses_and_repeats_nothing(
    daemon: FakeSignalDaemon, signal: SignalTransport, host: RecordingHost
) -> None:
    say(daemon, "one")
    await host.wait_for(1)
    await daemon.stop()
    say(daemon, "two")  # arrive while the daemon is down: queued for the account
    say(daemon, "three")
    await asyncio.sleep(0.3)
    await daemon.start()
    await host.wait_for(3)
    say(daemon, "four")
    events = await host.wait_for(4)
    assert [event.body for event in events if isinstance(event, MessageEvent)] == [
        "one",
        "two",
        "three",
        "four",
    ]
    await signal.send(GROUP_ID, OutgoingMessage("still sending"))
    await asyncio.sleep(0.3)
    assert len(host.events) == 4


async def test_a_slow_core_is_never_overrun_and_can_answer_while_busy(
    daemon: FakeSignalDaemon, mode: str, tmp_path: Path, key: DataKey
) -> None:
    """Each event is answered while the daemon keeps pushing more (a TCP deadlock test)."""
    busy = asyncio.Event()
    answering: SignalTransport | None = None

    async def handle(event: Event) -> None:
        busy.set()
        await asyncio.sleep(0.01)
        assert answering is not None
        await answering.send(GROUP_ID, OutgoingMessage("ack", reply_to=event.event_id))

    host = RecordingHost(handle)
    count = 150  # more than the TCP client buffers
    async with running_transport(daemon, mode, tmp_path, host, key) as signal:
        answering = signal
        for index in range(count):
            say(daemon, f"report {index}")
        await busy.wait()
        events = await host.wait_for(count)
    bodies = [event.body for event in events if isinstance(event, MessageEvent)]
    assert bodies == [f"report {index}" for index in range(count)]
    assert len(daemon.sent) == count


async def test_a_stop_hands_over_what_is_in_flight(
    daemon: FakeSignalDaemon, mode: str, tmp_path: Path, key: DataKey
) -> None:
    async def slow(event: Event) -> None:
        await asyncio.sleep(0.05)

    host = RecordingHost(slow)
    async with running_transport(daemon, mode, tmp_path, host, key):
        for index in range(5):
            say(daemon, f"m{index}")
        await host.wait_for(1)
    # Whatever the daemon pushed before the stop was handled; the rest waits in the queue.
    assert len(host.events) + daemon.waiting == 5
    await eventually(lambda: daemon.subscribers == 0)
