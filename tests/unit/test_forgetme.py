"""`!forgetme` / `!olvidame`: a person's data erased on request (README, "Privacy").

The whole bot (core and sightings plugin) runs on the in-memory transport of the
test kit; what is checked is what is left in the database and its files.
"""

from __future__ import annotations

import re
from pathlib import Path

from testkit.networks import MODS, PILSEN_EN, PILSEN_ES
from testkit.world import SightingsWorld

from plugins.sightings.lifecycle import Status

ANA = "@ana:example.org"  # the person who asks to be forgotten
REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")


async def report(world: SightingsWorld, user: str, where: str) -> str:
    event = await world.write(PILSEN_EN, user, f"!report {where}; two unmarked vans")
    found = REPORT_ID.search(world.in_thread(PILSEN_EN, event)[0])
    assert found
    return found[0]


async def ana_leaves_traces(world: SightingsWorld) -> tuple[str, str, str]:
    """Ana's language, a report of hers confirmed, one still open, a `!seen` on another."""
    await world.say(PILSEN_EN, ANA, "!lang es")
    confirmed = await report(world, ANA, "18th & Ashland")
    pending = await report(world, ANA, "Cermak & Blue Island")
    others = await report(world, "bob", "21st & Damen")
    await world.say(PILSEN_EN, ANA, f"!seen {others}")
    await world.say(MODS, "rosa", f"!confirm {confirmed}")
    await world.settle()
    return confirmed, pending, others


def database_bytes(tmp_path: Path) -> bytes:
    data = tmp_path / "data"
    return b"".join(path.read_bytes() for path in data.iterdir() if path.is_file())


async def test_forgetme_first_says_what_it_erases_and_erases_nothing(world: SightingsWorld) -> None:
    confirmed, pending, _ = await ana_leaves_traces(world)

    await world.say(PILSEN_EN, ANA, "!olvidame")
    asked = world.last(PILSEN_EN)
    assert asked.startswith("Esto borra lo que Vecinos guarda sobre ti:")
    assert asked.endswith("Para seguir, envía: !olvidame sí")
    await world.say(PILSEN_EN, ANA, "!olvidame quizás")
    assert world.last(PILSEN_EN) == asked

    assert await world.app.runtime.languages.chosen(ANA) == "es"
    assert await world.plugin.store.get(pending) is not None
    assert (await world.plugin.store.get(confirmed)).origin.user_id == ANA  # type: ignore[union-attr]


async def test_forgetme_yes_erases_the_person_and_keeps_confirmed_alerts_unlinked(
    world: SightingsWorld, tmp_path: Path
) -> None:
    confirmed, pending, others = await ana_leaves_traces(world)
    person = world.app.bot.person(ANA)

    ack_of_pending = next(
        s.event_id for s in world.messages(PILSEN_EN) if pending in s.text and "📝" in s.text
    )
    await world.say(PILSEN_EN, ANA, "!olvidame SI")

    assert world.last(PILSEN_EN) == (
        "Listo: Vecinos borró lo que guardaba sobre ti.\n"
        "La confirmación de recibo de tu reporte sin confirmar se quitó de su sala."
    )
    # The acknowledgement repeated what the erased report said: deleted for everyone.
    assert world.transport.retracted == [(PILSEN_EN, ack_of_pending)]
    assert await world.app.runtime.languages.chosen(ANA) is None
    assert await world.plugin.store.get(pending) is None  # never went out: gone
    kept = await world.plugin.store.get(confirmed)
    assert kept is not None and kept.status is Status.CONFIRMED
    assert kept.origin.user_id == "" and kept.reporter != person
    assert (await world.plugin.store.get(others)).corroborations == 0  # type: ignore[union-attr]
    await world.settle()
    assert world.card_text(world.card_of(pending).event_id) == (
        f"🗑 {pending} · WITHDRAWN: the reporter asked to be forgotten, so the report was erased."
    )
    assert world.card_text(world.card_of(confirmed).event_id).startswith(f"🔴 {confirmed} · ")
    await world.app.stop()
    stored = database_bytes(tmp_path)
    assert person.encode() not in stored
    assert ANA.encode() not in stored


async def test_in_english_the_answer_is_yes(world: SightingsWorld) -> None:
    await world.say(PILSEN_EN, ANA, "!forgetme")
    assert world.last(PILSEN_EN).endswith("To go ahead, send: !forgetme yes")
    await world.say(PILSEN_EN, ANA, "!forgetme yes")
    assert world.last(PILSEN_EN) == "Done: Vecinos has erased what it kept about you."


async def test_a_moderator_is_erased_from_decisions_but_keeps_the_identity_pin(
    world: SightingsWorld,
) -> None:
    report_id = await report(world, "bob", "18th & Ashland")
    await world.say(MODS, "rosa", f"!confirm {report_id}")
    await world.app.bot.identities.seen("rosa", "master-key-of-rosa")

    await world.say(PILSEN_ES, "rosa", "!olvidame sí")

    assert world.last(PILSEN_ES).splitlines() == [
        "Listo: Vecinos borró lo que guardaba sobre ti.",
        "Tu clave de identidad como moderador se conserva, porque protege la sala de "
        "moderación; primero un administrador debe quitarte como moderador.",
    ]
    stored = await world.plugin.store.get(report_id)
    assert stored is not None and [d.actor for d in stored.history] == [None]
    assert await world.app.bot.identities.current_key("rosa") == "master-key-of-rosa"


async def test_a_neighbor_identity_pin_is_erased(world: SightingsWorld) -> None:
    await world.app.bot.identities.seen(ANA, "master-key-of-ana")
    await world.say(PILSEN_EN, ANA, "!forgetme yes")
    assert await world.app.bot.identities.current_key(ANA) is None


async def test_what_could_not_be_taken_out_of_a_room_is_said(world: SightingsWorld) -> None:
    await report(world, ANA, "Cermak & Blue Island")
    await report(world, ANA, "26th & Pulaski")
    world.transport.cannot_retract = {PILSEN_EN}  # as Signal, for older messages
    await world.say(PILSEN_EN, ANA, "!forgetme yes")
    assert world.last(PILSEN_EN).splitlines()[1:] == [
        "2 acknowledgements of your reports could not be taken out of their rooms (Signal"
        " cannot delete older messages, or the rooms are gone): delete them there if you can."
    ]
