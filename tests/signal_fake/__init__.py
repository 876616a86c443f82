"""A protocol-faithful fake of signal-cli 0.13.19's JSON-RPC daemon, and envelope builders."""

from signal_fake.daemon import FakeSignalDaemon, Sent
from signal_fake.envelopes import Group, Person, Quote

__all__ = ["FakeSignalDaemon", "Group", "Person", "Quote", "Sent"]
