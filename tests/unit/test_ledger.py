"""The exactly-once ledger: claim, finish, skip, retry after a crash, prune."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest

from bot.runtime.ledger import MAX_ATTEMPTS, EventLedger
from bot.storage.database import CORE_MIGRATIONS, Database


@pytest.fixture
async def db(tmp_path: Path) -> AsyncIterator[Database]:
    database = await Database.open(tmp_path / "vecinos.db", [CORE_MIGRATIONS])
    yield database
    await database.close()


@pytest.fixture
def ledger(db: Database) -> EventLedger:
    return EventLedger(db)


async def state_of(db: Database, event_id: str) -> str | None:
    row = await db.fetchone("SELECT state FROM handled_events WHERE event_id = ?", (event_id,))
    return None if row is None else str(row["state"])


async def test_a_new_event_is_claimed_once_finished(ledger: EventLedger, db: Database) -> None:
    assert await ledger.begin("matrix", "$a")
    assert await state_of(db, "$a") == "started"
    await ledger.finish("$a")
    assert await state_of(db, "$a") == "done"
    assert not await ledger.begin("matrix", "$a")


async def test_events_are_independent(ledger: EventLedger) -> None:
    assert await ledger.begin("matrix", "$a")
    await ledger.finish("$a")
    assert await ledger.begin("matrix", "$b")


async def test_a_skipped_event_is_never_handled(ledger: EventLedger, db: Database) -> None:
    await ledger.skip("matrix", "$old")
    assert await state_of(db, "$old") == "skipped"
    assert not await ledger.begin("matrix", "$old")


async def test_skip_does_not_overwrite_a_handled_event(ledger: EventLedger, db: Database) -> None:
    assert await ledger.begin("matrix", "$a")
    await ledger.finish("$a")
    await ledger.skip("matrix", "$a")
    assert await state_of(db, "$a") == "done"


async def test_an_event_left_started_is_retried_until_max_attempts(ledger: EventLedger) -> None:
    claims = [await ledger.begin("matrix", "$crash") for _ in range(MAX_ATTEMPTS + 2)]
    assert claims == [True] * MAX_ATTEMPTS + [False, False]


async def test_a_retried_event_that_finishes_is_done(ledger: EventLedger) -> None:
    assert await ledger.begin("matrix", "$a")
    assert await ledger.begin("matrix", "$a")  # the bot crashed once, replayed
    await ledger.finish("$a")
    assert not await ledger.begin("matrix", "$a")


async def test_prune_forgets_only_old_entries(ledger: EventLedger, db: Database) -> None:
    await ledger.skip("matrix", "$old")
    assert await ledger.begin("matrix", "$new")
    # Backdate one entry: pruning goes by when it was first seen.
    old = (datetime.now(UTC) - timedelta(hours=3)).isoformat(timespec="microseconds")
    await db.execute("UPDATE handled_events SET seen_at = ? WHERE event_id = '$old'", (old,))

    removed = await ledger.prune(datetime.now(UTC), keep=timedelta(hours=2))

    assert removed == 1
    assert await state_of(db, "$old") is None
    assert await state_of(db, "$new") == "started"


async def test_prune_with_a_later_clock_forgets_everything(ledger: EventLedger) -> None:
    assert await ledger.begin("matrix", "$a")
    await ledger.skip("console", "$b")
    later = datetime.now(UTC) + timedelta(hours=2)
    assert await ledger.prune(later, keep=timedelta(hours=1)) == 2
    assert await ledger.begin("matrix", "$a")  # forgotten, so claimable again
