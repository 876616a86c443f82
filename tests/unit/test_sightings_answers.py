"""The reporter answers a moderator's question, in memory: in the thread, by an ordinary
reply to the question (or to another of the bot's messages about the report), by the next
message in a direct chat, or with `!answer R7K3 text` [`!respuesta`], the console included.
Each answer reaches the card the same way; a plain message in a group room is not taken."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from dataclasses import replace
from pathlib import Path

import pytest
from testkit.console import console_network
from testkit.networks import MODS, PILSEN_EN, PILSEN_ES, VILLITA
from testkit.world import SightingsWorld, start_world
from unit.test_sightings_flow import file_report

from bot.api.testing import Sent
from bot.cli.console import CONSOLE_USER
from bot.storage.keys import DataKey
from plugins.sightings import Sightings
from plugins.sightings.lifecycle import Status

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
ONE_LINE = "!report 18th & Ashland; 2 unmarked SUVs, agents detaining someone"
# ana is in the English Pilsen room; bea in the Spanish Pilsen room and in La Villita's.
MEMBERS = {PILSEN_EN: {"ana", "bob"}, PILSEN_ES: {"bea"}, VILLITA: {"bea"}, MODS: {"rosa"}}


@pytest.fixture
async def world(tmp_path: Path, key: DataKey) -> AsyncIterator[SightingsWorld]:
    running = await start_world(tmp_path, key, plugins=[Sightings])
    running.transport.people = {room: set(people) for room, people in MEMBERS.items()}
    yield running
    await running.app.stop()


async def ask(
    world: SightingsWorld, report_id: str, question: str = "are they still there?"
) -> Sent:
    """A moderator asks the reporter; the question as posted in the reporter's room."""
    await world.say(MODS, "rosa", f"!needinfo {report_id} {question}")
    notices = [s for s in world.transport.sent if s.key and s.key.startswith("sightings:notice:")]
    return notices[-1]


async def reply(world: SightingsWorld, room: str, user: str, body: str, to: str) -> list[Sent]:
    """An ordinary reply (not in a thread) to the event `to`; what the bot sent."""
    return await world.deliver(replace(world.event(room, user, body), reply_to=to))


async def dm(world: SightingsWorld, user: str, text: str) -> list[Sent]:
    """`user` writes to the bot in their direct chat; what the bot sent there."""
    room = f"dm-{user}"
    sent = await world.deliver(world.event(room, user, text, direct=True))
    return [s for s in sent if s.room_id == room]


async def status(world: SightingsWorld, report_id: str) -> Status:
    stored = await world.plugin.store.get(report_id)
    assert stored is not None
    return stored.status


def answered_on_card(world: SightingsWorld, report_id: str, answer: str) -> bool:
    """The card shows the answer in its history, and a reply under it quotes it."""
    card = world.card_of(report_id)
    in_history = f"💬 reporter answered — the reporter: {answer}" in world.card_text(card.event_id)
    under = [s.text for s in world.messages(MODS) if s.message.reply_to == card.event_id]
    quoted = f"💬 The reporter answered about {report_id}:\n{answer}" in under
    return in_history and quoted


def passed(report_id: str) -> str:
    return (
        f"Thank you, your answer went to the moderators. {report_id} is waiting for "
        "verification again."
    )


# --- the question says how to answer ----------------------------------------------------


async def test_the_question_says_how_to_answer_in_the_readers_language(
    world: SightingsWorld,
) -> None:
    report_id, event = await file_report(world)
    question = await ask(world, report_id)
    assert question.room_id == PILSEN_EN and question.message.thread_root == event
    assert question.text == (
        f"❓ A moderator needs more details about {report_id}. To answer, reply to this "
        f"message, or send !answer {report_id} followed by your answer.\nare they still there?"
    )
    spanish, _ = await file_report(
        world, "!reporte 18 y Ashland; retén", room=PILSEN_ES, user="bea"
    )
    assert (await ask(world, spanish)).text.startswith(
        f"❓ Un moderador necesita más detalles sobre {spanish}. Para contestar, responde a "
        f"este mensaje, o envía !respuesta {spanish} seguido de tu respuesta."
    )


# --- a reply ------------------------------------------------------------------------------


async def test_an_ordinary_reply_to_the_question_is_the_answer(world: SightingsWorld) -> None:
    report_id, event = await file_report(world)
    question = await ask(world, report_id)
    sent = await reply(world, PILSEN_EN, "ana", "son 3 agentes", to=question.event_id)
    answer = next(s for s in sent if s.room_id == PILSEN_EN)
    assert answer.text == passed(report_id)
    assert answer.message.reply_to != event  # answers the reply itself
    assert await status(world, report_id) is Status.NEW
    assert answered_on_card(world, report_id, "son 3 agentes")


async def test_a_reply_to_the_acknowledgement_is_the_answer_too(world: SightingsWorld) -> None:
    report_id, event = await file_report(world)
    ack = world.messages(PILSEN_EN)[0]
    assert ack.message.thread_root == event
    await ask(world, report_id)
    await reply(world, PILSEN_EN, "ana", "agents: 3 | direction: north", to=ack.event_id)
    assert world.last(PILSEN_EN) == passed(report_id)
    stored = await world.plugin.store.get(report_id)
    assert stored is not None and stored.report.agents == 3  # keyed fields update it


async def test_a_reply_in_the_thread_is_still_the_answer(world: SightingsWorld) -> None:
    report_id, event = await file_report(world)
    question = await ask(world, report_id)
    answer = replace(
        world.event(PILSEN_EN, "ana", "still there"), thread_root=event, reply_to=question.event_id
    )
    await world.deliver(answer)
    assert world.last(PILSEN_EN) == passed(report_id)
    assert answered_on_card(world, report_id, "still there")


async def test_someone_elses_reply_to_the_question_is_not_an_answer(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    question = await ask(world, report_id)
    assert await reply(world, PILSEN_EN, "bob", "I saw them leave", to=question.event_id) == []
    assert await status(world, report_id) is Status.NEEDS_INFO


async def test_a_reply_to_anything_else_is_not_an_answer(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await ask(world, report_id)
    other = await world.write(PILSEN_EN, "bob", "anyone know about the school meeting?")
    assert await reply(world, PILSEN_EN, "ana", "tomorrow at 6", to=other) == []
    assert await status(world, report_id) is Status.NEEDS_INFO


async def test_a_reply_when_no_question_waits_is_not_an_answer(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    ack = world.messages(PILSEN_EN)[0]
    assert await reply(world, PILSEN_EN, "ana", "thanks!", to=ack.event_id) == []
    assert await status(world, report_id) is Status.NEW


async def test_a_plain_message_in_a_group_room_is_not_taken(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await ask(world, report_id)
    before = len(world.transport.sent)
    await world.say(PILSEN_EN, "ana", "son 3 agentes")
    assert len(world.transport.sent) == before
    assert await status(world, report_id) is Status.NEEDS_INFO


# --- a direct chat ------------------------------------------------------------------------


async def test_the_next_message_in_a_direct_chat_is_the_answer(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await ask(world, report_id)
    [answer] = await dm(world, "ana", "son 3 agentes, siguen ahí")
    assert answer.text == passed(report_id)
    assert await status(world, report_id) is Status.NEW
    assert answered_on_card(world, report_id, "son 3 agentes, siguen ahí")
    assert await dm(world, "ana", "gracias") == []  # answered: nothing waits any more


async def test_a_direct_chat_message_with_no_question_waiting_is_left_alone(
    world: SightingsWorld,
) -> None:
    report_id, _ = await file_report(world)
    assert await dm(world, "ana", "hello?") == []
    assert await status(world, report_id) is Status.NEW


async def test_with_several_questions_waiting_the_bot_asks_which(world: SightingsWorld) -> None:
    first, _ = await file_report(world)
    second, _ = await file_report(world, "!report 26th & Pulaski; a checkpoint")
    await ask(world, first)
    await ask(world, second)
    [which] = await dm(world, "ana", "3 agents")
    assert which.text == (
        f"Several of your reports are waiting for your answer: {first}, {second}. Say which "
        f"one you are answering: !answer {second} followed by your answer (with that "
        "report's id)."
    )
    assert (await status(world, first), await status(world, second)) == (Status.NEEDS_INFO,) * 2
    [answer] = await dm(world, "ana", f"!answer {first} 3 agents")
    assert answer.text == passed(first)
    assert answered_on_card(world, first, "3 agents")
    [answer] = await dm(world, "ana", "the checkpoint is gone")  # one left: no need to say
    assert answer.text == passed(second)


async def test_a_command_in_a_direct_chat_is_not_an_answer(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await ask(world, report_id)
    [status_answer] = await dm(world, "ana", "!status")
    assert "Pilsen" in status_answer.text
    await dm(world, "ana", "!statsu")  # a mistyped command: answered as one
    assert await dm(world, "ana", "! 3 agents") == []  # the prefix: not a plain answer
    assert await status(world, report_id) is Status.NEEDS_INFO


async def test_the_area_question_wins_in_a_direct_chat(world: SightingsWorld) -> None:
    report_id, _ = await file_report(
        world, "!reporte 18 y Ashland; retén", room=PILSEN_ES, user="bea"
    )
    await ask(world, report_id)
    [asked] = await dm(world, "bea", "!reporte Cermak y Pulaski; dos camionetas")
    assert asked.text.startswith("¿De qué área es este reporte?")
    assert await dm(world, "bea", "no sé") == []  # waiting for an area, not an answer
    assert await status(world, report_id) is Status.NEEDS_INFO
    [ack] = await dm(world, "bea", "la villita")
    assert "UNCONFIRMED" in ack.text  # the direct chat's language: the bot's default
    [answer] = await dm(world, "bea", "ya se fueron")  # then the question's turn
    assert answer.text == passed(report_id)
    assert await status(world, report_id) is Status.NEW


async def test_the_guided_dialog_wins_in_a_direct_chat(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await ask(world, report_id)
    [where] = await dm(world, "ana", "!report")
    assert "Where is it?" in where.text
    [what] = await dm(world, "ana", "Cermak and Pulaski")  # the dialog's, not the question's
    assert "What is happening?" in what.text
    assert await status(world, report_id) is Status.NEEDS_INFO
    await dm(world, "ana", "cancel")
    [answer] = await dm(world, "ana", "still 3 agents")
    assert answer.text == passed(report_id)


# --- the command --------------------------------------------------------------------------


async def test_answer_command_in_the_room(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await ask(world, report_id)
    await world.say(PILSEN_EN, "ana", f"!answer {report_id.lower()} they left north")
    assert world.replies(PILSEN_EN)[-1] == passed(report_id)
    assert answered_on_card(world, report_id, "they left north")
    assert await status(world, report_id) is Status.NEW


async def test_respuesta_in_spanish(world: SightingsWorld) -> None:
    report_id, _ = await file_report(
        world, "!reporte 18 y Ashland; retén", room=PILSEN_ES, user="bea"
    )
    await ask(world, report_id)
    await world.say(PILSEN_ES, "bea", f"!respuesta {report_id} agentes: 5")
    assert world.replies(PILSEN_ES)[-1] == (
        f"Gracias, tu respuesta llegó a los moderadores. {report_id} espera verificación otra vez."
    )
    stored = await world.plugin.store.get(report_id)
    assert stored is not None and stored.report.agents == 5


async def test_only_the_reporter_may_answer(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await ask(world, report_id)
    await world.say(PILSEN_EN, "bob", f"!answer {report_id} it was nothing")
    assert world.replies(PILSEN_EN)[-1] == (
        f"Only the person who reported {report_id} can answer the moderators' questions about it."
    )
    assert await status(world, report_id) is Status.NEEDS_INFO


async def test_answer_to_a_report_not_waiting_says_its_status(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await world.say(PILSEN_EN, "ana", f"!answer {report_id} 3 agents")
    assert world.replies(PILSEN_EN)[-1] == (
        f"{report_id} is NEW — UNCONFIRMED: no question of the moderators is waiting for an answer."
    )
    await world.say(MODS, "rosa", f"!confirm {report_id}")
    await world.say(PILSEN_EN, "ana", f"!answer {report_id} 3 agents")
    assert world.replies(PILSEN_EN)[-1].startswith(f"{report_id} is CONFIRMED: no question")


async def test_answer_with_an_unknown_id_or_no_text(world: SightingsWorld) -> None:
    await world.say(PILSEN_EN, "ana", "!answer R2345 3 agents")
    assert world.replies(PILSEN_EN)[-1] == "There is no report R2345. Report ids look like R7K3."
    await world.say(PILSEN_EN, "ana", "!answer R2345")
    assert world.replies(PILSEN_EN)[-1] == (
        "What is your answer? Send !answer R7K3 and your answer, with the id from the question."
    )


async def test_answer_is_not_taken_in_a_moderation_room(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world, user="rosa")
    await ask(world, report_id)
    await world.say(MODS, "rosa", f"!answer {report_id} 3 agents")
    assert await status(world, report_id) is Status.NEEDS_INFO


async def test_help_lists_answer_where_reports_are_made(world: SightingsWorld) -> None:
    await world.say(PILSEN_EN, "ana", "!help")
    overview = world.replies(PILSEN_EN)[-1].splitlines()
    assert overview[1].startswith("!report ")
    assert overview[2].startswith("!answer <report> <answer…> — Answer a moderator's question")
    await world.say(PILSEN_ES, "bea", "!ayuda")
    assert "!respuesta <reporte> <respuesta…>" in world.replies(PILSEN_ES)[-1]
    [shown] = await dm(world, "ana", "!help")
    assert "!answer <report> <answer…>" in shown.text
    await world.say(MODS, "rosa", "!help")
    assert "!answer" not in world.replies(MODS)[-1]


# --- the console: no threads, no replies --------------------------------------------------


async def test_answer_on_the_console(tmp_path: Path) -> None:
    async with console_network(tmp_path) as type_:
        shown = await type_("!reporte 18 y Ashland; dos agentes deteniendo a alguien")
        ack = next(line for line in shown if line.startswith("[pilsen] vecinos> 📝 Reporte "))
        report_id = ack.split()[4]
        await type_("/as mod")
        await type_("/room moderacion")
        shown = await type_(f"!needinfo {report_id} ¿cuántos agentes?")
        question = next(line for line in shown if line.startswith("[pilsen] vecinos> ❓"))
        assert f"!respuesta {report_id}" in question
        await type_(f"/as {CONSOLE_USER}")
        await type_("/room pilsen")
        shown = await type_(f"!respuesta {report_id} tres agentes")
        assert any("tu respuesta llegó a los moderadores" in line for line in shown)
        assert any(
            line.startswith("[moderacion] vecinos> ") and "tres agentes" in line for line in shown
        )
