"""Rumor control on a real Synapse, in end-to-end-encrypted rooms: `!status` says what is
verified, `!debunk` sends a FALSE ALARM notice, a typo is run by `!yes`."""

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

from plugins.relay import Relay
from plugins.sightings import Sightings

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")


@dataclass
class Hood:
    setup: BotSetup
    bot: RunningBot
    ana: UserClient  # neighbor
    rosa: UserClient  # moderator
    english: str
    spanish: str
    mods: str

    def from_bot(self, text: str = "") -> Callable[[TextEvent], bool]:
        return from_bot(self.setup, text)

    async def answer(self, user: UserClient, room: str, text: str) -> str:
        event_id = await user.send_text(room, text)
        reply = await user.wait_for_message(
            room, lambda e: self.from_bot()(e) and in_thread(event_id)(e)
        )
        return reply.body


@pytest.fixture
async def hood(setup: BotSetup, user_factory: UserFactory) -> AsyncIterator[Hood]:
    ana, rosa = await asyncio.gather(user_factory("ana"), user_factory("rosa"))
    setup.allowed_users = [ana.user_id, rosa.user_id]
    setup.moderators = [rosa.user_id]
    english = await ana.create_encrypted_room(invite=[setup.user_id])
    spanish = await ana.create_encrypted_room(invite=[setup.user_id])
    mods = await rosa.create_encrypted_room(invite=[setup.user_id])
    setup.rooms = [
        {"id": english, "role": "neighborhood", "language": "en"},
        {"id": spanish, "role": "neighborhood", "language": "es"},
        {"id": mods, "role": "moderation", "language": "en"},
    ]
    bot = await start_bot(setup, plugins=[Sightings, Relay])
    try:
        for room in (english, spanish, mods):
            await wait_until_joined(bot, room)
        yield Hood(setup, bot, ana, rosa, english, spanish, mods)
    finally:
        await bot.stop()


async def test_status_debunk_and_a_typo_in_encrypted_rooms(hood: Hood) -> None:
    h = hood
    assert "Nothing is confirmed in Pilsen in the last 24 hours." in await h.answer(
        h.ana, h.english, "!status"
    )
    ack = await h.answer(h.ana, h.english, "!reprot 18th & Ashland; agents detaining someone")
    assert "Did you mean !report?" in ack
    ack = await h.answer(h.ana, h.english, "!yes")
    confirmed = REPORT_ID.findall(ack)[0]
    ack = await h.answer(h.ana, h.english, "!report 26th & Pulaski; a checkpoint")
    false = REPORT_ID.findall(ack)[0]
    assert "confirmed" in (await h.answer(h.rosa, h.mods, f"!confirm {confirmed}")).lower()
    await h.answer(h.rosa, h.mods, f"!false {false}")

    status = await h.answer(h.ana, h.english, "!status")
    assert f"CONFIRMED {confirmed} · 18th & Ashland" in status
    assert f"FALSE ALARM {false} · 26th & Pulaski" in status

    sent = await h.answer(h.rosa, h.mods, f"!debunk {false} It was a film crew.")
    assert sent == f"FALSE ALARM notice for {false} sent to 2 rooms."
    notice = await h.ana.wait_for_message(h.spanish, h.from_bot(f"FALSA ALARMA · Pilsen · {false}"))
    assert "It was a film crew." in notice.body
    assert notice.source["content"]["m.mentions"] == {"user_ids": []}
