"""Sighting reports and their moderation.

Other plugins use only what is exported here: `ReportFeed` (through `bot.service`) and the
types it hands out.
"""

from plugins.sightings.card import View
from plugins.sightings.decisions import Verdict
from plugins.sightings.feed import ReportFeed
from plugins.sightings.ids import ShortIds, normalize_id
from plugins.sightings.model import Activity, Direction, Report
from plugins.sightings.plates import without_plates
from plugins.sightings.plugin import Sightings
from plugins.sightings.signals import CLOSING, ChangeKind, FiledReport, ReportChange
from plugins.sightings.store import ReportState

PLUGIN = Sightings

__all__ = [
    "CLOSING",
    "PLUGIN",
    "Activity",
    "ChangeKind",
    "Direction",
    "FiledReport",
    "Report",
    "ReportChange",
    "ReportFeed",
    "ReportState",
    "ShortIds",
    "Sightings",
    "Verdict",
    "View",
    "normalize_id",
    "without_plates",
]
