"""Sighting reports and their moderation (SPEC section 2)."""

from plugins.sightings.plugin import Sightings
from plugins.sightings.signals import ChangeKind, ReportChange, ReportSignals

__all__ = ["ChangeKind", "ReportChange", "ReportSignals", "Sightings"]
