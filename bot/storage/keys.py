"""The data key: the one secret from which every at-rest protection is derived.

Without it, a seized data directory yields ciphertext and pseudonymous hashes only.
"""

from __future__ import annotations

import base64
import binascii
import os
import secrets
import stat
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

KEY_BYTES = 32
ENV_VAR = "VECINOS_DATA_KEY"

# Separate subkeys so a weakness in one use (e.g. hashing) cannot touch the other.
_FIELD_ENCRYPTION_INFO = b"vecinos field encryption v1"
_KEYED_HASH_INFO = b"vecinos keyed hash v1"


class DataKeyError(Exception):
    """The data key is missing, malformed or stored unsafely. Never contains key material."""


@dataclass(frozen=True, repr=False)
class DataKey:
    """32 raw key bytes; repr and str never reveal them."""

    raw: bytes = field(repr=False)

    def __post_init__(self) -> None:
        if not isinstance(self.raw, bytes) or len(self.raw) != KEY_BYTES:
            raise DataKeyError(f"a data key must be exactly {KEY_BYTES} bytes")

    def __repr__(self) -> str:
        return "DataKey(<redacted>)"

    __str__ = __repr__

    @classmethod
    def generate(cls) -> DataKey:
        return cls(secrets.token_bytes(KEY_BYTES))

    @classmethod
    def from_text(cls, text: str) -> DataKey:
        """Parse urlsafe or standard base64 (padding optional) of exactly 32 bytes."""
        compact = "".join(text.split())
        standard = compact.replace("-", "+").replace("_", "/")
        padded = standard + "=" * (-len(standard) % 4)
        try:
            raw = base64.b64decode(padded, validate=True)
        except (binascii.Error, ValueError):
            # `from None`: the decoder's own error could quote part of the key.
            raise DataKeyError("the data key is not valid base64") from None
        if len(raw) != KEY_BYTES:
            raise DataKeyError(
                f"the data key must be base64 of {KEY_BYTES} random bytes, got {len(raw)} bytes"
            )
        return cls(raw)

    def to_text(self) -> str:
        return base64.urlsafe_b64encode(self.raw).decode("ascii")

    def field_encryption_key(self) -> bytes:
        return _derive(self.raw, _FIELD_ENCRYPTION_INFO)

    def keyed_hash_key(self) -> bytes:
        return _derive(self.raw, _KEYED_HASH_INFO)


def _derive(raw: bytes, info: bytes) -> bytes:
    return HKDF(algorithm=hashes.SHA256(), length=KEY_BYTES, salt=None, info=info).derive(raw)


def load_data_key(key_file: Path | None, env: Mapping[str, str] = os.environ) -> DataKey:
    """The key from $VECINOS_DATA_KEY if set, else from `key_file`."""
    if ENV_VAR in env:
        return _parse(env[ENV_VAR], source=f"${ENV_VAR}")
    if key_file is None:
        raise DataKeyError(_missing_message(None))
    return _parse(_read_private_file(key_file), source=f"key file {key_file}")


def _parse(text: str, source: str) -> DataKey:
    try:
        return DataKey.from_text(text)
    except DataKeyError as exc:
        raise DataKeyError(f"{source}: {exc}") from None


def _read_private_file(path: Path) -> str:
    try:
        fd = os.open(path, os.O_RDONLY)
    except FileNotFoundError:
        raise DataKeyError(_missing_message(path)) from None
    except OSError as exc:
        raise DataKeyError(f"cannot read key file {path}: {exc.strerror}") from None
    # fstat on the opened descriptor, so the checked file is the one we read.
    with os.fdopen(fd, "r", encoding="ascii", errors="replace") as handle:
        mode = stat.S_IMODE(os.fstat(handle.fileno()).st_mode)
        if mode & 0o077:
            raise DataKeyError(
                f"key file {path} is accessible by group or others (mode {mode:04o}); "
                f"restrict it with: chmod 600 {path}"
            )
        return handle.read()


def _missing_message(path: Path | None) -> str:
    where = f"key file {path} does not exist" if path else "no key file is configured"
    return (
        f"no data key: ${ENV_VAR} is not set and {where}. Set ${ENV_VAR} to the base64 "
        "key, or make a key file with `vecinos key new` (`vecinos init` sets up a new bot); "
        "a new key cannot read a data directory made with another one"
    )


def write_key_file(path: Path, key: DataKey) -> None:
    """Create `path` holding `key`, mode 0600 from the first instant; never overwrites."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise DataKeyError(f"refusing to overwrite existing key file {path}") from None
    try:
        with os.fdopen(fd, "w", encoding="ascii") as handle:
            handle.write(key.to_text() + "\n")
            handle.flush()
            os.fsync(handle.fileno())
    except BaseException:
        # A half-written key file would later fail to parse or, worse, be trusted.
        path.unlink(missing_ok=True)
        raise
