"""Scheduled jobs: run once and forget, survive a restart within grace, stay unreadable at rest."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from bot.core import scheduler as scheduler_module
from bot.core.scheduler import JobSpec, Scheduler
from bot.storage.cipher import FieldCipher
from bot.storage.database import CORE_MIGRATIONS, Database
from bot.storage.keys import DataKey

GRACE = timedelta(minutes=5)
REMIND = JobSpec("remind", GRACE)


class Recorder:
    """A job handler that remembers each payload and when it ran."""

    def __init__(self, fail: bool = False) -> None:
        self.calls: list[dict[str, Any]] = []
        self.times: list[datetime] = []
        self._fail = fail

    async def __call__(self, payload: dict[str, Any]) -> None:
        self.calls.append(payload)
        self.times.append(datetime.now(UTC))
        if self._fail:
            raise RuntimeError("handler broke")

    def job_ids(self) -> list[str]:
        return [call["job_id"] for call in self.calls]


async def wait_until(condition: Callable[[], Awaitable[bool]], timeout: float = 5.0) -> None:
    async with asyncio.timeout(timeout):
        while not await condition():
            await asyncio.sleep(0.02)


def soon(seconds: float) -> datetime:
    return datetime.now(UTC) + timedelta(seconds=seconds)


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "data" / "vecinos.db", [CORE_MIGRATIONS])
    yield database
    await database.close()


@pytest.fixture
def cipher() -> FieldCipher:
    return FieldCipher(DataKey.generate())


@pytest.fixture
async def schedulers(db: Database) -> AsyncIterator[list[Scheduler]]:
    """Every scheduler a test makes, stopped at the end (before `db` closes)."""
    made: list[Scheduler] = []
    yield made
    for scheduler in made:
        await scheduler.stop()


@pytest.fixture
def new_scheduler(
    db: Database, cipher: FieldCipher, schedulers: list[Scheduler]
) -> Callable[..., Scheduler]:
    def make(now: Callable[[], datetime] | None = None) -> Scheduler:
        scheduler = Scheduler(db, cipher) if now is None else Scheduler(db, cipher, now=now)
        schedulers.append(scheduler)
        return scheduler

    return make


@pytest.fixture
async def running(new_scheduler: Callable[..., Scheduler]) -> tuple[Scheduler, Recorder]:
    recorder = Recorder()
    scheduler = new_scheduler()
    scheduler.register(REMIND, recorder)
    await scheduler.start()
    return scheduler, recorder


def no_pending(scheduler: Scheduler) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return await scheduler.pending() == 0

    return check


def called(recorder: Recorder, times: int = 1) -> Callable[[], Awaitable[bool]]:
    async def check() -> bool:
        return len(recorder.calls) >= times

    return check


async def test_job_runs_once_with_its_payload_and_is_forgotten(
    running: tuple[Scheduler, Recorder],
) -> None:
    scheduler, recorder = running
    job_id = await scheduler.schedule("remind", soon(0.2), {"shift": "7:30", "site": 3})
    assert await scheduler.pending() == 1
    assert recorder.calls == []

    await wait_until(no_pending(scheduler))

    assert recorder.calls == [{"shift": "7:30", "site": 3, "job_id": job_id}]


async def test_job_that_raises_is_deleted_and_logged(
    new_scheduler: Callable[..., Scheduler], caplog: pytest.LogCaptureFixture
) -> None:
    broken = Recorder(fail=True)
    scheduler = new_scheduler()
    scheduler.register(JobSpec("broken", GRACE), broken)
    await scheduler.start()

    with caplog.at_level(logging.ERROR, logger="bot.core.scheduler"):
        await scheduler.schedule("broken", soon(0.05), {"n": 1})
        await wait_until(no_pending(scheduler))

    assert len(broken.calls) == 1
    assert "job of kind broken failed" in caplog.text


async def test_cancel_prevents_the_run(running: tuple[Scheduler, Recorder]) -> None:
    scheduler, recorder = running
    cancelled = await scheduler.schedule("remind", soon(0.2), {"n": 1})
    control = await scheduler.schedule("remind", soon(0.3), {"n": 2})
    await scheduler.cancel(cancelled)

    await wait_until(called(recorder))

    assert recorder.job_ids() == [control]
    assert await scheduler.pending() == 0


async def test_cancelling_an_unknown_job_is_harmless(running: tuple[Scheduler, Recorder]) -> None:
    scheduler, _ = running
    await scheduler.cancel("never-scheduled")
    assert await scheduler.pending() == 0


async def test_same_job_id_replaces_the_earlier_job(running: tuple[Scheduler, Recorder]) -> None:
    scheduler, recorder = running
    await scheduler.schedule("remind", soon(0.05), {"version": 1}, job_id="shift-1")
    later = soon(0.3)
    await scheduler.schedule("remind", later, {"version": 2}, job_id="shift-1")
    assert await scheduler.pending() == 1

    await wait_until(no_pending(scheduler))

    assert recorder.calls == [{"version": 2, "job_id": "shift-1"}]
    assert recorder.times[0] >= later  # not at the replaced, earlier time


async def test_jobs_run_in_their_order_whatever_the_order_they_were_set_in(
    running: tuple[Scheduler, Recorder],
) -> None:
    """Each new job earlier than all the others moves the one timer forward."""
    scheduler, recorder = running
    third = await scheduler.schedule("remind", soon(0.3), {"n": 3})
    second = await scheduler.schedule("remind", soon(0.2), {"n": 2})
    first = await scheduler.schedule("remind", soon(0.1), {"n": 1})
    fourth = await scheduler.schedule("remind", soon(0.35), {"n": 4})

    await wait_until(no_pending(scheduler))

    assert recorder.job_ids() == [first, second, third, fourth]


async def test_a_job_far_ahead_runs_when_the_wall_clock_is_set_past_it(
    new_scheduler: Callable[..., Scheduler], monkeypatch: pytest.MonkeyPatch
) -> None:
    """The timer sleeps on the loop's clock, the jobs' times are the wall clock's: a clock
    set forward (a machine that slept, a corrected clock) is noticed at the next look."""
    monkeypatch.setattr(scheduler_module, "LONGEST_SLEEP", timedelta(milliseconds=50))
    wall = [datetime(2026, 12, 6, 9, 0, tzinfo=UTC)]
    recorder = Recorder()
    scheduler = new_scheduler(now=lambda: wall[0])
    scheduler.register(REMIND, recorder)
    await scheduler.start()
    job_id = await scheduler.schedule("remind", wall[0] + timedelta(hours=2), {"n": 1})
    await asyncio.sleep(0.15)
    assert recorder.calls == []  # two hours ahead still

    wall[0] += timedelta(hours=2, seconds=1)

    await wait_until(called(recorder))
    assert recorder.job_ids() == [job_id]


async def test_unknown_kind_cannot_be_scheduled(running: tuple[Scheduler, Recorder]) -> None:
    scheduler, _ = running
    with pytest.raises(ValueError, match="no handler"):
        await scheduler.schedule("nobody-handles-this", soon(1), {})


def test_a_kind_cannot_be_registered_twice(new_scheduler: Callable[..., Scheduler]) -> None:
    scheduler = new_scheduler()
    scheduler.register(REMIND, Recorder())
    with pytest.raises(ValueError, match="registered twice"):
        scheduler.register(REMIND, Recorder())


# --- restart --------------------------------------------------------------------------


async def test_restart_rebuilds_jobs_from_the_database(
    new_scheduler: Callable[..., Scheduler],
) -> None:
    # The previous run persisted these, then the bot was down (its scheduler never fired).
    before = new_scheduler()
    before.register(REMIND, Recorder())
    before.register(JobSpec("removed-plugin", GRACE), Recorder())
    ahead = await before.schedule("remind", soon(0.3), {"which": "ahead"})
    recent = await before.schedule("remind", soon(-120), {"which": "recent"})
    stale = await before.schedule("remind", soon(-3600), {"which": "stale"})
    await before.schedule("removed-plugin", soon(0.1), {"which": "unknown"})

    recorder = Recorder()
    after = new_scheduler(now=lambda: datetime.now(UTC))
    after.register(REMIND, recorder)
    await after.start()

    assert after.dropped == 2  # the stale one and the unknown kind
    await wait_until(called(recorder, times=2))
    assert recorder.job_ids() == [recent, ahead]  # the missed one at once, then on time
    assert stale not in recorder.job_ids()
    await wait_until(no_pending(after))


@pytest.mark.parametrize(
    ("down_for", "kept"),
    [
        (timedelta(0), True),
        (GRACE - timedelta(seconds=1), True),
        (GRACE + timedelta(seconds=1), False),
        (timedelta(days=1), False),
    ],
)
async def test_restart_keeps_a_job_only_within_grace_of_the_scheduler_clock(
    new_scheduler: Callable[..., Scheduler], down_for: timedelta, kept: bool
) -> None:
    run_at = datetime.now(UTC) + timedelta(hours=1)
    before = new_scheduler()
    before.register(REMIND, Recorder())
    await before.schedule("remind", run_at, {"shift": "15:00"})

    recorder = Recorder()
    after = new_scheduler(now=lambda: run_at + down_for)
    after.register(REMIND, recorder)
    await after.start()

    assert await after.pending() == (1 if kept else 0)
    assert after.dropped == (0 if kept else 1)
    assert recorder.calls == []


# --- privacy --------------------------------------------------------------------------


def raw_bytes(directory: Path) -> Iterator[bytes]:
    """The database and its WAL, as someone who seized the disk would read them."""
    for path in directory.iterdir():
        if path.is_file():
            yield path.read_bytes()


async def test_payload_is_not_readable_in_the_database_files(
    running: tuple[Scheduler, Recorder], db: Database
) -> None:
    scheduler, _ = running
    payload = {"volunteer": "@maria-ochoa:example.org", "site": "Whittier Elementary"}
    await scheduler.schedule("remind", soon(3600), payload, job_id="job-visible-marker")

    dumps = list(raw_bytes(db.path.parent))
    assert any(b"job-visible-marker" in dump for dump in dumps)  # the row did reach disk
    assert not any(b"maria-ochoa" in dump or b"Whittier" in dump for dump in dumps)


async def test_a_job_that_sets_itself_again_runs_again(
    new_scheduler: Callable[..., Scheduler],
) -> None:
    """A job whose network is not up yet tries again in a moment under the same id."""
    scheduler = new_scheduler()
    runs: list[int] = []

    async def retry_once(payload: dict[str, Any]) -> None:
        runs.append(payload["try"])
        if payload["try"] == 1:
            await scheduler.schedule("retry", soon(0.05), {"try": 2}, payload["job_id"])

    scheduler.register(JobSpec("retry", GRACE), retry_once)
    await scheduler.start()
    await scheduler.schedule("retry", soon(0.01), {"try": 1}, "the-job")
    await wait_until(no_pending(scheduler))
    assert runs == [1, 2]
