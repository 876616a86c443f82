"""A seized data directory, without the data key, after a full scenario on a real Synapse
(a report with a plate, a dispatch answer, a confirmation and its alert, a roster entry,
a subscriber who got the alert in their direct chat, plates on the network's list, a case
with an alias, a note and a lawyer, a mutual-aid request taken by a volunteer and a
standing offer):
every byte of every file is scanned for the people's ids, their devices, the bot's, and
what the report said (the privacy rules in the README's "Privacy")."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from integration import bot_harness
from integration.bot_harness import BotSetup, from_bot, in_thread, start_bot, wait_until_joined
from integration.matrix_clients import UserFactory

from bench.plain_store import PlaintextStore
from bot.runtime.plugins import default_plugins

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
CASE_ID = re.compile(r"\bC[2-9A-Z]{3,6}\b")
AID_ID = re.compile(r"\bA[2-9A-HJ-NP-TV-Z]{3,4}\b")
# A case's alias, the note it was opened with, its lawyer.
CASE_WORDS = ("Tía Guadalupe", "taken near the laundromat", "Lic. Quintanilla")
# A plate put on the network's list, its note.
LISTED = ("XKJ 472", "XKJ472", "seen at the processing center")
WORDS = ("Cermak y Throop", "QZX987", "Señor Ejemplo", "two of us checked it", "WVU 654")
REPORT = (
    f"!report where: {WORDS[0]} | what: detaining from a gray van {WORDS[4]} | agents: 3"
    f" | plate: {WORDS[1]} | notes: they took {WORDS[2]}"
)
# A safety check-in's place and alias, planned in a direct chat with an emergency contact.
CHECKIN_WORDS = ("Broadview Processing", "Tío Chuy")
# A mutual-aid request taken by a volunteer, and a volunteer's standing offer.
AID_WORDS = ("arroz y frijol para Doña Rosa", "martes por la tarde")


def every_byte(directory: Path) -> bytes:
    """Every file below `directory` (journals, -wal and -shm included), as stored."""
    return b"".join(path.read_bytes() for path in sorted(directory.rglob("*")) if path.is_file())


async def test_a_seized_data_directory_names_nobody_and_tells_nothing(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    names = ("ana", "rosa", "vera", "sol")
    ana, rosa, vera, sol = await asyncio.gather(*(user_factory(n) for n in names))
    people = (ana, rosa, vera, sol)
    setup.allowed_users = [person.user_id for person in people[:3]]
    setup.moderators = [rosa.user_id]
    hood = await ana.create_encrypted_room(invite=[setup.user_id, sol.user_id])
    await sol.join(hood)
    mods = await rosa.create_encrypted_room(invite=[setup.user_id])
    dispatch = await vera.create_encrypted_room(invite=[setup.user_id])
    watch = await ana.create_encrypted_room(invite=[setup.user_id])
    legal = await rosa.create_encrypted_room(invite=[setup.user_id])
    aid = await vera.create_encrypted_room(invite=[setup.user_id])
    setup.rooms = [
        {"id": hood, "role": "neighborhood", "language": "en"},
        {"id": mods, "role": "moderation", "language": "en"},
        {"id": dispatch, "role": "dispatch", "language": "en"},
        {"id": watch, "role": "watch", "language": "en"},
        {"id": legal, "role": "legal", "language": "en"},
        {"id": aid, "role": "aid", "language": "en"},
    ]
    setup.sites = [
        {"slug": "whittier", "name": "Whittier", "timezone": "America/Chicago", "room": watch}
    ]
    bot = await start_bot(setup, plugins=default_plugins())
    bot_device = bot.matrix.client.device_id
    try:
        for room in (hood, mods, dispatch, watch, legal, aid):
            await wait_until_joined(bot, room)
        direct = await sol.create_encrypted_room(invite=[setup.user_id], is_direct=True)
        await wait_until_joined(bot, direct)
        await sol.send_text(direct, "!subscribe pilsen")
        await sol.wait_for_message(direct, from_bot(setup, "Subscribed"))
        await sol.send_text(direct, f"!contacts add {rosa.user_id}")
        await sol.wait_for_message(direct, from_bot(setup, "I asked"))
        await sol.send_text(direct, f"!checkin 23:59 {CHECKIN_WORDS[0]} alias={CHECKIN_WORDS[1]}")
        await sol.wait_for_message(direct, from_bot(setup, "Check-in set"))
        await ana.send_text(hood, REPORT)
        ack = await ana.wait_for_message(hood, from_bot(setup, "UNCONFIRMED"))
        report_id = REPORT_ID.findall(ack.body)[0]
        await vera.wait_for_message(dispatch, from_bot(setup, "VERIFIER NEEDED"))
        await vera.send_text(dispatch, f"!going {report_id} 10")
        await vera.wait_for_message(dispatch, from_bot(setup, "is going to"))
        await rosa.send_text(mods, f"!confirm {report_id} {WORDS[3]}")
        await ana.wait_for_message(hood, from_bot(setup, "CONFIRMED ALERT"))
        await sol.wait_for_message(direct, from_bot(setup, "CONFIRMED ALERT"))
        await rosa.send_text(mods, f"!plate {LISTED[0]} agency {LISTED[2]}")
        await rosa.wait_for_message(mods, from_bot(setup, "is on the network's list"))
        await rosa.send_text(mods, "!plate QZX987 suspected")
        await rosa.wait_for_message(mods, from_bot(setup, "QZX987 is on the network's list"))
        await ana.send_text(watch, "!backup on")
        await ana.wait_for_message(watch, from_bot(setup, "backup"))
        await rosa.send_text(mods, f"!detained {report_id} {CASE_WORDS[1]}")
        opened = await rosa.wait_for_message(mods, from_bot(setup, "is open for"))
        case_id = CASE_ID.findall(opened.body)[0]
        for step in (f"alias {CASE_WORDS[0]}", f"lawyer {CASE_WORDS[2]}"):
            sent = await rosa.send_text(legal, f"!case {case_id} {step}")
            await rosa.wait_for_message(
                legal, lambda e, sent=sent: from_bot(setup, "on the card")(e) and in_thread(sent)(e)
            )
        await vera.send_text(aid, f"!offer ride pilsen {AID_WORDS[1]}")
        await vera.wait_for_message(aid, from_bot(setup, "New requests for ride"))
        await sol.send_text(direct, f"!need groceries tomorrow {AID_WORDS[0]}")
        filed = await sol.wait_for_message(direct, from_bot(setup, "Asked:"))
        request_id = AID_ID.findall(filed.body)[0]
        await vera.send_text(aid, f"!give {request_id}")
        await sol.wait_for_message(direct, from_bot(setup, "A volunteer offers"))
        await sol.send_text(direct, f"!accept {request_id}")
        await sol.wait_for_message(direct, from_bot(setup, "You are in touch"))
    finally:
        await bot.stop()

    stored = every_byte(setup.dir / "data")
    assert len(stored) > 100_000  # the databases are there, just unreadable
    secrets = [
        setup.user_id,
        str(bot_device),
        *CHECKIN_WORDS,
        *(person.user_id for person in people),
        *(person.user_id.split(":")[0][1:] for person in people),  # localparts
        *(str(person.client.device_id) for person in people),
        *WORDS,
        *LISTED,
        *CASE_WORDS,
        *AID_WORDS,
    ]
    found = [secret for secret in secrets if secret.encode() in stored]
    assert found == []


async def test_a_store_from_the_previous_release_is_encrypted_on_first_start(
    setup: BotSetup, user_factory: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    alice = await user_factory("alice")
    setup.allowed_users = [alice.user_id]
    room = await alice.create_encrypted_room(invite=[setup.user_id])
    with monkeypatch.context() as old:
        old.setattr("bot.transports.matrix.session.EncryptedStore", PlaintextStore)
        bot = await start_bot(setup)
        await wait_until_joined(bot, room)
        await alice.send_text(room, "!ping")
        await alice.wait_for_message(room, from_bot(setup, "Pong"))
        await bot.stop()
    store = setup.dir / "data" / "matrix-store" / "crypto.db"
    assert alice.user_id.encode() in store.read_bytes()  # as it was

    bot = await start_bot(setup)  # this release: encrypted in place, then used
    try:
        await alice.send_text(room, "!ping")
        await alice.wait_for_message(room, from_bot(setup, "Pong"), timeout=30)
    finally:
        await bot.stop()
    assert alice.user_id.encode() not in every_byte(setup.dir / "data")
    assert not store.with_name("crypto.db.encrypting").exists()


async def test_old_bot_messages_disappear_from_a_room_that_asks(
    setup: BotSetup, user_factory: UserFactory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("bot.core.retention.SPACING_SECONDS", 0)
    alice = await user_factory("alice")
    setup.allowed_users = [alice.user_id]
    room = await alice.create_encrypted_room(invite=[setup.user_id])
    setup.rooms = [{"id": room, "role": "neighborhood", "message_retention_days": 1}]
    bot = await start_bot(setup, plugins=default_plugins())
    try:
        await wait_until_joined(bot, room)
        await alice.send_text(room, "!ping")
        pong = await alice.wait_for_message(room, from_bot(setup, "Pong"))
        retention = bot.app.runtime.retention
        retention.now = lambda: datetime.now(UTC) + timedelta(days=2)
        await bot.app.delete_old_messages()
        redacted = await alice.client.room_get_event(room, pong.event_id)
        assert redacted.event.source["unsigned"]["redacted_because"]["sender"] == setup.user_id
    finally:
        await bot.stop()
