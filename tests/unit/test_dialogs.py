"""The dialog primitive (`bot.api.Dialogs`), run by a plugin written on it
(tests/unit/wishes_plugin/): steps in a thread, a refused answer asked again, skip and
cancel in both languages, one open dialog per person, the timeout as a scheduler job, and
a restart in the middle."""

from __future__ import annotations

from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from wishes_plugin import TIMEOUT_JOB, Wishes

from bot.api.testing import FakeClock, PluginWorld

START = datetime(2026, 3, 2, 15, 0, tzinfo=UTC)
PILSEN_EN, PILSEN_ES = "pilsen-en", "pilsen-es"
CONFIG = """
[bot]
data_dir = "{data}"

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"

[[rooms]]
id = "pilsen-en"
transport = "console"
role = "neighborhood"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "pilsen-es"
transport = "console"
role = "neighborhood"
areas = ["pilsen"]
language = "es"
"""
NEED, COUNT, NOTE = "What do you need?", "How many?", "Anything else?"
CONTROLS = "(skip to leave this out · cancel to stop)"


class WishWorld(PluginWorld):
    """Two neighborhood rooms with the wishes plugin, on a clock the test moves."""

    def __init__(self, tmp_path: Path) -> None:
        super().__init__(tmp_path, plugins=[Wishes], config=CONFIG, clock=FakeClock(START))

    @property
    def plugin(self) -> Wishes:
        return self.plugin_of(Wishes)

    async def speak(
        self, user: str, text: str, *, thread: str | None = None, room: str = PILSEN_EN
    ) -> str:
        """`user` writes; the event id of what they wrote."""
        return await self.write(room, user, text, thread=thread)

    async def answer(
        self, root: str, text: str, *, user: str = "ana", room: str = PILSEN_EN
    ) -> str:
        """Answer in the dialog's thread; the bot's reply there."""
        await self.speak(user, text, thread=root, room=room)
        return self.in_thread(room, root)[-1]


@pytest.fixture
async def wishes(tmp_path: Path) -> AsyncIterator[WishWorld]:
    world = WishWorld(tmp_path)
    await world.start()
    yield world
    await world.stop()


async def test_the_steps_are_asked_in_the_thread_and_finish(wishes: WishWorld) -> None:
    root = await wishes.speak("ana", "!wish")
    [first] = wishes.messages(PILSEN_EN)
    assert first.message.thread_root == root
    assert first.text == f"Let's write down what you need.\n{NEED}\n{CONTROLS}"
    assert await wishes.answer(root, "  a bicycle pump ") == f"{COUNT}\n{CONTROLS}"
    assert await wishes.answer(root, "2") == f"{NOTE}\n{CONTROLS}"
    assert await wishes.answer(root, "by Friday") == "Noted: 2 × a bicycle pump."
    assert wishes.plugin.noted == [{"need": "a bicycle pump", "count": 2, "note": "by Friday"}]
    assert await wishes.plugin.dialogs.of("ana") is None
    assert await wishes.scheduler.jobs() == {}  # its timeout went with it


async def test_a_refused_answer_is_explained_and_asked_again(wishes: WishWorld) -> None:
    root = await wishes.speak("ana", "!wish")
    await wishes.answer(root, "eggs")
    assert await wishes.answer(root, "a dozen") == (
        f"“a dozen” is not a number: write one from 1 to 99.\n{COUNT}\n{CONTROLS}"
    )
    assert (await wishes.answer(root, "12")).startswith(NOTE)
    # `finish` may refuse too: the last step is asked again.
    assert await wishes.answer(root, "skip") == (
        f"For more than 10, please say why.\n{NOTE}\n{CONTROLS}"
    )
    assert wishes.plugin.noted == []
    assert await wishes.answer(root, "for the shelter") == "Noted: 12 × eggs."


async def test_skip_leaves_a_step_out_unless_its_check_refuses(wishes: WishWorld) -> None:
    root = await wishes.speak("ana", "!wish")
    assert (await wishes.answer(root, "Skip")).startswith(COUNT)  # the default stays
    assert await wishes.answer(root, "skip") == f"I need a number here.\n{COUNT}\n{CONTROLS}"
    await wishes.answer(root, "3")
    assert await wishes.answer(root, "-") == "Noted: 3 × something."
    assert wishes.plugin.noted == [{"need": "something", "count": 3}]


async def test_cancel_in_english(wishes: WishWorld) -> None:
    root = await wishes.speak("ana", "!wish")
    await wishes.answer(root, "rice")
    assert await wishes.answer(root, "CANCEL") == "Cancelled. Nothing was sent."
    assert await wishes.plugin.dialogs.of("ana") is None
    assert await wishes.scheduler.jobs() == {}


async def test_skip_and_cancel_in_spanish(wishes: WishWorld) -> None:
    root = await wishes.speak("bea", "!deseo", room=PILSEN_ES)
    assert wishes.last(PILSEN_ES) == (
        "Vamos a anotar lo que necesitas.\n¿Qué necesitas?\n"
        "(saltar para omitirlo · cancelar para parar)"
    )
    assert (await wishes.answer(root, "Saltar", user="bea", room=PILSEN_ES)).startswith("¿Cuántos?")
    assert await wishes.answer(root, "cancelár", user="bea", room=PILSEN_ES) == (
        "Cancelado. No se envió nada."
    )
    await wishes.speak("bea", "!deseo", room=PILSEN_ES)  # a new one may start
    assert wishes.last(PILSEN_ES).startswith("Vamos a anotar")


async def test_one_open_dialog_per_person(wishes: WishWorld) -> None:
    root = await wishes.speak("ana", "!wish")
    await wishes.speak("ana", "!wish")
    assert wishes.last(PILSEN_EN) == (
        "You are already asking for something: answer its questions, or write cancel."
    )
    other = await wishes.speak("bob", "!wish")  # others have their own
    assert (await wishes.answer(other, "tape", user="bob")).startswith(COUNT)
    assert (await wishes.answer(root, "glue")).startswith(COUNT)


async def test_answers_belong_to_the_thread_or_the_room_outside_threads(
    wishes: WishWorld,
) -> None:
    root = await wishes.speak("ana", "!wish")
    elsewhere = await wishes.speak("bob", "who has a ladder?")
    await wishes.speak("ana", "I do", thread=elsewhere)  # another thread: not an answer
    await wishes.speak("ana", "diapers", room=PILSEN_ES)  # another room: not an answer
    assert len(wishes.in_thread(PILSEN_EN, root)) == 1
    await wishes.speak("ana", "diapers")  # the same room, outside any thread
    assert wishes.in_thread(PILSEN_EN, root)[-1].startswith(COUNT)


async def test_a_quiet_dialog_times_out_by_the_scheduler(wishes: WishWorld) -> None:
    root = await wishes.speak("ana", "!wish")
    await wishes.advance(timedelta(minutes=6))
    await wishes.answer(root, "milk")  # an answer gives it ten minutes more
    [(job_id, run_at)] = (await wishes.scheduler.jobs()).items()
    assert job_id.startswith(f"{TIMEOUT_JOB}:")
    assert run_at == START + timedelta(minutes=16)
    assert await wishes.advance(timedelta(minutes=9)) == []
    [told] = await wishes.advance(timedelta(minutes=1))
    assert told.message.thread_root == root
    assert told.text == "No answer for a while, so I stopped here; nothing was sent."
    before = len(wishes.transport.sent)
    await wishes.speak("ana", "2", thread=root)
    assert len(wishes.transport.sent) == before  # no longer an answer


async def test_a_restart_keeps_the_dialog_stored_encrypted(wishes: WishWorld) -> None:
    root = await wishes.speak("bea", "!deseo", room=PILSEN_ES)
    await wishes.answer(root, "leche en polvo", user="bea", room=PILSEN_ES)
    await wishes.restart(down_until=START + timedelta(minutes=5))
    assert b"leche en polvo" not in wishes.raw_bytes()
    assert await wishes.answer(root, "4", user="bea", room=PILSEN_ES) == (
        "¿Algo más?\n(saltar para omitirlo · cancelar para parar)"
    )
    assert await wishes.answer(root, "no", user="bea", room=PILSEN_ES) == (
        "Anotado: 4 × leche en polvo."
    )


async def test_forgetme_ends_the_dialog(wishes: WishWorld) -> None:
    root = await wishes.speak("ana", "!wish")
    await wishes.speak("ana", "!forgetme yes")
    assert await wishes.plugin.dialogs.of("ana") is None
    assert await wishes.scheduler.jobs() == {}
    before = len(wishes.in_thread(PILSEN_EN, root))
    await wishes.speak("ana", "soap", thread=root)
    assert len(wishes.in_thread(PILSEN_EN, root)) == before
