"""Mistakes are not lost: a mistyped command gets "did you mean", and `!yes` runs it with
what was written; an unknown name is never echoed back in full."""

from __future__ import annotations

import re

from testkit.networks import MODS, PILSEN_EN, PILSEN_ES
from testkit.world import SightingsWorld


async def test_a_mistyped_report_is_filed_by_yes(world: SightingsWorld) -> None:
    await world.say(PILSEN_EN, "ana", "!reprot 18th & Ashland; agents detaining someone")
    assert world.last(PILSEN_EN) == (
        "I don't know the command reprot. Did you mean !report? Send !yes to run it with what"
        " you wrote."
    )
    assert world.cards() == []
    await world.say(PILSEN_EN, "ana", "!yes")
    assert re.match(r"📝 Report R\w+ received — UNCONFIRMED\.", world.last(PILSEN_EN))
    assert "18th & Ashland" in world.cards()[-1].text
    await world.say(PILSEN_EN, "ana", "!yes")  # once only
    assert world.last(PILSEN_EN) == "There is nothing to confirm: send the command again."


async def test_in_spanish_and_only_for_the_person_who_typed_it(world: SightingsWorld) -> None:
    await world.say(PILSEN_ES, "bea", "!reportee 18 y Ashland; retén")
    assert "¿Quisiste decir !reporte? Envía !sí" in world.last(PILSEN_ES)
    await world.say(PILSEN_ES, "carla", "!sí")  # not hers to confirm
    assert world.last(PILSEN_ES).startswith("No hay nada que confirmar")
    await world.say(PILSEN_ES, "bea", "!si")
    assert world.last(PILSEN_ES).startswith("📝 Reporte")


async def test_suggestions_respect_what_the_person_may_do(world: SightingsWorld) -> None:
    await world.say(PILSEN_EN, "ana", "!confrim R2345")  # a moderator command, not hers
    assert world.last(PILSEN_EN).startswith("I don't know the command confrim. Send !help")
    await world.say(MODS, "rosa", "!confrim R2345")
    assert "Did you mean !confirm?" in world.last(MODS)


async def test_an_unknown_name_is_never_echoed_in_full(world: SightingsWorld) -> None:
    secret = "call+15551234567-at-home-ask-for-maria"
    await world.say(PILSEN_EN, "ana", f"!{secret}")
    answer = world.last(PILSEN_EN)
    assert secret not in answer and answer.startswith(f"I don't know the command {secret[:20]}…")


async def test_a_description_over_the_limit_is_filed_cut_with_a_note(world: SightingsWorld) -> None:
    long = "agents detaining someone " + "and more details " * 80
    await world.say(PILSEN_EN, "ana", f"!report 18th & Ashland; {long}")
    ack = world.last(PILSEN_EN)
    assert "Your description was longer than 1000 characters, so it was cut there." in ack
    card = world.cards()[-1].text
    assert "✂ The description was cut at 1000 characters." in card
    assert "and more details" in card and long.strip() not in card
