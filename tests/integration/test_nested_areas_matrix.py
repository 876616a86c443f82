"""Nested areas on a real Synapse: a zone's alert reaches the zone, its neighborhood and
its city, but not a sibling zone; the zone, without a moderation room of its own, is
moderated in the city's."""

from __future__ import annotations

import asyncio
import re

import pytest
from integration import bot_harness
from integration.bot_harness import BotSetup, from_bot, start_bot, wait_until_joined
from integration.matrix_clients import TextEvent, UserClient, UserFactory

from plugins.relay import Relay
from plugins.sightings import Sightings

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
REPORT = "!report where: 18th & Ashland | what: detaining | agents: 2 | vehicle: white van"


def _area(slug: str, name: str, parent: str | None = None) -> dict[str, str]:
    area = {"slug": slug, "name_en": name, "name_es": name}
    return area | ({"parent": parent} if parent else {})


def _alerts(user: UserClient, room: str, setup: BotSetup, report_id: str) -> list[TextEvent]:
    """Original alert posts (not edits, not replies) about `report_id` in `room`."""
    return [
        e
        for e in user.messages(room)
        if from_bot(setup, report_id)(e)
        and "m.new_content" not in e.source["content"]
        and "ALERT" in e.body
        and "m.in_reply_to" not in (e.source["content"].get("m.relates_to") or {})
    ]


async def test_a_zone_alert_reaches_the_neighborhood_and_city_not_the_sibling_zone(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    ana, rosa, walt = await asyncio.gather(*(user_factory(n) for n in ("ana", "rosa", "walt")))
    setup.allowed_users = [walt.user_id, rosa.user_id]
    setup.moderators = [rosa.user_id]
    setup.extra = {
        "areas": [
            _area("chicago", "Chicago"),
            _area("pilsen", "Pilsen", "chicago"),
            _area("pilsen-east", "Pilsen East", "pilsen"),
            _area("pilsen-west", "Pilsen West", "pilsen"),
        ]
    }
    west = await walt.create_encrypted_room(invite=[setup.user_id, ana.user_id])
    await ana.join(west)
    rooms = {
        name: await walt.create_encrypted_room(invite=[setup.user_id])
        for name in ("east", "pilsen", "city")
    }
    mods = await rosa.create_encrypted_room(invite=[setup.user_id])
    setup.rooms = [
        {"id": west, "role": "neighborhood", "areas": ["pilsen-west"], "language": "en"},
        {"id": rooms["east"], "role": "neighborhood", "areas": ["pilsen-east"]},
        {"id": rooms["pilsen"], "role": "neighborhood", "areas": ["pilsen"]},
        {"id": rooms["city"], "role": "alerts", "areas": ["chicago"]},
        # The only moderation room is the city's: it moderates the zones too.
        {"id": mods, "role": "moderation", "areas": ["chicago"], "language": "en"},
    ]
    running = await start_bot(setup, plugins=[Sightings, Relay])
    try:
        for room in (west, mods, *rooms.values()):
            await wait_until_joined(running, room)
        event_id = await ana.send_text(west, REPORT)
        ack = await ana.wait_for_message(
            west, lambda e: from_bot(setup)(e) and _replies_to(e, event_id)
        )
        found = REPORT_ID.search(ack.body)
        assert found, ack.body
        report_id = found[0]
        await rosa.wait_for_message(mods, from_bot(setup, report_id))  # the card
        await rosa.send_text(mods, f"!confirm {report_id}")
        alerted = {"west": west, "pilsen": rooms["pilsen"], "city": rooms["city"]}
        async with asyncio.timeout(30):
            while not all(_alerts(walt, room, setup, report_id) for room in alerted.values()):
                await asyncio.sleep(0.1)
        await asyncio.sleep(2)
        for name, room in alerted.items():
            assert len(_alerts(walt, room, setup, report_id)) == 1, name
        assert not [e for e in walt.messages(rooms["east"]) if report_id in e.body]
    finally:
        await running.stop()


def _replies_to(event: TextEvent, target: str) -> bool:
    relates = event.source["content"].get("m.relates_to") or {}
    return relates.get("event_id") == target or (
        (relates.get("m.in_reply_to") or {}).get("event_id") == target
    )
