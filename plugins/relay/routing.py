"""Which rooms hear about a confirmed report: every room watching its area."""

from __future__ import annotations

from bot.config import Settings
from bot.events import RoomRef

# Moderation rooms have the card; every other role that covers the area gets the alert.
ALERTED_ROLES = frozenset({"neighborhood", "alerts", "watch"})


def alert_rooms(settings: Settings, area: str) -> list[RoomRef]:
    return [
        RoomRef(room.transport, room.id)
        for room in settings.rooms
        if room.role in ALERTED_ROLES and area in room.areas
    ]
