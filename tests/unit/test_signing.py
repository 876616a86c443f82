"""Canonical JSON and signatures against the Matrix specification's known vectors.

Vectors: the spec's appendix ("Canonical JSON" examples, "Signing JSON" with the key whose
seed is YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1). Synapse's own libraries
(`canonicaljson`, `signedjson`, installed with it) serve as a second implementation to
compare against on generated data; the bot itself never imports them.
"""

from __future__ import annotations

import json
from typing import Any

import canonicaljson
import pytest
import signedjson.key
import signedjson.sign
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey
from hypothesis import given
from hypothesis import strategies as st

from bot.transports.matrix.signing import (
    CanonicalJsonError,
    canonical_json,
    decode_base64,
    encode_base64,
    public_key_of,
    sign_json,
    verify_json,
)

# The signing key of the Matrix spec's test vectors (its appendix, "Signing JSON").
MATRIX_SPEC_SEED = "YJDBA9Xnr2sVqXD9Vj7XVUnmFZcZrlw8Md7kMW+3XA1"
MATRIX_SPEC_KEY = Ed25519PrivateKey.from_private_bytes(decode_base64(MATRIX_SPEC_SEED))

# (input as JSON text, canonical form) from the spec's appendix.
CANONICAL_VECTORS = [
    ("{}", "{}"),
    ('{"one": 1, "two": "Two"}', '{"one":1,"two":"Two"}'),
    ('{"b": "2", "a": "1"}', '{"a":"1","b":"2"}'),
    ('{"b":"2","a":"1"}', '{"a":"1","b":"2"}'),
    (
        """{
            "auth": {
                "success": true,
                "mxid": "@john.doe:example.com",
                "profile": {
                    "display_name": "John Doe",
                    "three_pids": [
                        {"medium": "email", "address": "john.doe@example.org"},
                        {"medium": "msisdn", "address": "123456789"}
                    ]
                }
            }
        }""",
        '{"auth":{"mxid":"@john.doe:example.com","profile":{"display_name":"John Doe",'
        '"three_pids":[{"address":"john.doe@example.org","medium":"email"},'
        '{"address":"123456789","medium":"msisdn"}]},"success":true}}',
    ),
    ('{"a": "日本語"}', '{"a":"日本語"}'),
    ('{"本": 2, "日": 1}', '{"日":1,"本":2}'),
    ('{"a": "\\u65E5"}', '{"a":"日"}'),
    ('{"a": null}', '{"a":null}'),
    ('{"a": -0, "b": 1e10}', '{"a":0,"b":10000000000}'),
]


@pytest.mark.parametrize(("source", "expected"), CANONICAL_VECTORS)
def test_canonical_json_matches_the_spec_examples(source: str, expected: str) -> None:
    assert canonical_json(json.loads(source)) == expected.encode("utf-8")


def test_control_characters_use_the_shortest_escapes() -> None:
    text = canonical_json({"a": '\x00\x1f\b\t\n\f\r"\\/\u2028é'})
    assert text == '{"a":"\\u0000\\u001f\\b\\t\\n\\f\\r\\"\\\\/\u2028é"}'.encode()


@pytest.mark.parametrize(
    "value", [{"a": 1.5}, {"a": 2**53}, {"a": -(2**53)}, {1: "x"}, {"a": float("nan")}, {"a": {1}}]
)
def test_values_without_a_canonical_form_are_refused(value: Any) -> None:
    with pytest.raises(CanonicalJsonError):
        canonical_json(value)


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers(min_value=-(2**53) + 1, max_value=2**53 - 1)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=8), children, max_size=4)
    ),
    max_leaves=20,
)


@given(JSON_VALUES)
def test_canonical_json_agrees_with_synapses_canonicaljson(value: Any) -> None:
    assert canonical_json(value) == canonicaljson.encode_canonical_json(value)


def test_signing_matches_the_spec_vectors() -> None:
    empty = sign_json({}, "domain", "1", MATRIX_SPEC_KEY)
    assert empty == {
        "signatures": {
            "domain": {
                "ed25519:1": "K8280/U9SSy9IVtjBuVeLr+HpOB4BQFWbg+UZaADMtTdGYI7Geitb76LTrr5QV"
                "/7Xg4ahLwYGYZzuHGZKM5ZAQ"
            }
        }
    }
    data = sign_json({"one": 1, "two": "Two"}, "domain", "1", MATRIX_SPEC_KEY)
    assert data["signatures"]["domain"]["ed25519:1"] == (
        "KqmLSbO39/Bzb0QIYE82zqLwsA+PDzYIpIRA2sRQ4sL53+sN6/fpNSoqE7BP7vBZhG6kYdD13EIMJpvhJI+6Bw"
    )
    assert data["one"] == 1 and data["two"] == "Two"


def test_public_key_matches_signedjson() -> None:
    theirs = signedjson.key.decode_signing_key_base64("ed25519", "1", MATRIX_SPEC_SEED)
    assert public_key_of(MATRIX_SPEC_KEY) == signedjson.key.encode_verify_key_base64(
        theirs.verify_key
    )


def test_signatures_and_unsigned_are_not_signed_and_other_signatures_are_kept() -> None:
    obj = {"a": 1, "unsigned": {"age": 5}, "signatures": {"other": {"ed25519:x": "sig"}}}
    signed = sign_json(obj, "@me:example.org", "KEY", MATRIX_SPEC_KEY)
    assert signed["signatures"]["other"] == {"ed25519:x": "sig"}
    assert signed["unsigned"] == {"age": 5}
    changed_unsigned = {**signed, "unsigned": {"age": 999}}
    assert verify_json(changed_unsigned, "@me:example.org", "KEY", public_key_of(MATRIX_SPEC_KEY))
    assert obj["signatures"] == {"other": {"ed25519:x": "sig"}}, "the input is not changed"


def test_verify_rejects_tampering_wrong_keys_and_garbage() -> None:
    public = public_key_of(MATRIX_SPEC_KEY)
    signed = sign_json({"a": 1}, "@me:example.org", "K", MATRIX_SPEC_KEY)
    assert verify_json(signed, "@me:example.org", "K", public)
    assert not verify_json({**signed, "a": 2}, "@me:example.org", "K", public)
    assert not verify_json(signed, "@you:example.org", "K", public)
    assert not verify_json(signed, "@me:example.org", "other", public)
    other = public_key_of(Ed25519PrivateKey.generate())
    assert not verify_json(signed, "@me:example.org", "K", other)
    assert not verify_json(signed, "@me:example.org", "K", "not base64!")
    assert not verify_json({"signatures": "nonsense"}, "@me:example.org", "K", public)
    broken = {**signed, "signatures": {"@me:example.org": {"ed25519:K": "AAAA"}}}
    assert not verify_json(broken, "@me:example.org", "K", public)


@given(JSON_VALUES.filter(lambda v: isinstance(v, dict)))
def test_signatures_interoperate_with_synapses_signedjson(value: dict[str, Any]) -> None:
    value.pop("signatures", None)
    value.pop("unsigned", None)
    theirs = signedjson.key.decode_signing_key_base64("ed25519", "1", MATRIX_SPEC_SEED)
    ours = sign_json(value, "domain", "1", MATRIX_SPEC_KEY)
    signedjson.sign.verify_signed_json(ours, "domain", signedjson.key.get_verify_key(theirs))
    signed_by_them = signedjson.sign.sign_json(dict(value), "domain", theirs)
    assert verify_json(signed_by_them, "domain", "1", public_key_of(MATRIX_SPEC_KEY))


def test_base64_is_unpadded_and_decoding_accepts_both_forms() -> None:
    assert encode_base64(b"\x00") == "AA"
    assert decode_base64("AA") == decode_base64("AA==") == b"\x00"
    assert decode_base64("-_8") == decode_base64("+/8") == b"\xfb\xff"
    with pytest.raises(ValueError):
        decode_base64("!!!")
