"""Soak: a burst of reports while the homeserver restarts once.

100 reports from 10 people across 5 encrypted rooms over about 30 s, sent to a real
`vecinos run` process; a third of the way in, Synapse is stopped and started again (same
port and database). Nothing may be lost or doubled: every report event gets exactly one
acknowledgement with its own report id, the moderation room gets exactly one card per
report, and the bot, never restarted, still answers afterwards.

The homeserver is this test's own (not the session's shared one), so restarting it
disturbs no other test.
"""

from __future__ import annotations

import asyncio
import random
import re
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import pytest
from integration.bot_harness import BotSetup, new_bot_setup, spawn_bot, wait_until_member
from integration.matrix_clients import TextEvent, UserClient, make_user_client

from bot.devtools.local_synapse import LocalSynapse

pytestmark = [pytest.mark.integration, pytest.mark.timeout(240)]

PEOPLE = 10
ROOMS = 5  # person i is in room i % ROOMS
PER_PERSON = 10
BURST_SECONDS = 30.0
RESTART_AT = 10.0  # seconds into the burst
SEND_DEADLINE = 90.0  # a person keeps trying to send one report this long
ACK_TIMEOUT = 90.0
SETTLE_SECONDS = 3.0
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
PLACES = ("18th & Ashland", "Cermak & Blue Island", "21st & Damen", "Loomis & 19th")


@pytest.fixture
def own_synapse(tmp_path: Path) -> Iterator[LocalSynapse]:
    server = LocalSynapse(tmp_path / "synapse")
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def test_report_burst_survives_a_homeserver_restart(
    own_synapse: LocalSynapse, tmp_path: Path
) -> None:
    setup = new_bot_setup(own_synapse, tmp_path / "bot", "vecinos")
    people = [await make_user_client(own_synapse, tmp_path, f"p{i}") for i in range(PEOPLE)]
    moderator = await make_user_client(own_synapse, tmp_path, "mod")
    clients = [*people, moderator]
    try:
        rooms, mods_room = await _rooms(setup, people, moderator)
        # The report limit is 5 per person per 10 minutes by default; the burst files 10.
        bot = spawn_bot(setup, env={"VECINOS_REPORTS__PER_PERSON_LIMIT": str(PER_PERSON)})
        try:
            await _bot_joined(own_synapse, setup, [*people[:ROOMS], moderator], [*rooms, mods_room])
            sent = await _burst(own_synapse, people, rooms)
            await _wait_for_acks(setup, people, rooms, sent, moderator, mods_room)
            await asyncio.sleep(SETTLE_SECONDS)  # a late duplicate would show up now
            assert bot.poll() is None, "the bot process died"
            await _still_answers(setup, people[0], rooms[0])
        finally:
            bot.terminate()
            bot.wait(timeout=30)
    finally:
        await asyncio.gather(*(client.close() for client in clients))

    acks = _acks(setup, people, rooms, sent)
    assert sum(len(ids) for ids in sent.values()) == PEOPLE * PER_PERSON
    lost = [event for ids in sent.values() for event in ids if not acks[event]]
    twice = {event: ids for event, ids in acks.items() if len(ids) > 1}
    assert not lost, f"{len(lost)} reports were never acknowledged"
    assert not twice, f"{len(twice)} reports were acknowledged more than once"
    report_ids = Counter(report_id for ids in acks.values() for report_id in ids)
    assert len(report_ids) == PEOPLE * PER_PERSON and set(report_ids.values()) == {1}
    cards = _cards(setup, moderator, mods_room)
    assert set(cards) == set(report_ids), "every report has a card, and only reports do"
    assert set(cards.values()) == {1}, "no report has two cards"


# --- set-up ---------------------------------------------------------------------------------


async def _rooms(
    setup: BotSetup, people: list[UserClient], moderator: UserClient
) -> tuple[list[str], str]:
    """ROOMS neighborhood rooms and a moderation room, all with the bot invited."""
    rooms = []
    for n in range(ROOMS):
        creator, *others = people[n::ROOMS]
        invite = [other.user_id for other in others] + [setup.user_id]
        room_id = await creator.create_encrypted_room(invite=invite)
        for other in others:
            await other.join(room_id)
        rooms.append(room_id)
    mods_room = await moderator.create_encrypted_room(invite=[setup.user_id])
    setup.allowed_users = [*(person.user_id for person in people[:ROOMS]), moderator.user_id]
    setup.moderators = [moderator.user_id]
    setup.rooms = [{"id": room_id, "role": "neighborhood"} for room_id in rooms]
    setup.rooms.append({"id": mods_room, "role": "moderation"})
    return rooms, mods_room


async def _bot_joined(
    synapse: LocalSynapse, setup: BotSetup, creators: list[UserClient], rooms: list[str]
) -> None:
    """Until the bot has joined every room (each asked of the member who made it)."""
    for creator, room_id in zip(creators, rooms, strict=True):
        await wait_until_member(synapse, creator.access_token, room_id, setup.user_id)


# --- the burst ------------------------------------------------------------------------------


async def _burst(
    synapse: LocalSynapse, people: list[UserClient], rooms: list[str]
) -> dict[int, list[str]]:
    """Every person's reports at random moments of the burst; the restart meanwhile."""
    rng = random.Random(8)
    began = time.monotonic()
    sent: dict[int, list[str]] = {person: [] for person in range(PEOPLE)}
    sent_at: list[float] = []
    outage: list[float] = []

    async def person(n: int) -> None:
        slice_ = BURST_SECONDS / PER_PERSON
        for k in range(PER_PERSON):
            await asyncio.sleep(max(0.0, began + (k + rng.random()) * slice_ - time.monotonic()))
            body = f"!report {PLACES[(n + k) % len(PLACES)]}; agents, report {k} of p{n}"
            sent[n].append(await _send(people[n], rooms[n % ROOMS], body))
            sent_at.append(time.monotonic())

    async def restart() -> None:
        await asyncio.sleep(RESTART_AT)
        outage.append(time.monotonic())
        await asyncio.to_thread(synapse.restart)
        outage.append(time.monotonic())

    await asyncio.gather(restart(), *(person(n) for n in range(PEOPLE)))
    # The test's own premise: the server went away in the middle of the burst.
    assert min(sent_at) < outage[0] and max(sent_at) > outage[1]
    return sent


async def _send(client: UserClient, room_id: str, body: str) -> str:
    """As a person's app would: try again until the server takes it.

    nio itself retries a send that could not connect (with the same transaction id, so it
    is never posted twice); what fails before that (the member list) is tried again here.
    """
    deadline = time.monotonic() + SEND_DEADLINE
    while True:
        try:
            return await client.send_text(room_id, body)
        except Exception:
            if time.monotonic() > deadline:
                raise
            await asyncio.sleep(0.5)


# --- checking -------------------------------------------------------------------------------


def _acks(
    setup: BotSetup, people: list[UserClient], rooms: list[str], sent: dict[int, list[str]]
) -> dict[str, list[str]]:
    """Per report event, the report ids of the bot's acknowledgements in its thread."""
    acks: dict[str, list[str]] = {event: [] for ids in sent.values() for event in ids}
    for n, client in enumerate(people):
        mine = set(sent[n])
        for message in client.messages(rooms[n % ROOMS]):
            found = REPORT_ID.search(message.body)
            if message.sender == setup.user_id and found:
                for event in _related(message) & mine:
                    acks[event].append(found[0])
    return acks


def _cards(setup: BotSetup, moderator: UserClient, mods_room: str) -> Counter[str]:
    cards: Counter[str] = Counter()
    for message in moderator.messages(mods_room):
        content = message.source["content"]
        found = REPORT_ID.search(message.body)
        if message.sender == setup.user_id and found and "m.new_content" not in content:
            cards[found[0]] += 1
    return cards


def _related(message: TextEvent) -> set[str]:
    relates = message.source["content"].get("m.relates_to") or {}
    reply = (relates.get("m.in_reply_to") or {}).get("event_id")
    return {event for event in (relates.get("event_id"), reply) if event}


async def _wait_for_acks(
    setup: BotSetup,
    people: list[UserClient],
    rooms: list[str],
    sent: dict[int, list[str]],
    moderator: UserClient,
    mods_room: str,
) -> None:
    total = PEOPLE * PER_PERSON
    async with asyncio.timeout(ACK_TIMEOUT):
        while True:
            acked = sum(1 for ids in _acks(setup, people, rooms, sent).values() if ids)
            if acked == total and sum(_cards(setup, moderator, mods_room).values()) >= total:
                return
            await asyncio.sleep(0.5)


async def _still_answers(setup: BotSetup, person: UserClient, room_id: str) -> None:
    command = await person.send_text(room_id, "!ping")
    await person.wait_for_message(
        room_id,
        lambda e: e.sender == setup.user_id and command in _related(e),
        timeout=30,
    )
