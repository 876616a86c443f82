"""Cases with a legal team on Signal: the bot on the fake signal-cli daemon (the protocol-
faithful fake of tests/signal_fake, not real signal-cli), its moderation room and legal
room Signal groups. A moderator's `!detenido` posts the case card to the legal group
(never the plate or the reporter), the team fills it in Spanish and each change edits the
card (an edit message whose target is the card's timestamp); an A-number is refused.
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
from plugins.cases import CasesPlugin
from plugins.dispatch import Dispatch
from plugins.relay import Relay
from plugins.rosters import Rosters
from plugins.sightings import Sightings

pytestmark = pytest.mark.integration

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
CASE_ID = re.compile(r"\bC[2-9A-Z]{3,6}\b")
REPORT = "!report where: 18th & Ashland | what: detaining | agents: 2 | plate: ABC123"
MORA = Person("Mora", "0b7e2f4c-4444-4a5b-9c6d-112233445566", "+15550004444")  # moderator
LUZ = Person("Luz", "3a4b5c6d-8888-4e5f-9a0b-1c2d3e4f5a6b", "+15550008888")  # legal team
HOOD = base64.b64encode(bytes([7]) * 32).decode()
MODS = base64.b64encode(bytes([9]) * 32).decode()
LEGAL = base64.b64encode(bytes([10]) * 32).decode()
TIMEOUT = 30.0


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    fake = new_daemon()
    fake.add_group(Group(HOOD, "Pilsen vecinos", members=[BOT, ALICE, BETO]))
    fake.add_group(Group(MODS, "Moderators", members=[BOT, MORA]))
    fake.add_group(Group(LEGAL, "Equipo legal", members=[BOT, LUZ]))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def app(tmp_path: Path, daemon: FakeSignalDaemon) -> AsyncIterator[Application]:
    config = {
        "moderators": [MORA.uuid],
        "bot": {"data_dir": str(tmp_path / "data")},
        "signal": {"account": daemon.account, "mode": "http", "url": daemon.url},
        "areas": [{"slug": "pilsen", "name_en": "Pilsen", "name_es": "Pilsen"}],
        "rooms": [
            {"id": HOOD, "transport": "signal", "role": "neighborhood", "areas": ["pilsen"]},
            {"id": MODS, "transport": "signal", "role": "moderation", "areas": ["pilsen"]},
            {
                "id": LEGAL,
                "transport": "signal",
                "role": "legal",
                "areas": ["pilsen"],
                "language": "es",
            },
        ],
    }
    path = tmp_path / "config.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    plugins = [Sightings, Relay, Rosters, Dispatch, CasesPlugin]
    application = Application(load_settings(path, env={}), DataKey.generate(), plugins)
    await application.open()
    await application.start(await configured_transports(application))
    yield application
    await application.stop()


def in_group(daemon: FakeSignalDaemon, group: str) -> list[Sent]:
    return [s for s in daemon.sent if s.params.get("groupId") == group]


async def wait_for(found: Callable[[], list[Sent]]) -> Sent:
    await eventually(lambda: bool(found()), TIMEOUT)
    return found()[0]


async def say(daemon: FakeSignalDaemon, sender: Person, group: str, text: str) -> str:
    """What `sender` wrote in `group`; the bot's answer, quoting it."""
    timestamp = daemon.now()
    daemon.receive(
        envelopes.message(daemon.account, sender, text, timestamp, group=daemon.groups[group])
    )
    answer = await wait_for(
        lambda: [s for s in in_group(daemon, group) if s.params.get("quoteTimestamp") == timestamp]
    )
    return str(answer.params["message"])


async def test_a_legal_group_on_signal_follows_a_case_in_spanish(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    daemon.receive(
        envelopes.message(daemon.account, ALICE, REPORT, daemon.now(), group=daemon.groups[HOOD])
    )
    mod_card = await wait_for(lambda: in_group(daemon, MODS))
    report_id = REPORT_ID.findall(mod_card.params["message"])[0]

    opened = await say(daemon, MORA, MODS, f"!detenido {report_id}")
    case_id = CASE_ID.findall(opened)[0]
    assert f"El caso {case_id} está abierto para {report_id}" in opened

    card = await wait_for(
        lambda: [s for s in in_group(daemon, LEGAL) if "⚖️ Caso" in s.params["message"]]
    )
    text = card.params["message"]
    assert f"⚖️ Caso {case_id} · Pilsen · abierto" in text and "18th & Ashland" in text
    assert "ABC123" not in text and ALICE.uuid not in text and "Alice" not in text

    assert await say(daemon, LUZ, LEGAL, f"!caso {case_id} ubicado Broadview") == (
        f"✅ {case_id}: en la tarjeta."
    )

    def edits() -> list[Sent]:
        return [
            s
            for s in in_group(daemon, LEGAL)
            if s.params.get("editTimestamp") == card.timestamp
            and "Ubicada: Broadview" in s.params["message"]
        ]

    await wait_for(edits)
    refused = await say(daemon, LUZ, LEGAL, f"!caso {case_id} nota A 123 456 789")
    assert "parece un número A" in refused
    listing = await say(daemon, LUZ, LEGAL, "!casos")
    assert "1 caso abierto" in listing and case_id in listing
    assert not any("123 456 789" in s.params["message"] for s in in_group(daemon, LEGAL))
