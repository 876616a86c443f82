"""A fake signal-cli 0.13.19 JSON-RPC daemon, over HTTP (+ SSE) and TCP, for tests.

What it copies from the real daemon (multi-account mode, receiving while a client is
connected, as `--receive-mode on-connection` does), as
recorded by `tests/integration/test_signal_cli_contract.py` against signal-cli 0.13.19:
- HTTP: `POST /api/v1/rpc` (415 unless the Content-Type starts with application/json, 405
  for other methods, 201 with an empty body for a request without id, batches);
  `GET /api/v1/events?account=` as server-sent events (`event:receive`, `data:` payload,
  a `:` keepalive; no headers at all before the first event or keepalive; 400 for an
  unknown account); `GET /api/v1/check` 200.
- TCP: one JSON object per line; every connection subscribed to every envelope; answers
  may come out of order. (`--receive-mode manual`, whose notifications differ, is not
  faked: the bot does not use it.)
- Requests: JsonRpcReader's checks in its order (unknown members, the types of `params`
  and `id`, `jsonrpc` "2.0", a method), answered even without an id; a call is answered
  when the request has an `id` member, `null` included. Jackson's long texts are shortened
  (the probes match them as ANY).
- Errors: -32700 parse, -32600 invalid request, -32601 unknown method, -32602 unknown or
  missing account (checked before any parameter, an array of params having none), -5
  rate limits. A daemon serving exactly one account would take a request without one as
  that account's: the fake, like the probed daemon without accounts, refuses it.
- Delivery: envelopes wait (as on the Signal server) while nobody is subscribed, and go to
  every subscriber in order; a subscriber that does not read holds delivery back, as
  signal-cli's blocking writes do.
- Sends (`send`, `sendReaction`, `remoteDelete`): `recipient` (one value or a list) and/or
  `groupId`; one result per distinct recipient identifier and per group member; recipients
  parsed and the message checked before anything is sent, with SendCommand's error texts
  (invalid number, no recipients, empty message, quote without author, unknown group);
  the verdict of SendMessageResultUtils: success while anyone got the message, else -5
  when every failure is a rate limit, -4 when every one is an untrusted identity, -1
  otherwise, each with `{"response": {timestamp, results}}` as its data. These answers are
  the golden file's `send` lines, printed by real signal-cli's JSON-RPC code
  (test_signal_fake_golden.py).
- Groups: `updateGroup` without `groupId` creates a group (`name`, `members`, `admin`),
  with it adds `members` (and `admin`s, a new `name`); `quitGroup` leaves (`admin` names
  new admins, `delete` forgets the group); `listGroups` shows groups the bot left with
  `isMember` false. List parameters take the singular name with one value or an array,
  or the plural name with an array (JsonRpcNamespace; one value under the plural name is
  an uncaught ClassCastException, -32603). The answers, their key order and the error texts
  (-1: invalid group id, unknown group, not a member, last admin, unregistered number) are
  the ones in the golden file, which real signal-cli's JSON-RPC code printed (see
  test_signal_fake_golden.py). Account errors on these methods come before any parameter
  check, as test_signal_cli_contract.py checks against the real daemon.

What is made up: everything Signal's servers decide. There is no Signal network: sends
are recorded in `sent`; who is registered is who the fake knows (anyone else gets an
UNREGISTERED_FAILURE result); a recipient is refused only when a test says so
(`fail_sends_to`: rate limits, untrusted identities, ...), and a whole call fails only
with `fail_next`. Also made up: which people join a new group at once (everyone the fake
knows: real Signal needs their profile key) and which are only invited (unknown uuids);
new group ids (random, 32 bytes as a v2 group's); the answer to `quitGroup` without a
group id (real 0.13.19 fails with some internal error); phone numbers are taken only in
international form (signal-cli would complete a local one with the account's country
code).
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import contextlib
import itertools
import json
import re
import secrets
import time
from collections import deque
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any

from aiohttp import web

from signal_fake.envelopes import (
    Group,
    Payload,
    Person,
    group_change_result,
    quit_result,
    recipient_result,
)

VERSION = "0.13.19"
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
USER_ERROR = -1
RATE_LIMIT = -5
RATE_LIMIT_MESSAGE = "Failed to send message due to rate limiting"
UNTRUSTED = -4
# A send that reached nobody: SendMessageResultUtils.outputResult's error, by the kinds of
# the failures (any other mix: -1 "Failed to send message").
SEND_FAILURES = {
    frozenset({"RATE_LIMIT_FAILURE"}): (RATE_LIMIT, RATE_LIMIT_MESSAGE),
    frozenset({"IDENTITY_FAILURE"}): (
        UNTRUSTED,
        "Failed to send message due to untrusted identities",
    ),
}
SEND_METHODS = ("send", "sendReaction", "remoteDelete")
GROUP_METHODS = ("updateGroup", "quitGroup")
# Methods that run for one account and so need one.
ACCOUNT_METHODS = (*SEND_METHODS, *GROUP_METHODS, "listGroups", "listIdentities", "version")
_UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}", re.I)
_NUMBER = re.compile(r"\+[1-9]\d{6,14}")


class RpcFailure(Exception):
    def __init__(self, code: int, message: str, data: Any = None) -> None:
        super().__init__(message)
        self.error = {"code": code, "message": message, "data": data}


@dataclass
class Sent:
    """A send that reached someone: `reached` holds their uuids (a send whose every
    recipient failed is not here; `calls` has it)."""

    method: str
    params: Payload
    timestamp: int
    reached: tuple[str, ...] = ()


@dataclass(frozen=True)
class Refusal:
    """Signal's server refusing one recipient of a send (a JsonSendMessageResult type)."""

    kind: str
    token: str | None = None
    retry_after: int | None = None


class _Subscriber:
    """One stream of notifications: an SSE response or a TCP connection."""

    def __init__(self, write: Callable[[Payload], Awaitable[None]]) -> None:
        self.write = write
        self.closed = asyncio.Event()


@dataclass
class FakeSignalDaemon:
    account: str
    me: Person
    keepalive_seconds: float = 15.0
    groups: dict[str, Group] = field(default_factory=dict)
    fingerprints: dict[str, str] = field(default_factory=dict)
    people: dict[str, Person] = field(default_factory=dict)
    sent: list[Sent] = field(default_factory=list)
    calls: list[tuple[str, Payload]] = field(default_factory=list)
    http_port: int = 0
    tcp_port: int = 0

    def __post_init__(self) -> None:
        self._inbox: deque[Payload] = deque()
        self._arrived = asyncio.Event()
        self._subscribers: list[_Subscriber] = []
        self._failures: dict[str, deque[RpcFailure]] = {}
        self._refusals: dict[str, deque[Refusal]] = {}
        # Sent timestamps: milliseconds, from now on, never twice the same.
        self._clock = itertools.count(int(time.time() * 1000))
        self._runner: web.AppRunner | None = None
        self._tcp: asyncio.Server | None = None
        self._connections: set[asyncio.StreamWriter] = set()
        self._pump_task: asyncio.Task[None] | None = None

    # --- test controls ------------------------------------------------------------------

    def add_group(self, group: Group) -> None:
        self.groups[group.id] = group
        for person in group.members:
            self.add_person(person)

    def add_person(self, person: Person, fingerprint: str | None = None) -> None:
        self.people[person.uuid] = person
        self.fingerprints[person.uuid] = fingerprint or person.uuid.replace("-", "")[:32] * 2

    def receive(self, payload: Payload) -> None:
        """An envelope arrives from the Signal network."""
        self._inbox.append(payload)
        self._arrived.set()

    def fail_next(self, method: str, code: int, message: str, data: Any = None) -> None:
        """The next call of `method` fails with this error, whatever it asks."""
        self._failures.setdefault(method, deque()).append(RpcFailure(code, message, data))

    def fail_sends_to(
        self,
        person: Person,
        kind: str = "RATE_LIMIT_FAILURE",
        *,
        times: int = 1,
        retry_after: int | None = None,
        token: str | None = None,
    ) -> None:
        """The next `times` sends (messages, reactions, deletes; 1:1 or group) fail for
        `person` alone with `kind`, as Signal's server refusing them. The answer then
        follows signal-cli's rules: success while anyone got the message, with this
        person's result marked; else -5 (only rate limits), -4 (only untrusted identities)
        or -1, with the results in the error's `data.response`. signal-cli 0.13.19 gives
        `retryAfterSeconds` only with a proof-required `token`; 0.14 gives it for every
        rate limit: pass `retry_after` alone for that."""
        refusal = Refusal(kind, token, retry_after)
        self._refusals.setdefault(person.uuid, deque()).extend([refusal] * times)

    def now(self) -> int:
        return next(self._clock)

    @property
    def subscribers(self) -> int:
        return len(self._subscribers)

    @property
    def waiting(self) -> int:
        """Envelopes not yet handed to any subscriber."""
        return len(self._inbox)

    # --- lifecycle ----------------------------------------------------------------------

    async def start(self) -> None:
        """Listen on loopback (the same ports again after a `stop`)."""
        app = web.Application()
        app.router.add_route("*", "/api/v1/rpc", self._http_rpc)
        app.router.add_route("*", "/api/v1/events", self._http_events)
        app.router.add_route("*", "/api/v1/check", self._http_check)
        self._runner = web.AppRunner(app, handle_signals=False)
        await self._runner.setup()
        site = web.TCPSite(self._runner, "127.0.0.1", self.http_port, reuse_address=True)
        await site.start()
        self.http_port = site._server.sockets[0].getsockname()[1]  # type: ignore[union-attr]
        self._tcp = await asyncio.start_server(
            self._tcp_connection, "127.0.0.1", self.tcp_port, reuse_address=True
        )
        self.tcp_port = self._tcp.sockets[0].getsockname()[1]
        self._pump_task = asyncio.create_task(self._pump())

    async def stop(self) -> None:
        """Go away abruptly, as a killed daemon does; queued envelopes stay queued."""
        if self._pump_task is not None:
            self._pump_task.cancel()
            await asyncio.gather(self._pump_task, return_exceptions=True)
        for subscriber in self._subscribers:
            subscriber.closed.set()
        self._subscribers.clear()
        if self._tcp is not None:
            self._tcp.close()
            for writer in list(self._connections):
                writer.transport.abort()
            await self._tcp.wait_closed()
        if self._runner is not None:
            await self._runner.cleanup()

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.http_port}"

    # --- delivery -----------------------------------------------------------------------

    async def _pump(self) -> None:
        while True:
            while not (self._inbox and self._subscribers):
                self._arrived.clear()
                await self._arrived.wait()
            payload = self._inbox.popleft()
            for subscriber in list(self._subscribers):
                try:
                    await subscriber.write(payload)
                except (ConnectionError, RuntimeError, OSError):
                    self._unsubscribe(subscriber)

    def _subscribe(self, subscriber: _Subscriber) -> None:
        self._subscribers.append(subscriber)
        self._arrived.set()

    def _unsubscribe(self, subscriber: _Subscriber) -> None:
        if subscriber in self._subscribers:
            self._subscribers.remove(subscriber)
        subscriber.closed.set()

    # --- JSON-RPC -----------------------------------------------------------------------

    async def handle_text(self, text: str) -> Any:
        """The answer to one request line or body (None: nothing to answer)."""
        if not text.strip():
            return _error(PARSE_ERROR, "Empty input line", None)
        try:
            message = json.loads(text)
        except ValueError as error:
            return _error(PARSE_ERROR, str(error), None)
        if isinstance(message, list):
            if not message:
                return _error(INVALID_REQUEST, "invalid request", None)
            answers = [self._handle(item) for item in message]
            return [answer for answer in answers if answer is not None] or None
        if not isinstance(message, dict):
            return _error(INVALID_REQUEST, f"unexpected type: {_node_type(message)}", None)
        return self._handle(message)

    def _handle(self, message: Any) -> Any:
        """One request, checked as JsonRpcReader does: a malformed request is answered even
        without an id; a call is answered only when the request has an id (`null` too)."""
        try:
            request_id, method, params = _request_parts(message)
        except RpcFailure as failure:
            return {"jsonrpc": "2.0", "error": failure.error, "id": _value_id(message)}
        answer: Payload
        try:
            answer = {"result": self._call(method, params)}
        except RpcFailure as failure:
            answer = {"error": failure.error}
        if "id" not in message:
            return None
        return {"jsonrpc": "2.0", **answer, "id": request_id}

    def _call(self, method: str, params: Payload | list[Any] | None) -> Any:
        given = params if isinstance(params, dict) else {}
        self.calls.append((method, given))
        if method == "listAccounts":
            return [{"number": self.account}]
        handler = self._methods().get(method)
        if handler is None:
            raise RpcFailure(METHOD_NOT_FOUND, "Method not implemented")
        # The account first: an array has none (SignalJsonRpcCommandHandler).
        self._check_account(method, given)
        if isinstance(params, list):
            raise RpcFailure(
                INVALID_REQUEST,
                "Cannot deserialize value of type `java.util.LinkedHashMap<java.lang.String,"
                "java.lang.Object>` from Array value (token `JsonToken.START_ARRAY`)",
            )
        failures = self._failures.get(method)
        if failures:
            raise failures.popleft()
        return handler(given)

    def _methods(self) -> dict[str, Callable[[Payload], Any]]:
        return {
            "version": lambda _: {"version": VERSION},
            "send": self._send,
            "sendReaction": self._send,
            "remoteDelete": self._send,
            "listGroups": self._list_groups,
            "listIdentities": self._list_identities,
            "updateGroup": self._update_group,
            "quitGroup": self._quit_group,
        }

    def _check_account(self, method: str, params: Payload) -> None:
        account = params.get("account")
        if account is None and method != "version":
            raise RpcFailure(INVALID_PARAMS, "Method requires valid account parameter")
        if account is not None and account != self.account:
            raise RpcFailure(INVALID_PARAMS, "Specified account does not exist")

    # --- sending ------------------------------------------------------------------------

    def _send(self, params: Payload) -> Payload:
        """`send`, `sendReaction` and `remoteDelete`: SendCommand's checks in its order, one
        result per recipient identifier and group member, then SendMessageResultUtils'
        verdict (see `fail_sends_to`)."""
        method = self.calls[-1][0]
        identifiers = [_identifier(text) for text in _list_param(params, "recipient") or []]
        group_ids = [_checked_group_id(text) for text in _list_param(params, "groupId") or []]
        if not identifiers and not group_ids:
            raise RpcFailure(USER_ERROR, "No recipients given")
        if method == "send":
            _check_message(params)
        groups = [self._group_for_sending(group_id) for group_id in group_ids]
        timestamp = self.now()
        results = [self._single_result(identifier) for identifier in dict.fromkeys(identifiers)]
        for group in groups:
            results += [self._result(p, group) for p in group.members if p != self.me]
        answer = {"timestamp": timestamp, "results": results}
        if results and not any(result["type"] == "SUCCESS" for result in results):
            kinds = frozenset(result["type"] for result in results)
            code, message = SEND_FAILURES.get(kinds, (USER_ERROR, "Failed to send message"))
            raise RpcFailure(code, message, {"response": answer})
        reached = tuple(
            str(r["recipientAddress"]["uuid"]) for r in results if r["type"] == "SUCCESS"
        )
        self.sent.append(Sent(method, params, timestamp, reached))
        return answer

    def _group_for_sending(self, group_id: str) -> Group:
        group = self.groups.get(group_id)
        if group is None:
            raise RpcFailure(USER_ERROR, f"Group not found: {group_id}")
        if not group.is_member:
            raise RpcFailure(
                USER_ERROR, f"User is not a member in group: {group.name} ({group_id})"
            )
        return group

    def _single_result(self, identifier: str) -> Payload:
        for person in (self.me, *self.people.values()):
            if identifier in (person.uuid, person.number):
                return self._result(person, None)
        # Signal knows nobody by that uuid or number.
        uuid, number = (identifier, None) if _UUID.fullmatch(identifier) else (None, identifier)
        address = {"uuid": uuid, "number": number, "username": None}
        return recipient_result(address, None, "UNREGISTERED_FAILURE")

    def _result(self, person: Person, group: Group | None) -> Payload:
        refusals = self._refusals.get(person.uuid)
        if not refusals:
            return recipient_result(person.address(), group)
        refusal = refusals.popleft()
        return recipient_result(
            person.address(), group, refusal.kind, refusal.token, refusal.retry_after
        )

    def _list_groups(self, params: Payload) -> list[Payload]:
        wanted = _list_param(params, "groupId")
        return [
            group.listed() for group in self.groups.values() if wanted is None or group.id in wanted
        ]

    # --- groups -------------------------------------------------------------------------

    def new_group_id(self) -> str:
        return base64.b64encode(secrets.token_bytes(32)).decode("ascii")

    def _update_group(self, params: Payload) -> Payload:
        group_id = params.get("groupId")
        parsed = group_id if group_id is None else _checked_group_id(group_id)
        # Every identifier is resolved before anything changes, as ManagerImpl does (but
        # for a new group's admins, which real signal-cli resolves once it made the group).
        members = self._resolve(_list_param(params, "member") or [])
        admins = self._resolve(_list_param(params, "admin") or [])
        if parsed is None:
            return self._create_group(params.get("name"), members, admins)
        group = self._group_for_updating(parsed)
        changed = self._add_members(group, members)
        if params.get("name") is not None and params["name"] != group.name:
            group.name = str(params["name"])
            changed = True
        changed = self._make_admins(group, admins) or changed
        return group_change_result(self.now(), self._others(group)) if changed else {}

    def _create_group(self, name: Any, members: list[Person], admins: list[Person]) -> Payload:
        group = Group(self.new_group_id(), "" if name is None else str(name))
        group.members.append(self.me)
        group.admins.append(self.me)
        self._add_members(group, members)
        self.groups[group.id] = group
        timestamp, results = self.now(), self._others(group)
        if self._make_admins(group, admins):
            # signal-cli joins the creation's results and the admin change's.
            timestamp, results = self.now(), results + self._others(group)
        return group_change_result(timestamp, results, group_id=group.id)

    def _quit_group(self, params: Payload) -> Payload:
        group_id = params.get("groupId")
        if group_id is None:
            raise RpcFailure(INTERNAL_ERROR, "No group id given (NullPointerException)")
        group = self.groups.get(_checked_group_id(group_id))
        if group is None:
            raise RpcFailure(USER_ERROR, f"Failed to send to group: Group not found: {group_id}")
        admins = self._resolve(_list_param(params, "admin") or [])
        answer: Payload = {}  # not a member (any more): signal-cli only logs it
        if group.is_member:
            self._leave(group, admins)
            answer = quit_result(self.now(), self._others(group))
        if params.get("delete"):
            del self.groups[group.id]
        return answer

    def _leave(self, group: Group, admins: list[Person]) -> None:
        new_admins = [p for p in admins if p in group.members and p not in group.admins]
        if group.admins == [self.me] and len(group.members) > 1 and not new_admins:
            raise RpcFailure(
                USER_ERROR,
                "You need to specify a new admin with --admin: User is last admin in group: "
                f"{group.name} ({group.id})",
            )
        group.admins = [p for p in group.admins if p != self.me] + new_admins
        group.members = [p for p in group.members if p != self.me]
        group.is_member = False

    def _group_for_updating(self, group_id: str) -> Group:
        group = self.groups.get(group_id)
        if group is None:
            raise RpcFailure(USER_ERROR, f"Group not found: {group_id}")
        if not group.is_member:
            message = f"User is not a member in group: {group.name} ({group_id})"
            raise RpcFailure(USER_ERROR, message)
        return group

    def _add_members(self, group: Group, people: list[Person]) -> bool:
        """Known people join at once, strangers are invited; whether anyone was new."""
        new = [p for p in people if p not in (*group.members, *group.pending, self.me)]
        for person in new:
            known = person.uuid in self.people
            (group.members if known else group.pending).append(person)
        return bool(new)

    def _make_admins(self, group: Group, people: list[Person]) -> bool:
        new = [p for p in people if p in group.members and p not in group.admins]
        group.admins.extend(new)
        return bool(new)

    def _others(self, group: Group) -> list[Person]:
        """Who a group change is sent to: members and invited people but the bot."""
        return [p for p in (*group.members, *group.pending) if p != self.me]

    def _resolve(self, identifiers: list[Any]) -> list[Person]:
        return [self._resolve_one(str(identifier)) for identifier in identifiers]

    def _resolve_one(self, identifier: str) -> Person:
        for person in (self.me, *self.people.values()):
            if identifier in (person.uuid, person.number):
                return person
        if _UUID.fullmatch(identifier):
            return Person("", identifier.lower())  # a stranger: invited, not joined
        if _NUMBER.fullmatch(identifier):
            raise RpcFailure(USER_ERROR, f"The user {identifier} is not registered.")
        raise RpcFailure(
            USER_ERROR, f"Invalid phone number '{identifier}': No valid characters found."
        )

    def _list_identities(self, params: Payload) -> list[Payload]:
        wanted = params.get("number")
        return [
            {
                "number": person.number,
                "uuid": person.uuid,
                "fingerprint": self.fingerprints[uuid],
                "safetyNumber": "12345 " * 12,
                "scannableSafetyNumber": "",
                "trustLevel": "TRUSTED_UNVERIFIED",
                "addedTimestamp": 1_700_000_000_000,
            }
            for uuid, person in self.people.items()
            if wanted is None or wanted in (person.uuid, person.number)
        ]

    # --- HTTP ---------------------------------------------------------------------------

    async def _http_rpc(self, request: web.Request) -> web.StreamResponse:
        if request.method != "POST":
            return web.Response(status=405)
        if not request.headers.get("Content-Type", "").startswith("application/json"):
            return web.Response(status=415)
        answer = await self.handle_text(await request.text())
        if answer is None:
            return web.Response(status=201)
        return web.Response(body=_dumps(answer), content_type="application/json")

    async def _http_check(self, request: web.Request) -> web.StreamResponse:
        return web.Response(status=200 if request.method == "GET" else 405)

    async def _http_events(self, request: web.Request) -> web.StreamResponse:
        if request.method != "GET":
            return web.Response(status=405)
        account = request.query.get("account")
        if account and account != self.account:
            return web.Response(status=400)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        lock = asyncio.Lock()

        async def write(chunk: bytes) -> None:
            async with lock:
                # signal-cli 0.13.19 sends its headers only with the first bytes.
                if not response.prepared:
                    await response.prepare(request)
                await response.write(chunk)

        async def write_event(payload: Payload) -> None:
            await write(b"event:receive\ndata:" + _dumps(payload) + b"\n\n")

        subscriber = _Subscriber(write_event)
        self._subscribe(subscriber)
        try:
            while not subscriber.closed.is_set():
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(subscriber.closed.wait(), self.keepalive_seconds)
                    break
                await write(b":\n")
        except (ConnectionError, RuntimeError, OSError):
            pass
        finally:
            self._unsubscribe(subscriber)
        return response

    # --- TCP ----------------------------------------------------------------------------

    async def _tcp_connection(
        self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter
    ) -> None:
        self._connections.add(writer)
        lock = asyncio.Lock()

        async def send_line(message: Any) -> None:
            async with lock:
                writer.write(_dumps(message) + b"\n")
                await writer.drain()

        async def notify(payload: Payload) -> None:
            await send_line({"jsonrpc": "2.0", "method": "receive", "params": payload})

        subscriber = _Subscriber(notify)
        self._subscribe(subscriber)
        tasks: set[asyncio.Task[None]] = set()
        try:
            while line := await reader.readline():
                task = asyncio.create_task(self._tcp_request(line, send_line))
                tasks.add(task)
                task.add_done_callback(tasks.discard)
        except (ConnectionError, OSError):
            pass
        finally:
            self._unsubscribe(subscriber)
            self._connections.discard(writer)
            writer.close()

    async def _tcp_request(self, line: bytes, send_line: Callable[[Any], Awaitable[None]]) -> None:
        answer = await self.handle_text(line.decode("utf-8", "replace"))
        if answer is not None:
            with contextlib.suppress(ConnectionError, OSError):
                await send_line(answer)


def _request_parts(message: Any) -> tuple[Any, str, Payload | list[Any] | None]:
    """(id, method, params) of a request, or the -32600 JsonRpcReader answers (Jackson's
    texts shortened: the probes match them as ANY)."""
    if not isinstance(message, dict):
        raise RpcFailure(INVALID_REQUEST, "Cannot construct instance of `JsonRpcRequest`")
    unknown = sorted(set(message) - {"jsonrpc", "method", "id", "params"})
    if unknown:
        raise RpcFailure(INVALID_REQUEST, f'Unrecognized field "{unknown[0]}"')
    params = message.get("params")
    if params is not None and not isinstance(params, dict | list):
        raise RpcFailure(INVALID_REQUEST, "Problem deserializing property 'params'")
    for name in ("id", "jsonrpc", "method"):
        if isinstance(message.get(name), dict | list):
            raise RpcFailure(INVALID_REQUEST, f"Problem deserializing property '{name}'")
    if _text(message.get("jsonrpc")) != "2.0":
        raise RpcFailure(INVALID_REQUEST, "only jsonrpc version 2.0 is supported")
    method = message.get("method")
    if method is None:
        raise RpcFailure(INVALID_REQUEST, "method field must be set")
    return message.get("id"), str(_text(method)), params


def _value_id(message: Any) -> Any:
    """The id an answer to a malformed request carries: the request's, if a plain value."""
    request_id = message.get("id") if isinstance(message, dict) else None
    return None if isinstance(request_id, dict | list) else request_id


def _text(value: Any) -> str | None:
    """A JSON scalar as Jackson reads it into a String field (2.0 -> "2.0", true -> "true")."""
    if value is None or isinstance(value, str):
        return value
    return json.dumps(value)


def _node_type(value: Any) -> str:
    """Jackson's JsonNodeType of a JSON value that is not an object or an array."""
    if value is None:
        return "NULL"
    if isinstance(value, bool):
        return "BOOLEAN"
    return "STRING" if isinstance(value, str) else "NUMBER"


def _identifier(value: Any) -> str:
    """A recipient as RecipientIdentifier.Single.fromString reads it (a uuid or a number;
    no usernames, no numbers without their country code here)."""
    text = str(value)
    if _UUID.fullmatch(text):
        return text.lower()
    if _NUMBER.fullmatch(text):
        return text
    raise RpcFailure(USER_ERROR, f"Invalid phone number '{text}': No valid characters found.")


def _check_message(params: Payload) -> None:
    """SendCommand's checks of what a message holds."""
    if params.get("quoteTimestamp") is not None and params.get("quoteAuthor") is None:
        raise RpcFailure(USER_ERROR, "Quote author parameter is missing")
    holds = [params.get("message"), _list_param(params, "attachment"), params.get("sticker")]
    if not any(holds) and params.get("quoteTimestamp") is None:
        raise RpcFailure(
            USER_ERROR,
            "Sending empty message is not allowed, either a message, attachment or sticker "
            "must be given.",
        )


def _error(code: int, message: str, request_id: Any) -> Payload:
    error = {"code": code, "message": message, "data": None}
    return {"jsonrpc": "2.0", "error": error, "id": request_id}


def _dumps(message: Any) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


def _list_param(params: Payload, name: str) -> list[Any] | None:
    """A list parameter as JsonRpcNamespace reads it: `name`, one value or an array, else
    `name + "s"`, an array only (one value there is a ClassCastException signal-cli does
    not catch)."""
    value = params.get(name)
    if value is not None:
        return value if isinstance(value, list) else [value]
    value = params.get(name + "s")
    if value is None or isinstance(value, list):
        return value
    raise RpcFailure(
        INTERNAL_ERROR,
        f"class {_java_class(value)} cannot be cast to class java.util.List ({_java_class(value)}"
        " and java.util.List are in module java.base of loader 'bootstrap') (ClassCastException)",
    )


def _java_class(value: Any) -> str:
    """The class Jackson maps a JSON scalar to, in a Map<String, Object>."""
    if isinstance(value, bool):
        return "java.lang.Boolean"
    if isinstance(value, int):
        return "java.lang.Integer" if -(2**31) <= value < 2**31 else "java.lang.Long"
    if isinstance(value, float):
        return "java.lang.Double"
    return "java.lang.String" if isinstance(value, str) else "java.util.LinkedHashMap"


def _checked_group_id(group_id: Any) -> str:
    """The group id, if it decodes as a v1 (16 bytes) or v2 (32 bytes) one."""
    text = str(group_id)
    try:
        size = len(base64.b64decode(text + "=" * (-len(text) % 4), validate=True))
    except (binascii.Error, ValueError):
        size = -1
    if size not in (16, 32):
        reason = f"Invalid group id of size {size}" if size >= 0 else "Illegal base64 character"
        raise RpcFailure(
            USER_ERROR,
            f'Invalid group id: Failed to decode groupId (must be base64) "{text}": {reason}',
        )
    return text
