"""`GET /healthz` and Prometheus `GET /metrics` on a local port (aiohttp).

Healthy means: the database answers, every transport heard from its server within
`[health] max_sync_age_seconds`, and the outbox backlog is at most `max_outbox_backlog`.
Answers hold counts, ages and error type names only: no room, person or message.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Awaitable, Mapping
from datetime import UTC, datetime
from typing import Any

from aiohttp import web
from prometheus_client.aiohttp import make_aiohttp_handler

from bot.core.context import BotContext
from bot.core.transport import Transport

log = logging.getLogger(__name__)

# A check that takes longer than this (a locked or stuck database) counts as failed.
CHECK_TIMEOUT = 5.0

Report = dict[str, Any]


def seconds_since_activity(transport: Transport, now: datetime) -> float | None:
    last = transport.last_activity
    return None if last is None else max(0.0, (now - last).total_seconds())


async def check_health(bot: BotContext, transports: Mapping[str, Transport]) -> tuple[bool, Report]:
    """(healthy, the JSON answer): every check with its numbers, and the failing ones."""
    limits = bot.settings.health
    checks = {
        "database": await _guarded(_database(bot)),
        "transports": _transports(transports, limits.max_sync_age_seconds),
        "outbox": await _guarded(_outbox(bot, limits.max_outbox_backlog)),
    }
    failing = [name for name, check in checks.items() if not check["ok"]]
    status = "unhealthy" if failing else "ok"
    return not failing, {"status": status, "failing": failing, "checks": checks}


async def _guarded(check: Awaitable[Report]) -> Report:
    try:
        return await asyncio.wait_for(check, CHECK_TIMEOUT)
    except Exception as error:
        # The type only: an error's text may quote a statement and its parameters.
        return {"ok": False, "error": type(error).__name__}


async def _database(bot: BotContext) -> Report:
    await bot.db.fetchone("SELECT 1")
    return {"ok": True}


def _transports(transports: Mapping[str, Transport], max_age: int) -> Report:
    now = datetime.now(UTC)
    report: Report = {"ok": True, "max_age_seconds": max_age}
    for name, transport in transports.items():
        age = seconds_since_activity(transport, now)
        # Never heard from its server at all counts as too old.
        ok = age is not None and age <= max_age
        report[name] = {"ok": ok, "seconds_since_activity": age}
        report["ok"] = report["ok"] and ok
    return report


async def _outbox(bot: BotContext, max_backlog: int) -> Report:
    backlog = await bot.outbox.backlog()
    return {"ok": backlog <= max_backlog, "backlog": backlog, "max_backlog": max_backlog}


def register_core_gauges(bot: BotContext, transports: Mapping[str, Transport]) -> None:
    """The gauges read at scrape time: outbox backlog, pending jobs, sync lag."""

    async def backlog() -> float:
        return await bot.outbox.backlog()

    async def jobs() -> float:
        return await bot.scheduler.pending()

    async def sync_lag() -> dict[str, float]:
        now = datetime.now(UTC)
        ages = {name: seconds_since_activity(t, now) for name, t in transports.items()}
        return {name: age for name, age in ages.items() if age is not None}

    metrics = bot.metrics
    metrics.gauge_callback(
        "vecinos_outbox_backlog", "Outbox deliveries waiting to be sent", backlog
    )
    metrics.gauge_callback(
        "vecinos_scheduler_jobs_pending", "Scheduled jobs (reminders, expiries) ahead", jobs
    )
    metrics.gauge_callback(
        "vecinos_sync_lag_seconds",
        "Seconds since each transport last heard from its server",
        sync_lag,
        label="transport",
    )


class HealthServer:
    """The HTTP endpoint; `port` is the one bound (useful with `port = 0`)."""

    def __init__(self, bot: BotContext, transports: Mapping[str, Transport]) -> None:
        self._bot = bot
        self._transports = transports
        self._runner: web.AppRunner | None = None
        # prometheus-client's own handler: content negotiation (text or OpenMetrics), gzip.
        self._exposition = make_aiohttp_handler(bot.metrics.registry)
        self.port: int | None = None

    async def start(self) -> None:
        app = web.Application()
        app.router.add_get("/healthz", self._healthz)
        app.router.add_get("/metrics", self._metrics)
        # No access log: a healthcheck every few seconds would drown the bot's own lines.
        runner = web.AppRunner(app, access_log=None)
        await runner.setup()
        host, port = self._bot.settings.health.host, self._bot.settings.health.port
        try:
            await web.TCPSite(runner, host, port).start()
        except OSError as error:
            await runner.cleanup()
            # A taken port must not keep alerts from going out: say so and go on (a
            # container's healthcheck then reports the bot unhealthy).
            log.error("no health and metrics: cannot listen on %s:%d (%s)", host, port, error)
            return
        self._runner = runner
        self.port = int(runner.addresses[0][1])
        log.info("serving /healthz and /metrics on %s port %d", host, self.port)

    async def stop(self) -> None:
        if self._runner is not None:
            await self._runner.cleanup()
            self._runner, self.port = None, None

    async def _healthz(self, request: web.Request) -> web.Response:
        healthy, report = await check_health(self._bot, self._transports)
        return web.json_response(report, status=200 if healthy else 503)

    async def _metrics(self, request: web.Request) -> web.StreamResponse:
        await self._bot.metrics.refresh()
        return await self._exposition(request)
