"""Networks of networks (README) on two real homeservers federating over loopback:
each network has its own bot, config and rooms; they share an encrypted exchange room and
pin each other's identity key. A confirmation in Pilsen reaches Cicero's room once, an
update edits it, a retraction cancels it; a third account's well-formed event is ignored,
and what Cicero relays is never sent back."""

from __future__ import annotations

import asyncio
import re
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from integration.bot_harness import (
    BotSetup,
    RunningBot,
    edit_of,
    from_bot,
    new_bot_setup,
    new_content,
    start_bot,
    wait_until_joined,
)
from integration.matrix_clients import TextEvent, UserClient

from bot.devtools.local_synapse import LocalSynapse
from bot.runtime.plugins import default_plugins

pytestmark = pytest.mark.integration

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
Users = Callable[[int, str], Awaitable[UserClient]]


@dataclass
class Networks:
    pilsen: BotSetup  # on the first homeserver
    cicero: BotSetup  # on the second
    bots: dict[str, RunningBot]
    ana: UserClient  # Pilsen neighbor
    rosa: UserClient  # Pilsen moderator
    org: UserClient  # Pilsen organizer: made the exchange room, in it, not a bot
    bea: UserClient  # Cicero neighbor
    hood_a: str
    mods_a: str
    hood_b: str
    exchange: str


def partner(name: str, setup: BotSetup, key: str, room: str, **sides: Any) -> dict[str, Any]:
    return {
        "name_en": name,
        "name_es": name,
        "bot": setup.user_id,
        "master_key": key,
        "room": room,
        **sides,
    }


@pytest.fixture
async def networks(
    federation: tuple[LocalSynapse, ...], federated_users: Users, tmp_path: Path, unique: str
) -> AsyncIterator[Networks]:
    a, b = federation
    pilsen = new_bot_setup(a, tmp_path / "pilsen", f"vecinos-{unique}")
    cicero = new_bot_setup(b, tmp_path / "cicero", f"vecinos-{unique}")
    ana, rosa, org = [await federated_users(0, n) for n in ("ana", "rosa", "org")]
    bea = await federated_users(1, "bea")
    pilsen.allowed_users = [ana.user_id, rosa.user_id, org.user_id]
    pilsen.moderators = [rosa.user_id]
    cicero.allowed_users = [bea.user_id, org.user_id]
    cicero.extra_areas = ["cicero"]
    hood_a = await ana.create_encrypted_room(invite=[pilsen.user_id])
    mods_a = await rosa.create_encrypted_room(invite=[pilsen.user_id])
    hood_b = await bea.create_encrypted_room(invite=[cicero.user_id])
    exchange = await org.create_encrypted_room(invite=[pilsen.user_id, cicero.user_id])
    pilsen.rooms = [
        {"id": hood_a, "role": "neighborhood", "language": "en"},
        {"id": mods_a, "role": "moderation", "language": "en"},
    ]
    cicero.rooms = [{"id": hood_b, "role": "neighborhood", "areas": ["cicero"], "language": "en"}]
    # A first start makes each bot's identity key, which the other side then pins.
    keys = {}
    for name, setup in (("pilsen", pilsen), ("cicero", cicero)):
        bot = await start_bot(setup, plugins=default_plugins())
        await wait_until_joined(bot, exchange, timeout=60)
        keys[name] = bot.matrix.identity_key
        await bot.stop()
    pilsen.extra = {
        "partners": [
            partner("Cicero Network", cicero, keys["cicero"], exchange, send_areas=["pilsen"])
        ]
    }
    cicero.extra = {
        "partners": [
            partner("Pilsen Network", pilsen, keys["pilsen"], exchange, areas={"pilsen": "cicero"})
        ]
    }
    bots = {
        "pilsen": await start_bot(pilsen, plugins=default_plugins()),
        "cicero": await start_bot(cicero, plugins=default_plugins()),
    }
    try:
        for room in (hood_a, mods_a):
            await wait_until_joined(bots["pilsen"], room)
        await wait_until_joined(bots["cicero"], hood_b)
        yield Networks(pilsen, cicero, bots, ana, rosa, org, bea, hood_a, mods_a, hood_b, exchange)
    finally:
        for bot in bots.values():
            await bot.stop()


def partner_alerts(n: Networks) -> list[TextEvent]:
    return [
        e
        for e in n.bea.messages(n.hood_b)
        if from_bot(n.cicero)(e)
        and "CONFIRMED by Pilsen Network" in e.body
        and "m.new_content" not in e.source["content"]
    ]


async def test_a_confirmation_crosses_once_and_its_changes_follow(networks: Networks) -> None:
    n = networks
    await n.ana.send_text(
        n.hood_a, "!report 18th & Ashland; two agents detaining someone | plate: ZZ99"
    )
    ack = await n.ana.wait_for_message(n.hood_a, from_bot(n.pilsen, "UNCONFIRMED"))
    report_id = REPORT_ID.findall(ack.body)[0]
    await n.rosa.send_text(n.mods_a, f"!confirm {report_id}")

    alert = await n.bea.wait_for_message(
        n.hood_b, from_bot(n.cicero, "CONFIRMED by Pilsen Network"), timeout=60
    )
    assert "cicero" in alert.body and "18th & Ashland" in alert.body
    assert "ZZ99" not in alert.body  # never the plate

    await n.rosa.send_text(n.mods_a, f"!update {report_id} moving north")
    updated = await n.bea.wait_for_message(
        n.hood_b, lambda e: from_bot(n.cicero)(e) and edit_of(alert.event_id)(e), timeout=60
    )
    assert "updated" in new_content(updated)
    await n.rosa.send_text(n.mods_a, f"!retract {report_id} it was a film crew")
    await n.bea.wait_for_message(
        n.hood_b,
        lambda e: edit_of(alert.event_id)(e) and "RETRACTED by Pilsen Network" in new_content(e),
        timeout=60,
    )
    await asyncio.sleep(1)
    assert len(partner_alerts(n)) == 1  # once


async def test_a_third_account_is_not_a_partner_and_nothing_loops_back(networks: Networks) -> None:
    n = networks
    forged = {
        "version": 1,
        "alert": "RFAKE",
        "seq": 1,
        "change": "confirmed",
        "area": "pilsen",
        "location": "Forged Street",
        "activity": "detaining",
        "observed_at": "2026-12-02T10:00:00+00:00",
        "at": "2026-12-02T10:00:00+00:00",
    }
    await n.org.send_text(n.exchange, "hello")  # shares the room key with both bots
    await n.org.client.room_send(
        n.exchange, "org.vecinos.alert.v1", forged, ignore_unverified_devices=True
    )
    # The bot has handled it once it answers a later command.
    await n.bea.send_text(n.hood_b, "!ping")
    await n.bea.wait_for_message(n.hood_b, from_bot(n.cicero, "Pong"), timeout=60)
    assert not [e for e in n.bea.messages(n.hood_b) if "Forged Street" in e.body]
    # Cicero relays Pilsen's alerts but sends nothing of them back: no event of its bot in
    # the exchange room.
    path = f"/_matrix/client/v3/rooms/{n.exchange}/messages?dir=b&limit=100"
    events = n.pilsen.synapse.admin_request("GET", path, token=n.org.access_token)["chunk"]
    assert not [
        e for e in events if e["sender"] == n.cicero.user_id and e["type"] != "m.room.member"
    ]


async def confirm_in_pilsen(n: Networks, where: str) -> str:
    await n.ana.send_text(n.hood_a, f"!report where: {where} | what: detaining")
    ack = await n.ana.wait_for_message(n.hood_a, from_bot(n.pilsen, where))
    report_id = REPORT_ID.findall(ack.body)[0]
    await n.rosa.send_text(n.mods_a, f"!confirm {report_id}")
    await n.ana.wait_for_message(n.hood_a, from_bot(n.pilsen, "CONFIRMED ALERT"))
    return report_id


async def test_a_changed_key_suspends_the_partner_until_an_admin_re_pins_it(
    networks: Networks, federated_users: Users
) -> None:
    n = networks
    await n.bots["cicero"].stop()
    admin = await federated_users(1, "admin")
    mods_b = await admin.create_encrypted_room(invite=[n.cicero.user_id])
    n.cicero.admins = [admin.user_id]
    n.cicero.allowed_users.append(admin.user_id)
    n.cicero.rooms.append(
        {"id": mods_b, "role": "moderation", "areas": ["cicero"], "language": "en"}
    )
    n.cicero.extra["partners"][0]["master_key"] = "A" * 43  # not what Pilsen's bot shows
    n.bots["cicero"] = await start_bot(n.cicero, plugins=default_plugins())
    await wait_until_joined(n.bots["cicero"], mods_b)

    await confirm_in_pilsen(n, "26th & Pulaski")
    told = await admin.wait_for_message(
        mods_b,
        from_bot(n.cicero, "identity key of the partner network Pilsen Network changed"),
        timeout=60,
    )
    assert f"!partner trust {n.pilsen.user_id}" in told.body
    assert not partner_alerts(n)  # suspended: nothing relayed

    await admin.send_text(mods_b, f"!partner trust {n.pilsen.user_id}")
    await admin.wait_for_message(mods_b, from_bot(n.cicero, "re-pinned"))
    await confirm_in_pilsen(n, "Cermak & Kedzie")
    alert = await n.bea.wait_for_message(
        n.hood_b, from_bot(n.cicero, "CONFIRMED by Pilsen Network"), timeout=60
    )
    assert "Cermak & Kedzie" in alert.body


async def test_a_ring_of_three_networks_does_not_loop(
    federation: tuple[LocalSynapse, ...], federated_users: Users, tmp_path: Path, unique: str
) -> None:
    """Pilsen -> Cicero -> Lawndale -> Pilsen, each sending its own area on: an alert of
    Pilsen reaches Cicero, and goes no further."""
    a, b = federation
    org = await federated_users(0, "org")  # makes the exchange rooms
    names = {"p": (a, "pilsen"), "c": (b, "cicero"), "l": (a, "lawndale")}
    setups = {k: new_bot_setup(s, tmp_path / k, f"{k}-{unique}") for k, (s, _) in names.items()}
    ana, rosa, bea, lu = (
        await federated_users(0, "ana"),
        await federated_users(0, "rosa"),
        await federated_users(1, "bea"),
        await federated_users(0, "lu"),
    )
    hoods = {
        "p": await ana.create_encrypted_room(invite=[setups["p"].user_id]),
        "c": await bea.create_encrypted_room(invite=[setups["c"].user_id]),
        "l": await lu.create_encrypted_room(invite=[setups["l"].user_id]),
    }
    mods = await rosa.create_encrypted_room(invite=[setups["p"].user_id])
    for key, setup in setups.items():
        area = names[key][1]
        setup.extra_areas = [area] if area != "pilsen" else []
        setup.allowed_users = [org.user_id, ana.user_id, rosa.user_id, bea.user_id, lu.user_id]
        setup.rooms = [{"id": hoods[key], "role": "neighborhood", "areas": [area]}]
    setups["p"].moderators = [rosa.user_id]
    setups["p"].rooms.append({"id": mods, "role": "moderation", "areas": ["pilsen"]})
    ring = [("p", "c"), ("c", "l"), ("l", "p")]  # (sender, receiver)
    exchange = {
        pair: await org.create_encrypted_room(invite=[setups[k].user_id for k in pair])
        for pair in ring
    }
    keys = {}
    for key, setup in setups.items():
        bot = await start_bot(setup, plugins=default_plugins())
        for pair, room in exchange.items():
            if key in pair:
                await wait_until_joined(bot, room, timeout=60)
        keys[key] = bot.matrix.identity_key
        await bot.stop()
    for sender, receiver in ring:
        room, area = exchange[(sender, receiver)], names[sender][1]
        setups[sender].extra.setdefault("partners", []).append(
            partner(receiver, setups[receiver], keys[receiver], room, send_areas=[area])
        )
        ours = names[receiver][1]
        setups[receiver].extra.setdefault("partners", []).append(
            partner(sender, setups[sender], keys[sender], room, areas={area: ours})
        )
    bots = [await start_bot(setup, plugins=default_plugins()) for setup in setups.values()]
    try:
        for bot, hood in zip(bots, hoods.values(), strict=True):
            await wait_until_joined(bot, hood)
        await ana.send_text(hoods["p"], "!report where: 18th & Ashland | what: detaining")
        ack = await ana.wait_for_message(hoods["p"], from_bot(setups["p"], "UNCONFIRMED"))
        await rosa.send_text(mods, f"!confirm {REPORT_ID.findall(ack.body)[0]}")
        await bea.wait_for_message(hoods["c"], from_bot(setups["c"], "CONFIRMED by p"), timeout=60)
        # Lawndale's bot is alive and has had time: still nothing reached it.
        await lu.send_text(hoods["l"], "!ping")
        await lu.wait_for_message(hoods["l"], from_bot(setups["l"], "Pong"), timeout=60)
        await asyncio.sleep(2)
        assert not [e for e in lu.messages(hoods["l"]) if "CONFIRMED" in e.body]
        path = f"/_matrix/client/v3/rooms/{exchange[('c', 'l')]}/messages?dir=b&limit=100"
        events = a.admin_request("GET", path, token=org.access_token)["chunk"]
        from_cicero = [e["type"] for e in events if e["sender"] == setups["c"].user_id]
        assert from_cicero == ["m.room.member"]  # it joined, and sent nothing on
    finally:
        for bot in bots:
            await bot.stop()
