"""The JSON-RPC layer shared by the HTTP and TCP clients, without any daemon.

The error texts and shapes used here are the ones real signal-cli 0.13.19 answers (see
test_signal_cli_contract.py, which checks them against the real daemon).
"""

from __future__ import annotations

import logging
from typing import Any

import pytest

from bot.transports.signal import rpc
from bot.transports.signal.http_client import SseParser
from bot.transports.signal.rpc import DaemonUnavailable, Requests, RpcError, call_retrying

ACCOUNT = "+15550001111"
ENVELOPE = {"sourceUuid": "8f1e4c2a-1111-4b7e-9d7a-0123456789ab", "timestamp": 1}


def test_requests_carry_the_account_and_fresh_ids() -> None:
    requests = Requests(ACCOUNT)
    first = requests.request("send", {"groupId": "g", "message": "hi"})
    second = requests.request("version", None)
    assert first == {
        "jsonrpc": "2.0",
        "method": "send",
        "params": {"groupId": "g", "message": "hi", "account": ACCOUNT},
        "id": 1,
    }
    assert second["params"] == {"account": ACCOUNT}
    assert second["id"] == 2


def test_a_result_is_returned() -> None:
    answer = {"jsonrpc": "2.0", "result": {"version": "0.13.19"}, "id": 1}
    assert Requests.result("version", answer) == {"version": "0.13.19"}


def test_an_error_becomes_an_rpc_error_naming_method_code_and_message() -> None:
    error = {"code": -32602, "message": "Specified account does not exist", "data": None}
    with pytest.raises(RpcError) as caught:
        Requests.result("send", {"jsonrpc": "2.0", "error": error, "id": 3})
    assert caught.value.code == -32602
    assert str(caught.value) == (
        "signal-cli send: invalid params (-32602): Specified account does not exist"
    )


def test_error_texts_never_carry_a_number_or_uuid() -> None:
    message = "Untrusted identity for +15550002222 / 8f1e4c2a-1111-4b7e-9d7a-0123456789ab"
    error = RpcError("send", rpc.UNTRUSTED_IDENTITY, message)
    assert "+1555" not in str(error)
    assert "8f1e4c2a" not in str(error)
    assert "untrusted identity (-4)" in str(error)


@pytest.mark.parametrize(
    "answer",
    [None, [], {"result": 1}, {"jsonrpc": "2.0", "id": 1}],
    ids=["null", "list", "no-version", "no-result"],
)
def test_a_broken_answer_is_an_unavailable_daemon(answer: Any) -> None:
    with pytest.raises(DaemonUnavailable):
        Requests.result("version", answer)


def test_retry_after_is_read_from_rate_limited_results() -> None:
    data = {
        "response": {
            "timestamp": 5,
            "results": [
                {"type": "RATE_LIMIT_FAILURE", "retryAfterSeconds": 3},
                {"type": "RATE_LIMIT_FAILURE", "retryAfterSeconds": 7},
                {"type": "RATE_LIMIT_FAILURE"},
            ],
        }
    }
    assert RpcError("send", rpc.RATE_LIMITED, "limited", data).retry_after == 7.0
    assert RpcError("send", rpc.RATE_LIMITED, "limited", None).retry_after is None


def test_on_start_and_manual_notifications_give_the_same_payload() -> None:
    requests = Requests(ACCOUNT)
    payload = {"envelope": ENVELOPE, "account": ACCOUNT}
    on_start = {"jsonrpc": "2.0", "method": "receive", "params": payload}
    manual = {
        "jsonrpc": "2.0",
        "method": "receive",
        "params": {"subscription": 0, "result": payload},
    }
    assert requests.notification_payload(on_start) == payload
    assert requests.notification_payload(manual) == payload


def test_other_accounts_and_other_notifications_are_dropped() -> None:
    requests = Requests(ACCOUNT)
    other = {"envelope": ENVELOPE, "account": "+15559990000"}
    assert requests.receive_payload(other) is None
    assert requests.receive_payload({"account": ACCOUNT}) is None
    assert requests.notification_payload({"method": "other", "params": {}}) is None


def test_sse_parser_reads_signal_cli_framing() -> None:
    parser = SseParser()
    lines = [":", "event:receive", 'data:{"a":1}', "", ":", ""]
    events = [parser.feed(line) for line in lines]
    assert [event for event in events if event is not None] == [("receive", '{"a":1}')]


def test_sse_parser_joins_data_lines_and_defaults_the_event_type() -> None:
    parser = SseParser()
    for line in ["data: one", "data:two"]:
        assert parser.feed(line) is None
    assert parser.feed("") == ("message", "one\ntwo")
    assert parser.feed("") is None  # no data, no event


class ScriptedDaemon:
    """Answers each call with the next scripted outcome."""

    def __init__(self, *outcomes: Any) -> None:
        self.outcomes = list(outcomes)
        self.calls = 0

    async def call(self, method: str, params: dict[str, Any] | None = None) -> Any:
        self.calls += 1
        outcome = self.outcomes.pop(0)
        if isinstance(outcome, Exception):
            raise outcome
        return outcome


def rate_limited(retry_after: int | None = None) -> RpcError:
    results = [{"type": "RATE_LIMIT_FAILURE", "retryAfterSeconds": retry_after}]
    data = {"response": {"timestamp": 1, "results": results}}
    return RpcError("send", rpc.RATE_LIMITED, "Failed to send message due to rate limiting", data)


async def test_rate_limits_are_waited_out_with_backoff() -> None:
    waits: list[float] = []

    async def sleep(seconds: float) -> None:
        waits.append(seconds)

    daemon = ScriptedDaemon(rate_limited(), rate_limited(), rate_limited(10), {"timestamp": 9})
    result = await call_retrying(daemon, "send", {}, sleep=sleep)  # type: ignore[arg-type]
    assert result == {"timestamp": 9}
    assert daemon.calls == 4
    # Doubling with up to 20% jitter, then the daemon's own retryAfterSeconds.
    assert waits == [
        pytest.approx(1.1, abs=0.1),
        pytest.approx(2.2, abs=0.2),
        pytest.approx(11, abs=1),
    ]


async def test_rate_limits_give_up_after_the_last_attempt() -> None:
    async def sleep(seconds: float) -> None:
        return None

    daemon = ScriptedDaemon(*[rate_limited() for _ in range(rpc.RATE_LIMIT_ATTEMPTS)])
    with pytest.raises(RpcError) as caught:
        await call_retrying(daemon, "send", {}, sleep=sleep)  # type: ignore[arg-type]
    assert caught.value.code == rpc.RATE_LIMITED
    assert daemon.calls == rpc.RATE_LIMIT_ATTEMPTS


async def test_other_errors_are_not_retried() -> None:
    daemon = ScriptedDaemon(RpcError("send", rpc.USER_ERROR, "Failed to send message"))
    with pytest.raises(RpcError) as caught:
        await call_retrying(daemon, "send", {})  # type: ignore[arg-type]
    assert caught.value.code == rpc.USER_ERROR
    assert daemon.calls == 1


def test_signal_cli_0_14_shapes_are_understood() -> None:
    """0.14 adds error -6 (a rejected captcha), gives retryAfterSeconds for every rate limit,
    and marks a proof-required limit with the challenge `token`."""
    assert "captcha rejected (-6)" in str(RpcError("submitRateLimitChallenge", -6, "Captcha"))
    results = [
        {"type": "RATE_LIMIT_FAILURE", "token": "c0ffee", "retryAfterSeconds": 86400},
        {"type": "RATE_LIMIT_FAILURE", "retryAfterSeconds": 2.5},
    ]
    error = RpcError("send", rpc.RATE_LIMITED, "limited", {"response": {"results": results}})
    assert (error.retry_after, error.challenge) == (86400.0, "c0ffee")
    assert rate_limited(3).challenge is None  # a plain limit: just wait


async def test_a_captcha_challenge_is_explained_once_to_the_operator(
    caplog: pytest.LogCaptureFixture,
) -> None:
    results = [{"type": "RATE_LIMIT_FAILURE", "token": "c0ffee", "retryAfterSeconds": 5}]
    data = {"response": {"timestamp": 1, "results": results}}
    proof = RpcError("send", rpc.RATE_LIMITED, "Failed to send message due to rate limiting", data)

    async def sleep(seconds: float) -> None:
        return None

    daemon = ScriptedDaemon(proof, proof, {"timestamp": 9})
    with caplog.at_level(logging.WARNING):
        assert await call_retrying(daemon, "send", {}, sleep=sleep) == {"timestamp": 9}  # type: ignore[arg-type]
    told = [r.getMessage() for r in caplog.records if "captcha" in r.getMessage()]
    assert len(told) == 1
    assert rpc.CAPTCHA_PAGE in told[0] and "--challenge c0ffee" in told[0]
