"""Build the transports the config asks for."""

from __future__ import annotations

from datetime import timedelta

from bot.core.transport import Transport
from bot.runtime.app import Application, SecretSessions
from bot.transports.matrix.cross_signing import ensure_cross_signing
from bot.transports.matrix.reach import wait_for_homeserver
from bot.transports.matrix.session import open_client
from bot.transports.matrix.transport import MatrixTransport
from bot.transports.matrix.trust import DeviceTrust
from bot.transports.signal.build import signal_transport

MATRIX_STORE_DIR = "matrix-store"
# The secrets-table name of the bot's stored Matrix login.
MATRIX_SESSION = "matrix.session"
# The bot's cross-signing private keys, encrypted with the data key like the login.
CROSS_SIGNING_SECRET = "matrix.cross_signing"


async def matrix_transport(app: Application) -> MatrixTransport:
    settings = app.settings
    matrix = settings.matrix
    assert matrix is not None
    sessions = SecretSessions(app.state, MATRIX_SESSION)
    # Never reached from here before: most likely a wrong URL, said at once. Reached before:
    # most likely a homeserver restarting, waited for.
    await wait_for_homeserver(
        str(matrix.homeserver).rstrip("/"), keep_trying=await sessions.load() is not None
    )
    client = await open_client(
        matrix,
        settings.bot.data_dir / MATRIX_STORE_DIR,
        sessions,
        # nio pickles olm/megolm secrets with this; derived so the data key protects them too.
        pickle_key=app.bot.cipher.keyed_hash("crypto store", "nio pickle key"),
    )
    try:
        if client.should_upload_keys:
            # The device keys must be on the server before they can be cross-signed.
            await client.keys_upload()
        vault = SecretSessions(app.state, CROSS_SIGNING_SECRET)
        keys = await ensure_cross_signing(client, vault, matrix.password_value())
    except BaseException:
        await client.close()
        raise
    wait = timedelta(seconds=settings.bot.undecryptable_wait_seconds)
    transport = MatrixTransport(client, wait, DeviceTrust(client, matrix.trust_policy))
    transport.identity_key = keys.public("master")
    return transport


async def configured_transports(app: Application) -> list[Transport]:
    transports: list[Transport] = []
    if app.settings.matrix is not None:
        transports.append(await matrix_transport(app))
    if app.settings.signal is not None:
        transports.append(signal_transport(app.settings.signal, app.bot.db, app.bot.cipher))
    return transports
