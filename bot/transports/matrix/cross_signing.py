"""Cross-signing on top of matrix-nio, which has none.

The bot owns three ed25519 keys: master (its identity), self-signing (signs its devices) and
user-signing. They are made once, kept encrypted at rest through a `SessionStore`, uploaded
(`/keys/device_signing/upload`, with password auth when the server asks) and used to sign
the bot's current device (`/keys/signatures/upload`). Clients in Element's "exclude insecure
devices" mode (MSC4153) only talk to devices signed like this.

Other users' devices are checked the same way: signed by the owner's self-signing key,
itself signed by the owner's master key.
"""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import nio
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from cryptography.hazmat.primitives.serialization import Encoding, NoEncryption, PrivateFormat

from bot.transports.matrix.api import ApiError, call, call_ok
from bot.transports.matrix.session import SessionError, SessionStore
from bot.transports.matrix.signing import (
    decode_base64,
    encode_base64,
    public_key_of,
    sign_json,
    verify_json,
)

log = logging.getLogger(__name__)

ROLES = ("master", "self_signing", "user_signing")


class CrossSigningError(SessionError):
    """The bot could not set up its cross-signing identity; the message says why."""


@dataclass(frozen=True)
class CrossSigningKeys:
    master: Ed25519PrivateKey
    self_signing: Ed25519PrivateKey
    user_signing: Ed25519PrivateKey

    @classmethod
    def generate(cls) -> CrossSigningKeys:
        return cls(*(Ed25519PrivateKey.generate() for _ in ROLES))

    @classmethod
    def from_secret(cls, secret: Mapping[str, str]) -> CrossSigningKeys:
        seeds = [decode_base64(secret[role]) for role in ROLES]
        return cls(*(Ed25519PrivateKey.from_private_bytes(seed) for seed in seeds))

    def to_secret(self) -> dict[str, str]:
        return {role: encode_base64(_seed(getattr(self, role))) for role in ROLES}

    def public(self, role: str) -> str:
        return public_key_of(getattr(self, role))

    def upload_body(self, user_id: str) -> dict[str, Any]:
        """The three public keys; self-signing and user-signing signed by the master key."""
        master_public = self.public("master")
        body = {"master_key": _key_object(user_id, "master", master_public)}
        for role in ("self_signing", "user_signing"):
            unsigned = _key_object(user_id, role, self.public(role))
            body[f"{role}_key"] = sign_json(unsigned, user_id, master_public, self.master)
        return body

    def sign_device(self, device_keys: Mapping[str, Any]) -> dict[str, Any]:
        """`device_keys` (as `/keys/query` returns them) with only our self-signing signature."""
        bare = {k: v for k, v in device_keys.items() if k not in ("signatures", "unsigned")}
        user_id = str(device_keys["user_id"])
        return sign_json(bare, user_id, self.public("self_signing"), self.self_signing)


def _seed(key: Ed25519PrivateKey) -> bytes:
    return key.private_bytes(Encoding.Raw, PrivateFormat.Raw, NoEncryption())


def _key_object(user_id: str, role: str, public: str) -> dict[str, Any]:
    return {"user_id": user_id, "usage": [role], "keys": {f"ed25519:{public}": public}}


# --- other users' identities -------------------------------------------------------------


@dataclass(frozen=True)
class UserIdentity:
    """A user's cross-signing public keys, as far as they check out."""

    user_id: str
    master_key: str
    # None when missing or not signed by the master key: then no device counts as signed.
    self_signing_key: str | None

    def signed(self, device_keys: Mapping[str, Any]) -> bool:
        """Whether the device is cross-signed by its owner."""
        ssk = self.self_signing_key
        return (
            ssk is not None
            and device_keys.get("user_id") == self.user_id
            and verify_json(device_keys, self.user_id, ssk, ssk)
        )


def parse_identity(
    user_id: str, master: Mapping[str, Any] | None, self_signing: Mapping[str, Any] | None
) -> UserIdentity | None:
    master_key = _single_key(user_id, "master", master)
    if master_key is None:
        return None
    ssk = _single_key(user_id, "self_signing", self_signing)
    if ssk is not None and not verify_json(self_signing or {}, user_id, master_key, master_key):
        ssk = None
    return UserIdentity(user_id, master_key, ssk)


def _single_key(user_id: str, usage: str, obj: Mapping[str, Any] | None) -> str | None:
    if not obj or obj.get("user_id") != user_id or usage not in (obj.get("usage") or ()):
        return None
    keys = obj.get("keys")
    if not isinstance(keys, dict) or len(keys) != 1:
        return None
    ((key_id, public),) = keys.items()
    if not isinstance(public, str) or key_id != f"ed25519:{public}":
        return None
    return public


def identities_in(query: Mapping[str, Any], users: Iterable[str]) -> dict[str, UserIdentity | None]:
    """Every queried user's identity from a `/keys/query` answer (None: no cross-signing)."""
    masters = query.get("master_keys") or {}
    self_signing = query.get("self_signing_keys") or {}
    return {user: parse_identity(user, masters.get(user), self_signing.get(user)) for user in users}


async def query_keys(client: nio.AsyncClient, users: Iterable[str]) -> dict[str, Any]:
    """The raw `/keys/query` answer: device keys plus cross-signing keys (nio drops those)."""
    body: dict[str, Any] = {"device_keys": {user: [] for user in users}}
    return await call_ok(client, "keys query", "POST", "/keys/query", body)


# --- the bot's own identity --------------------------------------------------------------


async def ensure_cross_signing(
    client: nio.AsyncClient, vault: SessionStore, password: str | None
) -> CrossSigningKeys:
    """Make (first start only), upload if the server lacks them, sign this device if needed."""
    keys = await _load_or_create(vault)
    user_id, device_id = str(client.user_id), str(client.device_id)
    try:
        own = await query_keys(client, [user_id])
        if not _server_has(own, user_id, keys):
            replacing = user_id in (own.get("master_keys") or {})
            await _upload_keys(client, keys, password, replacing)
            own = await query_keys(client, [user_id])
        device = ((own.get("device_keys") or {}).get(user_id) or {}).get(device_id)
        if device is None:
            raise CrossSigningError("this device's keys are not on the server yet")
        identity = parse_identity(user_id, *_own_key_objects(own, user_id))
        if identity is None or not identity.signed(device):
            await _sign_device(client, keys, device)
    except ApiError as error:
        raise CrossSigningError(str(error)) from error
    return keys


async def _load_or_create(vault: SessionStore) -> CrossSigningKeys:
    stored = await vault.load()
    if stored is not None:
        try:
            return CrossSigningKeys.from_secret(stored)
        except (KeyError, ValueError) as error:
            raise CrossSigningError("the stored cross-signing keys are damaged") from error
    keys = CrossSigningKeys.generate()
    # Saved before the upload, so a crash in between re-uploads these rather than new ones.
    await vault.save(keys.to_secret())
    log.info("created the bot's cross-signing keys")
    return keys


def _own_key_objects(query: Mapping[str, Any], user_id: str) -> tuple[Any, Any]:
    return (
        (query.get("master_keys") or {}).get(user_id),
        (query.get("self_signing_keys") or {}).get(user_id),
    )


def _server_has(query: Mapping[str, Any], user_id: str, keys: CrossSigningKeys) -> bool:
    identity = parse_identity(user_id, *_own_key_objects(query, user_id))
    user_signing = (query.get("user_signing_keys") or {}).get(user_id)
    return (
        identity is not None
        and identity.master_key == keys.public("master")
        and identity.self_signing_key == keys.public("self_signing")
        and _single_key(user_id, "user_signing", user_signing) == keys.public("user_signing")
    )


async def _upload_keys(
    client: nio.AsyncClient, keys: CrossSigningKeys, password: str | None, replacing: bool
) -> None:
    if replacing:
        # E.g. a new data directory for an account that had a bot before it.
        log.warning("replacing the account's cross-signing keys: people will see a new identity")
    body = keys.upload_body(str(client.user_id))
    await with_password_auth(client, "/keys/device_signing/upload", body, password)
    log.info("uploaded the bot's cross-signing keys")


async def _sign_device(
    client: nio.AsyncClient, keys: CrossSigningKeys, device: Mapping[str, Any]
) -> None:
    signed = keys.sign_device(device)
    body = {signed["user_id"]: {signed["device_id"]: signed}}
    answer = await call_ok(client, "signature upload", "POST", "/keys/signatures/upload", body)
    if answer.get("failures"):
        raise CrossSigningError(f"the server refused the device signature: {answer['failures']}")
    log.info("cross-signed this device")


async def with_password_auth(
    client: nio.AsyncClient, path: str, body: dict[str, Any], password: str | None
) -> dict[str, Any]:
    """POST `body`, answering user-interactive auth with the password if the server asks."""
    status, answer = await call(client, "POST", path, body)
    if status == 401 and "flows" in answer:
        if password is None:
            raise CrossSigningError(
                "the homeserver wants the bot's password to upload its cross-signing keys; "
                "set matrix.password or matrix.password_file"
            )
        if not any(flow.get("stages") == ["m.login.password"] for flow in answer["flows"]):
            raise CrossSigningError("the homeserver offers no password auth for this request")
        auth = {
            "type": "m.login.password",
            "identifier": {"type": "m.id.user", "user": client.user_id},
            "password": password,
            "session": answer.get("session"),
        }
        status, answer = await call(client, "POST", path, {**body, "auth": auth})
    if status != 200:
        raise ApiError(path, status, answer)
    return answer
