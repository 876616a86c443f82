"""Time-driven roster behaviour on a hand-moved clock: reminders, coverage alerts, missed
check-ins, daylight-saving changes, restarts, generation, retention and encryption at rest."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from testkit.networks import (
    COORDINATOR,
    JUAN,
    JUAREZ,
    LUPE,
    MARIA,
    MONDAY,
    PEDRO,
    WHITTIER,
    chicago,
    wall,
)
from testkit.world import RosterWorld

from bot.api.testing import Sent

# `world` (see conftest.py) runs the rosters network, on Monday morning.
pytestmark = pytest.mark.roster_world


def to(user: str, sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if s.mentions == (user,)]


def containing(text: str, sent: list[Sent]) -> list[Sent]:
    return [s for s in sent if text in s.text]


# --- reminders ----------------------------------------------------------------------------


async def test_reminders_the_evening_before_and_30_minutes_before(world: RosterWorld) -> None:
    shift = await world.shift_id("whittier", "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    await world.say(WHITTIER, JUAN, "!lang es")
    await world.say(WHITTIER, JUAN, f"!claim {shift}")

    sent = await world.advance_to(chicago("2026-03-03 16:00"))

    maria = to(MARIA, sent)
    assert [(wall(s.at), s.text) for s in maria] == [
        (
            "2026-03-02 18:00",
            f"{MARIA}, a reminder: tomorrow you watch pickup at Whittier Elementary, "
            f"Tue Mar 3 14:45–15:30 (#{shift}). Can't make it? !swap {shift} or !unclaim {shift}",
        ),
        (
            "2026-03-03 14:15",
            f"{MARIA}, your pickup shift at Whittier Elementary starts at 14:45 (#{shift}). "
            "Send !here when you arrive.",
        ),
    ]
    # Each volunteer in their own language, mentioned alone, in the watch room's timeline.
    juan = to(JUAN, sent)
    assert [wall(s.at) for s in juan] == ["2026-03-02 18:00", "2026-03-03 14:15"]
    assert juan[0].text.startswith(f"{JUAN}, un recordatorio: mañana cuidas pickup")
    assert all(s.room_id == WHITTIER and s.message.thread_root is None for s in maria + juan)


async def test_reminders_follow_claims_made_and_dropped_after_scheduling(
    world: RosterWorld,
) -> None:
    shift = await world.shift_id("whittier", "dropoff", "2026-03-04")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    await world.say(WHITTIER, JUAN, f"!claim {shift}")
    await world.say(WHITTIER, JUAN, f"!unclaim {shift}")
    await world.say(WHITTIER, MARIA, f"!swap {shift}")
    await world.say(WHITTIER, LUPE, f"!take {shift}")

    sent = await world.advance_to(chicago("2026-03-04 08:00"))

    reminded = {s.mentions[0] for s in sent if "reminder" in s.text or "starts at" in s.text}
    assert reminded == {LUPE}


async def test_a_reminder_is_sent_once_even_if_its_job_runs_again(world: RosterWorld) -> None:
    shift = await world.shift_id("whittier", "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    payload = {"shift": shift, "job_id": f"rosters:{shift}:soon"}
    world.clock.now = chicago("2026-03-03 14:15")
    await world.plugin.soon_reminder(payload)
    await world.plugin.soon_reminder(payload)  # as after a crash before the job was deleted
    assert len(containing("starts at 14:45", world.transport.sent)) == 1


# --- coverage and check-in ----------------------------------------------------------------


async def test_coverage_alerts_at_24_and_2_hours_mention_the_backup_pool(
    world: RosterWorld,
) -> None:
    shift = await world.shift_id("whittier", "pickup", "2026-03-04")
    await world.say(WHITTIER, LUPE, "!backup on")
    await world.say(WHITTIER, PEDRO, "!backup on")
    await world.say(WHITTIER, LUPE, f"!claim {shift}")

    sent = containing(f"(#{shift}) has", await world.advance_to(chicago("2026-03-04 14:00")))

    assert [wall(s.at) for s in sent] == ["2026-03-03 14:45", "2026-03-04 12:45"]
    assert sent[0].text == (
        f"⚠️ pickup at Whittier Elementary, Wed Mar 4 14:45–15:30 (#{shift}) has 1 of 2"
        f" volunteers. To help: !claim {shift}\n"
        f"Backup pool: {PEDRO}, can one of you come?"
    )
    # Lupe is in the pool but already on the shift: only Pedro is pinged.
    assert sent[0].mentions == (PEDRO,)


async def test_no_coverage_alert_for_a_covered_shift_and_none_at_all_in_spanish_rooms_pool(
    world: RosterWorld,
) -> None:
    covered = await world.shift_id("whittier", "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {covered}")
    await world.say(WHITTIER, JUAN, f"!claim {covered}")
    juarez = await world.shift_id("juarez", "entrada", "2026-03-04")

    sent = await world.advance_to(chicago("2026-03-03 16:00"))

    assert not containing(f"(#{covered}) has", sent)
    [alert] = containing(f"(#{juarez}) tiene", sent)
    assert alert.room_id == JUAREZ
    assert alert.text.endswith("¿Alguien libre? Únete al grupo de reserva con !reserva sí.")
    assert alert.mentions == ()


async def test_nobody_checked_in_10_minutes_after_start_tells_the_coordinators(
    world: RosterWorld,
) -> None:
    missed = await world.shift_id("whittier", "pickup", "2026-03-03")
    kept = await world.shift_id("whittier", "dropoff", "2026-03-04")
    await world.say(WHITTIER, MARIA, f"!claim {missed}")
    await world.say(WHITTIER, JUAN, f"!claim {kept}")
    await world.advance_to(chicago("2026-03-04 07:35"))
    await world.say(WHITTIER, JUAN, "!here")

    await world.advance_to(chicago("2026-03-04 09:00"))
    sent = containing("Nobody has checked in", world.transport.sent)

    [told] = containing(f"(#{missed})", sent)
    assert wall(told.at) == "2026-03-03 14:55"
    assert told.text == (
        f"⚠️ Nobody has checked in for pickup at Whittier Elementary (#{missed}), which started"
        f" at 14:45. Signed up: {MARIA}.\nCoordinators: {COORDINATOR}"
    )
    assert told.mentions == (COORDINATOR,)
    assert not containing(f"(#{kept})", sent)


# --- daylight-saving changes --------------------------------------------------------------


@pytest.mark.parametrize(
    ("start", "days", "utc_hours"),
    [
        # Spring forward on Sun Mar 8, 2026: 18:00 is 00:00 UTC before, 23:00 UTC after.
        ("2026-03-05 09:00", ["2026-03-06", "2026-03-09", "2026-03-10"], [0, 23, 23]),
        # Fall back on Sun Nov 1, 2026: 18:00 is 23:00 UTC before, 00:00 UTC after.
        ("2026-10-29 09:00", ["2026-10-30", "2026-11-02", "2026-11-03"], [23, 0, 0]),
    ],
)
async def test_reminders_keep_their_wall_clock_time_across_daylight_saving_changes(
    tmp_path: Path, start: str, days: list[str], utc_hours: list[int]
) -> None:
    world = await RosterWorld(tmp_path, chicago(start)).start()
    try:
        for day in days:
            shift = await world.shift_id("whittier", "dropoff", day)
            await world.say(WHITTIER, MARIA, f"!claim {shift}")
        sent = to(MARIA, await world.advance_to(chicago(f"{days[-1]} 09:00")))
    finally:
        await world.stop()

    evenings = [s for s in sent if "tomorrow you watch" in s.text]
    soon = [s for s in sent if "starts at" in s.text]
    assert [wall(s.at)[11:] for s in evenings] == ["18:00"] * 3
    assert [s.at.hour for s in evenings] == utc_hours
    assert [wall(s.at) for s in soon] == [f"{day} 07:00" for day in days]
    assert all("starts at 07:30" in s.text for s in soon)
    assert all("07:30–08:15" in s.text for s in evenings)


# --- restarts -----------------------------------------------------------------------------


async def test_after_a_restart_jobs_are_rebuilt_and_ones_still_ahead_fire(
    world: RosterWorld,
) -> None:
    shift = await world.shift_id("whittier", "pickup", "2026-03-04")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    before = await world.scheduler.jobs()

    await world.restart(down_until=chicago("2026-03-02 12:00"))

    after = await world.scheduler.jobs()
    assert {job: at for job, at in before.items() if at > world.clock.now} == after
    sent = to(MARIA, await world.advance_to(chicago("2026-03-04 15:00")))
    assert [wall(s.at) for s in sent] == ["2026-03-03 18:00", "2026-03-04 14:15"]


async def test_a_reminder_missed_briefly_is_sent_once_at_restart(world: RosterWorld) -> None:
    shift = await world.shift_id("whittier", "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")

    await world.restart(down_until=chicago("2026-03-02 19:30"))  # 18:00 missed by 1.5 h
    sent = to(MARIA, await world.advance(timedelta(0)))

    assert [(wall(s.at), s.mentions) for s in sent] == [("2026-03-02 19:30", (MARIA,))]
    assert "tomorrow you watch" in sent[0].text


async def test_stale_jobs_are_dropped_at_restart_never_sent_late_in_a_burst(
    world: RosterWorld,
) -> None:
    tuesday = await world.shift_id("whittier", "dropoff", "2026-03-03")
    wednesday = await world.shift_id("whittier", "dropoff", "2026-03-04")
    for shift in (tuesday, wednesday):
        await world.say(WHITTIER, MARIA, f"!claim {shift}")
    await world.say(WHITTIER, JUAN, "!backup on")

    # Down from Monday noon to Tuesday 07:25: Monday's 18:00 reminder, the 05:30 coverage
    # alert and the 07:00 reminder for Tuesday's 07:30 shift no longer make sense.
    await world.restart(down_until=chicago("2026-03-03 07:25"))

    assert world.scheduler.dropped >= 3
    burst = await world.advance(timedelta(0))
    assert burst == []
    sent = await world.advance_to(chicago("2026-03-04 07:35"))
    assert [(wall(s.at), s.mentions) for s in to(MARIA, sent)] == [
        ("2026-03-03 18:00", (MARIA,)),  # Wednesday's reminders, on time
        ("2026-03-04 07:00", (MARIA,)),
    ]
    # Tuesday's missed check-in is still news at 07:40 (the shift is on): it is sent.
    assert [wall(s.at) for s in containing(f"(#{tuesday}), which", sent)] == ["2026-03-03 07:40"]


# --- generation ---------------------------------------------------------------------------


async def test_two_weeks_of_shifts_in_the_site_calendar_generated_idempotently(
    tmp_path: Path,
) -> None:
    world = await RosterWorld(tmp_path, MONDAY, skip="[2026-03-04]").start()
    try:
        db = world.running.bot.db
        rows = await db.fetchall(
            "SELECT window_name, day, starts_at FROM roster_shifts WHERE site = ?"
            " ORDER BY starts_at",
            (world.plugin.sites.key("whittier"),),
        )
        days = sorted({row["day"] for row in rows})
        assert days[0] == "2026-03-02" and days[-1] == "2026-03-13"
        assert "2026-03-04" not in days  # a skip date
        # Monday's 07:30 had passed at 09:00; 10 weekdays, one skipped, two windows each.
        assert len(rows) == 9 * 2 - 1
        first_dropoff = next(r for r in rows if r["window_name"] == "dropoff")
        assert first_dropoff["starts_at"].startswith("2026-03-03T13:30")  # 07:30 CST
        after_change = next(r for r in rows if r["day"] == "2026-03-09")
        assert after_change["starts_at"].startswith("2026-03-09T12:30")  # 07:30 CDT

        again = await world.plugin.planner.generate()
        assert (again.created, again.cancelled) == (0, 0)
        count = await db.fetchone("SELECT COUNT(*) AS n FROM roster_shifts")
        assert count is not None and count["n"] == len(rows) + 9  # plus Juárez's

        world.clock.now = chicago("2026-03-03 09:00")
        assert (await world.plugin.planner.generate()).created == 2 + 1  # a new day, each site
    finally:
        await world.stop()


async def test_a_window_removed_from_the_config_cancels_its_future_shifts(
    world: RosterWorld,
) -> None:
    shift = await world.shift_id("whittier", "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    await world.restart(windows='["dropoff mon-fri 07:30-08:15 need 2 max 3"]')
    told = containing(f"(#{shift}) no longer takes place", await world.advance(timedelta(0)))
    assert [s.mentions for s in told] == [(MARIA,)]
    assert "pickup" not in await world.ask(WHITTIER, MARIA, "!roster")


# --- retention and privacy ----------------------------------------------------------------


async def test_roster_history_is_purged_after_its_retention(tmp_path: Path) -> None:
    world = await RosterWorld(tmp_path, MONDAY, rosters="retention_days = 2").start()
    try:
        shift = await world.shift_id("whittier", "pickup", "2026-03-03")
        await world.say(WHITTIER, MARIA, f"!claim {shift}")
        db = world.running.bot.db
        world.clock.now = chicago("2026-03-05 15:00")  # ended 47.5 hours ago: kept
        await world.plugin.maintain()
        assert await db.fetchone("SELECT 1 FROM roster_claims WHERE shift_id = ?", (shift,))
        world.clock.now = chicago("2026-03-05 16:00")
        await world.plugin.maintain()
        assert await db.fetchone("SELECT 1 FROM roster_shifts WHERE id = ?", (shift,)) is None
        assert await db.fetchone("SELECT 1 FROM roster_claims WHERE shift_id = ?", (shift,)) is None
    finally:
        await world.stop()


async def test_volunteers_and_sites_are_unreadable_at_rest(world: RosterWorld) -> None:
    shift = await world.shift_id("whittier", "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    await world.say(WHITTIER, JUAN, "!backup on")
    await world.say(WHITTIER, "@ana:example.org", "!site add secreta pilsen UTC Escuela Secreta")
    await world.stop()

    stored = world.raw_bytes()
    assert b"roster_claims" in stored  # the tables did reach the disk
    for secret in (b"maria", b"juan", b"Whittier", b"whittier", b"Secreta", b"secreta"):
        assert secret not in stored
