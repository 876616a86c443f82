"""The core's config sections: the bot itself, its accounts, health, invites, areas, rooms."""

from __future__ import annotations

import re
from pathlib import Path
from typing import Literal, Self

from pydantic import Field, PrivateAttr, SecretStr, field_validator, model_validator

from bot.core.config.values import (
    DaemonUrl,
    HttpUrl,
    ListenHost,
    MatrixUserId,
    PhoneNumber,
    Problem,
    Section,
    ServerName,
    Slug,
    Text,
    UserId,
    is_signal_group_id,
    problems_error,
    read_secret_file,
)
from bot.core.i18n import Language

DEFAULT_DATA_DIR = Path("data")
# How the bot talks to signal-cli's JSON-RPC daemon (its --http or --tcp option).
SignalMode = Literal["http", "tcp"]
Transport = Literal["matrix", "signal", "console"]
LogLevel = Literal["DEBUG", "INFO", "WARNING", "ERROR"]
# Which devices get the bot's room keys; see bot/transports/matrix/trust.py.
TrustPolicy = Literal["tofu", "cross-signed-only"]
_PREFIX_RE = re.compile(r"\S{1,3}")
# A Signal group holds 1,000 members: the admins hear of it a hundred before.
SIGNAL_SIZE_WARNING = 900


class BotSection(Section):
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
    # Messages being sent at once (alerts to many rooms and direct chats): enough to keep
    # the homeserver busy, not so many that it is flooded. A homeserver takes each send in
    # a few milliseconds but answers it after a round trip: with 10 under way it waits a
    # third of the time; from about 50 it is busy throughout, and with 100 the bot's own
    # syncs (one per batch of its echoes) cost it least.
    sends_in_flight: int = Field(default=100, ge=1, le=200)
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


class MatrixSection(Section):
    """``[matrix]``: the bot's Matrix account. Secrets may come from files read at load time."""

    homeserver: HttpUrl
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
            raise problems_error(problems)
        self._password = password if isinstance(password, SecretStr) else None
        self._access_token = token if isinstance(token, SecretStr) else None
        return self

    @staticmethod
    def _pick_secret(
        key: str, inline: SecretStr | None, file: Path | None
    ) -> SecretStr | Problem | None:
        if file is None:
            return inline
        if inline is not None:
            return (key,), f"set either {key} or {key}_file, not both"
        return read_secret_file(key, file)

    def password_value(self) -> str | None:
        return self._password.get_secret_value() if self._password else None

    def access_token_value(self) -> str | None:
        return self._access_token.get_secret_value() if self._access_token else None


class SignalSection(Section):
    """``[signal]``: the bot's Signal account, served by a signal-cli JSON-RPC daemon."""

    account: PhoneNumber
    mode: SignalMode = "http"
    # mode = "http": the daemon's --http address.
    url: DaemonUrl = "http://127.0.0.1:8080"
    # mode = "tcp": the daemon's --tcp address.
    host: Text = "127.0.0.1"
    port: int = Field(default=7583, ge=1, le=65535)

    @model_validator(mode="after")
    def _check_mode(self) -> Self:
        other = "tcp" if self.mode == "http" else "http"
        unused = ("host", "port") if self.mode == "http" else ("url",)
        problems: list[Problem] = [
            ((key,), f'only used with mode = "{other}"')
            for key in unused
            if key in self.model_fields_set
        ]
        if problems:
            raise problems_error(problems)
        return self


class HealthSection(Section):
    """``[health]``: the local HTTP endpoint serving ``/healthz`` and Prometheus ``/metrics``."""

    enabled: bool = True
    # Loopback by default: health and metrics are for the operator, not for the network.
    host: ListenHost = "127.0.0.1"
    # 0 picks a free port (for tests; the Dockerfile's healthcheck expects 9464).
    port: int = Field(default=9464, ge=0, le=65535)
    # Unhealthy when a transport has not heard from its server for longer than this. At
    # least 60: a Matrix long poll and the Signal heartbeat each take up to 30 s.
    max_sync_age_seconds: int = Field(default=120, ge=60, le=86400)
    # Unhealthy when more deliveries than this wait in the outbox.
    max_outbox_backlog: int = Field(default=500, ge=1, le=1_000_000)


class InvitesSection(Section):
    """``[invites]``: whose invites the bot accepts (admins are always allowed)."""

    allowed_users: tuple[MatrixUserId, ...] = ()
    allowed_servers: tuple[ServerName, ...] = ()
    # Direct chats (a Matrix 1:1 room, a Signal 1:1) from anyone who shares one of the
    # bot's configured rooms; with false, only configured rooms are served.
    direct_chats: bool = True

    def allows(self, user_id: str) -> bool:
        if user_id in self.allowed_users:
            return True
        server = user_id.partition(":")[2]
        return user_id.startswith("@") and server in self.allowed_servers


class Area(Section):
    """``[[areas]]``: a named zone, possibly inside another (city > neighborhood > zone)."""

    slug: Slug
    name_en: Text
    name_es: Text
    # The area this one is part of; its alerts reach the parent's rooms and the parent's
    # rooms serve it where it has none of a role (see `Settings.serving_rooms`).
    parent: Slug | None = None
    # Adjacent areas whose rooms also hear this area's alerts.
    near: tuple[Slug, ...] = ()

    def name(self, lang: str) -> str:
        return self.name_es if lang == "es" else self.name_en


class RoomConfig(Section):
    """``[[rooms]]``: a Matrix room, Signal group or console room with one role."""

    id: Text
    transport: Transport = "matrix"
    # One of the roles the core and the loaded plugins declare; checked by Settings.
    role: Slug
    areas: tuple[Slug, ...] = ()
    language: Language | None = None
    allow_unencrypted: bool = False
    # The bot deletes its own messages in the room once they are this many days old (an
    # alert: once its report closed that long ago). Matrix rooms only: a Signal group has
    # disappearing messages of its own.
    message_retention_days: int | None = Field(default=None, ge=1, le=3650)
    # People who may rotate this room besides the admins.
    coordinators: tuple[UserId, ...] = ()
    # Replace the room by a new one with the same members every so many days.
    rotate_days: int | None = Field(default=None, ge=1, le=3650)
    # Tell the admins once when the room has this many members (Signal groups stop at
    # 1,000: 900 unless set; Matrix rooms have no limit: off unless set).
    size_warning: int | None = Field(default=None, ge=2, le=1_000_000)

    def members_to_warn_at(self) -> int | None:
        if self.size_warning is None and self.transport == "signal":
            return SIGNAL_SIZE_WARNING
        return self.size_warning

    @model_validator(mode="after")
    def _check_room(self) -> Self:
        problems: list[Problem] = []
        if not self.areas:
            problems.append((("areas",), f"a {self.role} room needs at least one area"))
        if self.transport == "matrix" and not self.id.startswith("!"):
            problems.append((("id",), "must be a Matrix room id like !abc:example.org"))
        if self.transport == "signal" and not is_signal_group_id(self.id):
            message = "must be a Signal group id (base64, as signal-cli listGroups shows it)"
            problems.append((("id",), message))
        if self.transport == "signal" and self.message_retention_days is not None:
            message = "Signal groups have disappearing messages: set them in the group"
            problems.append((("message_retention_days",), message))
        if problems:
            raise problems_error(problems)
        return self
