"""A reporter answers a moderator's question on a real Synapse, in encrypted rooms: by an
ordinary reply to the question (outside its thread), by a plain message in a direct chat
with the bot, and with `!answer R7K3 text` in the room. Each answer reaches the card."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator
from dataclasses import dataclass

import pytest
from integration import bot_harness
from integration.bot_harness import (
    BotSetup,
    RunningBot,
    both,
    edit_of,
    from_bot,
    in_thread,
    new_content,
    start_bot,
    wait_until_joined,
)
from integration.matrix_clients import TextEvent, UserClient, UserFactory

from plugins.sightings import Sightings

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")


@dataclass
class Network:
    setup: BotSetup
    bot: RunningBot
    rosa: UserClient  # moderator
    nina: UserClient  # neighbor, the reporter
    hood: str
    mods: str


@dataclass
class Asked:
    """A filed report the moderators asked about: its id, card and question."""

    report_id: str
    root: str  # the reporter's message, the thread's root
    card: TextEvent
    question: TextEvent


@pytest.fixture
async def network(setup: BotSetup, user_factory: UserFactory) -> AsyncIterator[Network]:
    rosa, nina = await asyncio.gather(user_factory("rosa"), user_factory("nina"))
    setup.allowed_users = [rosa.user_id]
    setup.moderators = [rosa.user_id]
    hood = await rosa.create_encrypted_room(invite=[setup.user_id, nina.user_id])
    mods = await rosa.create_encrypted_room(invite=[setup.user_id])
    await nina.join(hood)
    setup.rooms = [
        {"id": hood, "role": "neighborhood", "language": "en"},
        {"id": mods, "role": "moderation", "language": "en"},
    ]
    bot = await start_bot(setup, plugins=[Sightings])
    try:
        for room in (hood, mods):
            await wait_until_joined(bot, room)
        yield Network(setup, bot, rosa, nina, hood, mods)
    finally:
        await bot.stop()


async def report_and_ask(n: Network, text: str) -> Asked:
    root = await n.nina.send_text(n.hood, text)
    ack = await n.nina.wait_for_message(n.hood, both(from_bot(n.setup), in_thread(root)))
    report_id = REPORT_ID.findall(ack.body)[0]
    card = await n.rosa.wait_for_message(
        n.mods,
        lambda e: (
            from_bot(n.setup, f"{report_id} · ")(e) and "m.new_content" not in e.source["content"]
        ),
    )
    await n.rosa.send_text(n.mods, f"!needinfo {report_id} how many agents?")
    question = await n.nina.wait_for_message(
        n.hood, both(from_bot(n.setup, "how many agents?"), in_thread(root))
    )
    assert question.body.startswith(
        f"❓ A moderator needs more details about {report_id}. To answer, reply to this "
        f"message, or send !answer {report_id} followed by your answer."
    )
    return Asked(report_id, root, card, question)


async def on_the_card(n: Network, asked: Asked, answer: str) -> None:
    """The card is edited to show the answer, and a reply under it quotes it."""
    await n.rosa.wait_for_message(
        n.mods,
        lambda e: (
            from_bot(n.setup)(e)
            and edit_of(asked.card.event_id)(e)
            and f"💬 reporter answered — the reporter: {answer}" in new_content(e)
            and f"{asked.report_id} · NEW" in new_content(e)
        ),
    )
    quoted = await n.rosa.wait_for_message(
        n.mods, from_bot(n.setup, f"💬 The reporter answered about {asked.report_id}:")
    )
    assert quoted.body.endswith(f"\n{answer}")
    relates = quoted.source["content"]["m.relates_to"]
    assert relates["m.in_reply_to"]["event_id"] == asked.card.event_id


def passed(report_id: str) -> str:
    return (
        f"Thank you, your answer went to the moderators. {report_id} is waiting for "
        "verification again."
    )


async def test_an_ordinary_reply_to_the_question_is_the_answer(network: Network) -> None:
    n = network
    asked = await report_and_ask(n, "!report 18th & Ashland; agents detaining someone")
    # A plain message in the room may be about anything: not taken.
    await n.nina.send_text(n.hood, "is the school meeting still on?")
    reply = await n.nina.send_text(
        n.hood, "3 agents, still there", reply_to=asked.question.event_id
    )
    sent = await n.nina.wait_for_message(n.hood, lambda e: e.event_id == reply)
    relates = sent.source["content"]["m.relates_to"]
    assert "rel_type" not in relates  # an ordinary reply, not one in the thread
    thanks = await n.nina.wait_for_message(n.hood, from_bot(n.setup, passed(asked.report_id)))
    assert thanks.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == reply
    await on_the_card(n, asked, "3 agents, still there")
    quotes = [e for e in n.rosa.messages(n.mods) if "💬 The reporter answered" in e.body]
    assert len(quotes) == 1  # the plain message before it was not an answer


async def test_a_plain_message_in_a_direct_chat_is_the_answer(network: Network) -> None:
    n = network
    asked = await report_and_ask(n, "!report Cermak & Pulaski; a checkpoint")
    dm = await n.nina.create_encrypted_room(invite=[n.setup.user_id], is_direct=True)
    await wait_until_joined(n.bot, dm)
    sent = await n.nina.send_text(dm, "they left towards the north")
    thanks = await n.nina.wait_for_message(dm, from_bot(n.setup, passed(asked.report_id)))
    assert thanks.source["content"]["m.relates_to"]["m.in_reply_to"]["event_id"] == sent
    await on_the_card(n, asked, "they left towards the north")


async def test_the_answer_command_in_the_room(network: Network) -> None:
    n = network
    asked = await report_and_ask(n, "!report 26th & Pulaski; two vans parked")
    command = await n.nina.send_text(n.hood, f"!answer {asked.report_id} agents: 4 | still parked")
    await n.nina.wait_for_message(
        n.hood, both(from_bot(n.setup, passed(asked.report_id)), in_thread(command))
    )
    await on_the_card(n, asked, "agents: 4 | still parked")
    await n.rosa.wait_for_message(
        n.mods,
        lambda e: edit_of(asked.card.event_id)(e) and "Agents: 4" in new_content(e),
    )
