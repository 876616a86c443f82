"""Reports filed and confirmed in a test world, and the alerts they became, by room."""

from __future__ import annotations

import re
from collections.abc import Iterable

from testkit.world import World

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
KEYED = "!report where: 18th & Ashland | what: detaining | agents: 2 | vehicle: white van"


async def filed(world: World, room: str, reporter: str = "ana") -> str:
    """A keyed report from `reporter` in `room`; its id, from the acknowledgement."""
    sent = await world.say(room, reporter, KEYED)
    match = REPORT_ID.search(next(s for s in sent if s.room_id == room).text)
    assert match
    return match[0]


async def confirmed(
    world: World, room: str, moderation: str, reporter: str = "ana", moderator: str = "rosa"
) -> str:
    """A report filed in `room` and confirmed in `moderation`, its alerts all sent."""
    report_id = await filed(world, room, reporter)
    await world.say(moderation, moderator, f"!confirm {report_id}")
    await world.settle()
    return report_id


def alerts_in(world: World, room: str, report_id: str) -> list[str]:
    """The relay's messages about `report_id` in `room` (alerts and their follow-ups)."""
    return [
        s.text
        for s in world.messages(room)
        if s.key and s.key.startswith("relay:") and report_id in s.text
    ]


def alerted(world: World, report_id: str, rooms: Iterable[str]) -> list[str]:
    """Those of `rooms` that got an alert about `report_id`, in the order given."""
    return [room for room in rooms if alerts_in(world, room, report_id)]
