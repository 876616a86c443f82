"""School pickup watch rosters (SPEC section 4)."""

from plugins.rosters.plugin import Rosters

__all__ = ["Rosters"]
