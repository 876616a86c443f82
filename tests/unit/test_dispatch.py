"""Dispatch, as verifiers, responders and moderators live it: a call for every new report,
answers from the scene on the moderator card, escalation, check-ins, call-outs, in two
languages, on a clock the test moves."""

from __future__ import annotations

import logging
import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from testkit.networks import (
    DISPATCH_EN,
    DISPATCH_ES,
    DISPATCH_LV,
    HOOD_EN,
    MODS_PILSEN,
    MONDAY,
    chicago,
)
from testkit.world import DispatchWorld

from plugins.dispatch import Dispatch
from plugins.relay import Relay
from plugins.rosters import Rosters
from plugins.sightings import Sightings

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
KEYED = (
    "!report where: 18th & Ashland | what: detaining | agents: 2 | vehicle: white van"
    " | plate: ABC123"
)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[DispatchWorld]:
    running = await DispatchWorld(tmp_path, MONDAY).start()
    yield running
    await running.stop()


async def report(world: DispatchWorld, text: str = KEYED, user: str = "ana") -> str:
    sent = await world.say(HOOD_EN, user, text)
    ack = next(s for s in sent if s.room_id == HOOD_EN)
    match = REPORT_ID.search(ack.text)
    assert match, ack.text
    return match[0]


async def on_call_shift(world: DispatchWorld, user: str, day: str) -> None:
    """`user` claims the on-call shift of `day` with the roster commands."""
    row = await world.app.bot.db.fetchone(
        "SELECT id FROM roster_shifts WHERE window_name = 'oncall' AND day = ?", (day,)
    )
    assert row is not None
    assert "✅" in await world.ask(DISPATCH_EN, user, f"!claim {row['id']}")


def card(world: DispatchWorld, report_id: str) -> str:
    return world.shown(world.card_of(report_id))


# --- the call ------------------------------------------------------------------------------


async def test_a_new_report_calls_its_areas_dispatch_rooms_with_who_is_on_call(
    world: DispatchWorld,
) -> None:
    await on_call_shift(world, "vera", "2026-03-03")
    await world.advance_to(chicago("2026-03-03 09:00"))  # the shift runs 06:00-22:00
    report_id = await report(world)
    [english] = world.calls(DISPATCH_EN)
    [spanish] = world.calls(DISPATCH_ES)
    assert world.calls(DISPATCH_LV) == []
    assert english.text.startswith(f"🚨 VERIFIER NEEDED · Pilsen · {report_id}")
    for line in ("Where: 18th & Ashland", "Agents: 2 · vehicles: unknown", "white van"):
        assert line in english.text
    assert "Seen 09:00 CST" in english.text
    assert "On call now: vera" in english.text and english.mentions == ("vera",)
    assert f"!going {report_id} [minutes]" in english.text
    assert spanish.text.startswith(f"🚨 SE NECESITA VERIFICAR · Pilsen · {report_id}")
    assert f"!voy {report_id}" in spanish.text and spanish.mentions == ()  # no rota there
    for call in (english, spanish):
        assert "ABC123" not in call.text and "Ana" not in call.text and "ana" not in call.text
        assert call.message.notice is False  # a call notifies


async def test_a_stale_report_says_so_on_the_call(world: DispatchWorld) -> None:
    await report(world, "!report where: 18th & Ashland | what: detaining | when: 45 min ago")
    [call] = world.calls(DISPATCH_EN)
    assert "⚠ Stale: seen more than 30 minutes before it was reported." in call.text


# --- answers on the card -------------------------------------------------------------------


async def test_going_on_scene_and_what_was_seen_show_live_on_the_card(
    world: DispatchWorld,
) -> None:
    report_id = await report(world)
    assert "Nobody going yet." in card(world, report_id)
    answer = await world.ask(DISPATCH_EN, "vera", f"!going {report_id} 12")
    assert answer == f"🚗 Vera is going to {report_id}, arriving about 09:12 CST."
    assert "Going: Vera, arriving about 09:12" in card(world, report_id)

    await world.advance(timedelta(minutes=10))
    assert await world.ask(DISPATCH_EN, "vera", f"!onscene {report_id}") == (
        f"📍 Vera is at the scene of {report_id}."
    )
    assert "On scene: Vera since 09:10" in card(world, report_id)

    await world.advance(timedelta(minutes=2))
    answer = await world.ask(DISPATCH_EN, "vera", f"!scene {report_id} confirmed 3 agents, a van")
    assert answer.splitlines() == [
        f"👁 Vera at {report_id}: confirmed.",
        "3 agents, a van",
        f"Thank you. The moderators decide on {report_id} with what you saw.",
    ]
    shown = card(world, report_id)
    assert "09:12 Vera: confirmed — 3 agents, a van" in shown
    assert shown.startswith(f"🟡 {report_id}")  # still for the moderators to decide
    assert "ABC123" in shown  # the card keeps the plate: it is the moderation room's


async def test_spanish_commands_answer_in_spanish(world: DispatchWorld) -> None:
    report_id = await report(world)
    answer = await world.ask(DISPATCH_ES, "victor", f"!voy {report_id}")
    assert answer == f"🚗 Victor va a {report_id}, llega más o menos 09:15 CST."
    assert await world.ask(DISPATCH_ES, "victor", f"!enelsitio {report_id}") == (
        f"📍 Victor está en el lugar de {report_id}."
    )
    answer = await world.ask(DISPATCH_ES, "victor", f"!escena {report_id} se-fueron")
    assert answer.splitlines()[0] == f"👁 Victor en {report_id}: se fueron."
    assert "09:00 Victor: they left" in card(world, report_id)  # the card reads in English
    assert await world.ask(DISPATCH_ES, "victor", f"!novoy {report_id}") == (
        f"Victor no va a {report_id}."
    )


async def test_a_car_reaction_on_the_call_means_going(world: DispatchWorld) -> None:
    report_id = await report(world)
    [call] = world.calls(DISPATCH_EN)
    await world.react(DISPATCH_EN, "vera", call.event_id, "🚗")
    assert world.last(DISPATCH_EN) == f"🚗 Vera is going to {report_id}, arriving about 09:15 CST."
    await world.react(DISPATCH_EN, "vera", "$not-a-call", "🚗")
    assert world.last(DISPATCH_EN) == f"🚗 Vera is going to {report_id}, arriving about 09:15 CST."


async def test_bad_answers_get_usage_and_change_nothing(world: DispatchWorld) -> None:
    report_id = await report(world)
    assert "confirmed, nothing or gone" in await world.ask(
        DISPATCH_EN, "vera", f"!scene {report_id} maybe"
    )
    assert "1 to 240" in await world.ask(DISPATCH_EN, "vera", f"!going {report_id} 999")
    assert await world.ask(DISPATCH_EN, "vera", "!going R2222") == (
        "There is no dispatch call for R2222."
    )
    assert "!going works in the dispatch rooms, not here." in await world.ask(
        HOOD_EN, "vera", f"!going {report_id}"
    )
    assert "Nobody going yet." in card(world, report_id)


# --- decisions -----------------------------------------------------------------------------


async def test_a_verifier_confirms_where_the_area_lets_them(tmp_path: Path) -> None:
    world = await DispatchWorld(tmp_path, MONDAY, dispatch='verifier_confirms = ["pilsen"]').start()
    try:
        report_id = await report(world)
        await world.say(DISPATCH_EN, "vera", f"!scene {report_id} confirmed")
        assert (
            f"✅ {report_id} is confirmed from the scene: the alert goes out."
            in world.replies(DISPATCH_EN)[-1]
        )
        assert card(world, report_id).startswith(f"🔴 {report_id}")
        assert any("CONFIRMED ALERT" in text for text in world.texts(HOOD_EN))
        # The reporter is in the dispatch room too, but never confirms their own report.
        own = await report(world, "!report 26th & Pulaski; a checkpoint", user="ana")
        answer = await world.ask(DISPATCH_EN, "ana", f"!scene {own} confirmed")
        assert answer.endswith(
            f"You filed {own} yourself, so your confirmation goes to the moderators, who decide."
        )
        assert card(world, own).startswith(f"🟡 {own}")
    finally:
        await world.stop()


async def test_confirmation_calls_out_responders_with_a_tally_then_stands_them_down(
    world: DispatchWorld,
) -> None:
    report_id = await report(world)
    await world.say(MODS_PILSEN, "rosa", f"!confirm {report_id}")
    [callout] = [s for s in world.messages(DISPATCH_EN) if s.key and "callout" in s.key]
    assert callout.text.startswith(f"📣 RESPONDERS NEEDED · Pilsen · {report_id}")
    assert "Going: nobody yet" in callout.text
    await world.say(DISPATCH_EN, "rita", f"!going {report_id}")
    await world.say(DISPATCH_ES, "raul", f"!voy {report_id}")
    assert "Going: Rita, Raul" in world.shown(callout)  # in the order they answered
    await world.say(DISPATCH_ES, "raul", f"!novoy {report_id}")
    assert "Going: Rita · 1 of 6\n" in world.shown(callout)
    assert "1 responder going" in card(world, report_id)
    await world.say(MODS_PILSEN, "rosa", f"!clear {report_id}")
    assert world.last(DISPATCH_EN) == f"🟢 Stand down: {report_id} is all clear. Thank you all."
    assert world.last(DISPATCH_ES).startswith(f"🟢 Retirada: {report_id} está todo despejado.")


# --- timers --------------------------------------------------------------------------------


async def test_nobody_going_in_time_calls_the_whole_room_and_tells_the_moderators(
    world: DispatchWorld,
) -> None:
    await world.say(DISPATCH_EN, "pepe", "!backup on")
    report_id = await report(world)
    assert await world.advance(timedelta(minutes=4, seconds=59)) == []
    sent = await world.advance(timedelta(seconds=2))
    [english] = [s for s in sent if s.room_id == DISPATCH_EN]
    assert english.text.startswith(f"⏰ Nobody is going to {report_id} (Pilsen) after 5 minutes.")
    assert english.message.mention_room and english.mentions == ("pepe",)
    assert next(s for s in sent if s.room_id == DISPATCH_ES).message.mention_room
    [moderators] = [s for s in sent if s.room_id == MODS_PILSEN]
    assert "Nobody answered the dispatch call" in moderators.text
    assert await world.advance(timedelta(hours=1)) == []  # once


async def test_no_escalation_once_someone_is_going(world: DispatchWorld) -> None:
    report_id = await report(world)
    await world.say(DISPATCH_EN, "vera", f"!going {report_id} 30")
    assert not [s for s in await world.advance(timedelta(minutes=10)) if "⏰" in s.text]


async def test_a_silent_verifier_is_asked_after_then_the_moderators_are_told(
    world: DispatchWorld,
) -> None:
    report_id = await report(world)
    await world.say(DISPATCH_EN, "vera", f"!going {report_id} 10")
    assert await world.advance(timedelta(minutes=24)) == []  # ETA 09:10, grace 15 minutes
    sent = await world.advance(timedelta(minutes=2))
    asked = [s for s in sent if s.room_id == DISPATCH_EN]
    assert asked[0].text.startswith(f"Vera: are you OK? You went to {report_id}")
    assert asked[0].mentions == ("vera",)
    sent = await world.advance(timedelta(minutes=10))
    [told] = [s for s in sent if s.room_id == MODS_PILSEN]
    assert told.text.startswith(f"⚠ Vera went to {report_id} (Pilsen) and has not answered")


async def test_answering_ok_stops_the_alarm(world: DispatchWorld) -> None:
    report_id = await report(world)
    await world.say(DISPATCH_EN, "vera", f"!going {report_id} 10")
    await world.advance(timedelta(minutes=26))
    assert (
        await world.ask(DISPATCH_EN, "vera", f"!ok {report_id}")
        == "Thank you, Vera. Glad you are OK."
    )
    # In Spanish it is `!bien R7K3`; `!bien` alone is a safety check-in's "I am safe".
    assert await world.ask(DISPATCH_EN, "vera", f"!bien {report_id}") == (
        "Gracias, Vera. Qué bueno que estás bien."
    )
    assert not [s for s in await world.advance(timedelta(minutes=30)) if s.room_id == MODS_PILSEN]


async def test_timers_survive_a_restart_and_none_fires_late(world: DispatchWorld) -> None:
    report_id = await report(world)
    await world.say(DISPATCH_EN, "vera", f"!going {report_id} 10")  # check-in due 09:25
    await world.restart(down_until=chicago("2026-03-02 09:20"))
    asked = await world.advance_to(chicago("2026-03-02 09:26"))
    assert [s.text.split("?")[0] for s in asked if s.room_id == DISPATCH_EN] == ["Vera: are you OK"]
    # Down far past the time to tell the moderators (09:35): dropped, not sent late.
    await world.restart(down_until=chicago("2026-03-02 11:00"))
    assert await world.advance(timedelta(minutes=30)) == []


async def test_a_report_filed_while_dispatch_was_off_is_called_exactly_once(
    tmp_path: Path,
) -> None:
    without = DispatchWorld(tmp_path, MONDAY, plugins=(Sightings, Relay, Rosters))
    await without.start()
    report_id = await report(without)
    await without.stop()
    assert without.calls(DISPATCH_EN) == []
    world = DispatchWorld(tmp_path, MONDAY, key=without.key)
    try:
        for _ in range(2):
            await world.restart()
            calls = world.calls(DISPATCH_EN)
            assert len(calls) == 1 and report_id in calls[0].text
    finally:
        await world.stop()


# --- stats, privacy, forgetting ------------------------------------------------------------


async def test_stats_count_outcomes_and_median_minutes(world: DispatchWorld) -> None:
    first = await report(world)
    await world.advance(timedelta(minutes=4))
    await world.say(DISPATCH_EN, "vera", f"!going {first} 6")
    await world.advance(timedelta(minutes=6))
    await world.say(DISPATCH_EN, "vera", f"!onscene {first}")
    await world.advance(timedelta(minutes=2))
    await world.say(MODS_PILSEN, "rosa", f"!confirm {first}")
    second = await report(world, "!report 26th & Pulaski; a van parked", user="beto")
    await world.advance(timedelta(minutes=8))
    await world.say(MODS_PILSEN, "rosa", f"!false {second}")
    answer = await world.ask(MODS_PILSEN, "rosa", "!stats 7")
    assert answer.splitlines() == [
        "Last 7 days: 2 reports",
        "  CONFIRMED: 1",
        "  FALSE ALARM: 1",
        "Median minutes from the report: to the first verifier going 4, on scene 10,"
        " to the decision 10.",
    ]
    metrics = world.app.bot.metrics.render().decode()
    assert "vecinos_dispatch_minutes_to_going_count 1.0" in metrics
    assert 'vecinos_dispatch_minutes_to_scene_bucket{le="10.0"} 1.0' in metrics
    assert "vecinos_dispatch_minutes_to_confirmation_count 1.0" in metrics
    spanish = await world.ask(MODS_PILSEN, "rosa", "!estadisticas 1")
    assert spanish.startswith("Últimos 1 día: 2 reportes")
    answer = await world.ask(DISPATCH_EN, "rosa", "!stats")
    assert answer == "!stats works in the moderation rooms, not here."
    assert "not allowed" in await world.ask(MODS_PILSEN, "vera", "!stats")


async def test_dispatch_records_keep_no_names_or_notes_in_the_clear(world: DispatchWorld) -> None:
    report_id = await report(world)
    await world.say(DISPATCH_EN, "veronica", f"!going {report_id}")
    await world.say(DISPATCH_EN, "veronica", f"!scene {report_id} nothing an empty parking lot")
    data = world.raw_bytes()
    for secret in (b"veronica", b"Veronica", b"empty parking lot", b"ABC123"):
        assert secret not in data


async def test_forgetme_erases_a_verifiers_answers(world: DispatchWorld) -> None:
    report_id = await report(world)
    await world.say(DISPATCH_EN, "vera", f"!going {report_id}")
    await world.say(DISPATCH_EN, "vera", f"!scene {report_id} gone")
    assert "Going: Vera" in card(world, report_id) or "On scene: Vera" in card(world, report_id)
    await world.say(DISPATCH_EN, "vera", "!forgetme yes")
    shown = card(world, report_id)
    assert "Vera" not in shown and "Nobody going yet." in shown
    person = world.app.bot.person("vera")
    for table in ("dispatch_people", "dispatch_observations"):
        row = await world.app.bot.db.fetchone(
            f"SELECT COUNT(*) AS n FROM {table} WHERE person = ?", (person,)
        )
        assert row is not None and row["n"] == 0


async def test_dispatch_records_go_with_their_report(world: DispatchWorld) -> None:
    report_id = await report(world)
    await world.say(DISPATCH_EN, "vera", f"!going {report_id}")
    dispatch = world.plugin_of(Dispatch)
    await dispatch.purge()
    assert await dispatch.store.call(report_id) is not None  # the report is still there
    await world.app.bot.db.execute("DELETE FROM sighting_reports WHERE id = ?", (report_id,))
    await dispatch.purge()
    assert await dispatch.store.call(report_id) is None
    row = await world.app.bot.db.fetchone("SELECT COUNT(*) AS n FROM dispatch_people")
    assert row is not None and row["n"] == 0


# --- the on-call rota ------------------------------------------------------------------------


async def test_a_one_off_shift_on_a_date_joins_the_rota(world: DispatchWorld) -> None:
    answer = await world.ask(
        DISPATCH_EN, "ada", "!site window pilsen-oncall court 2026-03-04 09:00-11:00 need 1"
    )
    assert "court" in answer
    row = await world.app.bot.db.fetchone(
        "SELECT id, day FROM roster_shifts WHERE window_name = 'court'"
    )
    assert row is not None and row["day"] == "2026-03-04"
    assert "✅" in await world.ask(DISPATCH_EN, "vera", f"!claim {row['id']}")
    listing = await world.ask(DISPATCH_EN, "ada", "!site")
    assert "court: 2026-03-04 09:00–11:00" in listing
    await world.advance_to(chicago("2026-03-04 09:30"))
    filed = await report(world)
    [call] = [c for c in world.calls(DISPATCH_EN) if filed in c.text]
    assert "On call now: vera" in call.text


async def test_a_crash_while_the_call_is_recorded_still_calls_once(
    world: DispatchWorld, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The call, its timer and its record are one commit: a crash among them leaves
    nothing half done, and the call goes out once after the restart."""
    store = world.plugin_of(Dispatch).store
    real = store.add_call

    async def crash(*args: object) -> None:
        raise RuntimeError("killed while the call was recorded")

    monkeypatch.setattr(store, "add_call", crash)
    report_id = await report(world)
    assert world.calls(DISPATCH_EN) == []  # not queued either
    assert not [job for job in await world.scheduler.jobs() if report_id in job]  # nor timed
    monkeypatch.setattr(store, "add_call", real)
    await world.restart()
    await world.restart()
    for room in (DISPATCH_EN, DISPATCH_ES):
        [call] = world.calls(room)
        assert report_id in call.text
    assert await world.plugin_of(Dispatch).store.call(report_id) is not None


async def test_a_guided_report_is_called_too(world: DispatchWorld) -> None:
    [question] = await world.say(HOOD_EN, "ana", "!report")
    root = question.message.thread_root
    assert root is not None
    for answer in ("18th & Ashland", "agents detaining someone", "3", "skip", "no"):
        await world.say(HOOD_EN, "ana", answer, thread=root)
    [call] = world.calls(DISPATCH_EN)
    assert "Where: 18th & Ashland" in call.text and "Agents: 3" in call.text


async def test_logs_carry_no_ids_names_or_report_text(
    world: DispatchWorld, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.INFO):
        report_id = await report(world, user="zoraida")
        await world.say(DISPATCH_EN, "veronica", f"!going {report_id} 10")
        await world.say(DISPATCH_EN, "veronica", f"!scene {report_id} confirmed a white van")
        await world.advance(timedelta(minutes=40))
    logged = "\n".join(record.getMessage() for record in caplog.records)
    assert "dispatch call for a new report" in logged  # it does log, just not who or what
    for secret in ("veronica", "Veronica", "zoraida", "Zoraida", "Ashland", "white van", "ABC1"):
        assert secret not in logged


async def test_stats_with_no_reports_yet(world: DispatchWorld) -> None:
    answer = await world.ask(MODS_PILSEN, "rosa", "!stats")
    assert answer.startswith("Last 7 days: 0 reports")
    assert answer.endswith("to the first verifier going –, on scene –, to the decision –.")
