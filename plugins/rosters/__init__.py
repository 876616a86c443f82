"""School pickup watch rosters (SPEC section 4)."""

from plugins.rosters.plugin import Rosters

PLUGIN = Rosters

__all__ = ["PLUGIN", "Rosters"]
