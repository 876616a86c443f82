"""Permission levels. Levels are decided by the core, never by what a message claims."""

from __future__ import annotations

from enum import IntEnum


class Level(IntEnum):
    GUEST = 0  # anyone in a room the bot is in, configured or not
    NEIGHBOR = 10  # member of a configured room
    VOLUNTEER = 20  # member of a watch room
    MODERATOR = 50
    ADMIN = 100
