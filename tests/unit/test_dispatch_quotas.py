"""Responder quotas and the dispatcher's handoff (issue 25, points 4 and 5): "6 of 6,
enough", a `!going` past that sent to the open call-out nearby with the fewest people, a
number per area, and the handoff by command and at each on-call shift change, on a clock
the test moves (across the spring-forward night too)."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from testkit.networks import (
    DISPATCH_EN,
    DISPATCH_ES,
    DISPATCH_LV,
    HOOD_EN,
    MODS_PILSEN,
    MONDAY,
    chicago,
)
from testkit.world import DispatchWorld

from bot.api.testing import ConfigError, Sent

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
PLATE = " | plate: ABC123"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[DispatchWorld]:
    running = await DispatchWorld(tmp_path, MONDAY).start()
    yield running
    await running.stop()


async def report(world: DispatchWorld, where: str, user: str = "ana") -> str:
    text = f"!report where: {where} | what: detaining | agents: 2{PLATE}"
    sent = await world.say(HOOD_EN, user, text)
    ack = next(s for s in sent if s.room_id == HOOD_EN)
    match = REPORT_ID.search(ack.text)
    assert match, ack.text
    return match[0]


async def confirmed(world: DispatchWorld, where: str) -> str:
    report_id = await report(world, where)
    await world.say(MODS_PILSEN, "rosa", f"!confirm {report_id}")
    return report_id


def callout_of(world: DispatchWorld, room: str, report_id: str) -> Sent:
    [callout] = [
        s
        for s in world.messages(room)
        if s.key and "callout" in s.key and s.message.edit_of is None and report_id in s.text
    ]
    return callout


async def going(world: DispatchWorld, report_id: str, *people: str) -> None:
    for person in people:
        await world.say(DISPATCH_EN, person, f"!going {report_id}")


# --- quotas ------------------------------------------------------------------------------


async def test_the_verifier_going_counts_and_six_of_six_is_enough(world: DispatchWorld) -> None:
    report_id = await report(world, "18th & Ashland")
    await world.say(DISPATCH_EN, "vera", f"!going {report_id} 10")
    await world.say(MODS_PILSEN, "rosa", f"!confirm {report_id}")
    callout = callout_of(world, DISPATCH_EN, report_id)
    assert "Going: Vera · 1 of 6" in callout.text  # the verifier already going counts
    await going(world, report_id, "rita", "raul", "rosa", "ruth")
    assert "Going: Vera, Rita, Raul, Rosa, Ruth · 5 of 6" in world.shown(callout)
    assert "🛑" not in world.shown(callout)
    await world.say(DISPATCH_ES, "remy", f"!voy {report_id}")
    shown = world.shown(callout)
    assert "Going: Vera, Rita, Raul, Rosa, Ruth, Remy · 6 of 6, enough" in shown
    assert "🛑 Full: enough people are going." in shown
    assert "!going" not in shown.splitlines()[-1]  # no more asking
    spanish = world.shown(callout_of(world, DISPATCH_ES, report_id))
    assert "6 de 6, suficientes" in spanish and "🛑 Completo" in spanish
    # Someone already counted gives a new arrival time: not one more person.
    assert "is going to" in await world.ask(DISPATCH_EN, "rita", f"!going {report_id} 5")
    assert "6 responders going" in world.shown(world.card_of(report_id))


async def test_a_seventh_going_is_sent_to_the_open_call_out_with_the_fewest(
    world: DispatchWorld,
) -> None:
    full = await confirmed(world, "18th & Ashland")
    await going(world, full, "a1", "a2", "a3", "a4", "a5", "a6")
    busier = await confirmed(world, "21st & Damen")
    await going(world, busier, "b1", "b2")
    emptier = await confirmed(world, "18th & Loomis")
    await going(world, emptier, "c1")
    callout = callout_of(world, DISPATCH_EN, full)
    before = world.shown(callout)

    answer = await world.ask(DISPATCH_EN, "zoe", f"!going {full}")
    assert answer.splitlines() == [
        f"Enough people at {full}, thank you.",
        f"{emptier} needs people: 18th & Loomis (1 of 6 going)",
        f"{busier} needs people: 21st & Damen (2 of 6 going)",
    ]
    assert world.shown(callout) == before  # zoe is not counted
    assert "ABC123" not in answer
    spanish = await world.ask(DISPATCH_ES, "zoe", f"!voy {full}")
    assert spanish.splitlines()[:2] == [
        f"Ya hay suficiente gente en {full}, gracias.",
        f"{emptier} necesita gente: 18th & Loomis (van 1 de 6)",
    ]


async def test_a_full_call_out_with_nothing_else_open_nearby_says_so(
    world: DispatchWorld,
) -> None:
    full = await confirmed(world, "18th & Ashland")
    await going(world, full, "a1", "a2", "a3", "a4", "a5", "a6")
    # A report still waiting for a decision has no call-out to send anyone to.
    assert await report(world, "26th & Pulaski", user="lu")
    answer = await world.ask(DISPATCH_EN, "zoe", f"!going {full}")
    assert answer.splitlines() == [
        f"Enough people at {full}, thank you.",
        "No other call-out nearby needs people now.",
    ]


async def test_an_area_sets_its_own_number(tmp_path: Path) -> None:
    config = "enough = 6\n[dispatch.enough_by_area]\npilsen = 2"
    world = await DispatchWorld(tmp_path, MONDAY, dispatch=config).start()
    try:
        report_id = await confirmed(world, "18th & Ashland")
        await going(world, report_id, "rita", "raul")
        assert "Going: Rita, Raul · 2 of 2, enough" in world.shown(
            callout_of(world, DISPATCH_EN, report_id)
        )
        assert (await world.ask(DISPATCH_EN, "zoe", f"!going {report_id}")).startswith(
            f"Enough people at {report_id}"
        )
    finally:
        await world.stop()


def test_an_unknown_area_in_enough_by_area_is_refused(tmp_path: Path) -> None:
    world = DispatchWorld(tmp_path, MONDAY, dispatch="[dispatch.enough_by_area]\npilsn = 3")
    with pytest.raises(ConfigError, match="enough_by_area"):
        world.settings()


# --- the handoff -------------------------------------------------------------------------


async def open_calls(world: DispatchWorld) -> tuple[str, str]:
    """An unconfirmed report with its verifier going (overdue by 09:30), and a call-out
    with a responder going and the verifier on scene."""
    undecided = await report(world, "18th & Ashland")
    await world.say(DISPATCH_EN, "vera", f"!going {undecided} 10")
    callout = await report(world, "18th & Loomis")
    await world.say(DISPATCH_EN, "victor", f"!going {callout} 5")
    await world.advance(timedelta(minutes=5))
    await world.say(DISPATCH_EN, "victor", f"!onscene {callout}")
    await world.say(MODS_PILSEN, "rosa", f"!confirm {callout}")
    await world.say(DISPATCH_EN, "rita", f"!going {callout} 20")
    await world.advance(timedelta(minutes=25))  # 09:30: Vera is past 09:10 + 15
    return undecided, callout


async def test_handoff_lists_what_is_open_in_english(world: DispatchWorld) -> None:
    undecided, callout = await open_calls(world)
    [answer] = [s for s in await world.say(DISPATCH_EN, "dina", "!handoff")]
    assert answer.text.splitlines() == [
        "🔁 Handoff · Pilsen · 09:30 CST",
        "Waiting for a decision:",
        f"{undecided} · detaining someone at 18th & Ashland · called 09:00",
        "  🚗 Vera going since 09:00, arriving about 09:10",
        "Call-outs:",
        f"{callout} · detaining someone at 18th & Loomis · 2 of 6 going",
        "  📍 Victor on scene since 09:05",
        "  🚗 Rita going since 09:05, arriving about 09:25",
        "Overdue:",
        f"⚠ Vera went to {undecided}, due 09:10; last heard 09:00",
    ]
    assert answer.message.thread_root is None  # for the whole room
    for secret in ("ABC123", "Ana", "ana"):
        assert secret not in answer.text
    # Moderators get it too; a neighborhood room does not.
    assert "Waiting for a decision:" in await world.ask(MODS_PILSEN, "rosa", "!handoff")
    assert "Waiting" not in await world.ask(HOOD_EN, "ana", "!handoff")


async def test_handoff_in_spanish(world: DispatchWorld) -> None:
    undecided, callout = await open_calls(world)
    lines = (await world.ask(DISPATCH_ES, "dina", "!relevo")).splitlines()
    assert lines[0] == "🔁 Relevo · Pilsen · 09:30 CST"
    assert lines[1] == "Esperan una decisión:"
    assert lines[2].startswith(f"{undecided} · ") and lines[2].endswith(" · llamada 09:00")
    assert lines[3] == "  🚗 Vera va desde 09:00, llega más o menos 09:10"
    assert "Llamadas a responder:" in lines
    assert "  📍 Victor en el lugar desde 09:05" in lines
    assert any(line.startswith(f"{callout} · ") and "van 2 de 6" in line for line in lines)
    assert lines[-1] == f"⚠ Vera fue a {undecided}, llegaba 09:10; última noticia 09:00"
    assert "ABC123" not in "\n".join(lines)


async def test_nothing_open(world: DispatchWorld) -> None:
    assert (await world.ask(DISPATCH_EN, "dina", "!handoff")).endswith("Nothing open.")
    assert (await world.ask(DISPATCH_ES, "dina", "!relevo")).endswith("Nada abierto.")
    # What is closed is not open (an all-clear), nor what is in other areas.
    report_id = await confirmed(world, "18th & Ashland")
    await world.say(MODS_PILSEN, "rosa", f"!clear {report_id}")
    assert (await world.ask(DISPATCH_EN, "dina", "!handoff")).endswith("Nothing open.")
    await report(world, "26th & Pulaski", user="lu")
    assert "Nothing open." not in await world.ask(DISPATCH_EN, "dina", "!handoff")
    assert (await world.ask(DISPATCH_LV, "dina", "!handoff")).endswith("Nothing open.")


def handoffs(sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.key and s.key.startswith("dispatch:handoff:")]


async def test_the_handoff_posts_itself_when_the_on_call_shift_starts(
    world: DispatchWorld,
) -> None:
    row = await world.app.bot.db.fetchone(
        "SELECT id FROM roster_shifts WHERE window_name = 'oncall' AND day = '2026-03-03'"
    )
    assert row is not None
    await world.ask(DISPATCH_EN, "vera", f"!claim {row['id']}")
    undecided = await report(world, "18th & Ashland")
    assert handoffs(await world.advance_to(chicago("2026-03-03 05:59"))) == []
    [handoff] = handoffs(await world.advance_to(chicago("2026-03-03 06:00")))
    assert handoff.room_id == DISPATCH_EN  # the room that keeps the rota, in its language
    assert handoff.text.startswith("🔁 Handoff · Pilsen · 06:00 CST")
    assert "On call now: vera" in handoff.text and handoff.mentions == ("vera",)
    assert undecided in handoff.text and "ABC123" not in handoff.text
    # Every morning, also on a Sunday and on the night clocks spring forward (March 8).
    sent = await world.advance_to(chicago("2026-03-08 05:59"))
    assert len(handoffs(sent)) == 4  # Wednesday to Saturday
    [sunday] = handoffs(await world.advance_to(chicago("2026-03-08 06:00")))
    assert sunday.text.startswith("🔁 Handoff · Pilsen · 06:00 CDT")


async def test_the_shift_handoff_survives_a_restart_and_is_never_late(
    world: DispatchWorld,
) -> None:
    await world.restart(down_until=chicago("2026-03-02 23:00"))
    [handoff] = handoffs(await world.advance_to(chicago("2026-03-03 06:00")))
    assert handoff.text.endswith("Nothing open.")
    # Down across Wednesday's 06:00 by more than the grace: dropped, the next one is set.
    await world.restart(down_until=chicago("2026-03-04 07:00"))
    assert handoffs(await world.advance_to(chicago("2026-03-05 05:59"))) == []
    assert len(handoffs(await world.advance_to(chicago("2026-03-05 06:00")))) == 1
