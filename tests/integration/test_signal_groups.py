"""Groups the Signal transport makes, fills and leaves, against the fake signal-cli daemon.

What is checked against real signal-cli 0.13.19: that `updateGroup` and `quitGroup` exist
and check the account first (test_signal_cli_contract.py, the live daemon), and the fake's
answers to them: shapes, key order, error codes and texts (test_signal_fake_golden.py,
against what signal-cli's own JSON-RPC code printed with its account layer stubbed).
What is the fake's alone: who joins a group at once and who is only invited (real Signal
decides by the profile keys the account holds), and that nothing is left half-made when
the daemon fails (the fake's failures are injected before anything changes; real
signal-cli can fail after making a group, and then its error carries no group id).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path

import pytest
from signal_fake import FakeSignalDaemon, harness
from signal_fake.harness import (
    ALICE,
    BETO,
    BOT,
    GROUP_ID,
    OTHER_GROUP_ID,
    RecordingHost,
    running_transport,
)

from bot.storage.keys import DataKey
from bot.transports.signal.transport import SendError, SignalTransport

# The shared fixtures: a running fake daemon, reached over HTTP and over TCP.
daemon = harness.daemon
mode = harness.mode

STRANGER = "0b7c3d2e-4444-4a5b-8c6d-000000000001"  # a uuid the account has no profile key of


@pytest.fixture
async def signal(
    daemon: FakeSignalDaemon, mode: str, tmp_path: Path
) -> AsyncIterator[SignalTransport]:
    async with running_transport(daemon, mode, tmp_path, RecordingHost(), DataKey.generate()) as t:
        yield t


def listed(daemon: FakeSignalDaemon, group_id: str) -> dict[str, object]:
    """The group as the daemon's listGroups shows it."""
    [group] = [g.listed() for g in daemon.groups.values() if g.id == group_id]
    return group


def uuids(people: object) -> set[str]:
    assert isinstance(people, list)
    return {person["uuid"] for person in people}


def calls(daemon: FakeSignalDaemon, method: str) -> list[dict[str, object]]:
    return [params for called, params in daemon.calls if called == method]


async def test_a_new_group_has_the_invited_members(
    daemon: FakeSignalDaemon, signal: SignalTransport
) -> None:
    group_id = await signal.create_room("Zona Pilsen", [ALICE.uuid, BETO.uuid])
    assert group_id not in (GROUP_ID, OTHER_GROUP_ID)
    group = listed(daemon, group_id)
    assert group["name"] == "Zona Pilsen" and group["isMember"] is True
    assert uuids(group["members"]) == {BOT.uuid, ALICE.uuid, BETO.uuid}
    assert uuids(group["admins"]) == {BOT.uuid}
    assert await signal.members(group_id) == sorted([ALICE.uuid, BETO.uuid])
    assert await signal.room_name(group_id) == "Zona Pilsen"
    assert calls(daemon, "updateGroup")[-1] == {
        "name": "Zona Pilsen",
        "members": [ALICE.uuid, BETO.uuid],
        "account": daemon.account,
    }


async def test_an_invite_adds_a_member_at_once(
    daemon: FakeSignalDaemon, signal: SignalTransport
) -> None:
    group_id = await signal.create_room("Zona", [ALICE.uuid])
    assert await signal.members(group_id) == [ALICE.uuid]  # read, and cached
    await signal.invite(group_id, [BETO.uuid])
    assert uuids(listed(daemon, group_id)["members"]) == {BOT.uuid, ALICE.uuid, BETO.uuid}
    assert await signal.members(group_id) == sorted([ALICE.uuid, BETO.uuid])
    assert await signal.is_member(group_id, BETO.uuid)
    await signal.invite(group_id, [BETO.uuid])  # again: nothing changes
    await signal.invite(group_id, [])  # nobody: nothing asked
    assert len(calls(daemon, "updateGroup")) == 3


async def test_people_only_invited_are_not_members_yet(
    daemon: FakeSignalDaemon, signal: SignalTransport
) -> None:
    group_id = await signal.create_room("Zona", [ALICE.uuid, STRANGER])
    assert uuids(listed(daemon, group_id)["pendingMembers"]) == {STRANGER}
    assert await signal.members(group_id) == [ALICE.uuid]
    assert not await signal.is_member(group_id, STRANGER)


async def test_the_bot_leaves_a_group_it_made_handing_it_to_the_members(
    daemon: FakeSignalDaemon, signal: SignalTransport
) -> None:
    group_id = await signal.create_room("Zona", [ALICE.uuid, BETO.uuid])
    await signal.leave(group_id)
    # signal-cli refuses to let the only admin quit unless someone else becomes admin.
    assert calls(daemon, "quitGroup")[-1]["admin"] == sorted([ALICE.uuid, BETO.uuid])
    group = listed(daemon, group_id)
    assert group["isMember"] is False  # signal-cli keeps listing a group it left
    assert uuids(group["members"]) == {ALICE.uuid, BETO.uuid}
    assert uuids(group["admins"]) == {ALICE.uuid, BETO.uuid}
    assert await signal.members(group_id) == sorted([ALICE.uuid, BETO.uuid])
    await signal.leave(group_id)  # again: signal-cli answers nothing, nothing fails
    assert "admin" not in calls(daemon, "quitGroup")[-1]


async def test_leaving_a_group_with_other_admins_names_nobody(
    daemon: FakeSignalDaemon, signal: SignalTransport
) -> None:
    await signal.leave(GROUP_ID)  # Alice administers it
    assert calls(daemon, "quitGroup") == [{"groupId": GROUP_ID, "account": daemon.account}]
    assert listed(daemon, GROUP_ID)["isMember"] is False
    group_id = await signal.create_room("Solo", [])
    await signal.leave(group_id)  # the last member may go without naming an admin
    assert "admin" not in calls(daemon, "quitGroup")[-1]


async def test_a_successor_keeps_the_old_groups_admins(
    daemon: FakeSignalDaemon, signal: SignalTransport
) -> None:
    group_id = await signal.create_room("Zona 2", [ALICE.uuid, BETO.uuid], successor_of=GROUP_ID)
    assert calls(daemon, "updateGroup")[-1]["admin"] == [ALICE.uuid]
    assert uuids(listed(daemon, group_id)["admins"]) == {BOT.uuid, ALICE.uuid}
    assert await signal.power_level(group_id, ALICE.uuid) == 50
    assert await signal.power_level(group_id, BETO.uuid) == 0
    assert not await signal.mark_replaced(GROUP_ID, group_id)  # Signal has no such link


async def test_limits_and_one_to_one_chats(signal: SignalTransport) -> None:
    assert signal.member_limit == 1000
    chat = signal.converter.sealer.chat_id(ALICE.uuid)
    assert await signal.members(chat) == [ALICE.uuid]
    with pytest.raises(ValueError, match="one-to-one"):
        await signal.invite(chat, [BETO.uuid])
    await signal.leave(chat)  # nothing to quit


async def test_a_refused_group_change_raises_and_changes_nothing(
    daemon: FakeSignalDaemon, signal: SignalTransport
) -> None:
    before = {group_id: group.listed() for group_id, group in daemon.groups.items()}
    daemon.fail_next("updateGroup", -3, "Failed to send message: timeout (IOException)")
    with pytest.raises(SendError, match=r"I/O error \(-3\)") as caught:
        await signal.create_room("Zona", [ALICE.uuid])
    assert caught.value.code == -3
    with pytest.raises(SendError, match=r"user error \(-1\): The user \[redacted\] is not"):
        await signal.create_room("Zona", [ALICE.uuid, "+15550009999"])
    unknown = "QUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUFBQUE="
    with pytest.raises(SendError, match="Group not found"):
        await signal.invite(unknown, [ALICE.uuid])
    with pytest.raises(SendError, match="Group not found"):
        await signal.leave(unknown)
    assert {group_id: group.listed() for group_id, group in daemon.groups.items()} == before


async def test_a_failing_read_of_the_members_raises(
    daemon: FakeSignalDaemon, signal: SignalTransport
) -> None:
    daemon.fail_next("listGroups", -3, "Failed to read groups (IOException)")
    with pytest.raises(SendError, match=r"I/O error \(-3\)"):
        await signal.members(OTHER_GROUP_ID)
    assert await signal.members(OTHER_GROUP_ID) == [ALICE.uuid]


async def test_group_changes_log_no_people_or_names(
    signal: SignalTransport, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        group_id = await signal.create_room("Zona Secreta", [ALICE.uuid, BETO.uuid])
        await signal.invite(group_id, [STRANGER])
        await signal.leave(group_id)
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "created a Signal group" in logged and "left a Signal group" in logged
    for secret in (ALICE.uuid, BETO.uuid, STRANGER, "Zona Secreta", group_id):
        assert secret not in logged
