"""Cross-signing checks and the trust policy's decisions, without a homeserver."""

from __future__ import annotations

import asyncio
from types import SimpleNamespace
from typing import Any

import pytest
import signedjson.key
import signedjson.sign
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from nio import RoomKeyRequest
from nio.crypto import OlmDevice, TrustState

from bot.transports.matrix.cross_signing import CrossSigningKeys, parse_identity
from bot.transports.matrix.signing import decode_base64, public_key_of, sign_json
from bot.transports.matrix.trust import DeviceTrust

ALICE = "@alice:example.org"
BOT = "@vecinos:example.org"
OWN_CURVE = "bot-curve25519"


def device_keys(user_id: str, device_id: str, key: Ed25519PrivateKey) -> dict[str, Any]:
    """Device keys as a device uploads them: self-signed with its own ed25519 key."""
    public = public_key_of(key)
    body = {
        "user_id": user_id,
        "device_id": device_id,
        "algorithms": ["m.olm.v1.curve25519-aes-sha2", "m.megolm.v1.aes-sha2"],
        "keys": {f"ed25519:{device_id}": public, f"curve25519:{device_id}": f"curve-{device_id}"},
    }
    return sign_json(body, user_id, device_id, key)


def query_answer(
    keys: CrossSigningKeys, devices: dict[str, dict[str, Any]], user_id: str = ALICE
) -> dict[str, Any]:
    upload = keys.upload_body(user_id)
    return {
        "device_keys": {user_id: devices},
        "master_keys": {user_id: upload["master_key"]},
        "self_signing_keys": {user_id: upload["self_signing_key"]},
    }


# --- cross-signing keys ------------------------------------------------------------------


def test_keys_survive_the_secret_round_trip() -> None:
    keys = CrossSigningKeys.generate()
    again = CrossSigningKeys.from_secret(keys.to_secret())
    assert [again.public(r) for r in ("master", "self_signing", "user_signing")] == [
        keys.public(r) for r in ("master", "self_signing", "user_signing")
    ]
    assert len({keys.public(r) for r in ("master", "self_signing", "user_signing")}) == 3


def test_upload_body_is_signed_by_the_master_key_as_synapse_checks_it() -> None:
    keys = CrossSigningKeys.generate()
    body = keys.upload_body(BOT)
    master = keys.public("master")
    assert body["master_key"] == {
        "user_id": BOT,
        "usage": ["master"],
        "keys": {f"ed25519:{master}": master},
    }
    verify_key = signedjson.key.decode_verify_key_bytes(f"ed25519:{master}", decode_base64(master))
    for role in ("self_signing", "user_signing"):
        assert body[f"{role}_key"]["usage"] == [role]
        signedjson.sign.verify_signed_json(body[f"{role}_key"], BOT, verify_key)


def test_device_signed_by_the_self_signing_key_counts_as_cross_signed() -> None:
    keys = CrossSigningKeys.generate()
    device = device_keys(ALICE, "PHONE", Ed25519PrivateKey.generate())
    upload = keys.upload_body(ALICE)
    identity = parse_identity(ALICE, upload["master_key"], upload["self_signing_key"])
    assert identity is not None and identity.master_key == keys.public("master")
    assert not identity.signed(device)
    signed = keys.sign_device({**device, "unsigned": {"device_display_name": "phone"}})
    assert set(signed["signatures"]) == {ALICE} and "unsigned" not in signed
    assert identity.signed(signed)
    assert not identity.signed({**signed, "device_id": "OTHER"})
    other = parse_identity(ALICE, *_upload_parts(CrossSigningKeys.generate(), ALICE))
    assert other is not None and not other.signed(signed)


def _upload_parts(keys: CrossSigningKeys, user_id: str) -> tuple[Any, Any]:
    upload = keys.upload_body(user_id)
    return upload["master_key"], upload["self_signing_key"]


def test_identities_that_do_not_check_out() -> None:
    keys = CrossSigningKeys.generate()
    master, ssk = _upload_parts(keys, ALICE)
    assert parse_identity(BOT, master, ssk) is None, "someone else's keys"
    assert parse_identity(ALICE, None, ssk) is None
    assert parse_identity(ALICE, {**master, "usage": ["self_signing"]}, ssk) is None
    two_keys = {**master, "keys": {**master["keys"], "ed25519:other": "other"}}
    assert parse_identity(ALICE, two_keys, ssk) is None
    # A self-signing key the master key did not sign signs nothing.
    _, foreign_ssk = _upload_parts(CrossSigningKeys.generate(), ALICE)
    identity = parse_identity(ALICE, master, foreign_ssk)
    assert identity is not None and identity.self_signing_key is None
    assert not identity.signed(keys.sign_device(device_keys(ALICE, "X", keys.master)))


# --- the policy --------------------------------------------------------------------------


class _DeviceStore:
    def __init__(self, client: FakeClient) -> None:
        self._devices = client.devices

    def active_user_devices(self, user: str) -> list[OlmDevice]:
        return [d for (u, _), d in self._devices.items() if u == user]

    def __getitem__(self, user: str) -> dict[str, OlmDevice]:
        return {i: d for (u, i), d in self._devices.items() if u == user}


class FakeClient:
    """The slice of nio.AsyncClient that DeviceTrust uses, recording trust changes."""

    def __init__(self, devices: list[OlmDevice]) -> None:
        self.user_id = BOT
        self.device_id = "BOTDEVICE"
        self.devices = {(d.user_id, d.id): d for d in devices}
        self.calls: list[tuple[str, str]] = []
        self.rooms = {"!room:x": SimpleNamespace(users={ALICE: None, BOT: None}, invited_users={})}
        self.sessions: dict[str, object] = {}
        group = SimpleNamespace(id="SESSION")
        self.olm = SimpleNamespace(
            account=SimpleNamespace(identity_keys={"curve25519": OWN_CURVE}),
            inbound_group_store=SimpleNamespace(
                get=lambda room, sender_key, session: group if session == "SESSION" else None
            ),
            outbound_group_sessions={
                "!room:x": SimpleNamespace(id="SESSION", users_shared_with={(ALICE, "PHONE")})
            },
            session_store=SimpleNamespace(get=lambda curve: self.sessions.get(curve)),
            outgoing_to_device_messages=[],
            _encrypt_forwarding_key=lambda room, group, session, device: ("forward", device.id),
        )
        self.device_store = _DeviceStore(self)

    def _set(self, device: OlmDevice, state: TrustState, call: str) -> bool:
        self.calls.append((call, device.id))
        device.trust_state = state
        return True

    def verify_device(self, device: OlmDevice) -> bool:
        return self._set(device, TrustState.verified, "verify")

    def blacklist_device(self, device: OlmDevice) -> bool:
        return self._set(device, TrustState.blacklisted, "blacklist")

    def unverify_device(self, device: OlmDevice) -> bool:
        return self._set(device, TrustState.unset, "unverify")

    def unblacklist_device(self, device: OlmDevice) -> bool:
        return self._set(device, TrustState.unset, "unblacklist")


def olm_device(user_id: str, device_id: str, key: Ed25519PrivateKey) -> OlmDevice:
    keys = {"ed25519": public_key_of(key), "curve25519": f"curve-{device_id}"}
    return OlmDevice(user_id, device_id, keys)


@pytest.fixture
def alice_keys() -> CrossSigningKeys:
    return CrossSigningKeys.generate()


def trust_for(policy: str, alice_keys: CrossSigningKeys) -> tuple[DeviceTrust, FakeClient]:
    """Alice has a cross-signed PHONE and an unsigned LAPTOP."""
    phone_key, laptop_key = Ed25519PrivateKey.generate(), Ed25519PrivateKey.generate()
    phone = olm_device(ALICE, "PHONE", phone_key)
    laptop = olm_device(ALICE, "LAPTOP", laptop_key)
    client = FakeClient([phone, laptop])
    trust = DeviceTrust(client, policy)  # type: ignore[arg-type]  # a fake client
    signed_phone = alice_keys.sign_device(device_keys(ALICE, "PHONE", phone_key))
    trust.learn(
        query_answer(
            alice_keys,
            {"PHONE": signed_phone, "LAPTOP": device_keys(ALICE, "LAPTOP", laptop_key)},
        )
    )
    return trust, client


def test_cross_signed_only_verifies_signed_devices_and_blacklists_the_rest(
    alice_keys: CrossSigningKeys,
) -> None:
    trust, client = trust_for("cross-signed-only", alice_keys)
    assert not trust.ignore_unverified
    trust.apply([ALICE, BOT])
    assert sorted(client.calls) == [("blacklist", "LAPTOP"), ("verify", "PHONE")]
    client.calls.clear()
    trust.apply([ALICE])
    assert client.calls == [], "nothing changes twice: no needless megolm rotation"
    assert trust.take_master_keys() == {ALICE: alice_keys.public("master")}
    assert trust.take_master_keys() == {}


def test_tofu_verifies_signed_devices_and_leaves_the_rest_to_nio(
    alice_keys: CrossSigningKeys,
) -> None:
    trust, client = trust_for("tofu", alice_keys)
    assert trust.ignore_unverified
    client.devices[(ALICE, "LAPTOP")].trust_state = TrustState.blacklisted
    trust.apply([ALICE])
    assert sorted(client.calls) == [("unblacklist", "LAPTOP"), ("verify", "PHONE")]


def test_a_device_whose_key_differs_from_the_signed_one_is_not_cross_signed(
    alice_keys: CrossSigningKeys,
) -> None:
    trust, client = trust_for("cross-signed-only", alice_keys)
    phone = client.devices[(ALICE, "PHONE")]
    assert trust.cross_signed(phone)
    impostor = olm_device(ALICE, "PHONE", Ed25519PrivateKey.generate())
    assert not trust.cross_signed(impostor)


def test_losing_cross_signing_takes_trust_away(alice_keys: CrossSigningKeys) -> None:
    trust, client = trust_for("tofu", alice_keys)
    trust.apply([ALICE])
    trust.learn({"device_keys": {ALICE: {}}})  # cross-signing gone (no master key)
    client.calls.clear()
    trust.apply([ALICE])
    assert client.calls == [("unverify", "PHONE")]


def request(device_id: str = "PHONE", **changes: str) -> RoomKeyRequest:
    fields = {
        "source": {},
        "sender": ALICE,
        "requesting_device_id": device_id,
        "request_id": "r1",
        "algorithm": "m.megolm.v1.aes-sha2",
        "room_id": "!room:x",
        "sender_key": OWN_CURVE,
        "session_id": "SESSION",
        **changes,
    }
    return RoomKeyRequest(**fields)


async def test_key_requests_are_answered_only_for_allowed_devices_that_had_the_session(
    alice_keys: CrossSigningKeys,
) -> None:
    trust, client = trust_for("cross-signed-only", alice_keys)
    trust.apply([ALICE])
    trust.remember_shared("!room:x")
    assert trust._refusal(request()) is None
    assert (
        trust._refusal(request("LAPTOP")) == "device not trusted under the cross-signed-only policy"
    )
    assert trust._refusal(request("GONE")) == "unknown device"
    assert trust._refusal(request(sender_key="someone-else")) == "not one of the bot's sessions"
    assert trust._refusal(request(session_id="OTHER")) == "unknown session"
    assert trust._refusal(request(algorithm="m.olm")) == "unknown algorithm"

    tofu, tofu_client = trust_for("tofu", alice_keys)
    tofu.remember_shared("!room:x")
    # Allowed by tofu, but the session never went to the laptop: it gets nothing.
    assert tofu._refusal(request("LAPTOP")) == "that session was never shared with the device"
    tofu_client.rooms["!room:x"].users.pop(ALICE)
    assert tofu._refusal(request()) == "not a member of the room"

    client.sessions["curve-PHONE"] = object()
    await trust.answer_key_requests([request(), request("LAPTOP")])
    assert client.olm.outgoing_to_device_messages == [("forward", "PHONE")]


class Sharing:
    """A client whose rooms all hold ALICE's one device, with no olm session with it until
    a key claim makes one; the claim takes a moment, as over the network."""

    def __init__(self, rooms: int) -> None:
        self.rooms = {
            f"!r{n}:x": SimpleNamespace(members_synced=True, users={}) for n in range(rooms)
        }
        self.olm = SimpleNamespace(should_share_group_session=lambda room_id: True)
        self.user_id, self.device_id = BOT, "BOTDEVICE"
        self.claims = 0
        self.under_way = 0
        self.most = 0
        self.session = False

    def get_missing_sessions(self, room_id: str) -> dict[str, list[str]]:
        return {} if self.session else {ALICE: ["PHONE"]}

    async def keys_claim(self, users: dict[str, list[str]]) -> None:
        self.claims += 1
        self.under_way += 1
        self.most = max(self.most, self.under_way)
        await asyncio.sleep(0.01)
        self.under_way -= 1
        self.session = True


async def test_sends_to_many_rooms_at_once_claim_a_shared_devices_key_once() -> None:
    """Fifty rooms' first alerts at once, one neighbor's phone in each: one of its one-time
    keys is claimed, not fifty (it would run out, and miss the rooms after)."""
    client = Sharing(50)
    trust = DeviceTrust(client, "tofu")  # type: ignore[arg-type]
    await asyncio.gather(*(trust.prepare(room_id) for room_id in client.rooms))
    assert client.claims == 1


async def test_rooms_of_different_people_claim_their_keys_side_by_side() -> None:
    """A first alert to a thousand subscribers' direct chats, a different phone in each:
    their keys are claimed at once, not one after another."""
    client = Sharing(20)
    client.get_missing_sessions = lambda room_id: {f"@{room_id}": ["PHONE"]}  # type: ignore[method-assign]
    trust = DeviceTrust(client, "tofu")  # type: ignore[arg-type]
    await asyncio.gather(*(trust.prepare(room_id) for room_id in client.rooms))
    assert (client.claims, client.most) == (20, 20)
