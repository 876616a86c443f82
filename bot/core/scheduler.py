"""Scheduled jobs owned by the core: APScheduler 3 in memory, the database as the truth.

Every one-off job is a row in `scheduled_jobs` (payload encrypted). At start the scheduler
re-arms the rows still ahead, runs the ones missed by less than their kind's grace, and
drops the rest: a reminder for a shift that already started is noise, not help, and a burst
of stale messages after a restart is worse. A job's row is deleted only after its handler
returned, and handlers send with the job id as idempotency key, so a crash mid-job neither
loses it nor sends twice.
"""

from __future__ import annotations

import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.metrics import Metrics
from bot.storage.cipher import FieldCipher
from bot.storage.database import Database, utc_timestamp

log = logging.getLogger(__name__)

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    kind: str
    # A run missed by more than this (the bot was down) is dropped rather than run late.
    grace: timedelta


PAYLOAD_CONTEXT = "scheduled_jobs.payload"


class Scheduler:
    def __init__(
        self,
        db: Database,
        cipher: FieldCipher,
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
        metrics: Metrics | None = None,
    ) -> None:
        self._db = db
        self._cipher = cipher
        self._now = now
        self._metrics = metrics or Metrics()
        self._kinds: dict[str, tuple[JobSpec, JobHandler]] = {}
        self._aps = AsyncIOScheduler(timezone=UTC)
        self.dropped = 0

    def register(self, spec: JobSpec, handler: JobHandler) -> None:
        if spec.kind in self._kinds:
            raise ValueError(f"job kind {spec.kind!r} is registered twice")
        self._kinds[spec.kind] = (spec, handler)

    async def start(self) -> None:
        self._aps.start()
        for row in await self._db.fetchall("SELECT job_id, kind, run_at FROM scheduled_jobs"):
            kind, run_at = row["kind"], datetime.fromisoformat(row["run_at"])
            if kind in self._kinds and not self._missed(kind, run_at):
                self._arm(row["job_id"], run_at)
            else:
                self._drop(kind)
                await self._delete(row["job_id"])
        if self.dropped:
            log.info("dropped %d jobs missed while the bot was down", self.dropped)

    async def stop(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)

    def _missed(self, kind: str, run_at: datetime) -> bool:
        spec, _ = self._kinds[kind]
        return self._now() - run_at > spec.grace

    def _arm(self, job_id: str, run_at: datetime) -> None:
        self._aps.add_job(
            self._fire,
            "date",
            run_date=max(run_at, self._now()),
            args=[job_id],
            id=job_id,
            replace_existing=True,
            misfire_grace_time=None,
        )

    async def schedule(
        self, kind: str, run_at: datetime, payload: dict[str, Any], job_id: str | None = None
    ) -> str:
        """Persist and arm a one-off job; the same `job_id` replaces an earlier one."""
        if kind not in self._kinds:
            raise ValueError(f"no handler for job kind {kind!r}")
        job_id = job_id or uuid.uuid4().hex
        await self._db.execute(
            "INSERT INTO scheduled_jobs (job_id, kind, run_at, payload, created_at)"
            " VALUES (?, ?, ?, ?, ?) ON CONFLICT (job_id) DO UPDATE SET kind = excluded.kind,"
            " run_at = excluded.run_at, payload = excluded.payload",
            (
                job_id,
                kind,
                utc_timestamp(run_at),
                self._cipher.encrypt_json(payload, PAYLOAD_CONTEXT),
                utc_timestamp(),
            ),
        )
        self._arm(job_id, run_at)
        return job_id

    async def cancel(self, job_id: str) -> None:
        await self._delete(job_id)
        if self._aps.get_job(job_id) is not None:
            self._aps.remove_job(job_id)

    def every(self, interval: timedelta, func: Callable[[], Awaitable[None]]) -> None:
        """A recurring maintenance task (not persisted: it is re-added at every start)."""
        self._aps.add_job(func, "interval", seconds=interval.total_seconds(), coalesce=True)

    async def pending(self) -> int:
        row = await self._db.fetchone("SELECT COUNT(*) AS n FROM scheduled_jobs")
        return int(row["n"]) if row is not None else 0

    async def _fire(self, job_id: str) -> None:
        row = await self._db.fetchone(
            "SELECT kind, run_at, payload FROM scheduled_jobs WHERE job_id = ?", (job_id,)
        )
        if row is None:
            return  # cancelled after it was armed
        kind, run_at = row["kind"], datetime.fromisoformat(row["run_at"])
        if self._missed(kind, run_at):
            self._drop(kind)
        else:
            await self._run(job_id, kind, row["payload"])
        # Unless the job set itself again under its id (a retry in a moment): that stays.
        await self._db.execute(
            "DELETE FROM scheduled_jobs WHERE job_id = ? AND run_at = ?", (job_id, row["run_at"])
        )

    async def _run(self, job_id: str, kind: str, payload: bytes) -> None:
        data = self._cipher.decrypt_json(payload, PAYLOAD_CONTEXT)
        outcome = "ran"
        try:
            await self._kinds[kind][1]({**data, "job_id": job_id})
        except Exception:
            outcome = "failed"
            log.exception("job of kind %s failed", kind)
        self._metrics.jobs.labels(kind=kind, outcome=outcome).inc()

    def _drop(self, kind: str) -> None:
        self.dropped += 1
        self._metrics.jobs.labels(kind=kind, outcome="missed").inc()

    async def _delete(self, job_id: str) -> None:
        await self._db.execute("DELETE FROM scheduled_jobs WHERE job_id = ?", (job_id,))
