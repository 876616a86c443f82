"""The fake daemon answers the recorded probes as real signal-cli 0.13.19 does.

The probes and answers (tests/signal_fake/probes.py) were recorded from the real daemon and
are re-checked against it by test_signal_cli_contract.py; here they run against the fake.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import pytest
from signal_fake import FakeSignalDaemon
from signal_fake.harness import new_daemon
from signal_fake.probes import HTTP_PROBES, TCP_PROBES, UNKNOWN_ACCOUNT, Probe, http_answer, matches


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    fake = new_daemon(keepalive_seconds=0.3)
    await fake.start()
    yield fake
    await fake.stop()


@pytest.mark.parametrize("probe", HTTP_PROBES, ids=[probe.name for probe in HTTP_PROBES])
async def test_http_probe(daemon: FakeSignalDaemon, probe: Probe) -> None:
    status, answer = await http_answer(daemon.url, probe)
    assert status == probe.status
    assert matches(probe.answer, answer), answer


async def test_tcp_probes(daemon: FakeSignalDaemon) -> None:
    reader, writer = await asyncio.open_connection("127.0.0.1", daemon.tcp_port)
    try:
        for line, expected in TCP_PROBES:
            writer.write(line.encode() + b"\n")
            await writer.drain()
            answer = await _next_line(reader)
            assert matches(expected, answer), (line, answer)
    finally:
        writer.close()


async def test_event_stream_framing(daemon: FakeSignalDaemon) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{daemon.url}/api/v1/events"
        async with http.get(url, params={"account": UNKNOWN_ACCOUNT}) as refused:
            assert refused.status == 400
        async with http.get(url) as response:
            assert response.headers["Content-Type"] == "text/event-stream"
            assert await response.content.readline() == b":\n"


async def _next_line(reader: asyncio.StreamReader) -> Any:
    try:
        line = await asyncio.wait_for(reader.readline(), 0.5)
    except TimeoutError:
        return None
    return json.loads(line)
