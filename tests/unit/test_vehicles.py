"""Known vehicles, as moderators and verifiers live them: a new report's plate compared with
the earlier reports' (misread, partial, on another vehicle), the network's plate list in two
languages and only in moderation rooms, "known vehicle" on the dispatch call without the
plate, `suspected` entries expiring on a clock the test moves, bad input refused with
nothing stored, `!forgetme`, and no plate in the data directory."""

from __future__ import annotations

import random
import re
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from testkit.networks import DISPATCH, DISPATCH_EN, DISPATCH_ES, HOOD_EN, MODS_PILSEN, MONDAY
from testkit.world import DispatchWorld

from plugins.vehicles import Vehicles
from plugins.vehicles.index import ReportPlates
from plugins.vehicles.plates import UNKNOWN, could_be

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")
PLUGINS = (*DISPATCH.plugins, Vehicles)


def keyed(plate: str, vehicle: str = "white van") -> str:
    return f"!report where: 18th & Ashland | what: detaining | vehicle: {vehicle} | plate: {plate}"


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[DispatchWorld]:
    running = await DispatchWorld(tmp_path, MONDAY, plugins=PLUGINS).start()
    yield running
    await running.stop()


async def report(world: DispatchWorld, text: str, user: str = "ana") -> str:
    sent = await world.say(HOOD_EN, user, text)
    ack = next(s for s in sent if s.room_id == HOOD_EN)
    match = REPORT_ID.search(ack.text)
    assert match, ack.text
    return match[0]


def card(world: DispatchWorld, report_id: str) -> str:
    return world.shown(world.card_of(report_id))


def plates_part(world: DispatchWorld, report_id: str) -> str:
    """The card's plates section ("" without one): other parts name other reports too."""
    shown = card(world, report_id)
    if "🚘" not in shown:
        return ""
    return shown[shown.index("🚘") :].split("\n\n")[0]


def call(world: DispatchWorld, room: str, report_id: str) -> str:
    return next(s.text for s in world.calls(room) if report_id in s.text)


async def mod(world: DispatchWorld, text: str, user: str = "rosa") -> str:
    """The answer to a moderator's command (the cards it refreshes are edits beside it)."""
    sent = await world.say(MODS_PILSEN, user, text)
    [answer] = [s.text for s in sent if s.key and s.key.startswith("reply:")]
    return answer


async def plate_rows(world: DispatchWorld) -> tuple[int, int]:
    db = world.bot.db
    reports = await db.fetchall("SELECT * FROM vehicle_report_plates")
    listed = await db.fetchall("SELECT * FROM vehicle_plate_list")
    return len(reports), len(listed)


# --- plates compared across reports ---------------------------------------------------------


async def test_a_misread_plate_shows_the_earlier_report_on_the_card(world: DispatchWorld) -> None:
    first = await report(world, keyed("ABC123"))
    second = await report(world, keyed("ABC-I23"))
    shown = card(world, second)
    assert "🚘 Plates" in shown
    assert "1 earlier report with this plate:" in shown
    assert f"{first} · NEW — UNCONFIRMED · Mar 2 · ABC123" in shown
    assert "different vehicle" not in shown
    assert "🚘" not in card(world, first)  # only earlier reports: none before the first


async def test_the_earlier_reports_outcome_is_shown(world: DispatchWorld) -> None:
    first = await report(world, keyed("XYZ 987"))
    await world.say(MODS_PILSEN, "rosa", f"!false {first} a neighbor's car")
    second = await report(world, keyed("xyz987"))
    assert f"{first} · FALSE ALARM · Mar 2 · XYZ 987" in card(world, second)


async def test_same_plate_on_another_vehicle_is_a_signal(world: DispatchWorld) -> None:
    first = await report(world, keyed("ABC123", "white Ford Transit"))
    second = await report(world, keyed("ABC123", "black sedan"))
    shown = card(world, second)
    assert first in shown
    assert "⚠ Same plate, different vehicle: “white Ford Transit” then, “black sedan” now." in shown


async def test_a_partial_plate_matches_the_plates_it_could_be(world: DispatchWorld) -> None:
    whole = await report(world, keyed("ABC123"))
    other = await report(world, keyed("ABD123"))
    partial = await report(world, keyed("ABC1**"))
    shown = plates_part(world, partial)
    assert f"{whole} · NEW — UNCONFIRMED · Mar 2 · ABC123 · could be the same plate" in shown
    assert other not in shown
    # And a whole plate finds the earlier partial one.
    later = await report(world, keyed("ABC 123"))
    assert f"{partial} · NEW — UNCONFIRMED · Mar 2 · ABC1** · could be the same plate" in (
        plates_part(world, later)
    )


async def test_a_one_line_report_is_compared_too(world: DispatchWorld) -> None:
    first = await report(world, "!report 18th & Ashland; white van plate QZX987, 2 agents")
    second = await report(world, "!report Cermak y Throop; camioneta negra placa QZX-987")
    assert first in plates_part(world, second)


# --- the network's list ---------------------------------------------------------------------


async def test_a_known_agency_vehicle_is_flagged_and_its_call_never_names_the_plate(
    world: DispatchWorld,
) -> None:
    answer = await mod(world, "!plate ABC123 agency seen at Broadview")
    assert answer == (
        "✅ ABC123 is on the network's list: agency vehicle, set by Rosa on Mar 2: seen at"
        " Broadview."
    )
    report_id = await report(world, keyed("A8C 123"))
    assert (
        "⚠ KNOWN AGENCY VEHICLE: A8C 123 (on the list since Mar 2, set by Rosa): seen at"
        " Broadview" in card(world, report_id)
    )
    english, spanish = call(world, DISPATCH_EN, report_id), call(world, DISPATCH_ES, report_id)
    assert "⚠ Known vehicle: on the network's list of agency vehicles." in english
    assert "⚠ Vehículo conocido" in spanish
    await world.say(MODS_PILSEN, "rosa", f"!confirm {report_id}")  # alert, call-out
    await world.settle()
    assert any("CONFIRMED ALERT" in text for text in world.texts(HOOD_EN))
    for text in (*world.texts(DISPATCH_EN), *world.texts(DISPATCH_ES), *world.texts(HOOD_EN)):
        assert "A8C" not in text and "ABC" not in text and "Broadview" not in text
        assert "Known vehicle" not in text or text == english


async def test_a_partly_read_plate_may_be_a_known_vehicle(world: DispatchWorld) -> None:
    await mod(world, "!plate ABC123 agency")
    report_id = await report(world, keyed("ABC1**"))
    assert "⚠ POSSIBLY A KNOWN AGENCY VEHICLE: ABC1** (could be ABC123)" in card(world, report_id)
    assert "⚠ Possibly a known vehicle" in call(world, DISPATCH_EN, report_id)


async def test_a_cleared_plate_is_shown_with_its_note(world: DispatchWorld) -> None:
    await mod(world, "!plate XYZ987 cleared a city vehicle")
    report_id = await report(world, keyed("XYZ987"))
    assert "✅ Plate XYZ987 cleared on Mar 2 by Rosa: a city vehicle" in card(world, report_id)
    assert "Known vehicle" not in call(world, DISPATCH_EN, report_id)


async def test_setting_a_plate_updates_the_open_cards_that_have_it(world: DispatchWorld) -> None:
    report_id = await report(world, keyed("ABC123"))
    assert "KNOWN AGENCY" not in card(world, report_id)
    await mod(world, "!plate ABC123 agency")
    await world.settle()
    assert "⚠ KNOWN AGENCY VEHICLE: ABC123" in card(world, report_id)


async def test_a_plate_is_looked_up_with_its_entry_and_reports(world: DispatchWorld) -> None:
    assert await mod(world, "!plate ABC123") == (
        "ABC123 is not on the network's list.\nNo report kept has this plate."
    )
    first = await report(world, keyed("ABC123"))
    await mod(world, "!plate abc-123 suspected same van twice")
    answer = await mod(world, "!plate ABC 123")
    assert answer.splitlines() == [
        "🚘 ABC-123: suspected, set by Rosa on Mar 2, until Apr 1: same van twice.",
        "1 report kept has this plate:",
        f"{first} · NEW — UNCONFIRMED · Mar 2 · ABC123",
    ]


async def test_a_plate_changes_category_and_leaves_the_list(world: DispatchWorld) -> None:
    await mod(world, "!plate ABC123 suspected")
    answer = await mod(world, "!plate ABC123 agency confirmed by photos")
    assert answer.splitlines()[1] == ("It was: suspected, set by Rosa on Mar 2, until Apr 1.")
    removed = await mod(world, "!plate ABC123 remove")
    assert removed.startswith("🗑 ABC123 is off the network's list. It was: agency vehicle")
    assert await plate_rows(world) == (0, 0)


async def test_the_list_by_category(world: DispatchWorld) -> None:
    assert await mod(world, "!plates") == "The network's plate list is empty."
    await mod(world, "!plate ABC123 agency")
    await mod(world, "!plate XYZ987 cleared a city vehicle")
    assert (await mod(world, "!plates")).splitlines() == [
        "The network's plate list: 2 plates",
        "ABC123 · agency vehicle, set by Rosa on Mar 2",
        "XYZ987 · cleared by Rosa on Mar 2: a city vehicle",
    ]
    assert (await mod(world, "!plates cleared")).splitlines()[1:] == [
        "XYZ987 · cleared by Rosa on Mar 2: a city vehicle"
    ]
    assert await mod(world, "!plates suspected") == ("No plate is on the list as suspected.")


async def test_in_spanish(world: DispatchWorld) -> None:
    answer = await mod(world, "!placa XYZ987 sospechosa dos veces en la 18")
    assert answer == (
        "✅ XYZ987 está en la lista de la red: sospechosa, según Rosa el 2 mar, hasta el 1 abr:"
        " dos veces en la 18."
    )
    await mod(world, "!placa ABC123 agencia")
    assert (await mod(world, "!placas agencia")).splitlines() == [
        "La lista de placas de la red: 1 placa",
        "ABC123 · vehículo de agencia, según Rosa el 2 mar",
    ]
    refused = await mod(world, "!placa ABC123 agenzia")
    assert refused.startswith("“agenzia” no es una categoría de la lista: di agencia,")


# --- bad input and the wrong room: nothing stored -------------------------------------------


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("!plate ABC123 agencyy", "“agencyy” is not a category of the list: say agency,"),
        ("!plate hello agency", "“hello” is not a plate: give its letters and digits"),
        ("!plate 18th & Ashland cleared", "“18th & Ashland” is not a plate"),
        ("!plate ABC1** agency", "The list keeps whole plates, and ABC1** has characters"),
        ("!plates agencies", "“agencies” is not a category of the list"),
    ],
)
async def test_bad_input_is_answered_and_nothing_is_stored(
    world: DispatchWorld, typed: str, answer: str
) -> None:
    assert (await mod(world, typed)).startswith(answer)
    assert await plate_rows(world) == (0, 0)


@pytest.mark.parametrize("room", [HOOD_EN, DISPATCH_EN])
async def test_the_commands_work_in_moderation_rooms_only(world: DispatchWorld, room: str) -> None:
    answer = await world.ask(room, "rosa", "!plate ABC123 agency")
    assert answer.startswith("!plate works in")
    assert "ABC123" not in answer
    assert await plate_rows(world) == (0, 0)
    assert (await world.ask(room, "ana", "!plates")).startswith("Sorry, you are not allowed")


async def test_neighbors_cannot_use_the_list(world: DispatchWorld) -> None:
    answer = await world.ask(MODS_PILSEN, "ana", "!plate ABC123 agency")
    assert answer == "Sorry, you are not allowed to use !plate."
    assert await plate_rows(world) == (0, 0)


# --- time, forgetting, privacy -------------------------------------------------------------


async def test_suspected_entries_expire(world: DispatchWorld) -> None:
    await mod(world, "!plate XYZ987 suspected")
    await mod(world, "!plate ABC123 agency")
    await world.advance(timedelta(days=29))
    assert "suspected" in await mod(world, "!plate XYZ987")
    await world.tick(MONDAY + timedelta(days=30, minutes=1))
    assert (await mod(world, "!plate XYZ987")).startswith("XYZ987 is not on the network's list.")
    assert (await mod(world, "!plates")).splitlines()[0] == ("The network's plate list: 1 plate")
    assert await plate_rows(world) == (0, 1)  # swept; the agency entry stays
    report_id = await report(world, keyed("XYZ987"))
    assert "Suspected" not in card(world, report_id)


async def test_suspected_days_is_configured(tmp_path: Path) -> None:
    section = "\n[vehicles]\nsuspected_days = 3\n"
    world = await DispatchWorld(tmp_path, MONDAY, plugins=PLUGINS, dispatch=section).start()
    try:
        answer = await mod(world, "!plate XYZ987 suspected")
        assert "until Mar 5" in answer
        await world.advance(timedelta(days=3))
        assert "is not on the network's list" in await mod(world, "!plate XYZ987")
    finally:
        await world.stop()


async def test_forgetme_erases_the_reporters_plates_not_the_list(world: DispatchWorld) -> None:
    first = await report(world, keyed("ABC123"))
    await mod(world, "!plate ABC123 agency")
    await world.say(HOOD_EN, "ana", "!forgetme")
    await world.say(HOOD_EN, "ana", "!forgetme yes")
    assert await plate_rows(world) == (0, 1)
    later = await report(world, keyed("ABC123"), user="beto")
    shown = plates_part(world, later)
    assert first not in shown and "KNOWN AGENCY VEHICLE" in shown


async def test_a_moderators_name_leaves_the_list_on_forgetme(world: DispatchWorld) -> None:
    await mod(world, "!plate ABC123 agency")
    await world.say(MODS_PILSEN, "rosa", "!forgetme")
    await world.say(MODS_PILSEN, "rosa", "!forgetme yes")
    assert (await mod(world, "!plate ABC123")).startswith(
        "🚘 ABC123: agency vehicle, set by a moderator on Mar 2."
    )


async def test_plates_of_purged_reports_are_dropped(world: DispatchWorld) -> None:
    first = await report(world, keyed("ABC123"))
    await world.say(MODS_PILSEN, "rosa", f"!false {first}")
    await world.tick(MONDAY + timedelta(days=8))  # past [reports] retention_days
    assert await plate_rows(world) == (0, 0)
    later = await report(world, keyed("ABC123"))
    assert first not in plates_part(world, later)


async def test_no_plate_in_the_data_directory(world: DispatchWorld) -> None:
    await report(world, keyed("QZX 987"))
    await mod(world, "!plate WVU654 agency a note about Broadview")
    await mod(world, "!plate QZX987 suspected")
    stored = world.raw_bytes()
    for secret in (b"QZX", b"WVU", b"Broadview", b"Q2X987", b"WVU654"):
        assert secret not in stored


async def test_a_plate_finds_every_stored_plate_it_could_be(world: DispatchWorld) -> None:
    """A partial plate whose first characters were read (found by bisection of the plates
    in order) or not (a scan of them all), and a whole plate among partly read ones: the
    same plates as comparing it with each stored one."""
    rng = random.Random(7)
    letters = "ACDEFGHJKLMNPRTUVWXYZ0123456789"

    def hidden(plate: str) -> str:
        unread = set(rng.sample(range(6), rng.randint(1, 3)))
        return "".join(UNKNOWN if i in unread else ch for i, ch in enumerate(plate))

    whole = sorted({"".join(rng.choice(letters) for _ in range(6)) for _ in range(3000)})
    stored = whole + sorted({hidden(plate) for plate in rng.sample(whole, 300)})
    index = ReportPlates(world.bot.db, world.bot.cipher)
    for n, plate in enumerate(stored):
        await index.add(f"R{n}", [plate], datetime(2026, 12, 6, tzinfo=UTC))
    for plate in rng.sample(whole, 60):
        for asked in (plate, hidden(plate)):
            found = await index.could_be(asked)
            assert plate in found
            assert sorted(found) == sorted(form for form in stored if could_be(asked, form))
