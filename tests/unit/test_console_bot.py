"""The whole core through the console transport: what a person typing to the bot sees."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Sequence
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from testkit.console import ConsoleChat, console_settings

from bot.api.testing import FakeClock
from bot.core.commands import command
from bot.core.config import Settings
from bot.core.context import CommandContext
from bot.core.events import MessageEvent, Sender
from bot.core.permissions import Level
from bot.core.plugin import Plugin
from bot.runtime.app import Application
from bot.storage.cipher import FieldCipher
from bot.storage.keys import DataKey

MODERATOR = "rosa"
NEIGHBOR = "you"

PONG_EN = "Pong! Vecinos is here."
PONG_ES = "¡Pong! Vecinos está aquí."
ERROR_EN = (
    "Something went wrong on my side. Your message was not lost; please try again in a minute."
)
UNENCRYPTED_EN = "This room is not end-to-end encrypted, so I will not work here"


def slow_down_en(wait: str) -> str:
    return f"You are sending commands very fast. Please wait {wait} and try again."


class Tools(Plugin):
    """Commands that exercise permissions, room roles and failures."""

    name = "test-tools"

    @command("verify", level=Level.MODERATOR, aliases={"es": ("verificar",)})
    async def verify(self, ctx: CommandContext) -> None:
        await ctx.reply("verified")

    @command("modonly", roles=frozenset({"moderation"}))
    async def modonly(self, ctx: CommandContext) -> None:
        await ctx.reply("moderation room work")

    @command("boom")
    async def boom(self, ctx: CommandContext) -> None:
        raise RuntimeError("handler broke")

    @command("tally", own_limit=True)
    async def tally(self, ctx: CommandContext) -> None:
        await ctx.reply("tallied")  # a command with a per-person limit of its own


TOOL_HELP = {
    "help.verify": "Mark a report verified.",
    "help.modonly": "Only in the moderation room.",
    "help.boom": "Always fails.",
    "help.tally": "Counts, with a limit of its own.",
}


def settings_for(tmp_path: Path, room: str = "") -> Settings:
    return console_settings(
        tmp_path,
        head=f'moderators = ["{MODERATOR}"]',
        bot="command_max_age_minutes = 10",
        room=room,
    )


class ConsoleBot(ConsoleChat):
    """A running application with one console room; `say` returns the bot's answers."""

    def __init__(self, app: Application) -> None:
        super().__init__(user=NEIGHBOR)
        self.app = app
        self.running = False

    async def start(self) -> None:
        await self.app.open()
        for lang in ("en", "es"):
            self.app.runtime.catalog.add(lang, TOOL_HELP)
        await self.app.start([self.transport])
        self.running = True

    async def stop(self) -> None:
        if self.running:
            self.running = False
            await self.app.stop()

    async def deliver(self, event: MessageEvent) -> list[str]:
        return await self.answers(self.app.deliver(event))

    def event(
        self,
        body: str,
        *,
        event_id: str,
        user: str = NEIGHBOR,
        age: timedelta = timedelta(0),
        encrypted: bool = True,
    ) -> MessageEvent:
        return MessageEvent(
            room=self.transport.room,
            event_id=event_id,
            sender=Sender(user, user),
            timestamp=datetime.now(UTC) - age,
            encrypted=encrypted,
            body=body,
        )


StartBot = Callable[..., Awaitable[ConsoleBot]]


@pytest.fixture
def key() -> DataKey:
    return DataKey.generate()


@pytest.fixture
async def start_bot(tmp_path: Path, key: DataKey) -> AsyncIterator[StartBot]:
    """`await start_bot()` -> a running bot on tmp_path's data dir; stopped at the end."""
    bots: list[ConsoleBot] = []

    async def start(room: str = "", plugins: Sequence[type[Plugin]] = (Tools,)) -> ConsoleBot:
        bot = ConsoleBot(Application(settings_for(tmp_path, room), key, plugins))
        bots.append(bot)
        await bot.start()
        return bot

    yield start
    for bot in bots:
        await bot.stop()


@pytest.fixture
async def bot(start_bot: StartBot) -> ConsoleBot:
    return await start_bot()


# --- core commands --------------------------------------------------------------------


async def test_ping_answers_pong(bot: ConsoleBot) -> None:
    assert await bot.say("!ping") == [PONG_EN]


async def test_uppercase_command_name_works(bot: ConsoleBot) -> None:
    assert await bot.say("!PING") == [PONG_EN]


async def test_plain_messages_get_no_answer(bot: ConsoleBot) -> None:
    assert await bot.say("two agents at 18th and Ashland") == []
    assert await bot.say("! what a day") == []  # not a command: a phone's "! ping" would be
    assert await bot.say("¡qué miedo!") == []


async def test_help_lists_the_core_commands_in_english(bot: ConsoleBot) -> None:
    [answer] = await bot.say("!help")
    lines = answer.splitlines()
    assert lines[0] == "Commands you can use here:"
    assert "!ping — Check that the bot is alive." in lines
    assert "!help [command] — List the commands, or explain one." in lines
    assert "!lang [en|es] — Choose your language: en (English) or es (Español)." in lines
    assert lines[-1] == "Send !help COMMAND for details."


async def test_ayuda_in_a_spanish_room_lists_spanish_names(start_bot: StartBot) -> None:
    bot = await start_bot(room='language = "es"')
    [answer] = await bot.say("!ayuda")
    lines = answer.splitlines()
    assert lines[0] == "Comandos que puedes usar aquí:"
    assert "!ping — Comprueba que el bot está activo." in lines
    assert "!ayuda [comando] — Lista los comandos, o explica uno." in lines
    assert "!idioma [en|es] — Elige tu idioma: en (English) o es (Español)." in lines
    assert lines[-1] == "Envía !ayuda COMANDO para más detalles."


async def test_spanish_alias_answers_in_spanish_in_an_english_room(bot: ConsoleBot) -> None:
    (spanish,) = await bot.say("!ayuda")
    assert spanish.startswith("Comandos que puedes usar aquí:")
    assert "!idioma [en|es]" in spanish


async def test_a_chosen_language_wins_over_the_alias_language(bot: ConsoleBot) -> None:
    await bot.say("!lang en")
    assert await bot.say("!ayuda") == await bot.say("!help")


async def test_help_for_one_command_shows_usage_and_the_spanish_alias(bot: ConsoleBot) -> None:
    assert await bot.say("!help lang") == [
        "!lang [en|es]\nChoose your language: en (English) or es (Español).\nAlso: !idioma"
    ]
    assert await bot.say("!help !idioma") == await bot.say("!help lang")


async def test_help_for_an_unknown_command(bot: ConsoleBot) -> None:
    assert await bot.say("!help nothing") == [
        "There is no command nothing that you can use here. Send !help to see the list."
    ]


async def test_lang_without_argument_tells_the_current_language(bot: ConsoleBot) -> None:
    assert await bot.say("!lang") == ["I speak to you in English. To change: !lang [en|es]"]


# --- language preference --------------------------------------------------------------


async def test_lang_es_switches_that_person_to_spanish(bot: ConsoleBot) -> None:
    assert await bot.say("!lang es") == ["Listo: te hablaré en español."]
    assert await bot.say("!ping") == [PONG_ES]
    assert await bot.say("!ping", user="luis") == [PONG_EN]
    assert await bot.say("!idioma EN", user=NEIGHBOR) == ["Done: I will speak to you in English."]
    assert await bot.say("!ping") == [PONG_EN]


async def test_language_survives_a_restart_and_is_stored_without_the_user_id(
    start_bot: StartBot, tmp_path: Path, key: DataKey
) -> None:
    person = "maria-ochoa-7731"
    first = await start_bot()
    assert await first.say("!idioma es", user=person) == ["Listo: te hablaré en español."]
    await first.stop()

    second = await start_bot()
    # Delivered with fresh event ids: ConsoleTransport restarts its ids at c1 on every run,
    # so the ledger would take its first messages after a restart for replays.
    assert await second.deliver(second.event("!ping", event_id="$a", user=person)) == [PONG_ES]
    assert await second.deliver(second.event("!ping", event_id="$b", user="luis")) == [PONG_EN]
    await second.stop()

    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").iterdir() if p.is_file())
    pseudonym = FieldCipher(key).keyed_hash(person, "person").encode()
    assert pseudonym in stored  # the preference is on disk, under the keyed hash
    assert person.encode() not in stored


# --- bad input ------------------------------------------------------------------------


async def test_unknown_command_points_to_help(bot: ConsoleBot) -> None:
    assert await bot.say("!fly away") == [
        "I don't know the command fly. Send !help to see what I can do."
    ]


async def test_bad_choice_answers_the_choices_and_usage(bot: ConsoleBot) -> None:
    assert await bot.say("!lang fr") == ["language must be one of: en, es.\nUsage: !lang [en|es]"]


async def test_bad_choice_in_spanish_uses_spanish_names(bot: ConsoleBot) -> None:
    await bot.say("!lang es")
    assert await bot.say("!idioma fr") == ["idioma debe ser uno de: en, es.\nUso: !idioma [en|es]"]


async def test_extra_words_are_refused_with_usage(bot: ConsoleBot) -> None:
    assert await bot.say("!ping now please") == [
        'I did not understand: "now please".\nUsage: !ping'
    ]


# --- permissions and rooms ------------------------------------------------------------


async def test_moderator_command_refuses_a_neighbor(bot: ConsoleBot) -> None:
    assert await bot.say("!verify") == ["Sorry, you are not allowed to use !verify."]
    [overview] = await bot.say("!help")
    assert "!verify" not in overview
    assert await bot.say("!help verify") == [
        "There is no command verify that you can use here. Send !help to see the list."
    ]


async def test_moderator_command_accepts_a_listed_moderator(bot: ConsoleBot) -> None:
    assert await bot.say("!verify", user=MODERATOR) == ["verified"]
    assert await bot.say("!verificar") == ["verified"]
    [overview] = await bot.say("!help")
    assert "!verify — Mark a report verified." in overview.splitlines()


async def test_command_for_another_room_role_is_refused(bot: ConsoleBot) -> None:
    assert await bot.say("!modonly", user=MODERATOR) == [
        "!modonly works in the moderation rooms, not here."
    ]
    [overview] = await bot.say("!help")
    assert "!modonly" not in overview


# --- failures and floods --------------------------------------------------------------


async def test_a_crashing_handler_answers_an_error_and_the_bot_keeps_working(
    bot: ConsoleBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.ERROR, logger="bot.runtime.routing"):
        assert await bot.say("!boom") == [ERROR_EN]
    assert "command boom failed" in caplog.text
    assert await bot.say("!ping") == [PONG_EN]


async def test_a_crashing_handler_answers_in_the_persons_language(bot: ConsoleBot) -> None:
    await bot.say("!lang es")
    assert await bot.say("!boom") == [
        "Algo falló de mi lado. Tu mensaje no se perdió; inténtalo de nuevo en un minuto."
    ]


async def test_logs_name_no_user_and_no_message_text(
    bot: ConsoleBot, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        await bot.say("agents detaining someone at 18th", user="maria-ochoa-7731")
        for line in ("!ping", "!boom", "!lang fr", "!nothing here"):
            await bot.say(line)
    assert "maria-ochoa-7731" not in caplog.text
    assert "detaining" not in caplog.text


def on_clock(bot: ConsoleBot) -> FakeClock:
    """The bot's clock, moved by hand from now (events keep their real, recent time)."""
    clock = FakeClock(datetime.now(UTC))
    bot.app.use_clock(clock)
    return clock


async def test_the_21st_command_in_a_minute_gets_the_wait_then_silence(
    bot: ConsoleBot,
) -> None:
    clock = on_clock(bot)
    for _ in range(20):
        assert await bot.say("!ping") == [PONG_EN]
    clock.now += timedelta(seconds=15)
    assert await bot.say("!ping") == [slow_down_en("45 seconds")]
    assert await bot.say("!ping") == []
    assert await bot.say("!ping", user="luis") == [PONG_EN]  # per person
    clock.now += timedelta(seconds=45)
    assert await bot.say("!ping", user=NEIGHBOR) == [PONG_EN]  # the minute has passed


async def test_past_the_limit_the_wait_is_said_again_each_minute_never_more(
    bot: ConsoleBot,
) -> None:
    # A command every 2 seconds for 3 minutes, 20 a minute allowed: 10 a minute are over.
    clock, start = on_clock(bot), datetime.now(UTC)
    answers: dict[int, list[str]] = {}
    for second in range(0, 180, 2):
        clock.now = start + timedelta(seconds=second)
        answers[second] = await bot.say("!ping")
    waits = {second: said for second, said in answers.items() if said and said != [PONG_EN]}
    assert waits == {
        40: [slow_down_en("20 seconds")],
        100: [slow_down_en("20 seconds")],
        160: [slow_down_en("20 seconds")],
    }
    assert sum(said == [PONG_EN] for said in answers.values()) == 60
    # Quiet for a minute, and all is as before.
    clock.now = start + timedelta(seconds=240)
    for _ in range(20):
        assert await bot.say("!ping") == [PONG_EN]


async def test_the_wait_is_said_in_the_persons_language(bot: ConsoleBot) -> None:
    clock = on_clock(bot)
    assert await bot.say("!lang es") == ["Listo: te hablaré en español."]
    for _ in range(19):
        await bot.say("!ping")
    assert await bot.say("!ping") == [
        "Estás enviando comandos muy rápido. Espera 1 minuto y vuelve a intentarlo."
    ]
    clock.now += timedelta(seconds=59)
    assert await bot.say("!ping") == []


async def test_a_command_with_its_own_limit_is_left_to_it(bot: ConsoleBot) -> None:
    on_clock(bot)
    for _ in range(25):
        assert await bot.say("!tally") == ["tallied"]
    for _ in range(20):
        assert await bot.say("!ping") == [PONG_EN]  # it did not count toward the limit
    assert await bot.say("!ping") == [slow_down_en("1 minute")]
    assert await bot.say("!tally") == ["tallied"]  # past the limit too


async def test_unknown_commands_count_toward_the_rate_limit(bot: ConsoleBot) -> None:
    on_clock(bot)
    for n in range(20):
        assert len(await bot.say(f"!nonsense{n}")) == 1
    assert await bot.say("!nonsense") == [slow_down_en("1 minute")]
    assert await bot.say("!verify") == []


# --- delivery: age, replays, encryption -----------------------------------------------


async def test_a_command_older_than_the_max_age_is_skipped(bot: ConsoleBot) -> None:
    old = bot.event("!ping", event_id="$old", age=timedelta(minutes=11))
    assert await bot.deliver(old) == []
    assert await bot.deliver(old) == []


async def test_a_command_younger_than_the_max_age_is_handled(bot: ConsoleBot) -> None:
    late = bot.event("!ping", event_id="$late", age=timedelta(minutes=9))
    assert await bot.deliver(late) == [PONG_EN]


async def test_a_replayed_event_is_handled_once(bot: ConsoleBot) -> None:
    event = bot.event("!ping", event_id="$dup")
    assert await bot.deliver(event) == [PONG_EN]
    assert await bot.deliver(event) == []
    assert await bot.deliver(bot.event("!ping", event_id="$other")) == [PONG_EN]


async def test_unencrypted_room_is_refused_once_then_silent(bot: ConsoleBot) -> None:
    [refusal] = await bot.deliver(bot.event("!ping", event_id="$u1", encrypted=False))
    assert refusal.startswith(UNENCRYPTED_EN)
    assert await bot.deliver(bot.event("!ping", event_id="$u2", encrypted=False)) == []
    assert await bot.deliver(bot.event("!help", event_id="$u3", encrypted=False)) == []


async def test_unencrypted_plain_message_gets_no_refusal(bot: ConsoleBot) -> None:
    assert await bot.deliver(bot.event("hello", event_id="$u0", encrypted=False)) == []
    [refusal] = await bot.deliver(bot.event("!ping", event_id="$u1", encrypted=False))
    assert refusal.startswith(UNENCRYPTED_EN)


async def test_unencrypted_room_that_is_allowed_is_served(start_bot: StartBot) -> None:
    bot = await start_bot(room="allow_unencrypted = true")
    assert await bot.deliver(bot.event("!ping", event_id="$u1", encrypted=False)) == [PONG_EN]
    assert await bot.deliver(bot.event("!ping", event_id="$u2", encrypted=False)) == [PONG_EN]
