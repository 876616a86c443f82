"""Real matrix-nio E2E clients acting as the humans (neighbors, moderators) in tests.

Public waits take `timeout=` seconds like nio's own API (hence the ASYNC109 noqa's).
Each `UserClient` owns an `nio.AsyncClient` with a real crypto store and a background
`sync_forever` task. Everything that waits does so on one `asyncio.Condition` that is
notified after every sync-loop response, so waits end as soon as the state is there.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import secrets
from collections import defaultdict
from collections.abc import Awaitable, Callable, Sequence
from pathlib import Path
from typing import Any, TypeVar

from nio import (
    Api,
    AsyncClient,
    AsyncClientConfig,
    EncryptionError,
    JoinResponse,
    KeysUploadResponse,
    LoginResponse,
    MatrixRoom,
    MegolmEvent,
    RoomCreateResponse,
    RoomInviteResponse,
    RoomKeyEvent,
    RoomMessageNotice,
    RoomMessageText,
    RoomPutStateResponse,
    RoomSendResponse,
)

from bot.devtools.local_synapse import LocalSynapse, RegisteredUser

TextEvent = RoomMessageText | RoomMessageNotice
MessagePredicate = Callable[[TextEvent], bool]
UserFactory = Callable[[str], Awaitable["UserClient"]]

T = TypeVar("T")

DEFAULT_TIMEOUT = 20.0
_SYNC_TIMEOUT_MS = 30_000
# Busy rooms (a burst, a homeserver restart) must not come back as a "limited" batch with
# events skipped, as they would with the server's default timeline limit of 10.
_SYNC_FILTER = {"room": {"timeline": {"limit": 1000}}}
_MEGOLM = "m.megolm.v1.aes-sha2"


async def make_user_client(synapse: LocalSynapse, tmp_path: Path, localpart: str) -> UserClient:
    """Register `localpart`, log a fresh E2E device in and start its sync loop."""
    password = secrets.token_urlsafe(12)
    user = await asyncio.to_thread(synapse.register, localpart, password)
    store = tmp_path / "nio-stores" / localpart
    # nio only creates its Olm machine if the store dir exists at login time;
    # otherwise it silently sends plaintext into encrypted rooms.
    store.mkdir(parents=True, exist_ok=False)
    client = AsyncClient(
        synapse.base_url,
        user.user_id,
        store_path=str(store),
        config=AsyncClientConfig(store_sync_tokens=False, encryption_enabled=True),
    )
    user_client = UserClient(client, user)
    try:
        await user_client.start()
    except BaseException:
        await user_client.close()
        raise
    return user_client


class UserClient:
    """One human user on one E2E device."""

    def __init__(self, client: AsyncClient, user: RegisteredUser) -> None:
        self.client = client
        self.user = user
        self._changed = asyncio.Condition()
        self._messages: defaultdict[str, list[TextEvent]] = defaultdict(list)
        self._undecrypted: defaultdict[str, list[MegolmEvent]] = defaultdict(list)
        self._synced_once = False
        self._sync_task: asyncio.Task[None] | None = None

    @property
    def user_id(self) -> str:
        return self.user.user_id

    @property
    def access_token(self) -> str:
        return str(self.client.access_token)

    # -- lifecycle ----------------------------------------------------------------

    async def start(self) -> None:
        response = await self.client.login(self.user.password, device_name="vecinos-tests")
        if not isinstance(response, LoginResponse):
            raise RuntimeError(f"login of {self.user_id} failed: {response}")
        assert self.client.olm is not None, "nio has no Olm machine: E2E would be off"
        if self.client.should_upload_keys:
            await self._expect(self.client.keys_upload(), "keys_upload", KeysUploadResponse)
        self.client.add_event_callback(
            self._on_room_event, (RoomMessageText, RoomMessageNotice, MegolmEvent)
        )
        # RoomKeyEvent covers ForwardedRoomKeyEvent (a subclass).
        self.client.add_to_device_callback(self._on_room_key, RoomKeyEvent)
        self.client.add_response_callback(self._on_response, None)
        self._sync_task = asyncio.create_task(self._sync_loop(), name=f"sync {self.user_id}")
        await self._wait_for(lambda: self._synced_once or None, DEFAULT_TIMEOUT, "first sync")

    async def _sync_loop(self) -> None:
        try:
            await self.client.sync_forever(
                timeout=_SYNC_TIMEOUT_MS, sync_filter=_SYNC_FILTER, full_state=True
            )
        finally:
            # Wake waiters so they notice the loop is gone instead of timing out.
            await self._notify()

    async def close(self) -> None:
        task, self._sync_task = self._sync_task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.close()

    # -- rooms --------------------------------------------------------------------

    async def create_encrypted_room(
        self,
        invite: Sequence[str] = (),
        name: str | None = None,
        encrypted: bool = True,
        is_direct: bool = False,
    ) -> str:
        """Create a private room (megolm-encrypted unless `encrypted=False`); `is_direct`
        marks the invites as opening a direct chat, as clients do for "start chat"."""
        initial_state = [_encryption_state()] if encrypted else []
        response = await self._expect(
            self.client.room_create(
                name=name, invite=list(invite), initial_state=initial_state, is_direct=is_direct
            ),
            "room_create",
            RoomCreateResponse,
        )
        room_id = str(response.room_id)
        await self._wait_for_room(room_id, DEFAULT_TIMEOUT)
        return room_id

    async def join(self, room_id: str, timeout: float = DEFAULT_TIMEOUT) -> None:
        await self._expect(self.client.join(room_id), "join", JoinResponse)
        await self._wait_for_room(room_id, timeout)

    async def invite(self, room_id: str, user_id: str) -> None:
        await self._expect(self.client.room_invite(room_id, user_id), "invite", RoomInviteResponse)

    async def set_power(self, room_id: str, user_id: str, level: int) -> None:
        """Give `user_id` this power level in the room (this user must be able to)."""
        current = await self.client.room_get_state_event(room_id, "m.room.power_levels")
        content = dict(current.content)
        content["users"] = {**content.get("users", {}), user_id: level}
        await self._expect(
            self.client.room_put_state(room_id, "m.room.power_levels", content),
            "room_put_state",
            RoomPutStateResponse,
        )

    async def wait_for_invite(
        self,
        room_id: str | None = None,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> str:
        """Room id of a pending invite (`room_id`'s, or any one if None)."""

        def find() -> str | None:
            invited = self.client.invited_rooms
            if room_id is not None:
                return room_id if room_id in invited else None
            return next(iter(invited), None)

        return await self._wait_for(find, timeout, f"an invite to {room_id or 'any room'}")

    # -- messages -----------------------------------------------------------------

    async def send_text(
        self,
        room_id: str,
        body: str,
        *,
        thread_root: str | None = None,
        reply_to: str | None = None,
        msgtype: str = "m.text",
        timeout: float = DEFAULT_TIMEOUT,
    ) -> str:
        """Send a message (encrypted if the room is) and return its event id; `reply_to`
        without `thread_root`: an ordinary reply, outside any thread."""
        room = await self._wait_for_room(room_id, timeout)
        if room.encrypted:
            await self._prepare_encrypted_send(room_id, timeout)
        response = await self._expect(
            self.client.room_send(
                room_id,
                "m.room.message",
                _text_content(body, msgtype, thread_root, reply_to),
                ignore_unverified_devices=True,
            ),
            "room_send",
            RoomSendResponse,
        )
        return str(response.event_id)

    def undecrypted(self, room_id: str) -> list[MegolmEvent]:
        """Encrypted events in `room_id` whose key has not arrived (yet)."""
        return list(self._undecrypted[room_id])

    def messages(self, room_id: str) -> list[TextEvent]:
        """Text/notice messages seen in `room_id` so far, in arrival order.

        Messages that arrived encrypted have `event.decrypted` set.
        """
        return list(self._messages[room_id])

    async def wait_for_message(
        self,
        room_id: str,
        predicate: MessagePredicate,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> TextEvent:
        """First message in `room_id`, already seen or yet to come, matching `predicate`."""

        def find() -> TextEvent | None:
            return next((e for e in self._messages[room_id] if predicate(e)), None)

        return await self._wait_for(find, timeout, f"a matching message in {room_id}")

    # -- encryption readiness -------------------------------------------------------

    async def _prepare_encrypted_send(self, room_id: str, seconds: float) -> None:
        """Make nio share the megolm key with every device currently in the room.

        nio only shares with members and devices it knows about, and a fresh join
        may not have reached this client's sync yet. Wait for the server's member
        list to show up in nio's room state, then for the device key queries that
        the sync loop runs. Doing the key query here instead would race the sync
        loop's own query, which raises "No key query required" and kills it.
        """
        joined = await self._server_joined_members(room_id)
        await self._wait_for(
            lambda: self._knows_joined(room_id, joined) or None, seconds, "room members"
        )
        if not self.client.rooms[room_id].members_synced:
            # Otherwise room_send does this itself, plus a racing keys_query.
            await self.client.joined_members(room_id)
        await self._wait_for(
            lambda: self._devices_known(room_id) or None, seconds, "members' device keys"
        )

    async def _server_joined_members(self, room_id: str) -> set[str]:
        _method, path = Api.joined_members(self.access_token, room_id)
        response = await self.client.send("GET", path)
        body: dict[str, Any] = json.loads(await response.text())
        if response.status != 200:
            raise RuntimeError(f"joined_members of {room_id} failed: {body}")
        return set(body["joined"])

    def _knows_joined(self, room_id: str, joined: set[str]) -> bool:
        users = self.client.rooms[room_id].users
        return all(u in users and not users[u].invited for u in joined)

    def _devices_known(self, room_id: str) -> bool:
        olm = self.client.olm
        members = set(self.client.rooms[room_id].users)
        return members <= olm.tracked_users and not members & olm.users_for_key_query

    # -- nio callbacks ------------------------------------------------------------

    async def _on_room_event(self, room: MatrixRoom, event: TextEvent | MegolmEvent) -> None:
        if isinstance(event, MegolmEvent):
            # Its key has not arrived yet; _on_room_key retries when it does.
            self._undecrypted[room.room_id].append(event)
        else:
            self._messages[room.room_id].append(event)
        await self._notify()

    async def _on_response(self, _response: object) -> None:
        self._synced_once = True
        await self._notify()

    async def _on_room_key(self, event: RoomKeyEvent) -> None:
        """A megolm key arrived after its messages: decrypt the ones waiting for it."""
        pending = self._undecrypted[event.room_id]
        waiting = [e for e in pending if e.session_id == event.session_id]
        for megolm in waiting:
            try:
                decrypted = self.client.decrypt_event(megolm)
            except EncryptionError:
                continue
            pending.remove(megolm)
            if isinstance(decrypted, RoomMessageText | RoomMessageNotice):
                self._messages[event.room_id].append(decrypted)
        await self._notify()

    # -- waiting ------------------------------------------------------------------

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def _wait_for(self, find: Callable[[], T | None], seconds: float, what: str) -> T:
        """Re-evaluate `find` on every state change until it returns non-None."""
        found: T | None = None

        def ready() -> bool:
            nonlocal found
            self._raise_if_sync_died()
            found = find()
            return found is not None

        try:
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(ready)
        except TimeoutError:
            raise TimeoutError(f"{self.user_id}: no {what} after {seconds:.0f}s") from None
        assert found is not None
        return found

    async def _wait_for_room(self, room_id: str, seconds: float) -> MatrixRoom:
        return await self._wait_for(
            lambda: self.client.rooms.get(room_id), seconds, f"room {room_id} in sync"
        )

    def _raise_if_sync_died(self) -> None:
        task = self._sync_task
        if task is None:
            raise RuntimeError(f"{self.user_id}: client is not running")
        if task.done():
            error = None if task.cancelled() else task.exception()
            raise RuntimeError(f"{self.user_id}: sync loop stopped") from error

    async def _expect(self, call: Awaitable[Any], what: str, expected: type[Any]) -> Any:
        """Await an nio call and turn its error response into an exception."""
        response = await call
        if not isinstance(response, expected):
            raise RuntimeError(f"{self.user_id}: {what} failed: {response}")
        return response


def _encryption_state() -> dict[str, Any]:
    return {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": _MEGOLM}}


def _text_content(
    body: str, msgtype: str, thread_root: str | None, reply_to: str | None = None
) -> dict[str, Any]:
    content: dict[str, Any] = {"msgtype": msgtype, "body": body}
    if thread_root is None and reply_to is not None:
        content["m.relates_to"] = {"m.in_reply_to": {"event_id": reply_to}}
    if thread_root is not None:
        content["m.relates_to"] = {
            "rel_type": "m.thread",
            "event_id": thread_root,
            # Fallback for clients without thread support, as Element sends it.
            "is_falling_back": True,
            "m.in_reply_to": {"event_id": thread_root},
        }
    return content
