"""The JSON-RPC layer shared by the HTTP and TCP clients of signal-cli's daemon.

Requests carry the account (a daemon started without `-a` serves several and needs it on
every call). Answers become results or `RpcError`s; `receive` notifications become the
`{"envelope": ..., "account": ...}` payloads both receive modes and the SSE stream carry.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import logging
import re
from collections.abc import AsyncGenerator, Awaitable, Callable
from typing import Any, Protocol

from bot.core.backoff import Backoff

log = logging.getLogger(__name__)

# signal-cli's error codes (man signal-cli-jsonrpc, 0.13.19; -6 since 0.14.3).
PARSE_ERROR = -32700
INVALID_REQUEST = -32600
METHOD_NOT_FOUND = -32601
INVALID_PARAMS = -32602
INTERNAL_ERROR = -32603
USER_ERROR = -1
IO_ERROR = -3
UNTRUSTED_IDENTITY = -4
RATE_LIMITED = -5
CAPTCHA_REJECTED = -6
# A send result's type for a recipient Signal does not know (or no longer knows).
UNREGISTERED = "UNREGISTERED_FAILURE"

_CODE_NAMES = {
    PARSE_ERROR: "parse error",
    INVALID_REQUEST: "invalid request",
    METHOD_NOT_FOUND: "method not implemented",
    INVALID_PARAMS: "invalid params",
    INTERNAL_ERROR: "internal error",
    USER_ERROR: "user error",
    IO_ERROR: "I/O error",
    UNTRUSTED_IDENTITY: "untrusted identity",
    RATE_LIMITED: "rate limited",
    CAPTCHA_REJECTED: "captcha rejected",
}
CAPTCHA_PAGE = "https://signalcaptchas.org/challenge/generate.html"

RATE_LIMIT_ATTEMPTS = 5
RATE_LIMIT_FIRST_WAIT = 1.0
RATE_LIMIT_MAX_WAIT = 60.0

Payload = dict[str, Any]
_PERSONAL = re.compile(r"[0-9a-fA-F]{8}(?:-[0-9a-fA-F]{4}){3}-[0-9a-fA-F]{12}|\+\d{5,}")


class DaemonUnavailable(Exception):
    """signal-cli cannot be reached, or the connection to it ended."""


class RpcError(Exception):
    """signal-cli answered with a JSON-RPC error."""

    def __init__(self, method: str, code: int, message: str, data: Any = None) -> None:
        kind = _CODE_NAMES.get(code, "error")
        # Errors end up in logs: no phone number or uuid of anyone in them.
        message = _PERSONAL.sub("[redacted]", message)
        super().__init__(f"signal-cli {method}: {kind} ({code}): {message}")
        self.method = method
        self.code = code
        self.data = data

    @property
    def retry_after(self) -> float | None:
        """The longest `retryAfterSeconds` a rate-limited send reported, if any."""
        return retry_after(self.results)

    @property
    def challenge(self) -> str | None:
        """The token of a proof-required rate limit: Signal wants a captcha solved for the
        account (or a long wait) before it sends again."""
        tokens = [r["token"] for r in self.results if isinstance(r.get("token"), str)]
        return tokens[0] if tokens else None

    @property
    def results(self) -> list[Payload]:
        """A failed send's per-recipient results (none for other failures)."""
        response = self.data.get("response") if isinstance(self.data, dict) else None
        return send_results(response)


def send_results(result: Any) -> list[Payload]:
    """The per-recipient results of a send (from its answer, or a failed send's data)."""
    results = result.get("results") if isinstance(result, dict) else None
    return [r for r in results if isinstance(r, dict)] if isinstance(results, list) else []


def retry_after(results: list[Payload]) -> float | None:
    """The longest wait the server advised (0.13 gives it only for proof-required limits,
    0.14 for every rate limit), if any."""
    waits = [
        float(value)
        for value in (result.get("retryAfterSeconds") for result in results)
        if isinstance(value, int | float) and not isinstance(value, bool)
    ]
    return max(waits) if waits else None


class Daemon(Protocol):
    """One way of talking to signal-cli (HTTP or TCP)."""

    async def call(self, method: str, params: Payload | None = None) -> Any:
        """The method's result; raises `RpcError` or `DaemonUnavailable`."""

    def events(self) -> AsyncGenerator[Payload, None]:
        """Receive payloads for the account over one connection, in order.

        Ends (or raises `DaemonUnavailable`) when that connection ends. The next payload is
        read only when the caller asks for it: a slow consumer slows the reading down.
        """

    async def close(self) -> None: ...


class Requests:
    """Builds requests for one account and reads the answers."""

    def __init__(self, account: str) -> None:
        self.account = account
        self._ids = itertools.count(1)

    def request(self, method: str, params: Payload | None) -> Payload:
        return {
            "jsonrpc": "2.0",
            "method": method,
            "params": {**(params or {}), "account": self.account},
            "id": next(self._ids),
        }

    @staticmethod
    def result(method: str, answer: Any) -> Any:
        if not isinstance(answer, dict) or answer.get("jsonrpc") != "2.0":
            raise DaemonUnavailable(f"signal-cli {method}: not a JSON-RPC answer")
        error = answer.get("error")
        if isinstance(error, dict):
            code = error.get("code")
            raise RpcError(
                method,
                code if isinstance(code, int) else INTERNAL_ERROR,
                str(error.get("message") or ""),
                error.get("data"),
            )
        if "result" not in answer:
            raise DaemonUnavailable(f"signal-cli {method}: an answer without result or error")
        return answer["result"]

    def receive_payload(self, payload: Any) -> Payload | None:
        """The payload if it is a received envelope for this account, else None."""
        if not isinstance(payload, dict) or not isinstance(payload.get("envelope"), dict):
            return None
        # A daemon serving several accounts sends every account's envelopes.
        return payload if payload.get("account") == self.account else None

    def notification_payload(self, message: Payload) -> Payload | None:
        """The receive payload of a `receive` notification (any receive mode)."""
        if message.get("method") != "receive":
            return None
        params = message.get("params")
        if isinstance(params, dict) and "subscription" in params:
            params = params.get("result")  # --receive-mode manual, after subscribeReceive
        return self.receive_payload(params)


def decode_json(data: bytes | str) -> Any:
    try:
        return json.loads(data)
    except (ValueError, UnicodeDecodeError):
        log.warning("signal-cli sent something that is not JSON; ignored")
        return None


def encode_json(message: Payload) -> bytes:
    return json.dumps(message, ensure_ascii=False, separators=(",", ":")).encode("utf-8")


async def call_retrying(
    daemon: Daemon,
    method: str,
    params: Payload,
    *,
    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
) -> Any:
    """`daemon.call`, waiting out short rate limits (-5): nobody got a rate-limited message,
    so sending it again cannot post it twice.

    Never sooner than Signal advised: a limit whose advised wait (`RpcError.retry_after`)
    is longer than `RATE_LIMIT_MAX_WAIT` is raised at once, for the caller to retry when
    that time has passed, rather than retried early (capped) and refused again. After the
    last attempt the error is raised too, with whatever advice it carries.
    """
    # The jitter only adds: never sooner than signal-cli asked.
    backoff = Backoff(first=RATE_LIMIT_FIRST_WAIT, cap=RATE_LIMIT_MAX_WAIT, jitter=(1.0, 1.2))
    attempt = 0
    while True:
        attempt += 1
        try:
            return await daemon.call(method, params)
        except RpcError as error:
            if error.code != RATE_LIMITED or attempt == RATE_LIMIT_ATTEMPTS:
                raise
            if attempt == 1 and error.challenge is not None:
                _explain_challenge(error.challenge)
            advised = error.retry_after
            if advised is not None and advised > RATE_LIMIT_MAX_WAIT:
                log.warning(
                    "signal-cli %s rate limited; Signal advises waiting %.0fs: left to the caller",
                    method,
                    advised,
                )
                raise
            wait = backoff.failed(retry_after=advised or None)
            log.warning("signal-cli %s rate limited; retrying in %.1fs", method, wait)
            await sleep(wait)


def _explain_challenge(token: str) -> None:
    log.warning(
        "Signal asks this account to prove it is not a spammer: solve a captcha at "
        "%s, then run signal-cli -a ACCOUNT submitRateLimitChallenge --challenge %s "
        "--captcha TOKEN; until then sends wait as long as Signal advises",
        CAPTCHA_PAGE,
        token,
    )
