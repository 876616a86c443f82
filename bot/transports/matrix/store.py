"""nio's crypto store, with device trust kept in memory instead of plaintext files.

nio's default store writes verified/blacklisted/ignored devices, user ids included, to
unencrypted text files beside the database. Vecinos derives every device's trust from
cross-signing (see `trust.py`) after each key query, so there is nothing worth keeping
there across restarts, and nothing should be written in the clear.
"""

from __future__ import annotations

from nio.store import DefaultStore, MatrixStore
from nio.store.file_trustdb import KeyStore


class _MemoryKeyStore(KeyStore):  # type: ignore[misc]  # nio has no type hints
    def __init__(self) -> None:
        super().__init__("")

    def _load(self, filename: str) -> None:
        """Nothing is read: trust starts empty and is derived again after each start."""

    def _save(self) -> None:
        """Nothing is written."""


class MemoryTrustStore(DefaultStore):  # type: ignore[misc]  # nio has no type hints
    def __post_init__(self) -> None:
        MatrixStore.__post_init__(self)
        self.trust_db = _MemoryKeyStore()
        self.blacklist_db = _MemoryKeyStore()
        self.ignore_db = _MemoryKeyStore()
