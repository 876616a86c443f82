"""Messages the bot could not decrypt yet: ask for the key, retry, give up after a while."""

from __future__ import annotations

import contextlib
import logging
import time
from collections import OrderedDict
from collections.abc import Callable
from dataclasses import dataclass

import nio

log = logging.getLogger(__name__)

# (room, sender, session) groups already told, remembered so a later batch is not told again.
TOLD_MEMORY = 10_000


@dataclass
class _Pending:
    room: nio.MatrixRoom
    event: nio.MegolmEvent
    deadline: float


class PendingKeys:
    """Undecryptable events waiting for their room key, each for at most `wait` seconds."""

    def __init__(
        self, client: nio.AsyncClient, wait: float, clock: Callable[[], float] = time.monotonic
    ) -> None:
        self._client = client
        self._wait = wait
        self._clock = clock
        self._pending: list[_Pending] = []
        self._told: OrderedDict[tuple[str, str, str], None] = OrderedDict()

    def __len__(self) -> int:
        return len(self._pending)

    async def add(self, room: nio.MatrixRoom, event: nio.MegolmEvent) -> None:
        self._pending.append(_Pending(room, event, self._clock() + self._wait))
        # LocalProtocolError: a request for this session is already out.
        with contextlib.suppress(nio.LocalProtocolError):
            await self._client.request_room_key(event)
        log.debug("waiting for a room key (%d pending)", len(self._pending))

    def decryptable(self) -> list[tuple[nio.MatrixRoom, nio.Event]]:
        """Pending events whose key has arrived, decrypted, removed from the wait list."""
        ready: list[tuple[nio.MatrixRoom, nio.Event]] = []
        for item in list(self._pending):
            try:
                decrypted = self._client.decrypt_event(item.event)
            except nio.EncryptionError:
                continue
            self._pending.remove(item)
            ready.append((item.room, decrypted))
        return ready

    def expired(self) -> list[tuple[nio.MatrixRoom, nio.MegolmEvent]]:
        """Events whose wait is over, once per sender and session so nobody is told twice."""
        now = self._clock()
        gone = [p for p in self._pending if p.deadline <= now]
        self._pending = [p for p in self._pending if p.deadline > now]
        firsts = []
        for item in gone:
            group = (item.room.room_id, item.event.sender, item.event.session_id)
            if group not in self._told:
                self._told[group] = None
                firsts.append((item.room, item.event))
        while len(self._told) > TOLD_MEMORY:
            self._told.popitem(last=False)
        return firsts

    def seconds_to_next_deadline(self) -> float | None:
        if not self._pending:
            return None
        return max(0.0, min(p.deadline for p in self._pending) - self._clock())
