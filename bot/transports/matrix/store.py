"""nio's crypto store, encrypted as a whole, with device trust kept in memory.

nio keeps its olm/megolm state in SQLite (through peewee). Its secrets are pickled with a
key, but the rest is plain: the Matrix ids of everyone in the bot's rooms, their devices,
the rooms. A seized data directory must not list who belongs to a network, so the whole
database runs on SQLCipher (`playhouse.sqlcipher_ext`, the same peewee API), keyed from
the data key; its journal is encrypted as well. A store written in the clear by an older
release is encrypted in place on first start (`encrypt_in_place`).

nio's default store also writes verified/blacklisted/ignored devices, user ids included, to
unencrypted text files beside the database. Vecinos derives every device's trust from
cross-signing (see `trust.py`) after each key query, so those stay in memory.
"""

from __future__ import annotations

import hashlib
import logging
import os
from pathlib import Path

import sqlcipher3
from nio.store import DefaultStore, MatrixStore
from nio.store.file_trustdb import KeyStore
from playhouse.sqlcipher_ext import SqlCipherDatabase

log = logging.getLogger(__name__)

PLAIN_SQLITE = b"SQLite format 3\x00"


def store_key(pickle_key: str) -> str:
    """The store's raw SQLCipher key, derived from nio's pickle key (itself from the data
    key): 256 random-looking bits, so no slow passphrase derivation is needed."""
    digest = hashlib.sha256(f"vecinos crypto store:{pickle_key}".encode()).hexdigest()
    return f"x'{digest}'"


class _MemoryKeyStore(KeyStore):  # type: ignore[misc]  # nio has no type hints
    def __init__(self) -> None:
        super().__init__("")

    def _load(self, filename: str) -> None:
        """Nothing is read: trust starts empty and is derived again after each start."""

    def _save(self) -> None:
        """Nothing is written."""


class EncryptedStore(DefaultStore):  # type: ignore[misc]  # nio has no type hints
    def _create_database(self) -> SqlCipherDatabase:
        return SqlCipherDatabase(
            self.database_path,
            passphrase=store_key(self.pickle_key),
            pragmas={
                "foreign_keys": 1,
                "secure_delete": 1,
                # Fewer flushes: a commit is a WAL append (encrypted as well), flushed at
                # checkpoints. A crash loses nothing; a power cut may lose the last commits,
                # that is room keys made moments before, which are then asked for again.
                "journal_mode": "wal",
                "synchronous": "normal",
            },
        )

    def __post_init__(self) -> None:
        MatrixStore.__post_init__(self)
        self.trust_db = _MemoryKeyStore()
        self.blacklist_db = _MemoryKeyStore()
        self.ignore_db = _MemoryKeyStore()


def encrypt_in_place(path: Path, pickle_key: str) -> bool:
    """Encrypt a plaintext store (an older release's) at `path`; whether it did.

    The encrypted copy is written beside it, flushed, and renamed over it: a crash before
    the rename leaves the plaintext store working (and the copy is made again next time),
    after it the encrypted one. The plaintext journal, if any, goes too.
    """
    if not _is_plain_sqlite(path):
        return False
    copy = path.with_name(f"{path.name}.encrypting")
    copy.unlink(missing_ok=True)
    connection = sqlcipher3.connect(str(path))
    try:
        quoted = str(copy).replace("'", "''")
        connection.execute(
            f"ATTACH DATABASE '{quoted}' AS encrypted KEY \"{store_key(pickle_key)}\""
        )
        connection.execute("SELECT sqlcipher_export('encrypted')")
        connection.execute("DETACH DATABASE encrypted")
    finally:
        connection.close()
    _flush(copy)
    os.replace(copy, path)
    _flush(path.parent)
    path.with_name(f"{path.name}-journal").unlink(missing_ok=True)
    log.info("encrypted the Matrix encryption store in place")
    return True


def _is_plain_sqlite(path: Path) -> bool:
    """Whether the file starts with SQLite's clear header (read at every start: 16 bytes)."""
    try:
        with path.open("rb") as handle:
            return handle.read(len(PLAIN_SQLITE)) == PLAIN_SQLITE
    except FileNotFoundError:
        return False


def _flush(path: Path) -> None:
    """fsync a file or directory, so a rename after it never exposes a half-written file."""
    fd = os.open(path, os.O_RDONLY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)
