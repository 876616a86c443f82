"""Opaque, stable ids for Signal messages and one-to-one chats.

Signal names a message by its author and sent timestamp, and a chat by the other person:
both are user ids. The core stores event ids (the event ledger) and plugins store event and
room ids in the clear, so the transport hands out sealed ids instead: deterministic
AES-SIV encryptions of (author, timestamp) or of the person, with a key derived from the
data key. The same message always gets the same id (the ledger can spot a repeat), only the
transport can open one (quotes, reactions, edits and deletes need the author and
timestamp back), and a seized data directory shows no user id.
"""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESSIV

EVENT_PREFIX = "sg."
CHAT_PREFIX = "dm."
KEY_BYTES = 64


@dataclass(frozen=True)
class MessageRef:
    """A Signal message: its author (a uuid, or the bot's number) and sent timestamp."""

    author: str
    timestamp: int


class Sealer:
    def __init__(self, key: bytes) -> None:
        if len(key) != KEY_BYTES:
            raise ValueError(f"a sealing key has {KEY_BYTES} bytes")
        self._siv = AESSIV(key)

    def event_id(self, author: str, timestamp: int) -> str:
        return EVENT_PREFIX + self._seal(f"{timestamp}:{author}", b"event")

    def open_event(self, event_id: str) -> MessageRef | None:
        text = self._open(event_id, EVENT_PREFIX, b"event")
        if text is None:
            return None
        timestamp, _, author = text.partition(":")
        return MessageRef(author, int(timestamp))

    def chat_id(self, user_id: str) -> str:
        """The room id of the one-to-one chat with `user_id`."""
        return CHAT_PREFIX + self._seal(user_id, b"chat")

    def open_chat(self, room_id: str) -> str | None:
        return self._open(room_id, CHAT_PREFIX, b"chat")

    def _seal(self, text: str, kind: bytes) -> str:
        sealed = self._siv.encrypt(text.encode("utf-8"), [kind])
        return base64.urlsafe_b64encode(sealed).decode("ascii").rstrip("=")

    def _open(self, token: str, prefix: str, kind: bytes) -> str | None:
        if not token.startswith(prefix):
            return None
        body = token.removeprefix(prefix)
        try:
            sealed = base64.urlsafe_b64decode(body + "=" * (-len(body) % 4))
            return self._siv.decrypt(sealed, [kind]).decode("utf-8")
        except (binascii.Error, ValueError, InvalidTag):
            return None
