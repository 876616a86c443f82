"""What the rosters plugin publishes for other plugins (`Rotas`): who is on duty in a room's
rosters right now, and its backup pool."""

from __future__ import annotations

import pytest
from testkit.networks import HOOD, JUAN, LUPE, MARIA, PEDRO, WHITTIER, chicago
from testkit.world import RosterWorld

from bot.core.events import RoomRef
from plugins.rosters import Rotas

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
