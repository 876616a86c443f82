"""Scheduled jobs owned by the core: one timer for the next one-off job, the database as
the truth, APScheduler 3 for recurring maintenance.

Every one-off job is a row in `scheduled_jobs` (payload encrypted). The jobs ahead are kept
in memory by time, with one timer set for the earliest: arming a job is a heap push, where
an APScheduler job each (every report sets one) cost as much as the report's own
statements. At start the scheduler re-arms the rows still ahead, runs the ones missed by
less than their kind's grace, and drops the rest: a reminder for a shift that already
started is noise, not help, and a burst of stale messages after a restart is worse. A job's
row is deleted only after its handler returned, and handlers send with the job id as
idempotency key, so a crash mid-job neither loses it nor sends twice.
"""

from __future__ import annotations

import asyncio
import heapq
import logging
import uuid
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any

from apscheduler.schedulers.asyncio import AsyncIOScheduler

from bot.core.metrics import Metrics
from bot.storage.cipher import FieldCipher
from bot.storage.database import Database, Transaction, utc_timestamp

log = logging.getLogger(__name__)

JobHandler = Callable[[dict[str, Any]], Awaitable[None]]


@dataclass(frozen=True)
class JobSpec:
    kind: str
    # A run missed by more than this (the bot was down) is dropped rather than run late.
    grace: timedelta


PAYLOAD_CONTEXT = "scheduled_jobs.payload"
# The timer never sleeps longer than this: the jobs' times are wall-clock times, and the
# wall clock may be set while it sleeps (the timer runs on the loop's monotonic clock).
LONGEST_SLEEP = timedelta(minutes=1)


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
        # The one-off jobs armed, by id, and the same as (time, id) in a heap, where a job
        # armed again or cancelled leaves an entry behind, skipped when its time comes.
        self._armed: dict[str, datetime] = {}
        self._ahead: list[tuple[datetime, str]] = []
        self._timer: asyncio.TimerHandle | None = None
        self._timer_at: datetime | None = None
        self._started = False  # jobs armed before start() wait for it
        self._running: set[asyncio.Task[None]] = set()

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
        self._started = True
        if self._ahead:
            self._set_timer(self._ahead[0][0])

    async def stop(self) -> None:
        if self._aps.running:
            self._aps.shutdown(wait=False)
        self._started = False
        if self._timer is not None:
            self._timer.cancel()
            self._timer = self._timer_at = None

    def _missed(self, kind: str, run_at: datetime) -> bool:
        spec, _ = self._kinds[kind]
        return self._now() - run_at > spec.grace

    def _arm(self, job_id: str, run_at: datetime) -> None:
        self._armed[job_id] = run_at
        heapq.heappush(self._ahead, (run_at, job_id))
        if len(self._ahead) > 2 * len(self._armed) + 64:
            # Mostly entries left behind (jobs armed again, or cancelled): start afresh.
            self._ahead = [(at, armed) for armed, at in self._armed.items()]
            heapq.heapify(self._ahead)
        if self._started and (self._timer_at is None or run_at < self._timer_at):
            self._set_timer(run_at)

    def _set_timer(self, at: datetime) -> None:
        if self._timer is not None:
            self._timer.cancel()
        delay = min(at - self._now(), LONGEST_SLEEP).total_seconds()
        self._timer = asyncio.get_running_loop().call_later(max(0.0, delay), self._on_timer)
        self._timer_at = at

    def _on_timer(self) -> None:
        """Start every job due, each on its own (one slow job holds back no other), and
        set the timer for the next."""
        self._timer = self._timer_at = None
        now = self._now()
        while self._ahead:
            run_at, job_id = self._ahead[0]
            if self._armed.get(job_id) != run_at:
                heapq.heappop(self._ahead)  # armed again since, or cancelled
            elif run_at <= now:
                heapq.heappop(self._ahead)
                del self._armed[job_id]
                task = asyncio.create_task(self._fire(job_id))
                self._running.add(task)
                task.add_done_callback(self._running.discard)
            else:
                self._set_timer(run_at)
                return

    async def schedule(
        self,
        kind: str,
        run_at: datetime,
        payload: dict[str, Any],
        job_id: str | None = None,
        tx: Transaction | None = None,
    ) -> str:
        """Persist and arm a one-off job; the same `job_id` replaces an earlier one. With
        `tx`, it is persisted in that transaction (rolled back, its run finds no job)."""
        if kind not in self._kinds:
            raise ValueError(f"no handler for job kind {kind!r}")
        job_id = job_id or uuid.uuid4().hex
        await (tx or self._db).execute(
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
        self._armed.pop(job_id, None)

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
