"""Alerts nobody updates: marked as possibly over, then closed as expired (README, "Rumors
and false alarms"), on a clock the test moves, across restarts."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from testkit.networks import DISPATCH_EN, HOOD_EN, MODS_PILSEN, MONDAY
from testkit.world import DispatchWorld

from bot.api.testing import Sent
from plugins.sightings import Sightings
from plugins.sightings.lifecycle import Status

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
# The alert goes out at 09:00 Chicago time (MONDAY); "no update since 09:00".
STALE_EDIT = "🟠 CONFIRMED ALERT · no update since 09:00, it may be over · Pilsen"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[DispatchWorld]:
    running = await DispatchWorld(tmp_path, MONDAY).start()
    yield running
    await running.stop()


async def confirmed(world: DispatchWorld) -> str:
    sent = await world.say(HOOD_EN, "ana", "!report 18th & Ashland; two agents detaining")
    found = REPORT_ID.search(next(s for s in sent if s.room_id == HOOD_EN).text)
    assert found
    await world.say(MODS_PILSEN, "rosa", f"!confirm {found[0]}")
    return found[0]


def alert_of(world: DispatchWorld, report_id: str) -> Sent:
    """The alert as first posted in the neighborhood room (its key: relay:<seq>:<room>)."""
    return next(
        s
        for s in world.messages(HOOD_EN)
        if s.key and re.fullmatch(rf"relay:\d+:console:{HOOD_EN}", s.key) and report_id in s.text
    )


def alert_edits(sent: list[Sent], alert: Sent) -> list[str]:
    return [s.text for s in sent if s.message.edit_of == alert.event_id]


async def status(world: DispatchWorld, report_id: str) -> Status:
    stored = await world.plugin_of(Sightings).store.get(report_id)
    assert stored is not None
    return stored.status


async def test_a_quiet_alert_is_marked_possibly_over_and_the_moderators_asked(
    world: DispatchWorld,
) -> None:
    report_id = await confirmed(world)
    alert = alert_of(world, report_id)
    assert await world.tick(MONDAY + timedelta(hours=1, minutes=59)) == []

    sent = await world.tick(MONDAY + timedelta(hours=2))
    [edit] = alert_edits(sent, alert)
    assert edit.startswith(STALE_EDIT)
    assert "18th & Ashland" in edit  # the alert keeps what it said
    [asked] = [s for s in sent if s.room_id == MODS_PILSEN and s.message.reply_to]
    assert asked.text.startswith(f"🟠 {report_id} has had no update since 09:00")
    assert f"!update {report_id}" in asked.text and f"!clear {report_id}" in asked.text
    # Only edits and the moderators' question: nobody is woken to hear that nothing happened.
    assert not [s for s in sent if s.room_id == HOOD_EN and not s.message.edit_of]
    assert await world.tick(MONDAY + timedelta(hours=3)) == []  # once
    answer = await world.ask(HOOD_EN, "bea", "!status")
    assert f"🟠 CONFIRMED {report_id} · 18th & Ashland" in answer
    assert "no update since 09:00, may be over" in answer


async def test_an_update_makes_the_alert_current_again(world: DispatchWorld) -> None:
    report_id = await confirmed(world)
    alert = alert_of(world, report_id)
    await world.tick(MONDAY + timedelta(hours=2, minutes=30))
    await world.say(MODS_PILSEN, "rosa", f"!update {report_id} still there, two vans")
    assert world.shown(alert).startswith("🔴 CONFIRMED ALERT · updated 11:30 · Pilsen")
    assert await world.tick(MONDAY + timedelta(hours=4, minutes=29)) == []
    sent = await world.tick(MONDAY + timedelta(hours=4, minutes=30))
    assert alert_edits(sent, alert)[0].startswith(
        "🟠 CONFIRMED ALERT · no update since 11:30, it may be over"
    )


async def test_after_twelve_hours_without_news_the_alert_closes_as_expired(
    world: DispatchWorld,
) -> None:
    report_id = await confirmed(world)
    alert = alert_of(world, report_id)
    [callout] = [s for s in world.messages(DISPATCH_EN) if s.key and "callout" in s.key]
    await world.tick(MONDAY + timedelta(hours=2))
    sent = await world.tick(MONDAY + timedelta(hours=12))
    assert world.shown(alert).startswith("⌛ CLOSED · no update since 09:00 · Pilsen")
    # The reporter's room (an alert room too) gets one new message: the follow-up.
    [follow] = [s for s in sent if s.room_id == HOOD_EN and not s.message.edit_of]
    assert follow.message.reply_to == alert.event_id
    assert follow.text == f"Alert {report_id} has closed: no update since 09:00."
    [standdown] = [s for s in sent if s.room_id == DISPATCH_EN and s.message.reply_to]
    assert standdown.message.reply_to == callout.event_id
    assert standdown.text == f"⌛ Stand down: {report_id} closed with no update. Thank you all."
    assert await status(world, report_id) is Status.LAPSED
    assert world.shown(world.card_of(report_id)).startswith(f"⌛ {report_id} · CLOSED — NO UPDATE")
    reply = await world.ask(MODS_PILSEN, "rosa", f"!update {report_id} back again")
    assert "CLOSED — NO UPDATE" in reply  # closed for good: a new sighting is a new report
    assert await world.tick(MONDAY + timedelta(hours=13)) == []


async def test_timers_survive_a_restart_and_none_fires_late(world: DispatchWorld) -> None:
    report_id = await confirmed(world)
    alert = alert_of(world, report_id)
    await world.restart(down_until=MONDAY + timedelta(hours=3))
    sent = await world.tick(MONDAY + timedelta(hours=3))
    assert [e.split("\n")[0] for e in alert_edits(sent, alert)] == [STALE_EDIT]
    await world.restart()
    assert await world.tick(MONDAY + timedelta(hours=3, minutes=1)) == []

    # Down past both limits: it closes, without first saying it may be over.
    await world.restart(down_until=MONDAY + timedelta(hours=20))
    sent = await world.tick(MONDAY + timedelta(hours=20))
    assert [e.split(" · ")[0] for e in alert_edits(sent, alert)] == ["⌛ CLOSED"]
    assert not [s for s in sent if s.room_id != MODS_PILSEN and "may be over" in s.text]


async def test_a_second_fresh_alert_is_not_touched(world: DispatchWorld) -> None:
    first = await confirmed(world)
    await world.tick(MONDAY + timedelta(hours=1, minutes=30))
    second = await confirmed(world)
    await world.tick(MONDAY + timedelta(hours=2))
    assert await status(world, first) is Status.CONFIRMED
    answer = await world.ask(HOOD_EN, "bea", "!status")
    assert f"🟠 CONFIRMED {first}" in answer and f"🔴 CONFIRMED {second}" in answer
