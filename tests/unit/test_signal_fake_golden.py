"""The fake daemon's envelope builders and group answers against what real signal-cli
0.13.19 printed.

`signal-cli-0.13.19-golden.txt` begins with the lines of shared/signal/'s copy, written by
the real 0.13.19 JSON classes and object mapper; each is rebuilt here from the same values
and compared byte for byte, key order included.

Its `group request` / `group answer` pairs were printed by real signal-cli 0.13.19's
JSON-RPC code, run from its jars (the dispatcher, command handler, UpdateGroupCommand,
QuitGroupCommand, ListGroupsCommand and object mapper), with only the Manager (the
account's storage and Signal's servers, which need a registered account) replaced by a
stub. So the answers' shapes, key order, error codes and texts are real; which error a
request meets (group not found, not a member, last admin, unregistered user) and who joins
a group at once are the stub's decisions, modelled on signal-cli's GroupHelper. Two answers
owe nothing to the stub: an invalid group id and an invalid phone number. Here the fake
gets the same requests and must give the same answers, but for the order of Java sets
(members, admins, send results) and of quitGroup's `Map.of`, which signal-cli does not fix.

Its `send request` / `send answer` pairs were printed the same way by SendCommand,
SendMessageResultUtils and JsonSendMessageResult (tests/signal_fake/SendProbes.java is
the stub; it ran on the jars of the npm package with Java 25): several recipients in one
`send`, the plural and singular parameter names, edits, quotes, and what a send that
reached some, or nobody, answers. Real: the answers' shapes and key order, the error codes
and texts, and the verdict (success while anyone got it; -5 only if every failure is a
rate limit, with the results in the error's data; a proof-required limit's `token` and
`retryAfterSeconds`; recipients parsed, and the message checked, before anything is sent).
The stub's decisions: who is registered, and that Signal's server rate-limits Ruth and
asks a proof of Paz (the fake is told so with `fail_sends_to`). `send`'s `Map.of` puts
`timestamp` or `results` first, depending on the JVM run.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from signal_fake import envelopes
from signal_fake.envelopes import Group, Person, Quote
from signal_fake.harness import ALICE, BOT, GROUP_ID, new_daemon

GOLDEN = Path(__file__).parents[1] / "signal_fake" / "signal-cli-0.13.19-golden.txt"
SHARED = Path(__file__).parents[3] / "shared" / "signal" / GOLDEN.name
GROUP = Group(GROUP_ID, "Test Group")
ACCOUNT = str(BOT.number)
# The group ids and timestamp the stub gave out.
NEW_GROUP_IDS = (
    "WmVsbGUtZ3JvdXAtaWQtZm9yLXRlc3RzLTMyYnl0ZXM=",
    "U2Vjb25kLWdyb3VwLWlkLWZvci10ZXN0cy0zMmJ5dGU=",
)
GROUP_TIMESTAMP = 1700000000999
# The stub's people whose sends Signal's server refuses: rate-limited, and proof required.
RUTH = Person("Ruth", "6e5d4c3b-5555-4a2b-8c1d-0a0b0c0d0e0f", "+15550005555")
PAZ = Person("Paz", "4c3b2a19-8888-4e7f-9a0b-abcabcabcabc", "+15550008888")


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
def test_the_copy_begins_with_the_shared_golden_file() -> None:
    assert GOLDEN.read_bytes().startswith(SHARED.read_bytes())


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


def comparable(request: str, answer: Any) -> Any:
    """What signal-cli fixes of an answer: lists (Java sets) sorted, and the keys of
    quitGroup's and send's `Map.of` (in a result, or in an error's data) sorted too."""
    if json.loads(request)["method"] in ("quitGroup", "send"):
        if isinstance(answer.get("result"), dict):
            answer = {**answer, "result": dict(sorted(answer["result"].items()))}
        data = answer.get("error", {}).get("data")
        if isinstance(data, dict):
            response = dict(sorted(data["response"].items()))
            answer = {**answer, "error": {**answer["error"], "data": {"response": response}}}
    return _canonical(answer)


def _canonical(value: Any) -> Any:
    if isinstance(value, dict):
        return [(key, _canonical(item)) for key, item in value.items()]  # key order kept
    if isinstance(value, list):
        return sorted((_canonical(item) for item in value), key=repr)
    return value


async def test_group_answers_match() -> None:
    fake = new_daemon()
    fake.now = lambda: GROUP_TIMESTAMP  # type: ignore[method-assign]
    group_ids = iter(NEW_GROUP_IDS)
    fake.new_group_id = lambda: next(group_ids)  # type: ignore[method-assign]
    lines = golden()
    exchanges = list(zip(lines["group request"], lines["group answer"], strict=True))
    assert len(exchanges) == 16
    for request, answer in exchanges:
        expected = comparable(request, json.loads(answer))
        assert comparable(request, await fake.handle_text(request)) == expected, request


def test_group_builders_match_byte_for_byte() -> None:
    """Where signal-cli's order is fixed, the builders give it exactly."""
    answers = [json.loads(line).get("result") for line in golden()["group answer"]]
    created = envelopes.group_change_result(GROUP_TIMESTAMP, [ALICE], group_id=NEW_GROUP_IDS[0])
    assert dumps(created) == dumps(answers[0])
    listed = Group(NEW_GROUP_IDS[0], "Zone", members=[ALICE, BOT], admins=[BOT]).listed()
    assert dumps([listed]) == dumps(answers[1])


async def test_send_answers_match() -> None:
    fake = new_daemon()
    fake.now = lambda: GROUP_TIMESTAMP  # type: ignore[method-assign]
    fake.add_person(RUTH)
    fake.add_person(PAZ)
    fake.fail_sends_to(RUTH, times=3)
    fake.fail_sends_to(PAZ, token="7b1c3e5f-challenge", retry_after=86400)
    lines = golden()
    exchanges = list(zip(lines["send request"], lines["send answer"], strict=True))
    assert len(exchanges) == 21
    for request, answer in exchanges:
        expected = comparable(request, json.loads(answer))
        assert comparable(request, await fake.handle_text(request)) == expected, request
    # The fake records the sends that reached someone, and whom they reached.
    succeeded = [json.loads(answer) for _, answer in exchanges if '"result"' in answer]
    assert [sent.timestamp for sent in fake.sent] == [GROUP_TIMESTAMP] * len(succeeded)
    [half] = [s for s in fake.sent if s.params.get("recipient") == [ALICE.uuid, RUTH.uuid]]
    assert half.reached == (ALICE.uuid,)


def test_a_send_result_builds_byte_for_byte() -> None:
    """Where this run of the JVM put `timestamp` first, the builder gives it exactly."""
    answers = dict(zip(golden()["send request"], golden()["send answer"], strict=True))
    [one_to_one] = [a for r, a in answers.items() if json.loads(r)["id"] == 22]
    result = json.loads(one_to_one)["result"]
    assert dumps(envelopes.send_result(GROUP_TIMESTAMP, [ALICE], None)) == dumps(result)
