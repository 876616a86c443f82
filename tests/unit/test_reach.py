"""Why the homeserver cannot be reached, said at once and naming the URL (not nio's "Timed
out, sleeping"): against real local sockets and small HTTP servers, no homeserver needed."""

from __future__ import annotations

import asyncio
import logging
import socket
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import nio
import pytest
from aiohttp import web

from bot import cli
from bot.storage.keys import DataKey, write_key_file
from bot.transports.matrix.reach import Unreachable, probe, wait_for_homeserver
from bot.transports.matrix.transport import MatrixTransport
from bot.transports.matrix.trust import DeviceTrust

Handler = Callable[[web.Request], Awaitable[web.StreamResponse]]


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


@pytest.fixture
async def serve() -> AsyncIterator[Callable[[Handler], Awaitable[str]]]:
    runners: list[web.AppRunner] = []

    async def start(handler: Handler) -> str:
        app = web.Application()
        app.router.add_get("/_matrix/client/versions", handler)
        runner = web.AppRunner(app)
        await runner.setup()
        port = free_port()
        await web.TCPSite(runner, "127.0.0.1", port).start()
        runners.append(runner)
        return f"127.0.0.1:{port}"

    yield start
    for runner in runners:
        await runner.cleanup()


async def matrix(_: web.Request) -> web.Response:
    return web.json_response({"versions": ["v1.11"]})


async def test_a_homeserver_answers(serve: Callable[[Handler], Awaitable[str]]) -> None:
    assert await probe(f"http://{await serve(matrix)}") is None


async def test_each_cause_in_words(serve: Callable[[Handler], Awaitable[str]]) -> None:
    assert await probe(f"http://127.0.0.1:{free_port()}") == (
        "connection refused (is the homeserver running, and on this port?)"
    )
    assert await probe("https://vecinos-test.invalid") == (
        "the name vecinos-test.invalid was not found"
    )
    plain = await serve(matrix)
    assert await probe(f"https://{plain}") == (
        "the TLS handshake failed (is it http://, not https://?)"
    )

    async def web_page(_: web.Request) -> web.Response:
        return web.Response(text="<html>welcome</html>", content_type="text/html")

    assert await probe(f"http://{await serve(web_page)}") == (
        "it does not answer as a Matrix homeserver (no JSON at /_matrix/client/versions)"
    )

    async def not_found(_: web.Request) -> web.Response:
        return web.Response(status=404)

    assert await probe(f"http://{await serve(not_found)}") == (
        "it does not answer as a Matrix homeserver (HTTP 404 for /_matrix/client/versions)"
    )

    async def silent(_: web.Request) -> web.Response:
        await asyncio.sleep(1)
        return web.Response()

    assert await probe(f"http://{await serve(silent)}", seconds=0.3) == "no answer within 0.3 s"


async def test_a_first_start_stops_at_once_a_known_server_is_waited_for(
    caplog: pytest.LogCaptureFixture,
) -> None:
    url = "https://matrix.example.org"
    with pytest.raises(Unreachable) as raised:
        await wait_for_homeserver(url, keep_trying=False, check=_refused_times(1))
    assert str(raised.value) == f"cannot reach the Matrix homeserver {url}: connection refused"

    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    with caplog.at_level(logging.WARNING):
        await wait_for_homeserver(url, keep_trying=True, check=_refused_times(3), sleep=sleep)
    assert len(waits) == 3 and waits[0] < waits[1] < waits[2]  # backing off
    assert [r.getMessage().split(";")[0] for r in caplog.records] == [
        f"cannot reach the Matrix homeserver {url}: connection refused"
    ] * 3


async def test_a_running_bot_says_when_the_homeserver_is_lost_and_back(
    caplog: pytest.LogCaptureFixture,
) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    client = nio.AsyncClient(url, "@bot:localhost")
    transport = MatrixTransport(client, timedelta(seconds=1), DeviceTrust(client, "tofu"))
    try:
        transport.last_sync = datetime.now(UTC) - timedelta(minutes=1)  # syncs stopped
        with caplog.at_level(logging.INFO):
            assert await transport.check_reach() == (
                "connection refused (is the homeserver running, and on this port?)"
            )
            transport.last_sync = datetime.now(UTC)  # a sync came through
            assert await transport.check_reach() is None
        assert [r.getMessage() for r in caplog.records] == [
            f"cannot reach the Matrix homeserver {url}: connection refused (is the homeserver"
            " running, and on this port?); retrying",
            f"the Matrix homeserver {url} answers again",
        ]
    finally:
        await client.close()


def _refused_times(count: int) -> Callable[[str], Awaitable[str | None]]:
    answers = ["connection refused"] * count

    async def check(url: str) -> str | None:
        return answers.pop() if answers else None

    return check


def test_run_against_an_absent_homeserver_exits_with_the_url_and_cause(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    url = f"http://127.0.0.1:{free_port()}"
    write_key_file(tmp_path / "vecinos.key", DataKey.generate())
    (tmp_path / "config.toml").write_text(
        '[bot]\ndata_key_file = "vecinos.key"\n'
        f'[matrix]\nhomeserver = "{url}"\nuser_id = "@bot:localhost"\npassword = "x"\n',
        encoding="utf-8",
    )
    assert cli.main(["run", "-c", str(tmp_path / "config.toml")]) == 1
    assert capsys.readouterr().err.splitlines() == [
        f"error: cannot reach the Matrix homeserver {url}: connection refused"
        " (is the homeserver running, and on this port?)"
    ]
