"""Mutual aid with a Signal aid group: the bot on the fake signal-cli daemon (the protocol-
faithful fake of tests/signal_fake, not real signal-cli, which cannot register an account
offline). A neighbor asks one to one; the card in the aid group has no name, number or
uuid; a volunteer's `!give` in the group asks her one to one; `!accept` introduces the two
one to one (each gets the other's Signal contact, as a mention); the card is edited to
taken (an edit message whose target is the card's timestamp); `!done` tells her.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import tomli_w
from signal_fake import FakeSignalDaemon, Group, Person, Sent, envelopes
from signal_fake.harness import ALICE, BETO, BOT, eventually, new_daemon
from testkit.config import load_settings

from bot.runtime.app import Application
from bot.runtime.connect import configured_transports
from bot.storage.keys import DataKey
from plugins.aid import AidPlugin

pytestmark = pytest.mark.integration

REQUEST_ID = re.compile(r"\bA[2-9A-HJ-NP-TV-Z]{3,4}\b")
CARA = Person("Cara", "6c1d2e3f-9999-4a4b-8c8d-0f1e2d3c4b5a", "+15550009999")  # volunteer
HOOD = base64.b64encode(bytes([7]) * 32).decode()
AID = base64.b64encode(bytes([11]) * 32).decode()
TIMEOUT = 30.0


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    fake = new_daemon()
    fake.add_person(CARA)
    fake.add_group(Group(HOOD, "Pilsen vecinos", members=[BOT, ALICE, BETO]))
    fake.add_group(Group(AID, "Ayuda mutua", members=[BOT, CARA]))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def app(tmp_path: Path, daemon: FakeSignalDaemon) -> AsyncIterator[Application]:
    config = {
        "bot": {"data_dir": str(tmp_path / "data")},
        "signal": {"account": daemon.account, "mode": "http", "url": daemon.url},
        "areas": [{"slug": "pilsen", "name_en": "Pilsen", "name_es": "Pilsen"}],
        "rooms": [
            {"id": HOOD, "transport": "signal", "role": "neighborhood", "areas": ["pilsen"]},
            {"id": AID, "transport": "signal", "role": "aid", "areas": ["pilsen"]},
        ],
    }
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    application = Application(load_settings(path, env={}), DataKey.generate(), [AidPlugin])
    await application.open()
    await application.start(await configured_transports(application))
    yield application
    await application.stop()


def in_group(daemon: FakeSignalDaemon, group: str) -> list[Sent]:
    return [s for s in daemon.sent if s.params.get("groupId") == group]


def to_person(daemon: FakeSignalDaemon, person: Person, text: str) -> list[Sent]:
    return [
        s
        for s in daemon.sent
        if person.uuid in s.params.get("recipient", ()) and text in s.params["message"]
    ]


async def wait_for(found: Callable[[], list[Sent]]) -> Sent:
    await eventually(lambda: bool(found()), TIMEOUT)
    return found()[0]


def write(daemon: FakeSignalDaemon, person: Person, text: str, group: str | None = None) -> int:
    timestamp = daemon.now()
    where = daemon.groups[group] if group is not None else None
    daemon.receive(envelopes.message(daemon.account, person, text, timestamp, group=where))
    return timestamp


async def test_an_aid_group_on_signal_matches_without_showing_who_asked(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    write(daemon, ALICE, "!need groceries tomorrow rice and milk")
    filed = await wait_for(lambda: to_person(daemon, ALICE, "Asked:"))
    found = REQUEST_ID.search(filed.params["message"])
    assert found is not None
    request_id = found[0]
    card = await wait_for(
        lambda: [
            s for s in in_group(daemon, AID) if f"Help needed: {request_id}" in s.params["message"]
        ]
    )
    text = card.params["message"]
    assert "groceries · Pilsen · tomorrow" in text and "rice and milk" in text
    assert ALICE.uuid not in text and str(ALICE.number) not in text and "Alice" not in text

    asked = write(daemon, CARA, f"!give {request_id}", group=AID)
    sent = await wait_for(
        lambda: [s for s in in_group(daemon, AID) if s.params.get("quoteTimestamp") == asked]
    )
    assert sent.params["message"].startswith("Thank you! I asked the person privately")
    offer = await wait_for(lambda: to_person(daemon, ALICE, "A volunteer offers to help"))
    assert CARA.uuid not in offer.params["message"]

    write(daemon, ALICE, f"!accept {request_id}")
    to_alice = await wait_for(lambda: to_person(daemon, ALICE, "You are in touch"))
    assert CARA.uuid in to_alice.params["message"]
    assert any(CARA.uuid in mention for mention in to_alice.params.get("mention", ()))
    to_cara = await wait_for(lambda: to_person(daemon, CARA, "The person you help"))
    assert ALICE.uuid in to_cara.params["message"]
    await wait_for(
        lambda: [
            s
            for s in in_group(daemon, AID)
            if s.params.get("editTimestamp") == card.timestamp and "Taken:" in s.params["message"]
        ]
    )

    write(daemon, CARA, f"!done {request_id}")
    await wait_for(lambda: to_person(daemon, CARA, f"{request_id} is closed"))
    await wait_for(lambda: to_person(daemon, ALICE, f"{request_id} is marked done"))
