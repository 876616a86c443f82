"""Shared set-up for the benchmarks: a loopback Synapse, real E2E nio clients, the bot.

Everything runs on 127.0.0.1 under one temporary directory. Accounts come from Synapse's
shared-secret registration. Rooms are created and joined over the client-server API before
any client logs in, so each client's first sync already shows every room it is in. The bot
runs in this event loop exactly as `vecinos run` runs it (same plugins, same transports).
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import secrets
import statistics
import time
import urllib.parse
from collections import defaultdict
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import nio
import tomli_w

from bot.core.config import load_settings
from bot.devtools.local_synapse import LocalSynapse, RegisteredUser
from bot.runtime.app import Application
from bot.runtime.connect import configured_transports
from bot.runtime.plugins import default_plugins, default_schema
from bot.storage.keys import DataKey, load_data_key, write_key_file
from bot.transports.matrix.transport import MatrixTransport

MEGOLM = "m.megolm.v1.aes-sha2"
DEFAULT_TIMEOUT = 60.0
SYNC_TIMEOUT_MS = 30_000
# A client whose sync falls behind a busy room must still get every event: with the default
# timeline limit (10) a slow sync returns a "limited" batch and the older events are skipped.
SYNC_FILTER = {"room": {"timeline": {"limit": 1000}}}
AREA = {"slug": "pilsen", "name_en": "Pilsen", "name_es": "Pilsen"}


# --- accounts and rooms --------------------------------------------------------------------


async def register(synapse: LocalSynapse, localpart: str) -> RegisteredUser:
    return await asyncio.to_thread(synapse.register, localpart, secrets.token_urlsafe(12))


async def encrypted_room(
    synapse: LocalSynapse, creator: RegisteredUser, members: Sequence[RegisteredUser]
) -> str:
    """A private megolm room made by `creator`, which every one of `members` has joined."""
    return await asyncio.to_thread(_encrypted_room, synapse, creator, members)


def _encrypted_room(
    synapse: LocalSynapse, creator: RegisteredUser, members: Sequence[RegisteredUser]
) -> str:
    body = {
        "preset": "private_chat",
        "invite": [member.user_id for member in members],
        "initial_state": [
            {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}}
        ],
    }
    path = "/_matrix/client/v3/createRoom"
    room_id = str(synapse.admin_request("POST", path, body, token=creator.access_token)["room_id"])
    join = f"/_matrix/client/v3/join/{urllib.parse.quote(room_id, safe='')}"
    for member in members:
        synapse.admin_request("POST", join, {}, token=member.access_token)
    return room_id


async def encrypted_rooms(
    synapse: LocalSynapse,
    count: int,
    creator: RegisteredUser,
    members: Sequence[RegisteredUser],
    parallel: int = 4,
) -> list[str]:
    """`count` rooms like `encrypted_room`'s, a few at a time (Synapse serializes the rest)."""
    slots = asyncio.Semaphore(parallel)

    async def one() -> str:
        async with slots:
            return await encrypted_room(synapse, creator, members)

    return list(await asyncio.gather(*(one() for _ in range(count))))


def text(body: str) -> dict[str, Any]:
    return {"msgtype": "m.text", "body": body}


# --- E2E clients -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """A decrypted text or notice, with when this client had it in clear (perf_counter)."""

    room_id: str
    event_id: str
    sender: str
    body: str
    content: dict[str, Any]
    at: float


class E2EClient:
    """One user on a fresh nio device with a crypto store and a `sync_forever` loop."""

    def __init__(self, synapse: LocalSynapse, user: RegisteredUser, store: Path) -> None:
        # nio only makes its Olm machine if the store dir exists at login: otherwise it
        # would quietly send plaintext into encrypted rooms.
        store.mkdir(parents=True, exist_ok=False)
        self.user = user
        self.client = nio.AsyncClient(
            synapse.base_url,
            user.user_id,
            store_path=str(store),
            config=nio.AsyncClientConfig(store_sync_tokens=False, encryption_enabled=True),
        )
        self._changed = asyncio.Condition()
        self._received: defaultdict[str, list[Received]] = defaultdict(list)
        self._undecrypted: defaultdict[str, list[nio.MegolmEvent]] = defaultdict(list)
        self._synced = False
        self._task: asyncio.Task[None] | None = None
        # Room batches that came "limited" (events skipped): should stay 0.
        self.gaps = 0

    @property
    def user_id(self) -> str:
        return self.user.user_id

    async def start(self) -> None:
        response = await self.client.login(self.user.password, device_name="bench")
        if not isinstance(response, nio.LoginResponse):
            raise RuntimeError(f"login failed: {response}")
        if self.client.olm is None:
            raise RuntimeError("nio has no Olm machine: E2E would be off")
        if self.client.should_upload_keys:
            await self._expect(self.client.keys_upload(), nio.KeysUploadResponse)
        messages = (nio.RoomMessageText, nio.RoomMessageNotice, nio.MegolmEvent)
        self.client.add_event_callback(self._on_event, messages)
        self.client.add_to_device_callback(self._on_room_key, nio.RoomKeyEvent)
        self.client.add_response_callback(self._on_response, nio.SyncResponse)
        self._task = asyncio.create_task(self._sync())
        await self.wait_until(lambda: self._synced, DEFAULT_TIMEOUT, "a first sync")

    async def close(self) -> None:
        task, self._task = self._task, None
        if task is not None:
            task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await task
        await self.client.close()

    async def _sync(self) -> None:
        try:
            await self.client.sync_forever(
                timeout=SYNC_TIMEOUT_MS, sync_filter=SYNC_FILTER, full_state=True
            )
        finally:
            await self._notify()  # waiters see the loop is gone instead of timing out

    # -- receiving ------------------------------------------------------------------------

    def received(self, room_id: str) -> list[Received]:
        return self._received[room_id]

    def undecrypted(self) -> int:
        return sum(len(events) for events in self._undecrypted.values())

    async def wait_until(self, ready: Callable[[], bool], seconds: float, what: str) -> None:
        """Re-check `ready` after every sync until it holds."""

        def check() -> bool:
            if self._task is not None and self._task.done():
                raise RuntimeError(f"{self.user_id}: sync loop stopped") from (
                    None if self._task.cancelled() else self._task.exception()
                )
            return ready()

        try:
            async with asyncio.timeout(seconds), self._changed:
                await self._changed.wait_for(check)
        except TimeoutError:
            raise TimeoutError(f"{self.user_id}: no {what} after {seconds:.0f}s") from None

    async def _on_event(self, room: nio.MatrixRoom, event: nio.Event) -> None:
        if isinstance(event, nio.MegolmEvent):
            self._undecrypted[room.room_id].append(event)  # retried when its key arrives
        else:
            self._keep(room.room_id, event)
        await self._notify()

    async def _on_room_key(self, event: nio.RoomKeyEvent) -> None:
        pending = self._undecrypted[event.room_id]
        for megolm in [e for e in pending if e.session_id == event.session_id]:
            try:
                decrypted = self.client.decrypt_event(megolm)
            except nio.EncryptionError:
                continue
            pending.remove(megolm)
            if isinstance(decrypted, nio.RoomMessageText | nio.RoomMessageNotice):
                self._keep(event.room_id, decrypted)
        await self._notify()

    def _keep(self, room_id: str, event: nio.Event) -> None:
        content = dict(event.source.get("content") or {})
        received = Received(
            room_id, event.event_id, event.sender, event.body, content, time.perf_counter()
        )
        self._received[room_id].append(received)

    async def _on_response(self, response: nio.SyncResponse) -> None:
        if self._synced:  # the first sync's history is not a gap
            self.gaps += sum(1 for room in response.rooms.join.values() if room.timeline.limited)
        self._synced = True
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    # -- sending --------------------------------------------------------------------------

    async def send(self, room_id: str, content: Mapping[str, Any]) -> str:
        """A plain nio `room_send` (encrypted in an encrypted room); the event id."""
        response = await self._expect(
            self.client.room_send(
                room_id, "m.room.message", dict(content), ignore_unverified_devices=True
            ),
            nio.RoomSendResponse,
        )
        return str(response.event_id)

    async def prepare(self, room_id: str, seconds: float = DEFAULT_TIMEOUT) -> None:
        """Know every member's devices, so the first send shares the key with all of them.

        The device queries are left to the sync loop: running one here would race the
        loop's own and kill it ("No key query required").
        """
        answer = self._expect(self.client.joined_members(room_id), nio.JoinedMembersResponse)
        joined = {member.user_id for member in (await answer).members}
        await self.wait_until(lambda: self._knows(room_id, joined), seconds, "room members")
        await self.wait_until(lambda: self._devices_known(room_id), seconds, "device keys")

    def _knows(self, room_id: str, joined: set[str]) -> bool:
        room = self.client.rooms.get(room_id)
        return room is not None and all(
            u in room.users and u not in room.invited_users for u in joined
        )

    def _devices_known(self, room_id: str) -> bool:
        olm = self.client.olm
        members = set(self.client.rooms[room_id].users)
        return members <= olm.tracked_users and not members & olm.users_for_key_query

    async def _expect(self, call: Any, expected: type[Any]) -> Any:
        response = await call
        if not isinstance(response, expected):
            raise RuntimeError(f"{self.user_id}: wanted {expected.__name__}, got {response}")
        return response


async def start_client(synapse: LocalSynapse, user: RegisteredUser, store: Path) -> E2EClient:
    client = E2EClient(synapse, user, store)
    try:
        await client.start()
    except BaseException:
        await client.close()
        raise
    return client


# --- the bot in-process ----------------------------------------------------------------------


@dataclass
class BotFiles:
    """Where the bot's config, key and data live, and what the config says."""

    directory: Path
    homeserver: str
    user: RegisteredUser
    rooms: list[dict[str, Any]]
    moderators: Sequence[str] = ()
    # Merged over the defaults below, table by table (e.g. {"reports": {...}}).
    overrides: Mapping[str, Any] = field(default_factory=dict)

    @property
    def config_path(self) -> Path:
        return self.directory / "config.toml"

    def write(self) -> tuple[Path, DataKey]:
        """The config and the data key; a key written before is kept (a restart reads it)."""
        self.directory.mkdir(parents=True, exist_ok=True)
        key_file = self.directory / "vecinos.key"
        if key_file.exists():
            key = load_data_key(key_file, env={})
        else:
            key = DataKey.generate()
            write_key_file(key_file, key)
        self.config_path.write_text(tomli_w.dumps(merged(self.config(), self.overrides)))
        return self.config_path, key

    def config(self) -> dict[str, Any]:
        # Benchmarks report and command far faster than people: no per-person limits.
        return {
            "moderators": list(self.moderators),
            "bot": {
                "data_dir": str(self.directory / "data"),
                "data_key_file": str(self.directory / "vecinos.key"),
                "commands_per_minute": 1000,
            },
            "matrix": {
                "homeserver": self.homeserver,
                "user_id": self.user.user_id,
                "password": self.user.password,
            },
            "reports": {"per_person_limit": 100, "timezone": "America/Chicago"},
            # Several bots may run at once: the health endpoint on a free port each.
            "health": {"port": 0},
            "areas": [AREA],
            "rooms": self.rooms,
        }


class RunningBot:
    def __init__(self, app: Application) -> None:
        self.app = app

    @property
    def matrix(self) -> MatrixTransport:
        transport = self.app.runtime.transports["matrix"]
        assert isinstance(transport, MatrixTransport)
        return transport

    async def wait_idle(self, seconds: float = DEFAULT_TIMEOUT) -> None:
        """Until the durable outbox has nothing left to send."""
        async with asyncio.timeout(seconds):
            # The outbox has no "drained" event to wait on; its backlog is one cheap query.
            while await self.app.bot.outbox.backlog():  # noqa: ASYNC110
                await asyncio.sleep(0.05)

    async def stop(self) -> None:
        await self.app.stop()


async def start_bot(files: BotFiles) -> RunningBot:
    """Open storage, log in, start plugins and transports: `vecinos run` minus signals."""
    path, key = files.write()
    app = Application(load_settings(path, env={}, schema=default_schema()), key, default_plugins())
    await app.open()
    try:
        await app.start(await configured_transports(app))
    except BaseException:
        await app.stop()
        raise
    return RunningBot(app)


def merged(low: Mapping[str, Any], high: Mapping[str, Any]) -> dict[str, Any]:
    """`high` over `low`; tables present in both are merged key by key."""
    result = dict(low)
    for key, value in high.items():
        below = result.get(key)
        if isinstance(value, Mapping) and isinstance(below, Mapping):
            value = merged(below, value)
        result[key] = value
    return result


# --- CPU and figures -----------------------------------------------------------------------


@dataclass(frozen=True)
class Cpu:
    """CPU seconds used so far by this process (bot and clients) and by Synapse."""

    local: float
    synapse: float | None

    def __sub__(self, earlier: Cpu) -> Cpu:
        synapse = None
        if self.synapse is not None and earlier.synapse is not None:
            synapse = self.synapse - earlier.synapse
        return Cpu(self.local - earlier.local, synapse)


class CpuMeter:
    """Reads `Cpu`; Synapse's share from Linux's /proc (None elsewhere)."""

    def __init__(self, synapse: LocalSynapse) -> None:
        self._stat = _proc_stat_of(str(synapse.config_path))
        self._tick = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100

    def read(self) -> Cpu:
        return Cpu(time.process_time(), self._synapse())

    def _synapse(self) -> float | None:
        if self._stat is None:
            return None
        try:
            fields = self._stat.read_text().rsplit(")", 1)[1].split()
        except (OSError, IndexError):
            return None
        # utime and stime, fields 14 and 15 of proc(5), counted after the command name.
        return (int(fields[11]) + int(fields[12])) / self._tick


def _proc_stat_of(config: str) -> Path | None:
    """/proc/PID/stat of the process whose command line names `config` (Synapse's)."""
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        with contextlib.suppress(OSError):
            if config in cmdline.read_bytes().decode(errors="replace").split("\0"):
                return cmdline.with_name("stat")
    return None


def summary(seconds: Sequence[float]) -> dict[str, Any]:
    if not seconds:
        return {"seconds": [], "median": None, "min": None, "max": None}
    return {
        "seconds": [round(s, 4) for s in seconds],
        "median": statistics.median(seconds),
        "min": min(seconds),
        "max": max(seconds),
    }


def percentile(values: Sequence[float], q: float) -> float:
    """The `q`th percentile, interpolated between the closest ranks (like numpy's default)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("no values")
    rank = (len(ordered) - 1) * q / 100
    low = int(rank)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (rank - low)


def related_events(content: Mapping[str, Any]) -> set[str]:
    """The events a message answers: its thread root and the event it replies to."""
    relates = content.get("m.relates_to") or {}
    reply = (relates.get("m.in_reply_to") or {}).get("event_id")
    return {str(event) for event in (relates.get("event_id"), reply) if event}
