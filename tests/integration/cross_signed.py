"""Cross-signing for the nio test users, with the bot's own implementation, and spies."""

from __future__ import annotations

import uuid
from typing import Any

from integration.matrix_clients import UserClient
from nio import ToDeviceError, ToDeviceMessage

from bot.transports.matrix.cross_signing import (
    CrossSigningKeys,
    UserIdentity,
    ensure_cross_signing,
    parse_identity,
    query_keys,
)


class MemoryVault:
    """Where a test user's cross-signing keys live: nowhere but here."""

    def __init__(self) -> None:
        self.value: dict[str, str] | None = None

    async def load(self) -> dict[str, str] | None:
        return self.value

    async def save(self, value: dict[str, str]) -> None:
        self.value = value


async def cross_sign(user: UserClient) -> CrossSigningKeys:
    """New cross-signing keys for the user (replacing any), and their device signed."""
    return await ensure_cross_signing(user.client, MemoryVault(), user.user.password)


async def identity_of(client: UserClient, user_id: str) -> tuple[UserIdentity | None, Any]:
    """(identity, raw /keys/query answer) for `user_id`, as the server has it now."""
    raw = await query_keys(client.client, [user_id])
    masters = raw.get("master_keys") or {}
    self_signing = raw.get("self_signing_keys") or {}
    return parse_identity(user_id, masters.get(user_id), self_signing.get(user_id)), raw


def spy_forwarded_keys(user: UserClient) -> list[dict[str, Any]]:
    """Record every m.forwarded_room_key the user's device receives (nio drops those from
    other users, so they are caught as they are decrypted)."""
    received: list[dict[str, Any]] = []
    olm = user.client.olm
    original = olm._handle_olm_event

    def spy(sender: str, sender_key: str, payload: dict[str, Any]) -> Any:
        if payload.get("type") == "m.forwarded_room_key":
            received.append({"sender": sender, **payload["content"]})
        return original(sender, sender_key, payload)

    olm._handle_olm_event = spy
    return received


async def request_room_key(
    user: UserClient, to_user: str, to_device: str, room_id: str, session_id: str, sender_key: str
) -> None:
    """An m.room_key_request from the user's device to one device of another user."""
    content = {
        "action": "request",
        "body": {
            "algorithm": "m.megolm.v1.aes-sha2",
            "room_id": room_id,
            "session_id": session_id,
            "sender_key": sender_key,
        },
        "request_id": uuid.uuid4().hex,
        "requesting_device_id": user.client.device_id,
    }
    message = ToDeviceMessage("m.room_key_request", to_user, to_device, content)
    response = await user.client.to_device(message)
    assert not isinstance(response, ToDeviceError), response
