"""Safety check-ins and accompaniment on a real Synapse, with real encrypted direct chats
that the bot opens itself, on a clock the test moves.

- A missed check-in: the bot asks once, then tells the contact who accepted (in a direct
  chat the bot opened with her) and not the one who never accepted, and a case opens in
  the legal room; `!safe` after the alarm tells the contact that the person is safe.
- An accompaniment request becomes a shift on the dispatch rota; a claim asks the person;
  yes introduces the two by direct message.
- The same missed check-in flow in Spanish throughout.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest
from integration import bot_harness
from integration.bot_harness import (
    BotSetup,
    RunningBot,
    from_bot,
    in_thread,
    start_bot,
    wait_until_joined,
)
from integration.matrix_clients import TextEvent, UserClient, UserFactory

from bot.api.testing import FakeClock
from plugins.cases import CasesPlugin
from plugins.checkins import Checkins
from plugins.dispatch import Dispatch
from plugins.rosters import Rosters
from plugins.sightings import Sightings

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

CHICAGO = ZoneInfo("America/Chicago")
CODE = re.compile(r"!(?:accept|acepto) (\d{6})")


@dataclass
class Network:
    setup: BotSetup
    bot: RunningBot
    clock: FakeClock
    ana: UserClient  # goes to her appointment
    bea: UserClient  # her contact, who accepts
    carl: UserClient  # asked, never accepts
    lola: UserClient  # the legal team
    vera: UserClient  # a dispatch volunteer
    legal: str
    dispatch: str
    dm: str  # ana's direct chat with the bot

    def from_bot(self, text: str = "") -> Callable[[TextEvent], bool]:
        return from_bot(self.setup, text)

    async def move_to(self, moment: datetime) -> None:
        await self.bot.app.bot.scheduler.run_until(moment)  # type: ignore[attr-defined]


@pytest.fixture
async def network(setup: BotSetup, user_factory: UserFactory) -> AsyncIterator[Network]:
    ana, bea, carl, lola, vera = await asyncio.gather(
        *(user_factory(name) for name in ("ana", "bea", "carl", "lola", "vera"))
    )
    setup.allowed_users = [ana.user_id, lola.user_id, vera.user_id]
    hood = await ana.create_encrypted_room(invite=[setup.user_id])
    legal = await lola.create_encrypted_room(invite=[setup.user_id])
    dispatch = await vera.create_encrypted_room(invite=[setup.user_id])
    setup.rooms = [
        {"id": hood, "role": "neighborhood", "language": "en"},
        {"id": legal, "role": "legal", "language": "en"},
        {"id": dispatch, "role": "dispatch", "language": "en"},
    ]
    setup.sites = [
        {
            "slug": "oncall",
            "name": "On call",
            "timezone": "America/Chicago",
            "room": dispatch,
            "windows": ["oncall mon-sun 06:00-07:00 need 1"],
        }
    ]
    setup.extra = {"checkins": {"timezone": "America/Chicago"}}
    # Hours behind the real time: moved on by the test, it stays behind the server's
    # timestamps, so what people write later is never taken as too old to answer.
    clock = FakeClock(datetime.now(UTC).replace(microsecond=0) - timedelta(hours=3))
    bot = await start_bot(
        setup, plugins=[Sightings, Rosters, Dispatch, CasesPlugin, Checkins], clock=clock
    )
    try:
        for room in (hood, legal, dispatch):
            await wait_until_joined(bot, room)
        dm = await ana.create_encrypted_room(invite=[setup.user_id], is_direct=True)
        await wait_until_joined(bot, dm)
        yield Network(setup, bot, clock, ana, bea, carl, lola, vera, legal, dispatch, dm)
    finally:
        await bot.stop()


async def answer(n: Network, user: UserClient, room: str, text: str) -> str:
    event_id = await user.send_text(room, text)
    reply = await user.wait_for_message(room, lambda e: n.from_bot()(e) and in_thread(event_id)(e))
    return reply.body


async def bots_chat(n: Network, user: UserClient) -> str:
    """The direct chat the bot opened with `user`, joined."""
    room = await user.wait_for_invite()
    await user.join(room)
    return room


async def accepted_contact(n: Network, add: str) -> str:
    """Ana asks bea, who joins the bot's chat and accepts; and carl, who joins, never
    accepts. Bea's chat with the bot."""
    assert n.bea.user_id in await answer(n, n.ana, n.dm, f"{add} {n.bea.user_id}")
    bea_dm = await bots_chat(n, n.bea)
    request = await n.bea.wait_for_message(bea_dm, n.from_bot("emergency contact"))
    code = CODE.search(request.body)
    assert code is not None
    await n.bea.send_text(bea_dm, f"!accept {code[1]}")
    await n.ana.wait_for_message(n.dm, n.from_bot(n.bea.user_id))
    await answer(n, n.ana, n.dm, f"{add} {n.carl.user_id}")
    return bea_dm


def later(n: Network, minutes: int) -> datetime:
    return n.clock.now.replace(second=0) + timedelta(minutes=minutes)


async def test_a_missed_check_in_alerts_the_contact_who_accepted_and_opens_a_case(
    network: Network,
) -> None:
    n = network
    bea_dm = await accepted_contact(n, "!contacts add")
    carl_dm = await bots_chat(n, n.carl)
    due = later(n, 60)
    hhmm = due.astimezone(CHICAGO).strftime("%H:%M")
    planned = await answer(n, n.ana, n.dm, f"!checkin {hhmm} Broadview alias=JM")
    assert f"at {hhmm}" in planned and "1 emergency contact" in planned
    await n.move_to(due)
    await n.ana.wait_for_message(n.dm, n.from_bot("are you out and safe?"))
    await n.move_to(due + timedelta(minutes=15))
    alarm = await n.bea.wait_for_message(bea_dm, n.from_bot("did not check in"))
    assert alarm.body.startswith(
        f"JM did not check in after their appointment at Broadview, planned for {hhmm}"
    )
    card = await n.lola.wait_for_message(n.legal, n.from_bot("JM"))
    assert n.ana.user_id not in card.body
    await asyncio.sleep(1)
    assert [e.body for e in n.carl.messages(carl_dm) if "did not check in" in e.body] == []
    assert "I told your 1 contact" in await answer(n, n.ana, n.dm, "!safe")
    await n.bea.wait_for_message(bea_dm, n.from_bot("JM checked in: they are safe"))


async def test_an_accompaniment_is_a_shift_and_a_claim_asks_before_introducing(
    network: Network,
) -> None:
    n = network
    when = (n.clock.now + timedelta(days=3)).astimezone(CHICAGO)
    asked = await answer(n, n.ana, n.dm, f"!accompany {when:%Y-%m-%d} 09:00 court")
    assert f"court on {when:%Y-%m-%d} 09:00" in asked
    for week in ("!roster", "!roster next"):  # three days ahead: this week or the next
        roster = await answer(n, n.vera, n.dispatch, week)
        found = re.search(r"accompaniment-court \S+\s+#(\d+)", roster)
        if found is not None:
            break
    assert found is not None, roster
    assert n.ana.user_id not in roster
    await answer(n, n.vera, n.dispatch, f"!claim {found[1]}")
    await n.ana.wait_for_message(n.dm, n.from_bot("Someone took your accompaniment"))
    assert "each have the other's contact" in await answer(n, n.ana, n.dm, "!share yes")
    vera_dm = await bots_chat(n, n.vera)
    intro = await n.vera.wait_for_message(vera_dm, n.from_bot("The person can be reached"))
    assert n.ana.user_id in intro.body
    await n.ana.wait_for_message(n.dm, n.from_bot(f"reached at {n.vera.user_id}"))


async def test_spanish_throughout(network: Network) -> None:
    n = network
    await answer(n, n.ana, n.dm, "!idioma es")
    bea_dm = await accepted_contact(n, "!contactos agregar")
    await n.bea.send_text(bea_dm, "!idioma es")
    await n.bea.wait_for_message(bea_dm, n.from_bot("español"))
    due = later(n, 60)
    hhmm = due.astimezone(CHICAGO).strftime("%H:%M")
    planned = await answer(n, n.ana, n.dm, f"!aviso {hhmm} corte apodo=JM")
    assert f"a las {hhmm} (hora de Pilsen" in planned
    await n.move_to(due)
    await n.ana.wait_for_message(n.dm, n.from_bot(f"Son las {hhmm}"))
    await n.move_to(due + timedelta(minutes=15))
    await n.bea.wait_for_message(bea_dm, n.from_bot("JM no se reportó después de su cita en corte"))
    assert "Avisé a tu 1 contacto" in await answer(n, n.ana, n.dm, "!bien")
    await n.bea.wait_for_message(bea_dm, n.from_bot("JM se reportó: está bien"))
