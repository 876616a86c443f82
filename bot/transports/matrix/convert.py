"""Translation between matrix-nio events and Vecinos' normalized events and messages."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import nio

from bot.core.events import (
    Attachment,
    CustomEvent,
    EditEvent,
    Event,
    LocationEvent,
    Membership,
    MembershipEvent,
    MessageEvent,
    OutgoingMessage,
    ReactionEvent,
    RedactionEvent,
    RoomRef,
    Sender,
)

TRANSPORT = "matrix"
# Custom event types the bot reads (other unknown types are ignored): Vecinos' own.
CUSTOM_NAMESPACE = "org.vecinos."

_MEDIA_KINDS: dict[type[nio.Event], str] = {
    nio.RoomMessageImage: "image",
    nio.RoomEncryptedImage: "image",
    nio.RoomMessageAudio: "audio",
    nio.RoomEncryptedAudio: "audio",
    nio.RoomMessageVideo: "video",
    nio.RoomEncryptedVideo: "video",
    nio.RoomMessageFile: "file",
    nio.RoomEncryptedFile: "file",
}


def timestamp(event: nio.Event) -> datetime:
    return datetime.fromtimestamp(event.server_timestamp / 1000, tz=UTC)


def to_normalized(room: nio.MatrixRoom, event: nio.Event) -> Event | None:
    """The normalized form of a timeline event, or None for events Vecinos ignores."""
    relates = _content(event).get("m.relates_to") or {}
    common: dict[str, Any] = {
        "room": RoomRef(TRANSPORT, room.room_id),
        "event_id": event.event_id,
        "sender": Sender(event.sender, room.user_name(event.sender)),
        "timestamp": timestamp(event),
        "thread_root": relates.get("event_id") if relates.get("rel_type") == "m.thread" else None,
        "reply_to": (relates.get("m.in_reply_to") or {}).get("event_id"),
        "encrypted": bool(getattr(event, "decrypted", False)),
        # The bot and one person (joined or invited): a direct chat.
        "direct": room.member_count == 2,
    }
    if isinstance(event, nio.RoomMessageText):
        return _text(event, relates, common)
    if isinstance(event, nio.RoomMessageUnknown) and event.msgtype == "m.location":
        return LocationEvent(
            geo_uri=str(event.content.get("geo_uri", "")),
            description=str(event.content.get("body", "")),
            **common,
        )
    kind = _MEDIA_KINDS.get(type(event))
    if kind is not None:
        body = getattr(event, "body", "") or ""
        return MessageEvent(body="", attachments=(Attachment(kind=kind, name=body),), **common)
    if isinstance(event, nio.ReactionEvent):
        return ReactionEvent(target_event_id=event.reacts_to, key=event.key, **common)
    if isinstance(event, nio.RedactionEvent):
        return RedactionEvent(target_event_id=event.redacts, **common)
    if isinstance(event, nio.RoomMemberEvent):
        return _membership(event, common)
    if isinstance(event, nio.UnknownEvent) and event.type.startswith(CUSTOM_NAMESPACE):
        return CustomEvent(event_type=event.type, content=_content(event), **common)
    return None


def _text(event: nio.RoomMessageText, relates: dict[str, Any], common: dict[str, Any]) -> Event:
    if relates.get("rel_type") == "m.replace":
        new_content = _content(event).get("m.new_content") or {}
        return EditEvent(
            target_event_id=str(relates.get("event_id", "")),
            new_body=str(new_content.get("body", "")),
            **common,
        )
    return MessageEvent(body=_strip_reply_fallback(event.body), **common)


def _membership(event: nio.RoomMemberEvent, common: dict[str, Any]) -> Event | None:
    try:
        membership = Membership(event.membership)
    except ValueError:
        return None
    return MembershipEvent(target_user_id=event.state_key, membership=membership, **common)


def _strip_reply_fallback(body: str) -> str:
    """Drop the `> quoted` lines older clients prepend to replies."""
    lines = body.split("\n")
    if not lines or not lines[0].startswith("> "):
        return body
    while lines and lines[0].startswith(">"):
        lines.pop(0)
    return "\n".join(lines).lstrip("\n")


def _content(event: nio.Event) -> dict[str, Any]:
    source = getattr(event, "source", None) or {}
    content = source.get("content") or {}
    return content if isinstance(content, dict) else {}


def to_content(message: OutgoingMessage) -> dict[str, Any]:
    """The `m.room.message` content for an outgoing message."""
    body: dict[str, Any] = {
        "msgtype": "m.notice" if message.notice else "m.text",
        "body": message.plain,
        # Explicit mentions: only these users may be pinged, and @room only when the bot
        # itself escalates (user text never sets it).
        "m.mentions": {"user_ids": list(message.mentions)},
    }
    if message.mention_room:
        body["m.mentions"]["room"] = True
    if message.html is not None:
        body["format"] = "org.matrix.custom.html"
        body["formatted_body"] = message.html
    if message.edit_of is not None:
        edit = {
            **body,
            "body": f"* {message.plain}",
            "m.new_content": body,
            "m.relates_to": {"rel_type": "m.replace", "event_id": message.edit_of},
        }
        if message.html is not None:
            edit["formatted_body"] = f"* {message.html}"
        return edit
    relates = _relation(message)
    if relates:
        body["m.relates_to"] = relates
    return body


def _relation(message: OutgoingMessage) -> dict[str, Any]:
    reply = {"m.in_reply_to": {"event_id": message.reply_to}} if message.reply_to else {}
    if message.thread_root:
        return {
            "rel_type": "m.thread",
            "event_id": message.thread_root,
            # Clients without threads show it as a reply; a real reply inside the
            # thread is not a fallback.
            "is_falling_back": message.reply_to in (None, message.thread_root),
            **(reply or {"m.in_reply_to": {"event_id": message.thread_root}}),
        }
    return reply


def reaction_content(event_id: str, emoji: str) -> dict[str, Any]:
    return {"m.relates_to": {"rel_type": "m.annotation", "event_id": event_id, "key": emoji}}
