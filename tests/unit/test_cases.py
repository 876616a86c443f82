"""Cases after a detention, as a legal team and its verifiers live them: a case opened from a
report or from the legal room, its card edited live, reminders on a clock the test moves
(and across a restart), what a case refuses to hold, in English and Spanish."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from testkit.networks import MONDAY, chicago

from bot.api.testing import FakeClock, PluginWorld, Sent
from plugins.aid import AidPlugin
from plugins.cases import Cases, CasesPlugin, refusal
from plugins.dispatch import Dispatch
from plugins.relay import Relay
from plugins.rosters import Rosters
from plugins.sightings import Sightings

CONFIG = """
moderators = ["rosa"]
admins = ["ada"]

[bot]
data_dir = "{data}"
commands_per_minute = 1000

[reports]
timezone = "America/Chicago"

[cases]
retention_days = 30

[[areas]]
slug = "chicago"
name_en = "Chicago"
name_es = "Chicago"

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"
parent = "chicago"

[[areas]]
slug = "little-village"
name_en = "Little Village"
name_es = "La Villita"
parent = "chicago"

[[rooms]]
id = "hood"
transport = "console"
role = "neighborhood"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "mods"
transport = "console"
role = "moderation"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "dispatch"
transport = "console"
role = "dispatch"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "legal"
transport = "console"
role = "legal"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "legal-city"
transport = "console"
role = "legal"
areas = ["chicago"]
language = "es"

[[sites]]
slug = "pilsen-oncall"
name = "Pilsen on call"
area = "pilsen"
timezone = "America/Chicago"
room = "dispatch"
windows = ["oncall mon-sun 06:00-22:00 need 2"]
"""

PLUGINS = (Sightings, Relay, Rosters, Dispatch, CasesPlugin)
HOOD, MODS, DISPATCH, LEGAL, LEGAL_CITY = "hood", "mods", "dispatch", "legal", "legal-city"
REPORT = (
    "!report where: 18th & Ashland | what: detaining | agents: 2 | vehicle: white van"
    " | plate: ABC123"
)
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
CASE_ID = re.compile(r"\bC[2-9A-Z]{3,6}\b")


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[PluginWorld]:
    running = await PluginWorld(
        tmp_path, plugins=PLUGINS, config=CONFIG, clock=FakeClock(MONDAY)
    ).start()
    yield running
    await running.stop()


async def report(world: PluginWorld, user: str = "ana") -> str:
    sent = await world.say(HOOD, user, REPORT)
    ack = next(s for s in sent if s.room_id == HOOD)
    match = REPORT_ID.search(ack.text)
    assert match, ack.text
    return match[0]


async def ask(world: PluginWorld, room: str, user: str, text: str) -> str:
    """The bot's answer to a command, in the room it was written in."""
    [answer] = [
        s.text for s in await world.say(room, user, text) if s.key and s.key.startswith("reply:")
    ]
    return answer


def cards(world: PluginWorld, room: str) -> list[Sent]:
    """The case cards posted in a room (originals: `world.shown` gives their last edit)."""
    return [
        s
        for s in world.messages(room)
        if s.key and s.key.startswith("cases:C") and s.key.count(":") == 4
    ]


def card(world: PluginWorld, room: str, case_id: str) -> str:
    [first] = [s for s in cards(world, room) if f" {case_id} " in s.text]
    return world.shown(first)


def notices(world: PluginWorld, room: str) -> list[str]:
    """Replies to the cards: reminders and news."""
    return [s.text for s in world.messages(room) if s.key and ":follow:" in s.key]


async def detained(world: PluginWorld, note: str = "") -> str:
    report_id = await report(world)
    answer = await ask(world, MODS, "rosa", f"!detained {report_id} {note}".strip())
    match = CASE_ID.search(answer)
    assert match, answer
    return match[0]


# --- opening ---------------------------------------------------------------------------------


async def test_a_detention_opens_one_case_in_the_legal_room_without_plate_or_reporter(
    world: PluginWorld,
) -> None:
    report_id = await report(world, user="ana")
    answer = await ask(world, MODS, "rosa", f"!detained {report_id} taken at the bus stop")
    case_id = CASE_ID.search(answer)[0]  # type: ignore[index]
    assert "legal room of Pilsen" in answer
    text = card(world, LEGAL, case_id)
    assert "18th & Ashland" in text and "Mar 2 09:00 CST" in text
    assert "taken at the bus stop" in text and "☐ Locate the person" in text
    assert "ABC123" not in text and "ana" not in text
    # Pilsen has its own legal room: the city's does not get the card.
    assert cards(world, LEGAL_CITY) == []
    again = await ask(world, DISPATCH, "rosa", f"!detenido {report_id}")
    assert f"{report_id} ya tiene el caso {case_id}" in again  # asked in Spanish
    assert len(cards(world, LEGAL)) == 1


async def test_only_a_moderator_or_a_verifier_on_the_scene_says_detained(
    world: PluginWorld,
) -> None:
    report_id = await report(world)
    refused = await ask(world, DISPATCH, "vera", f"!detained {report_id}")
    assert "verifier at the scene" in refused and cards(world, LEGAL) == []
    await world.say(DISPATCH, "vera", f"!going {report_id}")
    assert "verifier at the scene" in await ask(world, DISPATCH, "vera", f"!detained {report_id}")
    await world.say(DISPATCH, "vera", f"!onscene {report_id}")
    assert "is open" in await ask(world, DISPATCH, "vera", f"!detained {report_id}")
    assert "There is no report R2222" in await ask(world, MODS, "rosa", "!detained R2222")


async def test_a_legal_room_opens_cases_only_in_the_areas_it_serves(world: PluginWorld) -> None:
    answer = await ask(world, LEGAL, "lia", "!case new pilsen M.G.")
    case_id = CASE_ID.search(answer)[0]  # type: ignore[index]
    assert "Alias: M.G." in card(world, LEGAL, case_id)
    assert "Opened by the legal team" in card(world, LEGAL, case_id)
    wrong = await ask(world, LEGAL, "lia", "!case new little-village T.R.")
    assert "not an area this room serves (pilsen)" in wrong
    assert "!case new pilsen M.G." in await ask(world, LEGAL, "lia", "!case new pilsen")
    # The city's legal room does not see Pilsen's cases.
    other = await ask(world, LEGAL_CITY, "tere", f"!caso {case_id} abogada Lic. Ortiz")
    assert f"No hay ningún caso abierto {case_id}" in other
    assert "!casos" in other


# --- the checklist -------------------------------------------------------------------------


async def test_the_checklist_fills_in_and_the_hearing_becomes_a_shift_on_the_rota(
    world: PluginWorld,
) -> None:
    case_id = await detained(world)
    assert "on the card" in await ask(world, LEGAL, "lia", f"!case {case_id} located Broadview")
    await world.say(LEGAL, "lia", f"!case {case_id} lawyer Ms. Ortiz, NIJC")
    await world.say(LEGAL, "lia", f"!case {case_id} bond $5,000, fund asked")
    await world.say(LEGAL, "lia", f"!case {case_id} need childcare")
    await world.say(LEGAL, "lia", f"!case {case_id} need rides")
    answer = await ask(world, LEGAL, "lia", f"!case {case_id} hearing 2026-03-12 09:00 536 S Clark")
    shift = re.search(r"shift #(\d+)", answer)
    assert shift, answer
    text = card(world, LEGAL, case_id)
    for shown in (
        "✅ Located: Broadview (Mar 2 09:00 CST)",
        "✅ Lawyer: Ms. Ortiz, NIJC",
        "✅ Bond: $5,000, fund asked",
        "✅ Family needs: childcare, rides",
        f"✅ Next hearing: Mar 12 09:00 CDT, 536 S Clark · accompaniment shift #{shift[1]}",
    ):
        assert shown in text
    # The dispatch room hears of it without the alias, and claims it like any shift.
    call = world.texts(DISPATCH)[-1]
    assert "a hearing on Mar 12 09:00 CDT at 536 S Clark" in call and f"!claim {shift[1]}" in call
    claimed = await ask(world, DISPATCH, "vera", f"!claim {shift[1]}")
    assert "✅" in claimed and "08:30–11:00" in claimed
    listing = await ask(world, LEGAL, "lia", "!cases")
    assert "1 open case" in listing and case_id in listing
    closed = await ask(world, LEGAL, "lia", f"!case {case_id} close released")
    assert "closed (released)" in closed and "erased 30 days" in closed
    assert "Closed: released" in card(world, LEGAL, case_id)
    assert "No open cases" in await ask(world, LEGAL, "lia", "!cases")
    assert "no open case" in await ask(world, LEGAL, "lia", f"!case {case_id} note hi")


async def test_the_citywide_legal_room_works_in_spanish(world: PluginWorld) -> None:
    # Little Village has no legal room of its own: the city's serves it.
    answer = await ask(world, LEGAL_CITY, "tere", "!caso nuevo la-villita T.R.")
    assert "Da el área" not in answer
    answer = await ask(world, LEGAL_CITY, "tere", "!caso nuevo little-village T.R.")
    case_id = CASE_ID.search(answer)[0]  # type: ignore[index]
    assert answer.startswith(f"⚖️ El caso {case_id} está abierto")
    await world.say(LEGAL_CITY, "tere", f"!caso {case_id} ubicada Broadview")
    await world.say(LEGAL_CITY, "tere", f"!caso {case_id} abogada Lic. Ortiz")
    await world.say(LEGAL_CITY, "tere", f"!caso {case_id} necesidad despensa")
    hearing = await ask(world, LEGAL_CITY, "tere", f"!caso {case_id} audiencia jueves 9:30am Corte")
    assert "Ningún rol de despacho sirve a La Villita" in hearing
    text = card(world, LEGAL_CITY, case_id)
    assert text.startswith(f"⚖️ Caso {case_id} · La Villita · abierto")
    assert "✅ Ubicada: Broadview" in text and "✅ Abogado: Lic. Ortiz" in text
    assert "✅ Necesidades de la familia: despensa" in text
    assert "✅ Próxima audiencia: 5 mar 09:30 CST, Corte" in text
    assert "!caso " + case_id + " fianza MONTO" in text
    listing = await ask(world, LEGAL_CITY, "tere", "!casos")
    assert "1 caso abierto" in listing and "atrasado: nada" in listing
    closed = await ask(world, LEGAL_CITY, "tere", f"!caso {case_id} cerrar liberada")
    assert "está cerrado (liberada)" in closed


async def test_bad_input_says_what_is_expected(world: PluginWorld) -> None:
    case_id = await detained(world)

    async def answer(text: str) -> str:
        return await ask(world, LEGAL, "lia", f"!case {case_id} {text}".strip())

    assert f"!case {case_id} located Broadview" in await answer("")
    assert "located Broadview" in await answer("visited someone")
    assert "date, time and place" in await answer("hearing tomorrow")
    assert "The date is like 2026-03-12" in await answer("hearing 2026-13-40 09:00 Court")
    assert "The time is like 09:00" in await answer("hearing 2026-03-12 25:00 Court")
    assert "The time is like 09:00" in await answer("hearing 2026-03-12 13pm Court")
    assert "That time has passed" in await answer("hearing 2026-03-01 09:00 Court")
    assert "childcare|groceries|rides|rent|medicine" in await answer("need pizza")
    assert "released|bonded|transferred|deported|other" in await answer("close happy")
    assert "never a full name" in await answer("alias Maria Elena Gonzalez")
    assert "Write what to put on the card" in await answer("lawyer")
    assert "characters at most" in await answer("note " + "x" * 400)
    await answer("need childcare")
    assert "childcare is already on the card" in await answer("need kids")
    assert "☐ Lawyer" in card(world, LEGAL, case_id)  # nothing refused was kept


# --- what a case refuses to hold -----------------------------------------------------------

PRIVATE = [
    ("A123456789", "a_number"),
    ("a-123-456-789", "a_number"),
    ("A 12 345 678", "a_number"),
    ("A#123456789", "a_number"),
    ("A-Number: 987654321", "a_number"),
    ("su número A es 123-456-789", "a_number"),
    ("DOB 3/4/85", "birth_date"),
    ("born March 4, 1990", "birth_date"),
    ("nació el 4 de marzo", "birth_date"),
    ("fecha de nacimiento 04/03/1990", "birth_date"),
    ("1990-03-04", "birth_date"),
    ("cumpleaños: 4 marzo 1990", "birth_date"),
]
ALLOWED = [
    "hearing moved to 2026-03-12",
    "called 312-555-1234",
    "A1234567 is a file box",
    "Broadview, room 12",
    "bond $5,000",
    "first seen 12/30/2025",
    "Tía Rosa",
]


@pytest.mark.parametrize(("text", "reason"), PRIVATE)
def test_a_numbers_and_dates_of_birth_are_recognized(text: str, reason: str) -> None:
    assert refusal(text, MONDAY.date()) == reason


@pytest.mark.parametrize("text", ALLOWED)
def test_ordinary_case_text_is_kept(text: str) -> None:
    assert refusal(text, MONDAY.date()) is None


async def test_every_field_refuses_an_a_number_or_a_birth_date_and_says_why(
    world: PluginWorld,
) -> None:
    report_id = await report(world)
    refused = await ask(world, MODS, "rosa", f"!detained {report_id} A-123-456-789")
    assert "looks like an A-number" in refused and "lawyer's own system" in refused
    assert cards(world, LEGAL) == []
    case_id = await detained(world)
    for step in ("note", "located", "lawyer", "bond", "alias"):
        answer = await ask(world, LEGAL, "lia", f"!case {case_id} {step} A123456789")
        assert "looks like an A-number" in answer, step
    spanish = await ask(world, LEGAL_CITY, "tere", "!caso nuevo little-village nació 4/3/90")
    assert "parece una fecha de nacimiento" in spanish and "sistema propio del abogado" in spanish
    hearing = await ask(world, LEGAL, "lia", f"!case {case_id} hearing tomorrow 09:00 A123456789")
    assert "A-number" in hearing
    text = card(world, LEGAL, case_id)
    assert "123456789" not in text and "☐ Next hearing" in text
    assert b"A123456789" not in world.raw_bytes()


# --- reminders -----------------------------------------------------------------------------


async def test_reminders_at_6_24_and_48_hours_then_daily_only_of_what_is_left(
    world: PluginWorld,
) -> None:
    case_id = await detained(world)
    assert notices(world, LEGAL) == []
    await world.advance_to(chicago("2026-03-02 14:59"))
    assert notices(world, LEGAL) == []
    assert "overdue: nothing" in await ask(world, LEGAL, "lia", "!cases")
    await world.advance_to(chicago("2026-03-02 15:01"))
    [six] = notices(world, LEGAL)
    assert f"Case {case_id} (—), 6 h" in six and "locate the person" in six
    assert "overdue: locate the person" in await ask(world, LEGAL, "lia", "!cases")
    await world.say(LEGAL, "lia", f"!case {case_id} located Broadview")
    assert "overdue: nothing" in await ask(world, LEGAL, "lia", "!cases")
    await world.advance_to(chicago("2026-03-03 09:01"))
    day = notices(world, LEGAL)[-1]
    assert "24 h" in day and "a lawyer, the family's needs" in day and "locate" not in day
    for step in ("lawyer Ms. Ortiz", "need none", "bond 5000"):
        await world.say(LEGAL, "lia", f"!case {case_id} {step}")
    await world.advance_to(chicago("2026-03-05 09:01"))
    assert notices(world, LEGAL)[-1].endswith("Still to do: the next hearing.")
    assert len(notices(world, LEGAL)) == 3  # 48 h: nothing overdue yet, nothing said
    await world.advance_to(chicago("2026-03-06 09:01"))
    assert "96 h" in notices(world, LEGAL)[-1]
    await world.say(LEGAL, "lia", f"!case {case_id} hearing 2026-03-20 09:00 Court")
    await world.advance_to(chicago("2026-03-10 09:01"))
    assert len(notices(world, LEGAL)) == 4  # all done: no more reminders


async def test_reminders_survive_a_restart_and_never_come_late_in_a_burst(
    world: PluginWorld,
) -> None:
    case_id = await detained(world)
    await world.advance_to(chicago("2026-03-02 15:01"))
    assert len(notices(world, LEGAL)) == 1
    # Down from before the 24-hour reminder until after the 72-hour one.
    await world.restart(down_until=chicago("2026-03-05 10:30"))
    await world.advance_to(chicago("2026-03-05 10:31"))
    assert len(notices(world, LEGAL)) == 1  # what was missed is not sent late
    await world.advance_to(chicago("2026-03-06 09:01"))
    [*_, late] = notices(world, LEGAL)
    assert len(notices(world, LEGAL)) == 2 and f"Case {case_id}" in late and "96 h" in late
    # The card still answers to its commands after the restart.
    await world.say(LEGAL, "lia", f"!case {case_id} lawyer Ms. Ortiz")
    assert "✅ Lawyer: Ms. Ortiz" in card(world, LEGAL, case_id)


async def test_due_times_follow_the_wall_clock_the_night_the_clocks_change(
    tmp_path: Path,
) -> None:
    # Opened on Saturday 7 March 2026 at 20:00 CST; on Sunday 8 March 02:00 became 03:00.
    saturday = chicago("2026-03-07 20:00")
    world = await PluginWorld(
        tmp_path, plugins=PLUGINS, config=CONFIG, clock=FakeClock(saturday)
    ).start()
    try:
        answer = await ask(world, LEGAL, "lia", "!case new pilsen J.")
        case_id = CASE_ID.search(answer)[0]  # type: ignore[index]
        text = card(world, LEGAL, case_id)
        assert "Locate the person (ICE detainee locator, which can lag a day): due Mar 8" in text
        assert "Lawyer: due Mar 8 21:00 CDT" in text  # 24 hours later, one hour on the clock
        await world.advance_to(chicago("2026-03-08 21:01"))
        assert "24 h" in notices(world, LEGAL)[-1]
    finally:
        await world.stop()


# --- the face for safety check-ins, retention ----------------------------------------------


async def test_a_missed_checkin_opens_a_case_that_closes_when_they_are_safe(
    world: PluginWorld,
) -> None:
    cases = world.app.bot.service(Cases)
    planned = chicago("2026-03-02 08:00")
    case_id = await cases.open_for_missed_checkin("pilsen", "Tía", "Broadview", planned)
    await world.settle()
    text = card(world, LEGAL, case_id)
    assert "Alias: Tía" in text and "missed safety check-in" in text
    assert "Broadview, planned for Mar 2 08:00 CST" in text
    await cases.forget_alias(case_id)
    await world.settle()
    assert "Alias: none yet" in card(world, LEGAL, case_id)
    await cases.mark_safe(case_id)
    await world.settle()
    assert "checked in safe after all" in notices(world, LEGAL)[-1]
    assert "Closed: checked in safe" in card(world, LEGAL, case_id)
    # What a case never holds is left out, not stored.
    other = await cases.open_for_missed_checkin("little-village", "A123456789", None, planned)
    await world.settle()
    assert "Alias: ninguno aún" in card(world, LEGAL_CITY, other)


async def test_closed_cases_are_erased_after_the_retention_days(world: PluginWorld) -> None:
    kept = await detained(world, "kept open")
    answer = await ask(world, LEGAL, "lia", "!case new pilsen Z.Z.")
    gone = CASE_ID.search(answer)[0]  # type: ignore[index]
    await world.say(LEGAL, "lia", f"!case {gone} close deported")
    plugin = world.plugin_of(CasesPlugin)
    await world.advance(timedelta(days=29))
    await plugin.purge()
    assert plugin.store.get(gone) is not None
    await world.advance(timedelta(days=2))
    await plugin.purge()
    assert plugin.store.get(gone) is None and plugin.store.get(kept) is not None
    await world.restart()
    assert world.plugin_of(CasesPlugin).store.get(gone) is None
    row = await world.app.bot.db.fetchone("SELECT COUNT(*) AS n FROM cases")
    assert row is not None and row["n"] == 1


async def test_case_text_is_stored_encrypted_and_forgetme_finds_no_one(
    world: PluginWorld,
) -> None:
    case_id = await detained(world, "taken from the laundromat")
    await world.say(LEGAL, "lia", f"!case {case_id} alias Guava")
    await world.say(LEGAL, "lia", f"!case {case_id} lawyer Quetzal Legal")
    raw = world.raw_bytes()
    for secret in (b"laundromat", b"Guava", b"Quetzal", b"Ashland"):
        assert secret not in raw
    assert world.plugin_of(CasesPlugin).area_uses("pilsen") == [f"case {case_id}"]
    await world.say(LEGAL, "lia", "!forgetme")
    assert "Alias: Guava" in card(world, LEGAL, case_id)


# --- family needs as mutual-aid requests ---------------------------------------------------

AID_ROOM = """
[[rooms]]
id = "aid"
transport = "console"
role = "aid"
areas = ["pilsen"]
language = "en"
"""


async def test_a_need_becomes_a_mutual_aid_request_without_the_alias(tmp_path: Path) -> None:
    plugins = (*PLUGINS, AidPlugin)
    world = await PluginWorld(
        tmp_path, plugins=plugins, config=CONFIG + AID_ROOM, clock=FakeClock(MONDAY)
    ).start()
    try:
        answer = await ask(world, LEGAL, "lia", "!case new pilsen Guava")
        case_id = CASE_ID.search(answer)[0]  # type: ignore[index]
        filed = await ask(world, LEGAL, "lia", f"!case {case_id} need childcare")
        request = re.search(r"\bA[2-9A-Z]{3,6}\b", filed)
        assert request, filed
        posted = "\n".join(world.texts("aid"))
        assert request[0] in posted and "Guava" not in posted and case_id not in posted
        assert f"childcare (mutual aid {request[0]}: posted)" in card(world, LEGAL, case_id)
        await world.say("aid", "val", f"!give {request[0]}")
        assert f"mutual-aid request {request[0]} (childcare): taken" in notices(world, LEGAL)[-1]
        assert f"childcare (mutual aid {request[0]}: taken)" in card(world, LEGAL, case_id)
    finally:
        await world.stop()
