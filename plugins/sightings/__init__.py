"""Sighting reports and their moderation (SPEC section 2).

Other plugins use only what is exported here: `ReportFeed` (through `bot.service`) and the
types it hands out.
"""

from plugins.sightings.card import View
from plugins.sightings.feed import ReportFeed
from plugins.sightings.model import Report
from plugins.sightings.plugin import Sightings
from plugins.sightings.signals import ChangeKind, ReportChange

PLUGIN = Sightings

__all__ = ["PLUGIN", "ChangeKind", "Report", "ReportChange", "ReportFeed", "Sightings", "View"]
