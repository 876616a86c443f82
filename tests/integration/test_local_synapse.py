"""The test harness itself, against a real Synapse and real matrix-nio E2E clients."""

from __future__ import annotations

import time
import urllib.parse
from pathlib import Path

import pytest
from integration.matrix_clients import UserFactory
from nio import RoomMessageNotice

from bot.devtools.local_synapse import LocalSynapse, SynapseHTTPError

pytestmark = pytest.mark.integration


def _raw_event(synapse: LocalSynapse, token: str, room_id: str, event_id: str) -> dict[str, object]:
    """The event as the server stores it (what went over the wire)."""
    path = f"/_matrix/client/v3/rooms/{_q(room_id)}/event/{_q(event_id)}"
    return synapse.admin_request("GET", path, token=token)


def _send_raw(synapse: LocalSynapse, token: str, room_id: str, body: str) -> None:
    """PUT /send directly, so no client library can retry a 429 away."""
    txn = f"raw-{time.monotonic_ns()}"
    path = f"/_matrix/client/v3/rooms/{_q(room_id)}/send/m.room.message/{txn}"
    synapse.admin_request("PUT", path, {"msgtype": "m.text", "body": body}, token=token)


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


async def test_encrypted_message_roundtrip(
    synapse: LocalSynapse, user_factory: UserFactory
) -> None:
    alice = await user_factory("alice")
    bob = await user_factory("bob")

    room_id = await alice.create_encrypted_room(invite=[bob.user_id], name="calle mayor")
    assert await bob.wait_for_invite(room_id) == room_id
    await bob.join(room_id)
    event_id = await alice.send_text(room_id, "hola, vecinos")

    received = await bob.wait_for_message(room_id, lambda e: e.event_id == event_id)
    assert received.body == "hola, vecinos"
    assert received.sender == alice.user_id
    assert received.decrypted
    assert bob.client.rooms[room_id].encrypted
    wire = _raw_event(synapse, bob.access_token, room_id, event_id)
    assert wire["type"] == "m.room.encrypted"
    assert "hola" not in str(wire["content"])


async def test_late_joiner_gets_keys_and_threads_and_notices(user_factory: UserFactory) -> None:
    alice = await user_factory("alice")
    bob = await user_factory("bob")
    carol = await user_factory("carol")
    room_id = await alice.create_encrypted_room(invite=[bob.user_id])
    await bob.join(room_id)
    root = await alice.send_text(room_id, "before carol")
    await bob.wait_for_message(room_id, lambda e: e.event_id == root)

    # Carol is invited only after a megolm session went out without her: the next
    # messages must still reach her (senders rotate the session and re-share).
    await alice.invite(room_id, carol.user_id)
    await carol.join(await carol.wait_for_invite(room_id))
    reply = await bob.send_text(room_id, "in the thread", thread_root=root)
    notice = await alice.send_text(room_id, "a notice", msgtype="m.notice")

    for user in (alice, carol):
        threaded = await user.wait_for_message(room_id, lambda e: e.event_id == reply)
        relation = threaded.source["content"]["m.relates_to"]
        assert (relation["rel_type"], relation["event_id"]) == ("m.thread", root)
        assert threaded.decrypted
    seen = await carol.wait_for_message(room_id, lambda e: e.event_id == notice)
    assert isinstance(seen, RoomMessageNotice)
    assert seen.decrypted
    # The root predates her session, so she has it only as an undecryptable event.
    assert [m.event_id for m in carol.messages(room_id)] == [reply, notice]


def test_register_admin_user(synapse: LocalSynapse, unique: str) -> None:
    admin = synapse.register(f"admin-{unique}", "secret-1", admin=True)
    plain = synapse.register(f"plain-{unique}", "secret-2")

    assert admin.user_id == f"@admin-{unique}:{synapse.server_name}"
    assert admin.password == "secret-1"
    assert admin.access_token
    assert admin.device_id
    path = f"/_synapse/admin/v2/users/{_q(plain.user_id)}"
    assert synapse.admin_request("GET", path, token=admin.access_token)["admin"] is False
    with pytest.raises(SynapseHTTPError) as denied:
        synapse.admin_request("GET", path, token=plain.access_token)
    assert (denied.value.status, denied.value.errcode) == (403, "M_FORBIDDEN")


def test_override_ratelimit_produces_429(synapse: LocalSynapse, unique: str) -> None:
    admin = synapse.register(f"admin-{unique}", "secret", admin=True)
    user = synapse.register(f"chatty-{unique}", "secret")
    room = synapse.admin_request("POST", "/_matrix/client/v3/createRoom", {}, user.access_token)
    room_id = str(room["room_id"])

    synapse.override_ratelimit(user.user_id, 1, 2, admin.access_token)
    errors: list[SynapseHTTPError] = []
    for n in range(6):  # Synapse holds each 429 for 0.5 s, so keep the burst short
        try:
            _send_raw(synapse, user.access_token, room_id, f"burst {n}")
        except SynapseHTTPError as err:
            errors.append(err)
    assert errors, "6 quick sends at 1/s with burst 2 were never rate limited"
    assert {(e.status, e.errcode) for e in errors} == {(429, "M_LIMIT_EXCEEDED")}
    assert all(int(e.body["retry_after_ms"]) > 0 for e in errors)

    # (0, 0) exempts the user entirely, which is what a bot deployment wants.
    synapse.override_ratelimit(user.user_id, 0, 0, admin.access_token)
    for n in range(10):
        _send_raw(synapse, user.access_token, room_id, f"exempt {n}")


def test_restart_keeps_port_and_data(tmp_path: Path) -> None:
    with LocalSynapse(tmp_path / "hs", server_name="restart.test") as server:
        port = server.port
        user = server.register("neighbor", "secret")
        server.restart()
        assert server.port == port
        assert server.base_url == f"http://127.0.0.1:{port}"
        whoami = server.admin_request(
            "GET", "/_matrix/client/v3/account/whoami", token=user.access_token
        )
        assert whoami["user_id"] == "@neighbor:restart.test"
    assert not server.running
