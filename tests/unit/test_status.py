"""`!status`: what is verified now, so a neighbor can check a rumor before sharing it."""

from __future__ import annotations

import re

from testkit.networks import MODS, PILSEN_EN, PILSEN_ES, VILLITA
from testkit.world import SightingsWorld

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
CLOCK = r"\d\d:\d\d"


async def report(world: SightingsWorld, text: str) -> str:
    await world.say(PILSEN_EN, "ana", text)
    match = REPORT_ID.search(world.last(PILSEN_EN))
    assert match
    return match[0]


async def test_nothing_confirmed_is_said_plainly_in_both_languages(world: SightingsWorld) -> None:
    await report(world, "!report 18th & Ashland; a van parked")  # unconfirmed: not shown
    await world.say(PILSEN_EN, "bea", "!status")
    lines = world.last(PILSEN_EN).splitlines()
    assert lines[0] == "Verified in Pilsen:"
    assert lines[1] == "Nothing is confirmed in Pilsen in the last 24 hours."
    assert re.fullmatch(rf"As of {CLOCK} \(CST\)\. Only confirmed alerts are real; .*", lines[2])
    await world.say(PILSEN_ES, "bea", "!estado")
    assert "No hay nada confirmado en Pilsen en las últimas 24 horas." in world.last(PILSEN_ES)


async def test_active_alerts_and_false_alarms_are_listed_never_the_plate(
    world: SightingsWorld,
) -> None:
    confirmed = await report(
        world, "!report where: 18th & Ashland | what: detaining | plate: ABC123"
    )
    false = await report(world, "!report 26th & Pulaski; checkpoint")
    await world.say(MODS, "rosa", f"!confirm {confirmed}")
    await world.say(MODS, "luis", f"!false {false}")
    await world.say(PILSEN_EN, "bea", "!status")
    text = world.last(PILSEN_EN)
    assert re.search(
        rf"🔴 CONFIRMED {confirmed} · 18th & Ashland · detaining someone · last update {CLOCK}",
        text,
    )
    assert re.search(rf"❌ FALSE ALARM {false} · 26th & Pulaski · checkpoint · {CLOCK}", text)
    assert "ABC123" not in text and "Nothing is confirmed" not in text


async def test_after_the_all_clear_it_says_when_the_last_alert_ended(world: SightingsWorld) -> None:
    report_id = await report(world, "!report 18th & Ashland; agents detaining someone")
    await world.say(MODS, "rosa", f"!confirm {report_id}")
    await world.say(MODS, "rosa", f"!clear {report_id}")
    await world.say(PILSEN_EN, "bea", "!status")
    assert re.search(
        rf"No alert is active in Pilsen now; the last one ended at {CLOCK}\.",
        world.last(PILSEN_EN),
    )


async def test_another_area_by_name_and_an_unknown_one(world: SightingsWorld) -> None:
    await world.say(PILSEN_ES, "bea", "!estado La Villita")
    assert world.last(PILSEN_ES).startswith("Verificado en La Villita:")
    await world.say(VILLITA, "bea", "!status pilsen")
    assert "Pilsen" in world.last(VILLITA)
    await world.say(PILSEN_EN, "bea", "!status narnia")
    assert world.last(PILSEN_EN).startswith("I don't know the area “narnia”. Areas: Pilsen,")
