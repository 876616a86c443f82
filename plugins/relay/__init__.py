"""The alert relay: confirmed reports reach every room watching their area."""

from plugins.relay.plugin import Relay

PLUGIN = Relay

__all__ = ["PLUGIN", "Relay"]
