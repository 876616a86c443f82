"""Subscriptions on Signal: the whole bot (default plugins, subscriptions among them) on the
fake signal-cli daemon, with people subscribing in one-to-one chats.

A confirmed alert reaches each subscriber of the areas it reaches once, as a `send` to
their uuid (not to a group), in their language; an update edits each copy (an edit message
whose target is that copy's timestamp) and adds a follow-up quoting it; with `who =
members` a stranger gets no answer, with `who = anyone` their first message gets the
instructions and `!subscribe` works; `!unsubscribe all` stops delivery; a rate-limited
send to one subscriber is sent again later, after the others' copies.

Checked against real signal-cli 0.13.19 (test_signal_cli_contract.py, and the golden file
replayed by test_signal_fake_golden.py): the JSON-RPC shapes of a send to recipients, of
its results, of the -5 answer when every recipient was rate limited (results in the
error's data) and of a proof-required limit's `retryAfterSeconds`. The fake's alone:
that Signal's server refuses a given subscriber (`fail_sends_to`), and when; a
`retryAfterSeconds` on a plain rate limit, which 0.14 gives and 0.13.19 does not.
"""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import AsyncIterator, Callable
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import tomli_w
from signal_fake import FakeSignalDaemon, Group, Person, Sent, envelopes
from signal_fake.harness import ALICE, BETO, BOT, eventually, new_daemon
from testkit.config import load_settings

from bot.runtime.app import Application
from bot.runtime.connect import configured_transports
from bot.runtime.plugins import default_plugins
from bot.storage.keys import DataKey

pytestmark = pytest.mark.integration

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
REPORT = "!report where: 18th & Ashland | what: detaining | agents: 2 | vehicle: white van"
RUTH = Person("Ruth", "6e5d4c3b-5555-4a2b-8c1d-0a0b0c0d0e0f", "+15550005555")
CARMEN = Person("Carmen", "7f6e5d4c-7777-4b3a-9c2d-1e2f3a4b5c6d", "+15550007777")
MORA = Person("Mora", "0b7e2f4c-4444-4a5b-9c6d-112233445566", "+15550004444")  # moderator
ZOE = Person("Zoe", "9c2e5a7d-6666-4b1c-8d2e-998877665544", "+15550006666")  # in no group
HOOD = base64.b64encode(bytes([7]) * 32).decode()  # Pilsen: Alice, Beto
# Little Village: Carmen, and Ruth (who follows Pilsen too: only her 1:1 copy goes to her).
VILLAGE = base64.b64encode(bytes([8]) * 32).decode()
MODS = base64.b64encode(bytes([9]) * 32).decode()
TIMEOUT = 30.0


@pytest.fixture
async def daemon() -> AsyncIterator[FakeSignalDaemon]:
    fake = new_daemon()
    fake.add_person(ZOE)
    fake.add_group(Group(HOOD, "Pilsen vecinos", members=[BOT, ALICE, BETO]))
    fake.add_group(Group(VILLAGE, "La Villita", members=[BOT, CARMEN, RUTH]))
    fake.add_group(Group(MODS, "Moderators", members=[BOT, MORA]))
    await fake.start()
    yield fake
    await fake.stop()


def write_config(directory: Path, daemon: FakeSignalDaemon, who: str, mode: str) -> Path:
    address = {"url": daemon.url} if mode == "http" else {"port": daemon.tcp_port}
    config = {
        "moderators": [MORA.uuid],
        "bot": {"data_dir": str(directory / "data")},
        "signal": {"account": daemon.account, "mode": mode, **address},
        "areas": [
            {"slug": "pilsen", "name_en": "Pilsen", "name_es": "Pilsen"},
            {"slug": "little-village", "name_en": "Little Village", "name_es": "La Villita"},
        ],
        "rooms": [
            {"id": HOOD, "transport": "signal", "role": "neighborhood", "areas": ["pilsen"]},
            {
                "id": VILLAGE,
                "transport": "signal",
                "role": "neighborhood",
                "areas": ["little-village"],
            },
            {
                "id": MODS,
                "transport": "signal",
                "role": "moderation",
                "areas": ["pilsen", "little-village"],
            },
        ],
        "subscriptions": {"who": who},
    }
    path = directory / "config.toml"
    path.write_text(tomli_w.dumps(config), encoding="utf-8")
    return path


async def running_bot(
    directory: Path, daemon: FakeSignalDaemon, who: str = "members", mode: str = "http"
) -> Application:
    settings = load_settings(write_config(directory, daemon, who, mode), env={})
    app = Application(settings, DataKey.generate(), default_plugins())
    await app.open()
    await app.start(await configured_transports(app))
    return app


@pytest.fixture
async def app(tmp_path: Path, daemon: FakeSignalDaemon) -> AsyncIterator[Application]:
    application = await running_bot(tmp_path, daemon)
    yield application
    await application.stop()


# --- what went out ----------------------------------------------------------------------


def to_person(daemon: FakeSignalDaemon, person: Person) -> list[Sent]:
    """The bot's sends to `person` alone, one to one: never a group send."""
    return [
        s for s in daemon.sent if s.method == "send" and s.params.get("recipient") == [person.uuid]
    ]


def copies(daemon: FakeSignalDaemon, person: Person, report_id: str) -> list[Sent]:
    """The alert of `report_id` as first sent to `person` (no edit, no follow-up)."""
    return [
        s
        for s in to_person(daemon, person)
        if report_id in s.params["message"]
        and "editTimestamp" not in s.params
        and "quoteTimestamp" not in s.params
    ]


async def wait_for(found: Callable[[], list[Sent]], count: int = 1) -> list[Sent]:
    await eventually(lambda: len(found()) >= count, TIMEOUT)
    return found()


async def settle(daemon: FakeSignalDaemon) -> None:
    """Until the bot has sent nothing new for a moment."""
    before = -1
    while before != len(daemon.calls):
        before = len(daemon.calls)
        await asyncio.sleep(0.5)


# --- what people do ---------------------------------------------------------------------


async def direct(daemon: FakeSignalDaemon, person: Person, text: str) -> str:
    """The bot's answer, one to one, to what `person` wrote it one to one."""
    timestamp = daemon.now()
    daemon.receive(envelopes.message(daemon.account, person, text, timestamp))

    def answers() -> list[Sent]:
        return [s for s in to_person(daemon, person) if s.params.get("quoteTimestamp") == timestamp]

    return str((await wait_for(answers))[0].params["message"])


def post(daemon: FakeSignalDaemon, sender: Person, group: str, text: str) -> None:
    daemon.receive(
        envelopes.message(daemon.account, sender, text, daemon.now(), group=daemon.groups[group])
    )


async def confirmed_alert(daemon: FakeSignalDaemon) -> str:
    """A new report from Pilsen's group, confirmed by the moderator: its id."""
    before = len(daemon.sent)
    post(daemon, ALICE, HOOD, REPORT)

    def cards() -> list[Sent]:
        return [s for s in daemon.sent[before:] if s.params.get("groupId") == MODS]

    card = (await wait_for(cards))[0]
    report_id = str(REPORT_ID.findall(card.params["message"])[0])
    post(daemon, MORA, MODS, f"!confirm {report_id}")
    return report_id


async def subscribed(daemon: FakeSignalDaemon, person: Person, text: str) -> None:
    answer = await direct(daemon, person, text)
    assert answer.startswith(("Subscribed:", "Suscrito:")), answer


# --- the tests --------------------------------------------------------------------------


async def test_each_subscriber_of_the_reached_areas_gets_the_alert_once_with_its_updates(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    await subscribed(daemon, ALICE, "!subscribe pilsen")
    assert await direct(daemon, BETO, "!idioma es")
    await subscribed(daemon, BETO, "!suscribir pilsen")
    await subscribed(daemon, CARMEN, "!subscribe little-village")

    report_id = await confirmed_alert(daemon)
    [alice] = await wait_for(lambda: copies(daemon, ALICE, report_id))
    [beto] = await wait_for(lambda: copies(daemon, BETO, report_id))
    assert "CONFIRMED ALERT · Pilsen" in alice.params["message"]
    assert "ALERTA CONFIRMADA · Pilsen" in beto.params["message"]
    for copy in (alice, beto):
        assert "groupId" not in copy.params and "mention" not in copy.params

    daemon.receive(
        envelopes.message(
            daemon.account,
            MORA,
            f"!update {report_id} they left towards Cermak",
            daemon.now(),
            group=daemon.groups[MODS],
        )
    )
    for person, copy, follow in (
        (ALICE, alice, "Update on alert"),
        (BETO, beto, "Actualización de la alerta"),
    ):

        def edits(person: Person = person, copy: Sent = copy) -> list[Sent]:
            return [
                s
                for s in to_person(daemon, person)
                if s.params.get("editTimestamp") == copy.timestamp
            ]

        def follow_ups(person: Person = person, copy: Sent = copy) -> list[Sent]:
            return [
                s
                for s in to_person(daemon, person)
                if s.params.get("quoteTimestamp") == copy.timestamp
            ]

        [edit] = await wait_for(edits)
        assert report_id in edit.params["message"] and "quoteTimestamp" not in edit.params
        [follow_up] = await wait_for(follow_ups)
        assert follow_up.params["quoteAuthor"] == daemon.account
        assert follow_up.params["message"].startswith(f"{follow} {report_id}: they left")
    await settle(daemon)
    # Once each, one to one; Little Village's subscriber hears nothing of Pilsen.
    assert len(copies(daemon, ALICE, report_id)) == len(copies(daemon, BETO, report_id)) == 1
    assert [s for s in to_person(daemon, CARMEN) if report_id in s.params["message"]] == []
    about = [s.params for s in daemon.sent if report_id in s.params.get("message", "")]
    assert {p["groupId"] for p in about if "groupId" in p} == {HOOD, MODS}
    assert {tuple(p["recipient"]) for p in about if "recipient" in p} == {
        (ALICE.uuid,),
        (BETO.uuid,),
    }


async def test_with_members_a_stranger_gets_no_answer(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    for text in ("hola", "!subscribe pilsen"):
        daemon.receive(envelopes.message(daemon.account, ZOE, text, daemon.now()))
    await subscribed(daemon, ALICE, "!subscribe pilsen")  # handled after Zoe's messages
    report_id = await confirmed_alert(daemon)
    await wait_for(lambda: copies(daemon, ALICE, report_id))
    await settle(daemon)
    assert to_person(daemon, ZOE) == []
    assert [c for c in daemon.calls if ZOE.uuid in c[1].get("recipient", ())] == []


async def test_with_anyone_a_strangers_first_message_gets_the_instructions(
    tmp_path: Path, daemon: FakeSignalDaemon
) -> None:
    app = await running_bot(tmp_path, daemon, who="anyone")
    try:
        welcome = await direct(daemon, ZOE, "hola")
        assert welcome == (
            "This is an alert line: send !subscribe AREA to get confirmed alerts by direct "
            "message. Nobody sees who subscribes."
        )
        await subscribed(daemon, ZOE, "!subscribe pilsen")
        assert await direct(daemon, ZOE, "!subscriptions") == (
            "You get the confirmed alerts of: Pilsen."
        )
        report_id = await confirmed_alert(daemon)
        [copy] = await wait_for(lambda: copies(daemon, ZOE, report_id))
        assert "CONFIRMED ALERT · Pilsen" in copy.params["message"]
        # A subscriber is no stranger: no more instructions.
        before = len(to_person(daemon, ZOE))
        daemon.receive(envelopes.message(daemon.account, ZOE, "gracias", daemon.now()))
        await settle(daemon)
        assert len(to_person(daemon, ZOE)) == before
    finally:
        await app.stop()


async def test_unsubscribing_all_stops_delivery(app: Application, daemon: FakeSignalDaemon) -> None:
    await subscribed(daemon, ALICE, "!subscribe pilsen")
    await subscribed(daemon, BETO, "!subscribe pilsen")
    assert await direct(daemon, ALICE, "!unsubscribe all") == (
        "Done: no more alerts here, and the bot no longer keeps you as a subscriber."
    )
    report_id = await confirmed_alert(daemon)
    await wait_for(lambda: copies(daemon, BETO, report_id))  # the alert went out
    await settle(daemon)
    assert [s for s in to_person(daemon, ALICE) if report_id in s.params["message"]] == []


@pytest.mark.parametrize("mode", ["http", "tcp"])
@pytest.mark.parametrize("advised", [None, 2], ids=["0.13", "0.14-advised"])
async def test_a_rate_limited_subscriber_gets_the_alert_later_after_the_others(
    tmp_path: Path, daemon: FakeSignalDaemon, mode: str, advised: int | None
) -> None:
    """Signal's server rate-limits the send to Ruth alone: signal-cli answers -5 for it
    (0.13.19 without a wait; 0.14 with `retryAfterSeconds`, which is honored), and the
    bot sends it again later; Alice's and Beto's copies are not held back."""
    app = await running_bot(tmp_path, daemon, mode=mode)
    try:
        for person in (RUTH, ALICE, BETO):  # Ruth's copy is queued first
            await subscribed(daemon, person, "!subscribe pilsen")
        daemon.fail_sends_to(RUTH, retry_after=advised)
        loop = asyncio.get_running_loop()
        report_id = await confirmed_alert(daemon)

        def refused() -> list[dict[str, object]]:
            return [
                params
                for method, params in daemon.calls
                if method == "send"
                and params.get("recipient") == [RUTH.uuid]
                and report_id in str(params.get("message"))
            ]

        await eventually(lambda: bool(refused()), TIMEOUT)
        refused_at = loop.time()
        [ruth] = await wait_for(lambda: copies(daemon, RUTH, report_id))
        waited = loop.time() - refused_at
        assert len(refused()) == 2  # refused once, then sent
        others = [copies(daemon, p, report_id)[0] for p in (ALICE, BETO)]
        order = [s.timestamp for s in daemon.sent]
        assert all(order.index(o.timestamp) < order.index(ruth.timestamp) for o in others)
        if advised is not None:
            assert waited >= advised - 0.1  # never sooner than Signal advised
        await settle(daemon)
        assert len(copies(daemon, RUTH, report_id)) == 1
    finally:
        await app.stop()


def alert_sends_to(daemon: FakeSignalDaemon, person: Person, report_id: str) -> int:
    """How many times the bot tried to send `person` the alert of `report_id`."""
    return sum(
        1
        for method, params in daemon.calls
        if method == "send"
        and params.get("recipient") == [person.uuid]
        and report_id in str(params.get("message"))
        and "editTimestamp" not in params
        and "quoteTimestamp" not in params
    )


async def test_a_rate_limit_longer_than_the_transport_waits_is_raised_at_once(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    """A captcha-required limit (0.13.19: a challenge token and a day's
    `retryAfterSeconds`): the transport does not retry it sooner than advised (it used to,
    after at most 60 s) but raises it at once, with the advised wait, for the outbox; the
    other subscribers get theirs meanwhile."""
    await subscribed(daemon, RUTH, "!subscribe pilsen")
    await subscribed(daemon, ALICE, "!subscribe pilsen")
    daemon.fail_sends_to(RUTH, token="7b1c3e5f-challenge", retry_after=86400, times=100)
    report_id = await confirmed_alert(daemon)
    await wait_for(lambda: copies(daemon, ALICE, report_id))
    await eventually(lambda: alert_sends_to(daemon, RUTH, report_id) == 1, TIMEOUT)
    # The outbox has it back within a moment (not after the transport's waits), to retry
    # when advised, a day later; a rate limit is not counted towards giving up.
    later = (datetime.now(UTC) + timedelta(hours=23)).isoformat()
    async with asyncio.timeout(5):
        while not await app.bot.db.fetchall(
            "SELECT key FROM outbox WHERE state = 'pending' AND attempts = 0"
            " AND next_attempt_at > ?",
            (later,),
        ):
            await asyncio.sleep(0.05)
    assert copies(daemon, RUTH, report_id) == []


async def test_the_outbox_waits_as_long_as_signal_advised(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    await subscribed(daemon, RUTH, "!subscribe pilsen")
    daemon.fail_sends_to(RUTH, token="7b1c3e5f-challenge", retry_after=86400, times=100)
    report_id = await confirmed_alert(daemon)
    await eventually(lambda: alert_sends_to(daemon, RUTH, report_id) == 1, TIMEOUT)
    await asyncio.sleep(5.0)
    assert alert_sends_to(daemon, RUTH, report_id) == 1


async def test_a_subscriber_who_left_signal_is_tried_once_per_alert_then_dropped(
    app: Application, daemon: FakeSignalDaemon
) -> None:
    """Ruth's number is no longer on Signal: each send to her comes back -1 with an
    UNREGISTERED_FAILURE result (the fake's answer for a number Signal does not know, in
    signal-cli's shape). Each alert is tried once, never retried, and after three alerts
    she is no longer a subscriber: the fourth is not tried at all."""
    await subscribed(daemon, RUTH, "!subscribe pilsen")
    await subscribed(daemon, ALICE, "!subscribe pilsen")
    daemon.fail_sends_to(RUTH, "UNREGISTERED_FAILURE", times=100)
    tried = [alert_sends_to(daemon, RUTH, await alert_out(daemon)) for _ in range(4)]
    assert tried == [1, 1, 1, 0]


async def alert_out(daemon: FakeSignalDaemon) -> str:
    """A confirmed alert, once Alice has it and the bot has gone quiet: its report id."""
    report_id = await confirmed_alert(daemon)
    await wait_for(lambda: copies(daemon, ALICE, report_id))
    await settle(daemon)
    return report_id
