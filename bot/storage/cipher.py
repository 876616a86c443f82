"""Field encryption and pseudonymous ids, both keyed by the data key."""

from __future__ import annotations

import hmac
import json
import os
from typing import Any

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from bot.storage.keys import DataKey

_VERSION = b"\x01"
_NONCE_BYTES = 12
_TAG_BYTES = 16


class DecryptionError(Exception):
    """A blob could not be authenticated: wrong key, wrong context, or tampered/corrupt data."""


class FieldCipher:
    """AES-GCM for stored fields, HMAC-SHA256 for ids that must be comparable but not readable."""

    def __init__(self, key: DataKey) -> None:
        self._aead = AESGCM(key.field_encryption_key())
        # Keyed once: each hash copies it (a fresh HMAC costs twice as much, and a command
        # makes several).
        self._keyed = hmac.new(key.keyed_hash_key(), digestmod="sha256")

    def encrypt(self, plaintext: str, context: str) -> bytes:
        """`context` (e.g. "reports.fields") is bound to the blob: it only decrypts there."""
        nonce = os.urandom(_NONCE_BYTES)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), _aad(context))
        return _VERSION + nonce + sealed

    def decrypt(self, blob: bytes, context: str) -> str:
        if len(blob) < 1 + _NONCE_BYTES + _TAG_BYTES or blob[:1] != _VERSION:
            raise DecryptionError(f"not a recognised encrypted value for {context!r}")
        nonce, sealed = blob[1 : 1 + _NONCE_BYTES], blob[1 + _NONCE_BYTES :]
        try:
            plaintext = self._aead.decrypt(nonce, sealed, _aad(context))
        except InvalidTag:
            raise DecryptionError(
                f"cannot decrypt value for {context!r}: wrong data key, "
                "value moved from another context, or tampered data"
            ) from None
        return plaintext.decode("utf-8")

    def encrypt_json(self, obj: Any, context: str) -> bytes:
        return self.encrypt(json.dumps(obj, ensure_ascii=False, separators=(",", ":")), context)

    def decrypt_json(self, blob: bytes, context: str) -> Any:
        return json.loads(self.decrypt(blob, context))

    def keyed_hash(self, value: str, purpose: str) -> str:
        """Stable pseudonym for `value`: equal inputs give equal ids, unlinkable across purposes."""
        if "\0" in purpose:
            raise ValueError("purpose must not contain NUL: it separates purpose from value")
        keyed = self._keyed.copy()
        keyed.update(f"{purpose}\0{value}".encode())
        return keyed.hexdigest()


def _aad(context: str) -> bytes:
    # The version byte is authenticated too, so it cannot be swapped to downgrade the format.
    return _VERSION + context.encode("utf-8")
