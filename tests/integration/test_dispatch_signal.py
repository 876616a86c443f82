"""A Signal group as a dispatch room, through the fake signal-cli daemon (tests/signal_fake;
real signal-cli cannot register an account offline).

A report in a Signal neighborhood group calls the Signal dispatch group; a 🚗 reaction on the
call says "going", `!voy` answers in Spanish, the moderator card in the Signal moderation
group shows who is going, and a confirmation calls out responders there.
"""

from __future__ import annotations

import base64
import re
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from signal_fake import FakeSignalDaemon, Group, Person, Sent, envelopes
from signal_fake.app import signal_config, start_app
from signal_fake.harness import ALICE, BETO, BOT, GROUP_ID, eventually, new_daemon

from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins

pytestmark = pytest.mark.integration

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
MORA = Person("Mora", "0b7e2f4c-4444-4a5b-9c6d-112233445566", "+15550004444")
VERA = Person("Vera", "7a1d3e9b-5555-4c2a-8b3c-665544332211", "+15550005555")
MODS = base64.b64encode(bytes([1]) * 32).decode()
DISPATCH = base64.b64encode(bytes([3]) * 32).decode()
REPORT = "!report where: 18th & Ashland | what: detaining | agents: 2 | plate: XYZ9"


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    fake = new_daemon()
    fake.add_group(Group(MODS, "Moderators", members=[BOT, MORA]))
    fake.add_group(Group(DISPATCH, "Despacho", members=[BOT, VERA, BETO]))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def app(tmp_path: Path, daemon: FakeSignalDaemon) -> AsyncIterator[Application]:
    rooms = [
        (GROUP_ID, "neighborhood", "en"),
        (MODS, "moderation", "en"),
        (DISPATCH, "dispatch", "es"),
    ]
    config = signal_config(tmp_path, daemon, rooms, moderators=[str(MORA.uuid)])
    application = await start_app(config, default_plugins())
    yield application
    await application.stop()


def post(daemon: FakeSignalDaemon, sender: Person, group: str, text: str) -> int:
    timestamp = daemon.now()
    daemon.receive(
        envelopes.message(daemon.account, sender, text, timestamp, group=daemon.groups[group])
    )
    return timestamp


async def sent_to(daemon: FakeSignalDaemon, group: str, text: str) -> Sent:
    def found() -> list[Sent]:
        return [
            s
            for s in daemon.sent
            if s.method == "send"
            and s.params.get("groupId") == group
            and text in s.params.get("message", "")
        ]

    await eventually(lambda: bool(found()), 30.0)
    return found()[0]


async def test_a_signal_group_is_called_and_answers_by_reaction_and_command(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    post(daemon, ALICE, GROUP_ID, REPORT)
    call = await sent_to(daemon, DISPATCH, "SE NECESITA VERIFICAR")
    report_id = REPORT_ID.findall(call.params["message"])[0]
    assert "XYZ9" not in call.params["message"] and "Alice" not in call.params["message"]

    daemon.receive(
        envelopes.reaction(
            daemon.account,
            VERA,
            "🚗",
            BOT,
            call.timestamp,
            daemon.now(),
            group=daemon.groups[DISPATCH],
        )
    )
    await sent_to(daemon, DISPATCH, f"Vera va a {report_id}")
    post(daemon, BETO, DISPATCH, f"!voy {report_id} 20")
    await sent_to(daemon, DISPATCH, f"Beto va a {report_id}")
    edit = await sent_to(daemon, MODS, "Going: Beto")
    assert "Going: Vera" in edit.params["message"]

    post(daemon, MORA, MODS, f"!confirm {report_id}")
    callout = await sent_to(daemon, DISPATCH, "SE NECESITA RESPUESTA")
    assert "XYZ9" not in callout.params["message"]
