"""Dispatch end to end on a real Synapse, in end-to-end-encrypted rooms, in English and
Spanish: a report calls the verifiers, their answers edit the moderator card, the
confirmation calls out responders with a live tally, and the all-clear stands them down.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import pytest
from integration import bot_harness
from integration.bot_harness import (
    BotSetup,
    RunningBot,
    edit_of,
    from_bot,
    in_thread,
    new_content,
    start_bot,
    wait_until_joined,
)
from integration.matrix_clients import TextEvent, UserClient, UserFactory

from plugins.dispatch import Dispatch
from plugins.relay import Relay
from plugins.rosters import Rosters
from plugins.sightings import Sightings

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
REPORT = "!report where: 18th & Ashland | what: detaining | agents: 3 | plate: ABC1**"


@dataclass
class Network:
    setup: BotSetup
    bot: RunningBot
    ana: UserClient  # reporter, neighborhood room
    rosa: UserClient  # moderator
    vera: UserClient  # verifier, English dispatch room
    victor: UserClient  # verificador, Spanish dispatch room
    hood: str
    mods: str
    english: str
    spanish: str

    def from_bot(self, text: str = "") -> Callable[[TextEvent], bool]:
        return from_bot(self.setup, text)


@pytest.fixture
async def network(setup: BotSetup, user_factory: UserFactory) -> AsyncIterator[Network]:
    ana, rosa, vera, victor = await asyncio.gather(
        *(user_factory(name) for name in ("ana", "rosa", "vera", "victor"))
    )
    setup.allowed_users = [ana.user_id, rosa.user_id, vera.user_id, victor.user_id]
    setup.moderators = [rosa.user_id]
    hood = await ana.create_encrypted_room(invite=[setup.user_id])
    mods = await rosa.create_encrypted_room(invite=[setup.user_id])
    english = await vera.create_encrypted_room(invite=[setup.user_id])
    spanish = await victor.create_encrypted_room(invite=[setup.user_id])
    setup.rooms = [
        {"id": hood, "role": "neighborhood", "language": "en"},
        {"id": mods, "role": "moderation", "language": "en"},
        {"id": english, "role": "dispatch", "language": "en"},
        {"id": spanish, "role": "dispatch", "language": "es"},
    ]
    bot = await start_bot(setup, plugins=[Sightings, Relay, Rosters, Dispatch])
    try:
        for room in (hood, mods, english, spanish):
            await wait_until_joined(bot, room)
        yield Network(setup, bot, ana, rosa, vera, victor, hood, mods, english, spanish)
    finally:
        await bot.stop()


def replying_to(event_id: str) -> Callable[[TextEvent], bool]:
    def check(event: TextEvent) -> bool:
        relates = event.source["content"].get("m.relates_to") or {}
        return (relates.get("m.in_reply_to") or {}).get("event_id") == event_id

    return check


async def answer(n: Network, user: UserClient, room: str, text: str) -> str:
    """Send a command; the bot's answer to it, which threads on it."""
    event_id = await user.send_text(room, text)
    reply = await user.wait_for_message(
        room, lambda e: n.from_bot()(e) and (in_thread(event_id)(e) or replying_to(event_id)(e))
    )
    return reply.body


async def card_shows(n: Network, card: TextEvent, text: str) -> str:
    edit = await n.rosa.wait_for_message(
        n.mods, lambda e: n.from_bot()(e) and edit_of(card.event_id)(e) and text in new_content(e)
    )
    return new_content(edit)


async def test_report_to_stand_down_in_english_and_spanish(network: Network) -> None:
    n = network
    await n.ana.send_text(n.hood, REPORT)
    call = await n.vera.wait_for_message(n.english, n.from_bot("VERIFIER NEEDED"))
    report_id = REPORT_ID.findall(call.body)[0]
    assert "18th & Ashland" in call.body and "ABC1" not in call.body
    assert n.ana.user_id not in call.body and "ana" not in call.body.lower()
    spanish_call = await n.victor.wait_for_message(n.spanish, n.from_bot("SE NECESITA VERIFICAR"))
    assert report_id in spanish_call.body and "ABC1" not in spanish_call.body
    card = await n.rosa.wait_for_message(n.mods, n.from_bot(f"{report_id} · "))

    going = await answer(n, n.vera, n.english, f"!going {report_id} 10")
    assert going.startswith("🚗 ") and f"is going to {report_id}, arriving about " in going
    assert "Going: " in await card_shows(n, card, "arriving about")

    arrived = await answer(n, n.victor, n.spanish, f"!enelsitio {report_id}")
    assert f"está en el lugar de {report_id}" in arrived
    seen = await answer(n, n.victor, n.spanish, f"!escena {report_id} confirmado tres agentes")
    assert f"en {report_id}: confirmado." in seen and "La moderación decide" in seen
    shown = await card_shows(n, card, "confirmed — tres agentes")
    assert "On scene: " in shown

    await n.rosa.send_text(n.mods, f"!confirm {report_id}")
    callout = await n.vera.wait_for_message(n.english, n.from_bot("RESPONDERS NEEDED"))
    # The verifiers already going or on scene count for the call-out.
    assert "· 2 of 6" in callout.body and "nobody yet" not in callout.body
    await n.victor.wait_for_message(n.spanish, n.from_bot("SE NECESITA RESPUESTA"))
    await n.ana.wait_for_message(n.hood, n.from_bot("CONFIRMED ALERT"))

    await n.vera.send_text(n.english, f"!going {report_id}")
    tally = await n.vera.wait_for_message(
        n.english,
        lambda e: n.from_bot()(e) and edit_of(callout.event_id)(e) and "Going: " in new_content(e),
    )
    assert "· 2 of 6" in new_content(tally)  # Vera again: still counted once

    await n.rosa.send_text(n.mods, f"!clear {report_id}")
    await n.vera.wait_for_message(n.english, n.from_bot(f"Stand down: {report_id} is all clear"))
    await n.victor.wait_for_message(n.spanish, n.from_bot(f"Retirada: {report_id}"))


async def test_a_full_call_out_redirects_and_the_handoff_in_both_languages(
    network: Network, user_factory: UserFactory
) -> None:
    """Six going (the verifier already going counts) fill a call-out: "6 of 6, enough";
    a seventh `!going` is sent to the other open call-out; `!handoff` and `!relevo` list
    both, never the plate."""
    n = network
    responders = await asyncio.gather(*(user_factory(f"resp{i}") for i in range(6)))
    for responder in responders:
        await n.vera.invite(n.english, responder.user_id)
        await responder.join(n.english)
    await n.ana.send_text(n.hood, REPORT)
    first = REPORT_ID.findall(
        (await n.vera.wait_for_message(n.english, n.from_bot("VERIFIER NEEDED"))).body
    )[0]
    await n.ana.send_text(n.hood, "!report where: 18th & Loomis | what: detaining | agents: 2")
    second_call = await n.vera.wait_for_message(
        n.english, lambda e: n.from_bot("VERIFIER NEEDED")(e) and first not in e.body
    )
    second = REPORT_ID.findall(second_call.body)[0]
    assert "is going to" in await answer(n, n.vera, n.english, f"!going {first} 10")
    await n.rosa.send_text(n.mods, f"!confirm {first}")
    callout = await n.vera.wait_for_message(
        n.english, lambda e: n.from_bot("RESPONDERS NEEDED")(e) and first in e.body
    )
    assert "1 of 6" in callout.body  # the verifier going counts
    await n.rosa.send_text(n.mods, f"!confirm {second}")
    await n.vera.wait_for_message(
        n.english, lambda e: n.from_bot("RESPONDERS NEEDED")(e) and second in e.body
    )
    for responder in responders[:5]:
        assert "is going to" in await answer(n, responder, n.english, f"!going {first}")
    await n.vera.wait_for_message(
        n.english,
        lambda e: (
            n.from_bot()(e) and edit_of(callout.event_id)(e) and "6 of 6, enough" in new_content(e)
        ),
    )

    seventh = await answer(n, responders[5], n.english, f"!going {first}")
    assert seventh.splitlines()[:2] == [
        f"Enough people at {first}, thank you.",
        f"{second} needs people: 18th & Loomis (0 of 6 going)",
    ]
    spanish = await answer(n, n.victor, n.spanish, f"!voy {first}")
    assert f"Ya hay suficiente gente en {first}" in spanish
    assert f"{second} necesita gente: 18th & Loomis" in spanish

    await n.vera.send_text(n.english, "!handoff")
    handoff = await n.vera.wait_for_message(n.english, n.from_bot("🔁 Handoff"))
    assert "Call-outs:" in handoff.body and first in handoff.body and second in handoff.body
    assert f"{first} · detaining someone at 18th & Ashland · 6 of 6 going" in handoff.body
    await n.victor.send_text(n.spanish, "!relevo")
    relevo = await n.victor.wait_for_message(n.spanish, n.from_bot("🔁 Relevo"))
    assert "Llamadas a responder:" in relevo.body and "van 6 de 6" in relevo.body
    for body in (handoff.body, relevo.body, seventh, spanish):
        assert "ABC1" not in body and n.ana.user_id not in body
