"""Build the transports the config asks for."""

from __future__ import annotations

from datetime import timedelta

from bot.app import Application, SecretSessions
from bot.transports.base import Transport
from bot.transports.matrix.session import open_client
from bot.transports.matrix.transport import MatrixTransport

MATRIX_STORE_DIR = "matrix-store"
# The secrets-table name of the bot's stored Matrix login.
MATRIX_SESSION = "matrix.session"


async def matrix_transport(app: Application) -> MatrixTransport:
    settings = app.settings
    assert settings.matrix is not None
    client = await open_client(
        settings.matrix,
        settings.bot.data_dir / MATRIX_STORE_DIR,
        SecretSessions(app.state, MATRIX_SESSION),
        # nio pickles olm/megolm secrets with this; derived so the data key protects them too.
        pickle_key=app.bot.cipher.keyed_hash("crypto store", "nio pickle key"),
    )
    wait = timedelta(seconds=settings.bot.undecryptable_wait_seconds)
    return MatrixTransport(client, wait)


async def configured_transports(app: Application) -> list[Transport]:
    transports: list[Transport] = []
    if app.settings.matrix is not None:
        transports.append(await matrix_transport(app))
    return transports
