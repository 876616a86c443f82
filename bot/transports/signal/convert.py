"""Translation between signal-cli's JSON (0.13.19) and Vecinos' normalized events.

People are keyed on `sourceUuid` (a phone number may be hidden). A message is named by its
author and sent timestamp, sealed into an opaque id (see `ids`); the bot's own messages are
named by its account number, which is how signal-cli can address them in quotes,
reactions, edits and deletes.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from bot.core.events import (
    Attachment,
    EditEvent,
    Event,
    MessageEvent,
    OutgoingMessage,
    ReactionEvent,
    RedactionEvent,
    RoomRef,
    Sender,
)
from bot.transports.signal.ids import MessageRef, Sealer
from bot.transports.signal.rpc import Payload

TRANSPORT = "signal"
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_MEDIA_KINDS = ("image", "audio", "video")


class Converter:
    """Envelopes in, `send` parameters out, for one account."""

    def __init__(self, account: str, sealer: Sealer) -> None:
        self.account = account
        self.sealer = sealer

    # --- incoming ---------------------------------------------------------------------

    def to_event(self, payload: Payload) -> Event | None:
        """The normalized event of a received envelope, or None for what Vecinos ignores
        (sync, receipt, typing, story and call messages, group updates, stickers...)."""
        envelope = payload["envelope"]
        uuid = envelope.get("sourceUuid")
        if not isinstance(uuid, str) or not uuid:
            return None  # undecryptable or sealed-sender failures carry no usable sender
        if isinstance(envelope.get("editMessage"), dict):
            return self._edit(envelope, envelope["editMessage"])
        data = envelope.get("dataMessage")
        if not isinstance(data, dict):
            return None
        group = data.get("groupInfo") or {}
        if group.get("type") == "UPDATE":
            return None
        return self._data(envelope, data)

    def _data(self, envelope: Payload, data: Payload) -> Event | None:
        common = self._common(envelope, data)
        reaction = data.get("reaction")
        if isinstance(reaction, dict):
            target = self.message_id(
                reaction.get("targetAuthorNumber"),
                reaction.get("targetAuthorUuid"),
                reaction.get("targetSentTimestamp"),
            )
            emoji = str(reaction.get("emoji") or "")
            removed = bool(reaction.get("isRemove"))
            return ReactionEvent(target_event_id=target, key=emoji, removed=removed, **common)
        deleted = data.get("remoteDelete")
        if isinstance(deleted, dict):
            target = self.message_id(
                envelope.get("sourceNumber"), envelope["sourceUuid"], deleted.get("timestamp")
            )
            return RedactionEvent(target_event_id=target, **common)
        attachments = tuple(_attachment(item) for item in data.get("attachments") or ())
        body = data.get("message")
        if not isinstance(body, str) and not attachments:
            return None
        return MessageEvent(body=body or "", attachments=attachments, **common)

    def _edit(self, envelope: Payload, edit: Payload) -> Event | None:
        data = edit.get("dataMessage")
        if not isinstance(data, dict) or not isinstance(data.get("message"), str):
            return None
        target = self.message_id(
            envelope.get("sourceNumber"), envelope["sourceUuid"], edit.get("targetSentTimestamp")
        )
        common = self._common(envelope, data)
        return EditEvent(target_event_id=target, new_body=data["message"], **common)

    def _common(self, envelope: Payload, data: Payload) -> dict[str, Any]:
        uuid = envelope["sourceUuid"]
        group = data.get("groupInfo") or {}
        room_id = group.get("groupId") or self.sealer.chat_id(uuid)
        quote = data.get("quote")
        reply_to = None
        if isinstance(quote, dict):
            reply_to = self.message_id(
                quote.get("authorNumber"), quote.get("authorUuid"), quote.get("id")
            )
        name = envelope.get("sourceName")
        return {
            "room": RoomRef(TRANSPORT, str(room_id)),
            "event_id": self.message_id(
                envelope.get("sourceNumber"), uuid, data.get("timestamp", envelope["timestamp"])
            ),
            "sender": Sender(uuid, name if isinstance(name, str) and name else None),
            # The server's clock, not the sender's: it decides whether a command is too old.
            "timestamp": _when(envelope.get("serverReceivedTimestamp") or envelope["timestamp"]),
            "reply_to": reply_to,
            # Signal is end-to-end encrypted; signal-cli only hands out decrypted messages.
            "encrypted": True,
            "direct": not group.get("groupId"),
        }

    def message_id(self, number: Any, uuid: Any, timestamp: Any) -> str:
        """The sealed id of the message `timestamp` by the author with this number / uuid."""
        author = self.account if number == self.account else uuid or number
        return self.sealer.event_id(str(author), int(timestamp))

    # --- outgoing ---------------------------------------------------------------------

    def target(self, room_id: str) -> Payload:
        """`send`'s addressing parameters for a group id or a sealed one-to-one chat."""
        person = self.sealer.open_chat(room_id)
        return {"recipient": [person]} if person is not None else {"groupId": room_id}

    def send_params(self, room_id: str, message: OutgoingMessage) -> Payload:
        params: Payload = {**self.target(room_id), "message": message.plain}
        quoted = self.open(message.reply_to or message.thread_root)
        if quoted is not None:
            params["quoteTimestamp"] = quoted.timestamp
            params["quoteAuthor"] = quoted.author
        edited = self.open(message.edit_of)
        if edited is not None:
            params["editTimestamp"] = edited.timestamp
        mentions = _mentions(message.plain, message.mentions)
        if mentions:
            params["mention"] = mentions
        return params

    def open(self, event_id: str | None) -> MessageRef | None:
        return self.sealer.open_event(event_id) if event_id else None


def _attachment(item: Any) -> Attachment:
    item = item if isinstance(item, dict) else {}
    content_type = str(item.get("contentType") or "")
    major = content_type.partition("/")[0]
    name = item.get("filename")
    return Attachment(
        kind=major if major in _MEDIA_KINDS else "file",
        name=name if isinstance(name, str) else None,
    )


def _mentions(plain: str, user_ids: tuple[str, ...]) -> list[str]:
    """signal-cli `start:length:uuid` mentions for the users whose uuid the text shows:
    Signal draws each as @Name, and pings only these (offsets count UTF-16 units)."""
    mentions = []
    for user_id in user_ids:
        index = plain.find(user_id)
        if index >= 0 and _UUID.fullmatch(user_id):
            start = _utf16_length(plain[:index])
            mentions.append(f"{start}:{_utf16_length(user_id)}:{user_id}")
    return mentions


def _utf16_length(text: str) -> int:
    return len(text.encode("utf-16-le")) // 2


def _when(milliseconds: Any) -> datetime:
    return datetime.fromtimestamp(int(milliseconds) / 1000, tz=UTC)
