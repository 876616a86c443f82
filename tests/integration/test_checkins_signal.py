"""A safety check-in on Signal, through the fake signal-cli daemon (tests/signal_fake; real
signal-cli cannot register an account offline), on a clock the test moves: the emergency
contact, named by phone number, is asked one to one and accepts with the code; a missed
check-in tells her and not a contact who never accepted; `!safe` then tells her too."""

from __future__ import annotations

import asyncio
import base64
import re
import tomllib
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import pytest
import tomli_w
from signal_fake import FakeSignalDaemon, Group, Person, envelopes
from signal_fake.app import signal_config
from signal_fake.harness import ALICE, BOT, GROUP_ID, eventually, new_daemon
from testkit.config import load_settings

from bot.api.testing import FakeClock, on_clock
from bot.runtime.app import Application
from bot.runtime.connect import configured_transports
from bot.storage.keys import DataKey
from plugins.cases import CasesPlugin
from plugins.checkins import Checkins
from plugins.dispatch import Dispatch
from plugins.rosters import Rosters
from plugins.sightings import Sightings

pytestmark = pytest.mark.integration

BEA = Person("Bea", "3a9d1f20-5555-4c6e-9f00-aabbccddeeff", "+15550005555")  # accepts
CARL = Person("Carl", "7e4b2c91-7777-4d2f-8a31-665544332211", "+15550007777")  # never does
LEGAL = base64.b64encode(bytes([2]) * 32).decode()
CODE = re.compile(r"!accept (\d{6})")
CHICAGO = ZoneInfo("America/Chicago")


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    fake = new_daemon()
    fake.add_person(BEA)
    fake.add_person(CARL)
    fake.add_group(Group(LEGAL, "Legal", members=[BOT]))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
def clock() -> FakeClock:
    # Behind the real time, which the daemon's timestamps carry: moved on by the test, it
    # never makes what people write later look too old to answer.
    return FakeClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))


@pytest.fixture
async def app(
    tmp_path: Path, daemon: FakeSignalDaemon, clock: FakeClock
) -> AsyncIterator[Application]:
    path = signal_config(
        tmp_path, daemon, [(GROUP_ID, "neighborhood", None), (LEGAL, "legal", None)]
    )
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    config["checkins"] = {"timezone": "America/Chicago"}
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    plugins = [Sightings, Rosters, Dispatch, CasesPlugin, Checkins]
    application = Application(load_settings(path, env={}), DataKey.generate(), plugins)
    await application.open()
    on_clock(application, clock)
    await application.start(await configured_transports(application))
    yield application
    await application.stop()


def said(daemon: FakeSignalDaemon, recipient: str, text: str) -> list[str]:
    return [
        s.params["message"]
        for s in daemon.sent
        if s.method == "send"
        and recipient in s.params.get("recipient", ())
        and text in s.params["message"]
    ]


async def said_to(daemon: FakeSignalDaemon, recipient: str, text: str) -> str:
    await eventually(lambda: bool(said(daemon, recipient, text)), 30.0)
    return said(daemon, recipient, text)[0]


async def test_a_missed_check_in_on_signal_tells_the_contact_who_accepted(
    app: Application, daemon: FakeSignalDaemon, clock: FakeClock
) -> None:
    def write(person: Person, text: str) -> None:
        daemon.receive(envelopes.message(daemon.account, person, text, daemon.now()))

    write(ALICE, f"!contacts add {BEA.number}")
    request = await said_to(daemon, str(BEA.number), "emergency contact")
    code = CODE.search(request)
    assert code is not None
    write(ALICE, f"!contacts add {CARL.number}")
    await said_to(daemon, str(CARL.number), "emergency contact")
    write(BEA, f"!accept {code[1]}")  # from her uuid: the code ties her to her number
    await said_to(daemon, BEA.uuid, "you are now an emergency contact")
    await said_to(daemon, ALICE.uuid, "accepted to be your emergency contact")

    due = clock.now.replace(second=0) + timedelta(hours=1)
    hhmm = due.astimezone(CHICAGO).strftime("%H:%M")
    write(ALICE, f"!checkin {hhmm} court alias=JM")
    await said_to(daemon, ALICE.uuid, f"at {hhmm}")
    scheduler = app.bot.scheduler
    await scheduler.run_until(due)  # type: ignore[attr-defined]
    await said_to(daemon, ALICE.uuid, "are you out and safe?")
    await scheduler.run_until(due + timedelta(minutes=15))  # type: ignore[attr-defined]
    alarm = await said_to(daemon, BEA.uuid, "did not check in")
    assert alarm.startswith(
        f"JM did not check in after their appointment at court, planned for {hhmm}"
    )
    await asyncio.sleep(0.5)
    assert said(daemon, CARL.uuid, "did not check in") == []
    assert said(daemon, str(CARL.number), "did not check in") == []
    write(ALICE, "!safe")
    await said_to(daemon, BEA.uuid, "JM checked in: they are safe")
