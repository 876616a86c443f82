"""The real Application on Signal: core commands in a Signal group, end to end.

The bot is built from a config with `[signal]` and a `transport = "signal"` room, by the
same factory `vecinos run` uses, and talks to the fake signal-cli daemon
(tests/signal_fake) over HTTP and over TCP. Real signal-cli cannot be used here: it cannot
register an account offline (see test_signal_cli_contract.py for what is checked against it).
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Sequence
from pathlib import Path

import pytest
from signal_fake import FakeSignalDaemon, Sent, envelopes, harness
from signal_fake.app import signal_config, start_app
from signal_fake.harness import ALICE, BETO, GROUP_ID, eventually, new_group

from bot.core.plugin import Plugin
from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins

PONG_EN = "Pong! Vecinos is here."
PONG_ES = "¡Pong! Vecinos está aquí."
GROUP = new_group()

# The shared fixtures: a running fake daemon, reached over HTTP and over TCP.
daemon = harness.daemon
mode = harness.mode


class SignalBot:
    def __init__(self, app: Application, daemon: FakeSignalDaemon) -> None:
        self.app = app
        self.daemon = daemon

    async def say(self, text: str, *, sender: envelopes.Person = ALICE) -> list[Sent]:
        """Post `text` in the group; the bot's answers to it."""
        timestamp = self.daemon.now()
        payload = envelopes.message(self.daemon.account, sender, text, timestamp, group=GROUP)
        return await self.answers_to(payload, timestamp)

    async def answers_to(self, payload: envelopes.Payload, timestamp: int) -> list[Sent]:
        before = len(self.daemon.sent)
        self.daemon.receive(payload)
        # The core handles one event at a time: a later ping's answer means this one is done.
        marker = self.daemon.now()
        self.daemon.receive(
            envelopes.message(self.daemon.account, BETO, "!ping", marker, group=GROUP)
        )
        await eventually(lambda: self._answered(marker))
        return [
            sent
            for sent in self.daemon.sent[before:]
            if sent.params.get("quoteTimestamp") == timestamp
        ]

    def _answered(self, timestamp: int) -> bool:
        return any(sent.params.get("quoteTimestamp") == timestamp for sent in self.daemon.sent)


async def start_bot(
    tmp_path: Path, daemon: FakeSignalDaemon, mode: str, plugins: Sequence[type[Plugin]] = ()
) -> Application:
    config = signal_config(tmp_path, daemon, [(GROUP_ID, "neighborhood", None)], mode=mode)
    return await start_app(config, plugins)


@pytest.fixture
async def bot(tmp_path: Path, daemon: FakeSignalDaemon, mode: str) -> AsyncIterator[SignalBot]:
    app = await start_bot(tmp_path, daemon, mode)
    yield SignalBot(app, daemon)
    await app.stop()


async def test_ping_is_answered_in_the_group_quoting_the_command(bot: SignalBot) -> None:
    [answer] = await bot.say("!ping")
    assert answer.method == "send"
    assert answer.params["groupId"] == GROUP_ID
    assert answer.params["message"] == PONG_EN
    assert answer.params["quoteAuthor"] == ALICE.uuid


async def test_help_lists_the_core_commands(bot: SignalBot) -> None:
    [answer] = await bot.say("!help")
    lines = answer.params["message"].splitlines()
    assert lines[0] == "Commands you can use here:"
    assert "!ping — Check that the bot is alive." in lines
    assert "!lang [en|es] — Choose your language: en (English) or es (Español)." in lines


async def test_lang_switches_one_person_to_spanish(bot: SignalBot) -> None:
    [done] = await bot.say("!lang es")
    assert done.params["message"] == "Listo: te hablaré en español."
    [pong] = await bot.say("!ping")
    assert pong.params["message"] == PONG_ES
    [other] = await bot.say("!ping", sender=BETO)
    assert other.params["message"] == PONG_EN
    [back] = await bot.say("!idioma en")
    assert back.params["message"] == "Done: I will speak to you in English."


async def test_an_envelope_delivered_twice_is_answered_once(bot: SignalBot) -> None:
    timestamp = bot.daemon.now()
    payload = envelopes.message(bot.daemon.account, ALICE, "!ping", timestamp, group=GROUP)
    assert len(await bot.answers_to(payload, timestamp)) == 1
    assert await bot.answers_to(payload, timestamp) == []


async def test_logs_hold_no_body_number_or_uuid(
    bot: SignalBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await bot.say("!report agents detaining someone at 18th")
        await bot.say("!ping")
    for secret in ("detaining", ALICE.uuid, str(ALICE.number), BETO.uuid):
        assert secret not in caplog.text


async def test_the_default_plugins_run_on_signal(
    tmp_path: Path, daemon: FakeSignalDaemon, mode: str
) -> None:
    app = await start_bot(tmp_path, daemon, mode, default_plugins())
    try:
        [answer] = await SignalBot(app, daemon).say("!ping")
        assert answer.params["message"] == PONG_EN
    finally:
        await app.stop()
