"""What the rosters plugin publishes for other plugins (`Rotas`): who is on duty in a room's
rosters right now, its backup pool, one-off shifts put on a roster, and who claims shifts."""

from __future__ import annotations

from datetime import timedelta

import pytest
from testkit.networks import ADMIN, HOOD, JUAN, JUAREZ, LUPE, MARIA, PEDRO, WHITTIER, chicago
from testkit.world import RosterWorld

from bot.core.events import RoomRef
from plugins.rosters import ClaimedShift, Rotas

pytestmark = pytest.mark.roster_world


def room(room_id: str) -> RoomRef:
    return RoomRef("console", room_id)


async def test_on_duty_are_the_claims_of_the_shift_running_now(world: RosterWorld) -> None:
    rotas = world.app.bot.service(Rotas)
    pickup = await world.shift_id("whittier", "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {pickup}")
    await world.say(WHITTIER, JUAN, f"!claim {pickup}")
    assert await rotas.on_duty(room(WHITTIER), chicago("2026-03-03 14:40")) == []
    during = chicago("2026-03-03 14:50")
    assert set(await rotas.on_duty(room(WHITTIER), during)) == {MARIA, JUAN}
    await world.advance_to(chicago("2026-03-03 14:46"))
    await world.say(WHITTIER, JUAN, "!here")
    assert await rotas.on_duty(room(WHITTIER), during) == [JUAN, MARIA]  # checked in first
    assert await rotas.on_duty(room(WHITTIER), chicago("2026-03-03 15:31")) == []
    assert await rotas.on_duty(room(HOOD), during) == []  # a room without a roster


async def test_the_backup_pool_in_the_order_people_joined(world: RosterWorld) -> None:
    rotas = world.app.bot.service(Rotas)
    await world.say(WHITTIER, LUPE, "!backup on")
    await world.advance_to(chicago("2026-03-02 09:05"))
    await world.say(WHITTIER, PEDRO, "!backup on")
    assert await rotas.backup_pool(room(WHITTIER)) == [LUPE, PEDRO]
    await world.say(WHITTIER, LUPE, "!backup off")
    assert await rotas.backup_pool(room(WHITTIER)) == [PEDRO]
    assert await rotas.backup_pool(room(HOOD)) == []


# --- one-off shifts and claims, for other plugins ---------------------------------------------


async def test_a_one_off_shift_weeks_ahead_is_on_the_roster_at_once(world: RosterWorld) -> None:
    rotas = world.app.bot.service(Rotas)
    claimed: list[ClaimedShift] = []

    async def listen(shift: ClaimedShift) -> None:
        claimed.append(shift)

    rotas.on_claimed(listen)
    # Six weeks ahead: far past the days shifts are made ahead, still on the roster now.
    starts = chicago("2026-04-14 09:00")
    shift = await rotas.add_one_off(room(WHITTIER), "hearing", starts, starts + timedelta(hours=2))
    assert shift.isdigit()
    answer = await world.ask(WHITTIER, MARIA, f"!claim {shift}")
    assert "✅" in answer and "hearing" in answer and "09:00–11:00" in answer
    assert claimed == [ClaimedShift(shift, MARIA, room(WHITTIER))]
    await world.plugin.maintain()  # the hourly regeneration keeps it
    await world.restart()
    await world.advance_to(chicago("2026-04-14 08:35"))
    [reminder] = [s for s in world.messages(WHITTIER) if s.key and ":soon:" in s.key]
    assert f"#{shift}" in reminder.text and reminder.mentions == (MARIA,)


async def test_two_hearings_on_one_day_are_two_shifts(world: RosterWorld) -> None:
    rotas = world.app.bot.service(Rotas)
    first = await rotas.add_one_off(
        room(JUAREZ), "Audiencia", chicago("2026-03-10 09:00"), chicago("2026-03-10 10:00")
    )
    second = await rotas.add_one_off(
        room(JUAREZ), "Audiencia", chicago("2026-03-10 13:00"), chicago("2026-03-10 14:00"), 2
    )
    assert first != second
    listing = await world.ask(JUAREZ, LUPE, "!turnos proxima")
    assert f"#{first} 0/1" in listing and f"#{second} 0/2" in listing
    assert "audiencia 09:00–10:00" in listing and "audiencia-2 13:00–14:00" in listing
    # A window an admin sets by name leaves the one-off shifts alone.
    await world.say(JUAREZ, ADMIN, "!sitio horario juarez audiencia mar 15:00-16:00 necesita 1")
    week = await world.ask(JUAREZ, LUPE, "!turnos proxima")
    assert f"#{first} " in week and f"#{second} " in week


async def test_a_one_off_shift_keeps_its_wall_clock_the_night_the_clocks_change(
    world: RosterWorld,
) -> None:
    rotas = world.app.bot.service(Rotas)
    # Sunday 8 March 2026: 02:00 became 03:00 in Chicago.
    starts = chicago("2026-03-08 10:00")
    shift = await rotas.add_one_off(room(WHITTIER), "court", starts, starts + timedelta(hours=1))
    answer = await world.ask(WHITTIER, PEDRO, f"!claim {shift}")
    assert "Sun" in answer and "10:00–11:00" in answer


async def test_a_shift_taken_or_walked_up_to_is_claimed_too(world: RosterWorld) -> None:
    rotas = world.app.bot.service(Rotas)
    claimed: list[str] = []

    async def listen(shift: ClaimedShift) -> None:
        claimed.append(shift.user_id)

    async def broken(shift: ClaimedShift) -> None:
        raise RuntimeError("a listener that fails")

    rotas.on_claimed(broken)
    rotas.on_claimed(listen)
    starts = chicago("2026-03-03 10:00")
    ends = starts + timedelta(hours=1)
    shift = await rotas.add_one_off(room(WHITTIER), "checkin", starts, ends, need=2)
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    await world.say(WHITTIER, MARIA, f"!swap {shift}")
    await world.say(WHITTIER, JUAN, f"!take {shift}")
    await world.say(WHITTIER, JUAN, f"!claim {shift}")  # already his: nobody is told
    await world.advance_to(chicago("2026-03-03 09:50"))
    await world.say(WHITTIER, LUPE, f"!here {shift}")
    assert claimed == [MARIA, JUAN, LUPE]


async def test_a_room_without_a_roster_or_a_past_time_is_refused(world: RosterWorld) -> None:
    rotas = world.app.bot.service(Rotas)
    later = chicago("2026-03-05 09:00")
    with pytest.raises(LookupError):
        await rotas.add_one_off(room(HOOD), "hearing", later, later + timedelta(hours=1))
    earlier = chicago("2026-03-02 08:00")
    with pytest.raises(ValueError, match="future"):
        await rotas.add_one_off(room(WHITTIER), "hearing", earlier, earlier + timedelta(hours=1))
