import hashlib
import hmac

import pytest

from bot.storage.cipher import DecryptionError, FieldCipher
from bot.storage.keys import DataKey

SECRET = "18th & Ashland, plate ABC123 — ñandú 🚨"
CONTEXT = "reports.fields"


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(DataKey.generate())


def test_round_trip(cipher: FieldCipher) -> None:
    assert cipher.decrypt(cipher.encrypt(SECRET, CONTEXT), CONTEXT) == SECRET
    assert cipher.decrypt(cipher.encrypt("", CONTEXT), CONTEXT) == ""


def test_json_round_trip(cipher: FieldCipher) -> None:
    obj = {"where": SECRET, "count": 3, "tags": ["ice", None], "urgent": True}
    assert cipher.decrypt_json(cipher.encrypt_json(obj, CONTEXT), CONTEXT) == obj


def test_ciphertext_hides_plaintext_and_is_randomized(cipher: FieldCipher) -> None:
    first, second = cipher.encrypt(SECRET, CONTEXT), cipher.encrypt(SECRET, CONTEXT)
    assert first != second
    assert b"ABC123" not in first
    assert SECRET.encode() not in first
    assert first[0] == 1  # format version prefix


def test_same_key_in_a_new_cipher_decrypts() -> None:
    key = DataKey.generate()
    blob = FieldCipher(key).encrypt(SECRET, CONTEXT)
    assert FieldCipher(DataKey(key.raw)).decrypt(blob, CONTEXT) == SECRET


def test_wrong_key_fails(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(SECRET, CONTEXT)
    with pytest.raises(DecryptionError, match="wrong data key"):
        FieldCipher(DataKey.generate()).decrypt(blob, CONTEXT)


def test_wrong_context_fails(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(SECRET, CONTEXT)
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, "scheduled_jobs.payload")


@pytest.mark.parametrize("position", [0, 1, 12, 13, -1])
def test_tampering_any_byte_fails(cipher: FieldCipher, position: int) -> None:
    blob = bytearray(cipher.encrypt(SECRET, CONTEXT))
    blob[position] ^= 0x01
    with pytest.raises(DecryptionError):
        cipher.decrypt(bytes(blob), CONTEXT)


@pytest.mark.parametrize("blob", [b"", b"\x01", b"\x01" + bytes(27), b"plain text, not ours"])
def test_truncated_or_foreign_blobs_fail_cleanly(cipher: FieldCipher, blob: bytes) -> None:
    with pytest.raises(DecryptionError):
        cipher.decrypt(blob, CONTEXT)


def test_error_does_not_leak_plaintext(cipher: FieldCipher) -> None:
    blob = cipher.encrypt(SECRET, CONTEXT)
    with pytest.raises(DecryptionError) as excinfo:
        FieldCipher(DataKey.generate()).decrypt(blob, CONTEXT)
    assert "ABC123" not in str(excinfo.value)


def test_keyed_hash_is_stable_per_key_and_purpose() -> None:
    key = DataKey.generate()
    user = "@alice:example.org"
    person = FieldCipher(key).keyed_hash(user, "person")
    assert FieldCipher(DataKey(key.raw)).keyed_hash(user, "person") == person
    assert FieldCipher(key).keyed_hash("@bob:example.org", "person") != person
    assert FieldCipher(key).keyed_hash(user, "reporter") != person
    assert FieldCipher(DataKey.generate()).keyed_hash(user, "person") != person


def test_keyed_hash_is_hmac_sha256_of_purpose_and_value() -> None:
    """The pseudonyms already stored in a data directory stay the ones computed now."""
    key = DataKey(bytes(range(32)))
    expected = hmac.new(
        key.keyed_hash_key(), b"person\0@alice:example.org", hashlib.sha256
    ).hexdigest()
    assert FieldCipher(key).keyed_hash("@alice:example.org", "person") == expected


def test_keyed_hash_reveals_nothing_without_the_key(cipher: FieldCipher) -> None:
    user = "@alice:example.org"
    person = cipher.keyed_hash(user, "person")
    assert len(person) == 64
    int(person, 16)
    assert "alice" not in person
    # Not a plain (guessable, dictionary-attackable) digest of the id.
    for unkeyed in (user, f"person\0{user}"):
        assert person != hashlib.sha256(unkeyed.encode()).hexdigest()


def test_keyed_hash_purpose_cannot_smuggle_the_separator(cipher: FieldCipher) -> None:
    with pytest.raises(ValueError):
        cipher.keyed_hash("x", "person\0y")
