"""One bot on Matrix and Signal at once: reports, moderation and alerts cross over.

The bot runs with a `[matrix]` section on the test Synapse and a `[signal]` section on the
fake signal-cli daemon (tests/signal_fake). Signal groups are `[[rooms]]` with the same
roles and area as the Matrix rooms: a neighborhood, a moderation and an alerts room on each
side, all in pilsen. A report filed on one transport is carded in both moderation rooms,
confirmed on the other transport, and its alert reaches the rooms of both; an update edits
every alert (Matrix m.replace, Signal `send` with `editTimestamp`).
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from integration.bot_harness import (
    BotSetup,
    from_bot,
    new_bot_setup,
    start_bot,
    wait_until_joined,
)
from integration.matrix_clients import TextEvent, UserClient, UserFactory
from signal_fake import FakeSignalDaemon, Group, Person, Sent, envelopes
from signal_fake.harness import ALICE, BETO, BOT, GROUP_ID, eventually, new_daemon

from bot.devtools.local_synapse import LocalSynapse
from plugins.relay import Relay
from plugins.sightings import Sightings

pytestmark = pytest.mark.integration

TIMEOUT = 30.0
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
# A Signal moderator: listed by uuid in the config's `moderators`, not a group admin.
MORA = Person("Mora", "0b7e2f4c-4444-4a5b-9c6d-112233445566", "+15550004444")
SIGNAL_MODS = base64.b64encode(bytes([1]) * 32).decode()
SIGNAL_ALERTS = base64.b64encode(bytes([2]) * 32).decode()
ALERT = "CONFIRMED ALERT"
# The rooms (on each transport) a pilsen alert goes to; moderation rooms get the card.
ALERTED = ("alerts", "neighborhood")
PLATE = "ABC1"


@dataclass
class Crossing:
    """The bot, its Matrix rooms and users, and the fake daemon with its Signal groups."""

    setup: BotSetup
    daemon: FakeSignalDaemon
    groups: dict[str, Group]  # role -> Signal group
    ana: UserClient  # neighbor, Matrix neighborhood room
    rosa: UserClient  # moderator (config), Matrix moderation room
    walt: UserClient  # in the Matrix neighborhood and alerts rooms, to see what they get
    rooms: dict[str, str]  # role -> Matrix room

    def from_bot(self, text: str = "") -> Callable[[TextEvent], bool]:
        return from_bot(self.setup, text)

    def post(self, sender: Person, role: str, text: str) -> int:
        """`sender` writes `text` in the Signal group of `role`; its timestamp."""
        timestamp = self.daemon.now()
        group = self.groups[role]
        self.daemon.receive(
            envelopes.message(self.daemon.account, sender, text, timestamp, group=group)
        )
        return timestamp

    def sent_to(self, role: str, match: Callable[[Sent], bool]) -> list[Sent]:
        """The bot's `send`s to the Signal group of `role` that `match`."""
        return [
            sent
            for sent in self.daemon.sent
            if sent.method == "send"
            and sent.params.get("groupId") == self.groups[role].id
            and match(sent)
        ]

    async def wait_sent(self, role: str, match: Callable[[Sent], bool]) -> Sent:
        await eventually(lambda: bool(self.sent_to(role, match)), TIMEOUT)
        return self.sent_to(role, match)[0]


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    fake = new_daemon()
    fake.add_group(Group(SIGNAL_MODS, "Moderators", members=[BOT, MORA]))
    fake.add_group(Group(SIGNAL_ALERTS, "Alerts", members=[BOT, BETO]))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def crossing(
    synapse: LocalSynapse,
    tmp_path: Path,
    unique: str,
    user_factory: UserFactory,
    daemon: FakeSignalDaemon,
) -> AsyncIterator[Crossing]:
    setup = new_bot_setup(synapse, tmp_path / "bot", f"vecinos-{unique}")
    ana, rosa, walt = await asyncio.gather(*(user_factory(n) for n in ("ana", "rosa", "walt")))
    setup.allowed_users = [walt.user_id, rosa.user_id]
    setup.moderators = [rosa.user_id, MORA.uuid]
    setup.signal_options = {"account": daemon.account, "mode": "http", "url": daemon.url}
    hood = await walt.create_encrypted_room(invite=[setup.user_id, ana.user_id])
    await ana.join(hood)
    rooms = {
        "neighborhood": hood,
        "moderation": await rosa.create_encrypted_room(invite=[setup.user_id]),
        "alerts": await walt.create_encrypted_room(invite=[setup.user_id]),
    }
    groups = {
        "neighborhood": daemon.groups[GROUP_ID],
        "moderation": daemon.groups[SIGNAL_MODS],
        "alerts": daemon.groups[SIGNAL_ALERTS],
    }
    setup.rooms = [
        *({"id": room, "role": role} for role, room in rooms.items()),
        *({"id": group.id, "role": role, "transport": "signal"} for role, group in groups.items()),
    ]
    running = await start_bot(setup, plugins=[Sightings, Relay])
    try:
        for room in rooms.values():
            await wait_until_joined(running, room)
        yield Crossing(setup, daemon, groups, ana, rosa, walt, rooms)
    finally:
        await running.stop()


# --- what each side sees ------------------------------------------------------------------


def report_id_in(text: str) -> str:
    found = REPORT_ID.search(text)
    assert found, text
    return found[0]


def relation(event: TextEvent) -> dict[str, Any]:
    return dict(event.source["content"].get("m.relates_to") or {})


def is_matrix_alert(event: TextEvent, report_id: str) -> bool:
    """The first post of the alert about `report_id` (not an edit, not a follow-up)."""
    return report_id in event.body and ALERT in event.body and not relation(event)


def is_signal_alert(sent: Sent, report_id: str) -> bool:
    params = sent.params
    return (
        report_id in params["message"]
        and ALERT in params["message"]
        and "editTimestamp" not in params
        and "quoteTimestamp" not in params
    )


def quotes(timestamp: int, text: str) -> Callable[[Sent], bool]:
    return lambda s: s.params.get("quoteTimestamp") == timestamp and text in s.params["message"]


async def matrix_alert(c: Crossing, role: str, report_id: str) -> TextEvent:
    alert = await c.walt.wait_for_message(
        c.rooms[role],
        lambda e: c.from_bot()(e) and is_matrix_alert(e, report_id),
        timeout=TIMEOUT,
    )
    assert alert.decrypted
    return alert


async def alerts_everywhere(c: Crossing, report_id: str) -> tuple[list[TextEvent], list[Sent]]:
    """The alert in the alerts and neighborhood rooms: (on Matrix, on Signal), in ALERTED order."""
    on_matrix = [await matrix_alert(c, role, report_id) for role in ALERTED]
    on_signal = [
        await c.wait_sent(role, lambda s: is_signal_alert(s, report_id)) for role in ALERTED
    ]
    texts = [e.body for e in on_matrix] + [s.params["message"] for s in on_signal]
    texts += [e.source["content"]["formatted_body"] for e in on_matrix]
    for text in texts:
        assert "18th &" in text and "!rights" in text
        assert PLATE not in text
    return on_matrix, on_signal


def matrix_relation(rel_type: str, target: str) -> Callable[[TextEvent], bool]:
    """An edit (`m.replace`) of, or a reply (`m.in_reply_to`) to, the event `target`."""

    def check(event: TextEvent) -> bool:
        related = relation(event)
        if rel_type == "m.in_reply_to":
            return (related.get(rel_type) or {}).get("event_id") == target
        return related.get("rel_type") == rel_type and related.get("event_id") == target

    return check


def signal_edit_of(timestamp: int) -> Callable[[Sent], bool]:
    return lambda s: s.params.get("editTimestamp") == timestamp


# --- the flows ----------------------------------------------------------------------------


async def report_on_signal(c: Crossing) -> tuple[str, int]:
    """Alice reports in the Signal neighborhood group: (report id, her message's timestamp)."""
    sent_at = c.post(ALICE, "neighborhood", "!report 18th & Ashland; agents detaining someone")
    ack = await c.wait_sent("neighborhood", quotes(sent_at, "UNCONFIRMED"))
    assert ack.params["quoteAuthor"] == ALICE.uuid
    return report_id_in(ack.params["message"]), sent_at


async def confirm_on_matrix(c: Crossing, report_id: str) -> None:
    card = await c.rosa.wait_for_message(
        c.rooms["moderation"],
        lambda e: c.from_bot(f"{report_id} · ")(e) and not relation(e),
        timeout=TIMEOUT,
    )
    assert "18th & Ashland" in card.body
    await c.rosa.send_text(c.rooms["moderation"], f"!confirm {report_id}")


async def test_a_signal_report_confirmed_on_matrix_alerts_both_transports(
    crossing: Crossing,
) -> None:
    c = crossing
    report_id, sent_at = await report_on_signal(c)
    await confirm_on_matrix(c, report_id)

    await alerts_everywhere(c, report_id)
    told = await c.wait_sent("neighborhood", quotes(sent_at, "was CONFIRMED"))
    assert report_id in told.params["message"]
    assert not c.sent_to("moderation", lambda s: ALERT in s.params["message"])


async def test_a_matrix_report_confirmed_on_signal_alerts_both_transports(
    crossing: Crossing,
) -> None:
    c = crossing
    hood = c.rooms["neighborhood"]
    text = f"!report where: 18th & Ashland | what: detaining | agents: 4 | plate: {PLATE}**"
    event_id = await c.ana.send_text(hood, text)
    ack = await c.ana.wait_for_message(
        hood, lambda e: c.from_bot("UNCONFIRMED")(e) and relation(e).get("event_id") == event_id
    )
    report_id = report_id_in(ack.body)
    card = await c.wait_sent("moderation", lambda s: f"{report_id} · " in s.params["message"])
    assert PLATE in card.params["message"]  # the plate is for moderators only

    confirmed_at = c.post(MORA, "moderation", f"!confirm {report_id}")
    await c.wait_sent("moderation", quotes(confirmed_at, f"{report_id}: "))
    await alerts_everywhere(c, report_id)
    told = await c.ana.wait_for_message(
        hood,
        lambda e: c.from_bot("was CONFIRMED")(e) and relation(e).get("event_id") == event_id,
        timeout=TIMEOUT,
    )
    assert report_id in told.body


async def test_an_update_edits_the_alert_on_both_transports(crossing: Crossing) -> None:
    c = crossing
    report_id, _ = await report_on_signal(c)
    await confirm_on_matrix(c, report_id)
    on_matrix, on_signal = await alerts_everywhere(c, report_id)

    c.post(MORA, "moderation", f"!update {report_id} two more cars arrived")
    for role, alert in zip(ALERTED, on_matrix, strict=True):
        room = c.rooms[role]
        edit = await c.walt.wait_for_message(
            room, matrix_relation("m.replace", alert.event_id), timeout=TIMEOUT
        )
        assert "two more cars arrived" in edit.source["content"]["m.new_content"]["body"]
        await c.walt.wait_for_message(
            room, matrix_relation("m.in_reply_to", alert.event_id), timeout=TIMEOUT
        )
    for role, sent in zip(ALERTED, on_signal, strict=True):
        edit = await c.wait_sent(role, signal_edit_of(sent.timestamp))
        assert "two more cars arrived" in edit.params["message"]
        assert report_id in edit.params["message"] and PLATE not in edit.params["message"]
        await c.wait_sent(role, quotes(sent.timestamp, f"Update on alert {report_id}"))
    # By now, a repeated first post would have shown up too.
    for role in ALERTED:
        assert len(c.sent_to(role, lambda s: is_signal_alert(s, report_id))) == 1
        found = [e for e in c.walt.messages(c.rooms[role]) if is_matrix_alert(e, report_id)]
        assert len(found) == 1
