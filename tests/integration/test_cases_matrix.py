"""Cases end to end on a real Synapse, in end-to-end-encrypted rooms: a report is filed and
confirmed, a moderator says someone was taken, the case card appears in the legal room
(working in Spanish) without the plate or the reporter, and is edited as the team locates
the person, names the lawyer and sets the hearing, which becomes a shift on the dispatch
rota that a verifier claims; an A-number in a note is refused; the case closes.
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

from plugins.cases import CasesPlugin
from plugins.dispatch import Dispatch
from plugins.relay import Relay
from plugins.rosters import Rosters
from plugins.sightings import Sightings

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
CASE_ID = re.compile(r"\bC[2-9A-Z]{3,6}\b")
REPORT = "!report where: 18th & Ashland | what: detaining | agents: 3 | plate: ABC123"


@dataclass
class Network:
    setup: BotSetup
    bot: RunningBot
    ana: UserClient  # reporter, neighborhood room
    rosa: UserClient  # moderator
    vera: UserClient  # verifier, dispatch room
    lia: UserClient  # the legal team, in Spanish
    hood: str
    mods: str
    dispatch: str
    legal: str

    def from_bot(self, text: str = "") -> Callable[[TextEvent], bool]:
        return from_bot(self.setup, text)

    async def ask(self, user: UserClient, room: str, text: str) -> str:
        """Send a command; the bot's answer to it, in its thread."""
        event_id = await user.send_text(room, text)
        reply = await user.wait_for_message(
            room, lambda e: self.from_bot()(e) and in_thread(event_id)(e)
        )
        return reply.body

    async def card_shows(self, card: TextEvent, text: str) -> str:
        edit = await self.lia.wait_for_message(
            self.legal,
            lambda e: self.from_bot()(e) and edit_of(card.event_id)(e) and text in new_content(e),
        )
        return new_content(edit)


@pytest.fixture
async def network(setup: BotSetup, user_factory: UserFactory) -> AsyncIterator[Network]:
    ana, rosa, vera, lia = await asyncio.gather(
        *(user_factory(name) for name in ("ana", "rosa", "vera", "lia"))
    )
    setup.allowed_users = [ana.user_id, rosa.user_id, vera.user_id, lia.user_id]
    setup.moderators = [rosa.user_id]
    hood = await ana.create_encrypted_room(invite=[setup.user_id])
    mods = await rosa.create_encrypted_room(invite=[setup.user_id])
    dispatch = await vera.create_encrypted_room(invite=[setup.user_id])
    legal = await lia.create_encrypted_room(invite=[setup.user_id])
    setup.rooms = [
        {"id": hood, "role": "neighborhood", "language": "en"},
        {"id": mods, "role": "moderation", "language": "en"},
        {"id": dispatch, "role": "dispatch", "language": "en"},
        {"id": legal, "role": "legal", "language": "es"},
    ]
    setup.sites = [
        {
            "slug": "pilsen-oncall",
            "name": "Pilsen on call",
            "timezone": "America/Chicago",
            "room": dispatch,
            "windows": ["oncall mon-sun 06:00-22:00 need 2"],
        }
    ]
    bot = await start_bot(setup, plugins=[Sightings, Relay, Rosters, Dispatch, CasesPlugin])
    try:
        for room in (hood, mods, dispatch, legal):
            await wait_until_joined(bot, room)
        yield Network(setup, bot, ana, rosa, vera, lia, hood, mods, dispatch, legal)
    finally:
        await bot.stop()


async def test_a_detention_becomes_a_case_the_legal_team_follows_in_spanish(
    network: Network,
) -> None:
    n = network
    await n.ana.send_text(n.hood, REPORT)
    card = await n.rosa.wait_for_message(n.mods, n.from_bot("18th & Ashland"))
    report_id = REPORT_ID.findall(card.body)[0]
    await n.rosa.send_text(n.mods, f"!confirm {report_id}")
    await n.ana.wait_for_message(n.hood, n.from_bot("CONFIRMED ALERT"))

    opened = await n.ask(n.rosa, n.mods, f"!detained {report_id} taken at the bus stop")
    case_id = CASE_ID.findall(opened)[0]
    assert f"Case {case_id} is open for {report_id}" in opened

    case_card = await n.lia.wait_for_message(n.legal, n.from_bot(f"⚖️ Caso {case_id}"))
    assert case_card.decrypted, "the case card must be end-to-end encrypted"
    assert "18th & Ashland" in case_card.body and "taken at the bus stop" in case_card.body
    assert "ABC123" not in case_card.body
    assert n.ana.user_id not in case_card.body and "ana" not in case_card.body.lower()
    assert "☐ Ubicar a la persona" in case_card.body

    located = await n.ask(n.lia, n.legal, f"!caso {case_id} ubicada Broadview")
    assert located == f"✅ {case_id}: en la tarjeta."
    await n.card_shows(case_card, "✅ Ubicada: Broadview")
    await n.ask(n.lia, n.legal, f"!caso {case_id} abogada Lic. Ortiz")
    await n.card_shows(case_card, "✅ Abogado: Lic. Ortiz")

    refused = await n.ask(n.lia, n.legal, f"!caso {case_id} nota su número A-123-456-789")
    assert "parece un número A" in refused and "sistema propio del abogado" in refused

    hearing = await n.ask(n.lia, n.legal, f"!caso {case_id} audiencia mañana 09:00 Corte Clark")
    shift = re.findall(r"turno #(\d+)", hearing)[0]
    shown = await n.card_shows(case_card, "✅ Próxima audiencia")
    assert "Corte Clark" in shown and f"turno de acompañamiento #{shift}" in shown
    call = await n.vera.wait_for_message(n.dispatch, n.from_bot("Accompaniment needed"))
    assert "Corte Clark" in call.body and f"!claim {shift}" in call.body
    assert "Broadview" not in call.body and "Ortiz" not in call.body
    claimed = await n.ask(n.vera, n.dispatch, f"!claim {shift}")
    assert "✅" in claimed and "hearing" in claimed

    listing = await n.ask(n.lia, n.legal, "!casos")
    assert "1 caso abierto" in listing and case_id in listing

    closed = await n.ask(n.lia, n.legal, f"!caso {case_id} cerrar liberada")
    assert f"El caso {case_id} está cerrado (liberada)" in closed
    final = await n.card_shows(case_card, "Cerrado: liberada")
    assert "A-123-456-789" not in final and "123456789" not in final
