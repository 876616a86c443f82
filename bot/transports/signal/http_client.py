"""signal-cli's HTTP mode: `POST /api/v1/rpc` for calls, `GET /api/v1/events` (SSE) for events.

signal-cli 0.13.19 sends the event stream's headers only with its first event or keepalive
(a `:` line every 15 s), so connecting may take that long; nothing is missed meanwhile, as
the daemon subscribes the stream as soon as it has read the request.
"""

from __future__ import annotations

from collections.abc import AsyncGenerator, AsyncIterator
from typing import Any

import aiohttp
import yarl

from bot.transports.signal.rpc import DaemonUnavailable, Payload, Requests, decode_json

CALL_TIMEOUT = aiohttp.ClientTimeout(total=120, sock_connect=10)
# Four missed keepalives: the daemon or the network is gone.
KEEPALIVE_SECONDS = 15.0
EVENTS_TIMEOUT = aiohttp.ClientTimeout(total=None, sock_connect=10, sock_read=4 * KEEPALIVE_SECONDS)
# One SSE line holds a whole envelope.
READ_BUFFER = 2**20


class SseParser:
    """Server-sent events, one line at a time (the WHATWG event-stream format)."""

    def __init__(self) -> None:
        self._event = ""
        self._data: list[str] = []

    def feed(self, line: str) -> tuple[str, str] | None:
        """The (event type, data) an empty line completes, else None."""
        if not line:
            event, data = self._event or "message", "\n".join(self._data)
            has_data = bool(self._data)
            self._event, self._data = "", []
            return (event, data) if has_data else None
        if line.startswith(":"):
            return None  # a comment: signal-cli's keepalive
        name, _, value = line.partition(":")
        value = value.removeprefix(" ")
        if name == "event":
            self._event = value
        elif name == "data":
            self._data.append(value)
        return None


class HttpDaemon:
    def __init__(self, url: str, account: str) -> None:
        self._base = yarl.URL(url.rstrip("/"))
        self._requests = Requests(account)
        self._http: aiohttp.ClientSession | None = None

    def _session(self) -> aiohttp.ClientSession:
        if self._http is None or self._http.closed:
            self._http = aiohttp.ClientSession(read_bufsize=READ_BUFFER)
        return self._http

    async def call(self, method: str, params: Payload | None = None) -> Any:
        request = self._requests.request(method, params)
        try:
            async with self._session().post(
                self._base / "api/v1/rpc", json=request, timeout=CALL_TIMEOUT
            ) as response:
                if response.status != 200:
                    raise DaemonUnavailable(f"signal-cli {method}: HTTP {response.status}")
                answer = decode_json(await response.read())
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DaemonUnavailable(f"signal-cli {method}: {_describe(error)}") from error
        return self._requests.result(method, answer)

    async def events(self) -> AsyncGenerator[Payload, None]:
        url = (self._base / "api/v1/events").with_query(account=self._requests.account)
        try:
            async with self._session().get(url, timeout=EVENTS_TIMEOUT) as response:
                if response.status != 200:
                    # 400: the daemon does not know the account (any more).
                    raise DaemonUnavailable(f"signal-cli events: HTTP {response.status}")
                async for payload in self._payloads(response):
                    yield payload
        except (aiohttp.ClientError, TimeoutError) as error:
            raise DaemonUnavailable(f"signal-cli events: {_describe(error)}") from error
        raise DaemonUnavailable("signal-cli ended the event stream")

    async def _payloads(self, response: aiohttp.ClientResponse) -> AsyncIterator[Payload]:
        parser = SseParser()
        async for raw in response.content:
            event = parser.feed(raw.decode("utf-8", "replace").rstrip("\r\n"))
            if event is None or event[0] != "receive":
                continue
            payload = self._requests.receive_payload(decode_json(event[1]))
            if payload is not None:
                yield payload

    async def close(self) -> None:
        if self._http is not None:
            await self._http.close()


def _describe(error: BaseException) -> str:
    return str(error) or type(error).__name__
