"""The vehicles plugin's config: ``[vehicles]``.

The issue asked for `[reports] plate_suspected_days`; `[reports]` is the sightings plugin's
section (each top-level key belongs to one plugin), so the key lives here.
"""

from __future__ import annotations

from datetime import timedelta

from pydantic import Field

from bot.api.config import PluginConfig, Section


class VehiclesSection(Section):
    """``[vehicles]``: the network's plate list."""

    # A plate put on the list as `suspected` leaves it after this many days (1-365);
    # `agency` and `cleared` entries stay until a moderator changes them.
    suspected_days: int = Field(default=30, ge=1, le=365)

    @property
    def suspected_for(self) -> timedelta:
        return timedelta(days=self.suspected_days)


class VehiclesConfig(PluginConfig):
    vehicles: VehiclesSection = Field(default_factory=VehiclesSection)
