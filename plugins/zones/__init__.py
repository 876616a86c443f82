"""Zones: areas and rooms added, created and rotated from chat by the network's admins."""

from plugins.zones.plugin import ZonesPlugin

PLUGIN = ZonesPlugin

__all__ = ["PLUGIN", "ZonesPlugin"]
