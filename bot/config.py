"""Typed configuration: a TOML file overridden by ``VECINOS_<SECTION>__<KEY>`` variables.

``load_settings`` is the entry point. Every problem becomes one line of ``ConfigError`` that
names the file (or environment variable) and the dotted key, and never echoes a secret.
"""

from __future__ import annotations

import base64
import binascii
import ipaddress
import os
import re
import tomllib
import zoneinfo
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import date, time
from pathlib import Path
from typing import Annotated, Any, Literal, Self, cast
from urllib.parse import urlsplit

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    PrivateAttr,
    SecretStr,
    StringConstraints,
    ValidationError,
    field_validator,
    model_validator,
)
from pydantic_core import ErrorDetails, PydanticCustomError
from pydantic_settings import (
    BaseSettings,
    EnvSettingsSource,
    InitSettingsSource,
    SettingsConfigDict,
)
from pydantic_settings.exceptions import SettingsError

from bot.watch_windows import WindowError, parse_window

__all__ = [
    "DEFAULT_DATA_DIR",
    "ENV_PREFIX",
    "Area",
    "BotSection",
    "ConfigError",
    "HealthSection",
    "InvitesSection",
    "Language",
    "MatrixSection",
    "ReportsSection",
    "ResourcesSection",
    "RoomConfig",
    "RoomRole",
    "RostersSection",
    "Settings",
    "SignalSection",
    "SiteConfig",
    "Transport",
    "TrustPolicy",
    "load_settings",
]

ENV_PREFIX = "VECINOS_"
_ENV_DELIMITER = "__"
DEFAULT_DATA_DIR = Path("data")
# Keys holding paths; relative ones are resolved against the config file's directory.
_PATH_KEYS = {
    "bot": ("data_dir", "data_key_file"),
    "matrix": ("password_file", "access_token_file"),
}
# Error type for checks that span several keys; ctx["problems"] holds (sub-location, message).
_PROBLEMS = "config_problems"

Language = Literal["en", "es"]
# How the bot talks to signal-cli's JSON-RPC daemon (its --http or --tcp option).
SignalMode = Literal["http", "tcp"]
Transport = Literal["matrix", "signal", "console"]
RoomRole = Literal["neighborhood", "moderation", "alerts", "watch"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
# Which devices get the bot's room keys; see bot/transports/matrix/trust.py.
TrustPolicy = Literal["tofu", "cross-signed-only"]

Loc = tuple[str | int, ...]
_Problem = tuple[Loc, str]


class ConfigError(Exception):
    """Invalid configuration; ``str()`` is one line per problem."""

    def __init__(self, problems: Iterable[str]) -> None:
        self.problems = tuple(problems)
        super().__init__("\n".join(self.problems))


# --- value types -------------------------------------------------------------------------

_SERVER_NAME = r"(?:\[[0-9A-Fa-f:.]+\]|[A-Za-z0-9.-]+)(?::[0-9]{1,5})?"
_SERVER_NAME_RE = re.compile(_SERVER_NAME)
# Localparts may use the historical (wider) character set: printable ASCII except ':'.
_MATRIX_USER_RE = re.compile(rf"@[\x21-\x39\x3b-\x7e]+:{_SERVER_NAME}")
_SLUG_RE = re.compile(r"[a-z0-9-]{1,32}")
_PHONE_RE = re.compile(r"\+[1-9][0-9]{6,14}")
_SIGNAL_GROUP_ID_BYTES = 32
_PREFIX_RE = re.compile(r"\S{1,3}")
_HOST_NAME_RE = re.compile(r"[A-Za-z0-9](?:[A-Za-z0-9.-]{0,252}[A-Za-z0-9])?")


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
    try:
        zoneinfo.ZoneInfo(value)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        raise ValueError("must be an IANA time zone like America/Chicago") from None
    return value


def _window(value: str) -> str:
    try:
        parse_window(value)
    except WindowError as exc:
        raise ValueError(str(exc)) from None
    return value


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


def _is_signal_group_id(value: str) -> bool:
    try:
        return len(base64.b64decode(value, validate=True)) == _SIGNAL_GROUP_ID_BYTES
    except binascii.Error:
        return False


MatrixUserId = Annotated[str, AfterValidator(_matrix_user_id)]
UserId = Annotated[str, AfterValidator(_any_user_id)]
ServerName = Annotated[str, AfterValidator(_server_name)]
Slug = Annotated[str, AfterValidator(_slug)]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
TimeZone = Annotated[str, AfterValidator(_time_zone)]
WindowText = Annotated[str, AfterValidator(_window)]
ClockTime = Annotated[str, AfterValidator(_clock_time)]


def _problems_error(problems: list[_Problem]) -> PydanticCustomError:
    summary = "; ".join(f"{_dotted(loc)}: {message}" for loc, message in problems)
    return PydanticCustomError(_PROBLEMS, "{summary}", {"summary": summary, "problems": problems})


def _read_secret_file(key: str, path: Path) -> SecretStr | _Problem:
    try:
        text = path.read_text(encoding="utf-8").strip()
    except OSError as exc:
        return (f"{key}_file",), f"cannot read {path}: {exc.strerror or exc}"
    except UnicodeDecodeError:
        return (f"{key}_file",), f"{path} is not UTF-8 text"
    if not text:
        return (f"{key}_file",), f"{path} is empty"
    return SecretStr(text)


# --- sections ----------------------------------------------------------------------------


class _Section(BaseModel):
    # hide_input_in_errors keeps secrets out of ValidationError text.
    model_config = ConfigDict(frozen=True, extra="forbid", hide_input_in_errors=True)


class BotSection(_Section):
    """``[bot]``: general behaviour."""

    command_prefix: str = "!"
    default_language: Language = "en"
    data_dir: Path = DEFAULT_DATA_DIR
    data_key_file: Path | None = None
    require_encryption: bool = True
    command_max_age_minutes: int = Field(default=10, ge=1, le=1440)
    undecryptable_wait_seconds: int = Field(default=60, ge=1, le=3600)
    # Per person, all commands together; a backlog after downtime counts too.
    commands_per_minute: int = Field(default=20, ge=1, le=1000)
    log_level: LogLevel = "INFO"

    @field_validator("command_prefix")
    @classmethod
    def _check_prefix(cls, value: str) -> str:
        if not _PREFIX_RE.fullmatch(value):
            raise ValueError("must be 1 to 3 characters without spaces")
        return value

    @field_validator("log_level", mode="before")
    @classmethod
    def _upper_log_level(cls, value: object) -> object:
        return value.upper() if isinstance(value, str) else value


class MatrixSection(_Section):
    """``[matrix]``: the bot's Matrix account. Secrets may come from files read at load time."""

    homeserver: Annotated[str, AfterValidator(_http_url)]
    user_id: MatrixUserId
    device_name: Text = "Vecinos"
    device_id: Text | None = None
    password: SecretStr | None = None
    password_file: Path | None = None
    access_token: SecretStr | None = None
    access_token_file: Path | None = None
    trust_policy: TrustPolicy = "tofu"

    _password: SecretStr | None = PrivateAttr(default=None)
    _access_token: SecretStr | None = PrivateAttr(default=None)

    @model_validator(mode="after")
    def _load_secrets(self) -> Self:
        password = self._pick_secret("password", self.password, self.password_file)
        token = self._pick_secret("access_token", self.access_token, self.access_token_file)
        problems = [item for item in (password, token) if isinstance(item, tuple)]
        if problems:
            raise _problems_error(problems)
        self._password = password if isinstance(password, SecretStr) else None
        self._access_token = token if isinstance(token, SecretStr) else None
        return self

    @staticmethod
    def _pick_secret(
        key: str, inline: SecretStr | None, file: Path | None
    ) -> SecretStr | _Problem | None:
        if file is None:
            return inline
        if inline is not None:
            return (key,), f"set either {key} or {key}_file, not both"
        return _read_secret_file(key, file)

    def password_value(self) -> str | None:
        return self._password.get_secret_value() if self._password else None

    def access_token_value(self) -> str | None:
        return self._access_token.get_secret_value() if self._access_token else None


class SignalSection(_Section):
    """``[signal]``: the bot's Signal account, served by a signal-cli JSON-RPC daemon."""

    account: Annotated[str, AfterValidator(_phone_number)]
    mode: SignalMode = "http"
    # mode = "http": the daemon's --http address.
    url: Annotated[str, AfterValidator(_daemon_url)] = "http://127.0.0.1:8080"
    # mode = "tcp": the daemon's --tcp address.
    host: Text = "127.0.0.1"
    port: int = Field(default=7583, ge=1, le=65535)

    @model_validator(mode="after")
    def _check_mode(self) -> Self:
        other = "tcp" if self.mode == "http" else "http"
        unused = ("host", "port") if self.mode == "http" else ("url",)
        problems: list[_Problem] = [
            ((key,), f'only used with mode = "{other}"')
            for key in unused
            if key in self.model_fields_set
        ]
        if problems:
            raise _problems_error(problems)
        return self


class ResourcesSection(_Section):
    """``[resources]``: the texts of `!rights` and `!hotline`; built-in ones when unset."""

    rights_en: Text | None = None
    rights_es: Text | None = None
    hotline: Text | None = None

    def rights(self, lang: str) -> str | None:
        return self.rights_es if lang == "es" else self.rights_en


class ReportsSection(_Section):
    """``[reports]``: sighting reports and their moderation."""

    # Undecided reports (new / needs info) expire after this long without a decision.
    expire_hours: int = Field(default=4, ge=1, le=72)
    # Closed reports are erased this long after they were closed.
    retention_days: int = Field(default=7, ge=1, le=365)
    # A sighting observed longer ago than this is flagged stale (still accepted).
    stale_minutes: int = Field(default=30, ge=1, le=1440)
    # Reports one person may file per window; more get a polite "please wait".
    per_person_limit: int = Field(default=5, ge=1, le=100)
    per_person_window_minutes: int = Field(default=10, ge=1, le=1440)
    # A guided report dialog is dropped after this long without an answer.
    dialog_timeout_minutes: int = Field(default=10, ge=1, le=120)
    # Local time of the areas: "when: 14:05" is read, and times are shown, in this zone.
    timezone: TimeZone = "UTC"

    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone)


class RostersSection(_Section):
    """``[rosters]``: school watch rosters; the schools themselves are ``[[sites]]``."""

    # Shifts are created this many days ahead.
    days_ahead: int = Field(default=14, ge=1, le=60)
    # Past shifts, with who claimed and checked in, are erased this long after they ended.
    retention_days: int = Field(default=14, ge=1, le=365)
    # Site-local time of the reminder on the evening before a shift.
    evening_reminder: ClockTime = "18:00"
    # The second reminder comes this many minutes before the start.
    reminder_minutes: int = Field(default=30, ge=1, le=240)
    # A shift below its need is announced, with the backup pool, this many hours ahead.
    coverage_hours: tuple[Annotated[int, Field(ge=1, le=72)], ...] = (24, 2)
    # The site's coordinators are told when nobody checked in this long after the start.
    checkin_minutes: int = Field(default=10, ge=1, le=120)

    def evening_time(self) -> time:
        return time.fromisoformat(self.evening_reminder)


class SiteConfig(_Section):
    """``[[sites]]``: a school that a watch room covers, with its shift windows."""

    slug: Slug
    name: Text
    area: Slug
    timezone: TimeZone
    # The id of a watch room in [[rooms]].
    room: Text
    windows: tuple[WindowText, ...] = ()
    # Dates without shifts (holidays), in the site's calendar.
    skip: tuple[date, ...] = ()
    coordinators: tuple[UserId, ...] = ()

    @model_validator(mode="after")
    def _check_window_names(self) -> Self:
        first: dict[str, int] = {}
        problems: list[_Problem] = []
        for index, text in enumerate(self.windows):
            name = parse_window(text).name
            if name in first:
                problems.append((("windows", index), f'window "{name}" is defined twice'))
            first.setdefault(name, index)
        if problems:
            raise _problems_error(problems)
        return self


class HealthSection(_Section):
    """``[health]``: the local HTTP endpoint serving ``/healthz`` and Prometheus ``/metrics``."""

    enabled: bool = True
    # Loopback by default: health and metrics are for the operator, not for the network.
    host: Annotated[str, AfterValidator(_listen_host)] = "127.0.0.1"
    # 0 picks a free port (for tests; the Dockerfile's healthcheck expects 9464).
    port: int = Field(default=9464, ge=0, le=65535)
    # Unhealthy when a transport has not heard from its server for longer than this. At
    # least 60: a Matrix long poll and the Signal heartbeat each take up to 30 s.
    max_sync_age_seconds: int = Field(default=120, ge=60, le=86400)
    # Unhealthy when more deliveries than this wait in the outbox.
    max_outbox_backlog: int = Field(default=500, ge=1, le=1_000_000)


class InvitesSection(_Section):
    """``[invites]``: whose invites the bot accepts (admins are always allowed)."""

    allowed_users: tuple[MatrixUserId, ...] = ()
    allowed_servers: tuple[ServerName, ...] = ()

    def allows(self, user_id: str) -> bool:
        if user_id in self.allowed_users:
            return True
        server = user_id.partition(":")[2]
        return user_id.startswith("@") and server in self.allowed_servers


class Area(_Section):
    """``[[areas]]``: a named zone."""

    slug: Slug
    name_en: Text
    name_es: Text

    def name(self, lang: str) -> str:
        return self.name_es if lang == "es" else self.name_en


class RoomConfig(_Section):
    """``[[rooms]]``: a Matrix room, Signal group or console room with one role."""

    id: Text
    transport: Transport = "matrix"
    role: RoomRole
    areas: tuple[Slug, ...] = ()
    language: Language | None = None
    allow_unencrypted: bool = False

    @model_validator(mode="after")
    def _check_room(self) -> Self:
        problems: list[_Problem] = []
        if not self.areas:
            problems.append((("areas",), f"a {self.role} room needs at least one area"))
        if self.transport == "matrix" and not self.id.startswith("!"):
            problems.append((("id",), "must be a Matrix room id like !abc:example.org"))
        if self.transport == "signal" and not _is_signal_group_id(self.id):
            message = "must be a Signal group id (base64, as signal-cli listGroups shows it)"
            problems.append((("id",), message))
        if problems:
            raise _problems_error(problems)
        return self


# --- root --------------------------------------------------------------------------------


class Settings(BaseSettings):
    """The whole configuration. Build it with ``load_settings``.

    Constructing it directly reads init arguments over ``VECINOS_*`` variables (no file) and
    keeps relative paths as given.
    """

    model_config = SettingsConfigDict(
        env_prefix=ENV_PREFIX,
        env_nested_delimiter=_ENV_DELIMITER,
        extra="forbid",
        frozen=True,
        hide_input_in_errors=True,
    )

    bot: BotSection = Field(default_factory=BotSection)
    matrix: MatrixSection | None = None
    signal: SignalSection | None = None
    invites: InvitesSection = Field(default_factory=InvitesSection)
    reports: ReportsSection = Field(default_factory=ReportsSection)
    resources: ResourcesSection = Field(default_factory=ResourcesSection)
    rosters: RostersSection = Field(default_factory=RostersSection)
    health: HealthSection = Field(default_factory=HealthSection)
    areas: tuple[Area, ...] = ()
    rooms: tuple[RoomConfig, ...] = ()
    sites: tuple[SiteConfig, ...] = ()
    moderators: tuple[UserId, ...] = ()
    admins: tuple[UserId, ...] = ()

    _areas_by_slug: dict[str, Area] = PrivateAttr(default_factory=dict)
    _rooms_by_key: dict[tuple[str, str], RoomConfig] = PrivateAttr(default_factory=dict)

    @model_validator(mode="after")
    def _check_references(self) -> Self:
        problems = [*self._area_problems(), *self._room_problems(), *self._site_problems()]
        if problems:
            raise _problems_error(problems)
        self._areas_by_slug = {area.slug: area for area in self.areas}
        self._rooms_by_key = {(room.transport, room.id): room for room in self.rooms}
        return self

    def _area_problems(self) -> list[_Problem]:
        first: dict[str, int] = {}
        problems: list[_Problem] = []
        for index, area in enumerate(self.areas):
            if area.slug in first:
                where = f"areas[{first[area.slug]}]"
                problems.append((("areas", index, "slug"), f"duplicate of {where}"))
            first.setdefault(area.slug, index)
        return problems

    def _room_problems(self) -> list[_Problem]:
        known = {area.slug for area in self.areas}
        first: dict[tuple[str, str], int] = {}
        problems: list[_Problem] = []
        for index, room in enumerate(self.rooms):
            for slug in room.areas:
                if slug not in known:
                    problems.append((("rooms", index, "areas"), _unknown_area(slug, known)))
            key = (room.transport, room.id)
            if key in first:
                message = f"same {room.transport} room as rooms[{first[key]}]"
                problems.append((("rooms", index, "id"), message))
            first.setdefault(key, index)
            if room.transport == "matrix" and self.matrix is None:
                problems.append((("rooms", index, "transport"), "needs a [matrix] section"))
            if room.transport == "signal" and self.signal is None:
                problems.append((("rooms", index, "transport"), "needs a [signal] section"))
        return problems

    def _site_problems(self) -> list[_Problem]:
        known = {area.slug for area in self.areas}
        watch_rooms = {room.id for room in self.rooms if room.role == "watch"}
        first: dict[str, int] = {}
        problems: list[_Problem] = []
        for index, site in enumerate(self.sites):
            if site.area not in known:
                problems.append((("sites", index, "area"), _unknown_area(site.area, known)))
            if site.room not in watch_rooms:
                message = f'"{site.room}" is not a room with role = "watch" in [[rooms]]'
                problems.append((("sites", index, "room"), message))
            if site.slug in first:
                message = f"duplicate of sites[{first[site.slug]}]"
                problems.append((("sites", index, "slug"), message))
            first.setdefault(site.slug, index)
        return problems

    def area(self, slug: str) -> Area | None:
        return self._areas_by_slug.get(slug)

    def room(self, transport: str, room_id: str) -> RoomConfig | None:
        return self._rooms_by_key.get((transport, room_id))

    def room_language(self, transport: str, room_id: str) -> Language:
        room = self.room(transport, room_id)
        if room is not None and room.language is not None:
            return room.language
        return self.bot.default_language

    def invite_allowed(self, user_id: str) -> bool:
        return user_id in self.admins or self.invites.allows(user_id)


def _unknown_area(slug: str, known: set[str]) -> str:
    return f'unknown area "{slug}" (known: {", ".join(sorted(known)) or "none defined"})'


# --- loading -----------------------------------------------------------------------------


class _MappingEnvSource(EnvSettingsSource):
    """The stock environment source, reading a given mapping instead of ``os.environ``."""

    def __init__(self, env: Mapping[str, str]) -> None:
        self._env = env
        super().__init__(Settings)

    def _load_env_vars(self) -> Mapping[str, str | None]:
        # Settings are case-insensitive, so variable names are matched lower-cased.
        return {name.lower(): value for name, value in self._env.items()}


@dataclass(frozen=True)
class _Origin:
    """Where values came from, to name the file or the variable in error messages."""

    file: str | None
    env_names: frozenset[str]


def load_settings(path: Path | None, env: Mapping[str, str] | None = None) -> Settings:
    """Load ``path`` (TOML, optional) overridden by ``VECINOS_*`` variables from ``env``.

    ``env`` defaults to ``os.environ``. Relative paths, including the default data_dir,
    resolve against the file's directory (the working directory without a file).
    Raises ``ConfigError`` on any problem.
    """
    env = os.environ if env is None else env
    data = _merge(_read_toml(path) if path is not None else {}, _read_env(env))
    base_dir = path.absolute().parent if path is not None else Path.cwd()
    # Sources are merged here (to resolve paths and to name the source in errors), so
    # pydantic-settings gets them as one pre-merged source instead of reading os.environ.
    source = InitSettingsSource(Settings, init_kwargs=_resolve_paths(data, base_dir))
    # Typed as the base class: mypy's synthesized Settings.__init__ lacks its parameters.
    settings_cls: type[BaseSettings] = Settings
    try:
        return cast(Settings, settings_cls(_build_sources=((source,), {})))
    except ValidationError as exc:
        origin = _Origin(
            file=str(path) if path is not None else None,
            env_names=frozenset(name.upper() for name in env),
        )
        raise ConfigError(_explain(exc.errors(), origin)) from None


def _read_toml(path: Path) -> dict[str, Any]:
    try:
        with path.open("rb") as handle:
            return tomllib.load(handle)
    except FileNotFoundError:
        raise ConfigError([f"{path}: file not found"]) from None
    except OSError as exc:
        raise ConfigError([f"{path}: cannot read: {exc.strerror or exc}"]) from None
    except tomllib.TOMLDecodeError as exc:
        raise ConfigError([f"{path}: invalid TOML: {exc}"]) from None
    except UnicodeDecodeError:
        raise ConfigError([f"{path}: not UTF-8 text"]) from None


def _read_env(env: Mapping[str, str]) -> dict[str, Any]:
    try:
        return _MappingEnvSource(env)()
    except SettingsError as exc:
        # pydantic-settings names only the top-level field whose JSON value failed to parse.
        match = re.search(r'field "([^"]+)"', str(exc))
        name = f"{ENV_PREFIX}{match[1].upper()}*" if match else f"{ENV_PREFIX}*"
        reason = f'lists and tables must be JSON, e.g. ["a", "b"] ({exc.__cause__})'
        raise ConfigError([f"{name}: {reason}"]) from None


def _resolve_paths(data: dict[str, Any], base_dir: Path) -> dict[str, Any]:
    resolved = _merge({"bot": {"data_dir": str(DEFAULT_DATA_DIR)}}, data)
    for section, keys in _PATH_KEYS.items():
        table = resolved.get(section)
        if isinstance(table, dict):
            resolved[section] = {
                key: _resolved(value, base_dir) if key in keys else value
                for key, value in table.items()
            }
    return resolved


def _resolved(value: object, base_dir: Path) -> object:
    # Non-strings are left for validation to reject with a proper message.
    return str(base_dir / Path(value).expanduser()) if isinstance(value, str) else value


def _merge(low: dict[str, Any], high: dict[str, Any]) -> dict[str, Any]:
    merged = dict(low)
    for key, value in high.items():
        below = merged.get(key)
        if isinstance(value, dict) and isinstance(below, dict):
            value = _merge(below, value)
        merged[key] = value
    return merged


# --- error translation -------------------------------------------------------------------


def _explain(errors: list[ErrorDetails], origin: _Origin) -> list[str]:
    lines: list[str] = []
    for error in errors:
        for loc, message in _problems_of(error):
            line = f"{_where(loc, origin)}: {message}"
            if line not in lines:
                lines.append(line)
    return lines


def _problems_of(error: ErrorDetails) -> list[_Problem]:
    loc = tuple(error["loc"])
    ctx = error.get("ctx") or {}
    if error["type"] == _PROBLEMS:
        return [(loc + sub, message) for sub, message in ctx["problems"]]
    return [(loc, _message(error, ctx))]


def _message(error: ErrorDetails, ctx: dict[str, Any]) -> str:
    kind = error["type"]
    if kind == "literal_error":
        allowed = ", ".join(re.findall(r"'([^']*)'", str(ctx.get("expected", ""))))
        return f"must be one of {allowed} (got {_shown(error['input'])})"
    if kind == "value_error":
        return str(ctx["error"])
    if kind in _FIXED_MESSAGES:
        return _FIXED_MESSAGES[kind]
    if kind in _BOUND_MESSAGES:
        template, bound = _BOUND_MESSAGES[kind]
        return template.format(ctx[bound])
    # pydantic's own messages do not include the input, so they are safe to show.
    text = error["msg"]
    return text[:1].lower() + text[1:]


_FIXED_MESSAGES = {
    "extra_forbidden": "unknown key",
    "missing": "missing (required)",
    "bool_type": "must be true or false",
    "bool_parsing": "must be true or false",
    "int_type": "must be a whole number",
    "int_parsing": "must be a whole number",
    "int_from_float": "must be a whole number",
    "string_type": "must be a string",
    "string_too_short": "must not be blank",
    "path_type": "must be a path",
    "tuple_type": "must be a list",
    "model_type": "must be a table",
}

_BOUND_MESSAGES = {
    "greater_than_equal": ("must be at least {}", "ge"),
    "less_than_equal": ("must be at most {}", "le"),
}


def _shown(value: object) -> str:
    # Only enum-like inputs are shown; they are never secrets. Long values are cut.
    text = value if isinstance(value, str) else repr(value)
    return f'"{text[:40]}..."' if len(text) > 40 else f'"{text}"'


def _where(loc: Loc, origin: _Origin) -> str:
    variable = _env_variable(loc, origin.env_names)
    if variable is not None:
        depth = variable.removeprefix(ENV_PREFIX).count(_ENV_DELIMITER) + 1
        return variable if depth == len(loc) else f"{variable}: {_dotted(loc)}"
    return f"{origin.file}: {_dotted(loc)}" if origin.file else _dotted(loc)


def _env_variable(loc: Loc, env_names: frozenset[str]) -> str | None:
    """The most specific ``VECINOS_*`` variable set for ``loc``, if the value came from one."""
    keys: list[str] = []
    for part in loc:
        if not isinstance(part, str):
            break
        keys.append(part)
    for depth in range(len(keys), 0, -1):
        name = ENV_PREFIX + _ENV_DELIMITER.join(keys[:depth]).upper()
        if name in env_names:
            return name
    return None


def _dotted(loc: Loc) -> str:
    text = ""
    for part in loc:
        if isinstance(part, int):
            text += f"[{part}]"
        else:
            text += f".{part}" if text else part
    return text or "(top level)"
