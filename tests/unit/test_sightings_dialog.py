"""The guided report: questions in a thread, skip / cancel, one dialog per person, a shared
location, a timeout run by the scheduler, and surviving a restart."""

from __future__ import annotations

import asyncio
import re
from datetime import UTC, datetime, timedelta
from pathlib import Path

from testkit.networks import MODS, PILSEN_EN, PILSEN_ES
from testkit.world import SightingsWorld, start_world

from bot.core.events import Attachment
from bot.storage.keys import DataKey
from plugins.sightings.guided import TIMEOUT_JOB

WHERE_EN = "Where is it? A cross-street or landmark — or share your location."
WHAT_EN = "What is happening?"
AGENTS_EN = "How many agents? (a number, or unknown)"
VEHICLES_EN = "How many vehicles, and what do they look like?"
MORE_EN = "Anything else?"
CONTROLS_EN = "(skip to leave this out · cancel to stop)"


async def answer(
    world: SightingsWorld, root: str, text: str, *, room: str = PILSEN_EN, user: str = "ana"
) -> str:
    """Answer in the dialog's thread; the bot's reply."""
    await world.say(room, user, text, thread=root)
    return world.in_thread(room, root)[-1]


async def test_the_whole_dialog_in_a_thread_files_a_report(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_EN, "ana", "!report")
    [first] = world.messages(PILSEN_EN)
    assert first.message.thread_root == root
    assert first.text == (
        "Let's report it step by step. Answer here in this thread.\n"
        "Rather answer in private? Send me !report in a direct chat and we continue there.\n"
        f"{WHERE_EN}\n(cancel to stop)"  # where? cannot be skipped: skip is not offered
    )
    assert (await answer(world, root, "18th & Ashland")).startswith(WHAT_EN)
    assert (await answer(world, root, "agents detaining someone")).startswith(AGENTS_EN)
    assert (await answer(world, root, "4")).startswith(VEHICLES_EN)
    assert (await answer(world, root, "2 black SUVs")).startswith(MORE_EN)
    ack = await answer(world, root, "plate: ABC1** | direction: north | they took a man")
    assert re.match(r"📝 Report R\w+ received — UNCONFIRMED\.", ack)
    assert "ABC1" not in ack
    [card] = world.cards()
    for line in (
        "Where: 18th & Ashland",
        "What: detaining someone — “agents detaining someone”",
        "Agents: 4",
        "Vehicles: 2 (black SUVs)",
        "Plate: ABC1**",
        "Direction: north",
        "Notes: they took a man",
    ):
        assert line in card.text.splitlines(), line
    assert await world.app.bot.scheduler.pending() == 0  # the timeout is cancelled


async def test_skip_and_cancel_in_spanish(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_ES, "bea", "!reporte")
    assert (await answer(world, root, "saltar", room=PILSEN_ES, user="bea")).startswith(
        "Hace falta el lugar para enviar el reporte."
    )
    await answer(world, root, "Cermak y Blue Island", room=PILSEN_ES, user="bea")
    assert (await answer(world, root, "Saltar", room=PILSEN_ES, user="bea")).startswith(
        "¿Cuántos agentes?"
    )
    assert await answer(world, root, "cancelar", room=PILSEN_ES, user="bea") == (
        "Cancelado. No se envió nada."
    )
    assert world.cards() == []
    # After cancelling, a new dialog can start.
    await world.say(PILSEN_ES, "bea", "!reporte")
    assert world.last(PILSEN_ES).startswith("Vamos a reportarlo paso a paso.")


async def test_skipping_the_optional_questions(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_EN, "ana", "!report")
    for text in ("Pilsen library", "skip", "skip", "skip"):
        await answer(world, root, text)
    ack = await answer(world, root, "no")
    assert "Where: Pilsen library" in ack
    assert "What: other" in ack


async def test_a_bad_answer_is_explained_and_asked_again(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_EN, "ana", "!report")
    await answer(world, root, "18th & Ashland")
    await answer(world, root, "parked")
    assert await answer(world, root, "about 200") == (
        "The number of agents must be from 0 to 99. Write unknown if you are not sure.\n"
        f"{AGENTS_EN}\n{CONTROLS_EN}"
    )
    assert (await answer(world, root, "no sé")).startswith(VEHICLES_EN)


async def test_a_bad_value_at_the_end_is_asked_again(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_EN, "ana", "!report")
    for text in ("18th & Ashland", "parked", "2", "1 van"):
        await answer(world, root, text)
    reply = await answer(world, root, "when: in 10 min")
    assert reply.startswith("The time in 10 min is in the future.")
    assert MORE_EN in reply
    assert world.cards() == []
    assert (await answer(world, root, "when: 5 min ago")).startswith("📝 Report")


async def test_a_shared_location_answers_where(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_EN, "ana", "!report")
    await world.share_location(PILSEN_EN, "ana", "geo:41.8579,-87.6661;u=20", thread=root)
    assert world.last(PILSEN_EN).startswith(WHAT_EN)
    for text in ("checkpoint", "unknown", "none", "no"):
        await answer(world, root, text)
    [card] = world.cards()
    assert "Where: 41.85790, -87.66610 (geo:41.8579,-87.6661;u=20)" in card.text


async def test_a_described_location_keeps_its_description(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_EN, "ana", "!report")
    await world.share_location(PILSEN_EN, "ana", "geo:41.85,-87.66", "Dvorak Park", thread=root)
    for text in ("checkpoint", "unknown", "none", "no"):
        await answer(world, root, text)
    assert "Where: Dvorak Park (geo:41.85,-87.66)" in world.cards()[0].text


async def test_a_photo_during_the_dialog_goes_to_the_card(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_EN, "ana", "!report")
    await answer(world, root, "18th & Ashland")
    await world.say(
        PILSEN_EN, "ana", "", thread=root, attachments=[Attachment(kind="image", name="van.jpg")]
    )
    assert world.last(PILSEN_EN) == (
        "Got it: the file goes to the moderators only, never to other rooms."
    )
    for text in ("parked", "1", "1 van", "no"):
        await answer(world, root, text)
    assert "Attachments: photo “van.jpg”" in world.cards()[0].text
    assert not [t for t in world.texts(PILSEN_EN) if "van.jpg" in t]


async def test_one_open_dialog_per_person(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_EN, "ana", "!report")
    await world.say(PILSEN_EN, "ana", "!report")
    assert world.last(PILSEN_EN) == (
        "You already have a report in progress. Answer its questions in its thread, or write "
        "cancel there."
    )
    other = await world.write(PILSEN_EN, "bob", "!report")  # others have their own
    assert (await answer(world, other, "Cermak", user="bob")).startswith(WHAT_EN)
    assert (await answer(world, root, "18th & Ashland")).startswith(WHAT_EN)
    # A complete one-line report is still welcome while a dialog is open.
    await world.say(PILSEN_EN, "ana", "!report Halsted; convoy")
    assert world.last(PILSEN_EN).startswith("📝 Report")


async def test_answers_outside_any_thread_count_other_threads_do_not(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_EN, "ana", "!report")
    other_thread = await world.write(PILSEN_EN, "bob", "did anyone see the vans?")
    await world.say(PILSEN_EN, "ana", "yes, on Cermak", thread=other_thread)
    assert len(world.in_thread(PILSEN_EN, root)) == 1
    await world.say(PILSEN_EN, "ana", "18th & Ashland")  # Signal and console have no threads
    assert world.in_thread(PILSEN_EN, root)[-1].startswith(WHAT_EN)
    await world.say(PILSEN_ES, "ana", "en otra sala")  # nor do other rooms
    assert world.texts(PILSEN_ES) == []


async def test_the_dialog_times_out_after_ten_minutes(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_EN, "ana", "!report")
    await answer(world, root, "18th & Ashland")
    [(job_id, run_at)] = await _timeout_jobs(world)
    assert timedelta(minutes=9) < run_at - datetime.now(UTC) <= timedelta(minutes=10)

    plugin = world.plugin
    await plugin.dialog_timeout({"person": job_id.removeprefix(f"{TIMEOUT_JOB}:")})
    assert len(world.in_thread(PILSEN_EN, root)) == 2  # not yet: nothing happens
    plugin.clock = lambda: datetime.now(UTC) + timedelta(minutes=11)
    await plugin.dialog_timeout({"person": job_id.removeprefix(f"{TIMEOUT_JOB}:")})
    assert world.in_thread(PILSEN_EN, root)[-1] == (
        "No answer for a while, so I stopped this report; nothing was sent. Send !report to "
        "start again."
    )
    before = len(world.transport.sent)
    await world.say(PILSEN_EN, "ana", "parked", thread=root)
    assert len(world.transport.sent) == before  # no longer a dialog answer


async def test_the_timeout_is_run_by_the_scheduler(tmp_path: Path, key: DataKey) -> None:
    world = await start_world(tmp_path, key, "dialog_timeout_minutes = 1")
    try:
        root = await world.write(PILSEN_EN, "ana", "!report")
        [(job_id, _run_at)] = await _timeout_jobs(world)
        # Bring the job forward instead of waiting a minute.
        await world.app.bot.scheduler.schedule(
            TIMEOUT_JOB,
            datetime.now(UTC) + timedelta(milliseconds=200),
            {"person": job_id.removeprefix(f"{TIMEOUT_JOB}:")},
            job_id=job_id,
        )
        world.plugin.clock = lambda: datetime.now(UTC) + timedelta(minutes=2)
        for _ in range(100):
            if len(world.in_thread(PILSEN_EN, root)) == 2:
                break
            await asyncio.sleep(0.05)
        assert world.in_thread(PILSEN_EN, root)[-1].startswith("No answer for a while")
        assert await world.app.bot.scheduler.pending() == 0
    finally:
        await world.app.stop()


async def test_a_dialog_survives_a_restart(tmp_path: Path, key: DataKey) -> None:
    first = await start_world(tmp_path, key)
    root = await first.write(PILSEN_ES, "bea", "!reporte")
    await answer(first, root, "18 y Ashland", room=PILSEN_ES, user="bea")
    await answer(first, root, "deteniendo a alguien", room=PILSEN_ES, user="bea")
    await first.app.stop()

    second = await start_world(tmp_path, key)
    try:
        assert (await answer(second, root, "3", room=PILSEN_ES, user="bea")).startswith(
            "¿Cuántos vehículos"
        )
        await answer(second, root, "ninguno", room=PILSEN_ES, user="bea")
        ack = await answer(second, root, "no", room=PILSEN_ES, user="bea")
        assert ack.startswith("📝 Reporte")
        assert "Dónde: 18 y Ashland" in ack
        assert "Agentes: 3" in ack
        assert [c.room_id for c in second.cards()] == [MODS]
    finally:
        await second.app.stop()


async def _timeout_jobs(world: SightingsWorld) -> list[tuple[str, datetime]]:
    rows = await world.app.bot.db.fetchall(
        "SELECT job_id, run_at FROM scheduled_jobs WHERE kind = ?", (TIMEOUT_JOB,)
    )
    return [(row["job_id"], datetime.fromisoformat(row["run_at"])) for row in rows]
