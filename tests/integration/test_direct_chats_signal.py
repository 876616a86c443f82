"""Signal one-to-one chats with the bot, through the fake signal-cli daemon (tests/signal_fake;
real signal-cli cannot register an account offline): a member of a configured group reports
privately and hears back there; a stranger gets no answer."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from signal_fake import FakeSignalDaemon, Group, Person, Sent, envelopes
from signal_fake.app import signal_config, start_app
from signal_fake.harness import ALICE, BOT, GROUP_ID, eventually, new_daemon

from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins

pytestmark = pytest.mark.integration

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
MORA = Person("Mora", "0b7e2f4c-4444-4a5b-9c6d-112233445566", "+15550004444")
ZOE = Person("Zoe", "9c2e5a7d-6666-4b1c-8d2e-998877665544", "+15550006666")  # in no group
MODS = base64.b64encode(bytes([1]) * 32).decode()


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    fake = new_daemon()
    fake.add_person(ZOE)
    fake.add_group(Group(MODS, "Moderators", members=[BOT, MORA]))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def app(tmp_path: Path, daemon: FakeSignalDaemon) -> AsyncIterator[Application]:
    rooms = [(GROUP_ID, "neighborhood", None), (MODS, "moderation", None)]
    config = signal_config(tmp_path, daemon, rooms, moderators=[str(MORA.uuid)])
    application = await start_app(config, default_plugins())
    yield application
    await application.stop()


def to_person(daemon: FakeSignalDaemon, person: Person) -> list[Sent]:
    return [
        s
        for s in daemon.sent
        if s.method == "send" and person.uuid in s.params.get("recipient", ())
    ]


async def said_to(daemon: FakeSignalDaemon, person: Person, text: str) -> str:
    def found() -> list[str]:
        return [
            s.params["message"] for s in to_person(daemon, person) if text in s.params["message"]
        ]

    await eventually(lambda: bool(found()), 30.0)
    return found()[0]


async def test_a_member_reports_one_to_one_and_a_stranger_is_ignored(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    daemon.receive(envelopes.message(daemon.account, ZOE, "!status", daemon.now()))
    report = "!report 18th & Ashland; two agents detaining someone"
    daemon.receive(envelopes.message(daemon.account, ALICE, report, daemon.now()))
    ack = await said_to(daemon, ALICE, "UNCONFIRMED")
    report_id = REPORT_ID.findall(ack)[0]
    card = [s for s in daemon.sent if s.params.get("groupId") == MODS]
    assert report_id in card[0].params["message"]
    group = [s for s in daemon.sent if s.params.get("groupId") == GROUP_ID]
    assert not [s for s in group if report_id in s.params.get("message", "")]  # private

    daemon.receive(
        envelopes.message(
            daemon.account, MORA, f"!confirm {report_id}", daemon.now(), group=daemon.groups[MODS]
        )
    )
    await said_to(daemon, ALICE, f"Your report {report_id} was CONFIRMED")
    await asyncio.sleep(0.5)  # Zoe's message was handled before Alice's: still no answer
    assert to_person(daemon, ZOE) == []
