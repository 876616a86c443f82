"""Logging in once and coming back as the same device, with encryption always on.

The access token and device id are kept encrypted in the database; the olm/megolm state lives
in nio's crypto store next to it, pickled with a key derived from the data key. A missing
store or a device that does not match is an error: silently creating a new device would
make the bot unable to read rooms, and running without the store would send plaintext.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from pathlib import Path
from typing import Protocol

import nio

from bot.core.config import MatrixSection
from bot.transports.matrix.store import EncryptedStore, encrypt_in_place

log = logging.getLogger(__name__)

CRYPTO_STORE = "crypto.db"


class SessionError(Exception):
    """The bot cannot come back as its device; the message says what to do."""


class SessionStore(Protocol):
    async def load(self) -> dict[str, str] | None: ...

    async def save(self, session: dict[str, str]) -> None: ...


@dataclass(frozen=True)
class MatrixSession:
    user_id: str
    device_id: str
    access_token: str = field(repr=False)

    def as_dict(self) -> dict[str, str]:
        return {
            "user_id": self.user_id,
            "device_id": self.device_id,
            "access_token": self.access_token,
        }


def client_config(pickle_key: str) -> nio.AsyncClientConfig:
    return nio.AsyncClientConfig(
        encryption_enabled=True,
        # Vecinos saves the sync token itself, after events are handled.
        store_sync_tokens=False,
        store_name=CRYPTO_STORE,
        # Device trust is derived from cross-signing, never written out in plaintext.
        store=EncryptedStore,
        pickle_key=pickle_key,
        # Honour every 429 (retry_after_ms) rather than giving up on a message.
        max_limit_exceeded=None,
        max_timeouts=None,
        request_timeout=60,
    )


async def open_client(
    matrix: MatrixSection, store_dir: Path, sessions: SessionStore, pickle_key: str
) -> nio.AsyncClient:
    """A logged-in client whose encryption store is loaded, or SessionError."""
    store_dir.mkdir(parents=True, exist_ok=True, mode=0o700)
    client = nio.AsyncClient(
        str(matrix.homeserver).rstrip("/"),
        matrix.user_id,
        store_path=str(store_dir),
        config=client_config(pickle_key),
    )
    try:
        stored = await sessions.load()
        if stored is None:
            await _first_login(client, matrix, store_dir, sessions)
        else:
            await _restore(client, matrix, store_dir, MatrixSession(**stored), pickle_key)
        if client.olm is None:
            raise SessionError("the encryption store did not load; refusing to run unencrypted")
    except BaseException:
        await client.close()
        raise
    return client


async def _restore(
    client: nio.AsyncClient,
    matrix: MatrixSection,
    store_dir: Path,
    session: MatrixSession,
    pickle_key: str,
) -> None:
    if session.user_id != matrix.user_id:
        raise SessionError(
            f"the data directory belongs to {session.user_id}, not {matrix.user_id}; "
            "use another data_dir"
        )
    if matrix.device_id and matrix.device_id != session.device_id:
        raise SessionError(
            f"matrix.device_id is {matrix.device_id} but this data directory is device "
            f"{session.device_id}; fix the config rather than creating a new device"
        )
    if not (store_dir / CRYPTO_STORE).exists():
        raise SessionError(
            f"the encryption store {store_dir / CRYPTO_STORE} is missing; restore it from "
            "backup (the bot will not run without it)"
        )
    encrypt_in_place(store_dir / CRYPTO_STORE, pickle_key)  # one written by an older release
    client.restore_login(session.user_id, session.device_id, session.access_token)
    whoami = await client.whoami()
    if isinstance(whoami, nio.WhoamiError):
        raise SessionError(f"the homeserver rejected the stored login: {whoami.message}")
    if whoami.device_id and whoami.device_id != session.device_id:
        raise SessionError(
            f"the stored access token belongs to device {whoami.device_id}, not {session.device_id}"
        )
    log.info("restored Matrix session for device %s", session.device_id)


async def _first_login(
    client: nio.AsyncClient, matrix: MatrixSection, store_dir: Path, sessions: SessionStore
) -> None:
    if (store_dir / CRYPTO_STORE).exists():
        raise SessionError(
            f"{store_dir / CRYPTO_STORE} exists but no login is stored with it; "
            "move it away deliberately to start a new device"
        )
    if matrix.device_id:
        raise SessionError(
            f"matrix.device_id {matrix.device_id} is set but this data directory has no "
            "encryption store for it; remove device_id to log in as a new device"
        )
    session = await _login(client, matrix)
    await sessions.save(session.as_dict())
    log.info("logged in as new device %s", session.device_id)


async def _login(client: nio.AsyncClient, matrix: MatrixSection) -> MatrixSession:
    token = matrix.access_token_value()
    if token is not None:
        # A token made for the bot (e.g. by an admin) for a device that has no keys yet.
        client.access_token = token
        whoami = await client.whoami()
        if isinstance(whoami, nio.WhoamiError) or not whoami.device_id:
            raise SessionError("matrix.access_token was rejected or has no device")
        client.restore_login(matrix.user_id, whoami.device_id, token)
        return MatrixSession(matrix.user_id, whoami.device_id, token)
    password = matrix.password_value()
    if password is None:
        raise SessionError("no stored login, and neither matrix.password nor access_token")
    response = await client.login(password, device_name=matrix.device_name)
    if isinstance(response, nio.LoginError):
        raise SessionError(f"login failed: {response.message}")
    return MatrixSession(response.user_id, response.device_id, response.access_token)
