"""Subscriptions on a real Synapse, with real encrypted direct chats and real matrix-nio clients.

- A zone's confirmed alert reaches, in their direct chats, exactly the subscribers of the
  areas that alert reaches (the zone, its parents, its sub-areas and the areas it lists as
  near), each once, and nobody else; an all-clear edits each person's own copy.
- `who = "members"`: a stranger's direct chat is refused. `who = "vouched"`: a stranger's
  is accepted, a member's one-time code lets them in once, a second stranger with the same
  code is told it was used.
- `!unsubscribe all` stops the alerts in that chat. (Expected to fail for now: someone
  removed from the network's rooms under `who = "members"` still gets the alerts.)
- `kill -9` of `vecinos run` in the middle of a fan-out to 200 subscribers: after the
  restart every subscriber has the alert exactly once, and can read it.
"""

from __future__ import annotations

import asyncio
import contextlib
import re
import secrets
import signal
import sqlite3
import subprocess
import time
from collections import Counter
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from integration import bot_harness
from integration.bot_harness import (
    BotSetup,
    RunningBot,
    edit_of,
    from_bot,
    new_content,
    spawn_bot,
    start_bot,
    wait_until_joined,
    wait_until_member,
)
from integration.matrix_clients import TextEvent, UserClient, UserFactory
from nio import (
    AsyncClient,
    AsyncClientConfig,
    EncryptionError,
    KeysUploadResponse,
    MegolmEvent,
    RoomCreateResponse,
    RoomMessageNotice,
    RoomMessageText,
    RoomSendResponse,
    SyncResponse,
)

from bot.devtools.local_synapse import LocalSynapse
from plugins.relay import Relay
from plugins.sightings import Sightings
from plugins.subscriptions import SubscriptionsPlugin

pytestmark = pytest.mark.integration

setup = bot_harness.setup  # the fixture: a new bot account and its config

PLUGINS = [Sightings, Relay, SubscriptionsPlugin]
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
CODE = re.compile(r"\b[2-9A-HJKMNP-Z]{8}\b")
REPORT = "!report where: 18th & Ashland | what: detaining | agents: 2 | vehicle: white van"
SECOND_REPORT = "!report where: Cermak & Damen | what: checkpoint | agents: 3 | vehicle: none"
ENCRYPTION = {
    "type": "m.room.encryption",
    "state_key": "",
    "content": {"algorithm": "m.megolm.v1.aes-sha2"},
}


def _area(
    slug: str, name: str, parent: str | None = None, near: Sequence[str] = ()
) -> dict[str, Any]:
    area: dict[str, Any] = {"slug": slug, "name_en": name, "name_es": name}
    if parent:
        area["parent"] = parent
    if near:
        area["near"] = list(near)
    return area


# chicago > pilsen > {pilsen-east > east-18th, pilsen-west}; little-village and bridgeport
# are in chicago beside pilsen, and pilsen-east lists little-village as near.
AREAS = [
    _area("chicago", "Chicago"),
    _area("pilsen", "Pilsen", "chicago"),
    _area("pilsen-east", "Pilsen East", "pilsen", near=["little-village"]),
    _area("pilsen-west", "Pilsen West", "pilsen"),
    _area("east-18th", "East 18th", "pilsen-east"),
    _area("little-village", "Little Village", "chicago"),
    _area("bridgeport", "Bridgeport", "chicago"),
]
# What an alert of pilsen-east reaches: itself, its parent and grandparent, its sub-area
# and its near area; not its sibling pilsen-west, not bridgeport.
REACHED = frozenset({"pilsen-east", "pilsen", "chicago", "east-18th", "little-village"})
# (name, areas subscribed to, how many people): 24 subscribers, 16 of them reached.
PLAN: list[tuple[str, tuple[str, ...], int]] = [
    ("zone", ("pilsen-east",), 4),
    ("hood", ("pilsen",), 3),
    ("city", ("chicago",), 3),
    ("block", ("east-18th",), 2),
    ("near", ("little-village",), 2),
    ("twice", ("pilsen-east", "chicago"), 2),  # two areas reached: still one alert
    ("sibling", ("pilsen-west",), 4),
    ("other", ("bridgeport",), 3),
    ("neither", ("pilsen-west", "bridgeport"), 1),
]


# --- what the clients see ---------------------------------------------------------------


def _relates(event: TextEvent) -> dict[str, Any]:
    relates: dict[str, Any] = event.source["content"].get("m.relates_to") or {}
    return relates


def _answers(event: TextEvent, target: str) -> bool:
    """A reply to `target`, in its thread or not."""
    relates = _relates(event)
    return relates.get("event_id") == target or (
        (relates.get("m.in_reply_to") or {}).get("event_id") == target
    )


def _original_alerts(events: Iterable[TextEvent], bot_id: str, report_id: str) -> list[TextEvent]:
    """The bot's alert posts about `report_id`: not their edits, not the follow-ups."""
    return [
        e
        for e in events
        if e.sender == bot_id
        and report_id in e.body
        and "ALERT" in e.body
        and "m.new_content" not in e.source["content"]
        and "m.in_reply_to" not in _relates(e)
    ]


async def _ask(user: UserClient, room: str, text: str, setup: BotSetup) -> str:
    """Send `text`, and the bot's answer to it."""
    asked = await user.send_text(room, text)
    answer = await user.wait_for_message(
        room, lambda e: from_bot(setup)(e) and _answers(e, asked), timeout=60
    )
    return str(answer.body)


async def _direct_chat(user: UserClient, running: RunningBot) -> str:
    """A direct chat `user` opens with the bot, once the bot is in it."""
    dm = await user.create_encrypted_room(invite=[running.matrix.own_user_id], is_direct=True)
    await wait_until_joined(running, dm, timeout=60)
    return dm


async def _confirmed(
    reporter: UserClient, room: str, rosa: UserClient, mods: str, setup: BotSetup, text: str
) -> str:
    """A report by `reporter` in `room`, confirmed by the moderator; its id."""
    ack = await _ask(reporter, room, text, setup)
    found = REPORT_ID.search(ack)
    assert found, ack
    await rosa.wait_for_message(mods, from_bot(setup, found[0]), timeout=60)  # the card
    await rosa.send_text(mods, f"!confirm {found[0]}")
    return found[0]


async def _until(check: Callable[[], bool], timeout: float = 60, every: float = 0.1) -> None:
    async with asyncio.timeout(timeout):
        while not check():
            await asyncio.sleep(every)


def _have_joined(running: RunningBot, room: str, users: Iterable[str]) -> Callable[[], bool]:
    """Whether `users` have all joined `room`, as the bot's own sync sees it."""
    wanted = set(users)

    def check() -> bool:
        found = running.matrix.client.rooms.get(room)
        members = found.users if found is not None else {}
        return all(user in members and not members[user].invited for user in wanted)

    return check


async def _membership(user: UserClient, room: str, target: str) -> str:
    answer = await user.client.room_get_state_event(room, "m.room.member", target)
    return str(answer.content.get("membership"))


@dataclass
class Network:
    setup: BotSetup
    bot: RunningBot
    rosa: UserClient  # moderator, made the rooms
    eve: UserClient  # reports in the zone's room
    mods: str
    rooms: dict[str, str]  # neighborhood rooms by area


async def _network(
    setup: BotSetup,
    user_factory: UserFactory,
    members: dict[str, list[UserClient]],
    who: str = "members",
) -> Network:
    """A moderation room for the city and a neighborhood room per zone (`members`' keys),
    with those people in them; the bot running in-process with `[subscriptions] who`."""
    rosa, eve = await asyncio.gather(user_factory("rosa"), user_factory("eve"))
    bot_id = setup.user_id
    setup.allowed_users = [rosa.user_id]
    setup.moderators = [rosa.user_id]
    setup.extra = {"areas": AREAS, "subscriptions": {"who": who}}
    mods = await rosa.create_encrypted_room(invite=[bot_id], name="Moderation")
    first = next(iter(members))
    rooms: dict[str, str] = {}
    for area, people in members.items():
        invited = [p.user_id for p in people] + ([eve.user_id] if area == first else [])
        rooms[area] = await rosa.create_encrypted_room(invite=[bot_id, *invited], name=area)
    joins = [p.join(rooms[area], timeout=60) for area, people in members.items() for p in people]
    await asyncio.gather(eve.join(rooms[first], timeout=60), *joins)
    setup.rooms = [
        {"id": mods, "role": "moderation", "areas": ["chicago"], "language": "en"},
        *(
            {"id": room, "role": "neighborhood", "areas": [area], "language": "en"}
            for area, room in rooms.items()
        ),
    ]
    running = await start_bot(setup, plugins=PLUGINS)
    try:
        for room in (mods, *rooms.values()):
            await wait_until_joined(running, room)
        # The bot serves a member's direct chat once its sync has seen them in a room.
        for area, people in members.items():
            await _until(_have_joined(running, rooms[area], [p.user_id for p in people]))
    except BaseException:
        await running.stop()
        raise
    return Network(setup, running, rosa, eve, mods, rooms)


# --- 1. a zone's alert reaches exactly the subscribers of the areas it reaches ------------


async def test_a_zone_alert_reaches_exactly_the_subscribers_of_the_areas_it_reaches(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    started = time.monotonic()
    wanted = [(f"{name}{n}", areas) for name, areas, count in PLAN for n in range(count)]
    people = await asyncio.gather(*(user_factory(name) for name, _ in wanted))
    subscribed = dict(zip((p.user_id for p in people), (a for _, a in wanted), strict=True))
    # Everyone is a member (who = "members"): half in the zone's room, half in its sibling's.
    net = await _network(
        setup,
        user_factory,
        {"pilsen-east": list(people[::2]), "pilsen-west": list(people[1::2])},
    )
    try:
        assert net.bot.app.bot.settings.alert_areas("pilsen-east") == REACHED
        dms = dict(
            zip(
                (p.user_id for p in people),
                await asyncio.gather(*(_subscribe(p, net, subscribed[p.user_id]) for p in people)),
                strict=True,
            )
        )
        reached = [p for p in people if set(subscribed[p.user_id]) & REACHED]
        others = [p for p in people if p not in reached]
        assert (len(reached), len(others)) == (16, 8)
        setup_done = time.monotonic()

        report_id = await _confirmed(
            net.eve, net.rooms["pilsen-east"], net.rosa, net.mods, setup, REPORT
        )
        alerts = await asyncio.gather(
            *(
                p.wait_for_message(dms[p.user_id], _alert_of(setup, report_id), timeout=60)
                for p in reached
            )
        )
        await asyncio.sleep(3)  # time for a second copy, or a copy to the wrong person
        for person in reached:
            copies = _original_alerts(
                person.messages(dms[person.user_id]), setup.user_id, report_id
            )
            assert len(copies) == 1, (subscribed[person.user_id], len(copies))
        for person in others:
            got = [e for e in person.messages(dms[person.user_id]) if report_id in e.body]
            assert got == [], subscribed[person.user_id]
        assert len({a.event_id for a in alerts}) == len(reached)  # a copy of one's own each

        await net.rosa.send_text(net.mods, f"!clear {report_id}")
        edits = await asyncio.gather(
            *(
                p.wait_for_message(dms[p.user_id], edit_of(alert.event_id), timeout=60)
                for p, alert in zip(reached, alerts, strict=True)
            )
        )
        follow_ups = await asyncio.gather(
            *(
                p.wait_for_message(dms[p.user_id], _follow_up_of(setup, alert), timeout=60)
                for p, alert in zip(reached, alerts, strict=True)
            )
        )
        for edit, follow_up in zip(edits, follow_ups, strict=True):
            assert "ALL CLEAR" in new_content(edit)
            assert report_id in follow_up.body
        await asyncio.sleep(1)
        for person in others:
            assert not [e for e in person.messages(dms[person.user_id]) if report_id in e.body]
        print(
            f"\n24 subscribers: set-up {setup_done - started:.1f}s,"
            f" alert and all-clear {time.monotonic() - setup_done:.1f}s"
        )
    finally:
        await net.bot.stop()


def _alert_of(setup: BotSetup, report_id: str) -> Callable[[TextEvent], bool]:
    return lambda e: bool(_original_alerts([e], setup.user_id, report_id))


def _follow_up_of(setup: BotSetup, alert: TextEvent) -> Callable[[TextEvent], bool]:
    return lambda e: from_bot(setup, "All clear")(e) and _answers(e, alert.event_id)


async def _subscribe(person: UserClient, net: Network, areas: Sequence[str]) -> str:
    """`person` opens a direct chat with the bot and subscribes to `areas` there."""
    dm = await _direct_chat(person, net.bot)
    answer = await _ask(person, dm, f"!subscribe {' '.join(areas)}", net.setup)
    assert answer.startswith("Subscribed: you will get the confirmed alerts of"), answer
    return dm


# --- 2. who may subscribe -----------------------------------------------------------------


async def test_with_members_a_strangers_direct_chat_is_refused(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    ana, zed = await asyncio.gather(user_factory("ana"), user_factory("zed"))
    net = await _network(setup, user_factory, {"pilsen-east": [ana]}, who="members")
    try:
        member_dm = await _direct_chat(ana, net.bot)
        answer = await _ask(ana, member_dm, "!vouch", setup)
        assert answer.startswith("No code is needed here"), answer
        stranger_dm = await zed.create_encrypted_room(invite=[setup.user_id], is_direct=True)
        # The bot rejects the invite of someone who shares none of its rooms.
        async with asyncio.timeout(60):
            while await _membership(zed, stranger_dm, setup.user_id) == "invite":
                await asyncio.sleep(0.2)
        assert await _membership(zed, stranger_dm, setup.user_id) == "leave"
        assert stranger_dm not in net.bot.matrix.client.rooms
        rows = await net.bot.app.bot.db.fetchall("SELECT * FROM subscribers")
        assert rows == []
    finally:
        await net.bot.stop()


async def test_with_vouched_a_code_lets_one_stranger_in_once(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    ana, nico, otto = await asyncio.gather(*(user_factory(n) for n in ("ana", "nico", "otto")))
    net = await _network(setup, user_factory, {"pilsen-east": [ana]}, who="vouched")
    try:
        member_dm = await _direct_chat(ana, net.bot)
        vouched = await _ask(ana, member_dm, "!vouch", setup)
        code = CODE.search(vouched)
        assert code and "valid 48 hours" in vouched, vouched

        nico_dm = await _direct_chat(nico, net.bot)  # a stranger's chat is accepted
        refused = await _ask(nico, nico_dm, "!subscribe pilsen-east", setup)
        assert refused.startswith("You need a code from a member first"), refused
        joined = await _ask(nico, nico_dm, f"!join {code[0]}", setup)
        assert joined.startswith("You are in."), joined
        subscribed = await _ask(nico, nico_dm, "!subscribe pilsen-east", setup)
        assert subscribed.startswith("Subscribed"), subscribed

        otto_dm = await _direct_chat(otto, net.bot)
        again = await _ask(otto, otto_dm, f"!join {code[0].lower()}", setup)
        assert again == "That code was used already: each code works once. Ask for a new one."
        still = await _ask(otto, otto_dm, "!subscribe pilsen-east", setup)
        assert still.startswith("You need a code from a member first"), still
        counts = await net.bot.app.bot.db.fetchall(
            "SELECT area, COUNT(*) AS n FROM subscriptions GROUP BY area"
        )
        assert [(row["area"], row["n"]) for row in counts] == [("pilsen-east", 1)]
    finally:
        await net.bot.stop()


# --- 3. unsubscribing ---------------------------------------------------------------------


async def test_unsubscribe_all_stops_the_alerts_in_that_chat(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    ana, ben = await asyncio.gather(user_factory("ana"), user_factory("ben"))
    net = await _network(setup, user_factory, {"pilsen-east": [ana, ben]})
    try:
        ana_dm, ben_dm = await asyncio.gather(
            _subscribe(ana, net, ["pilsen"]), _subscribe(ben, net, ["pilsen"])
        )
        room = net.rooms["pilsen-east"]
        first = await _confirmed(net.eve, room, net.rosa, net.mods, setup, REPORT)
        await ana.wait_for_message(ana_dm, _alert_of(setup, first), timeout=60)
        await ben.wait_for_message(ben_dm, _alert_of(setup, first), timeout=60)

        done = await _ask(ana, ana_dm, "!unsubscribe all", setup)
        assert done.startswith("Done: no more alerts here"), done
        listing = await _ask(ana, ana_dm, "!subscriptions", setup)
        assert listing.startswith("You have no subscriptions"), listing

        second = await _confirmed(net.eve, room, net.rosa, net.mods, setup, SECOND_REPORT)
        await ben.wait_for_message(ben_dm, _alert_of(setup, second), timeout=60)  # it went out
        await asyncio.sleep(3)
        assert not [e for e in ana.messages(ana_dm) if second in e.body]
        assert len(_original_alerts(ana.messages(ana_dm), setup.user_id, first)) == 1
    finally:
        await net.bot.stop()


async def test_with_members_someone_removed_from_the_rooms_gets_no_more_alerts(
    setup: BotSetup, user_factory: UserFactory
) -> None:
    ana, ben = await asyncio.gather(user_factory("ana"), user_factory("ben"))
    net = await _network(setup, user_factory, {"pilsen-east": [ana, ben]})
    try:
        ana_dm, ben_dm = await asyncio.gather(
            _subscribe(ana, net, ["pilsen"]), _subscribe(ben, net, ["pilsen"])
        )
        room = net.rooms["pilsen-east"]
        await net.rosa.client.room_kick(room, ana.user_id, reason="not a neighbor")
        await _until(lambda: ana.user_id not in net.bot.matrix.client.rooms[room].users)
        report_id = await _confirmed(net.eve, room, net.rosa, net.mods, setup, REPORT)
        await ben.wait_for_message(ben_dm, _alert_of(setup, report_id), timeout=60)
        await asyncio.sleep(3)
        assert not [e for e in ana.messages(ana_dm) if report_id in e.body]
    finally:
        await net.bot.stop()


# --- 4. kill -9 in the middle of a fan-out ------------------------------------------------

SUBSCRIBERS = 200
# Subscribers opening their chat and subscribing at once (the bot serves them one sync
# batch at a time; more at once only queue up on the homeserver).
OPENING_AT_ONCE = 20
# Kill once this many direct chats were sent the alert (as the bot's outbox records it).
KILL_AFTER = 20
LIGHT_FILTER = {"room": {"timeline": {"limit": 100}}}


@dataclass
class LightSubscriber:
    """A person on a real E2E device (nio, its own crypto store) who syncs only when the test
    asks: 200 of these cost far less than 200 clients long-polling all the time."""

    client: AsyncClient
    bot_id: str
    dm: str = ""
    # The bot's messages in the direct chat, decrypted, and the ones whose key is missing.
    texts: list[TextEvent] = field(default_factory=list)
    undecrypted: list[MegolmEvent] = field(default_factory=list)

    @property
    def user_id(self) -> str:
        return str(self.client.user_id)

    @property
    def token(self) -> str:
        return str(self.client.access_token)

    async def sync(self, poll_ms: int = 2000) -> None:
        response = await self.client.sync(timeout=poll_ms, sync_filter=LIGHT_FILTER)
        if not isinstance(response, SyncResponse):
            raise RuntimeError(f"{self.user_id}: sync failed: {response}")
        joined = response.rooms.join.get(self.dm) if self.dm else None
        for event in joined.timeline.events if joined is not None else ():
            if event.sender != self.bot_id:
                continue
            if isinstance(event, MegolmEvent):
                self.undecrypted.append(event)
            elif isinstance(event, RoomMessageText | RoomMessageNotice):
                self.texts.append(event)
        for event in list(self.undecrypted):  # a key that came after its message
            with contextlib.suppress(EncryptionError):
                decrypted = self.client.decrypt_event(event)
                self.undecrypted.remove(event)
                if isinstance(decrypted, RoomMessageText | RoomMessageNotice):
                    self.texts.append(decrypted)

    def bot_joined(self) -> bool:
        room = self.client.rooms.get(self.dm)
        member = room.users.get(self.bot_id) if room is not None else None
        return member is not None and not member.invited


async def _light_subscriber(
    synapse: LocalSynapse, stores: Path, localpart: str, bot_id: str
) -> LightSubscriber:
    """Registered with the admin API (no login), its device's keys uploaded."""
    user = await asyncio.to_thread(synapse.register, localpart, secrets.token_urlsafe(12))
    store = stores / localpart
    store.mkdir(parents=True)  # nio makes no Olm machine without it
    client = AsyncClient(
        synapse.base_url,
        user.user_id,
        device_id=user.device_id,
        store_path=str(store),
        config=AsyncClientConfig(store_sync_tokens=False, encryption_enabled=True),
    )
    client.restore_login(user.user_id, user.device_id, user.access_token)
    assert client.olm is not None, "no Olm machine: the messages would go out in plaintext"
    uploaded = await client.keys_upload()
    assert isinstance(uploaded, KeysUploadResponse), uploaded
    return LightSubscriber(client, bot_id)


async def _open_and_subscribe(sub: LightSubscriber, area: str) -> None:
    """Open a direct chat with the bot, `!subscribe AREA` once it is in, wait for its answer."""
    created = await sub.client.room_create(
        invite=[sub.bot_id], is_direct=True, initial_state=[ENCRYPTION]
    )
    assert isinstance(created, RoomCreateResponse), created
    sub.dm = created.room_id
    async with asyncio.timeout(120):
        while not sub.bot_joined():
            await sub.sync()
        sent = await sub.client.room_send(
            sub.dm,
            "m.room.message",
            {"msgtype": "m.text", "body": f"!subscribe {area}"},
            ignore_unverified_devices=True,
        )
        assert isinstance(sent, RoomSendResponse), sent
        while not sub.texts:
            await sub.sync()
    assert sub.texts[0].body.startswith("Subscribed"), sub.texts[0].body


def _bot_events(synapse: LocalSynapse, sub: LightSubscriber) -> int:
    """How many messages the bot posted in `sub`'s direct chat, as the homeserver has them
    (read with the subscriber's own token; encrypted, so only counted)."""
    path = f"/_matrix/client/v3/rooms/{sub.dm}/messages?dir=b&limit=100"
    answer = synapse.admin_request("GET", path, token=sub.token)
    return sum(
        1
        for event in answer["chunk"]
        if event["sender"] == sub.bot_id and event["type"] in ("m.room.encrypted", "m.room.message")
    )


async def _bot_event_counts(synapse: LocalSynapse, subs: Sequence[LightSubscriber]) -> list[int]:
    return list(await asyncio.gather(*(asyncio.to_thread(_bot_events, synapse, s) for s in subs)))


def _alert_deliveries(setup: BotSetup, dms: set[str]) -> Counter[str]:
    """The bot's outbox rows of alerts (not edits, not follow-ups) to `dms`, by state."""
    with contextlib.closing(sqlite3.connect(setup.dir / "data" / "vecinos.db")) as db:
        rows = db.execute(
            "SELECT room_id, state FROM outbox WHERE key LIKE 'relay:%'"
            " AND edit_of_key IS NULL AND reply_to_key IS NULL"
        ).fetchall()
    return Counter(state for room_id, state in rows if room_id in dms)


def _subscribed(setup: BotSetup, area: str) -> int:
    with contextlib.closing(sqlite3.connect(setup.dir / "data" / "vecinos.db")) as db:
        row = db.execute("SELECT COUNT(*) FROM subscriptions WHERE area = ?", (area,)).fetchone()
    return int(row[0])


def _stop(process: subprocess.Popen[bytes], sig: signal.Signals) -> None:
    process.send_signal(sig)
    process.wait(timeout=30)


async def test_kill_9_during_a_fan_out_to_200_subscribers_delivers_each_exactly_once(
    setup: BotSetup, synapse: LocalSynapse, user_factory: UserFactory, tmp_path: Path
) -> None:
    started = time.monotonic()
    rosa, eve = await asyncio.gather(user_factory("rosa"), user_factory("eve"))
    setup.allowed_users = [rosa.user_id]
    setup.moderators = [rosa.user_id]
    # A public alert line: 200 strangers subscribe without joining a room first.
    setup.extra = {"subscriptions": {"who": "anyone"}}
    hood = await rosa.create_encrypted_room(invite=[setup.user_id, eve.user_id], name="Pilsen")
    mods = await rosa.create_encrypted_room(invite=[setup.user_id], name="Moderation")
    await eve.join(hood)
    setup.rooms = [
        {"id": hood, "role": "neighborhood", "areas": ["pilsen"], "language": "en"},
        {"id": mods, "role": "moderation", "areas": ["pilsen"], "language": "en"},
    ]
    bot = spawn_bot(setup)
    subs: list[LightSubscriber] = []
    try:
        for room in (hood, mods):
            await wait_until_member(synapse, rosa.access_token, room, setup.user_id)
        stores, tag = tmp_path / "light-stores", secrets.token_hex(3)
        subs = list(
            await asyncio.gather(
                *(
                    _light_subscriber(synapse, stores, f"sub{n}-{tag}", setup.user_id)
                    for n in range(SUBSCRIBERS)
                )
            )
        )
        registered = time.monotonic()
        opening = asyncio.Semaphore(OPENING_AT_ONCE)

        async def subscribe(sub: LightSubscriber) -> None:
            async with opening:
                await _open_and_subscribe(sub, "pilsen")

        await asyncio.gather(*(subscribe(sub) for sub in subs))
        assert _subscribed(setup, "pilsen") == SUBSCRIBERS
        subscribed = time.monotonic()
        before = await _bot_event_counts(synapse, subs)
        assert before == [1] * SUBSCRIBERS  # the answer to !subscribe, nothing else
        dms = {sub.dm for sub in subs}

        report_id = await _confirmed(eve, hood, rosa, mods, setup, REPORT)
        async with asyncio.timeout(60):
            while _alert_deliveries(setup, dms)["sent"] < KILL_AFTER:
                await asyncio.sleep(0.005)
        _stop(bot, signal.SIGKILL)
        killed = time.monotonic()
        recorded = _alert_deliveries(setup, dms)
        after_kill = await _bot_event_counts(synapse, subs)
        got = sum(now - then for now, then in zip(after_kill, before, strict=True))
        assert set(after_kill) <= {1, 2}, Counter(after_kill)
        assert KILL_AFTER <= got < SUBSCRIBERS, "the kill came too late to test anything"
        assert recorded["sent"] + recorded["pending"] == SUBSCRIBERS, recorded

        bot = spawn_bot(setup)
        async with asyncio.timeout(120):
            while _alert_deliveries(setup, dms)["sent"] < SUBSCRIBERS:
                await asyncio.sleep(0.2)
        await asyncio.sleep(3)  # a duplicate would have landed by now
        final = await _bot_event_counts(synapse, subs)
        assert Counter(final) == Counter({2: SUBSCRIBERS})  # the answer and one alert each
        _stop(bot, signal.SIGTERM)
        restarted = time.monotonic()

        # Each subscriber's device reads its one alert: the keys came, before or after the kill.
        reading = asyncio.Semaphore(OPENING_AT_ONCE)

        async def read(sub: LightSubscriber) -> None:
            async with reading, asyncio.timeout(60):
                while not _original_alerts(sub.texts, setup.user_id, report_id):
                    await sub.sync(poll_ms=1000)

        await asyncio.gather(*(read(sub) for sub in subs))
        for sub in subs:
            assert len(_original_alerts(sub.texts, setup.user_id, report_id)) == 1, sub.user_id
            assert sub.undecrypted == [], sub.user_id
        print(
            f"\n{SUBSCRIBERS} subscribers: registered in {registered - started:.1f}s,"
            f" subscribed in {subscribed - registered:.1f}s; killed after"
            f" {recorded['sent']} of {SUBSCRIBERS} marked sent ({got} on the server),"
            f" {killed - subscribed:.1f}s after subscribing; restart to all delivered"
            f" {restarted - killed:.1f}s; read by every device in"
            f" {time.monotonic() - restarted:.1f}s"
        )
    finally:
        if bot.poll() is None:
            _stop(bot, signal.SIGTERM)
        await asyncio.gather(*(sub.client.close() for sub in subs))
