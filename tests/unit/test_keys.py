import base64
import os
import stat
from pathlib import Path

import pytest

from bot.storage.keys import ENV_VAR, DataKey, DataKeyError, load_data_key, write_key_file


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_text_round_trip() -> None:
    key = DataKey.generate()
    assert DataKey.from_text(key.to_text()) == key


def test_accepts_standard_and_urlsafe_base64_with_or_without_padding() -> None:
    raw = bytes(range(250, 256)) + bytes(26)  # encodes to text containing '+'/'/' or '-'/'_'
    for text in (
        base64.b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode(),
        base64.urlsafe_b64encode(raw).decode().rstrip("="),
        base64.b64encode(raw).decode() + "\n",
    ):
        assert DataKey.from_text(text).raw == raw


@pytest.mark.parametrize(
    "text",
    ["", "not base64 at all!!", base64.b64encode(bytes(16)).decode(), "QUJD" * 12],
)
def test_rejects_malformed_key_without_echoing_it(text: str) -> None:
    with pytest.raises(DataKeyError) as excinfo:
        DataKey.from_text(text)
    if text:
        assert text not in str(excinfo.value)
    # A chained decoder error would be printed in tracebacks too.
    assert excinfo.value.__context__ is None or excinfo.value.__suppress_context__


def test_wrong_length_raw_key_is_refused() -> None:
    with pytest.raises(DataKeyError):
        DataKey(bytes(31))


def test_key_never_appears_in_repr_or_str() -> None:
    key = DataKey.generate()
    for rendering in (repr(key), str(key), f"{key}", repr([key])):
        assert key.to_text() not in rendering
        assert key.raw.hex() not in rendering
        assert repr(key.raw) not in rendering


def test_subkeys_are_distinct_and_deterministic() -> None:
    key = DataKey.generate()
    assert key.field_encryption_key() != key.keyed_hash_key()
    assert key.field_encryption_key() != key.raw
    assert DataKey(key.raw).keyed_hash_key() == key.keyed_hash_key()
    assert len(key.field_encryption_key()) == 32


def test_write_key_file_is_0600_and_loads_back(tmp_path: Path) -> None:
    path = tmp_path / "data.key"
    key = DataKey.generate()
    write_key_file(path, key)
    assert _mode(path) == 0o600
    assert load_data_key(path, env={}) == key


def test_write_key_file_is_0600_even_with_a_permissive_umask(tmp_path: Path) -> None:
    previous = os.umask(0)
    try:
        write_key_file(tmp_path / "data.key", DataKey.generate())
    finally:
        os.umask(previous)
    assert _mode(tmp_path / "data.key") == 0o600


def test_write_key_file_refuses_to_overwrite(tmp_path: Path) -> None:
    path = tmp_path / "data.key"
    original = DataKey.generate()
    write_key_file(path, original)
    with pytest.raises(DataKeyError, match="overwrite"):
        write_key_file(path, DataKey.generate())
    assert load_data_key(path, env={}) == original


@pytest.mark.parametrize("mode", [0o644, 0o640, 0o604, 0o660])
def test_group_or_world_accessible_key_file_is_refused_with_chmod_hint(
    tmp_path: Path, mode: int
) -> None:
    path = tmp_path / "data.key"
    key = DataKey.generate()
    write_key_file(path, key)
    path.chmod(mode)
    with pytest.raises(DataKeyError) as excinfo:
        load_data_key(path, env={})
    message = str(excinfo.value)
    assert f"chmod 600 {path}" in message
    assert key.to_text() not in message


def test_stricter_than_0600_is_accepted(tmp_path: Path) -> None:
    path = tmp_path / "data.key"
    key = DataKey.generate()
    write_key_file(path, key)
    path.chmod(0o400)
    assert load_data_key(path, env={}) == key


def test_env_key_wins_over_key_file(tmp_path: Path) -> None:
    path = tmp_path / "data.key"
    write_key_file(path, DataKey.generate())
    env_key = DataKey.generate()
    assert load_data_key(path, env={ENV_VAR: env_key.to_text()}) == env_key


def test_env_key_is_used_without_any_key_file() -> None:
    env_key = DataKey.generate()
    assert load_data_key(None, env={ENV_VAR: env_key.to_text()}) == env_key


def test_malformed_env_key_names_the_variable_but_not_the_value() -> None:
    bad = "c2VjcmV0LWJ1dC10b28tc2hvcnQ="
    with pytest.raises(DataKeyError) as excinfo:
        load_data_key(None, env={ENV_VAR: bad})
    assert ENV_VAR in str(excinfo.value)
    assert bad not in str(excinfo.value)


def test_malformed_key_file_is_reported_without_content(tmp_path: Path) -> None:
    path = tmp_path / "data.key"
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    os.write(fd, b"hunter2-hunter2\n")
    os.close(fd)
    with pytest.raises(DataKeyError) as excinfo:
        load_data_key(path, env={})
    assert str(path) in str(excinfo.value)
    assert "hunter2" not in str(excinfo.value)


@pytest.mark.parametrize("configured", [True, False])
def test_missing_key_explains_both_options(tmp_path: Path, configured: bool) -> None:
    path = tmp_path / "absent.key"
    with pytest.raises(DataKeyError) as excinfo:
        load_data_key(path if configured else None, env={})
    message = str(excinfo.value)
    assert ENV_VAR in message
    assert "key file" in message
    if configured:
        assert str(path) in message
