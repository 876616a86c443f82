"""A plugin's test kit: a running bot on an in-memory network, and time the test moves.

A plugin's tests import this and their plugin, nothing else of the core; see
docs/plugins.md ("Testing a plugin").
"""

from bot.api.testing.fakes import TRANSPORT, FakeClock, FakeTransport, ManualScheduler, Sent
from bot.api.testing.world import PluginWorld, on_clock
from bot.core.config import ConfigError

__all__ = [
    "TRANSPORT",
    "ConfigError",
    "FakeClock",
    "FakeTransport",
    "ManualScheduler",
    "PluginWorld",
    "Sent",
    "on_clock",
]
