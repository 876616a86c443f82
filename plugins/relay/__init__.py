from plugins.relay.plugin import Relay

__all__ = ["Relay"]
