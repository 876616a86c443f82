"""Whether the homeserver answers, and if not, why, in words an operator can act on.

matrix-nio retries a server it cannot reach without saying which URL or why ("Timed out,
sleeping for 2s"), and a login against something that is not a homeserver fails as a
rejected login. So before logging in the bot asks `/_matrix/client/versions` itself:
refused, name not found, TLS, no answer, or not a Matrix server is said at once.
"""

from __future__ import annotations

import asyncio
import logging
import ssl
from collections.abc import Awaitable, Callable
from urllib.parse import urlsplit

import aiohttp

from bot.core.backoff import Backoff

log = logging.getLogger(__name__)

VERSIONS = "/_matrix/client/versions"
PROBE_SECONDS = 10.0
MAX_RETRY_SECONDS = 60.0


class Unreachable(Exception):
    """The homeserver does not answer; the message names the URL and the cause."""


async def probe(url: str, seconds: float = PROBE_SECONDS) -> str | None:
    """None when `url` answers as a Matrix homeserver, else why not."""
    try:
        async with (
            aiohttp.ClientSession(timeout=aiohttp.ClientTimeout(total=seconds)) as session,
            session.get(url.rstrip("/") + VERSIONS) as response,
        ):
            body = await response.json(content_type=None) if response.status == 200 else None
    except (aiohttp.ClientError, ssl.SSLError, OSError, TimeoutError, ValueError) as error:
        return _cause(url, error, seconds)
    if not isinstance(body, dict) or not isinstance(body.get("versions"), list):
        return f"it does not answer as a Matrix homeserver (HTTP {response.status} for {VERSIONS})"
    return None


def _cause(url: str, error: BaseException, seconds: float) -> str:
    host = urlsplit(url).hostname or url
    if isinstance(error, aiohttp.ClientConnectorDNSError):
        return f"the name {host} was not found"
    if isinstance(error, aiohttp.ClientConnectorCertificateError):
        return f"its TLS certificate was not accepted ({error.certificate_error})"
    if isinstance(error, aiohttp.ClientSSLError | ssl.SSLError):
        return "the TLS handshake failed (is it http://, not https://?)"
    if isinstance(error, aiohttp.ClientConnectorError):
        if isinstance(error.os_error, ConnectionRefusedError):
            return "connection refused (is the homeserver running, and on this port?)"
        return f"cannot connect ({error.os_error.strerror or type(error.os_error).__name__})"
    if isinstance(error, TimeoutError):
        return f"no answer within {seconds:g} s"
    if isinstance(error, ValueError):  # a 200 that is not JSON
        return f"it does not answer as a Matrix homeserver (no JSON at {VERSIONS})"
    return f"the connection failed ({type(error).__name__})"


async def wait_for_homeserver(
    url: str,
    *,
    keep_trying: bool,
    check: Callable[[str], Awaitable[str | None]] = probe,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> None:
    """Return once `url` answers. Unreachable at once unless `keep_trying` (the bot has run
    from this data directory before: the homeserver is probably restarting)."""
    backoff = Backoff(first=2.0, cap=MAX_RETRY_SECONDS)
    while (why := await check(url)) is not None:
        message = f"cannot reach the Matrix homeserver {url}: {why}"
        if not keep_trying:
            raise Unreachable(message)
        delay = backoff.failed()
        log.warning("%s; trying again in %.0f s", message, delay)
        await sleep(delay)
