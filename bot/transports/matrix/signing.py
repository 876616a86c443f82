"""Canonical JSON and ed25519 signatures, as the Matrix specification defines them.

Canonical JSON: UTF-8, no insignificant whitespace, object keys sorted by code point,
integers only (in the interoperable range -(2**53)+1 .. (2**53)-1), the shortest escapes.
A signature covers the canonical JSON of the object without its `signatures` and
`unsigned` members, and is unpadded standard base64.
"""

from __future__ import annotations

import base64
import binascii
import json
from collections.abc import Mapping
from typing import Any

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

MAX_SAFE_INTEGER = 2**53 - 1


class CanonicalJsonError(ValueError):
    """The value has no canonical JSON form (a float, a huge integer, a non-string key...)."""


def encode_base64(data: bytes) -> str:
    """Unpadded standard base64, as Matrix writes keys and signatures."""
    return base64.b64encode(data).decode("ascii").rstrip("=")


def decode_base64(text: str) -> bytes:
    """Accepts padded or unpadded, standard or URL-safe base64; ValueError otherwise."""
    padded = text + "=" * (-len(text) % 4)
    try:
        return base64.b64decode(padded.replace("-", "+").replace("_", "/"), validate=True)
    except binascii.Error as error:
        raise ValueError("not base64") from error


def canonical_json(value: Any) -> bytes:
    return json.dumps(
        _normalized(value),
        ensure_ascii=False,
        allow_nan=False,
        separators=(",", ":"),
        sort_keys=True,
    ).encode("utf-8")


def _normalized(value: Any) -> Any:
    """`value` with integral floats (as JSON parsers read `1e10` or `-0.0`) as integers."""
    if isinstance(value, bool) or value is None or isinstance(value, str):
        return value
    if isinstance(value, float):
        if not value.is_integer():
            raise CanonicalJsonError(f"not an integer: {value}")
        value = int(value)
    if isinstance(value, int):
        if abs(value) > MAX_SAFE_INTEGER:
            raise CanonicalJsonError(f"integer out of range: {value}")
        return value
    if isinstance(value, Mapping):
        if not all(isinstance(key, str) for key in value):
            raise CanonicalJsonError("object keys must be strings")
        return {key: _normalized(item) for key, item in value.items()}
    if isinstance(value, list | tuple):
        return [_normalized(item) for item in value]
    raise CanonicalJsonError(f"no canonical JSON for {type(value).__name__}")


def signable(obj: Mapping[str, Any]) -> bytes:
    """The bytes a signature of `obj` covers."""
    return canonical_json({k: v for k, v in obj.items() if k not in ("signatures", "unsigned")})


def public_key_of(private: Ed25519PrivateKey) -> str:
    raw = private.public_key().public_bytes(Encoding.Raw, PublicFormat.Raw)
    return encode_base64(raw)


def sign_json(
    obj: Mapping[str, Any], signer: str, key_id: str, private: Ed25519PrivateKey
) -> dict[str, Any]:
    """A copy of `obj` with one more signature, by `signer` under `ed25519:<key_id>`."""
    signature = encode_base64(private.sign(signable(obj)))
    signed = dict(obj)
    signatures = {name: dict(keys) for name, keys in (obj.get("signatures") or {}).items()}
    signatures.setdefault(signer, {})[f"ed25519:{key_id}"] = signature
    signed["signatures"] = signatures
    return signed


def verify_json(obj: Mapping[str, Any], signer: str, key_id: str, public_key: str) -> bool:
    """Whether `obj` carries a valid signature by `signer` with the ed25519 key given."""
    try:
        signature = obj["signatures"][signer][f"ed25519:{key_id}"]
        key = Ed25519PublicKey.from_public_bytes(decode_base64(public_key))
        key.verify(decode_base64(signature), signable(obj))
    except (KeyError, TypeError, ValueError, InvalidSignature):
        # ValueError covers bad base64, a key of the wrong length and CanonicalJsonError.
        return False
    return True
