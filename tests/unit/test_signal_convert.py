"""signal-cli envelopes to normalized events and back, and the sealed ids, without a daemon.

Envelopes come from the fake's builders, which reproduce real signal-cli 0.13.19 output
byte for byte where the golden file shows it (test_signal_fake_golden.py).
"""

from __future__ import annotations

import os
from datetime import UTC, datetime

import pytest
from signal_fake import envelopes
from signal_fake.envelopes import Group, Quote
from signal_fake.harness import ALICE, BETO, BOT, GROUP_ID

from bot.core.events import (
    Attachment,
    EditEvent,
    MessageEvent,
    OutgoingMessage,
    ReactionEvent,
    RedactionEvent,
)
from bot.transports.signal.convert import Converter
from bot.transports.signal.ids import MessageRef, Sealer

ACCOUNT = str(BOT.number)
GROUP = Group(GROUP_ID, "Test Group")
T0 = 1700000000123


@pytest.fixture
def convert() -> Converter:
    return Converter(ACCOUNT, Sealer(os.urandom(64)))


def test_a_group_message_with_a_quote_of_the_bot(convert: Converter) -> None:
    quote = Quote(T0 - 1000, BOT, "earlier bot text")
    payload = envelopes.message(ACCOUNT, ALICE, "!ping", T0, group=GROUP, quote=quote)
    event = convert.to_event(payload)
    assert isinstance(event, MessageEvent)
    assert event.room.transport == "signal" and event.room.room_id == GROUP_ID
    assert event.sender.user_id == ALICE.uuid and event.sender.display_name == "Alice"
    assert event.body == "!ping" and event.encrypted
    assert event.event_id == convert.sealer.event_id(ALICE.uuid, T0)
    # The bot's own messages are named by its number, which signal-cli quotes by.
    assert event.reply_to == convert.sealer.event_id(ACCOUNT, T0 - 1000)
    assert event.thread_root is None
    # The server's receipt time: a wrong phone clock cannot make a command look fresh.
    assert event.timestamp == datetime.fromtimestamp((T0 + 50) / 1000, tz=UTC)


def test_a_one_to_one_message_gets_a_sealed_room(convert: Converter) -> None:
    event = convert.to_event(envelopes.message(ACCOUNT, ALICE, "hola", T0))
    assert isinstance(event, MessageEvent)
    room_id = event.room.room_id
    assert room_id.startswith("dm.") and ALICE.uuid not in room_id
    assert convert.sealer.open_chat(room_id) == ALICE.uuid
    assert convert.target(room_id) == {"recipient": [ALICE.uuid]}
    assert convert.target(GROUP_ID) == {"groupId": GROUP_ID}


def test_a_sender_without_a_number_is_keyed_on_the_uuid(convert: Converter) -> None:
    event = convert.to_event(envelopes.message(ACCOUNT, BETO, "!ping", T0, group=GROUP))
    assert event is not None and event.sender.user_id == BETO.uuid
    assert convert.open(event.event_id) == MessageRef(BETO.uuid, T0)


@pytest.mark.parametrize("remove", [False, True])
def test_reactions_and_their_removal(convert: Converter, remove: bool) -> None:
    payload = envelopes.reaction(ACCOUNT, ALICE, "✅", BOT, T0 - 5, T0, group=GROUP, remove=remove)
    event = convert.to_event(payload)
    assert isinstance(event, ReactionEvent)
    assert event.key == "✅" and event.removed is remove
    assert event.target_event_id == convert.sealer.event_id(ACCOUNT, T0 - 5)
    assert event.room.room_id == GROUP_ID


def test_an_edit_names_the_original_message(convert: Converter) -> None:
    payload = envelopes.edit(ACCOUNT, ALICE, T0 - 7, "!report 18th & Ashland", T0, group=GROUP)
    event = convert.to_event(payload)
    assert isinstance(event, EditEvent)
    assert event.new_body == "!report 18th & Ashland"
    assert event.target_event_id == convert.sealer.event_id(ALICE.uuid, T0 - 7)
    assert event.event_id == convert.sealer.event_id(ALICE.uuid, T0)
    assert event.room.room_id == GROUP_ID


def test_a_remote_delete_is_a_redaction_of_the_senders_message(convert: Converter) -> None:
    event = convert.to_event(envelopes.remote_delete(ACCOUNT, ALICE, T0 - 9, T0, group=GROUP))
    assert isinstance(event, RedactionEvent)
    assert event.target_event_id == convert.sealer.event_id(ALICE.uuid, T0 - 9)


def test_attachments_keep_their_kind_and_name_only(convert: Converter) -> None:
    files = [
        {"contentType": "image/jpeg", "filename": "van.jpg", "id": "a1", "size": 10},
        {"contentType": "application/pdf", "filename": None, "id": "a2", "size": 20},
    ]
    payload = envelopes.message(ACCOUNT, ALICE, "", T0, group=GROUP, attachments=files)
    event = convert.to_event(payload)
    assert isinstance(event, MessageEvent)
    assert event.attachments == (Attachment(kind="image", name="van.jpg"), Attachment(kind="file"))


@pytest.mark.parametrize(
    "payload",
    [
        envelopes.sync_sent(ACCOUNT, BOT, "sent from the phone", T0, group=GROUP),
        envelopes.receipt(ACCOUNT, ALICE, [T0 - 1], T0),
        envelopes.typing(ACCOUNT, ALICE, T0, group=GROUP),
        envelopes.envelope(
            ACCOUNT,
            ALICE,
            T0,
            dataMessage={**envelopes.data_message(T0, None), "groupInfo": {**GROUP.info("UPDATE")}},
        ),
        {"envelope": {"source": None, "sourceUuid": None, "timestamp": T0}, "account": ACCOUNT},
    ],
    ids=["sync", "receipt", "typing", "group-update", "no-sender"],
)
def test_what_vecinos_ignores(convert: Converter, payload: envelopes.Payload) -> None:
    assert convert.to_event(payload) is None


def test_a_reply_quotes_its_target_and_an_edit_names_the_bots_message(
    convert: Converter,
) -> None:
    command = convert.sealer.event_id(ALICE.uuid, T0)
    card = convert.sealer.event_id(ACCOUNT, T0 + 5)
    reply = convert.send_params(GROUP_ID, OutgoingMessage("pong", reply_to=command))
    assert reply == {
        "groupId": GROUP_ID,
        "message": "pong",
        "quoteTimestamp": T0,
        "quoteAuthor": ALICE.uuid,
    }
    threaded = convert.send_params(GROUP_ID, OutgoingMessage("ok", thread_root=command))
    assert threaded["quoteTimestamp"] == T0
    edit = convert.send_params(GROUP_ID, OutgoingMessage("updated", edit_of=card))
    assert edit == {"groupId": GROUP_ID, "message": "updated", "editTimestamp": T0 + 5}


def test_plain_text_is_sent_never_html(convert: Converter) -> None:
    message = OutgoingMessage("<b>hi</b> & bye", html="<b>&lt;b&gt;hi</b>")
    assert convert.send_params(GROUP_ID, message)["message"] == "<b>hi</b> & bye"


def test_mentions_point_at_the_uuid_in_the_text_counting_utf16(convert: Converter) -> None:
    text = f"👋 {ALICE.uuid}, your shift starts soon; {BETO.uuid} too"
    message = OutgoingMessage(text, mentions=(ALICE.uuid, BETO.uuid, "@matrix:example.org"))
    mentions = convert.send_params(GROUP_ID, message)["mention"]
    beto_start = len("👋 ") + 1 + len(ALICE.uuid) + len(", your shift starts soon; ")
    assert mentions == [f"3:36:{ALICE.uuid}", f"{beto_start}:36:{BETO.uuid}"]
    plain = convert.send_params(GROUP_ID, OutgoingMessage("no names", mentions=(ALICE.uuid,)))
    assert "mention" not in plain


def test_sealed_ids_are_stable_opaque_and_bound_to_the_key() -> None:
    key = os.urandom(64)
    sealer = Sealer(key)
    event_id = sealer.event_id(ALICE.uuid, T0)
    assert Sealer(key).event_id(ALICE.uuid, T0) == event_id  # same message, same id
    assert sealer.event_id(ALICE.uuid, T0 + 1) != event_id
    assert ALICE.uuid not in event_id and str(T0) not in event_id
    assert sealer.open_event(event_id) == MessageRef(ALICE.uuid, T0)
    assert Sealer(os.urandom(64)).open_event(event_id) is None
    assert sealer.open_chat(event_id) is None  # an event id is no room id
    assert sealer.open_event("$matrix-event:example.org") is None
    assert sealer.open_event("sg.not-base64!") is None
