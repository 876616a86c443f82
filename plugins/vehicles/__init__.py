"""Known vehicles: plates compared across reports, and the network's plate list (README,
"Known vehicles"). Publishes nothing for other plugins: plates stay with the moderators."""

from plugins.vehicles.plugin import Vehicles

PLUGIN = Vehicles

__all__ = ["PLUGIN", "Vehicles"]
