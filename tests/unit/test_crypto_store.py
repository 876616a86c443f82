"""nio's crypto store on SQLCipher: nothing readable without the data key, and a plaintext
store from an older release encrypted in place, once, safely."""

from __future__ import annotations

from pathlib import Path

import peewee
import pytest
import sqlcipher3
from nio.crypto import OlmAccount, OlmDevice
from nio.store import DefaultStore

from bot.transports.matrix.store import EncryptedStore, encrypt_in_place

BOT, DEVICE, ANA = "@vecinos:example.org", "BOTDEVICE", "@ana:example.org"
PICKLE_KEY = "a pickle key derived from the data key"
SECRETS = (BOT.encode(), DEVICE.encode(), ANA.encode(), b"ANADEVICE", b"!room:example.org")


def fill(store: DefaultStore) -> OlmAccount:
    """What a running bot keeps: its account, a member's device, an encrypted room."""
    account = OlmAccount()
    store.save_account(account)
    device = OlmDevice(ANA, "ANADEVICE", {"ed25519": "edkey", "curve25519": "cvkey"})
    store.save_device_keys({ANA: {"ANADEVICE": device}})
    store.save_encrypted_rooms(["!room:example.org"])
    return account


def on_disk(directory: Path) -> bytes:
    return b"".join(path.read_bytes() for path in directory.iterdir() if path.is_file())


def test_a_new_store_shows_no_member_device_or_room(tmp_path: Path) -> None:
    account = fill(EncryptedStore(BOT, DEVICE, str(tmp_path), PICKLE_KEY, "crypto.db"))
    raw = on_disk(tmp_path)
    assert not [secret for secret in SECRETS if secret in raw]
    again = EncryptedStore(BOT, DEVICE, str(tmp_path), PICKLE_KEY, "crypto.db")
    assert again.load_account().identity_keys == account.identity_keys
    assert "ANADEVICE" in again.load_device_keys()[ANA]
    # Another key reads nothing (SQLCipher's failed page check surfaces as one of these).
    with pytest.raises((sqlcipher3.DatabaseError, peewee.DatabaseError, MemoryError)):
        EncryptedStore(BOT, DEVICE, str(tmp_path), "another key", "crypto.db")


def test_an_older_plaintext_store_is_encrypted_in_place_once(tmp_path: Path) -> None:
    # As the previous release wrote it: nio's SQLite store in the clear.
    account = fill(DefaultStore(BOT, DEVICE, str(tmp_path), PICKLE_KEY, "crypto.db"))
    store = tmp_path / "crypto.db"
    assert ANA.encode() in store.read_bytes()

    assert encrypt_in_place(store, PICKLE_KEY)
    assert not [secret for secret in SECRETS if secret in store.read_bytes()]
    assert sorted(
        p.name for p in tmp_path.iterdir() if p.suffix == ".db" or "crypto" in p.name
    ) == ["crypto.db"]
    assert not encrypt_in_place(store, PICKLE_KEY)  # once
    opened = EncryptedStore(BOT, DEVICE, str(tmp_path), PICKLE_KEY, "crypto.db")
    assert opened.load_account().identity_keys == account.identity_keys
    assert opened.load_encrypted_rooms() == {"!room:example.org"}


def test_a_crash_halfway_leaves_a_working_store_and_the_next_start_finishes(
    tmp_path: Path,
) -> None:
    account = fill(DefaultStore(BOT, DEVICE, str(tmp_path), PICKLE_KEY, "crypto.db"))
    store = tmp_path / "crypto.db"
    # Killed while writing the encrypted copy: the copy is half there, the store untouched.
    (tmp_path / "crypto.db.encrypting").write_bytes(b"half a database")
    plain = DefaultStore(BOT, DEVICE, str(tmp_path), PICKLE_KEY, "crypto.db")
    assert plain.load_account().identity_keys == account.identity_keys

    assert encrypt_in_place(store, PICKLE_KEY)
    assert not (tmp_path / "crypto.db.encrypting").exists()
    opened = EncryptedStore(BOT, DEVICE, str(tmp_path), PICKLE_KEY, "crypto.db")
    assert opened.load_account().identity_keys == account.identity_keys
