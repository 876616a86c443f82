"""The fake daemon answers the recorded probes as real signal-cli 0.13.19 does.

The probes and answers (tests/signal_fake/probes.py) were recorded from the real daemon and
are re-checked against it by test_signal_cli_contract.py; here they run against the fake.
"""

from __future__ import annotations

from collections.abc import AsyncIterator

import aiohttp
import pytest
from signal_fake import FakeSignalDaemon
from signal_fake.harness import new_daemon
from signal_fake.probes import (
    HTTP_PROBES,
    UNKNOWN_ACCOUNT,
    Probe,
    http_answer,
    matches,
    tcp_answers,
)


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
    for line, expected, answer in await tcp_answers(daemon.tcp_port, timeout=0.5):
        assert matches(expected, answer), (line, answer)


async def test_event_stream_framing(daemon: FakeSignalDaemon) -> None:
    async with aiohttp.ClientSession() as http:
        url = f"{daemon.url}/api/v1/events"
        async with http.get(url, params={"account": UNKNOWN_ACCOUNT}) as refused:
            assert refused.status == 400
        async with http.get(url) as response:
            assert response.headers["Content-Type"] == "text/event-stream"
            assert await response.content.readline() == b":\n"
