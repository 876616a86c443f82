"""Possible duplicates: the same place written the ways people write it, English and Spanish."""

from __future__ import annotations

import pytest
from testkit.networks import MODS, PILSEN_EN, PILSEN_ES, VILLITA
from testkit.world import SightingsWorld

from plugins.sightings.places import place_key, same_place

CORNER = "18th & Ashland"


@pytest.mark.parametrize(
    "written",
    [
        "18th and Ashland",
        "W. 18th St & S Ashland Ave",
        "Ashland / 18th",
        "ashland at 18th street",
        "18 y Ashland",
        "calle 18 y Ashland",
        "la esquina de la 18 con Ashland",
        "Ashland Ave y la 18va",
        "18TH  &  ASHLAND",
    ],
)
def test_one_corner_written_many_ways(written: str) -> None:
    assert same_place(CORNER, written), place_key(written)


@pytest.mark.parametrize(
    "other",
    ["19th & Ashland", "18th & Damen", "Ashland", "18th", "26th & Pulaski", ""],
)
def test_other_places_are_not_the_same(other: str) -> None:
    assert not same_place(CORNER, other)


def test_landmarks_in_either_language() -> None:
    assert same_place("Pilsen library", "the Pilsen library")
    assert same_place("Plaza Tenochtitlan", "plaza tenochtitlán")
    assert same_place("Walgreens on Cermak", "walgreens on cermak road")
    assert not same_place("Pilsen library", "Pilsen park")
    assert not same_place("", "")


# --- on the card and in the reporter's thread ------------------------------------------------


async def test_a_second_report_of_the_same_corner_is_flagged(world: SightingsWorld) -> None:
    await world.say(PILSEN_EN, "ana", "!report 18th & Ashland; agents detaining someone")
    first = world.cards()[-1].text.split(" ")[1]
    await world.say(PILSEN_ES, "bea", "!reporte calle 18 y Ashland; agentes deteniendo")
    second = world.cards()[-1]
    assert f"⚠ Possible duplicate of {first} (same place, within the hour)" in second.text
    ack = world.last(PILSEN_ES)
    assert f"Parece ser {first}" in ack and f"!visto {first}" in ack
    # Another corner, or another area, is not flagged.
    await world.say(PILSEN_EN, "ana", "!report 19th & Ashland; checkpoint")
    await world.say(VILLITA, "carla", "!reporte 18 y Ashland; retén")
    for card in world.cards()[-2:]:
        assert "Possible duplicate" not in card.text


async def test_a_closed_report_is_not_a_duplicate_target(world: SightingsWorld) -> None:
    await world.say(PILSEN_EN, "ana", "!report 18th & Ashland; van parked")
    first = world.cards()[-1].text.split(" ")[1]
    await world.say(MODS, "rosa", f"!false {first}")
    await world.say(PILSEN_EN, "bea", "!report 18th and Ashland; van parked")
    assert "Possible duplicate" not in world.cards()[-1].text
