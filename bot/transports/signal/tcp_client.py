"""signal-cli's TCP mode: newline-delimited JSON-RPC, calls and events on one connection.

Every connection gets every envelope (in any `--receive-mode` but manual), so the transport
keeps exactly one, opened by its receive loop; calls wait for it.

Answers and events share the stream, so events are read ahead into a bounded buffer while
a call waits for its answer (or the call would wait behind events the core has not taken
yet, which wait for the call: a deadlock). With no call waiting, reading stops when the
buffer is full and the daemon is held back instead.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import deque
from collections.abc import AsyncGenerator
from typing import Any

from bot.transports.signal.rpc import (
    DaemonUnavailable,
    Payload,
    Requests,
    decode_json,
    encode_json,
)

CALL_TIMEOUT = 120.0
# How long a call waits for the receive loop to (re)connect.
CONNECT_WAIT = 30.0
CONNECT_TIMEOUT = 10.0
MAX_BUFFERED = 100
LINE_LIMIT = 2**20


class _Connection:
    def __init__(
        self,
        reader: asyncio.StreamReader,
        writer: asyncio.StreamWriter,
        requests: Requests,
        max_buffered: int,
    ) -> None:
        self._reader = reader
        self._writer = writer
        self._requests = requests
        self._max_buffered = max_buffered
        self._pending: dict[int, asyncio.Future[Payload]] = {}
        self._payloads: deque[Payload] = deque()
        self._ended: DaemonUnavailable | None = None
        self._changed = asyncio.Condition()
        self._read_task = asyncio.create_task(self._read_loop())

    async def call(self, method: str, params: Payload | None) -> Any:
        if self._ended is not None:
            raise self._ended
        request = self._requests.request(method, params)
        answer: asyncio.Future[Payload] = asyncio.get_running_loop().create_future()
        self._pending[request["id"]] = answer
        await self._notify()  # a waiting call lets the reader read past a full buffer
        try:
            self._writer.write(encode_json(request) + b"\n")
            await self._writer.drain()
            message = await asyncio.wait_for(answer, CALL_TIMEOUT)
        except (OSError, TimeoutError) as error:
            raise DaemonUnavailable(f"signal-cli {method}: {type(error).__name__}") from error
        finally:
            self._pending.pop(request["id"], None)
        return self._requests.result(method, message)

    async def next_payload(self) -> Payload:
        """The next event; events read before the connection ended come first."""
        async with self._changed:
            await self._changed.wait_for(lambda: bool(self._payloads) or self._ended is not None)
            if self._payloads:
                payload = self._payloads.popleft()
                self._changed.notify_all()
                return payload
        assert self._ended is not None
        raise self._ended

    async def _read_loop(self) -> None:
        try:
            while True:
                async with self._changed:
                    await self._changed.wait_for(self._may_read)
                line = await self._reader.readline()
                if not line:
                    raise DaemonUnavailable("signal-cli closed the connection")
                await self._dispatch(decode_json(line))
        except (OSError, ValueError, DaemonUnavailable) as error:
            # ValueError: a line longer than LINE_LIMIT.
            await self._end(error)

    def _may_read(self) -> bool:
        return len(self._payloads) < self._max_buffered or bool(self._pending)

    async def _dispatch(self, message: Any) -> None:
        if not isinstance(message, dict):
            return
        if "method" in message:
            payload = self._requests.notification_payload(message)
            if payload is not None:
                self._payloads.append(payload)
                await self._notify()
            return
        answer = self._pending.get(message.get("id"))  # type: ignore[arg-type]
        if answer is not None and not answer.done():
            answer.set_result(message)

    async def _end(self, error: Exception) -> None:
        ended = error if isinstance(error, DaemonUnavailable) else None
        self._ended = ended or DaemonUnavailable(f"signal-cli connection: {error}")
        for answer in self._pending.values():
            if not answer.done():
                answer.set_exception(self._ended)
        await self._notify()

    async def _notify(self) -> None:
        async with self._changed:
            self._changed.notify_all()

    async def close(self) -> None:
        self._read_task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await self._read_task
        self._writer.close()
        with contextlib.suppress(OSError):
            await self._writer.wait_closed()
        if self._ended is None:
            await self._end(DaemonUnavailable("connection closed"))


class TcpDaemon:
    def __init__(
        self, host: str, port: int, account: str, *, max_buffered: int = MAX_BUFFERED
    ) -> None:
        self._host = host
        self._port = port
        self._requests = Requests(account)
        self._max_buffered = max_buffered
        self._connection: _Connection | None = None
        self._connected = asyncio.Event()

    async def call(self, method: str, params: Payload | None = None) -> Any:
        try:
            await asyncio.wait_for(self._connected.wait(), CONNECT_WAIT)
        except TimeoutError:
            raise DaemonUnavailable(f"signal-cli {method}: not connected") from None
        assert self._connection is not None
        return await self._connection.call(method, params)

    async def events(self) -> AsyncGenerator[Payload, None]:
        connection = await self._open()
        self._connection = connection
        self._connected.set()
        try:
            while True:
                yield await connection.next_payload()
        finally:
            self._connected.clear()
            self._connection = None
            await connection.close()

    async def _open(self) -> _Connection:
        try:
            reader, writer = await asyncio.wait_for(
                asyncio.open_connection(self._host, self._port, limit=LINE_LIMIT),
                CONNECT_TIMEOUT,
            )
        except (OSError, TimeoutError) as error:
            raise DaemonUnavailable(f"signal-cli at {self._host}:{self._port}: {error}") from error
        return _Connection(reader, writer, self._requests, self._max_buffered)

    async def close(self) -> None:
        if self._connection is not None:
            await self._connection.close()
