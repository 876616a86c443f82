"""`/healthz` and `/metrics` of a bot on the console transport, over real HTTP."""

from __future__ import annotations

import asyncio
import json
import logging
import re
import socket
import sqlite3
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import aiohttp
import pytest

from bot.core.config import Area, BotSection, HealthSection, RoomConfig, Settings
from bot.core.events import OutgoingMessage, RoomRef
from bot.core.metrics import Metrics
from bot.core.outbox import Delivery
from bot.core.plugin import Plugin
from bot.runtime.app import Application
from bot.runtime.plugins import default_schema
from bot.storage.keys import DataKey
from bot.transports.console import ROOM_ID, ConsoleTransport
from plugins.sightings import Sightings

PERSON = "maria-ochoa-7731"


class StaleConsole(ConsoleTransport):
    """A console whose server went quiet a while ago."""

    quiet = timedelta(seconds=121)

    @property
    def last_activity(self) -> datetime | None:
        return datetime.now(UTC) - self.quiet


class HealthBot:
    """A running application with a console room; `get` queries its health endpoint."""

    def __init__(self, app: Application, transport: ConsoleTransport, output: list[str]) -> None:
        self.app = app
        self.transport = transport
        self.output = output

    async def get(self, path: str) -> tuple[int, str]:
        port = self.app.health_port
        assert port is not None
        async with (
            aiohttp.ClientSession() as http,
            http.get(f"http://127.0.0.1:{port}{path}") as response,
        ):
            return response.status, await response.text()

    async def health(self) -> tuple[int, dict[str, Any]]:
        status, body = await self.get("/healthz")
        return status, json.loads(body)

    async def metrics(self) -> str:
        status, body = await self.get("/metrics")
        assert status == 200
        return body


def settings_for(tmp_path: Path, **health: Any) -> Settings:
    room = RoomConfig(id=ROOM_ID, transport="console", role="neighborhood", areas=("pilsen",))
    return Settings.with_schema(default_schema())(
        bot=BotSection(data_dir=tmp_path / "data"),
        health=HealthSection(**{"port": 0, **health}),
        areas=(Area(slug="pilsen", name_en="Pilsen", name_es="Pilsen"),),
        rooms=(room,),
    )


StartBot = Callable[..., Awaitable[HealthBot]]


@pytest.fixture
async def start_bot(tmp_path: Path) -> AsyncIterator[StartBot]:
    apps: list[Application] = []

    async def start(
        transport: ConsoleTransport | None = None,
        plugins: Sequence[type[Plugin]] = (),
        **health: Any,
    ) -> HealthBot:
        app = Application(settings_for(tmp_path, **health), DataKey.generate(), plugins)
        apps.append(app)
        output: list[str] = []
        transport = transport or ConsoleTransport(user=PERSON, write=output.append)
        await app.start([transport])
        return HealthBot(app, transport, output)

    yield start
    for app in apps:
        await app.stop()


def sample(metrics: str, name: str, **labels: str) -> float | None:
    """The value of one sample in the text format (labels in any order), else None."""
    for line in metrics.splitlines():
        found = re.fullmatch(r"(\w+)(?:\{(.*)\})? (\S+)", line)
        if found is None or found[1] != name:
            continue
        have = dict(re.findall(r'(\w+)="([^"]*)"', found[2] or ""))
        if have == labels:
            return float(found[3])
    return None


async def wait_sent(bot: HealthBot, key: str) -> None:
    async with asyncio.timeout(5):
        while await bot.app.bot.outbox.sent_event(key) is None:
            await asyncio.sleep(0.01)


# --- /healthz ---------------------------------------------------------------------------


async def test_healthz_is_ok_after_start(start_bot: StartBot) -> None:
    bot = await start_bot()
    status, report = await bot.health()
    assert status == 200
    assert report["status"] == "ok" and report["failing"] == []
    checks = report["checks"]
    assert checks["database"] == {"ok": True}
    assert checks["transports"]["console"]["ok"] is True
    assert checks["transports"]["console"]["seconds_since_activity"] < 5
    assert checks["outbox"] == {"ok": True, "backlog": 0, "max_backlog": 500}


async def test_healthz_is_503_when_the_outbox_backlog_is_over_the_limit(
    start_bot: StartBot,
) -> None:
    bot = await start_bot(max_outbox_backlog=1)
    # No such transport: every send fails and is retried later, so both stay pending.
    nowhere = RoomRef("matrix", "!gone:example.org")
    await bot.app.bot.outbox.enqueue(
        [Delivery(f"alert:{n}", nowhere, OutgoingMessage(plain="alert")) for n in (1, 2)]
    )
    status, report = await bot.health()
    assert status == 503
    assert report["status"] == "unhealthy" and report["failing"] == ["outbox"]
    assert report["checks"]["outbox"] == {"ok": False, "backlog": 2, "max_backlog": 1}


async def test_healthz_is_503_when_a_transport_was_quiet_too_long(start_bot: StartBot) -> None:
    bot = await start_bot(StaleConsole(user=PERSON, write=lambda _: None))
    status, report = await bot.health()
    assert status == 503
    assert report["failing"] == ["transports"]
    console = report["checks"]["transports"]["console"]
    assert console["ok"] is False and console["seconds_since_activity"] > 120


async def test_max_sync_age_is_configurable(start_bot: StartBot) -> None:
    bot = await start_bot(StaleConsole(user=PERSON, write=lambda _: None), max_sync_age_seconds=300)
    status, _ = await bot.health()
    assert status == 200


async def test_a_broken_database_fails_the_check_without_details(
    start_bot: StartBot, monkeypatch: pytest.MonkeyPatch
) -> None:
    bot = await start_bot()

    async def broken(*args: object) -> None:
        raise sqlite3.OperationalError(f"disk I/O error near {PERSON}")

    monkeypatch.setattr(bot.app.bot.db, "fetchone", broken)
    status, report = await bot.health()
    assert status == 503
    assert report["failing"] == ["database", "outbox"]
    assert report["checks"]["database"] == {"ok": False, "error": "OperationalError"}
    assert PERSON not in json.dumps(report)


# --- /metrics ---------------------------------------------------------------------------


async def test_metrics_count_commands_by_canonical_name(start_bot: StartBot) -> None:
    bot = await start_bot()
    await bot.transport.say("!ping")
    await bot.transport.say("!PING")
    await bot.transport.say("!ping extra")
    # Whatever is typed as a command name never becomes a label.
    await bot.transport.say("!maria-ochoa-7731")
    metrics = await bot.metrics()
    assert sample(metrics, "vecinos_commands_total", command="ping", outcome="ok") == 2
    assert sample(metrics, "vecinos_commands_total", command="ping", outcome="bad_arguments") == 1
    assert sample(metrics, "vecinos_commands_total", command="(unknown)", outcome="unknown") == 1
    assert PERSON not in metrics


async def test_metrics_show_an_outbox_delivery_and_its_latency(start_bot: StartBot) -> None:
    bot = await start_bot()
    room = RoomRef("console", ROOM_ID)
    await bot.app.bot.outbox.enqueue([Delivery("alert:1", room, OutgoingMessage(plain="alert"))])
    await wait_sent(bot, "alert:1")
    metrics = await bot.metrics()
    sent = {"transport": "console", "result": "sent"}
    assert sample(metrics, "vecinos_outbox_deliveries_total", **sent) == 1
    assert sample(metrics, "vecinos_outbox_delivery_seconds_count", transport="console") == 1
    waited = sample(metrics, "vecinos_outbox_delivery_seconds_sum", transport="console")
    assert waited is not None and waited < 5
    assert sample(metrics, "vecinos_outbox_backlog") == 0
    assert sample(metrics, "vecinos_scheduler_jobs_pending") == 0
    lag = sample(metrics, "vecinos_sync_lag_seconds", transport="console")
    assert lag is not None and lag < 5


async def test_metrics_count_send_failures(start_bot: StartBot) -> None:
    bot = await start_bot()
    nowhere = RoomRef("matrix", "!gone:example.org")
    await bot.app.bot.outbox.enqueue([Delivery("alert:1", nowhere, OutgoingMessage(plain="x"))])
    async with asyncio.timeout(5):
        while "vecinos_outbox_send_failures_total{" not in (metrics := await bot.metrics()):
            await asyncio.sleep(0.01)
    assert sample(metrics, "vecinos_outbox_send_failures_total", transport="matrix") == 1
    assert sample(metrics, "vecinos_outbox_backlog") == 1
    assert "!gone" not in metrics


async def test_reports_by_state_come_from_the_sightings_plugin(start_bot: StartBot) -> None:
    bot = await start_bot(plugins=[Sightings])
    metrics = await bot.metrics()
    assert sample(metrics, "vecinos_reports", state="new") == 0
    assert sample(metrics, "vecinos_reports", state="confirmed") == 0
    await bot.transport.say("!report 18th & Ashland; 2 unmarked SUVs")
    metrics = await bot.metrics()
    assert sample(metrics, "vecinos_reports", state="new") == 1
    assert "Ashland" not in metrics


# --- serving ------------------------------------------------------------------------------


async def test_a_taken_port_is_logged_and_the_bot_runs_on(
    start_bot: StartBot, caplog: pytest.LogCaptureFixture
) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        with caplog.at_level(logging.ERROR, logger="bot.ops.health"):
            bot = await start_bot(port=port)
    assert bot.app.health_port is None
    assert f"cannot listen on 127.0.0.1:{port}" in caplog.text
    await bot.transport.say("!ping")
    assert bot.output and "Pong" in bot.output[0]


async def test_disabled_health_serves_nothing(start_bot: StartBot) -> None:
    bot = await start_bot(enabled=False)
    assert bot.app.health_port is None


async def test_the_port_is_closed_at_stop(tmp_path: Path) -> None:
    app = Application(settings_for(tmp_path), DataKey.generate())
    await app.start([ConsoleTransport(write=lambda _: None)])
    port = app.health_port
    await app.stop()
    assert app.health_port is None
    with pytest.raises(aiohttp.ClientConnectionError):
        async with aiohttp.ClientSession() as http:
            await http.get(f"http://127.0.0.1:{port}/healthz")


# --- the Metrics object -------------------------------------------------------------------


async def test_gauge_names_are_unique_and_a_failing_reader_drops_only_its_gauge() -> None:
    metrics = Metrics()

    async def one() -> float:
        return 1.0

    async def broken() -> float:
        raise RuntimeError("database gone")

    metrics.gauge_callback("vecinos_one", "One.", one)
    metrics.gauge_callback("vecinos_broken", "Broken.", broken)
    with pytest.raises(ValueError, match="Duplicated"):
        metrics.gauge_callback("vecinos_one", "Again.", one)
    await metrics.refresh()
    text = metrics.render().decode()
    assert sample(text, "vecinos_one") == 1
    assert sample(text, "vecinos_broken") is None


async def test_two_applications_keep_their_metrics_apart() -> None:
    first, second = Metrics(), Metrics()
    first.commands.labels(command="ping", outcome="ok").inc()
    assert "vecinos_commands_total{" not in second.render().decode()
