"""Requests with the answers real signal-cli 0.13.19 gives them without any account.

Recorded from the real daemon; test_signal_cli_contract.py checks them against real
signal-cli every run, and test_signal_fake_probes.py checks the fake gives the same answers.
`ANY` stands for an error message that quotes a Java parser's internals.

Without an account, `updateGroup` and `quitGroup` show only that they exist, that the
account is checked before any of their parameters, and that there is no `createGroup` or
`leaveGroup`; what they answer for an account is in the golden file.

So do `send`'s probes: with several recipients, with parameters signal-cli would refuse
(an invalid number, an empty message, a quote without author) or of the wrong JSON type,
the answer is about the account, which is checked first. The request-level checks
(jsonrpc version, method, params' and id's types, a `null` id) answer without any account.
What `send` answers for an account (results per recipient, partial and total failures) is
in the golden file, printed by signal-cli's own code with a stubbed account layer.
"""

from __future__ import annotations

import asyncio
import json
from dataclasses import dataclass
from typing import Any

import aiohttp

ANY = object()
UNKNOWN_ACCOUNT = "+15559999999"


@dataclass(frozen=True)
class Probe:
    name: str
    body: str
    status: int = 200
    answer: Any = None  # the JSON answer; None: an empty body
    method: str = "POST"
    content_type: str = "application/json"


def _error(code: int, message: object, request_id: object) -> dict[str, Any]:
    return {
        "jsonrpc": "2.0",
        "error": {"code": code, "message": message, "data": None},
        "id": request_id,
    }


def _request(method: str, request_id: object = None, **params: Any) -> str:
    request: dict[str, Any] = {"jsonrpc": "2.0", "method": method}
    if params:
        request["params"] = params
    if request_id is not None:
        request["id"] = request_id
    return json.dumps(request)


VERSION = {"jsonrpc": "2.0", "result": {"version": "0.13.19"}, "id": 1}
SEND = {"groupId": "abc=", "message": "hi"}
NEW_GROUP = {"name": "Zone", "members": ["8f1e4c2a-1111-4b7e-9d7a-0123456789ab"]}
NO_SUCH_ACCOUNT = "Specified account does not exist"
ACCOUNT_REQUIRED = "Method requires valid account parameter"
ALICE_UUID = "8f1e4c2a-1111-4b7e-9d7a-0123456789ab"
TO_SEVERAL = {"recipient": [ALICE_UUID, "+15550002222", "+15550003333"], "message": "Alert"}
# Each of these would be refused for an account; the account is checked first.
REFUSABLE = {"recipient": "not-a-number", "message": "", "quoteTimestamp": 1700000000500}

HTTP_PROBES = (
    Probe("version", _request("version", 1), answer=VERSION),
    Probe(
        "charset content type",
        _request("version", 1),
        answer=VERSION,
        content_type="application/json; charset=utf-8",
    ),
    Probe(
        "unknown account",
        _request("send", 3, account=UNKNOWN_ACCOUNT, **SEND),
        answer=_error(-32602, "Specified account does not exist", 3),
    ),
    Probe(
        "version for an unknown account",
        _request("version", 4, account=UNKNOWN_ACCOUNT),
        answer=_error(-32602, "Specified account does not exist", 4),
    ),
    Probe(
        "no account",
        _request("send", 5, **SEND),
        answer=_error(-32602, "Method requires valid account parameter", 5),
    ),
    Probe("malformed JSON", '{"jsonrpc":', answer=_error(-32700, ANY, None)),
    Probe(
        "unknown method",
        _request("frobnicate", "x"),
        answer=_error(-32601, "Method not implemented", "x"),
    ),
    Probe(
        "unknown field",
        '{"jsonrpc":"2.0","method":"version","id":1,"foo":1}',
        answer=_error(-32600, ANY, 1),
    ),
    Probe("empty batch", "[]", answer=_error(-32600, "invalid request", None)),
    Probe(
        "batch",
        f"[{_request('version', 1)},{_request('version', 2)}]",
        answer=[VERSION, {**VERSION, "id": 2}],
    ),
    Probe("no id", _request("version"), status=201),
    Probe(
        "updateGroup for an unknown account",
        _request("updateGroup", 10, account=UNKNOWN_ACCOUNT, **NEW_GROUP),
        answer=_error(-32602, NO_SUCH_ACCOUNT, 10),
    ),
    Probe(
        "updateGroup without an account",
        _request("updateGroup", 11, **NEW_GROUP),
        answer=_error(-32602, ACCOUNT_REQUIRED, 11),
    ),
    Probe(
        "updateGroup checks the account before the group id",
        _request("updateGroup", 12, account=UNKNOWN_ACCOUNT, groupId="abc=", members=["x"]),
        answer=_error(-32602, NO_SUCH_ACCOUNT, 12),
    ),
    Probe(
        "quitGroup for an unknown account",
        _request("quitGroup", 13, account=UNKNOWN_ACCOUNT, groupId="abc="),
        answer=_error(-32602, NO_SUCH_ACCOUNT, 13),
    ),
    Probe(
        "quitGroup without an account",
        _request("quitGroup", 14, groupId="abc="),
        answer=_error(-32602, ACCOUNT_REQUIRED, 14),
    ),
    Probe(
        "no createGroup method",
        _request("createGroup", 15, account=UNKNOWN_ACCOUNT, name="Zone"),
        answer=_error(-32601, "Method not implemented", 15),
    ),
    Probe(
        "no leaveGroup method",
        _request("leaveGroup", 16, account=UNKNOWN_ACCOUNT, groupId="abc="),
        answer=_error(-32601, "Method not implemented", 16),
    ),
    Probe(
        "send to several recipients for an unknown account",
        _request("send", 20, account=UNKNOWN_ACCOUNT, **TO_SEVERAL),
        answer=_error(-32602, NO_SUCH_ACCOUNT, 20),
    ),
    Probe(
        "send to several recipients without an account",
        _request("send", 21, **TO_SEVERAL),
        answer=_error(-32602, ACCOUNT_REQUIRED, 21),
    ),
    Probe(
        "send with a null account",
        json.dumps(
            {
                "jsonrpc": "2.0",
                "method": "send",
                "params": {"account": None, **TO_SEVERAL},
                "id": 22,
            }
        ),
        answer=_error(-32602, ACCOUNT_REQUIRED, 22),
    ),
    Probe(
        "send checks the account before its parameters",
        _request("send", 23, account=UNKNOWN_ACCOUNT, **REFUSABLE),
        answer=_error(-32602, NO_SUCH_ACCOUNT, 23),
    ),
    Probe(
        "send with its recipients under the plural name",
        _request("send", 24, account=UNKNOWN_ACCOUNT, recipients=ALICE_UUID, message="Alert"),
        answer=_error(-32602, NO_SUCH_ACCOUNT, 24),
    ),
    Probe(
        "send with params as an array has no account",
        '{"jsonrpc":"2.0","method":"send","params":["+15559999999"],"id":25}',
        answer=_error(-32602, ACCOUNT_REQUIRED, 25),
    ),
    Probe(
        "version with params as an array",
        '{"jsonrpc":"2.0","method":"version","params":[],"id":26}',
        answer=_error(-32600, ANY, 26),
    ),
    Probe(
        "send with params as a string",
        '{"jsonrpc":"2.0","method":"send","params":"x","id":27}',
        answer=_error(-32600, ANY, 27),
    ),
    Probe(
        "not JSON-RPC 2.0",
        '{"jsonrpc":"1.0","method":"send","params":{"account":"+15559999999"},"id":28}',
        answer=_error(-32600, "only jsonrpc version 2.0 is supported", 28),
    ),
    Probe(
        "an empty object",
        "{}",
        answer=_error(-32600, "only jsonrpc version 2.0 is supported", None),
    ),
    Probe(
        "no method",
        '{"jsonrpc":"2.0","params":{"account":"+15559999999"},"id":29}',
        answer=_error(-32600, "method field must be set", 29),
    ),
    Probe("a string", '"x"', answer=_error(-32600, "unexpected type: STRING", None)),
    Probe("null", "null", answer=_error(-32600, "unexpected type: NULL", None)),
    Probe(
        "an object as id",
        '{"jsonrpc":"2.0","method":"version","id":{"a":1}}',
        answer=_error(-32600, ANY, None),
    ),
    Probe(
        "a null id is answered",
        '{"jsonrpc":"2.0","method":"version","id":null}',
        answer={**VERSION, "id": None},
    ),
    Probe(
        "a null id is answered with its error",
        _request("send", None, account=UNKNOWN_ACCOUNT, **TO_SEVERAL).replace("}}", '},"id":null}'),
        answer=_error(-32602, NO_SUCH_ACCOUNT, None),
    ),
    Probe(
        "a malformed request without id is answered",
        '{"jsonrpc":"2.0","method":"version","extra":1}',
        answer=_error(-32600, ANY, None),
    ),
    Probe(
        "send without id",
        _request("send", None, account=UNKNOWN_ACCOUNT, **TO_SEVERAL),
        status=201,
    ),
    Probe(
        "a batch of sends",
        f"[{_request('send', 30, account=UNKNOWN_ACCOUNT, **TO_SEVERAL)},"
        f"{_request('send', 31, **TO_SEVERAL)},1]",
        answer=[  # sorted by id, as str: None last
            _error(-32602, NO_SUCH_ACCOUNT, 30),
            _error(-32602, ACCOUNT_REQUIRED, 31),
            _error(-32600, ANY, None),
        ],
    ),
    Probe("wrong content type", _request("version", 1), status=415, content_type="text/plain"),
    Probe("GET", "", status=405, method="GET"),
)

# (line sent, answer) on a TCP connection; None: no answer at all.
TCP_PROBES: tuple[tuple[str, Any], ...] = (
    (_request("version", 1), VERSION),
    ("", _error(-32700, "Empty input line", None)),
    ('{"jsonrpc":', _error(-32700, ANY, None)),
    (_request("frobnicate", 7), _error(-32601, "Method not implemented", 7)),
    (
        _request("send", 8, account=UNKNOWN_ACCOUNT, **SEND),
        _error(-32602, "Specified account does not exist", 8),
    ),
    (
        _request("quitGroup", 9, account=UNKNOWN_ACCOUNT, groupId="abc="),
        _error(-32602, NO_SUCH_ACCOUNT, 9),
    ),
    (
        _request("send", 10, account=UNKNOWN_ACCOUNT, **TO_SEVERAL),
        _error(-32602, NO_SUCH_ACCOUNT, 10),
    ),
    ('"x"', _error(-32600, "unexpected type: STRING", None)),
    ('{"jsonrpc":"2.0","method":"version","id":null}', {**VERSION, "id": None}),
    (_request("send", None, account=UNKNOWN_ACCOUNT, **TO_SEVERAL), None),
    (_request("version"), None),
)


def matches(expected: Any, actual: Any) -> bool:
    """Equal, where `ANY` in `expected` matches anything."""
    if expected is ANY:
        return True
    if isinstance(expected, dict):
        return (
            isinstance(actual, dict)
            and expected.keys() == actual.keys()
            and all(matches(value, actual[key]) for key, value in expected.items())
        )
    if isinstance(expected, list):
        return (
            isinstance(actual, list)
            and len(expected) == len(actual)
            and all(matches(e, a) for e, a in zip(expected, actual, strict=True))
        )
    return bool(expected == actual)


async def http_answer(base_url: str, probe: Probe) -> tuple[int, Any]:
    """(status, JSON answer or None for an empty body) of one probe."""
    headers = {"Content-Type": probe.content_type}
    async with (
        aiohttp.ClientSession() as http,
        http.request(
            probe.method, f"{base_url}/api/v1/rpc", data=probe.body.encode(), headers=headers
        ) as response,
    ):
        body = await response.read()
        return response.status, _in_id_order(json.loads(body)) if body else None


def _in_id_order(answer: Any) -> Any:
    """JSON-RPC lets a batch's answers come in any order (signal-cli's do vary)."""
    if isinstance(answer, list):
        return sorted(
            answer, key=lambda item: str(item.get("id")) if isinstance(item, dict) else ""
        )
    return answer


async def tcp_answers(port: int, timeout: float) -> list[tuple[str, Any, Any]]:
    """(line sent, expected answer, answer) for each of TCP_PROBES, on one connection."""
    reader, writer = await asyncio.open_connection("127.0.0.1", port)
    try:
        answers = []
        for line, expected in TCP_PROBES:
            writer.write(line.encode() + b"\n")
            await writer.drain()
            answers.append((line, expected, await next_line(reader, timeout)))
        return answers
    finally:
        writer.close()


async def next_line(reader: asyncio.StreamReader, timeout: float) -> Any:
    """The next line's JSON, or None when none comes within `timeout` seconds."""
    try:
        line = await asyncio.wait_for(reader.readline(), timeout)
    except TimeoutError:
        return None
    return json.loads(line)
