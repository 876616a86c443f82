"""Which devices get the bot's room keys: the trust policy, applied to nio's device store.

- `tofu`: every device of a room member gets keys (as before cross-signing); people's
  master keys are remembered on first sight so that a change can be flagged.
- `cross-signed-only`: only devices that their owner cross-signed (device signed by the
  owner's self-signing key, itself signed by the owner's master key) get keys, as in
  Element's "exclude insecure devices" mode.

nio knows only verified / blacklisted / unset devices, so the policy is written into it:
cross-signed devices are verified, and under `cross-signed-only` the others blacklisted.
nio rotates a room's megolm session whenever a member's device changes state. Room key
requests from other users are answered under the same policy (nio itself ignores them).
"""

from __future__ import annotations

import asyncio
import logging
from collections import OrderedDict
from collections.abc import Iterable, Mapping
from typing import Any

import nio
from nio.crypto import OlmDevice, TrustState

from bot.core.config import TrustPolicy
from bot.transports.matrix.cross_signing import identities_in, query_keys

log = logging.getLogger(__name__)

MEGOLM = "m.megolm.v1.aes-sha2"
# Own megolm sessions remembered with the devices they went to, to answer key requests.
REMEMBERED_SESSIONS = 2000


class DeviceTrust:
    def __init__(self, client: nio.AsyncClient, policy: TrustPolicy) -> None:
        self._client = client
        self.policy = policy
        self._queried: set[str] = set()
        # user -> device id -> the ed25519 key that the owner's self-signing key signed.
        self._signed: dict[str, dict[str, str]] = {}
        self._new_masters: dict[str, str] = {}
        # Each user's master key, as last learned (cross-signing verified).
        self._masters: dict[str, str] = {}
        self._shared: OrderedDict[str, set[tuple[str, str]]] = OrderedDict()
        # The devices whose one-time key is being claimed, each with the claim (`prepare`).
        self._claiming: dict[tuple[str, str], asyncio.Task[None]] = {}

    @property
    def ignore_unverified(self) -> bool:
        """nio's switch: share with devices that are neither verified nor blacklisted."""
        return self.policy == "tofu"

    # --- learning identities --------------------------------------------------------------

    async def query(self, users: Iterable[str]) -> None:
        """`/keys/query` for `users`: devices into nio's store, cross-signing kept here."""
        wanted = sorted(set(users))
        if not wanted:
            return
        raw = await query_keys(self._client, wanted)
        # Asked once here; users whose server did not answer are retried by the sync loop.
        self._queried.update(wanted)
        response = nio.KeysQueryResponse.from_dict(raw)
        if isinstance(response, nio.KeysQueryError):
            log.warning("ignored a malformed key query answer")
            return
        await self._client.receive_response(response)
        self.learn(raw)

    def learn(self, raw: Mapping[str, Any]) -> None:
        devices: Mapping[str, Any] = raw.get("device_keys") or {}
        answered = set(devices) | set(raw.get("master_keys") or {})
        for user, identity in identities_in(raw, answered).items():
            self._signed[user] = {}
            if identity is None:
                continue
            self._new_masters[user] = identity.master_key
            self._masters[user] = identity.master_key
            for device_id, keys in (devices.get(user) or {}).items():
                ed25519 = (keys.get("keys") or {}).get(f"ed25519:{device_id}")
                if ed25519 and keys.get("device_id") == device_id and identity.signed(keys):
                    self._signed[user][device_id] = ed25519

    def take_master_keys(self) -> dict[str, str]:
        """Master keys learned since the last call, by user, for the identity registry."""
        learned, self._new_masters = self._new_masters, {}
        return learned

    def vouching_master(self, room: nio.MatrixRoom, event: nio.Event) -> str | None:
        """The master key vouching for the device that sent a decrypted event: the device
        (found by its curve25519 key) is cross-signed by its owner's self-signing key,
        which that master key signed, and the megolm session, received first-hand, claims
        the device's ed25519 key. None when any link is missing."""
        sender_key = getattr(event, "sender_key", None)
        session_id = getattr(event, "session_id", None)
        olm = self._client.olm
        if not getattr(event, "decrypted", False) or not sender_key or olm is None:
            return None
        devices = self._client.device_store.active_user_devices(event.sender)
        device = next((d for d in devices if d.curve25519 == sender_key), None)
        session = olm.inbound_group_store.get(room.room_id, sender_key, session_id)
        if device is None or session is None or session.forwarding_chain:
            return None
        if session.ed25519 != device.ed25519 or not self.cross_signed(device):
            return None
        return self._masters.get(event.sender)

    def cross_signed(self, device: OlmDevice) -> bool:
        return bool(self._signed.get(device.user_id, {}).get(device.id) == device.ed25519)

    def allows(self, device: OlmDevice) -> bool:
        return self.policy == "tofu" or self.cross_signed(device)

    # --- before sending -------------------------------------------------------------------

    async def prepare(self, room_id: str) -> None:
        """Know every member's devices and identity, and write the policy into nio."""
        room = self._client.rooms[room_id]
        if not room.members_synced:
            await self._client.joined_members(room_id)
        members = set(room.users)
        # Changed device lists are the sync loop's to query: a send never waits on them.
        await self.query(members - self._queried)
        self.apply(members)
        await self._olm_sessions(room_id)

    async def _olm_sessions(self, room_id: str) -> None:
        """Sessions with the room's devices, made before nio shares the room key. Sends to
        many rooms go out at once, and each room's sharing would claim a one-time key of
        every device it has no session with: fifty rooms with one neighbor in each, fifty
        of that neighbor's keys, until the device runs out and cannot read the next room.
        Here each device's key is claimed once; the other rooms wait for that claim."""
        olm = self._client.olm
        if olm is None or not olm.should_share_group_session(room_id):
            return
        missing = self._client.get_missing_sessions(room_id)
        devices = [(user, device) for user, ids in missing.items() for device in ids]
        mine = [d for d in devices if d not in self._claiming]
        if mine:
            claim = asyncio.ensure_future(self._claim(mine))
            self._claiming.update((device, claim) for device in mine)
        claims = {self._claiming[d] for d in devices if d in self._claiming}
        await asyncio.gather(*claims, return_exceptions=True)

    async def _claim(self, devices: list[tuple[str, str]]) -> None:
        wanted: dict[str, list[str]] = {}
        for user, device_id in devices:
            wanted.setdefault(user, []).append(device_id)
        try:
            await self._client.keys_claim(wanted)
        finally:
            for device in devices:
                self._claiming.pop(device, None)

    def apply(self, users: Iterable[str]) -> None:
        own = (self._client.user_id, self._client.device_id)
        for user in users:
            for device in self._client.device_store.active_user_devices(user):
                if (device.user_id, device.id) != own:
                    self._apply_to(device)

    def _apply_to(self, device: OlmDevice) -> None:
        state = device.trust_state
        if self.cross_signed(device):
            if state != TrustState.verified:
                self._client.verify_device(device)
        elif self.policy == "cross-signed-only":
            if state != TrustState.blacklisted:
                self._client.blacklist_device(device)
        elif state == TrustState.verified:
            self._client.unverify_device(device)
        elif state == TrustState.blacklisted:
            self._client.unblacklist_device(device)

    def remember_shared(self, room_id: str) -> None:
        """Note which devices the room's current megolm session went to."""
        session = self._client.olm.outbound_group_sessions.get(room_id)
        if session is None or session.id in self._shared:
            return
        # The set itself: nio adds to it when it shares the session with more devices.
        self._shared[session.id] = session.users_shared_with
        while len(self._shared) > REMEMBERED_SESSIONS:
            self._shared.popitem(last=False)

    # --- key requests from other users ---------------------------------------------------

    async def answer_key_requests(self, to_device_events: Iterable[Any]) -> None:
        for event in to_device_events:
            if isinstance(event, nio.RoomKeyRequest) and event.sender != self._client.user_id:
                await self._answer(event)

    async def _answer(self, request: nio.RoomKeyRequest) -> None:
        refusal = self._refusal(request)
        if refusal is not None:
            log.info("refused a room key request: %s", refusal)
            return
        olm = self._client.olm
        device = self._client.device_store[request.sender][request.requesting_device_id]
        session = olm.session_store.get(device.curve25519)
        if session is None:
            await self._client.keys_claim({device.user_id: [device.id]})
            session = olm.session_store.get(device.curve25519)
        if session is None:
            log.info("refused a room key request: no olm session with the device")
            return
        group = olm.inbound_group_store.get(request.room_id, request.sender_key, request.session_id)
        # nio's own forwarding format (m.forwarded_room_key, olm-encrypted to that device).
        message = olm._encrypt_forwarding_key(request.room_id, group, session, device)
        olm.outgoing_to_device_messages.append(message)
        log.info("answered a room key request")

    def _refusal(self, request: nio.RoomKeyRequest) -> str | None:
        """Why the request is refused, or None to answer it."""
        olm = self._client.olm
        if request.algorithm != MEGOLM:
            return "unknown algorithm"
        # Only sessions the bot made: it never passes on what others sent it.
        if request.sender_key != olm.account.identity_keys["curve25519"]:
            return "not one of the bot's sessions"
        group = olm.inbound_group_store.get(request.room_id, request.sender_key, request.session_id)
        if group is None:
            return "unknown session"
        device = self._client.device_store[request.sender].get(request.requesting_device_id)
        if device is None or device.deleted:
            return "unknown device"
        if not self.allows(device):
            return f"device not trusted under the {self.policy} policy"
        # Never more than the device had: only sessions that went to it in the first place.
        if (request.sender, device.id) not in self._shared.get(request.session_id, ()):
            return "that session was never shared with the device"
        room = self._client.rooms.get(request.room_id)
        if room is None or request.sender not in room.users or request.sender in room.invited_users:
            return "not a member of the room"
        return None
