"""What the core expects of a transport, and what a transport may ask of the core."""

from __future__ import annotations

from collections.abc import Collection, Sequence
from datetime import datetime
from typing import Protocol

from bot.core.events import Event, OutgoingMessage


class TransportHost(Protocol):
    """The core, as a transport sees it."""

    async def deliver(self, event: Event) -> None:
        """Handle one incoming event; returns once it is handled (or skipped)."""

    async def invite_allowed(self, transport: str, inviter: str, *, direct: bool) -> bool:
        """Whether an invite from `inviter` may be accepted; `direct`: to a direct chat."""

    async def room_joined_at(self, transport: str, room_id: str, joined_at: datetime) -> datetime:
        """When the bot joined `room_id`: recorded the first time, returned ever after."""

    async def load_token(self, transport: str) -> str | None:
        """The resume token saved after the last fully handled batch of events."""

    async def save_token(self, transport: str, token: str) -> None:
        """Persist the resume token; called only after every event before it was handled."""

    async def identity_seen(self, transport: str, user_id: str, master_key: str) -> None:
        """The user's identity key (Matrix: cross-signing master key) as just learned.

        Remembered on first sight; a different key later flags the person (see
        `bot.core.identity`). Called before the events of the same sync are delivered.
        """


class Transport(Protocol):
    name: str

    @property
    def own_user_id(self) -> str:
        """The bot's own id on this transport."""

    # The bot's own identity key on this network (Matrix: its cross-signing master key),
    # which another network's bot pins; None where there is none.
    identity_key: str | None

    @property
    def last_activity(self) -> datetime | None:
        """When the transport last heard from its server (Matrix: a sync), None before.

        A live transport keeps this recent even when nobody writes, or health checks
        (`bot.ops.health`) report it stuck.
        """

    async def start(self, host: TransportHost) -> None:
        """Connect and start receiving in the background."""

    async def stop(self) -> None: ...

    async def send(self, room_id: str, message: OutgoingMessage, *, key: str | None = None) -> str:
        """Send `message`; returns its event id. The same `key` never posts twice."""

    async def react(self, room_id: str, event_id: str, emoji: str) -> str: ...

    async def power_level(self, room_id: str, user_id: str) -> int:
        """The user's power in the room (0 where the transport has no such notion)."""

    async def is_member(self, room_id: str, user_id: str) -> bool:
        """Whether the user is in the room now (joined, not only invited)."""

    async def room_name(self, room_id: str) -> str | None:
        """The room's name as its members see it, if it has one."""

    async def retract(self, room_id: str, event_id: str) -> bool:
        """Delete one of the bot's own messages for everyone; False where it cannot."""

    async def remove(self, room_id: str, event_id: str, reason: str) -> bool:
        """Remove someone's message for everyone (Matrix: redact it); False where the bot
        has not the power to, or the network has no such thing (Signal)."""

    # Rooms the bot makes, fills and leaves (zones created and rotated from chat).

    # How many members a room of this network holds at most (a Signal group: 1,000);
    # None where the network sets no limit.
    member_limit: int | None

    async def members(self, room_id: str) -> list[str]:
        """Who is in the room now (joined, not only invited), the bot excepted."""

    async def members_named(self, room_id: str, names: Sequence[str]) -> list[str]:
        """The members that `names` stand for, as people type them (a Matrix id; on
        Signal, a uuid or a phone number where the bot sees it); names matching no member
        are left out."""

    async def create_room(
        self, name: str, invite: Sequence[str], *, successor_of: str | None = None
    ) -> str:
        """A new private room, with `invite` asked in; its id. Matrix: end-to-end
        encrypted, invite-only, history visible to members only; as the successor of a
        room, with the powers people held there (its moderators stay moderators; the old
        room points here, see `mark_replaced`). Signal: a group."""

    async def invite(self, room_id: str, user_ids: Sequence[str]) -> None:
        """Ask people into the room (Signal: add them to the group)."""

    async def direct_chat(self, user_id: str, avoid: Collection[str] = ()) -> str:
        """The room id of a one-to-one chat with `user_id`, opened when there is none yet
        (Matrix: the bot and that person alone in a room not in `avoid`, else a new
        encrypted direct room they are invited to, which they read from the invite on;
        Signal: their one-to-one chat, by uuid or phone number)."""

    async def mark_replaced(self, room_id: str, successor: str) -> bool:
        """Point the room at its successor where the network has such a link (Matrix: an
        `m.room.tombstone`, which needs the power to send it); whether it did."""

    async def leave(self, room_id: str) -> None:
        """The bot leaves the room (Signal: quits the group)."""
