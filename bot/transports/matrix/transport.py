"""The Matrix transport: a manual sync loop on matrix-nio with end-to-end encryption.

The loop saves the sync token only after every event of a batch was handed to the core and
handled, so a crash replays the batch instead of losing it; the core's event ledger makes
the replay harmless. Key uploads, queries and claims run between syncs, as nio's
`sync_forever` would do them, but before the batch's events are handled, so that commands
are judged with the senders' current identities. Room keys go only to the devices that the
trust policy allows (see `trust.py`).
"""

from __future__ import annotations

import asyncio
import json
import logging
import uuid
from collections.abc import Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from typing import Any

import aiohttp
import nio

from bot.core.backoff import Backoff
from bot.core.events import CustomEvent, OutgoingMessage, RoomRef, Sender, UndecryptableEvent
from bot.core.transport import TransportHost
from bot.transports.matrix import rooms
from bot.transports.matrix.api import ApiError
from bot.transports.matrix.convert import (
    TRANSPORT,
    reaction_content,
    timestamp,
    to_content,
    to_normalized,
)
from bot.transports.matrix.pending_keys import PendingKeys
from bot.transports.matrix.reach import probe
from bot.transports.matrix.trust import DeviceTrust

log = logging.getLogger(__name__)

LONG_POLL_MS = 30_000
# No sync for this long (a long poll and then some): time to look at the homeserver.
SYNC_STALL = timedelta(milliseconds=LONG_POLL_MS) + timedelta(seconds=15)
WATCH_SECONDS = 15.0
ROOM_WAIT_SECONDS = 30.0
MAX_BACKOFF_SECONDS = 60.0
# Enough history per room to catch up on the commands sent while the bot was down.
SYNC_FILTER = {"room": {"timeline": {"limit": 100}}}
# Deterministic transaction ids make a re-send after a crash a no-op on the homeserver.
TXN_NAMESPACE = uuid.UUID("6a0c2f44-5b1e-4f61-9a8e-7d3c1b2a9e10")


def _may_redact(levels: nio.PowerLevels, user_id: str) -> bool:
    """Whether `user_id` may redact other people's events in a room with these levels."""
    level: int = levels.get_user_level(user_id)
    return level >= levels.defaults.redact and bool(
        levels.can_user_send_message(user_id, "m.room.redaction")
    )


# The homeserver's answers that no retry changes: the bot may not write there (it left,
# was kicked or banned) or the room is gone.
PERMANENT = frozenset({"M_FORBIDDEN", "M_NOT_FOUND"})


class SendError(Exception):
    def __init__(self, status: str | None, message: str) -> None:
        super().__init__(f"{status}: {message}")
        self.status = status
        # Read by the outbox: given up at once, not retried for hours.
        self.permanent = status in PERMANENT


class MatrixTransport:
    name = TRANSPORT

    def __init__(
        self, client: nio.AsyncClient, undecryptable_wait: timedelta, trust: DeviceTrust
    ) -> None:
        self.client = client
        self.trust = trust
        # Rooms where the bot, as their creator, holds every power (room version 12 on).
        self._creators = rooms.Creators(client)
        self._pending = PendingKeys(client, undecryptable_wait.total_seconds())
        self._host: TransportHost | None = None
        self._task: asyncio.Task[None] | None = None
        self._watch: asyncio.Task[None] | None = None
        self._live = asyncio.Event()
        self.last_sync: datetime | None = None
        # Why the homeserver was last found unreachable, while it still is.
        self.unreachable: str | None = None
        # The bot's cross-signing master key, which partners pin (set once it is known).
        self.identity_key: str | None = None
        # Direct rooms opened or found, by person; one opened at a time (never two).
        self._direct: dict[str, str] = {}
        self._opening_direct = asyncio.Lock()

    @property
    def own_user_id(self) -> str:
        return str(self.client.user_id)

    @property
    def last_activity(self) -> datetime | None:
        # A long poll returns at least every LONG_POLL_MS, so an idle bot stays recent.
        return self.last_sync

    async def start(self, host: TransportHost) -> None:
        """Start syncing; returns after the first sync was handled."""
        self._host = host
        self._task = asyncio.create_task(self._run(await host.load_token(self.name)))
        self._watch = asyncio.create_task(self._watch_reach())
        live = asyncio.create_task(self._live.wait())
        await asyncio.wait({self._task, live}, return_when=asyncio.FIRST_COMPLETED)
        if self._task.done():
            live.cancel()
            self._task.result()  # raises what stopped it

    async def stop(self) -> None:
        tasks = [task for task in (self._task, self._watch) if task is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await self.client.close()

    async def _watch_reach(self) -> None:
        """nio retries a lost homeserver quietly: while syncs stop coming, say which URL
        cannot be reached and why, less often the longer it lasts, and when it is back."""
        backoff = Backoff(first=WATCH_SECONDS, cap=MAX_BACKOFF_SECONDS * 5)
        while True:
            await asyncio.sleep(WATCH_SECONDS if self.unreachable is None else backoff.failed())
            if await self.check_reach() is None:
                backoff.reset()

    async def check_reach(self) -> str | None:
        """Look at the homeserver if no sync came for a while; why it is unreachable, if so."""
        last = self.last_sync
        if last is not None and datetime.now(UTC) - last < SYNC_STALL:
            if self.unreachable is not None:
                log.info("the Matrix homeserver %s answers again", self.client.homeserver)
            self.unreachable = None
            return None
        why = await probe(self.client.homeserver)
        if why is not None:
            log.warning(
                "cannot reach the Matrix homeserver %s: %s; retrying",
                self.client.homeserver,
                why,
            )
        self.unreachable = why
        return why

    async def _run(self, since: str | None) -> None:
        first = True
        backoff = Backoff(first=1.0, cap=MAX_BACKOFF_SECONDS)
        while True:
            try:
                response = await self.client.sync(
                    timeout=0 if first else self._poll_ms(),
                    since=since,
                    full_state=first,
                    sync_filter=SYNC_FILTER,
                )
            except (TimeoutError, OSError, nio.ProtocolError) as error:
                response = nio.SyncError(str(type(error).__name__))
            if isinstance(response, nio.SyncError):
                await self._wait_to_retry(backoff, response)
                continue
            backoff.reset()
            # Keys first: commands are judged with the senders' latest identities known.
            await self._maintain_keys(response)
            await self._handle_sync(response, first_ever=since is None)
            assert self._host is not None
            await self._host.save_token(self.name, response.next_batch)
            since, first = response.next_batch, False
            self.last_sync = datetime.now(UTC)
            self._live.set()

    def _poll_ms(self) -> int:
        next_deadline = self._pending.seconds_to_next_deadline()
        if next_deadline is None:
            return LONG_POLL_MS
        return max(500, min(LONG_POLL_MS, int(next_deadline * 1000) + 100))

    @staticmethod
    async def _wait_to_retry(backoff: Backoff, response: nio.SyncError) -> None:
        delay = backoff.failed()
        log.warning("sync failed (%s); retrying in %.1fs", response.status_code, delay)
        await asyncio.sleep(delay)

    async def _maintain_keys(self, response: nio.SyncResponse) -> None:
        try:
            await self.trust.answer_key_requests(response.to_device_events)
            if self.client.should_upload_keys:
                await self.client.keys_upload()
            if self.client.should_query_keys:
                # Not nio's keys_query: it drops the cross-signing keys.
                await self.trust.query(self.client.users_for_key_query)
            if self.client.should_claim_keys:
                await self.client.keys_claim(self.client.get_users_for_key_claiming())
            if self.client.outgoing_to_device_messages:
                await self.client.send_to_device_messages()
        except (ApiError, aiohttp.ClientError, TimeoutError) as error:
            # Retried after the next sync: the users stay in nio's to-query set.
            log.warning("key maintenance failed: %s", type(error).__name__)
        await self._report_identities()

    async def _report_identities(self) -> None:
        assert self._host is not None
        for user_id, master_key in self.trust.take_master_keys().items():
            await self._host.identity_seen(self.name, user_id, master_key)

    async def _handle_sync(self, response: nio.SyncResponse, first_ever: bool) -> None:
        await self._handle_invites(response)
        await asyncio.gather(
            *(
                self._handle_room(room_id, info, first_ever)
                for room_id, info in response.rooms.join.items()
            )
        )
        await self._retry_pending()

    async def _handle_invites(self, response: nio.SyncResponse) -> None:
        assert self._host is not None
        for room_id, info in response.rooms.invite.items():
            invite = self._invite(info.invite_state)
            if invite is not None and await self._host.invite_allowed(
                self.name, str(invite.sender), direct=bool(invite.content.get("is_direct"))
            ):
                result = await self.client.join(room_id)
                log.info("accepted an invite (%s)", type(result).__name__)
            else:
                await self.client.room_leave(room_id)
                log.info("rejected an invite from someone not allowed to invite the bot")

    def _invite(self, invite_state: list[Any]) -> nio.InviteMemberEvent | None:
        """The event inviting the bot: its sender, and whether it opens a direct chat."""
        for event in invite_state:
            if (
                isinstance(event, nio.InviteMemberEvent)
                and event.state_key == self.own_user_id
                and event.membership == "invite"
            ):
                return event
        return None

    async def _handle_room(self, room_id: str, info: Any, first_ever: bool) -> None:
        room = self.client.rooms.get(room_id)
        if room is None:
            return
        joined_at = await self._joined_at(room_id, info, first_ever)
        log.debug(
            "room batch: %d events, limited=%s", len(info.timeline.events), info.timeline.limited
        )
        for event in info.timeline.events:
            if event.sender == self.own_user_id or timestamp(event) < joined_at:
                continue  # our own echo, or history from before the bot was here
            if isinstance(event, nio.MegolmEvent):
                await self._pending.add(room, event)
                continue
            await self._deliver(room, event)

    async def _joined_at(self, room_id: str, info: Any, first_ever: bool) -> datetime:
        """When the bot joined; on the very first sync everything before now is history."""
        assert self._host is not None
        own_join = None
        if not first_ever:
            for event in [*info.state, *info.timeline.events]:
                if (
                    isinstance(event, nio.RoomMemberEvent)
                    and event.state_key == self.own_user_id
                    and event.membership == "join"
                ):
                    own_join = timestamp(event)
        candidate = own_join or datetime.now(UTC)
        return await self._host.room_joined_at(self.name, room_id, candidate)

    async def _deliver(self, room: nio.MatrixRoom, event: nio.Event) -> None:
        normalized = to_normalized(room, event)
        if isinstance(normalized, CustomEvent):
            normalized = replace(normalized, vouched_by=self.trust.vouching_master(room, event))
        if normalized is not None:
            assert self._host is not None
            await self._host.deliver(normalized)

    async def _retry_pending(self) -> None:
        for room, event in self._pending.decryptable():
            await self._deliver(room, event)
        assert self._host is not None
        for room, event in self._pending.expired():
            await self._host.deliver(
                UndecryptableEvent(
                    room=RoomRef(TRANSPORT, room.room_id),
                    event_id=event.event_id,
                    sender=Sender(event.sender, room.user_name(event.sender)),
                    timestamp=timestamp(event),
                    encrypted=True,
                )
            )

    async def send(self, room_id: str, message: OutgoingMessage, *, key: str | None = None) -> str:
        if message.event_type is not None and message.data is not None:
            content = json.loads(message.data)
            return await self._room_send(room_id, message.event_type, content, key)
        return await self._room_send(room_id, "m.room.message", to_content(message), key)

    async def react(self, room_id: str, event_id: str, emoji: str) -> str:
        return await self._room_send(room_id, "m.reaction", reaction_content(event_id, emoji), None)

    async def _room_send(
        self, room_id: str, event_type: str, content: dict[str, Any], key: str | None
    ) -> str:
        await self._wait_for_room(room_id)
        tx_id = str(uuid.uuid5(TXN_NAMESPACE, key)) if key else None
        try:
            response = await self._encrypted_send(room_id, event_type, content, tx_id)
        except ApiError as error:
            raise SendError(str(error.status), str(error)) from error
        if isinstance(response, nio.RoomSendError):
            raise SendError(response.status_code, response.message)
        return str(response.event_id)

    async def _encrypted_send(
        self, room_id: str, event_type: str, content: dict[str, Any], tx_id: str | None
    ) -> nio.RoomSendResponse | nio.RoomSendError:
        try:
            return await self._send_once(room_id, event_type, content, tx_id)
        except nio.OlmUnverifiedDeviceError:
            # A device appeared between prepare() and sharing: decide on it, and again.
            return await self._send_once(room_id, event_type, content, tx_id)

    async def _send_once(
        self, room_id: str, event_type: str, content: dict[str, Any], tx_id: str | None
    ) -> nio.RoomSendResponse | nio.RoomSendError:
        """room_send, with the room's devices trusted or blacklisted by policy first."""
        encrypted = self.is_encrypted(room_id)
        if encrypted:
            await self.trust.prepare(room_id)
        response = await self.client.room_send(
            room_id,
            event_type,
            content,
            tx_id=tx_id,
            ignore_unverified_devices=self.trust.ignore_unverified,
        )
        if encrypted:
            self.trust.remember_shared(room_id)
        return response

    async def _wait_for_room(self, room_id: str) -> None:
        """A room joined a moment ago is only sendable once a sync has shown it."""
        loop = asyncio.get_running_loop()
        deadline = loop.time() + ROOM_WAIT_SECONDS
        while room_id not in self.client.rooms:
            if loop.time() > deadline:
                raise SendError(None, "the bot is not in that room")
            await asyncio.sleep(0.1)

    async def power_level(self, room_id: str, user_id: str) -> int:
        room = self.client.rooms.get(room_id)
        if room is None:
            return 0
        return int(room.power_levels.get_user_level(user_id))

    async def remove(self, room_id: str, event_id: str, reason: str) -> bool:
        room = self.client.rooms.get(room_id)
        if room is None:
            return False
        creator = await self._creators.privileged(room)
        if not creator and not _may_redact(room.power_levels, self.own_user_id):
            return False
        return await self._redact(room_id, event_id, reason)

    async def retract(self, room_id: str, event_id: str) -> bool:
        """Anyone may redact their own events: no power needed."""
        return await self._redact(room_id, event_id, None)

    async def _redact(self, room_id: str, event_id: str, reason: str | None) -> bool:
        tx_id = uuid.uuid5(TXN_NAMESPACE, f"redact:{event_id}")
        try:
            response = await self.client.room_redact(room_id, event_id, reason, tx_id=tx_id)
        except (aiohttp.ClientError, TimeoutError) as error:
            log.warning("a redaction failed: %s", type(error).__name__)
            return False
        if isinstance(response, nio.RoomRedactError):
            log.warning("a redaction failed: %s", response.status_code)
            return False
        return True

    async def room_name(self, room_id: str) -> str | None:
        room = self.client.rooms.get(room_id)
        return str(room.display_name) if room is not None else None

    async def is_member(self, room_id: str, user_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        member = room.users.get(user_id) if room is not None else None
        return member is not None and not member.invited

    # Matrix sets no member limit; a room's size watch is configured per room.
    member_limit: int | None = None

    async def members(self, room_id: str) -> list[str]:
        return rooms.joined_members(self.client, room_id)

    async def members_named(self, room_id: str, names: Sequence[str]) -> list[str]:
        members = set(rooms.joined_members(self.client, room_id))
        return sorted(members.intersection(names))

    async def create_room(
        self, name: str, invite: Sequence[str], *, successor_of: str | None = None
    ) -> str:
        return await rooms.create_room(self.client, name, invite, successor_of)

    async def invite(self, room_id: str, user_ids: Sequence[str]) -> None:
        await rooms.invite(self.client, room_id, user_ids)

    async def direct_chat(self, user_id: str, avoid: Collection[str] = ()) -> str:
        async with self._opening_direct:
            known = self._direct.get(user_id) or rooms.direct_room(self.client, user_id, avoid)
            if known is None:
                known = await rooms.create_direct(self.client, user_id)
            # Until a sync shows the new room, it is found here (not opened twice).
            self._direct[user_id] = known
            return known

    async def mark_replaced(self, room_id: str, successor: str) -> bool:
        return await rooms.tombstone(self.client, self._creators, room_id, successor)

    async def leave(self, room_id: str) -> None:
        await rooms.leave(self.client, room_id)

    def is_encrypted(self, room_id: str) -> bool:
        room = self.client.rooms.get(room_id)
        return bool(room is not None and room.encrypted)
