"""A confirmed alert to N subscribers' encrypted direct chats, against a bare matrix-nio client.

The performance budget: from a moderator's `!confirm` until the homeserver has accepted the
alert in the direct chat of every one of N = 1,000 subscribers, at most 1.2x the time a
bare nio client takes from its first send until the homeserver has accepted the same N
encrypted messages in N direct chats, sent at its best concurrency (several levels are
tried in the same run; the best level's median is the baseline). Every subscriber must get
the alert exactly once, encrypted. A larger N (5,000, or what the machine manages in
reasonable time) is measured the same way, with no budget. The bot's RSS with its 1,000
direct chats joined is held to 250 MB.

    python -m bench --only subscribers [--quick]
    python -m bench.subscribers [--subscribers 1000] [--larger 5000] [--runs 3] [--json FILE]

Same work on both sides (the choices that make the comparison fair):
- Each subscriber has two direct chats, made from the subscriber's side like a client
  does (`createRoom` with `is_direct`, `trusted_private_chat`, encrypted from the start):
  one with the bot and one with the baseline's account, both invited and joined over raw
  HTTP before any client starts. Rooms of two members on both sides: the baseline shares
  no room with the bot, so neither decrypts the other's traffic in this process.
- Each subscriber has one device with identity and one-time keys uploaded (made here with
  vodozemac over raw HTTP: 1,000 nio clients would not fit), so both senders do the same
  encryption: for each chat, a megolm session, and its key olm-encrypted to that one
  device. The subscribers never sync or decrypt; two of them are real nio clients
  ("readers") that decrypt what they get, checking that the messages are real and are
  the alert.
- Both senders know every subscriber's device before the clock starts (their sync loops'
  key queries have run), and keep their sync loops running meanwhile (each then gets and
  decrypts its own N echoes, as a deployed client does).
- The baseline sends the bot's alert content, as the readers decrypted it, in every chat.
  The bot sends one message more: the alert also goes to the reporter's thread.
- Two kinds of round. "First": the first message to each chat, which also claims a
  one-time key per device, makes an olm session and sends the room key (to-device): one
  round per side, on fresh rooms, the baseline at the outbox's concurrency (it cannot be
  repeated on the same devices). "Warm": every later alert, with the megolm sessions in
  place; the bot's rounds alternate with the baseline's, and the baseline tries every
  concurrency level of `Sizes.levels`. The budget is on warm rounds (as bench/fanout.py);
  the first round is shown with its ratio.

Time: the clock starts (wall clock) just before the moderator's `!confirm` is sent, or the
baseline's first send, and stops at the `origin_server_ts` of the last message of the
round that the homeserver accepted, read back afterwards from every chat's timeline with the
subscriber's token (which is also how every chat is checked for exactly one message, of
type `m.room.encrypted`). Same machine, same clock. Before each round, Synapse must have
been idle for a moment (no CPU left over from the previous round or its check).

What bounds the times: Synapse's CPU seconds during each round (from /proc; Synapse is one
Python process, so about 1 CPU second per second means it is saturated) and this
process's (the bot, the baseline client and the readers). When Synapse is saturated on
both sides, the figure says so: the homeserver, not the bot, is the limit.

RSS is measured like bench/memory.py: `vecinos run` and the bare nio bot
(`bench.nio_bot`, logged in as the baseline's account, with the same number of direct
chats) as fresh processes, each sampled for a few seconds after its first sync.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import logging
import re
import secrets
import statistics
import sys
import tempfile
import time
import urllib.parse
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import asdict, dataclass, field
from datetime import UTC, datetime
from functools import partial
from pathlib import Path
from typing import Any

import aiohttp
import nio
import vodozemac

from bench.common import (
    AREA,
    BotFiles,
    Cpu,
    CpuMeter,
    E2EClient,
    Received,
    RunningBot,
    encrypted_room,
    register,
    related_events,
    start_bot,
    start_client,
    text,
)
from bench.procs import Child, Memory, measure_memory, nio_process, vecinos_process
from bench.report import Figure
from bot.api import RoomRef
from bot.devtools.local_synapse import LocalSynapse, RegisteredUser
from bot.ops.logs import setup_logging
from bot.transports.matrix.convert import TRANSPORT
from plugins.subscriptions.store import Address, Subscribers

log = logging.getLogger(__name__)

GOAL = 1.2
MEMORY_BUDGET_MB = 250.0
OUTBOX_CONCURRENCY = 100  # the outbox's default (`[bot] sends_in_flight`)
MEGOLM = "m.megolm.v1.aes-sha2"
OLM = "m.olm.v1.curve25519-aes-sha2"
REPORT = "!report 18th & Ashland; agents detaining someone"
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
PREFIX = "subs-"  # account names: other scenarios share the homeserver
READERS = 2
# One-time keys per subscriber device: each sender's first message claims one.
ONE_TIME_KEYS = 5
HTTP_PARALLEL = 8  # raw requests at once (set-up, checks): Synapse serializes the rest
READY_TIMEOUT = 600.0  # both senders knowing every device, at the largest size
ROUND_TIMEOUT = 900.0
STALL_SECONDS = 30.0  # an alert round with nothing sent for this long has gone wrong
# Before a clock starts: Synapse used less than this share of a CPU for a whole window.
IDLE_SHARE = 0.05
IDLE_WINDOW = 0.5
IDLE_TIMEOUT = 60.0
SETTLE_SECONDS = 2.0  # after a round, before the check: a late duplicate would be seen
# Synapse this busy (CPU seconds per second of the round) is saturated: one process.
SATURATED = 0.8


@dataclass(frozen=True)
class Sizes:
    subscribers: int  # the budgeted size
    larger: int | None  # also measured, no budget (None: not measured)
    runs: int  # warm rounds of the bot at each size
    levels: tuple[int, ...]  # the baseline's concurrency levels tried (warm rounds)
    baseline_runs: int  # warm rounds of the baseline at each level
    memory_seconds: float


# 5,000 subscribers take about an hour more here (2 CPUs): the set-up alone makes 8,000
# more direct chats at about 0.2 s of Synapse CPU each. `--larger 5000` asks for it.
FULL = Sizes(
    subscribers=1000,
    larger=2000,
    runs=3,
    levels=(10, 25, 50, 100),
    baseline_runs=2,
    memory_seconds=10.0,
)
QUICK = Sizes(
    subscribers=30,
    larger=60,
    runs=2,
    levels=(5, 10, 25),
    baseline_runs=1,
    memory_seconds=3.0,
)


# --- raw HTTP ----------------------------------------------------------------------------------


class Http:
    """Client-server API calls with an access token, a few at a time, without nio."""

    def __init__(self, base_url: str, parallel: int = HTTP_PARALLEL) -> None:
        self._base = base_url
        self._slots = asyncio.Semaphore(parallel)
        self._session = aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=120))

    async def close(self) -> None:
        await self._session.close()

    async def call(
        self, method: str, path: str, body: Any = None, token: str | None = None
    ) -> dict[str, Any]:
        headers = {} if token is None else {"Authorization": f"Bearer {token}"}
        for attempt in range(8):
            async with (
                self._slots,
                self._session.request(
                    method, self._base + path, json=body, headers=headers
                ) as response,
            ):
                answer: dict[str, Any] = await response.json(content_type=None)
            if response.status == 429 and attempt < 7:
                await asyncio.sleep(answer.get("retry_after_ms", 200) / 1000)
                continue
            if response.status >= 400:
                raise RuntimeError(f"{method} {path.split('?')[0]} -> {response.status}: {answer}")
            return answer
        raise AssertionError("unreachable")


def _quote(room_id: str) -> str:
    return urllib.parse.quote(room_id, safe="")


def _canonical(data: dict[str, Any]) -> bytes:
    return json.dumps(data, ensure_ascii=False, separators=(",", ":"), sort_keys=True).encode()


def _signed(
    account: vodozemac.Account, user: RegisteredUser, data: dict[str, Any]
) -> dict[str, Any]:
    signature = account.sign(_canonical(data)).to_base64()
    return {**data, "signatures": {user.user_id: {f"ed25519:{user.device_id}": signature}}}


async def upload_keys(http: Http, user: RegisteredUser) -> None:
    """A device that senders encrypt to: identity keys and signed one-time keys, for the
    device that registration made (what a client uploads when it logs in)."""
    account = vodozemac.Account()
    device = user.device_id
    keys = {
        "user_id": user.user_id,
        "device_id": device,
        "algorithms": [OLM, MEGOLM],
        "keys": {
            f"curve25519:{device}": account.curve25519_key.to_base64(),
            f"ed25519:{device}": account.ed25519_key.to_base64(),
        },
    }
    account.generate_one_time_keys(ONE_TIME_KEYS)
    one_time = {
        f"signed_curve25519:{key_id}": _signed(account, user, {"key": key.to_base64()})
        for key_id, key in account.one_time_keys.items()
    }
    body = {"device_keys": _signed(account, user, keys), "one_time_keys": one_time}
    await http.call("POST", "/_matrix/client/v3/keys/upload", body, user.access_token)


async def direct_chat(http: Http, person: RegisteredUser, other: RegisteredUser) -> str:
    """An encrypted direct chat that `person` opens with `other`, who joins."""
    body = {
        "preset": "trusted_private_chat",
        "is_direct": True,
        "invite": [other.user_id],
        "initial_state": [
            {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}}
        ],
    }
    made = await http.call("POST", "/_matrix/client/v3/createRoom", body, person.access_token)
    room_id = str(made["room_id"])
    await http.call("POST", f"/_matrix/client/v3/join/{_quote(room_id)}", {}, other.access_token)
    return room_id


# --- the rig ----------------------------------------------------------------------------------


@dataclass
class Subscriber:
    user: RegisteredUser
    bot_chat: str  # direct chat with the bot
    baseline_chat: str  # direct chat with the baseline's account
    reader: E2EClient | None = None  # a real nio client on a device of its own


@dataclass
class Rig:
    synapse: LocalSynapse
    workdir: Path
    http: Http
    stack: contextlib.AsyncExitStack
    bot_user: RegisteredUser
    baseline_user: RegisteredUser
    reporter_user: RegisteredUser
    moderator_user: RegisteredUser
    files: BotFiles
    hood: str
    mods: str
    subscribers: list[Subscriber] = field(default_factory=list)
    bot: RunningBot | None = None
    reporter: E2EClient | None = None
    moderator: E2EClient | None = None
    baseline: E2EClient | None = None
    meter: CpuMeter | None = None
    template: dict[str, Any] | None = None  # the alert's content, for the baseline
    # How many syncs each sender's client has started so far.
    bot_syncs: Callable[[], int] = lambda: 0
    baseline_syncs: Callable[[], int] = lambda: 0
    setup_seconds: dict[str, float] = field(default_factory=dict)

    @property
    def readers(self) -> list[Subscriber]:
        return [s for s in self.subscribers if s.reader is not None]

    def running_bot(self) -> RunningBot:
        assert self.bot is not None
        return self.bot


async def add_subscribers(rig: Rig, first: int, count: int, readers: int = 0) -> None:
    """Register `count` subscribers (numbered from `first`), their devices and their two
    direct chats; the first `readers` of them become real nio clients later."""
    began = time.perf_counter()
    slots = asyncio.Semaphore(HTTP_PARALLEL)

    async def one(n: int) -> RegisteredUser:
        async with slots:
            return await register(rig.synapse, f"{PREFIX}s{n:05d}")

    users = list(await asyncio.gather(*(one(first + i) for i in range(count))))
    registered = time.perf_counter()
    _progress(f"registered {count} subscribers: {registered - began:.1f}s")
    # Readers get their device keys from nio when they log in.
    await asyncio.gather(*(upload_keys(rig.http, user) for user in users[readers:]))
    uploaded = time.perf_counter()
    _progress(f"uploaded {count - readers} devices' keys: {uploaded - registered:.1f}s")
    done = 0

    async def chats(user: RegisteredUser) -> Subscriber:
        nonlocal done
        async with slots:  # subscriber by subscriber, a few at a time
            bot_chat = await direct_chat(rig.http, user, rig.bot_user)
            baseline_chat = await direct_chat(rig.http, user, rig.baseline_user)
        done += 1
        if done % max(1, count // 10) == 0:
            _progress(f"direct chats: {done}/{count} subscribers")
        return Subscriber(user, bot_chat, baseline_chat)

    made = list(await asyncio.gather(*(chats(user) for user in users)))
    rig.subscribers += made
    ended = time.perf_counter()
    _progress(f"{2 * count} direct chats: {ended - uploaded:.1f}s")
    rig.setup_seconds[f"register_{first + count}"] = registered - began
    rig.setup_seconds[f"keys_{first + count}"] = uploaded - registered
    rig.setup_seconds[f"direct_chats_{first + count}"] = ended - uploaded
    for subscriber in made[:readers]:
        store = rig.workdir / "stores" / subscriber.user.user_id.split(":")[0].lstrip("@")
        subscriber.reader = await start_client(rig.synapse, subscriber.user, store)
        rig.stack.push_async_callback(subscriber.reader.close)


async def build(
    synapse: LocalSynapse, workdir: Path, http: Http, stack: contextlib.AsyncExitStack, n: int
) -> Rig:
    names = ("vecinos", "baseline", "reporter", "moderator")
    bot_user, baseline_user, reporter, moderator = [
        await register(synapse, PREFIX + name) for name in names
    ]
    hood = await encrypted_room(synapse, reporter, [bot_user])
    mods = await encrypted_room(synapse, moderator, [bot_user])
    config_rooms = [
        {"id": hood, "role": "neighborhood", "areas": [AREA["slug"]]},
        {"id": mods, "role": "moderation", "areas": [AREA["slug"]]},
    ]
    files = BotFiles(
        workdir / "bot",
        synapse.base_url,
        bot_user,
        config_rooms,
        [moderator.user_id],
        # Subscribers need not be in the network's rooms (see the module's docstring).
        overrides={"subscriptions": {"who": "anyone"}},
    )
    rig = Rig(
        synapse,
        workdir,
        http,
        stack,
        bot_user,
        baseline_user,
        reporter,
        moderator,
        files,
        hood,
        mods,
    )
    await add_subscribers(rig, 0, n, readers=READERS)
    return rig


async def start_senders(rig: Rig) -> None:
    """The bot in-process (as `vecinos run` runs it), then the people and the baseline."""
    await start_vecinos(rig)
    rig.stack.push_async_callback(stop_vecinos, rig)
    users = {"reporter": rig.reporter_user, "moderator": rig.moderator_user}
    clients = {}
    for name, user in users.items():
        clients[name] = await start_client(rig.synapse, user, rig.workdir / "stores" / name)
        rig.stack.push_async_callback(clients[name].close)
    rig.reporter, rig.moderator = clients["reporter"], clients["moderator"]
    began = time.perf_counter()
    rig.baseline = await start_client(
        rig.synapse, rig.baseline_user, rig.workdir / "stores" / "baseline"
    )
    rig.stack.push_async_callback(rig.baseline.close)
    rig.baseline_syncs = count_syncs(rig.baseline.client)
    _progress(f"baseline client started: {_since(began)}")
    rig.meter = CpuMeter(rig.synapse)
    await rig.reporter.prepare(rig.hood)
    await rig.moderator.prepare(rig.mods)


async def start_vecinos(rig: Rig) -> None:
    began = time.perf_counter()
    rig.bot = await start_bot(rig.files)
    rig.bot_syncs = count_syncs(rig.bot.matrix.client)
    _progress(f"bot started with {len(rig.subscribers)} direct chats: {_since(began)}")


async def stop_vecinos(rig: Rig) -> None:
    bot, rig.bot = rig.bot, None
    if bot is not None:
        await bot.stop()


async def subscribe(rig: Rig, subscribers: Sequence[Subscriber]) -> None:
    """Write the subscriptions through the plugin's store, as `!subscribe pilsen` would."""
    began = time.perf_counter()
    app = rig.running_bot().app
    plugin = next(p for p in app.plugins if p.name == "subscriptions")
    store: Subscribers = getattr(plugin, "subscribers", None) or Subscribers(app.bot)
    now = datetime.now(UTC)
    for subscriber in subscribers:
        address = Address(_room(subscriber.bot_chat), subscriber.user.user_id)
        await store.subscribe(address, [AREA["slug"]], now=now, vouched_by=None)
    _progress(f"subscribed {len(subscribers)}: {_since(began)}")


def count_syncs(client: nio.AsyncClient) -> Callable[[], int]:
    """Count the syncs `client` starts (its sync loop calls `client.sync`): each costs the
    homeserver a look at every room of the account."""
    started = 0
    original = client.sync

    async def sync(*args: Any, **kwargs: Any) -> Any:
        nonlocal started
        started += 1
        return await original(*args, **kwargs)

    client.sync = sync
    return lambda: started


def _room(room_id: str) -> RoomRef:
    return RoomRef(TRANSPORT, room_id)


async def devices_known(rig: Rig) -> None:
    """Until both senders know every subscriber's device and have the chats synced."""
    began = time.perf_counter()
    expected = {
        s.user.user_id: (s.reader.client.device_id if s.reader else s.user.device_id)
        for s in rig.subscribers
    }
    sides = {
        "bot": (rig.running_bot().matrix.client, [s.bot_chat for s in rig.subscribers]),
        "baseline": (_baseline(rig).client, [s.baseline_chat for s in rig.subscribers]),
    }

    def missing(client: nio.AsyncClient, rooms: list[str]) -> int:
        store = client.device_store
        unknown = sum(
            1
            for user, device in expected.items()
            if device not in {d.id for d in store.active_user_devices(user)}
        )
        return unknown + sum(1 for room in rooms if room not in client.rooms)

    async with asyncio.timeout(READY_TIMEOUT):
        while True:
            left = {side: missing(client, rooms) for side, (client, rooms) in sides.items()}
            if not any(left.values()):
                break
            await asyncio.sleep(0.5)
    _progress(f"both senders know all {len(expected)} devices: {_since(began)}")


def _baseline(rig: Rig) -> E2EClient:
    assert rig.baseline is not None
    return rig.baseline


# --- rounds ----------------------------------------------------------------------------------


@dataclass
class Round:
    side: str  # "bot" or "baseline"
    kind: str  # "first" (key share to every device) or "warm"
    size: int
    concurrency: int
    seconds: float | None = None  # clock start until the last message accepted (server)
    local_seconds: float = 0.0  # until the sender saw all sent (this process)
    synapse_cpu: float | None = None
    local_cpu: float = 0.0
    syncs: int = 0  # the sender's syncs during the round
    messages: int = 0
    missed: int = 0
    twice: int = 0
    plaintext: int = 0
    reader_problems: list[str] = field(default_factory=list)

    @property
    def correct(self) -> bool:
        return not (self.missed or self.twice or self.plaintext or self.reader_problems)

    @property
    def synapse_share(self) -> float | None:
        """Synapse's CPU seconds per second of the round."""
        if self.synapse_cpu is None or not self.seconds:
            return None
        return self.synapse_cpu / self.seconds

    def line(self) -> str:
        level = f" at {self.concurrency}"
        seconds = "-" if self.seconds is None else f"{self.seconds:.2f}s"
        cpu = "n/a" if self.synapse_cpu is None else f"{self.synapse_cpu:.1f}s"
        problems = "" if self.correct else f" PROBLEMS {self.problems()}"
        return (
            f"{self.side} {self.kind} round, {self.size} chats{level}: {seconds}"
            f" (sender saw it done at {self.local_seconds:.2f}s, {self.syncs} syncs),"
            f" CPU: Synapse {cpu}, bench process {self.local_cpu:.1f}s{problems}"
        )

    def problems(self) -> str:
        parts = [
            f"{n} {what}"
            for n, what in (
                (self.missed, "missed"),
                (self.twice, "twice"),
                (self.plaintext, "plaintext"),
            )
            if n
        ]
        return ", ".join(parts + self.reader_problems)


async def synapse_idle(rig: Rig) -> None:
    """Until Synapse has been (nearly) idle for a whole window: the previous round's work
    and its check are over."""
    meter = _meter(rig)
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(IDLE_TIMEOUT):
            while True:
                before = meter.read()
                await asyncio.sleep(IDLE_WINDOW)
                used = meter.read() - before
                if used.synapse is None or used.synapse < IDLE_SHARE * IDLE_WINDOW:
                    return


def _meter(rig: Rig) -> CpuMeter:
    assert rig.meter is not None
    return rig.meter


async def timed(
    rig: Rig,
    result: Round,
    start: Callable[[], Awaitable[object]],
    done: Callable[[], Awaitable[None]],
    syncs: Callable[[], int],
) -> float:
    """Run `start` then `done` with the clocks on; the wall-clock start (seconds)."""
    await synapse_idle(rig)
    cpu = _meter(rig).read()
    synced = syncs()
    wall = time.time()
    began = time.perf_counter()
    await start()
    await done()
    result.local_seconds = time.perf_counter() - began
    result.syncs = syncs() - synced
    used: Cpu = _meter(rig).read() - cpu
    result.local_cpu, result.synapse_cpu = used.local, used.synapse
    return wall


async def file_report(rig: Rig) -> str:
    """The reporter's report; its id, from the bot's acknowledgement."""
    reporter = rig.reporter
    assert reporter is not None
    event_id = await reporter.send(rig.hood, text(REPORT))

    def ack() -> str | None:
        for m in reporter.received(rig.hood):
            found = REPORT_ID.search(m.body)
            if m.sender == rig.bot_user.user_id and found and event_id in related_events(m.content):
                return found[0]
        return None

    await reporter.wait_until(lambda: ack() is not None, 60.0, "acknowledgement")
    report_id = ack()
    assert report_id is not None
    return report_id


def alert_of(rig: Rig, report_id: str) -> Callable[[Received], bool]:
    return lambda m: (
        m.sender == rig.bot_user.user_id
        and report_id in m.body
        and "m.new_content" not in m.content
    )


async def sent_count(rig: Rig) -> int:
    db = rig.running_bot().app.bot.db
    row = await db.fetchone("SELECT COUNT(*) AS n FROM outbox WHERE state = 'sent'")
    return 0 if row is None else int(row["n"])


async def bot_round(rig: Rig, kind: str) -> tuple[Round, str]:
    """A new report, then the clock: `!confirm` until every chat's alert is accepted."""
    bot, moderator = rig.running_bot(), rig.moderator
    assert moderator is not None
    n = len(rig.subscribers)
    result = Round("bot", kind, n, _outbox_concurrency(rig))
    report_id = await file_report(rig)
    await bot.wait_idle()  # the moderators' card is out
    before = await sent_count(rig)

    async def confirm() -> None:
        await moderator.send(rig.mods, text(f"!confirm {report_id}"))

    async def all_sent() -> None:
        # The alert to every chat and the reporter's thread; then nothing left to send.
        # The outbox has no "all sent" event to wait on; these are two cheap queries.
        wanted, seen, stalled = before + n + 1, before, time.perf_counter()
        async with asyncio.timeout(ROUND_TIMEOUT):
            while (sent := await sent_count(rig)) < wanted or await bot.app.bot.outbox.backlog():
                if sent != seen:
                    seen, stalled = sent, time.perf_counter()
                elif time.perf_counter() - stalled > STALL_SECONDS:
                    raise RuntimeError(
                        f"the alert went to {sent - before} chats, not {n + 1}"
                        f" (nothing sent for {STALL_SECONDS:.0f}s)"
                    )
                await asyncio.sleep(0.05)

    wall = await timed(rig, result, confirm, all_sent, rig.bot_syncs)
    await check(rig, result, wall, [(s.bot_chat, s.user.access_token) for s in rig.subscribers])
    await check_readers(rig, result, "bot_chat", alert_of(rig, report_id))
    return result, report_id


def _outbox_concurrency(rig: Rig) -> int:
    bot_section = rig.running_bot().app.bot.settings.bot
    return int(getattr(bot_section, "sends_in_flight", OUTBOX_CONCURRENCY))


async def baseline_round(rig: Rig, kind: str, concurrency: int) -> Round:
    """The alert's content to every subscriber's chat with the baseline's account, from a
    bare nio client, `concurrency` sends at a time."""
    baseline = _baseline(rig)
    assert rig.template is not None
    result = Round("baseline", kind, len(rig.subscribers), concurrency)
    tag = "X" + secrets.token_hex(4).upper()
    content = json.loads(json.dumps(rig.template).replace("{id}", tag))
    slots = asyncio.Semaphore(concurrency)

    async def send(room: str) -> None:
        async with slots:
            await baseline.send(room, content)

    async def send_all() -> None:
        await asyncio.gather(*(send(s.baseline_chat) for s in rig.subscribers))

    async def nothing() -> None:
        return None

    wall = await timed(rig, result, send_all, nothing, rig.baseline_syncs)
    chats = [(s.baseline_chat, s.user.access_token) for s in rig.subscribers]
    await check(rig, result, wall, chats, sender=baseline.user_id)
    sender = baseline.user_id
    await check_readers(
        rig, result, "baseline_chat", lambda m: m.sender == sender and tag in m.body
    )
    return result


async def check(
    rig: Rig,
    result: Round,
    wall: float,
    chats: list[tuple[str, str]],
    sender: str | None = None,
) -> None:
    """Read every chat back as its subscriber: exactly one encrypted message from the
    sender since the clock started; the round's time is the last one's server time."""
    await asyncio.sleep(SETTLE_SECONDS)
    sender = sender or rig.bot_user.user_id
    since_ms = int(wall * 1000)

    async def one(room: str, token: str) -> list[dict[str, Any]]:
        path = f"/_matrix/client/v3/rooms/{_quote(room)}/messages?dir=b&limit=10"
        events = (await rig.http.call("GET", path, token=token))["chunk"]
        return [
            e
            for e in events
            if e.get("sender") == sender
            and e.get("origin_server_ts", 0) >= since_ms
            and e.get("type") in ("m.room.encrypted", "m.room.message")
        ]

    found = await asyncio.gather(*(one(room, token) for room, token in chats))
    result.messages = sum(len(events) for events in found)
    result.missed = sum(1 for events in found if not events)
    result.twice = sum(1 for events in found if len(events) > 1)
    result.plaintext = sum(
        1 for events in found if any(e["type"] != "m.room.encrypted" for e in events)
    )
    stamps = [e["origin_server_ts"] for events in found for e in events]
    if stamps:
        result.seconds = max(stamps) / 1000 - wall


async def check_readers(
    rig: Rig, result: Round, chat: str, match: Callable[[Received], bool]
) -> None:
    """The readers decrypt the message, once."""

    def count(reader: E2EClient, room: str) -> int:
        return sum(1 for m in reader.received(room) if match(m))

    def arrived(reader: E2EClient, room: str) -> bool:
        return count(reader, room) > 0

    for subscriber in rig.readers:
        reader = subscriber.reader
        assert reader is not None
        room = getattr(subscriber, chat)
        try:
            await reader.wait_until(partial(arrived, reader, room), 60.0, "message decrypted")
        except TimeoutError as error:
            result.reader_problems.append(f"{reader.user_id}: {error}")
            continue
        if (n := count(reader, room)) != 1:
            result.reader_problems.append(f"{reader.user_id} decrypted it {n} times")


# --- the measurement --------------------------------------------------------------------------


@dataclass
class SizeResult:
    """The rounds at one size."""

    size: int
    rounds: list[Round] = field(default_factory=list)

    def of(self, side: str, kind: str, concurrency: int | None = None) -> list[Round]:
        return [
            r
            for r in self.rounds
            if r.side == side
            and r.kind == kind
            and (concurrency is None or r.concurrency == concurrency)
        ]

    def bot_seconds(self, kind: str) -> float | None:
        return _median([r.seconds for r in self.of("bot", kind)])

    def best_level(self, kind: str) -> tuple[int, float] | None:
        """The baseline's best concurrency level (lowest median) and that median."""
        medians = {
            level: _median([r.seconds for r in self.of("baseline", kind, level)])
            for level in sorted({r.concurrency for r in self.of("baseline", kind)})
        }
        known = {level: m for level, m in medians.items() if m is not None}
        if not known:
            return None
        level = min(known, key=lambda lv: known[lv])
        return level, known[level]

    def cpu(self, side: str, kind: str, level: int | None = None) -> float | None:
        return _median([r.synapse_cpu for r in self.of(side, kind, level)])

    @property
    def correct(self) -> bool:
        return all(r.correct for r in self.rounds)

    def as_json(self) -> dict[str, Any]:
        best = self.best_level("warm")
        return {
            "subscribers": self.size,
            "rounds": [asdict(r) | {"synapse_share": r.synapse_share} for r in self.rounds],
            "bot_warm_median": self.bot_seconds("warm"),
            "baseline_best_level": None if best is None else best[0],
            "baseline_best_median": None if best is None else best[1],
        }


def _median(values: Sequence[float | None]) -> float | None:
    known = [v for v in values if v is not None]
    return statistics.median(known) if known else None


async def log_round(result: Round, into: SizeResult) -> Round:
    into.rounds.append(result)
    _progress(result.line())
    return result


async def first_rounds(rig: Rig, into: SizeResult) -> str:
    """The first alert to every chat (each device gets its room keys), then the baseline's
    first message to its chats, at the outbox's concurrency."""
    result, report_id = await bot_round(rig, "first")
    await log_round(result, into)
    reader = rig.readers[0]
    assert reader.reader is not None
    alert = next(m for m in reader.reader.received(reader.bot_chat) if alert_of(rig, report_id)(m))
    rig.template = json.loads(json.dumps(alert.content).replace(report_id, "{id}"))
    await log_round(await baseline_round(rig, "first", _outbox_concurrency(rig)), into)
    return report_id


async def warm_rounds(
    rig: Rig, into: SizeResult, runs: int, levels: Sequence[int], per_level: int
) -> None:
    """The bot's rounds spread evenly among the baseline's, which go through every level
    `per_level` times."""
    plan = [level for _ in range(per_level) for level in levels]
    bot_before = {k * len(plan) // runs for k in range(runs)} if runs <= len(plan) else set()
    for i, level in enumerate(plan):
        if i in bot_before:
            await log_round((await bot_round(rig, "warm"))[0], into)
        await log_round(await baseline_round(rig, "warm", level), into)
    for _ in range(runs - len(bot_before)):
        await log_round((await bot_round(rig, "warm"))[0], into)


async def memory_of(child: Child, seconds: float) -> tuple[Memory, float]:
    child.start()
    try:
        ready = await child.wait_ready()
        return await measure_memory(child, seconds), ready
    finally:
        await child.stop()


@dataclass
class Measured:
    sizes: list[SizeResult] = field(default_factory=list)
    memory: dict[str, Any] = field(default_factory=dict)
    setup_seconds: dict[str, float] = field(default_factory=dict)


async def bench(synapse: LocalSynapse, workdir: Path, sizes: Sizes) -> Measured:
    measured = Measured()
    http = Http(synapse.base_url)
    async with contextlib.AsyncExitStack() as stack:
        stack.push_async_callback(http.close)
        began = time.perf_counter()
        rig = await build(synapse, workdir, http, stack, sizes.subscribers)
        measured.setup_seconds = rig.setup_seconds
        # RSS first, as bench/memory.py: fresh processes in rooms joined before they start.
        measured.memory = await measure_memory_with_chats(rig, sizes.memory_seconds)
        await start_senders(rig)
        await subscribe(rig, rig.subscribers)
        await devices_known(rig)
        rig.setup_seconds["total_before_rounds"] = time.perf_counter() - began
        first = SizeResult(sizes.subscribers)
        measured.sizes.append(first)
        await first_rounds(rig, first)
        await warm_rounds(rig, first, sizes.runs, sizes.levels, sizes.baseline_runs)
        best = first.best_level("warm")
        if best is not None and best[0] != _outbox_concurrency(rig):
            await tuned_rounds(rig, first, best[0], sizes.runs)
        if sizes.larger and sizes.larger > sizes.subscribers:
            await larger_size(rig, sizes, first, measured)
    return measured


async def restart_vecinos(rig: Rig, sends_in_flight: int | None) -> None:
    """Stop the bot and start it again, with `[bot] sends_in_flight` set (None: the
    default). A restart makes new megolm sessions: the next alert shares room keys."""
    await stop_vecinos(rig)
    overrides = {k: v for k, v in rig.files.overrides.items() if k != "bot"}
    if sends_in_flight is not None:
        overrides["bot"] = {"sends_in_flight": sends_in_flight}
    rig.files.overrides = overrides
    await start_vecinos(rig)


async def tuned_rounds(rig: Rig, into: SizeResult, level: int, runs: int) -> None:
    """The bot again, sending as many at once as the baseline's best level (no budget):
    whether the outbox's concurrency is what holds it back. An untimed round first (the
    restart's new megolm sessions)."""
    await restart_vecinos(rig, level)
    await log_round((await bot_round(rig, "restarted"))[0], into)
    for _ in range(runs):
        await log_round((await bot_round(rig, "tuned"))[0], into)
    await restart_vecinos(rig, None)


async def measure_memory_with_chats(rig: Rig, seconds: float) -> dict[str, Any]:
    """RSS of `vecinos run` and of the bare nio bot (the baseline's account), each a fresh
    process in its direct chats; the nio bot's device is logged out afterwards, so that
    the baseline client has no second device of its own to share room keys with."""
    chats = len(rig.subscribers)
    nio_dir = rig.workdir / "nio-bot"
    children = {
        "vecinos": vecinos_process(rig.files),
        "nio": nio_process(rig.synapse.base_url, rig.baseline_user, nio_dir),
    }
    results = {}
    for side, child in children.items():
        results[side] = await memory_of(child, seconds)
        memory, ready = results[side]
        _progress(
            f"RSS with {chats} direct chats, {side}: {memory.rss_mb:.0f} MB"
            f" (peak {memory.peak_mb:.0f} MB), first sync {ready:.1f}s after start"
        )
    session = json.loads((nio_dir / "store" / "session").read_text())
    await rig.http.call("POST", "/_matrix/client/v3/logout", {}, session["access_token"])
    return {
        "direct_chats": chats,
        **{
            side: {"rss_mb": m.rss_mb, "peak_mb": m.peak_mb, "ready_seconds": ready}
            for side, (m, ready) in results.items()
        },
    }


async def larger_size(rig: Rig, sizes: Sizes, first: SizeResult, measured: Measured) -> None:
    """More subscribers, the same rounds (no budget): an untimed first alert (the new
    chats' keys), then warm rounds, the baseline at its best level of the first size."""
    assert sizes.larger is not None
    more = sizes.larger - len(rig.subscribers)
    began = time.perf_counter()
    # The bot is stopped meanwhile, so that it finds the chats joined when it starts, as
    # at the first size. It starts again once they are in (a restart: new megolm
    # sessions for every chat, which the untimed first round shares).
    await stop_vecinos(rig)
    await add_subscribers(rig, len(rig.subscribers), more)
    await start_vecinos(rig)
    await subscribe(rig, rig.subscribers[-more:])
    await devices_known(rig)
    rig.setup_seconds[f"total_to_{sizes.larger}"] = time.perf_counter() - began
    result = SizeResult(sizes.larger)
    measured.sizes.append(result)
    best = first.best_level("warm")
    level = best[0] if best else _outbox_concurrency(rig)
    # Untimed for the figures: the new chats' first message, and the old ones' next.
    await log_round((await bot_round(rig, "first"))[0], result)
    await log_round(await baseline_round(rig, "first", level), result)
    runs = max(2, sizes.runs - 1)
    await warm_rounds(rig, result, runs, [level], runs)


# --- figures ------------------------------------------------------------------------------


def figures(measured: Measured) -> list[Figure]:
    out = []
    for i, size in enumerate(measured.sizes):
        out.append(_warm_figure(size, budgeted=i == 0))
        if i == 0:
            out.append(_first_figure(size))
            if size.of("bot", "tuned"):
                out.append(_tuned_figure(size))
    if measured.memory:
        out.append(_memory_figure(measured.memory))
    return out


def _bound(bot: list[Round], base: list[Round]) -> str:
    """Synapse's CPU seconds (median) during the bot's rounds and the baseline's, and
    whether it was saturated on both sides: the homeserver is then the limit."""
    bot_cpu, base_cpu = (
        _median([r.synapse_cpu for r in bot]),
        _median([r.synapse_cpu for r in base]),
    )
    if bot_cpu is None or base_cpu is None:
        return ""
    shares = [r.synapse_share for r in bot + base]
    saturated = all(s is not None and s >= SATURATED for s in shares)
    limit = "; Synapse saturated, the homeserver is the limit" if saturated else ""
    return f" (Synapse CPU {bot_cpu:.1f} vs {base_cpu:.1f} s{limit})"


def _warm_figure(size: SizeResult, budgeted: bool) -> Figure:
    bot_rounds = size.of("bot", "warm")
    bot = size.bot_seconds("warm")
    best = size.best_level("warm")
    level, base = best if best else (None, None)
    base_rounds = size.of("baseline", "warm", level)
    ratio = bot / base if bot and base else None
    tried = "/".join(str(lv) for lv in sorted({r.concurrency for r in size.of("baseline", "warm")}))
    correct = all(r.correct for r in bot_rounds + base_rounds)
    return Figure(
        name=(
            f"alert to {size.size} subscribers' encrypted DMs, median of {len(bot_rounds)}"
            f"{_bound(bot_rounds, base_rounds)}"
        ),
        value=bot,
        baseline=base,
        unit="s",
        baseline_name=(
            f"bare nio client, same {size.size} messages to {size.size} DMs,"
            f" best of concurrency {tried}: {level}"
        ),
        budget=f"<= {GOAL}x, each DM once" if budgeted else "none (each DM once)",
        within=(correct and ratio is not None and ratio <= GOAL)
        if budgeted
        else (None if correct else False),
        value_text=None if bot is None else f"{bot:.2f} s{_problems(bot_rounds + base_rounds)}",
    )


def _tuned_figure(size: SizeResult) -> Figure:
    bot_rounds = size.of("bot", "tuned")
    bot = _median([r.seconds for r in bot_rounds])
    best = size.best_level("warm")
    level, base = best if best else (None, None)
    base_rounds = size.of("baseline", "warm", level)
    correct = all(r.correct for r in bot_rounds)
    return Figure(
        name=(
            f"same, the bot with [bot] sends_in_flight = {level}, median of {len(bot_rounds)}"
            f"{_bound(bot_rounds, base_rounds)}"
        ),
        value=bot,
        baseline=base,
        unit="s",
        baseline_name=f"bare nio client at concurrency {level} (as above)",
        budget="none (each DM once)",
        within=None if correct else False,
        value_text=None if bot is None else f"{bot:.2f} s{_problems(bot_rounds)}",
    )


def _first_figure(size: SizeResult) -> Figure:
    bot_rounds, base_rounds = size.of("bot", "first"), size.of("baseline", "first")
    bot, base = size.bot_seconds("first"), _median([r.seconds for r in base_rounds])
    level = base_rounds[0].concurrency if base_rounds else None
    ratio = bot / base if bot and base else None
    correct = all(r.correct for r in bot_rounds + base_rounds)
    return Figure(
        name=(
            f"first alert to {size.size} new subscribers (a key share to each device)"
            f"{_bound(bot_rounds, base_rounds)}"
        ),
        value=bot,
        baseline=base,
        unit="s",
        baseline_name=(
            f"bare nio client's first messages to its {size.size} DMs, concurrency {level}"
        ),
        budget=f"<= {GOAL}x, each DM once",
        within=correct and ratio is not None and ratio <= GOAL,
        value_text=None if bot is None else f"{bot:.2f} s{_problems(bot_rounds + base_rounds)}",
    )


def _memory_figure(memory: dict[str, Any]) -> Figure:
    bot, nio_bot = memory["vecinos"], memory["nio"]
    return Figure(
        name=(
            f"RSS with {memory['direct_chats']} direct chats joined"
            f" (peak {bot['peak_mb']:.0f} vs {nio_bot['peak_mb']:.0f} MB)"
        ),
        value=bot["rss_mb"],
        baseline=nio_bot["rss_mb"],
        unit="MB",
        baseline_name="bare nio bot, same number of DMs",
        budget=f"<= {MEMORY_BUDGET_MB:.0f} MB",
        within=bot["rss_mb"] <= MEMORY_BUDGET_MB,
    )


def _problems(rounds: list[Round]) -> str:
    bad = [r for r in rounds if not r.correct]
    return "".join(f"; {r.side} {r.kind}: {r.problems()}" for r in bad)


def details(measured: Measured) -> dict[str, Any]:
    return {
        "sizes": [size.as_json() for size in measured.sizes],
        "memory": measured.memory,
        "setup_seconds": measured.setup_seconds,
        "readers": READERS,
        "outbox_concurrency": OUTBOX_CONCURRENCY,
        "goal": GOAL,
    }


async def measure(
    synapse: LocalSynapse, workdir: Path, sizes: Sizes
) -> tuple[list[Figure], dict[str, Any]]:
    measured = await bench(synapse, workdir, sizes)
    return figures(measured), details(measured)


# --- running on its own ---------------------------------------------------------------------


def _since(began: float) -> str:
    return f"{time.perf_counter() - began:.1f}s"


def _progress(line: str) -> None:
    print(line, file=sys.stderr, flush=True)


def parse_args(argv: list[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(
        prog="python -m bench.subscribers",
        description=__doc__,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    parser.add_argument("--quick", action="store_true", help="small sizes, for a fast check")
    parser.add_argument("--subscribers", type=int, help="the budgeted size (default 1000)")
    parser.add_argument("--larger", type=int, help="a larger size, no budget (0: none)")
    parser.add_argument("--runs", type=int, help="the bot's warm rounds per size")
    parser.add_argument("--json", type=Path, help="also write the figures to this file")
    parser.add_argument("--log-level", default="WARNING", help="log level (default WARNING)")
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> int:
    from dataclasses import replace

    from bench.report import Results, table

    args = parse_args(argv)
    setup_logging(args.log_level.upper())
    if logging.getLogger().level > logging.DEBUG:
        logging.getLogger("nio").setLevel(logging.ERROR)
    sizes = QUICK if args.quick else FULL
    if args.subscribers:
        sizes = replace(sizes, subscribers=args.subscribers)
    if args.larger is not None:
        sizes = replace(sizes, larger=args.larger or None)
    if args.runs:
        sizes = replace(sizes, runs=args.runs)
    results = Results(quick=args.quick)
    with tempfile.TemporaryDirectory(prefix="vecinos-bench-") as tmp:
        synapse = LocalSynapse(Path(tmp) / "synapse")
        synapse.start()
        try:
            began = time.perf_counter()
            figs, info = asyncio.run(measure(synapse, Path(tmp), sizes))
            results.figures += figs
            results.details["subscribers"] = info
            results.timings["subscribers"] = round(time.perf_counter() - began, 1)
        finally:
            synapse.stop()
    print(table(results))
    if args.json is not None:
        results.write_json(args.json)
    return 0 if results.passed else 1


if __name__ == "__main__":
    sys.exit(main())
