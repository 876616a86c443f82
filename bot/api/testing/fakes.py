"""In-memory stand-ins for a chat network and for time, for tests.

`FakeTransport` records every message the bot sends (with its event id, idempotency key and
the clock's time) and every reaction; like Matrix transaction ids, a repeated key is not
posted again: the send answers with the first one's event id.

`ManualScheduler` is the core scheduler with the timer taken out: jobs are persisted and
rebuilt exactly as in production, but they run only when the test moves a `FakeClock`
(`run_until`), one by one at their own time, as a running bot would run them.
"""

from __future__ import annotations

import itertools
from collections.abc import Awaitable, Callable, Collection, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from bot.core.events import OutgoingMessage
from bot.core.scheduler import Scheduler
from bot.core.transport import TransportHost
from bot.storage.cipher import FieldCipher
from bot.storage.database import Database, utc_timestamp

TRANSPORT = "console"  # rooms in a test config are on this transport


def wall_clock() -> datetime:
    return datetime.now(UTC)


class FakeClock:
    def __init__(self, now: datetime) -> None:
        self.now = now

    def __call__(self) -> datetime:
        return self.now


class ManualScheduler(Scheduler):
    def __init__(self, db: Database, cipher: FieldCipher, clock: FakeClock) -> None:
        super().__init__(db, cipher, now=clock)
        self.clock = clock
        self.recurring: list[Callable[[], Awaitable[None]]] = []

    def _arm(self, job_id: str, run_at: datetime) -> None:
        """No timer: jobs run when the test moves the clock past them."""

    def every(self, interval: timedelta, func: Callable[[], Awaitable[None]]) -> None:
        self.recurring.append(func)

    async def run_until(self, moment: datetime) -> None:
        """Run every job due up to `moment`, each with the clock at its own time."""
        while (row := await self._next_due(moment)) is not None:
            self.clock.now = max(self.clock.now, datetime.fromisoformat(row[1]))
            await self._fire(row[0])
        self.clock.now = max(self.clock.now, moment)

    async def _next_due(self, moment: datetime) -> tuple[str, str] | None:
        row = await self._db.fetchone(
            "SELECT job_id, run_at FROM scheduled_jobs WHERE run_at <= ? ORDER BY run_at, job_id",
            (utc_timestamp(moment),),
        )
        return None if row is None else (row["job_id"], row["run_at"])

    async def jobs(self) -> dict[str, datetime]:
        rows = await self._db.fetchall("SELECT job_id, run_at FROM scheduled_jobs")
        return {row["job_id"]: datetime.fromisoformat(row["run_at"]) for row in rows}


@dataclass(frozen=True)
class Sent:
    room_id: str
    message: OutgoingMessage
    event_id: str
    key: str | None
    at: datetime  # the transport's clock when it was sent

    @property
    def text(self) -> str:
        return self.message.plain

    @property
    def mentions(self) -> tuple[str, ...]:
        return self.message.mentions


class FakeTransport:
    name = TRANSPORT
    identity_key: str | None = None

    def __init__(self, clock: Callable[[], datetime] = wall_clock) -> None:
        self.sent: list[Sent] = []
        self.reactions: list[tuple[str, str, str]] = []
        self._clock = clock
        self._by_key: dict[tuple[str, str], str] = {}
        self._ids = itertools.count(1)
        # Who is in which room (what a test set up, and who the bot asked in).
        self.people: dict[str, set[str]] = {}
        # Rooms the bot created (id -> name), the invitations it sent (room, user), the
        # rooms it marked replaced (old -> new) and those it left.
        self.created: dict[str, str] = {}
        self.invited: list[tuple[str, str]] = []
        self.replaced: dict[str, str] = {}
        self.left: list[str] = []
        # People the bot opened a direct chat with.
        self.directs: list[str] = []
        # Rooms where the bot may point at a successor (Matrix: the tombstone's power).
        self.may_replace: set[str] = set()
        # Rooms where the bot may remove others' messages, and (room, event) it removed.
        self.may_remove: set[str] = set()
        self.removed: list[tuple[str, str]] = []
        # The bot's own messages it deleted, (room, event); rooms where it cannot.
        self.retracted: list[tuple[str, str]] = []
        self.cannot_retract: set[str] = set()

    @property
    def own_user_id(self) -> str:
        return "vecinos"

    @property
    def last_activity(self) -> datetime | None:
        return self._clock()

    async def start(self, host: TransportHost) -> None:
        self.host = host

    async def stop(self) -> None:
        pass

    async def send(self, room_id: str, message: OutgoingMessage, *, key: str | None = None) -> str:
        if key is not None and (room_id, key) in self._by_key:
            return self._by_key[(room_id, key)]
        event_id = self._next_id()
        self.sent.append(Sent(room_id, message, event_id, key, self._clock()))
        if key is not None:
            self._by_key[(room_id, key)] = event_id
        return event_id

    async def react(self, room_id: str, event_id: str, emoji: str) -> str:
        self.reactions.append((room_id, event_id, emoji))
        return self._next_id()

    async def power_level(self, room_id: str, user_id: str) -> int:
        return 0

    async def room_name(self, room_id: str) -> str | None:
        return room_id

    async def is_member(self, room_id: str, user_id: str) -> bool:
        return user_id in self.people.get(room_id, ())

    member_limit: int | None = None

    async def members(self, room_id: str) -> list[str]:
        return sorted(self.people.get(room_id, ()))

    async def members_named(self, room_id: str, names: Sequence[str]) -> list[str]:
        return sorted(self.people.get(room_id, set()).intersection(names))

    async def create_room(
        self, name: str, invite: Sequence[str], *, successor_of: str | None = None
    ) -> str:
        room_id = f"!made{len(self.created) + 1}"
        self.created[room_id] = name
        await self.invite(room_id, invite)
        return room_id

    async def invite(self, room_id: str, user_ids: Sequence[str]) -> None:
        # The fake's people accept at once.
        self.invited += [(room_id, user_id) for user_id in user_ids]
        self.people.setdefault(room_id, set()).update(user_ids)

    async def direct_chat(self, user_id: str, avoid: Collection[str] = ()) -> str:
        """The person's direct chat: `dm:USER` (where a test has them write with
        `direct=True`); opened when new, and recorded in `directs`."""
        room_id = f"dm:{user_id}"
        if room_id not in self.people:
            self.directs.append(user_id)
            self.people[room_id] = {user_id}
        return room_id

    async def mark_replaced(self, room_id: str, successor: str) -> bool:
        if room_id not in self.may_replace:
            return False
        self.replaced[room_id] = successor
        return True

    async def leave(self, room_id: str) -> None:
        self.left.append(room_id)

    async def retract(self, room_id: str, event_id: str) -> bool:
        if room_id in self.cannot_retract:
            return False
        self.retracted.append((room_id, event_id))
        return True

    async def remove(self, room_id: str, event_id: str, reason: str) -> bool:
        if room_id not in self.may_remove:
            return False
        self.removed.append((room_id, event_id))
        return True

    def _next_id(self) -> str:
        return f"$bot{next(self._ids)}"
