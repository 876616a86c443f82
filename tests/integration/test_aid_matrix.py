"""Mutual aid on a real Synapse, with real encrypted rooms and direct chats, on a clock the
test moves.

- A request by direct chat is posted to the area's aid room with no name; `!give` asks the
  person who asked, `!accept` introduces the two in their direct chats (the volunteer's
  opened by the bot), the card is edited to taken, `!done` closes it.
- A decline leaves the request open and thanks the volunteer; another one may offer.
- A standing offer gets the request by direct message first; the room ten minutes later.
- A request typed in a room is removed from it (the bot holds the power to) and goes on in
  the person's direct chat with the bot.
- Spanish throughout.
- Not taken: posted again after 6 hours, the person asked after 48, then it expires.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

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

from bot.api.testing import FakeClock
from plugins.aid import AidPlugin

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

REQUEST_ID = re.compile(r"\bA[2-9A-HJ-NP-TV-Z]{3,4}\b")


@dataclass
class Network:
    setup: BotSetup
    bot: RunningBot
    clock: FakeClock
    ana: UserClient  # asks for help
    beto: UserClient  # an aid volunteer
    cara: UserClient  # another aid volunteer
    hood: str
    aid: str
    dm: str  # ana's direct chat with the bot

    def from_bot(self, text: str = "") -> Callable[[TextEvent], bool]:
        return from_bot(self.setup, text)

    async def move_to(self, moment: datetime) -> None:
        await self.bot.app.bot.scheduler.run_until(moment)  # type: ignore[attr-defined]

    def card(self, request_id: str) -> Callable[[TextEvent], bool]:
        """The request's card in the aid room, not its edits or follow-ups."""

        def check(event: TextEvent) -> bool:
            content = event.source["content"]
            return (
                self.from_bot(f"Help needed: {request_id}")(event)
                and "m.new_content" not in content
            )

        return check


@pytest.fixture
async def network(setup: BotSetup, user_factory: UserFactory) -> AsyncIterator[Network]:
    ana, beto, cara = await asyncio.gather(*(user_factory(n) for n in ("ana", "beto", "cara")))
    setup.allowed_users = [ana.user_id, beto.user_id]
    hood = await ana.create_encrypted_room(invite=[setup.user_id])
    aid = await beto.create_encrypted_room(invite=[setup.user_id, cara.user_id])
    await cara.join(aid)
    setup.rooms = [
        {"id": hood, "role": "neighborhood", "language": "en"},
        {"id": aid, "role": "aid", "language": "en"},
    ]
    # Hours behind the real time: moved on by the test, it stays behind the server's
    # timestamps, so what people write later is never taken as too old to answer.
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    bot = await start_bot(setup, plugins=[AidPlugin], clock=clock)
    try:
        for room in (hood, aid):
            await wait_until_joined(bot, room)
        dm = await ana.create_encrypted_room(invite=[setup.user_id], is_direct=True)
        await wait_until_joined(bot, dm)
        yield Network(setup, bot, clock, ana, beto, cara, hood, aid, dm)
    finally:
        await bot.stop()


async def answer(n: Network, user: UserClient, room: str, text: str) -> str:
    event_id = await user.send_text(room, text)
    reply = await user.wait_for_message(room, lambda e: n.from_bot()(e) and in_thread(event_id)(e))
    return reply.body


async def bots_chat(user: UserClient) -> str:
    """The direct chat the bot opened with `user`, joined."""
    room = await user.wait_for_invite()
    await user.join(room)
    return room


async def asked(n: Network, text: str = "!need groceries tomorrow rice and milk") -> str:
    """Ana asks in her direct chat; the request's id."""
    filed = await answer(n, n.ana, n.dm, text)
    found = REQUEST_ID.search(filed)
    assert found is not None, filed
    return found[0]


async def test_a_request_is_posted_without_a_name_and_accepted_introduces_both(
    network: Network,
) -> None:
    n = network
    request_id = await asked(n)
    card = await n.beto.wait_for_message(n.aid, n.card(request_id))
    assert "groceries · Pilsen · tomorrow" in card.body and "rice and milk" in card.body
    assert n.ana.user_id not in card.body and "ana" not in card.body.lower()
    sent = await answer(n, n.beto, n.aid, f"!give {request_id}")
    assert sent.startswith("Thank you! I asked the person privately")
    offer = await n.ana.wait_for_message(n.dm, n.from_bot("A volunteer offers to help"))
    assert n.beto.user_id not in offer.body
    await n.ana.send_text(n.dm, f"!accept {request_id}")
    to_ana = await n.ana.wait_for_message(n.dm, n.from_bot("You are in touch"))
    assert f"{n.beto.user_id} will help you" in to_ana.body
    beto_dm = await bots_chat(n.beto)
    to_beto = await n.beto.wait_for_message(beto_dm, n.from_bot("The person you help"))
    assert n.ana.user_id in to_beto.body
    taken = await n.cara.wait_for_message(
        n.aid, lambda e: edit_of(card.event_id)(e) and "Taken:" in new_content(e)
    )
    assert new_content(taken).endswith("✅ Taken: someone is helping.")
    assert n.ana.user_id not in new_content(taken) and n.beto.user_id not in new_content(taken)
    assert await answer(n, n.beto, beto_dm, f"!done {request_id}") == (
        f"{request_id} is closed. Thank you!"
    )
    await n.ana.wait_for_message(n.dm, n.from_bot(f"{request_id} is marked done"))


async def test_a_decline_leaves_it_open(network: Network) -> None:
    n = network
    request_id = await asked(n)
    card = await n.beto.wait_for_message(n.aid, n.card(request_id))
    await answer(n, n.cara, n.aid, f"!give {request_id}")
    await n.ana.wait_for_message(n.dm, n.from_bot("A volunteer offers to help"))
    declined = await answer(n, n.ana, n.dm, f"!decline {request_id}")
    assert declined == f"Declined. {request_id} stays open for others."
    cara_dm = await bots_chat(n.cara)
    thanks = await n.cara.wait_for_message(cara_dm, n.from_bot("Thank you for offering"))
    assert n.ana.user_id not in thanks.body
    reopened = await n.beto.wait_for_message(
        n.aid, lambda e: edit_of(card.event_id)(e) and "Can you help?" in new_content(e)
    )
    assert "waiting for the answer" not in new_content(reopened)  # the offered edit before
    sent = await answer(n, n.beto, n.aid, f"!give {request_id}")
    assert sent.startswith("Thank you! I asked the person privately")


async def test_a_standing_offer_gets_a_head_start(network: Network) -> None:
    n = network
    saved = await answer(n, n.beto, n.aid, "!offer ride pilsen weekday mornings")
    assert saved.startswith("Thank you! New requests for ride in Pilsen (weekday mornings)")
    beto_dm = await bots_chat(n.beto)
    request_id = await asked(n, "!need ride friday to the clinic")
    first = await n.beto.wait_for_message(beto_dm, n.from_bot("before it is posted"))
    assert request_id in first.body and n.ana.user_id not in first.body
    await asyncio.sleep(1)
    assert [e for e in n.cara.messages(n.aid) if n.card(request_id)(e)] == []
    await n.move_to(n.clock.now + timedelta(minutes=10))
    await n.cara.wait_for_message(n.aid, n.card(request_id))


async def test_a_request_typed_in_a_room_goes_on_in_a_direct_chat(network: Network) -> None:
    n = network
    await n.ana.set_power(n.hood, n.setup.user_id, 50)  # the bot may remove messages
    told = await answer(n, n.ana, n.hood, "!need childcare saturday two kids, 9 to 1")
    assert told.startswith("🔒 I removed your message from this room")
    assert "kids" not in told
    # Ana's direct chat with the bot is found, not opened again.
    await n.ana.wait_for_message(n.dm, n.from_bot("You asked for help in a room"))
    filed = await n.ana.wait_for_message(n.dm, n.from_bot("Asked:"))
    assert "childcare · Pilsen · saturday" in filed.body
    found = REQUEST_ID.search(filed.body)
    assert found is not None
    card = await n.beto.wait_for_message(n.aid, n.card(found[0]))
    assert "two kids, 9 to 1" in card.body


async def test_in_spanish(network: Network) -> None:
    n = network
    filed = await answer(n, n.ana, n.dm, "!necesito mandado mañana arroz y frijol")
    assert filed.startswith("📨 Pedido: A") and "mandado · Pilsen · mañana" in filed
    found = REQUEST_ID.search(filed)
    assert found is not None
    request_id = found[0]
    sent = await answer(n, n.cara, n.aid, f"!ayudo {request_id}")
    assert sent.startswith("¡Gracias! Le pregunté a la persona en privado")
    offer = await n.ana.wait_for_message(n.dm, n.from_bot("Un voluntario se ofrece"))
    assert f"!acepto {request_id}" in offer.body
    await n.ana.send_text(n.dm, f"!acepto {request_id}")
    await n.ana.wait_for_message(n.dm, n.from_bot(f"{n.cara.user_id} te va a ayudar"))
    cara_dm = await bots_chat(n.cara)
    intro = await n.cara.wait_for_message(cara_dm, n.from_bot("¡Gracias! La persona"))
    assert n.ana.user_id in intro.body


async def test_not_taken_it_is_posted_again_asked_about_and_expires(network: Network) -> None:
    n = network
    filed_at = n.clock.now
    request_id = await asked(n)
    card = await n.beto.wait_for_message(n.aid, n.card(request_id))
    await n.move_to(filed_at + timedelta(hours=6))
    await n.beto.wait_for_message(n.aid, n.from_bot(f"Still needed: {request_id}"))
    await n.move_to(filed_at + timedelta(hours=48))
    question = await n.ana.wait_for_message(n.dm, n.from_bot("Is it still needed?"))
    assert f"!renew {request_id}" in question.body
    await n.move_to(filed_at + timedelta(hours=60))
    await n.ana.wait_for_message(n.dm, n.from_bot("nobody could take it in time"))
    expired = await n.beto.wait_for_message(
        n.aid, lambda e: edit_of(card.event_id)(e) and "Expired" in new_content(e)
    )
    assert "!give" not in new_content(expired)
