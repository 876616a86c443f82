"""Roster commands as volunteers use them: see the week, claim, swap, check in, in two languages."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest
from testkit.networks import (
    ADMIN,
    COORDINATOR,
    HOOD,
    JUAN,
    JUAREZ,
    LUPE,
    MARIA,
    MODERATOR,
    PEDRO,
    WHITTIER,
    chicago,
)
from testkit.world import RosterWorld

from bot.storage.database import CORE_MIGRATIONS, Database, MigrationSet
from plugins.rosters.store import Outcome, RosterStore

# `world` (see conftest.py) runs the rosters network, on Monday morning.
pytestmark = pytest.mark.roster_world


async def ids(world: RosterWorld, window: str, day: str, site: str = "whittier") -> int:
    return await world.shift_id(site, window, day)


# --- the week -----------------------------------------------------------------------------


async def test_roster_is_a_table_for_element_and_a_list_for_plain_text(world: RosterWorld) -> None:
    tue_pickup = await ids(world, "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {tue_pickup}")
    [answer] = await world.say(WHITTIER, MARIA, "!roster")

    lines = answer.text.splitlines()
    assert lines[0] == "Whittier Elementary: Mon Mar 2 to Sun Mar 8 (times in America/Chicago)"
    assert lines[lines.index("Tue Mar 3") + 2] == f"  pickup 14:45–15:30  #{tue_pickup} 1/2 ⚠ ★"
    assert lines[-1].startswith("Each shift: number, signed up/needed. ✓ covered")
    html = answer.message.html or ""
    assert "<th>Window</th><th>Mon Mar 2</th><th>Tue Mar 3</th>" in html
    assert "<tr><td>dropoff 07:30–08:15</td><td>–</td>" in html  # Monday's had started
    assert f"<td>#{tue_pickup} 1/2 ⚠ ★</td>" in html

    [other] = await world.say(WHITTIER, JUAN, "!roster")
    assert f"  pickup 14:45–15:30  #{tue_pickup} 1/2 ⚠\n" in other.text  # not Juan's


async def test_a_covered_shift_and_an_offered_slot_are_marked(world: RosterWorld) -> None:
    shift = await ids(world, "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    await world.say(WHITTIER, JUAN, f"!claim {shift}")
    await world.say(WHITTIER, JUAN, f"!swap {shift}")
    [answer] = await world.say(WHITTIER, LUPE, "!roster")
    assert f"#{shift} 2/2 ✓ ⇄" in answer.text


async def test_next_week_in_english_and_in_spanish(world: RosterWorld) -> None:
    [english] = await world.say(WHITTIER, MARIA, "!roster next")
    assert english.text.startswith("Whittier Elementary: Mon Mar 9 to Sun Mar 15")
    [spanish] = await world.say(JUAREZ, JUAN, "!turnos próxima")
    # Juárez's only shift of today ended at 08:15: its seven days start tomorrow.
    assert spanish.text.startswith("Escuela Juárez: del mar 10 de marzo al lun 16 de marzo (horas")
    assert "mar 10 de marzo" in spanish.text
    assert "entrada 07:45–08:15" in spanish.text
    assert await world.ask(WHITTIER, MARIA, "!roster whittier later") == (
        '"later" is not a week: leave it out for the coming seven days, or say next for the'
        " seven after.\n"
        "Usage: !roster [site] [next]"
    )


async def test_roster_commands_only_work_in_watch_rooms(world: RosterWorld) -> None:
    assert await world.ask(HOOD, MARIA, "!roster") == "Sorry, you are not allowed to use !roster."
    assert await world.ask(HOOD, MODERATOR, "!roster") == (
        "!roster works in the dispatch / watch rooms, not here."
    )
    # Someone in a watch room is told which one, by its name.
    world.transport.people = {WHITTIER: {MARIA}}
    assert (
        await world.ask(HOOD, MARIA, "!roster") == f"!roster works in “{WHITTIER}”: use it there."
    )


async def test_help_in_a_watch_room_lists_the_roster_commands_in_the_readers_language(
    world: RosterWorld,
) -> None:
    english = await world.ask(WHITTIER, MARIA, "!help")
    assert "!claim <shift…> — Sign up for a shift" in english
    assert "!backup [on|off] — Join (on) or leave (off) the backup pool" in english
    spanish = await world.ask(JUAREZ, JUAN, "!ayuda")
    assert "!tomar <turno…> — Apúntate a un turno" in spanish
    assert "!turnos [sitio] [próxima]" in spanish
    assert "!aquí [turno] — Registra tu llegada" in spanish


def listed(help_text: str) -> list[str]:
    """The command names of a `!help` overview, in order."""
    return [line.split()[0] for line in help_text.splitlines()[1:-1]]


async def test_help_puts_the_most_used_first_then_sorts_by_the_readers_names(
    world: RosterWorld,
) -> None:
    english = listed(await world.ask(WHITTIER, MARIA, "!help"))
    # The room's own commands, the most used first, then by name; then those of every
    # room; housekeeping last.
    assert english == [
        *["!roster", "!claim", "!myshifts"],
        *["!backup", "!done", "!here", "!swap", "!take", "!unclaim"],
        "!site",
        *["!forgetme", "!help", "!lang", "!ping", "!yes"],
    ]
    spanish = listed(await world.ask(JUAREZ, JUAN, "!ayuda"))
    assert spanish == [
        *["!turnos", "!tomar", "!misturnos"],
        *["!aquí", "!ceder", "!cubrir", "!listo", "!reserva", "!soltar"],  # Spanish order
        "!sitio",
        *["!ayuda", "!idioma", "!olvidame", "!ping", "!sí"],
    ]


async def test_examples_use_the_schools_real_window_names(world: RosterWorld) -> None:
    assert "(tue dropoff)" in await world.ask(WHITTIER, MARIA, "!help claim")
    assert "(mar entrada)" in await world.ask(JUAREZ, JUAN, "!ayuda tomar")


# --- claiming -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "words",
    [
        "{id}",
        "#{id}",
        "tue pickup",
        "pickup tue",
        "whittier tue pickup",
        "tomorrow pickup",
        "2026-03-03 pickup",
        "Tuesday PICKUP",
    ],
)
async def test_a_shift_can_be_named_by_number_or_by_day_and_window(
    world: RosterWorld, words: str
) -> None:
    shift = await ids(world, "pickup", "2026-03-03")
    answer = await world.ask(WHITTIER, MARIA, "!claim " + words.format(id=shift))
    assert answer == (
        f"✅ You are on pickup at Whittier Elementary, Tue Mar 3 14:45–15:30 (#{shift}): "
        "1/2 signed up. I will remind you before it starts."
    )


async def test_a_weekday_means_the_next_such_shift_not_started(world: RosterWorld) -> None:
    # Monday 09:00: Monday's pickup is still ahead; Monday's dropoff was never generated.
    assert "Mon Mar 2 14:45" in await world.ask(WHITTIER, MARIA, "!claim mon pickup")
    assert "Mon Mar 9 07:30" in await world.ask(WHITTIER, MARIA, "!claim mon dropoff")


async def test_capacity_and_double_claims(world: RosterWorld) -> None:
    shift = await ids(world, "pickup", "2026-03-03")  # need 2, no max: takes 2
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    assert await world.ask(WHITTIER, MARIA, f"!claim {shift}") == (
        f"You already have a slot on #{shift} (pickup, Tue Mar 3 14:45–15:30)."
    )
    assert "2/2 signed up" in await world.ask(WHITTIER, JUAN, f"!claim {shift}")
    assert await world.ask(WHITTIER, LUPE, f"!claim {shift}") == (
        f"Shift #{shift} (pickup, Tue Mar 3 14:45–15:30) is full. "
        "Join the backup pool with !backup on to be called when people are needed."
    )


async def test_a_started_shift_cannot_be_claimed_or_given_up(world: RosterWorld) -> None:
    shift = await ids(world, "pickup", "2026-03-02")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    await world.advance_to(chicago("2026-03-02 14:45"))
    started = (
        f"Shift #{shift} (pickup, Mon Mar 2 14:45–15:30) has already started, "
        "so it can no longer be changed. On site? Send !here."
    )
    assert await world.ask(WHITTIER, JUAN, f"!claim {shift}") == started
    assert await world.ask(WHITTIER, MARIA, f"!unclaim {shift}") == started
    assert await world.ask(WHITTIER, MARIA, f"!swap {shift}") == started


async def test_shifts_of_another_rooms_site_cannot_be_named(world: RosterWorld) -> None:
    juarez = await ids(world, "entrada", "2026-03-03", site="juarez")
    assert await world.ask(WHITTIER, MARIA, f"!claim {juarez}") == (
        f"There is no shift #{juarez} here. See !roster."
    )
    assert await world.ask(WHITTIER, MARIA, "!claim juarez tue entrada") == (
        "That site is not watched from this room. Sites here: whittier."
    )


@pytest.mark.parametrize(
    ("words", "answer"),
    [
        (
            "",
            "Which shift? Send !claim 42 with the number from the roster, or a day and window:"
            " !claim tue dropoff.",
        ),
        ("soon pickup", '"soon" is not a day: say today, tomorrow, a weekday (tue) or a date'),
        ("tue lunch", '"lunch" is not a window here. Windows: dropoff, pickup.'),
        ("sat pickup", "There is no pickup shift on sat. See !roster."),
        ("a b c d", "Name a shift by its number (42) or by day and window (tue dropoff"),
        ("4x", "Name a shift by its number (42)"),
    ],
)
async def test_bad_shift_names_get_a_clear_answer(
    world: RosterWorld, words: str, answer: str
) -> None:
    assert (await world.ask(WHITTIER, MARIA, f"!claim {words}")).startswith(answer)


async def test_unclaim_gives_the_slot_back(world: RosterWorld) -> None:
    shift = await ids(world, "dropoff", "2026-03-04")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    assert await world.ask(WHITTIER, MARIA, f"!unclaim {shift}") == (
        f"You are off #{shift} (dropoff, Wed Mar 4 07:30–08:15). Now 0/2 signed up."
    )
    assert await world.ask(WHITTIER, MARIA, f"!unclaim {shift}") == (
        f"You have no slot on #{shift}."
    )
    assert await world.ask(WHITTIER, MARIA, "!myshifts") == (
        "You have no coming shifts here. See !roster, then sign up with !claim NUMBER."
    )


async def test_myshifts_lists_only_ones_own_coming_shifts_here(world: RosterWorld) -> None:
    first = await ids(world, "dropoff", "2026-03-04")
    second = await ids(world, "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {first}")
    await world.say(WHITTIER, MARIA, f"!claim {second}")
    await world.say(WHITTIER, MARIA, f"!swap {first}")
    await world.say(WHITTIER, JUAN, "!claim wed pickup")
    assert await world.ask(WHITTIER, MARIA, "!myshifts") == (
        "Your coming shifts:\n"
        f"#{second} Whittier Elementary · pickup · Tue Mar 3 14:45–15:30 · 1/2\n"
        f"#{first} Whittier Elementary · dropoff · Wed Mar 4 07:30–08:15 · 1/2"
        " (offered for swap)"
    )


# --- races --------------------------------------------------------------------------------


async def test_concurrent_claims_of_the_last_slot_exactly_one_wins(world: RosterWorld) -> None:
    shift = await ids(world, "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    sent = await world.say_together(
        WHITTIER, [(user, f"!claim {shift}") for user in (JUAN, LUPE, PEDRO)]
    )
    texts = [s.text for s in sent]
    assert len(texts) == 3
    assert sum(text.startswith("✅") for text in texts) == 1
    assert sum("is full" in text for text in texts) == 2
    staffed = await world.plugin.store.staffed(shift)
    assert staffed is not None and staffed.taken == 2


async def test_two_processes_racing_for_the_last_slot_exactly_one_wins(world: RosterWorld) -> None:
    shift = await ids(world, "pickup", "2026-03-03")
    bot = world.running.bot
    await bot.db.execute("UPDATE roster_shifts SET cap = 1 WHERE id = ?", (shift,))
    migrations = [CORE_MIGRATIONS, MigrationSet("rosters", "plugins.rosters.migrations")]
    second_db = await Database.open(bot.db.path, migrations)
    try:
        stores = [world.plugin.store, RosterStore(second_db, bot.cipher)] * 4
        people = [f"@p{n}:example.org" for n in range(len(stores))]
        outcomes = await asyncio.gather(
            *(
                store.claim(shift, user, bot.person(user), world.clock.now)
                for store, user in zip(stores, people, strict=True)
            )
        )
    finally:
        await second_db.close()
    assert sorted(o.value for o in outcomes) == ["done"] + ["full"] * 7
    assert outcomes.count(Outcome.DONE) == 1


# --- swap and take ------------------------------------------------------------------------


async def test_an_offered_slot_goes_to_the_first_taker_and_the_giver_is_told(
    world: RosterWorld,
) -> None:
    shift = await ids(world, "pickup", "2026-03-03")
    claim = world.event(WHITTIER, MARIA, f"!claim {shift}")
    await world.running.deliver(claim)
    [offer] = await world.say(WHITTIER, MARIA, f"!swap {shift}")
    assert offer.text == (
        f"⇄ {MARIA} offers their slot on pickup at Whittier Elementary, "
        f"Tue Mar 3 14:45–15:30 (#{shift}). The first to send !take {shift} gets it."
    )
    # For everyone: in the room's timeline (a reply to the command), not in a thread.
    assert offer.message.thread_root is None and offer.message.reply_to is not None

    sent = await world.say_together(WHITTIER, [(JUAN, f"!take {shift}"), (LUPE, f"!take {shift}")])
    assert sum(s.text.startswith("✅ The slot is yours: pickup at Whittier") for s in sent) == 1
    [told] = [s for s in sent if s.text.startswith(MARIA)]
    [refused] = [s for s in sent if s.text.startswith("Nobody offered")]
    assert len(sent) == 3
    taker = JUAN if JUAN in told.text else LUPE
    assert told.text == (
        f"{MARIA}: {taker} took your slot on pickup at Whittier Elementary, "
        f"Tue Mar 3 14:45–15:30 (#{shift}). You are off that shift. Thank you!"
    )
    assert told.mentions == (MARIA,)
    assert refused.text == (
        f"Nobody offered a slot on #{shift} (1/2 signed up). To sign up: !claim {shift}"
    )
    staffed = await world.plugin.store.staffed(shift)
    assert staffed is not None
    assert [c.user_id for c in staffed.claims] == [taker]


async def test_swap_edge_cases(world: RosterWorld) -> None:
    shift = await ids(world, "pickup", "2026-03-03")
    assert await world.ask(WHITTIER, MARIA, f"!swap {shift}") == (
        f"You have no slot on #{shift} to offer. To sign up: !claim {shift}"
    )
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    await world.say(WHITTIER, MARIA, f"!swap {shift}")
    assert await world.ask(WHITTIER, MARIA, f"!swap {shift}") == (
        f"Your slot on #{shift} is already offered. It stays yours until someone takes it."
    )
    assert await world.ask(WHITTIER, MARIA, f"!take {shift}") == (
        f"That is your own offer. To keep your slot: !claim {shift}"
    )
    assert await world.ask(WHITTIER, MARIA, f"!claim {shift}") == (
        f"You keep your slot on #{shift} (pickup, Tue Mar 3 14:45–15:30): "
        "your swap offer is withdrawn."
    )
    assert await world.ask(WHITTIER, JUAN, f"!take {shift}") == (
        f"Nobody offered a slot on #{shift} (1/2 signed up). To sign up: !claim {shift}"
    )


# --- on site ------------------------------------------------------------------------------


async def test_check_in_and_out(world: RosterWorld) -> None:
    shift = await ids(world, "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    assert await world.ask(WHITTIER, MARIA, "!here") == (
        "No shift is on here right now. Your shifts: !myshifts"
    )
    await world.advance_to(chicago("2026-03-03 14:20"))
    assert await world.ask(WHITTIER, MARIA, "!here") == (
        f"✅ Checked in for pickup at Whittier Elementary (#{shift}). "
        "Stay safe, and send !done when you leave."
    )
    assert await world.ask(WHITTIER, MARIA, "!here") == (
        f"You are already checked in for #{shift}."
    )
    await world.advance_to(chicago("2026-03-03 15:35"))
    assert await world.ask(WHITTIER, MARIA, "!done") == (
        f"Checked out of #{shift}. Thank you for watching over our neighbors!"
    )
    assert await world.ask(WHITTIER, MARIA, "!done") == ("You are not checked in for a shift here.")


async def test_someone_who_shows_up_unannounced_is_added_if_there_is_room(
    world: RosterWorld,
) -> None:
    shift = await ids(world, "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    await world.advance_to(chicago("2026-03-03 14:50"))
    assert await world.ask(WHITTIER, JUAN, "!here") == (
        f"✅ Checked in for pickup at Whittier Elementary (#{shift}); you are on the roster"
        " now. Send !done when you leave."
    )
    assert await world.ask(WHITTIER, LUPE, f"!here {shift}") == (
        f"Shift #{shift} is full (2/2), so I could not check you in."
    )
    later = await ids(world, "dropoff", "2026-03-04")
    assert await world.ask(WHITTIER, LUPE, f"!here {later}") == (
        f"Shift #{later} is not on now: check-in opens 30 minutes before the start."
    )


# --- the backup pool ----------------------------------------------------------------------


async def test_backup_pool_on_off_and_status(world: RosterWorld) -> None:
    assert await world.ask(WHITTIER, MARIA, "!backup") == (
        "You are not in the backup pool of Whittier Elementary. To join: !backup on"
    )
    assert await world.ask(WHITTIER, MARIA, "!backup on") == (
        "You are in the backup pool of Whittier Elementary: I will mention you when a shift"
        " is short of people."
    )
    assert (await world.ask(WHITTIER, MARIA, "!backup")).startswith("You are in the backup")
    assert await world.ask(WHITTIER, MARIA, "!backup off") == (
        "You left the backup pool of Whittier Elementary."
    )
    assert await world.ask(WHITTIER, MARIA, "!backup maybe") == (
        '"maybe": say on or off.\nUsage: !backup [on|off]'
    )
    assert await world.ask(JUAREZ, JUAN, "!reserva sí") == (
        "Estás en el grupo de reserva de Escuela Juárez: te mencionaré cuando falte gente"
        " en un turno."
    )


async def test_forgetme_drops_every_claim_and_backup_of_the_volunteer(world: RosterWorld) -> None:
    shift = await ids(world, "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    await world.say(WHITTIER, JUAN, f"!claim {shift}")
    await world.say(WHITTIER, MARIA, "!backup on")

    await world.say(WHITTIER, MARIA, "!forgetme yes")

    staffed = await world.plugin.store.staffed(shift)
    assert staffed is not None
    assert [claim.user_id for claim in staffed.claims] == [JUAN]
    pool = await world.running.bot.db.fetchone("SELECT COUNT(*) AS n FROM roster_backups")
    assert pool is not None and pool["n"] == 0  # Maria was its only member


# --- the whole flow in Spanish --------------------------------------------------------------


async def test_a_volunteer_does_everything_in_spanish(world: RosterWorld) -> None:
    shift = await ids(world, "entrada", "2026-03-03", site="juarez")
    assert await world.ask(JUAREZ, JUAN, "!tomar mañana entrada") == (
        f"✅ Estás en entrada en Escuela Juárez, mar 3 de marzo 07:45–08:15 (#{shift}): "
        "1/1 apuntados. Te lo recordaré antes de que empiece."
    )
    assert await world.ask(JUAREZ, LUPE, f"!tomar {shift}") == (
        f"El turno #{shift} (entrada, mar 3 de marzo 07:45–08:15) está completo. Únete al grupo"
        " de reserva con !reserva sí y te llamaré cuando haga falta gente."
    )
    assert (await world.ask(JUAREZ, JUAN, "!misturnos")).startswith("Tus próximos turnos:")
    [offer] = await world.say(JUAREZ, JUAN, f"!ceder {shift}")
    assert offer.text.endswith(f"Quien primero envíe !cubrir {shift} se lo queda.")
    [taken, told] = await world.say(JUAREZ, LUPE, f"!cubrir {shift}")
    assert taken.text.startswith("✅ El lugar es tuyo: entrada en Escuela Juárez")
    assert told.text.startswith(f"{JUAN}: {LUPE} tomó tu lugar en entrada")
    await world.advance_to(chicago("2026-03-03 07:40"))
    assert (await world.ask(JUAREZ, LUPE, "!aquí")).startswith("✅ Llegada registrada")
    assert await world.ask(JUAREZ, LUPE, "!listo") == (
        f"Salida registrada de #{shift}. ¡Gracias por cuidar a nuestros vecinos!"
    )
    later = await ids(world, "entrada", "2026-03-04", site="juarez")
    await world.say(JUAREZ, JUAN, f"!tomar {later}")
    assert await world.ask(JUAREZ, JUAN, f"!soltar {later}") == (
        f"Ya no estás en #{later} (entrada, mié 4 de marzo 07:45–08:15). Ahora hay 0/1 apuntados."
    )


# --- sites by command ---------------------------------------------------------------------


async def test_site_lists_the_sites_with_windows_and_skip_dates(world: RosterWorld) -> None:
    assert await world.ask(WHITTIER, MARIA, "!site") == (
        "Whittier Elementary (whittier), times in America/Chicago. Skip dates: none\n"
        "  dropoff: Mon-Fri 07:30–08:15, need 2, max 3\n"
        "  pickup: Mon-Fri 14:45–15:30, need 2, max 2"
    )
    assert await world.ask(JUAREZ, JUAN, "!sitio") == (
        "Escuela Juárez (juarez), horas de America/Chicago. Días sin turnos: ninguno\n"
        "  entrada: lun-vie 07:45–08:15, necesita 1, máx 1"
    )
    # Moderators and admins see every site, wherever they ask.
    assert (await world.ask(HOOD, MODERATOR, "!site")).count("times in America/Chicago") == 2


async def test_a_coordinator_moves_a_window_and_shifts_follow(world: RosterWorld) -> None:
    shift = await ids(world, "pickup", "2026-03-03")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    assert (
        await world.ask(
            WHITTIER, COORDINATOR, "!site window whittier pickup mon-fri 15:00-15:45 need 2 max 3"
        )
        == "Window pickup of whittier saved. Shifts: 0 new, 0 cancelled."
    )
    assert "Tue Mar 3 15:00–15:45" in await world.ask(WHITTIER, MARIA, "!myshifts")
    jobs = await world.scheduler.jobs()
    assert jobs[f"rosters:{shift}:soon"] == chicago("2026-03-03 14:30")


async def test_a_skip_date_cancels_its_shifts_and_tells_who_was_on_them(world: RosterWorld) -> None:
    shift = await ids(world, "dropoff", "2026-03-04")
    await world.say(WHITTIER, MARIA, f"!claim {shift}")
    assert await world.ask(WHITTIER, MODERATOR, "!site skip whittier 2026-03-04") == (
        "No shifts at Whittier Elementary on Wed Mar 4: 2 cancelled, and anyone signed up is told."
    )
    [told] = await world.advance(timedelta(0))
    assert told.text == (
        f"dropoff at Whittier Elementary on Wed Mar 4 (#{shift}) no longer takes place. "
        f"{MARIA}: you are off it."
    )
    assert told.mentions == (MARIA,)
    assert not any(job.startswith(f"rosters:{shift}:") for job in await world.scheduler.jobs())
    assert await world.ask(WHITTIER, MARIA, f"!claim {shift}") == (
        f"There is no shift #{shift} here. See !roster."
    )
    assert "Skip dates: Wed Mar 4" in await world.ask(WHITTIER, MARIA, "!site")


async def test_only_coordinators_moderators_and_admins_change_a_site(world: RosterWorld) -> None:
    assert await world.ask(WHITTIER, MARIA, "!site skip whittier 2026-03-04") == (
        "Only the coordinators of whittier, moderators and admins can change it."
    )
    assert await world.ask(WHITTIER, COORDINATOR, "!site add lincoln pilsen UTC Lincoln") == (
        "Only admins can add sites."
    )
    assert await world.ask(HOOD, ADMIN, "!site add lincoln pilsen UTC Lincoln") == (
        "Add a site from the watch room that will watch it."
    )


@pytest.mark.parametrize(
    ("command", "answer"),
    [
        ("!site frobnicate", '"frobnicate": with sites I can add, window or skip.'),
        ("!site window", "Usage: !site window SLUG NAME DAYS HH:MM-HH:MM need N [max M]"),
        ("!site skip nowhere 2026-03-04", "There is no site nowhere. Send !site to list them."),
        ("!site skip whittier tomorrow", "Usage: !site skip SLUG DATE, e.g."),
        ("!site window whittier pickup mon-fri 15:00-14:00 need 2", '"15:00-14:00": the end'),
        ("!site add", "Usage: !site add SLUG AREA TIMEZONE NAME"),
        ("!site add Big_School pilsen UTC Big", '"big_school": a site\'s short name is'),
        ("!site add whittier pilsen UTC Again", "There is already a site whittier."),
        ("!site add lincoln mars UTC Lincoln", 'Unknown area "mars". Areas: pilsen.'),
        ("!site add lincoln pilsen Mars/Base Lincoln", '"Mars/Base" is not a time zone'),
        ("!sitio horario whittier recogida lun-vie 14:00 necesita 2", '"14:00": las horas'),
    ],
)
async def test_bad_site_commands_get_a_clear_answer(
    world: RosterWorld, command: str, answer: str
) -> None:
    assert (await world.ask(WHITTIER, ADMIN, command)).startswith(answer)


async def test_an_admin_adds_a_site_that_outlives_a_restart(world: RosterWorld) -> None:
    add = "!site add lincoln pilsen America/Chicago Lincoln Park"
    added = await world.ask(WHITTIER, ADMIN, add)
    assert added.startswith("Site Lincoln Park (lincoln) added, watched from this room")
    assert "0 new" not in await world.ask(
        WHITTIER, ADMIN, "!site window lincoln dropoff sat 09:00-10:00 need 1"
    )
    await world.restart()
    assert "Lincoln Park (lincoln)" in await world.ask(WHITTIER, MARIA, "!site")
    # Two sites in the room now: a day and window need the site's name.
    assert await world.ask(WHITTIER, MARIA, "!claim sat dropoff") == (
        "Several sites are watched from this room (whittier, lincoln): name one first, e.g."
        " SITE tue dropoff."
    )
    assert "Lincoln Park, Sat Mar 7 09:00–10:00" in await world.ask(
        WHITTIER, MARIA, "!claim lincoln sat dropoff"
    )
    # The admin who added it coordinates it.
    assert world.plugin.sites.get("lincoln").coordinators == (ADMIN,)  # type: ignore[union-attr]


async def test_a_coordinator_whose_identity_changed_waits_for_an_admin(world: RosterWorld) -> None:
    identities = world.running.bot.identities
    await identities.seen(COORDINATOR, "first-master-key")
    await identities.seen(COORDINATOR, "another-master-key")
    assert await world.ask(WHITTIER, COORDINATOR, "!site skip whittier 2026-03-04") == (
        "Only the coordinators of whittier, moderators and admins can change it."
    )
    await identities.trust(COORDINATOR)
    assert (await world.ask(WHITTIER, COORDINATOR, "!site skip whittier 2026-03-04")).startswith(
        "No shifts at Whittier Elementary on Wed Mar 4"
    )
