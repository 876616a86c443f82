"""Normalized events and messages: what transports produce and consume.

Transports translate their network events into these types and send `OutgoingMessage`s;
plugins and the core only ever see these, never a Matrix or Signal object.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from datetime import datetime
from enum import Enum
from typing import Any


@dataclass(frozen=True)
class RoomRef:
    """A room on one transport (a Matrix room, a Signal group, the console)."""

    transport: str
    room_id: str


@dataclass(frozen=True)
class Sender:
    user_id: str
    display_name: str | None = None


@dataclass(frozen=True, kw_only=True)
class Event:
    """Fields every incoming event has."""

    room: RoomRef
    event_id: str
    sender: Sender
    timestamp: datetime
    # The thread the event belongs to (its root), and the event it replies to, if any.
    thread_root: str | None = None
    reply_to: str | None = None
    # End-to-end encrypted (or local, for the console). Unencrypted rooms are refused.
    encrypted: bool = False
    # In a one-to-one chat between the sender and the bot (the transport's view; the core
    # treats a configured room as a room whatever its size).
    direct: bool = False


@dataclass(frozen=True, kw_only=True)
class Attachment:
    kind: str  # "image", "file", "audio", "video"
    name: str | None = None


@dataclass(frozen=True, kw_only=True)
class MessageEvent(Event):
    body: str
    attachments: tuple[Attachment, ...] = ()


@dataclass(frozen=True, kw_only=True)
class LocationEvent(Event):
    geo_uri: str
    description: str = ""


@dataclass(frozen=True, kw_only=True)
class ReactionEvent(Event):
    target_event_id: str
    key: str
    removed: bool = False


@dataclass(frozen=True, kw_only=True)
class EditEvent(Event):
    target_event_id: str
    new_body: str


@dataclass(frozen=True, kw_only=True)
class RedactionEvent(Event):
    target_event_id: str


class Membership(Enum):
    INVITE = "invite"
    JOIN = "join"
    LEAVE = "leave"
    BAN = "ban"


@dataclass(frozen=True, kw_only=True)
class MembershipEvent(Event):
    target_user_id: str
    membership: Membership


@dataclass(frozen=True, kw_only=True)
class CustomEvent(Event):
    """An event of a type of its own (Matrix: a custom event type), for bot-to-bot use.

    `vouched_by` is the cross-signing master key that vouches for the device that sent it
    (the device signed by its owner's self-signing key, signed by that master key, and the
    encryption session bound to that device), or None: then nothing vouches for it.
    """

    event_type: str
    content: Mapping[str, Any]
    vouched_by: str | None = None


@dataclass(frozen=True, kw_only=True)
class UndecryptableEvent(Event):
    """A message the bot could not read, and never got the key for in time."""


@dataclass(frozen=True)
class OutgoingMessage:
    """One message as the bot says it: plain text plus optional escaped HTML.

    `mentions` lists exactly the users the message may ping; it is sent explicitly (Matrix
    `m.mentions`) so that text inside the message can never ping anyone else, nor `@room`.
    Only the bot's own escalations set `mention_room`, to ping the whole room.
    """

    plain: str
    html: str | None = None
    notice: bool = True
    reply_to: str | None = None
    thread_root: str | None = None
    mentions: tuple[str, ...] = field(default=())
    mention_room: bool = False
    # Replaces a message the bot sent before (Matrix m.replace, Signal edit).
    edit_of: str | None = None
    # A custom event instead of a message (Matrix only): its type, and its content as
    # JSON text; `plain` then only describes it (for logs and tests).
    event_type: str | None = None
    data: str | None = None


@dataclass(frozen=True)
class SentMessage:
    room: RoomRef
    event_id: str
