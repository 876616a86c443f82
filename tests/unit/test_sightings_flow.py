"""From a neighbor's report to a moderator's decision that the reporter sees, in memory.

Several rooms on one fake transport: two Pilsen neighborhood rooms (English, Spanish), a
Little Village one, and a moderation room for each area.
"""

from __future__ import annotations

import asyncio
import logging
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from testkit.networks import MODS, MODS_LV, PILSEN_EN, PILSEN_ES, SIGHTINGS, VILLITA, chicago
from testkit.world import SightingsWorld, World, start_world

from bot.api.testing import FakeClock
from bot.core.events import Attachment
from bot.storage.keys import DataKey
from plugins.sightings import ChangeKind, ReportChange
from plugins.sightings.decisions import Request
from plugins.sightings.lifecycle import Action, Status
from plugins.sightings.store import Actor

ONE_LINE = "!report 18th & Ashland; 2 unmarked SUVs, agents detaining someone"
KEYED_ES = (
    "!reporte donde: 18 y Ashland | que: deteniendo | agentes: 4 | placa: ABC1** | "
    "cuando: hace 40 min | fuente: me dijeron"
)
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")


async def file_report(
    world: SightingsWorld, text: str = ONE_LINE, *, room: str = PILSEN_EN, user: str = "ana"
) -> tuple[str, str]:
    """(report id, the reporter's event id)."""
    event = await world.write(room, user, text)
    [ack] = world.in_thread(room, event)
    found = REPORT_ID.search(ack)
    assert found, ack
    return found[0], event


# --- intake -----------------------------------------------------------------------------


async def test_one_line_report_is_acknowledged_unconfirmed_in_the_reporters_thread(
    world: SightingsWorld,
) -> None:
    report_id, event = await file_report(world)
    [ack] = world.messages(PILSEN_EN)
    assert ack.message.thread_root == event
    assert ack.text.startswith(f"📝 Report {report_id} received — UNCONFIRMED.")
    assert "Where: 18th & Ashland" in ack.text
    assert "What: detaining someone" in ack.text
    assert f"!seen {report_id}" in ack.text
    assert len(report_id) == 4


async def test_the_card_shows_every_field_in_the_moderation_room(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world, KEYED_ES, room=PILSEN_ES, user="bea")
    [card] = world.cards()
    assert card.room_id == MODS  # the moderation room for Pilsen, in its language (English)
    text = card.text
    assert text.startswith(f"🟡 {report_id} · NEW — UNCONFIRMED")
    for line in (
        "Area: Pilsen",
        "Where: 18 y Ashland",
        "What: detaining someone — “deteniendo”",
        "Source: heard it from someone",
        "Agents: 4",
        "Plate: ABC1**",
        "⚠ STALE: seen more than 30 minutes before it was reported.",
        "Also seen by: 0",
    ):
        assert line in text.splitlines(), line
    assert "Decide: react ✅ confirm" in text
    assert card.message.html is not None and "<strong>" in card.message.html


async def test_the_plate_never_leaves_the_moderation_room(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world, KEYED_ES, room=PILSEN_ES, user="bea")
    [ack] = world.texts(PILSEN_ES)
    assert ack.startswith(f"📝 Reporte {report_id} recibido — SIN CONFIRMAR.")
    assert "ABC1" not in ack
    assert "(La placa y los archivos van solo a los moderadores.)" in ack
    await world.say(MODS, "rosa", f"!confirm {report_id}")
    everywhere_else = [s.text for s in world.transport.sent if s.room_id != MODS]
    assert not [t for t in everywhere_else if "ABC1" in t]


async def test_a_report_goes_to_the_moderation_room_of_its_area(world: SightingsWorld) -> None:
    await file_report(world, "!reporte 26 y Pulaski; retén", room=VILLITA, user="bea")
    [card] = world.cards()
    assert card.room_id == MODS_LV
    assert "Área: La Villita" in card.text  # that room speaks Spanish
    assert "retén" in card.text


async def test_area_key_sends_a_report_to_another_areas_moderators(world: SightingsWorld) -> None:
    await file_report(world, "!report where: 26th & Pulaski | area: Little Village")
    assert [c.room_id for c in world.cards()] == [MODS_LV]


async def test_a_clock_time_later_than_now_is_filed_as_last_nights(world: SightingsWorld) -> None:
    world.plugin.clock = lambda: chicago("2026-11-22 03:41")  # a Sunday, before dawn
    await file_report(world, "!report where: 18th & Ashland | what: checkpoint | when: 23:00")
    [ack] = world.texts(PILSEN_EN)
    assert "Seen at: yesterday 23:00 CST" in ack.splitlines()
    [card] = world.cards()
    assert "Seen at: yesterday 23:00 CST" in card.text.splitlines()
    assert "⚠ STALE: seen more than 30 minutes before it was reported." in card.text.splitlines()

    await file_report(
        world, "!reporte 26 y Pulaski; retén | cuando: 11pm", room=VILLITA, user="bea"
    )
    assert "Visto a las: ayer 23:00 CST" in world.texts(VILLITA)[0].splitlines()
    assert "Visto a las: ayer 23:00 CST" in world.cards()[-1].text.splitlines()

    await file_report(world, "!report where: Cermak | what: parked | when: 3:00", user="carla")
    assert "Seen at: 03:00 CST" in world.cards()[-1].text.splitlines()


async def test_bad_report_answers_what_to_fix_with_examples(world: SightingsWorld) -> None:
    await world.say(PILSEN_EN, "ana", "!report where: x | when: in 10 min")
    [answer] = world.texts(PILSEN_EN)
    assert answer.startswith("The time in 10 min is in the future.")
    assert "For example: !report 18th & Ashland;" in answer
    assert world.cards() == []


async def test_a_count_that_cannot_be_read_files_the_report_as_unknown(
    world: SightingsWorld,
) -> None:
    await world.say(PILSEN_EN, "ana", "!report where: x | agents: 150 | direction: up")
    [ack] = world.texts(PILSEN_EN)
    assert "Agents: unknown" in ack
    assert "I could not read the number of agents; the moderators may ask." in ack
    assert "I could not read the direction; the moderators may ask." in ack
    [card] = world.cards()
    assert "⚠ Could not read the number of agents: “150”" in card.text
    assert "⚠ Could not read the direction: “up”" in card.text


async def test_bad_report_in_spanish_is_answered_in_spanish(world: SightingsWorld) -> None:
    await world.say(PILSEN_ES, "bea", "!reporte donde: x | area: narnia")
    [answer] = world.texts(PILSEN_ES)
    assert answer.startswith("No conozco el área «narnia».")
    assert "Por ejemplo: !reporte 18 y Ashland;" in answer


async def test_reports_only_come_in_from_neighborhood_and_watch_rooms(
    world: SightingsWorld,
) -> None:
    await world.say(MODS, "rosa", ONE_LINE)
    assert world.replies(MODS)[-1] == "!report works in the neighborhood / watch rooms, not here."


async def test_rate_limit_is_per_person_and_polite(world: SightingsWorld) -> None:
    for n in range(5):
        await world.say(PILSEN_EN, "ana", f"!report corner {n}; parked")
    await world.say(PILSEN_EN, "ana", "!report corner 6; parked")
    assert world.last(PILSEN_EN).startswith(
        "Thank you — you have sent 5 reports in the last 10 minutes"
    )
    assert "Please wait about 10 minutes" in world.last(PILSEN_EN)
    assert len(world.cards()) == 5
    await file_report(world, user="carla")  # someone else may still report
    assert len(world.cards()) == 6


async def test_the_wait_lasts_until_the_oldest_report_that_counts_leaves_the_window(
    tmp_path: Path, key: DataKey
) -> None:
    """Five reports over six minutes (the limit, in a 10-minute window): the sixth, a minute
    later, waits three minutes, until the first is ten minutes old; then it is filed."""
    world = await World(
        tmp_path, SIGHTINGS, key=key, clock=FakeClock(datetime(2026, 12, 6, 17, 0, tzinfo=UTC))
    ).start()
    try:
        for n, minutes in enumerate((0, 3, 1, 1, 1)):
            await world.advance(timedelta(minutes=minutes))
            await world.say(PILSEN_EN, "ana", f"!report corner {n}; parked")
        await world.advance(timedelta(minutes=1))
        await world.say(PILSEN_EN, "ana", "!report corner 6; parked")
        assert "Please wait about 3 minutes" in world.last(PILSEN_EN)
        await world.advance(timedelta(minutes=3))
        await world.say(PILSEN_EN, "ana", "!report corner 7; parked")
        assert world.last(PILSEN_EN).startswith("📝 Report ")
    finally:
        await world.app.stop()


async def test_rate_limit_is_configurable(tmp_path: Path, key: DataKey) -> None:
    world = await start_world(tmp_path, key, "per_person_limit = 1\nper_person_window_minutes = 3")
    try:
        await file_report(world)
        await world.say(PILSEN_EN, "ana", ONE_LINE)
        assert "you have sent 1 report in the last 3 minutes" in world.last(PILSEN_EN)
    finally:
        await world.app.stop()


async def test_reports_past_the_command_limit_are_all_filed_or_told_the_wait(
    tmp_path: Path, key: DataKey
) -> None:
    # 20 commands a minute (the default [bot] commands_per_minute), 22 reports per person.
    world = await start_world(tmp_path, key, "per_person_limit = 22")
    started = datetime.now(UTC)
    world.app.use_clock(lambda: started)  # all 25 within the command limit's minute
    try:
        answers = []
        for n in range(25):
            event = await world.write(PILSEN_EN, "ana", f"!report corner {n}; parked")
            answers.append(world.in_thread(PILSEN_EN, event))
        assert all(len(said) == 1 for said in answers), answers  # none silent
        filed = [said[0] for said in answers[:22]]
        assert all(text.startswith("📝 Report ") for text in filed), filed
        assert len(world.cards()) == 22
        for [text] in answers[22:]:
            assert text.startswith("Thank you — you have sent 22 reports in the last 10 minutes")
            assert "Please wait about 10 minutes" in text
    finally:
        await world.app.stop()


# --- decisions by reaction ----------------------------------------------------------------


async def test_confirm_by_reaction_edits_the_card_and_tells_the_reporter(
    world: SightingsWorld,
) -> None:
    report_id, event = await file_report(world)
    card = world.card_of(report_id)
    await world.react(MODS, "rosa", card.event_id, "✅")
    edited = world.card_text(card.event_id)
    assert edited.startswith(f"🔴 {report_id} · CONFIRMED")
    assert "✅ confirmed — Rosa" in edited
    notice = world.messages(PILSEN_EN)[-1]
    assert notice.message.thread_root == event
    assert notice.message.mentions == ("ana",)
    assert notice.text == f"✅ Your report {report_id} was CONFIRMED by the moderators. Thank you."
    # The edited card says it all: no extra chatter in the moderation room.
    assert [s.message.edit_of for s in world.messages(MODS)] == [None, card.event_id]


async def test_reactions_with_a_variation_selector_count(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await world.react(MODS, "rosa", world.card_of(report_id).event_id, "❌\ufe0f")
    assert "❌ false alarm — Rosa" in world.card_text(world.card_of(report_id).event_id)


async def test_needs_info_by_reaction_then_the_reporter_answers(world: SightingsWorld) -> None:
    report_id, event = await file_report(world)
    card = world.card_of(report_id)
    await world.react(MODS, "rosa", card.event_id, "❓")
    assert "NEEDS INFO" in world.card_text(card.event_id)
    assert world.last(PILSEN_EN).startswith(f"❓ A moderator needs more details about {report_id}.")

    await world.say(PILSEN_EN, "ana", "They are still there, 3 agents", thread=event)
    assert world.last(PILSEN_EN) == (
        f"Thank you, your answer went to the moderators. {report_id} is waiting for "
        "verification again."
    )
    edited = world.card_text(card.event_id)
    assert edited.startswith(f"🟡 {report_id} · NEW")
    assert "💬 reporter answered — the reporter: They are still there, 3 agents" in edited
    told = [s for s in world.messages(MODS) if s.message.reply_to == card.event_id]
    assert (
        told[-1].text
        == f"💬 The reporter answered about {report_id}:\nThey are still there, 3 agents"
    )


async def test_talk_in_the_reporters_thread_is_left_alone(world: SightingsWorld) -> None:
    _report_id, event = await file_report(world)
    before = len(world.transport.sent)
    await world.say(PILSEN_EN, "ana", "stay safe everyone", thread=event)
    await world.say(PILSEN_EN, "bob", "I see them too", thread=event)
    assert len(world.transport.sent) == before


async def test_a_neighbor_reacting_on_a_card_is_refused(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    card = world.card_of(report_id)
    await world.react(MODS, "mallory", card.event_id, "✅")
    refusal = world.messages(MODS)[-1]
    assert refusal.text == "Only moderators can decide on reports. Your reaction changed nothing."
    assert refusal.message.thread_root == card.event_id
    assert world.card_text(card.event_id).startswith(f"🟡 {report_id} · NEW")


async def test_reactions_elsewhere_are_ignored(world: SightingsWorld) -> None:
    _report_id, event = await file_report(world)
    before = len(world.transport.sent)
    await world.react(PILSEN_EN, "rosa", event, "✅")
    await world.react(MODS, "rosa", "$not-a-card", "✅")
    assert len(world.transport.sent) == before


# --- decisions by command -----------------------------------------------------------------


async def test_confirm_update_clear_each_edit_the_card_and_tell_the_reporter(
    world: SightingsWorld,
) -> None:
    report_id, event = await file_report(world)
    card = world.card_of(report_id)
    await world.say(MODS, "rosa", f"!confirm {report_id} two of us checked")
    assert world.replies(MODS)[-1] == (
        f"🔴 {report_id}: CONFIRMED. The card is updated and the reporter was told."
    )
    await world.say(MODS, "luis", f"!update {report_id} moving north on Ashland")
    await world.say(MODS, "rosa", f"!clear {report_id}")
    edited = world.card_text(card.event_id)
    assert edited.startswith(f"🟢 {report_id} · ALL CLEAR")
    history = edited.split("History:\n")[1].splitlines()
    assert "✅ confirmed — Rosa: two of us checked" in history[0]
    assert "🔄 update — Luis: moving north on Ashland" in history[1]
    assert "🟢 all clear — Rosa" in history[2]
    assert world.in_thread(PILSEN_EN, event)[1:] == [
        f"✅ Your report {report_id} was CONFIRMED by the moderators. Thank you.\n"
        "two of us checked",
        f"🔄 Update on {report_id}:\nmoving north on Ashland",
        f"🟢 All clear for {report_id}.",
    ]


async def test_spanish_commands_and_answers(world: SightingsWorld) -> None:
    report_id, event = await file_report(world, KEYED_ES, room=PILSEN_ES, user="bea")
    await world.say(MODS, "rosa", f"!masinfo {report_id} ¿siguen ahí?")
    assert world.replies(MODS)[-1] == (
        f"❓ {report_id}: FALTA INFORMACIÓN — SIN CONFIRMAR. La tarjeta está actualizada y se "
        "le avisó a quien reportó."
    )
    assert world.in_thread(PILSEN_ES, event)[-1] == (
        f"❓ Un moderador necesita más detalles sobre {report_id}. Para contestar, responde a "
        f"este mensaje, o envía !respuesta {report_id} seguido de tu respuesta.\n¿siguen ahí?"
    )
    await world.say(PILSEN_ES, "bea", "sí, siguen", thread=event)
    await world.say(MODS, "luis", f"!falso {report_id} era una mudanza")
    assert world.in_thread(PILSEN_ES, event)[-1].startswith(
        f"❌ Tu reporte {report_id} se cerró como falsa alarma."
    )


async def test_retract_and_unverifiable_and_dup(world: SightingsWorld) -> None:
    first, _ = await file_report(world)
    second, _ = await file_report(world, user="bob")
    third, _ = await file_report(world, user="carla")
    await world.say(MODS, "rosa", f"!confirm {first}")
    await world.say(MODS, "rosa", f"!retract {first} it was a moving company")
    assert "↩️ retracted — Rosa: it was a moving company" in world.card_text(
        world.card_of(first).event_id
    )
    await world.say(MODS, "rosa", f"!dup {second} {first.lower()}")
    assert "Duplicate of: " + first in world.card_text(world.card_of(second).event_id)
    await world.say(MODS, "rosa", f"!unverifiable {third}")
    assert world.card_text(world.card_of(third).event_id).startswith(f"⚪ {third} · UNVERIFIABLE")


async def test_dup_of_itself_or_of_nothing_is_refused(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await world.say(MODS, "rosa", f"!dup {report_id} {report_id}")
    assert world.replies(MODS)[-1] == (
        f"{report_id} can't be a duplicate of itself. Give the id of the other report."
    )
    await world.say(MODS, "rosa", f"!dup {report_id} R999")
    assert world.replies(MODS)[-1] == "There is no report R999. Report ids look like R7K3."
    await world.say(MODS, "rosa", f"!dup {report_id} what?")
    assert world.replies(MODS)[-1] == "There is no report what?. Report ids look like R7K3."


async def test_illegal_transitions_say_why_and_what_is_possible(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await world.say(MODS, "rosa", f"!update {report_id} still there")
    assert world.replies(MODS)[-1] == (
        f"{report_id} is NEW — UNCONFIRMED, so !update does not apply: it works on reports "
        "that are CONFIRMED.\nDecide: react ✅ confirm · ❌ false alarm · ❓ needs info — or "
        f"!confirm {report_id} [note] · !false {report_id} [note] · !unverifiable {report_id} · "
        f"!needinfo {report_id} question · !dup {report_id} OTHER-ID"
    )
    await world.say(MODS, "rosa", f"!false {report_id}")
    await world.say(MODS, "rosa", f"!confirm {report_id}")
    assert world.replies(MODS)[-1] == (
        f"{report_id} is FALSE ALARM, so !confirm does not apply: it works on reports that "
        "are NEW — UNCONFIRMED / NEEDS INFO — UNCONFIRMED.\nClosed: nothing more can change."
    )


async def test_unknown_or_malformed_ids_and_missing_arguments(world: SightingsWorld) -> None:
    await world.say(MODS, "rosa", "!confirm R2345")
    assert world.replies(MODS)[-1] == "There is no report R2345. Report ids look like R7K3."
    await world.say(MODS, "rosa", "!confirm <b>x</b>")
    assert world.replies(MODS)[-1] == "There is no report <b>x</b>. Report ids look like R7K3."
    await world.say(MODS, "rosa", "!needinfo R2345")
    assert world.replies(MODS)[-1] == (
        "What do you want to ask the reporter? Send !needinfo R7K3 and your question,"
        " with the id from the card."
    )
    await world.say(MODS, "rosa", "!retract")
    assert world.replies(MODS)[-1] == "Which report? Send !retract R7K3 and the reason."


async def test_neighbors_cannot_decide(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await world.say(MODS, "mallory", f"!confirm {report_id}")
    assert world.replies(MODS)[-1] == "Sorry, you are not allowed to use !confirm."
    await world.say(PILSEN_EN, "mallory", f"!confirm {report_id}")
    assert world.last(PILSEN_EN) == "Sorry, you are not allowed to use !confirm."


async def test_decisions_only_in_a_moderation_room_of_the_reports_area(
    world: SightingsWorld,
) -> None:
    report_id, _ = await file_report(world)
    await world.say(PILSEN_EN, "rosa", f"!confirm {report_id}")
    assert world.last(PILSEN_EN) == "!confirm works in the moderation rooms, not here."
    await world.say(MODS_LV, "rosa", f"!confirm {report_id}")
    assert world.replies(MODS_LV)[-1] == (
        f"{report_id} es de Pilsen, que esta sala no modera. Decídelo en la sala de "
        "moderación de Pilsen."
    )


async def test_a_moderator_cannot_confirm_their_own_report(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world, user="rosa")
    card = world.card_of(report_id)
    await world.say(MODS, "rosa", f"!confirm {report_id}")
    assert world.replies(MODS)[-1] == (
        f"You reported {report_id} yourself, so another moderator has to confirm it "
        "(two-person rule)."
    )
    await world.react(MODS, "rosa", card.event_id, "✅")
    assert world.replies(MODS)[-1].startswith(f"You reported {report_id} yourself")
    assert world.card_text(card.event_id).startswith(f"🟡 {report_id} · NEW")
    await world.say(MODS, "luis", f"!confirm {report_id}")
    assert world.card_text(card.event_id).startswith(f"🔴 {report_id} · CONFIRMED")


async def test_two_moderators_at_once_one_decision_and_the_other_is_told(
    world: SightingsWorld,
) -> None:
    report_id, _ = await file_report(world)
    card = world.card_of(report_id)
    await asyncio.gather(
        world.say(MODS, "rosa", f"!confirm {report_id}"),
        world.say(MODS, "luis", f"!false {report_id}"),
    )
    stored = await world.plugin.store.get(report_id)
    assert stored is not None and len(stored.history) == 1
    winner = stored.history[0].actor
    assert winner is not None
    answers = [s.text for s in world.messages(MODS) if s.key and s.key.startswith("reply:")]
    assert len(answers) == 2
    assert sum(a.startswith("Too late: ") for a in answers) == 1
    assert any(f"Too late: {winner.name} already decided {report_id}" in a for a in answers)
    assert world.card_text(card.event_id).count("— ") == 2  # the field line and one decision


async def test_racing_reactions_one_wins(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    card = world.card_of(report_id)
    await asyncio.gather(
        world.react(MODS, "rosa", card.event_id, "✅"),
        world.react(MODS, "luis", card.event_id, "❌"),
    )
    stored = await world.plugin.store.get(report_id)
    assert stored is not None and len(stored.history) == 1
    [told] = [s for s in world.messages(MODS) if s.message.thread_root == card.event_id]
    assert told.text.startswith("Too late: ")


# --- corroboration and listing ------------------------------------------------------------


async def test_seen_counts_once_per_person_and_updates_the_card(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    card = world.card_of(report_id)
    await world.say(PILSEN_EN, "bob", f"!seen {report_id.lower()}")
    assert world.last(PILSEN_EN) == f"Thank you. {report_id} has now been seen by 1 more person."
    await world.say(PILSEN_ES, "carla", f"!visto {report_id}")
    assert world.last(PILSEN_ES) == f"Gracias. Ya son 2 personas más que vieron {report_id}."
    await world.say(PILSEN_EN, "bob", f"!seen {report_id}")
    assert (
        world.last(PILSEN_EN) == f"You already said you saw {report_id}; each person counts once."
    )
    await world.say(PILSEN_EN, "ana", f"!seen {report_id}")
    assert world.last(PILSEN_EN).startswith(f"You reported {report_id} yourself")
    assert "Also seen by: 2" in world.card_text(card.event_id)


async def test_seen_on_a_closed_or_unknown_report(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    await world.say(MODS, "rosa", f"!false {report_id}")
    await world.say(PILSEN_EN, "bob", f"!seen {report_id}")
    assert world.last(PILSEN_EN) == (
        f"{report_id} is already closed (FALSE ALARM), so it can't be corroborated any more."
    )
    await world.say(PILSEN_EN, "bob", "!seen R2222")
    assert world.last(PILSEN_EN) == "There is no report R2222. Report ids look like R7K3."


async def test_reports_lists_open_reports_of_the_rooms_areas(world: SightingsWorld) -> None:
    first, _ = await file_report(world)
    second, _ = await file_report(world, "!report Cermak; checkpoint | when: 1 h ago", user="bob")
    closed, _ = await file_report(world, user="carla")
    elsewhere, _ = await file_report(world, "!reporte 26 y Pulaski; retén", room=VILLITA)
    await world.say(MODS, "rosa", f"!confirm {first}")
    await world.say(MODS, "rosa", f"!false {closed}")
    await world.say(MODS, "rosa", "!reports")
    listing = world.replies(MODS)[-1]
    assert listing.startswith("Open reports (2), times in C")
    assert f"🔴 {first} · CONFIRMED · Pilsen" in listing
    assert f"🟡 {second} · NEW — UNCONFIRMED" in listing
    assert closed not in listing and elsewhere not in listing
    await world.say(MODS_LV, "luis", "!reportes")
    assert world.replies(MODS_LV)[-1].startswith("Reportes abiertos (1), horas en C")
    await world.say(PILSEN_EN, "ana", "!reports")
    assert world.last(PILSEN_EN) == "Sorry, you are not allowed to use !reports."


# --- attachments ----------------------------------------------------------------------------


async def test_a_photo_in_the_reporters_thread_goes_to_the_card_only(world: SightingsWorld) -> None:
    report_id, event = await file_report(world)
    photo = Attachment(kind="image", name="IMG_2041-plates.jpg")
    await world.say(PILSEN_EN, "ana", "", thread=event, attachments=[photo])
    assert world.last(PILSEN_EN) == (
        "Got it: the file goes to the moderators only, never to other rooms."
    )
    card_text = world.card_text(world.card_of(report_id).event_id)
    assert "Attachments: photo “IMG_2041-plates.jpg”" in card_text
    assert not [t for t in world.texts(PILSEN_EN) if "IMG_2041" in t]
    # Someone else's photo in the thread is not the reporter's evidence.
    await world.say(PILSEN_EN, "bob", "", thread=event, attachments=[photo])
    assert world.card_text(world.card_of(report_id).event_id).count("IMG_2041") == 1


# --- for the relay: signals and catching up ------------------------------------------------


async def test_subscribers_hear_confirmed_updated_cleared_retracted(world: SightingsWorld) -> None:
    heard: list[ReportChange] = []

    async def listen(change: ReportChange) -> None:
        heard.append(change)

    async def broken(change: ReportChange) -> None:
        raise RuntimeError("a subscriber's bug")

    world.plugin.signals.subscribe(broken)
    world.plugin.signals.subscribe(listen)
    first, event = await file_report(world, KEYED_ES, room=PILSEN_ES, user="bea")
    second, _ = await file_report(world, user="bob")
    await world.say(MODS, "rosa", f"!confirm {first}")
    await world.say(MODS, "rosa", f"!needinfo {second} where exactly?")
    await world.say(MODS, "rosa", f"!update {first} leaving")
    await world.say(MODS, "rosa", f"!clear {first}")
    await world.say(MODS, "rosa", f"!confirm {second}")
    await world.say(MODS, "rosa", f"!retract {second} wrong")
    assert [(c.kind, c.report_id) for c in heard] == [
        (ChangeKind.CONFIRMED, first),
        (ChangeKind.UPDATED, first),
        (ChangeKind.CLEARED, first),
        (ChangeKind.CONFIRMED, second),
        (ChangeKind.RETRACTED, second),
    ]
    assert heard[0].report.plates == ("ABC1**",)  # the relay must leave them out
    assert heard[0].reporter_thread == event
    assert heard[1].note == "leaving"
    seqs = [c.seq for c in heard]
    assert seqs == sorted(seqs)
    caught_up = await world.plugin.changes_after(seqs[1])
    assert [c.seq for c in caught_up] == seqs[2:]


# --- crash replays --------------------------------------------------------------------------


async def test_a_replayed_decision_is_not_applied_twice(world: SightingsWorld) -> None:
    report_id, _ = await file_report(world)
    event = await world.write(MODS, "rosa", f"!confirm {report_id}")
    first_answer = world.replies(MODS)[-1]
    # As if the bot crashed after storing the decision and the event came again.
    stored = await world.plugin.store.get(report_id)
    assert stored is not None

    again = await world.plugin.decisions.decide(
        Request(report_id, Action.CONFIRM, Actor("rosa", "Rosa"), stored.origin.room, event),
        world.plugin.notifier.view("en"),
    )
    assert again.text == first_answer
    stored = await world.plugin.store.get(report_id)
    assert stored is not None and len(stored.history) == 1 and stored.status is Status.CONFIRMED


# --- privacy ----------------------------------------------------------------------------------


async def test_nothing_of_a_report_is_stored_readable_or_logged(
    world: SightingsWorld, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    secrets = ("Zyxwv Street", "ABC9**", "maria-ochoa-7731", "green minivan", "IMG_4444")
    with caplog.at_level(logging.DEBUG):
        report_id, event = await file_report(
            world,
            "!report where: Zyxwv Street | what: green minivan watching | plate: ABC9**",
            user="maria-ochoa-7731",
        )
        await world.say(
            PILSEN_EN,
            "maria-ochoa-7731",
            "",
            thread=event,
            attachments=[Attachment(kind="image", name="IMG_4444")],
        )
        await world.say(PILSEN_EN, "bob", f"!seen {report_id}")
        await world.say(MODS, "rosa", f"!needinfo {report_id} how many?")
        await world.say(PILSEN_EN, "maria-ochoa-7731", "green minivan, 2", thread=event)
        await world.say(MODS, "rosa", f"!confirm {report_id} Zyxwv Street checked")
    await world.app.stop()
    stored = b"".join(p.read_bytes() for p in (tmp_path / "data").iterdir() if p.is_file())
    for secret in secrets:
        assert secret.encode() not in stored, secret
        assert secret not in caplog.text, secret
    for record in caplog.records:
        if record.levelno >= logging.INFO:
            assert report_id not in record.getMessage()


async def test_user_text_never_becomes_markup_or_a_ping(world: SightingsWorld) -> None:
    await file_report(world, "!report <b>Ashland</b> @room; <script>x</script> agents at doors")
    [card] = world.cards()
    html = card.message.html or ""
    assert "<script>" not in html and "<b>" not in html
    assert "&lt;script&gt;x&lt;/script&gt;" in html
    assert card.message.mentions == ()
    [ack] = world.messages(PILSEN_EN)
    assert "<b>" not in (ack.message.html or "") and ack.message.mentions == ()
