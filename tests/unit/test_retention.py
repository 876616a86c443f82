"""Disappearing bot messages (README, "Privacy"): in a room with message_retention_days the
bot deletes its own messages once that old, an alert only after its report closed, a small
batch at a time, resuming after a restart."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from testkit.config import load_settings
from testkit.networks import MODS, PILSEN_EN
from testkit.world import SightingsWorld, start_world

from bot.core import retention
from bot.core.config import ConfigError
from bot.storage.keys import DataKey
from plugins.relay import Relay
from plugins.sightings import Sightings

ALERTS = "alerts-pilsen"
ROOMS = f"""
[[rooms]]
id = "{ALERTS}"
transport = "console"
role = "alerts"
areas = ["pilsen"]
message_retention_days = 1
"""
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")


@pytest.fixture
async def world(
    tmp_path: Path, key: DataKey, monkeypatch: pytest.MonkeyPatch
) -> AsyncIterator[SightingsWorld]:
    monkeypatch.setattr(retention, "SPACING_SECONDS", 0)
    running = await start_world(tmp_path, key, rooms=ROOMS, plugins=[Sightings, Relay])
    yield running
    await running.app.stop()


async def days_later(world: SightingsWorld, days: float) -> list[tuple[str, str]]:
    """Run the deletion sweep as if `days` had passed; what it deleted."""
    before = len(world.transport.retracted)
    world.app.runtime.retention.now = lambda: datetime.now(UTC) + timedelta(days=days)
    try:
        await world.app.delete_old_messages()
    finally:
        world.app.runtime.retention.now = lambda: datetime.now(UTC)
    return world.transport.retracted[before:]


async def test_old_messages_go_but_a_live_alert_stays_until_its_report_closed(
    world: SightingsWorld,
) -> None:
    event = await world.write(PILSEN_EN, "ana", "!report 18th & Ashland; agents detaining")
    report_id = REPORT_ID.findall(world.in_thread(PILSEN_EN, event)[0])[0]
    await world.say(MODS, "rosa", f"!confirm {report_id}")
    await world.say(ALERTS, "bea", "!ping")
    await world.settle()
    [alert] = [s for s in world.messages(ALERTS) if "CONFIRMED ALERT" in s.text]
    [pong] = [s for s in world.messages(ALERTS) if "Pong" in s.text]

    assert await days_later(world, 0.9) == []  # not a day old yet
    assert await days_later(world, 2) == [(ALERTS, pong.event_id)]  # the alert is still live
    await world.say(MODS, "rosa", f"!clear {report_id}")
    await world.settle()
    assert await days_later(world, 0.5) == []  # closed, but not a day ago
    gone = await days_later(world, 2)
    sent = {s.event_id for s in world.messages(ALERTS)}
    assert set(gone) == {(ALERTS, event_id) for event_id in sent - {pong.event_id}}
    assert (ALERTS, alert.event_id) in gone  # the alert, its edit and its follow-up
    # Rooms without retention keep everything.
    assert not [room for room, _ in world.transport.retracted if room != ALERTS]


async def test_a_small_batch_at_a_time_resuming_after_a_restart(world: SightingsWorld) -> None:
    for person in range(retention.BATCH + 5):  # each once: within the rate limit
        await world.say(ALERTS, f"neighbor{person}", "!ping")
    assert len(await days_later(world, 2)) == retention.BATCH
    await world.restart()
    assert len(await days_later(world, 2)) == 5
    assert await days_later(world, 2) == []


def test_signal_groups_use_their_own_disappearing_messages(tmp_path: Path) -> None:
    config = tmp_path / "config.toml"
    config.write_text(
        '[signal]\naccount = "+15550001111"\n'
        '[[areas]]\nslug = "pilsen"\nname_en = "Pilsen"\nname_es = "Pilsen"\n'
        '[[rooms]]\nid = "Pmpi+EfPWmsxiomLe9Nx2XF9HOE483p6iKiFj65iMwI="\ntransport = "signal"\n'
        'role = "neighborhood"\nareas = ["pilsen"]\nmessage_retention_days = 7\n',
        encoding="utf-8",
    )
    with pytest.raises(ConfigError) as raised:
        load_settings(config, {})
    assert "rooms[0].message_retention_days: Signal groups have disappearing messages" in str(
        raised.value
    )
