"""`!roster` on any day of the week: the coming seven days, never the calendar week.

Each test pins the clock on a day a volunteer might ask: a Sunday evening, a Saturday, the
night the clocks spring forward (8 March 2026 in Chicago), and Thanksgiving (26 November
2026), when the school is closed.
"""

from __future__ import annotations

from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from pathlib import Path

from testkit.networks import JUAN, JUAREZ, MARIA, WHITTIER, chicago
from testkit.world import RosterWorld

from bot.api import RoomRef
from bot.storage.keys import DataKey
from plugins.rosters import Rotas


@asynccontextmanager
async def roster_on(tmp_path: Path, moment: datetime, **config: str) -> AsyncIterator[RosterWorld]:
    world = await RosterWorld(tmp_path, moment, key=DataKey.generate(), **config).start()
    try:
        yield world
    finally:
        await world.stop()


def day_lines(text: str) -> list[str]:
    """The day headings of a roster's plain text (its shift lines are indented)."""
    lines = text.splitlines()[1:-1]
    return [line for line in lines if not line.startswith(" ") and "(" not in line]


async def roster(world: RosterWorld, text: str = "!roster", room: str = WHITTIER) -> str:
    [answer] = await world.say(room, MARIA if room == WHITTIER else JUAN, text)
    return answer.text


async def test_on_a_sunday_the_roster_is_the_school_week_ahead(tmp_path: Path) -> None:
    async with roster_on(tmp_path, chicago("2026-03-01 19:00")) as world:
        text = await roster(world)
        assert text.splitlines()[0] == (
            "Whittier Elementary: Mon Mar 2 to Sun Mar 8 (times in America/Chicago)"
        )
        assert day_lines(text) == ["Mon Mar 2", "Tue Mar 3", "Wed Mar 4", "Thu Mar 5", "Fri Mar 6"]
        assert "  dropoff 07:30–08:15  #" in text

        after = await roster(world, "!roster next")
        assert after.startswith("Whittier Elementary: Mon Mar 9 to Sun Mar 15")
        assert day_lines(after)[0] == "Mon Mar 9"

        spanish = await roster(world, "!turnos", room=JUAREZ)
        assert spanish.startswith("Escuela Juárez: del lun 2 de marzo al dom 8 de marzo")
        assert day_lines(spanish)[-1] == "vie 6 de marzo"
        assert (await roster(world, "!turnos siguiente", room=JUAREZ)).startswith(
            "Escuela Juárez: del lun 9 de marzo al dom 15 de marzo"
        )


async def test_on_a_saturday_it_starts_tomorrow_and_shows_the_weekdays(tmp_path: Path) -> None:
    async with roster_on(tmp_path, chicago("2026-03-07 10:00")) as world:
        text = await roster(world)
        assert text.startswith("Whittier Elementary: Sun Mar 8 to Sat Mar 14")
        assert day_lines(text) == [
            "Mon Mar 9",
            "Tue Mar 10",
            "Wed Mar 11",
            "Thu Mar 12",
            "Fri Mar 13",
        ]


async def test_today_is_shown_while_one_of_its_shifts_has_not_ended(tmp_path: Path) -> None:
    async with roster_on(tmp_path, chicago("2026-03-04 14:00")) as world:
        await world.advance_to(chicago("2026-03-04 15:00"))
        text = await roster(world)  # pickup runs until 15:30
        assert text.startswith("Whittier Elementary: Wed Mar 4 to Tue Mar 10")
        assert day_lines(text)[0] == "Wed Mar 4"
        await world.advance_to(chicago("2026-03-04 15:31"))
        text = await roster(world)
        assert text.startswith("Whittier Elementary: Thu Mar 5 to Wed Mar 11")
        assert "Wed Mar 4" not in text


async def test_across_the_spring_forward_night_times_stay_on_the_school_clock(
    tmp_path: Path,
) -> None:
    async with roster_on(tmp_path, chicago("2026-03-08 01:30")) as world:
        before = await roster(world)
        await world.advance(timedelta(hours=1))  # 01:30 CST + 1 h is 03:30 CDT
        after = await roster(world)
        assert before == after
        assert after.startswith("Whittier Elementary: Mon Mar 9 to Sun Mar 15")
        assert day_lines(after)[0] == "Mon Mar 9"
        assert after.splitlines()[2].startswith("  dropoff 07:30–08:15  #")
        monday = await world.shift_id("whittier", "dropoff", "2026-03-09")
        shift = await world.plugin.store.shift(monday)
        assert shift is not None
        assert shift.starts_at == chicago("2026-03-09 07:30")  # 12:30 UTC, no longer 13:30


async def test_on_thanksgiving_the_roster_says_the_days_off_and_shows_the_next_school_days(
    tmp_path: Path,
) -> None:
    holidays = '["2026-11-26", "2026-11-27"]'
    async with roster_on(tmp_path, chicago("2026-11-26 08:00"), skip=holidays) as world:
        text = await roster(world)
        lines = text.splitlines()
        assert lines[0] == "Whittier Elementary: Fri Nov 27 to Thu Dec 3 (times in America/Chicago)"
        assert lines[1] == "No shifts on Thu Nov 26, Fri Nov 27 (days off)."
        assert day_lines(text) == ["Mon Nov 30", "Tue Dec 1", "Wed Dec 2", "Thu Dec 3"]
        assert await world.ask(WHITTIER, MARIA, "!claim today pickup") == (
            "There is no pickup shift on today. See !roster."
        )
        # The school's Spanish-speaking room is not closed: its days off are its own.
        assert "días libres" not in await roster(world, "!turnos", room=JUAREZ)


async def test_the_day_before_thanksgiving_the_days_off_are_said_ahead(tmp_path: Path) -> None:
    holidays = '["2026-11-26", "2026-11-27"]'
    async with roster_on(tmp_path, chicago("2026-11-25 16:00"), skip=holidays) as world:
        text = await roster(world)
        assert text.startswith("Whittier Elementary: Thu Nov 26 to Wed Dec 2")
        assert text.splitlines()[1] == "No shifts on Thu Nov 26, Fri Nov 27 (days off)."
        assert day_lines(text)[0] == "Mon Nov 30"


async def test_a_claim_of_an_unknown_shift_points_to_a_roster_with_shifts(
    tmp_path: Path,
) -> None:
    spring_break = '["2026-03-02", "2026-03-03", "2026-03-04", "2026-03-05", "2026-03-06"]'
    async with roster_on(tmp_path, chicago("2026-03-01 12:00"), skip=spring_break) as world:
        text = await roster(world)
        assert text.splitlines()[1:] == [
            "No shifts on Mon Mar 2, Tue Mar 3, Wed Mar 4, Thu Mar 5, Fri Mar 6 (days off).",
            "No shifts in these seven days.",
        ]
        assert await world.ask(WHITTIER, MARIA, "!claim 999") == (
            "There is no shift #999 here. See !roster next."
        )
        assert await world.ask(WHITTIER, MARIA, "!claim 2026-03-03 pickup") == (
            "There is no pickup shift on 2026-03-03. See !roster next."
        )
        assert await world.ask(JUAREZ, JUAN, "!tomar 999") == (
            "No hay un turno #999 aquí. Mira !turnos."
        )


async def test_with_no_shifts_in_two_weeks_the_claim_says_so(tmp_path: Path) -> None:
    two_weeks = [f"2026-03-{day:02d}" for day in range(2, 14)]
    skip = "[" + ", ".join(f'"{day}"' for day in two_weeks) + "]"
    async with roster_on(tmp_path, chicago("2026-03-01 12:00"), skip=skip) as world:
        assert await world.ask(WHITTIER, MARIA, "!claim 999") == (
            "There is no shift #999 here. No shifts are planned here in the next two weeks."
        )


async def test_one_off_shifts_are_on_the_coming_days_and_the_seven_after(tmp_path: Path) -> None:
    async with roster_on(tmp_path, chicago("2026-03-07 10:00")) as world:
        rotas = world.app.bot.service(Rotas)
        here = RoomRef("console", WHITTIER)
        soon = chicago("2026-03-08 10:00")  # a Sunday, when the school has no shift
        court = await rotas.add_one_off(here, "court", soon, soon + timedelta(hours=2))
        later = chicago("2026-03-17 09:00")
        hearing = await rotas.add_one_off(here, "hearing", later, later + timedelta(hours=1))

        text = await roster(world)
        assert day_lines(text)[0] == "Sun Mar 8"
        assert f"  court 10:00–12:00  #{court} 0/1 ⚠" in text
        assert f"#{hearing}" not in text
        assert f"  hearing 09:00–10:00  #{hearing} 0/1 ⚠" in await roster(world, "!roster next")
        assert (await world.ask(WHITTIER, MARIA, f"!claim {court}")).startswith(
            f"✅ You are on court at Whittier Elementary, Sun Mar 8 10:00–12:00 (#{court})"
        )
