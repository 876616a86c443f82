"""Watch rosters end to end on a real Synapse, in an end-to-end-encrypted watch room.

Volunteers (real matrix-nio E2E users) see the roster, claim, swap, take, give up and
reclaim a slot, get reminded (mentioned alone) and check in and out, in English and in
Spanish. The site's only window starts a couple of minutes after the bot does, with the
reminder one minute before it, so the reminder arrives while the test waits.
"""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta, tzinfo
from zoneinfo import ZoneInfo

import pytest
from integration import bot_harness
from integration.bot_harness import BotSetup, RunningBot, start_bot, wait_until_joined
from integration.matrix_clients import TextEvent, UserClient, UserFactory

from plugins.rosters import Rosters

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

SHIFT_ID = re.compile(r"\(#(\d+)\)")
# The reminder is sent this long before the start; the start is at least this far ahead
# of the bot's start (room for the commands that come before the reminder).
REMINDER = timedelta(minutes=1)
LEAD = timedelta(seconds=100)


@dataclass
class WatchTeam:
    setup: BotSetup
    bot: RunningBot
    maria: UserClient  # English
    juan: UserClient  # Spanish (`!idioma es`)
    pedro: UserClient  # English, takes an offered slot
    room: str
    day: str  # the site-local date of the shift, YYYY-MM-DD

    async def ask(self, user: UserClient, text: str) -> TextEvent:
        """Send a command; the bot's answer (in its thread, or a reply to it)."""
        event_id = await user.send_text(self.room, text)
        return await user.wait_for_message(self.room, self._answer_to(event_id))

    def _answer_to(self, event_id: str) -> Callable[[TextEvent], bool]:
        def check(event: TextEvent) -> bool:
            relates = event.source["content"].get("m.relates_to") or {}
            replied = (relates.get("m.in_reply_to") or {}).get("event_id")
            return event.sender == self.setup.user_id and event_id in (
                relates.get("event_id"),
                replied,
            )

        return check

    async def mention_of(self, user: UserClient, text: str, timeout: float = 20) -> TextEvent:
        """A room message from the bot containing `text` that pings `user` alone."""

        def check(event: TextEvent) -> bool:
            mentions = event.source["content"].get("m.mentions")
            return (
                event.sender == self.setup.user_id
                and text in event.body
                and mentions == {"user_ids": [user.user_id]}
            )

        return await user.wait_for_message(self.room, check, timeout=timeout)


def midday_zone(now: datetime) -> tzinfo:
    """A fixed-offset zone where it is around noon, so the window never crosses midnight."""
    offset = max(-12, min(14, 12 - now.hour))
    return ZoneInfo(f"Etc/GMT{-offset:+d}")  # POSIX names have the sign inverted


def window_for(now: datetime, zone: tzinfo) -> tuple[str, str]:
    """A window every day starting at the first whole minute after `now + LEAD`."""
    start = (now + LEAD).astimezone(zone).replace(second=0, microsecond=0) + timedelta(minutes=1)
    end = start + timedelta(minutes=30)
    return f"pickup mon-sun {start:%H:%M}-{end:%H:%M} need 2", start.date().isoformat()


@pytest.fixture
async def team(setup: BotSetup, user_factory: UserFactory) -> AsyncIterator[WatchTeam]:
    maria, juan, pedro = await asyncio.gather(
        *(user_factory(name) for name in ("maria", "juan", "pedro"))
    )
    setup.allowed_users = [maria.user_id]
    room = await maria.create_encrypted_room(invite=[setup.user_id, juan.user_id, pedro.user_id])
    await asyncio.gather(juan.join(room), pedro.join(room))
    setup.rooms = [{"id": room, "role": "watch", "language": "en"}]
    now = datetime.now(UTC)
    zone = midday_zone(now)
    window, day = window_for(now, zone)
    setup.sites = [
        {
            "slug": "whittier",
            "name": "Whittier Elementary",
            "timezone": str(zone),
            "room": room,
            "windows": [window],
        }
    ]
    setup.rosters_options = {"reminder_minutes": REMINDER.seconds // 60}
    bot = await start_bot(setup, plugins=[Rosters])
    try:
        await wait_until_joined(bot, room)
        yield WatchTeam(setup, bot, maria, juan, pedro, room, day)
    finally:
        await bot.stop()


async def test_volunteers_claim_swap_get_reminded_and_check_in_in_two_languages(
    team: WatchTeam,
) -> None:
    maria, juan, pedro = team.maria, team.juan, team.pedro

    roster = await team.ask(maria, "!roster")
    assert roster.decrypted, "the roster must be end-to-end encrypted"
    first_line = roster.body.splitlines()[0]
    assert first_line.startswith("Whittier Elementary: ") and " to " in first_line
    assert "<table>" in roster.source["content"]["formatted_body"]
    assert "0/2 ⚠" in roster.body

    claimed = await team.ask(maria, f"!claim {team.day} pickup")
    assert claimed.body.startswith("✅ You are on pickup at Whittier Elementary")
    assert "1/2 signed up" in claimed.body
    match = SHIFT_ID.search(claimed.body)
    assert match is not None
    shift = match[1]

    assert (await team.ask(juan, "!idioma es")).body == "Listo: te hablaré en español."
    turnos = await team.ask(juan, "!turnos")
    assert turnos.body.startswith("Whittier Elementary: del ")
    assert f"#{shift} 1/2 ⚠" in turnos.body
    assert "2/2 apuntados" in (await team.ask(juan, f"!tomar {shift}")).body
    assert (await team.ask(pedro, f"!claim {shift}")).body.startswith(f"Shift #{shift} (pickup")

    offer = await team.ask(juan, f"!ceder {shift}")
    assert offer.body.startswith(f"⇄ {juan.user_id} offers their slot on pickup")  # room's language
    taken = await team.ask(pedro, f"!take {shift}")
    assert taken.body.startswith("✅ The slot is yours: pickup at Whittier Elementary")
    told = await team.mention_of(juan, "tomó tu lugar")
    assert told.body.startswith(f"{juan.user_id}: {pedro.user_id} tomó tu lugar en pickup")

    assert (await team.ask(pedro, f"!unclaim {shift}")).body.startswith(f"You are off #{shift}")
    assert "✅ Estás en pickup" in (await team.ask(juan, f"!tomar {shift}")).body
    assert (await team.ask(juan, f"!soltar {shift}")).body.startswith(f"Ya no estás en #{shift}")
    assert "✅ Estás en pickup" in (await team.ask(juan, f"!tomar {shift}")).body
    mine = await team.ask(juan, "!misturnos")
    assert mine.body.startswith(f"Tus próximos turnos:\n#{shift} Whittier Elementary · pickup")

    wait = LEAD + timedelta(seconds=90)
    english = await team.mention_of(maria, "starts at", timeout=wait.total_seconds())
    spanish = await team.mention_of(juan, "empieza a las", timeout=30)
    assert english.body.startswith(f"{maria.user_id}, your pickup shift at Whittier Elementary")
    assert english.body.endswith(f"(#{shift}). Send !here when you arrive.")
    assert spanish.body.endswith(f"(#{shift}). Envía !aquí cuando llegues.")
    assert english.decrypted and spanish.decrypted
    assert "m.relates_to" not in english.source["content"]  # in the room, not a thread

    here = await team.ask(maria, "!here")
    assert here.body.startswith(f"✅ Checked in for pickup at Whittier Elementary (#{shift})")
    assert (await team.ask(juan, "!aquí")).body.startswith("✅ Llegada registrada en pickup")
    assert (await team.ask(maria, "!done")).body.startswith(f"Checked out of #{shift}.")
    assert (await team.ask(juan, "!listo")).body.startswith(f"Salida registrada de #{shift}.")
