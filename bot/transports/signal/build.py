"""The Signal transport as `[signal]` describes it."""

from __future__ import annotations

from bot.core.config import SignalSection
from bot.storage.cipher import FieldCipher
from bot.storage.database import Database
from bot.transports.signal.convert import Converter
from bot.transports.signal.http_client import HttpDaemon
from bot.transports.signal.ids import Sealer
from bot.transports.signal.rpc import Daemon
from bot.transports.signal.store import SignalStore
from bot.transports.signal.tcp_client import TcpDaemon
from bot.transports.signal.transport import SignalTransport


def signal_transport(section: SignalSection, db: Database, cipher: FieldCipher) -> SignalTransport:
    daemon: Daemon
    if section.mode == "http":
        daemon = HttpDaemon(section.url, section.account)
    else:
        daemon = TcpDaemon(section.host, section.port, section.account)
    converter = Converter(section.account, Sealer(sealing_key(cipher)))
    return SignalTransport(daemon, converter, SignalStore(db, cipher))


def sealing_key(cipher: FieldCipher) -> bytes:
    """The key of the transport's sealed ids, derived from the data key (64 bytes)."""
    halves = (cipher.keyed_hash("signal ids", f"signal.sealing.{half}") for half in (1, 2))
    return b"".join(bytes.fromhex(half) for half in halves)
