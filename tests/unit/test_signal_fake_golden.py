"""The fake daemon's envelope builders against the shapes real signal-cli 0.13.19 printed.

`signal-cli-0.13.19-golden.txt` was written by the real 0.13.19 JSON classes and object
mapper (a copy of shared/signal/'s, kept in the repository). Each of its lines is rebuilt
here from the same values and compared byte for byte, key order included.
"""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from signal_fake import envelopes
from signal_fake.envelopes import Group, Person, Quote
from signal_fake.harness import ALICE, BOT, GROUP_ID

GOLDEN = Path(__file__).parents[1] / "signal_fake" / "signal-cli-0.13.19-golden.txt"
SHARED = Path(__file__).parents[3] / "shared" / "signal" / GOLDEN.name
GROUP = Group(GROUP_ID, "Test Group")
ACCOUNT = str(BOT.number)


def golden() -> dict[str, list[str]]:
    lines: dict[str, list[str]] = {}
    for line in GOLDEN.read_text(encoding="utf-8").splitlines():
        label, _, body = line.partition(": ")
        lines.setdefault(label, []).append(body)
    return lines


def dumps(value: object) -> str:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":"))


def quoted_message() -> dict[str, object]:
    quote = Quote(1699999999000, Person("Vecinos", BOT.uuid, BOT.number), "earlier bot text")
    return envelopes.message(ACCOUNT, ALICE, "!ping", 1700000000123, group=GROUP, quote=quote)


def thumbs_up() -> dict[str, object]:
    return envelopes.reaction(ACCOUNT, ALICE, "👍", BOT, 1699999999000, 1700000000124)


@pytest.mark.skipif(not SHARED.exists(), reason="no shared/ directory beside the checkout")
def test_the_copy_matches_the_shared_golden_file() -> None:
    assert GOLDEN.read_bytes() == SHARED.read_bytes()


def test_sse_data_and_on_start_params_match() -> None:
    assert golden()["SSE data / on-start params"] == [dumps(quoted_message()), dumps(thumbs_up())]


def test_notifications_match() -> None:
    expected = [
        dumps({"jsonrpc": "2.0", "method": "receive", "params": payload})
        for payload in (quoted_message(), thumbs_up())
    ]
    assert golden()["JSON-RPC notification"] == expected


def test_send_results_match() -> None:
    lines = golden()
    assert lines["1:1 send result"] == [dumps(envelopes.send_result(1700000000999, [ALICE], None))]
    assert lines["group send result"] == [
        dumps(envelopes.send_result(1700000000999, [ALICE], GROUP))
    ]
