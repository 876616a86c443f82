"""Known vehicles end to end on a real Synapse, in end-to-end-encrypted rooms: a second report
with a misread plate (`ABC-I23` after `ABC123`) shows the first on its moderator card; once
a moderator puts the plate on the network's list as an agency vehicle, a third report is
flagged on its card and its dispatch call says "known vehicle", never the plate.
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
    from_bot,
    in_thread,
    start_bot,
    wait_until_joined,
)
from integration.matrix_clients import TextEvent, UserClient, UserFactory

from plugins.dispatch import Dispatch
from plugins.relay import Relay
from plugins.rosters import Rosters
from plugins.sightings import Sightings
from plugins.vehicles import Vehicles

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")


def report(plate: str, where: str) -> str:
    return f"!report where: {where} | what: detaining | vehicle: white van | plate: {plate}"


@dataclass
class Network:
    setup: BotSetup
    bot: RunningBot
    ana: UserClient  # reporter, neighborhood room
    rosa: UserClient  # moderator
    vera: UserClient  # verifier, dispatch room
    hood: str
    mods: str
    dispatch: str

    def from_bot(self, text: str = "") -> Callable[[TextEvent], bool]:
        return from_bot(self.setup, text)


@pytest.fixture
async def network(setup: BotSetup, user_factory: UserFactory) -> AsyncIterator[Network]:
    ana, rosa, vera = await asyncio.gather(*(user_factory(n) for n in ("ana", "rosa", "vera")))
    setup.allowed_users = [ana.user_id, rosa.user_id, vera.user_id]
    setup.moderators = [rosa.user_id]
    hood = await ana.create_encrypted_room(invite=[setup.user_id])
    mods = await rosa.create_encrypted_room(invite=[setup.user_id])
    dispatch = await vera.create_encrypted_room(invite=[setup.user_id])
    setup.rooms = [
        {"id": hood, "role": "neighborhood", "language": "en"},
        {"id": mods, "role": "moderation", "language": "en"},
        {"id": dispatch, "role": "dispatch", "language": "en"},
    ]
    bot = await start_bot(setup, plugins=[Sightings, Relay, Rosters, Dispatch, Vehicles])
    try:
        for room in (hood, mods, dispatch):
            await wait_until_joined(bot, room)
        yield Network(setup, bot, ana, rosa, vera, hood, mods, dispatch)
    finally:
        await bot.stop()


async def file(n: Network, plate: str, where: str) -> tuple[str, TextEvent, TextEvent]:
    """A report from ana: its id, its moderator card and its dispatch call."""
    await n.ana.send_text(n.hood, report(plate, where))
    call = await n.vera.wait_for_message(
        n.dispatch, lambda e: n.from_bot("VERIFIER NEEDED")(e) and where in e.body
    )
    report_id = REPORT_ID.findall(call.body)[0]
    card = await n.rosa.wait_for_message(n.mods, n.from_bot(f"{report_id} · "))
    return report_id, card, call


async def test_a_misread_plate_then_a_known_agency_vehicle(network: Network) -> None:
    n = network
    first, _card, _call = await file(n, "ABC123", "18th & Ashland")
    second, card, _call = await file(n, "ABC-I23", "Cermak y Throop")
    assert second != first
    assert f"{first} · NEW — UNCONFIRMED · " in card.body and "· ABC123" in card.body

    command = await n.rosa.send_text(n.mods, "!plate ABC123 agency seen at the processing center")
    answer = await n.rosa.wait_for_message(
        n.mods, lambda e: n.from_bot("is on the network's list")(e) and in_thread(command)(e)
    )
    assert "agency vehicle" in answer.body

    third, card, call = await file(n, "abc 123", "Blue Island & Loomis")
    assert "⚠ KNOWN AGENCY VEHICLE: ABC 123" in card.body
    assert "⚠ Known vehicle" in call.body
    for plate in ("ABC", "A8C", "abc", "processing center"):
        assert plate not in call.body
    assert third not in (first, second)
