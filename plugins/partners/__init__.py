"""Networks of networks (README): confirmed alerts shared with partner networks'
bots over Matrix federation, each side pinning the other's identity key."""

from plugins.partners.plugin import Partners

PLUGIN = Partners

__all__ = ["PLUGIN", "Partners"]
