"""Safety check-ins, emergency contacts and accompaniment requests, in direct chats."""

from plugins.checkins.plugin import Checkins

PLUGIN = Checkins

__all__ = ["PLUGIN", "Checkins"]
