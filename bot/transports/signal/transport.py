"""The Signal transport: Signal groups (and one-to-one chats) as rooms, via signal-cli.

Events are handed to the core one at a time, in the order signal-cli sends them; the next
is read only once the core has handled the last. When the daemon goes away the transport
reconnects with backoff; what arrived for the account meanwhile waits on the Signal server
(with signal-cli receiving only while the bot is connected, as the README's daemon command
line has it) and comes after the reconnection. The core's event ledger drops any repeat.

Limits of signal-cli's push design, not of this code: an envelope signal-cli has already
written to a connection that then dies (the bot crashing, say) is not sent again. On a
clean stop the transport reads and handles what is still in flight before closing.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncGenerator, Collection, Sequence
from dataclasses import replace
from datetime import UTC, datetime
from typing import Any

from bot.core.backoff import Backoff
from bot.core.events import Event, MessageEvent, OutgoingMessage
from bot.core.transport import TransportHost
from bot.transports.signal.convert import TRANSPORT, Converter
from bot.transports.signal.ids import MessageRef
from bot.transports.signal.people import Group, People
from bot.transports.signal.rpc import (
    INVALID_PARAMS,
    RATE_LIMITED,
    UNREGISTERED,
    Daemon,
    DaemonUnavailable,
    Payload,
    RpcError,
    call_retrying,
    retry_after,
    send_results,
)
from bot.transports.signal.store import SignalStore

log = logging.getLogger(__name__)

GROUP_ADMIN_POWER = 50
STOP_GRACE_SECONDS = 10.0
# On a clean stop, events keep being read until none came for this long.
DRAIN_IDLE_SECONDS = 0.5
# A connection that lasted this long was healthy: the backoff starts over.
HEALTHY_SECONDS = 60.0
MAX_BACKOFF_SECONDS = 30.0
# signal-cli pushes nothing while nobody writes: asking it this often shows it is still
# there, for `last_activity` (health checks).
HEARTBEAT_SECONDS = 30.0
# The most members Signal lets a group have.
GROUP_MEMBER_LIMIT = 1000


class SignalSetupError(Exception):
    """signal-cli is reachable but cannot serve the configured account."""


class SendError(Exception):
    """signal-cli refused a send or a group change (or reading a group); `code` is its
    JSON-RPC error code.

    A rate limit (-5) that outlasted the transport's own short waits, or whose advised wait
    is longer than they may be, has `retry_after`: the seconds Signal advised waiting
    before sending again (None when it gave none: 0.13.19 gives one only with a captcha
    challenge, 0.14 with every rate limit). Retrying sooner is refused again.
    """

    def __init__(self, error: RpcError) -> None:
        super().__init__(str(error))
        self.code = error.code
        self.retry_after = error.retry_after if error.code == RATE_LIMITED else None
        self.results = error.results

    @property
    def rate_limited(self) -> bool:
        return self.code == RATE_LIMITED

    @property
    def permanent(self) -> bool:
        """No retry changes it: every recipient is unknown to Signal (the number left
        Signal, or the account was deleted). Read by the outbox: given up at once."""
        results = self.results
        return bool(results) and all(r.get("type") == UNREGISTERED for r in results)


class SignalTransport:
    name = TRANSPORT
    identity_key: str | None = None
    member_limit: int | None = GROUP_MEMBER_LIMIT

    def __init__(self, daemon: Daemon, converter: Converter, store: SignalStore) -> None:
        self.daemon = daemon
        self.converter = converter
        self._store = store
        self._host: TransportHost | None = None
        self._task: asyncio.Task[None] | None = None
        self._heartbeat_task: asyncio.Task[None] | None = None
        self._stopping = asyncio.Event()
        # True while the receive loop holds (or is opening) a connection, not backing off.
        self._receiving = False
        self.last_activity: datetime | None = None
        self._in_flight: dict[str, asyncio.Future[str]] = {}
        self._people = People(daemon, converter.account)

    @property
    def own_user_id(self) -> str:
        return self.converter.account

    # --- lifecycle --------------------------------------------------------------------

    async def start(self, host: TransportHost) -> None:
        """Start receiving; returns once signal-cli answered for the account."""
        self._host = host
        self._stopping.clear()
        await self._store.prune(datetime.now(UTC))
        self._task = asyncio.create_task(self._receive_forever())
        try:
            version = await self._wait_for_daemon()
        except BaseException:
            await self._cancel()
            raise
        self._alive()
        self._heartbeat_task = asyncio.create_task(self._heartbeat())
        log.info("signal-cli %s serves the bot's account", version)

    async def stop(self) -> None:
        self._stopping.set()
        if self._task is not None:
            _, running = await asyncio.wait({self._task}, timeout=STOP_GRACE_SECONDS)
            if running:
                log.warning("Signal events were still being handled at stop")
            await self._cancel()
        await self.daemon.close()

    async def _cancel(self) -> None:
        tasks = [t for t in (self._task, self._heartbeat_task) if t is not None]
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        self._task = self._heartbeat_task = None

    def _alive(self) -> None:
        self.last_activity = datetime.now(UTC)

    async def _heartbeat(self) -> None:
        while not await self._stopped_within(HEARTBEAT_SECONDS):
            if not self._receiving:
                continue  # the receive loop is reconnecting: not alive, whatever calls say
            with contextlib.suppress(DaemonUnavailable, RpcError):
                await self.daemon.call("version")
                self._alive()

    async def _wait_for_daemon(self) -> str:
        backoff = Backoff(first=1.0, cap=MAX_BACKOFF_SECONDS)
        while True:
            try:
                answer = await self.daemon.call("version")
            except RpcError as error:
                if error.code == INVALID_PARAMS:
                    raise SignalSetupError(
                        "signal-cli does not know the account of [signal] account: "
                        "register or link it with signal-cli first"
                    ) from None
                raise
            except DaemonUnavailable as error:
                await self._wait_to_retry(backoff, error)
                continue
            return str(answer.get("version", "?") if isinstance(answer, dict) else "?")

    # --- receiving --------------------------------------------------------------------

    async def _receive_forever(self) -> None:
        loop = asyncio.get_running_loop()
        backoff = Backoff(first=1.0, cap=MAX_BACKOFF_SECONDS)
        while not self._stopping.is_set():
            opened = loop.time()
            try:
                await self._consume(self.daemon.events())
                return  # stopped cleanly
            except Exception as error:
                if self._stopping.is_set():
                    return
                if not isinstance(error, DaemonUnavailable):
                    log.exception("receiving from signal-cli failed")
                if loop.time() - opened > HEALTHY_SECONDS:
                    backoff.reset()
                await self._wait_to_retry(backoff, error)

    async def _consume(self, events: AsyncGenerator[Payload, None]) -> None:
        self._receiving = True
        try:
            while True:
                payload = await self._next(events)
                if payload is None:
                    return
                self._alive()
                await self._handle(payload)
        finally:
            self._receiving = False
            with contextlib.suppress(DaemonUnavailable):
                await events.aclose()

    async def _next(self, iterator: AsyncGenerator[Payload, None]) -> Payload | None:
        """The next event; None once stopping and nothing more came for a moment."""
        reading = asyncio.ensure_future(anext(iterator))
        try:
            await self._read_or_stop(reading)
            if not reading.done():
                # Stopping: what is still in flight is taken, until a moment passes idle.
                await asyncio.wait({reading}, timeout=DRAIN_IDLE_SECONDS)
        finally:
            # Cancelled or drained: the generator must not be left running.
            if not reading.done():
                reading.cancel()
                await asyncio.gather(reading, return_exceptions=True)
        return None if reading.cancelled() else self._payload_of(reading)

    async def _read_or_stop(self, reading: asyncio.Future[Payload]) -> None:
        stopping: asyncio.Future[Any] = asyncio.ensure_future(self._stopping.wait())
        try:
            await asyncio.wait({reading, stopping}, return_when=asyncio.FIRST_COMPLETED)
        finally:
            stopping.cancel()

    @staticmethod
    def _payload_of(reading: asyncio.Future[Payload]) -> Payload | None:
        try:
            return reading.result()
        except StopAsyncIteration:
            raise DaemonUnavailable("signal-cli ended the event stream") from None

    async def _handle(self, payload: Payload) -> None:
        try:
            event = self.converter.to_event(payload)
        except (KeyError, TypeError, ValueError) as error:
            # Never the envelope itself: it holds a message and its sender.
            log.warning("skipped a malformed Signal envelope (%s)", type(error).__name__)
            return
        if event is None:
            return
        try:
            event = await self._threaded(event)
            await self._report_identity(event.sender.user_id)
            assert self._host is not None
            await self._host.deliver(event)
        except Exception:
            # The core could not take it (its storage failing, say): keep receiving.
            log.exception("handing a Signal %s to the core failed", type(event).__name__)

    async def _threaded(self, event: Event) -> Event:
        """Signal has quotes, not threads: a quote continues the quoted message's thread."""
        if not isinstance(event, MessageEvent) or event.reply_to is None:
            return event
        root = await self._store.thread_of(event.reply_to) or event.reply_to
        await self._store.remember_thread(event.event_id, root)
        return replace(event, thread_root=root)

    async def _report_identity(self, user_id: str) -> None:
        """The sender's identity key, so a moderator whose key changed loses their rights."""
        fingerprint = await self._people.identity_key(user_id)
        if fingerprint is not None:
            assert self._host is not None
            await self._host.identity_seen(self.name, user_id, fingerprint)

    async def _wait_to_retry(self, backoff: Backoff, error: Exception) -> None:
        delay = backoff.failed()
        log.warning("signal-cli unavailable (%s); retrying in %.1fs", error, delay)
        await self._stopped_within(delay)

    async def _stopped_within(self, seconds: float) -> bool:
        """Wait up to `seconds`; True as soon as the transport is stopping."""
        with contextlib.suppress(TimeoutError):
            async with asyncio.timeout(seconds):  # not wait_for: see bot/outbox.py
                await self._stopping.wait()
        return self._stopping.is_set()

    # --- sending ----------------------------------------------------------------------

    async def send(self, room_id: str, message: OutgoingMessage, *, key: str | None = None) -> str:
        """Send; with a `key`, a send that already succeeded returns its id instead.

        The key is recorded once signal-cli has answered: a crash between its answer and
        that record (a few milliseconds) sends the message again on retry.
        """
        if key is None:
            return await self._send(room_id, message)
        # Concurrent sends with one key share the first one's outcome.
        sending = self._in_flight.get(key)
        if sending is None:
            sending = asyncio.ensure_future(self._send_once(key, room_id, message))
            self._in_flight[key] = sending
            sending.add_done_callback(lambda _: self._in_flight.pop(key, None))
        return await asyncio.shield(sending)

    async def _send_once(self, key: str, room_id: str, message: OutgoingMessage) -> str:
        timestamp = await self._store.sent_timestamp(key)
        if timestamp is not None:
            return self._own_id(timestamp)
        timestamp = await self._send_timestamp(room_id, message)
        await self._store.remember_sent(key, timestamp)
        return self._own_id(timestamp)

    async def _send(self, room_id: str, message: OutgoingMessage) -> str:
        return self._own_id(await self._send_timestamp(room_id, message))

    async def _send_timestamp(self, room_id: str, message: OutgoingMessage) -> int:
        params = self.converter.send_params(room_id, message)
        timestamp = await self._timestamp_of("send", params)
        root = message.thread_root or message.reply_to
        if root is not None:
            await self._store.remember_thread(self._own_id(timestamp), root)
        return timestamp

    async def react(self, room_id: str, event_id: str, emoji: str) -> str:
        return await self.reaction(room_id, event_id, emoji)

    async def reaction(
        self, room_id: str, event_id: str, emoji: str, *, remove: bool = False
    ) -> str:
        """React to a message (or take the bot's reaction back)."""
        target = self._target_message(event_id)
        params = {
            **self.converter.target(room_id),
            "emoji": emoji,
            "targetAuthor": target.author,
            "targetTimestamp": target.timestamp,
            "remove": remove,
        }
        return self._own_id(await self._timestamp_of("sendReaction", params))

    async def delete(self, room_id: str, event_id: str) -> None:
        """Delete one of the bot's own messages for everyone (Signal's remote delete)."""
        target = self._target_message(event_id)
        if target.author != self.own_user_id:
            raise ValueError("the bot can only delete its own messages")
        params = {**self.converter.target(room_id), "targetTimestamp": target.timestamp}
        await self._timestamp_of("remoteDelete", params)

    async def _timestamp_of(self, method: str, params: Payload) -> int:
        try:
            result = await call_retrying(self.daemon, method, params)
        except RpcError as error:
            raise SendError(error) from None
        timestamp = result.get("timestamp") if isinstance(result, dict) else None
        if not isinstance(timestamp, int):
            raise DaemonUnavailable(f"signal-cli {method}: an answer without a timestamp")
        _warn_partial(method, result)
        return timestamp

    def _target_message(self, event_id: str) -> MessageRef:
        target = self.converter.open(event_id)
        if target is None:
            raise ValueError("not a Signal message id")
        return target

    def _own_id(self, timestamp: int) -> str:
        return self.converter.sealer.event_id(self.own_user_id, timestamp)

    # --- permissions ------------------------------------------------------------------

    async def power_level(self, room_id: str, user_id: str) -> int:
        """Group admins count as power 50 (moderators, in a moderation room)."""
        if self.converter.sealer.open_chat(room_id) is not None:
            return 0
        admins = await self._people.group_admins(room_id)
        return GROUP_ADMIN_POWER if user_id in admins else 0

    async def remove(self, room_id: str, event_id: str, reason: str) -> bool:
        """Signal deletes only one's own messages: nobody else's can be removed."""
        return False

    async def retract(self, room_id: str, event_id: str) -> bool:
        try:
            await self.delete(room_id, event_id)
        except (ValueError, SendError, DaemonUnavailable) as error:
            log.warning("a remote delete failed: %s", type(error).__name__)
            return False
        return True

    async def room_name(self, room_id: str) -> str | None:
        if self.converter.sealer.open_chat(room_id) is not None:
            return None  # a one-to-one chat has no name
        return await self._people.group_name(room_id)

    async def is_member(self, room_id: str, user_id: str) -> bool:
        """A group's member; in a one-to-one chat, the other person."""
        other = self.converter.sealer.open_chat(room_id)
        if other is not None:
            return other == user_id
        return user_id in await self._people.group_members(room_id)

    # --- groups the bot makes, fills and leaves ----------------------------------------
    # Each raises `SendError` when signal-cli refuses, `DaemonUnavailable` when it is gone.

    async def members(self, room_id: str) -> list[str]:
        """A group's joined members (not the invited ones), the bot excepted, as uuids; in
        a one-to-one chat, the other person."""
        other = self.converter.sealer.open_chat(room_id)
        if other is not None:
            return [other]
        return sorted((await self._read_group(room_id)).members)

    async def members_named(self, room_id: str, names: Sequence[str]) -> list[str]:
        """The members of the group that `names` name as people type them on Signal: by
        uuid, or by phone number where the account sees it (a number may be hidden).
        Names that match no member are left out."""
        if self.converter.sealer.open_chat(room_id) is not None:
            return []
        group = await self._read_group(room_id)
        numbers = dict(group.numbers)
        found = [numbers.get(name) or name.lower() for name in names]
        return sorted({user_id for user_id in found if user_id in group.members})

    async def create_room(
        self, name: str, invite: Sequence[str], *, successor_of: str | None = None
    ) -> str:
        """A new group with `invite` in it (signal-cli invites those whose profile key the
        account lacks); as a successor, the old group's admins among them stay admins.

        Never retried: a retry could make a second group. If signal-cli fails after making
        the group, its error carries no id and the group stays behind, unknown to the bot.
        """
        params: Payload = {"name": name, "members": list(invite)}
        admins = await self._admins_among(successor_of, invite)
        if admins:
            params["admin"] = admins
        result = await self._group_change("updateGroup", params, retry=False)
        group_id = result.get("groupId") if isinstance(result, dict) else None
        if not isinstance(group_id, str) or not group_id:
            raise DaemonUnavailable("signal-cli updateGroup: an answer without a group id")
        log.info("created a Signal group with %d people asked in", len(invite))
        return group_id

    async def invite(self, room_id: str, user_ids: Sequence[str]) -> None:
        """Add people to the group (or invite them, as `create_room` does)."""
        if self.converter.sealer.open_chat(room_id) is not None:
            raise ValueError("a one-to-one chat takes nobody in")
        if user_ids:
            params = {"groupId": room_id, "members": list(user_ids)}
            await self._group_change("updateGroup", params, room_id)

    async def direct_chat(self, user_id: str, avoid: Collection[str] = ()) -> str:
        """Signal's one-to-one chats need no opening: the sealed id of the person."""
        return self.converter.sealer.chat_id(user_id)

    async def mark_replaced(self, room_id: str, successor: str) -> bool:
        """Signal groups have no link to a successor."""
        return False

    async def leave(self, room_id: str) -> None:
        """Quit the group (again: a no-op). signal-cli refuses to let the last admin quit
        while others stay: then every member becomes admin, nobody picked over the rest."""
        if self.converter.sealer.open_chat(room_id) is not None:
            return  # a one-to-one chat is not left
        group = await self._read_group(room_id, fresh=True)
        params: Payload = {"groupId": room_id}
        if group.bot_is_member and group.bot_is_admin and not group.admins and group.members:
            params["admin"] = sorted(group.members)
        await self._group_change("quitGroup", params, room_id)
        log.info("left a Signal group")

    async def _admins_among(self, group_id: str | None, people: Sequence[str]) -> list[str]:
        """The admins of `group_id` who are among `people` (none for no group)."""
        if group_id is None or self.converter.sealer.open_chat(group_id) is not None:
            return []
        admins = (await self._read_group(group_id)).admins
        return sorted(admins.intersection(people))

    async def _read_group(self, group_id: str, *, fresh: bool = False) -> Group:
        try:
            return await self._people.group(group_id, fresh=fresh)
        except RpcError as error:
            raise SendError(error) from None

    async def _group_change(
        self, method: str, params: Payload, group_id: str | None = None, *, retry: bool = True
    ) -> Any:
        try:
            if retry:  # waits out rate limits: changing a group twice changes nothing
                result = await call_retrying(self.daemon, method, params)
            else:
                result = await self.daemon.call(method, params)
        except RpcError as error:
            raise SendError(error) from None
        finally:
            if group_id is not None:
                self._people.forget(group_id)
        _warn_partial(method, result)
        return result


def _warn_partial(method: str, result: Any) -> None:
    """A group send can reach some members and fail for others (signal-cli answers success;
    0.14 says how long rate-limited ones should wait)."""
    results = send_results(result)
    failed = [r for r in results if r.get("type") != "SUCCESS"]
    if failed:
        wait = retry_after(failed)
        advised = f"; Signal advises waiting {wait:.0f} s" if wait else ""
        log.warning(
            "signal-cli %s: %d of %d recipients failed%s",
            method,
            len(failed),
            len(results),
            advised,
        )
