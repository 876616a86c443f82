"""Signal's advised wait after a rate limit: never retried sooner, and handed to the caller.

The error shapes are real signal-cli's: a proof-required limit as 0.13.19 prints it (the
golden file's `send` lines: a challenge `token` and `retryAfterSeconds` in the results of
the error's data), and a plain one with `retryAfterSeconds` as 0.14 gives it.
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.transports.signal import rpc
from bot.transports.signal.rpc import RpcError, call_retrying
from bot.transports.signal.transport import SendError

MESSAGE = "Failed to send message due to rate limiting"


def limited(retry_after: float | None, token: str | None = None) -> RpcError:
    result: dict[str, Any] = {
        "recipientAddress": {"uuid": "6e5d4c3b-5555-4a2b-8c1d-0a0b0c0d0e0f"},
        "type": "RATE_LIMIT_FAILURE",
    }
    if token is not None:
        result["token"] = token
    if retry_after is not None:
        result["retryAfterSeconds"] = retry_after
    data = {"response": {"timestamp": 1700000000999, "results": [result]}}
    return RpcError("send", rpc.RATE_LIMITED, MESSAGE, data)


class Scripted:
    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


async def test_a_wait_longer_than_the_transport_may_wait_is_raised_at_once(
    caplog: pytest.LogCaptureFixture,
) -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    proof = limited(86400, token="7b1c3e5f-challenge")
    daemon = Scripted(proof, {"timestamp": 9})
    with caplog.at_level(logging.WARNING), pytest.raises(RpcError) as caught:
        await call_retrying(daemon, "send", {}, sleep=sleep)  # type: ignore[arg-type]
    assert (daemon.calls, waits) == (1, [])
    assert caught.value.retry_after == 86400.0
    told = [r.getMessage() for r in caplog.records]
    assert sum("--challenge 7b1c3e5f-challenge" in m for m in told) == 1
    assert any("advises waiting 86400s" in m for m in told)


async def test_an_advised_wait_within_the_cap_is_waited_in_full() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    daemon = Scripted(limited(rpc.RATE_LIMIT_MAX_WAIT), {"timestamp": 9})
    assert await call_retrying(daemon, "send", {}, sleep=sleep) == {"timestamp": 9}  # type: ignore[arg-type]
    assert len(waits) == 1 and waits[0] >= rpc.RATE_LIMIT_MAX_WAIT


def test_a_send_error_carries_the_advised_wait() -> None:
    error = SendError(limited(3600))
    assert error.rate_limited and error.code == -5
    assert error.retry_after == 3600.0
    plain = SendError(limited(None))  # 0.13.19's plain rate limit: no advice
    assert plain.rate_limited and plain.retry_after is None
    other = SendError(RpcError("send", rpc.USER_ERROR, "Failed to send message"))
    assert not other.rate_limited and other.retry_after is None
