"""Words as people read them, in English and Spanish: units, activities in sentences, one
term for "all clear", hints with real ids, commands typed the way phones type them, and
what a command without its argument asks for."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest
from testkit.console import console_network
from testkit.networks import (
    DISPATCH_EN,
    DISPATCH_ES,
    HOOD_EN,
    MODS,
    MODS_PILSEN,
    MONDAY,
    PILSEN_EN,
    PILSEN_ES,
)
from testkit.world import DispatchWorld, SightingsWorld

from bot.api.testing import FakeClock, PluginWorld
from bot.core.i18n import Catalog
from bot.devtools.network import HOTLINE, PEOPLE, ROOMS, sample_config
from plugins.dispatch import Dispatch
from plugins.relay import Relay
from plugins.rosters import Rosters
from plugins.sightings import Sightings

REPORT_ID = re.compile(r"\bR[2-9A-Z]{3,6}\b")


async def report(world: PluginWorld, room: str, text: str, user: str = "ana") -> str:
    sent = await world.say(room, user, text)
    match = REPORT_ID.search(next(s for s in sent if s.room_id == room).text)
    assert match is not None
    return match[0]


@pytest.fixture
async def dispatch(tmp_path: Path) -> AsyncIterator[DispatchWorld]:
    running = await DispatchWorld(tmp_path, MONDAY).start()
    yield running
    await running.stop()


# --- units and area names in the moderation rooms ----------------------------------------

LA_VILLITA = """
moderators = ["rosa"]

[bot]
data_dir = "{data}"

[reports]
timezone = "America/Chicago"

[[areas]]
slug = "little-village"
name_en = "Little Village"
name_es = "La Villita"

[[rooms]]
id = "barrio"
transport = "console"
role = "neighborhood"
areas = ["little-village"]
language = "es"

[[rooms]]
id = "moderacion"
transport = "console"
role = "moderation"
areas = ["little-village"]
language = "es"

[[rooms]]
id = "despacho"
transport = "console"
role = "dispatch"
areas = ["little-village"]
language = "es"
"""


async def test_an_escalation_says_minutes_and_the_area_in_the_rooms_language(
    tmp_path: Path, dispatch: DispatchWorld
) -> None:
    report_id = await report(dispatch, HOOD_EN, "!report 18th & Ashland; agents detaining")
    sent = await dispatch.advance(timedelta(minutes=5, seconds=1))
    [english] = [s.text for s in sent if s.room_id == MODS_PILSEN]
    assert english.startswith(
        f"⏰ Nobody answered the dispatch call for {report_id} (Pilsen) within 5 minutes;"
    )

    (tmp_path / "es").mkdir()
    world = PluginWorld(
        tmp_path / "es",
        plugins=[Sightings, Relay, Rosters, Dispatch],
        config=LA_VILLITA,
        clock=FakeClock(MONDAY),
    )
    await world.start()
    try:
        report_id = await report(world, "barrio", "!reporte 26 y Pulaski; agentes deteniendo")
        sent = await world.advance(timedelta(minutes=5, seconds=1))
        [spanish] = [s.text for s in sent if s.room_id == "moderacion"]
        assert spanish.startswith(
            f"⏰ Nadie respondió al llamado de despacho de {report_id} (La Villita) en 5 minutos;"
        )
    finally:
        await world.stop()


# --- an activity of another kind, inside a sentence ------------------------------------------


async def test_other_activity_reads_naturally_in_a_spanish_call_out(
    dispatch: DispatchWorld,
) -> None:
    keyed = "!report where: 18th & Ashland | what: other | notes: people gathering"
    report_id = await report(dispatch, HOOD_EN, keyed)
    sent = await dispatch.say(MODS_PILSEN, "rosa", f"!confirm {report_id}")
    spanish = "\n".join(s.text for s in sent if s.room_id == DISPATCH_ES)
    assert "Confirmado: otra actividad en 18th & Ashland." in spanish
    assert "de otro en" not in spanish and ": otro en" not in spanish
    english = "\n".join(s.text for s in sent if s.room_id == DISPATCH_EN)
    assert "Confirmed: other activity at 18th & Ashland." in english


# --- the card's duplicate hint --------------------------------------------------------------


async def test_the_cards_dup_hint_names_the_report_it_looks_like(world: SightingsWorld) -> None:
    first = await report(world, PILSEN_EN, "!report 18th & Ashland; agents detaining someone")
    second = await report(world, PILSEN_EN, "!report 18th & Ashland; two agents, a van")
    assert f"!dup {second} {first}" in world.shown(world.card_of(second))
    assert f"!dup {first} OTHER-ID" in world.shown(world.card_of(first))
    assert "R5AB" not in world.shown(world.card_of(first))


# --- a verifier's "confirmed" on a report already confirmed ---------------------------------


async def test_scene_confirmed_on_a_confirmed_report_says_so(dispatch: DispatchWorld) -> None:
    report_id = await report(dispatch, HOOD_EN, "!report 18th & Ashland; agents detaining")
    await dispatch.say(MODS_PILSEN, "rosa", f"!confirm {report_id}")
    await dispatch.say(DISPATCH_EN, "vera", f"!going {report_id} 10")
    answer = await dispatch.ask(DISPATCH_EN, "vera", f"!scene {report_id} confirmed")
    assert f"{report_id} is already confirmed: the alert is out." in answer
    assert "moderators decide" not in answer
    spanish = await dispatch.ask(DISPATCH_ES, "raul", f"!escena {report_id} confirmado")
    assert f"{report_id} ya está confirmado: la alerta ya salió." in spanish


# --- one Spanish term for "all clear" -------------------------------------------------------


def test_all_clear_is_todo_despejado_in_every_spanish_string(all_strings: Catalog) -> None:
    spanish = {key: all_strings.get("es", key) for key in all_strings.keys("es")}
    assert not [key for key, text in spanish.items() if "peligro pasado" in text.casefold()]
    assert not [key for key, text in spanish.items() if "pasó el peligro" in text.casefold()]
    for key in ("sightings.status.all_clear", "relay.cleared", "sightings.action.clear"):
        assert "despejado" in all_strings.get("es", key).casefold(), key


# --- the guided dialog offers skip only where a step may be skipped -------------------------


async def test_the_guided_report_does_not_offer_skip_for_where(world: SightingsWorld) -> None:
    root = await world.write(PILSEN_ES, "ana", "!reporte")
    first = world.messages(PILSEN_ES)[-1].text
    assert first.endswith("(cancelar para parar)") and "saltar" not in first
    await world.say(PILSEN_ES, "ana", "18 y Ashland", thread=root)
    assert world.messages(PILSEN_ES)[-1].text.endswith(
        "(saltar para omitirlo · cancelar para parar)"
    )


# --- commands typed as phones type them ------------------------------------------------------


@pytest.mark.parametrize("typed", ["¡ayuda", "¡ayuda!", "! ayuda", "!Ayuda"])
async def test_inverted_and_spaced_marks_work(world: SightingsWorld, typed: str) -> None:
    [answer] = await world.say(PILSEN_ES, "ana", typed)
    assert answer.text.startswith("Comandos que puedes usar aquí:")


async def test_accents_in_a_command_name_do_not_matter(tmp_path: Path) -> None:
    async with console_network(tmp_path) as type_:
        assert await type_("!línea") == [f"[pilsen] vecinos> Línea de respuesta rápida: {HOTLINE}"]
        assert (await type_("!AYÚDA"))[0].startswith("[pilsen] vecinos> Comandos que puedes")


async def test_a_mark_before_ordinary_words_is_no_command(world: SightingsWorld) -> None:
    assert await world.say(PILSEN_ES, "ana", "¡qué miedo!") == []
    assert await world.say(PILSEN_ES, "ana", "! no puede ser") == []


async def test_a_spanish_typo_gets_a_spanish_suggestion(world: SightingsWorld) -> None:
    [answer] = await world.say(PILSEN_ES, "ana", "!reprote 18 y Ashland; agentes")
    assert "¿Quisiste decir !reporte?" in answer.text
    [english] = await world.say(PILSEN_EN, "beto", "!reprot 18th & Ashland; agents")
    assert "Did you mean !report?" in english.text


@pytest.mark.parametrize(
    ("typed", "answer"),
    [
        ("!idioma español", "Listo: te hablaré en español."),
        ("!idioma Espanol", "Listo: te hablaré en español."),
        ("!lang english", "Done: I will speak to you in English."),
        ("!idioma inglés", "Done: I will speak to you in English."),
    ],
)
async def test_languages_by_their_names(world: SightingsWorld, typed: str, answer: str) -> None:
    assert [s.text for s in await world.say(PILSEN_EN, "ana", typed)] == [answer]


async def test_an_unknown_language_still_says_what_is_expected(world: SightingsWorld) -> None:
    [answer] = await world.say(PILSEN_EN, "ana", "!lang klingon")
    assert answer.text == "language must be one of: en, es.\nUsage: !lang [en|es]"


# --- a command without its argument -----------------------------------------------------------


async def test_a_missing_argument_is_asked_for_with_an_example(world: SightingsWorld) -> None:
    [english] = await world.say(PILSEN_EN, "ana", "!seen")
    assert english.text == "Which report? Send !seen R7K3, with the id from the alert."
    [spanish] = await world.say(PILSEN_ES, "ana", "!visto")
    assert spanish.text == "¿Qué reporte? Envía !visto R7K3, con el id de la alerta."
    [card] = await world.say(MODS, "rosa", "!confirm")
    assert card.text == "Which report? Send !confirm R7K3, with the id from the card."


# --- the demo and the console ------------------------------------------------------------------


def test_every_demo_room_has_a_language() -> None:
    config = sample_config({room.name: room.short for room in ROOMS}, {p: p for p in PEOPLE})
    assert all(room.get("language") in ("en", "es") for room in config["rooms"])
