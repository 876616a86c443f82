"""Config building blocks: checked value types, the section base, and multi-key problems.

Plugins build their own sections from these (through `bot.api`), so every section reports
bad values the same way: one line naming the file or variable and the dotted key.
"""

from __future__ import annotations

import base64
import binascii
import difflib
import ipaddress
import re
import zoneinfo
from collections.abc import Iterable
from datetime import time
from pathlib import Path
from typing import Annotated
from urllib.parse import urlsplit

import tzlocal
from pydantic import AfterValidator, BaseModel, ConfigDict, SecretStr, StringConstraints
from pydantic_core import PydanticCustomError

Loc = tuple[str | int, ...]
# A problem found by a check that spans several keys: (location below the checked model,
# message). Raised together with `problems_error`.
Problem = tuple[Loc, str]
# Error type for such checks; ctx["problems"] holds the problems.
PROBLEMS = "config_problems"

_SERVER_NAME = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?"
_SERVER_NAME_RE = re.compile(_SERVER_NAME)
# Localparts may use the historical (wider) character set: printable ASCII except ':'.
_MATRIX_USER_RE = re.compile(rf"@[\x21-\x39\x3b-\x7e]+:{_SERVER_NAME}")
_SLUG_RE = re.compile(r"[a-z0-9-]{1,32}")
_PHONE_RE = re.compile(r"\+[1-9][0-9]{6,14}")
_SIGNAL_GROUP_ID_BYTES = 32
_HOST_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?")


class Section(BaseModel):
    """The base of every config section: frozen, unknown keys refused, input never echoed."""

    # hide_input_in_errors keeps secrets out of ValidationError text.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


def problems_error(problems: list[Problem]) -> PydanticCustomError:
    """Raise this from a validator to report several problems, each at its own key."""
    summary = "; ".join(f"{dotted(loc)}: {message}" for loc, message in problems)
    return PydanticCustomError(PROBLEMS, "{summary}", {"summary": summary, "problems": problems})


def dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(top level)"


def unknown_area(slug: str, known: set[str]) -> str:
    listed = ", ".join(sorted(known)) or "none defined"
    return f'unknown area "{slug}"{did_you_mean(slug, known)} (known: {listed})'


def did_you_mean(word: str, known: Iterable[str]) -> str:
    """`: did you mean pilsen?` for a misspelled name, or nothing when none is close."""
    close = difflib.get_close_matches(word.lower(), list(known), n=1, cutoff=0.6)
    return f": did you mean {close[0]}?" if close else ""


def _matrix_user_id(value: str) -> str:
    if len(value) > 255 or not _MATRIX_USER_RE.fullmatch(value):
        raise ValueError("must be a Matrix user id like @name:example.org")
    return value


def _any_user_id(value: str) -> str:
    # Signal and console ids have no common syntax; only Matrix ids can be checked.
    if value.startswith("@"):
        return _matrix_user_id(value)
    if not value or any(ch.isspace() for ch in value):
        raise ValueError("must be a user id without spaces")
    return value


def _server_name(value: str) -> str:
    if not _SERVER_NAME_RE.fullmatch(value):
        raise ValueError("must be a server name like example.org")
    return value


def _slug(value: str) -> str:
    if not _SLUG_RE.fullmatch(value):
        raise ValueError("must be 1-32 lowercase letters, digits or hyphens")
    return value


def _time_zone(value: str) -> str:
    if not _known_zone(value):
        raise ValueError("must be an IANA time zone like America/Chicago")
    return value


def _known_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True


def _clock_time(value: str) -> str:
    try:
        time.fromisoformat(value)
    except ValueError:
        raise ValueError("must be a time of day like 18:00") from None
    return value


def _http_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL like https://matrix.example.org")
    return value.rstrip("/")


def _phone_number(value: str) -> str:
    if not _PHONE_RE.fullmatch(value):
        raise ValueError("must be a phone number in international format like +15551234567")
    return value


def _daemon_url(value: str) -> str:
    parts = urlsplit(value)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise ValueError("must be an http(s) URL like http://127.0.0.1:8080")
    return value.rstrip("/")


def _listen_host(value: str) -> str:
    try:
        ipaddress.ip_address(value)
    except ValueError:
        if not _HOST_NAME_RE.fullmatch(value):
            raise ValueError("must be an IP address like 127.0.0.1 or a host name") from None
    return value


def is_signal_group_id(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == _SIGNAL_GROUP_ID_BYTES
    except binascii.Error:
        return False


def read_secret_file(key: str, path: Path) -> SecretStr | Problem:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        return (f"{key}_file",), f"cannot read {path}: {exc.strerror or exc}"
    except UnicodeDecodeError:
        return (f"{key}_file",), f"{path} is not UTF-8 text"
    if not text:
        return (f"{key}_file",), f"{path} is empty"
    return SecretStr(text)


MatrixUserId = Annotated[str, AfterValidator(_matrix_user_id)]
UserId = Annotated[str, AfterValidator(_any_user_id)]
ServerName = Annotated[str, AfterValidator(_server_name)]
Slug = Annotated[str, AfterValidator(_slug)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]


_UTC_NAMES = frozenset({"UTC", "Etc/UTC", "Etc/UCT", "Etc/Universal", "Etc/Zulu", "Universal"})


def system_time_zone() -> str:
    """The machine's IANA time zone name; "UTC" when it is UTC or has none (a container)."""
    name = tzlocal.get_localzone_name()
    if not name or name in _UTC_NAMES or not _known_zone(name):
        return "UTC"
    return name


ClockTime = Annotated[str, AfterValidator(_clock_time)]
HttpUrl = Annotated[str, AfterValidator(_http_url)]
PhoneNumber = Annotated[str, AfterValidator(_phone_number)]
DaemonUrl = Annotated[str, AfterValidator(_daemon_url)]
ListenHost = Annotated[str, AfterValidator(_listen_host)]
