"""`python -m bench.plain_store run -c CONFIG`: `vecinos run` with the previous release's
crypto store (nio's SQLite in the clear), the baseline of the SQLCipher store's cost."""

from __future__ import annotations

import sys
from typing import Any

from nio.store import MatrixStore

from bot import cli
from bot.transports.matrix import session
from bot.transports.matrix.store import EncryptedStore


class PlaintextStore(EncryptedStore):
    """The store as the previous release kept it (device trust in memory, as now)."""

    def _create_database(self) -> Any:
        return MatrixStore._create_database(self)


if __name__ == "__main__":
    session.EncryptedStore = PlaintextStore  # type: ignore[misc]
    sys.exit(cli.main(sys.argv[1:]))
