"""A local terminal chat with the bot: no server, some rooms, any number of pretend people.

Lines typed are messages from the current person in the current room; `/as NAME` switches
person, `/room NAME` room (`/rooms` lists them). Bot messages are printed as plain text,
the way a notification or a Signal message would show them, marked with their room when
there are several. People are in the rooms the network gives them (`members`); without
it, everyone at the terminal is in every room.

Ctrl-C quits at once: stdin is read by a daemon thread, which nothing waits for.
"""

from __future__ import annotations

import asyncio
import itertools
import re
import sys
import threading
import uuid
from collections.abc import Callable, Collection, Mapping, Sequence
from datetime import UTC, datetime

from bot.core.events import MessageEvent, OutgoingMessage, RoomRef, Sender
from bot.core.transport import TransportHost

TRANSPORT = "console"
ROOM_ID = "console"
BOT_ID = "vecinos"


class ConsoleTransport:
    name = TRANSPORT
    identity_key: str | None = None

    def __init__(
        self,
        user: str = "you",
        write: Callable[[str], None] = print,
        rooms: Sequence[str] = (ROOM_ID,),
        members: Mapping[str, Collection[str]] | None = None,
    ) -> None:
        self.user = user
        self.rooms = tuple(rooms)
        self._members = members
        self.current = self.rooms[0]
        self._write = write
        self._host: TransportHost | None = None
        # Unique across runs: the event ledger outlives the process.
        self._run = uuid.uuid4().hex[:8]
        self._ids = itertools.count(1)

    @property
    def own_user_id(self) -> str:
        return BOT_ID

    @property
    def last_activity(self) -> datetime | None:
        # No server to lose touch with: always current while started.
        return datetime.now(UTC) if self._host is not None else None

    @property
    def room(self) -> RoomRef:
        """Where typed lines go now."""
        return RoomRef(TRANSPORT, self.current)

    async def start(self, host: TransportHost) -> None:
        self._host = host

    async def stop(self) -> None:
        self._host = None

    async def say(self, line: str) -> str:
        """Handle one typed line; returns the id of the message it became ("": a switch)."""
        if line.startswith("/as "):
            self.user = line.removeprefix("/as ").strip() or self.user
            self._write(f"(you are now {self.user}, in {self.current})")
            return ""
        if line.strip() == "/rooms" or line.startswith("/room "):
            self._switch_room(line.removeprefix("/room ").strip() if line != "/rooms" else "")
            return ""
        assert self._host is not None, "start() first"
        event_id = f"c{self._run}-{next(self._ids)}"
        await self._host.deliver(
            MessageEvent(
                room=self.room,
                event_id=event_id,
                sender=Sender(self.user, self.user),
                timestamp=datetime.now(UTC),
                # A local terminal: nothing crosses a network.
                encrypted=True,
                body=line,
            )
        )
        return event_id

    def _switch_room(self, name: str) -> None:
        found = [room for room in self.rooms if room.startswith(name.lower())] if name else []
        if len(found) == 1:
            self.current = found[0]
            self._write(f"(you are now in {self.current}, as {self.user})")
        else:
            self._write(f"(rooms: {', '.join(self.rooms)}; say /room NAME)")

    async def send(self, room_id: str, message: OutgoingMessage, *, key: str | None = None) -> str:
        event_id = f"b{self._run}-{next(self._ids)}"
        marker = "(edited) " if message.edit_of else ""
        self._write(f"{self._where(room_id)}{BOT_ID}> {marker}{message.plain}")
        return event_id

    async def react(self, room_id: str, event_id: str, emoji: str) -> str:
        self._write(f"{self._where(room_id)}{BOT_ID} reacted {emoji}")
        return f"b{self._run}-{next(self._ids)}"

    def _where(self, room_id: str) -> str:
        """With several rooms, every bot line says which room it lands in."""
        return f"[{room_id}] " if len(self.rooms) > 1 else ""

    async def power_level(self, room_id: str, user_id: str) -> int:
        return 0

    async def room_name(self, room_id: str) -> str | None:
        return room_id

    async def is_member(self, room_id: str, user_id: str) -> bool:
        if room_id not in self.rooms:
            return False
        return self._members is None or user_id in self._members.get(room_id, (user_id,))

    async def remove(self, room_id: str, event_id: str, reason: str) -> bool:
        return False  # a terminal keeps what was typed

    # Rooms made or left change the list; a room made here holds whoever is at the terminal.
    member_limit: int | None = None

    async def members(self, room_id: str) -> list[str]:
        if room_id not in self.rooms:
            return []
        if self._members is None or room_id not in self._members:
            return [self.user]
        return sorted(self._members[room_id])

    async def members_named(self, room_id: str, names: Sequence[str]) -> list[str]:
        return [user for user in await self.members(room_id) if user in names]

    async def create_room(
        self, name: str, invite: Sequence[str], *, successor_of: str | None = None
    ) -> str:
        room_id = re.sub(r"[^a-z0-9]+", "-", name.lower()).strip("-") or "room"
        while room_id in self.rooms:
            room_id += "-2"
        self.rooms = (*self.rooms, room_id)
        self._write(f"(new room: {room_id}; say /room {room_id} to go there)")
        return room_id

    async def invite(self, room_id: str, user_ids: Sequence[str]) -> None:
        pass  # nobody to ask: the terminal is in every room

    async def direct_chat(self, user_id: str, avoid: Collection[str] = ()) -> str:
        return self.rooms[0]  # one person at the terminal: every room is theirs

    async def mark_replaced(self, room_id: str, successor: str) -> bool:
        return False

    async def leave(self, room_id: str) -> None:
        self.rooms = tuple(room for room in self.rooms if room != room_id) or (ROOM_ID,)
        if self.current == room_id:
            self.current = self.rooms[0]
        self._write(f"(the bot left {room_id})")

    async def retract(self, room_id: str, event_id: str) -> bool:
        return False  # and what was printed

    async def read_stdin(self) -> None:
        """Feed stdin lines to the bot until end of input."""
        lines: asyncio.Queue[str] = asyncio.Queue()
        loop = asyncio.get_running_loop()

        def read() -> None:
            # A daemon thread: Ctrl-C ends the program without waiting for a line.
            try:
                for line in iter(sys.stdin.readline, ""):
                    loop.call_soon_threadsafe(lines.put_nowait, line)
                loop.call_soon_threadsafe(lines.put_nowait, "")
            except RuntimeError:
                return  # the chat ended while a line was being typed

        threading.Thread(target=read, name="console-stdin", daemon=True).start()
        while line := await lines.get():
            if line.strip():
                await self.say(line.rstrip("\n"))
