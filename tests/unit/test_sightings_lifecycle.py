"""The report lifecycle, expiry of undecided reports and purge of closed ones."""

from __future__ import annotations

import asyncio
import re
from collections.abc import Awaitable, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from testkit.networks import MODS, PILSEN_EN
from testkit.world import SightingsWorld, start_world

from bot.storage.keys import DataKey
from plugins.sightings.lifecycle import CLOSED, OPEN, UNDECIDED, Action, Status, next_status
from plugins.sightings.store import Actor, Change

TABLES = ("sighting_reports", "sighting_cards", "sighting_corroborations", "sighting_decisions")


@pytest.mark.parametrize(
    ("action", "allowed", "to"),
    [
        (Action.CONFIRM, {Status.NEW, Status.NEEDS_INFO}, Status.CONFIRMED),
        (Action.FALSE, {Status.NEW, Status.NEEDS_INFO}, Status.FALSE_ALARM),
        (Action.UNVERIFIABLE, {Status.NEW, Status.NEEDS_INFO}, Status.UNVERIFIABLE),
        (Action.DUPLICATE, {Status.NEW, Status.NEEDS_INFO}, Status.DUPLICATE),
        (Action.NEED_INFO, {Status.NEW, Status.NEEDS_INFO}, Status.NEEDS_INFO),
        (Action.ANSWER, {Status.NEEDS_INFO}, Status.NEW),
        (Action.UPDATE, {Status.CONFIRMED}, Status.CONFIRMED),
        (Action.CLEAR, {Status.CONFIRMED}, Status.ALL_CLEAR),
        (Action.RETRACT, {Status.CONFIRMED}, Status.RETRACTED),
        (Action.EXPIRE, {Status.NEW, Status.NEEDS_INFO}, Status.EXPIRED),
        (Action.STALE, {Status.CONFIRMED}, Status.CONFIRMED),
        (Action.LAPSE, {Status.CONFIRMED}, Status.LAPSED),
    ],
)
def test_the_lifecycle_of_the_spec(action: Action, allowed: set[Status], to: Status) -> None:
    for status in Status:
        assert next_status(action, status) == (to if status in allowed else None), status


def test_closed_reports_never_change() -> None:
    assert {
        Status.FALSE_ALARM,
        Status.UNVERIFIABLE,
        Status.DUPLICATE,
        Status.ALL_CLEAR,
        Status.RETRACTED,
        Status.EXPIRED,
        Status.LAPSED,
    } == CLOSED
    assert not [(a, s) for a in Action for s in CLOSED if next_status(a, s) is not None]
    assert UNDECIDED | {Status.CONFIRMED} == OPEN


async def file(world: SightingsWorld, user: str) -> tuple[str, str]:
    event = await world.write(PILSEN_EN, user, f"!report corner of {user}; parked and watching")
    found = re.search(r"\bR[2-9A-Z]{3,6}\b", world.in_thread(PILSEN_EN, event)[0])
    assert found
    return found[0], event


def later(world: SightingsWorld, delta: timedelta) -> None:
    world.plugin.clock = lambda: datetime.now(UTC) + delta


async def count_rows(world: SightingsWorld, report_id: str) -> dict[str, int]:
    counts = {}
    for table in TABLES:
        column = "id" if table == "sighting_reports" else "report_id"
        row = await world.app.bot.db.fetchone(
            f"SELECT COUNT(*) AS n FROM {table} WHERE {column} = ?", (report_id,)
        )
        assert row is not None
        counts[table] = int(row["n"])
    return counts


async def test_undecided_reports_expire_after_four_hours(world: SightingsWorld) -> None:
    waiting, event = await file(world, "ana")
    asked, _ = await file(world, "bob")
    confirmed, _ = await file(world, "carla")
    await world.say(MODS, "rosa", f"!needinfo {asked} which corner?")
    await world.say(MODS, "rosa", f"!confirm {confirmed}")

    later(world, timedelta(hours=3, minutes=59))
    await world.plugin.sweep()
    assert (await world.plugin.store.get(waiting)).status is Status.NEW  # type: ignore[union-attr]

    later(world, timedelta(hours=4, minutes=1))
    await world.plugin.sweep()
    await world.settle()
    statuses = {
        rid: (await world.plugin.store.get(rid)).status  # type: ignore[union-attr]
        for rid in (waiting, asked, confirmed)
    }
    assert statuses == {
        waiting: Status.EXPIRED,
        asked: Status.EXPIRED,
        confirmed: Status.CONFIRMED,  # a live alert does not expire
    }
    card = world.card_of(waiting)
    assert world.card_text(card.event_id).startswith(f"⌛ {waiting} · EXPIRED — NOT VERIFIED")
    assert world.in_thread(PILSEN_EN, event)[-1] == (
        f"⌛ Nobody could verify {waiting} within 4 hours, so it was closed. If it is still "
        "happening, please send a new report."
    )
    await world.plugin.sweep()  # nothing more happens on the next run
    await world.settle()
    assert len(world.in_thread(PILSEN_EN, event)) == 2


async def test_closed_reports_are_purged_after_retention_days(world: SightingsWorld) -> None:
    closed, _ = await file(world, "ana")
    live, _ = await file(world, "bob")
    await world.say(PILSEN_EN, "carla", f"!seen {closed}")
    await world.say(MODS, "rosa", f"!false {closed}")
    await world.say(MODS, "rosa", f"!confirm {live}")
    assert await count_rows(world, closed) == dict.fromkeys(TABLES, 1)

    later(world, timedelta(days=6, hours=23))
    await world.plugin.sweep()
    assert (await count_rows(world, closed))["sighting_reports"] == 1

    later(world, timedelta(days=7, minutes=1))
    await world.plugin.sweep()
    assert await count_rows(world, closed) == dict.fromkeys(TABLES, 0)
    assert (await count_rows(world, live))["sighting_reports"] == 1
    await world.say(PILSEN_EN, "carla", f"!seen {closed}")
    answer = world.replies(PILSEN_EN)[-1]
    assert answer == f"There is no report {closed}. Report ids look like R7K3."


async def test_expiry_and_purge_are_run_by_the_scheduler(
    tmp_path: Path, key: DataKey, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("plugins.sightings.plugin.SWEEP_INTERVAL", timedelta(milliseconds=50))
    world = await start_world(tmp_path, key, "expire_hours = 1\nretention_days = 1")
    try:
        report_id, _ = await file(world, "ana")
        later(world, timedelta(hours=1, minutes=1))
        await _until(lambda: _status(world, report_id), Status.EXPIRED)
        later(world, timedelta(days=1, hours=2))
        await _until(lambda: _rows(world, report_id), 0)
        assert await count_rows(world, report_id) == dict.fromkeys(TABLES, 0)
    finally:
        await world.app.stop()


async def _status(world: SightingsWorld, report_id: str) -> Status | None:
    stored = await world.plugin.store.get(report_id)
    return stored.status if stored else None


async def _rows(world: SightingsWorld, report_id: str) -> int:
    return sum((await count_rows(world, report_id)).values())


async def _until(probe: Callable[[], Awaitable[object]], expected: object) -> None:
    for _ in range(100):
        if await probe() == expected:
            return
        await asyncio.sleep(0.05)
    assert await probe() == expected


async def test_a_change_based_on_an_old_version_is_not_stored(world: SightingsWorld) -> None:
    report_id, _ = await file(world, "ana")
    store = world.plugin.store
    stored = await store.get(report_id)
    assert stored is not None
    now = datetime.now(UTC)
    first = Change(Action.CONFIRM, Status.CONFIRMED, now, actor=Actor("rosa", "Rosa"))
    second = Change(Action.FALSE, Status.FALSE_ALARM, now, actor=Actor("luis", "Luis"))
    assert await store.change_status(report_id, stored.version, first) is not None
    assert await store.change_status(report_id, stored.version, second) is None
    after = await store.get(report_id)
    assert after is not None and after.status is Status.CONFIRMED and len(after.history) == 1


async def test_the_same_event_files_one_report_only(world: SightingsWorld) -> None:
    report_id, event = await file(world, "ana")
    stored = await world.plugin.store.get(report_id)
    assert stored is not None
    now = datetime.now(UTC)
    again = await world.plugin.store.file(
        stored.report, stored.reporter, stored.origin, event, now, now - timedelta(hours=1)
    )
    assert again == stored


async def test_a_report_as_filed_is_the_report_as_read_back(world: SightingsWorld) -> None:
    """What filing hands to the moderators' card and the dispatch call (built without reading
    the row back) is what every later read of the report gives, similar report included."""
    store = world.plugin.store
    first_id, _ = await file(world, "ana")
    first = await store.get(first_id)
    assert first is not None
    now = datetime.now(UTC)
    filed = await store.file(
        first.report, "another", first.origin, "$another-event", now, now - timedelta(hours=1)
    )
    assert filed.similar_to == first_id
    assert filed == await store.get(filed.id)
    replayed = await store.file(
        first.report, "another", first.origin, "$another-event", now, now - timedelta(hours=1)
    )
    assert replayed == filed
