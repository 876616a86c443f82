"""Safety check-ins, emergency contacts and accompaniment requests, in direct chats: what
the person, their contacts, the legal team (through the cases face) and a volunteer see."""

from __future__ import annotations

import re
from collections.abc import AsyncIterator
from datetime import datetime
from pathlib import Path
from typing import Any, cast

import pytest
from testkit.networks import chicago

from bot.api import Plugin
from bot.api.testing import FakeClock, PluginWorld, Sent
from plugins.cases import Cases
from plugins.checkins import Checkins
from plugins.dispatch import Dispatch
from plugins.rosters import Rosters
from plugins.sightings import Sightings

ANA = "@ana:example.org"  # goes to her check-in
BEA = "@bea:example.org"  # her contact, who accepts
CARL = "@carl:example.org"  # asked, never accepts
VERA = "@vera:example.org"  # a dispatch volunteer
ANA_DM, BEA_DM, CARL_DM, VERA_DM = (f"dm:{who}" for who in (ANA, BEA, CARL, VERA))
TUESDAY = chicago("2026-03-03 09:00")

CONFIG = """
[bot]
data_dir = "{data}"
commands_per_minute = 1000

[reports]
timezone = "America/Chicago"

[checkins]
timezone = "America/Chicago"

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"

[[areas]]
slug = "little-village"
name_en = "Little Village"
name_es = "La Villita"

[[rooms]]
id = "hood"
transport = "console"
role = "neighborhood"
areas = ["pilsen"]

[[rooms]]
id = "hood-lv"
transport = "console"
role = "neighborhood"
areas = ["little-village"]

[[rooms]]
id = "dispatch"
transport = "console"
role = "dispatch"
areas = ["pilsen"]

[[sites]]
slug = "pilsen-oncall"
name = "Pilsen on call"
area = "pilsen"
timezone = "America/Chicago"
room = "dispatch"
windows = ["oncall mon-sun 06:00-07:00 need 1"]
"""


class FakeCases:
    """What the legal team's cases were asked to do."""

    def __init__(self) -> None:
        self.opened: list[tuple[str, str, str | None, datetime]] = []
        self.safe: list[str] = []
        self.forgotten: list[str] = []

    async def open_for_missed_checkin(
        self, area: str, alias: str, place: str | None, planned_at: datetime
    ) -> str:
        self.opened.append((area, alias, place, planned_at))
        return "C7K3"

    async def mark_safe(self, case_id: str) -> None:
        self.safe.append(case_id)

    async def forget_alias(self, case_id: str) -> None:
        self.forgotten.append(case_id)


class StubCases(Plugin):
    name = "cases"

    def __init__(self, *args: Any) -> None:
        super().__init__(*args)
        self.fake = FakeCases()
        self.bot.provide(Cases, cast(Cases, self.fake))


PLUGINS = (Sightings, Rosters, Dispatch, StubCases, Checkins)


@pytest.fixture
async def world(tmp_path: Path) -> AsyncIterator[PluginWorld]:
    running = await start(tmp_path, TUESDAY)
    yield running
    await running.stop()


async def start(tmp_path: Path, now: datetime) -> PluginWorld:
    world = PluginWorld(tmp_path, plugins=PLUGINS, config=CONFIG, clock=FakeClock(now))
    await world.start()
    world.transport.people.update({"hood": {ANA, VERA}, "dispatch": {VERA}})
    return world


def cases(world: PluginWorld) -> FakeCases:
    return world.plugin_of(StubCases).fake


async def ana(world: PluginWorld, text: str) -> str:
    return "\n".join(s.text for s in await world.say(ANA_DM, ANA, text, direct=True))


async def with_contacts(world: PluginWorld) -> None:
    """Bea accepts; Carl is asked and never answers."""
    await ana(world, f"!contacts add {BEA}")
    await ana(world, f"!contactos agregar {CARL}")
    code = re.search(r"!accept (\d{6})", world.last(BEA_DM))
    assert code is not None
    await world.say(BEA_DM, BEA, f"!accept {code[1]}", direct=True)


def direct(sent: list[Sent]) -> list[Sent]:
    """What went to people's direct chats (not the rota's own notices)."""
    return [s for s in sent if s.room_id.startswith("dm:")]


async def shift_of(world: PluginWorld, label: str) -> str:
    """The number of the shift `label` on the dispatch rota, as a volunteer reads it."""
    rosters = [*await world.say("dispatch", VERA, "!roster next")]
    rosters += await world.say("dispatch", VERA, "!roster")  # the coming seven days last
    listing = "\n".join(s.text for s in rosters)
    found = re.search(rf"{label} \S+\s+#(\d+)", listing)
    assert found is not None, listing
    return found[1]


def to(world: PluginWorld, sent: list[Sent], room: str) -> list[str]:
    return [s.text for s in sent if s.room_id == room]


# --- planning ---------------------------------------------------------------------------------


async def test_a_check_in_is_set_today_or_tomorrow_on_the_areas_clock(world: PluginWorld) -> None:
    answer = await ana(world, "!checkin 14:30 court alias=JM")
    assert "today at 14:30 (Pilsen time), at court" in answer
    assert "wait 15 minutes" in answer and "“JM”" in answer
    assert "no emergency contact who accepted yet" in answer
    answer = await ana(world, "!checkin 8:00am Broadview")
    assert "TOMORROW at 08:00" in answer and "replaces your earlier check-in" in answer
    assert "alias=JM" in answer  # asked for an alias
    assert "“RM”" in await ana(world, "!checkin alias=RM")
    assert "Your check-in: 08:00, at Broadview" in await ana(world, "!checkin")


async def test_bad_input_and_rooms_get_clear_answers(world: PluginWorld) -> None:
    assert "!checkin 14:30 court alias=JM" in await ana(world, "!checkin soon")
    assert "A-number" in await ana(world, "!checkin 14:30 court alias=A-123-456-789")
    assert "date of birth" in await ana(world, "!checkin 14:30 alias=4/12/1990")
    assert await world.plugin_of(Checkins).plans.of(ANA) is None  # nothing kept
    [room] = await world.say("hood", ANA, "!checkin 14:30 court")
    assert "direct chat" in room.text
    assert "I do not know the area “mars”" in await ana(world, "!checkin 14:30 area=mars")


async def test_rooms_in_several_areas_say_which_one_was_used(world: PluginWorld) -> None:
    world.transport.people["hood-lv"] = {ANA}
    answer = await ana(world, "!checkin 14:30 court alias=JM")
    assert "I used little-village. For another, add area=SLUG (pilsen)" in answer
    answer = await ana(world, "!checkin 14:30 court alias=JM area=pilsen")
    assert "(Pilsen time)" in answer and "several areas" not in answer


# --- contacts ---------------------------------------------------------------------------------


async def test_a_contact_is_asked_and_counts_once_they_accept(world: PluginWorld) -> None:
    assert "You have no emergency contacts" in await ana(world, "!contacts")
    answer = await ana(world, f"!contacts add {BEA}")
    assert f"I asked {BEA} by direct message" in answer
    [request] = world.texts(BEA_DM)
    assert request.startswith(f"{ANA} asks you to be their emergency contact")
    assert "waiting" not in await ana(world, "!contacts") and "not accepted yet" in await ana(
        world, "!contacts"
    )
    assert "is already on your list" in await ana(world, f"!contacts add {BEA}")
    assert "no request" in "\n".join(
        s.text for s in await world.say(BEA_DM, BEA, "!accept 000000", direct=True)
    )
    thanks = to(world, await world.say(BEA_DM, BEA, "!accept", direct=True), BEA_DM)
    assert "you are now an emergency contact" in thanks[0]  # her id: the one request
    assert world.last(ANA_DM) == f"{BEA} accepted to be your emergency contact."
    assert f"• {BEA}: aceptó" in await ana(world, "!contactos")
    assert "not a Matrix id" in await ana(world, "!contacts add bea")
    assert f"{BEA} is no longer" in await ana(world, f"!contacts remove {BEA}")
    assert "You have no emergency contacts" in await ana(world, "!contacts")


# --- the alarm --------------------------------------------------------------------------------


async def test_a_missed_check_in_asks_once_then_tells_accepted_contacts_and_opens_a_case(
    world: PluginWorld,
) -> None:
    await with_contacts(world)
    await ana(world, "!checkin 14:30 court alias=JM")
    assert await world.advance_to(chicago("2026-03-03 14:29")) == []
    asked = await world.advance_to(chicago("2026-03-03 14:30"))
    assert to(world, asked, ANA_DM) == [
        "It is 14:30: are you out and safe? Write !safe. If I hear nothing by 14:45,"
        " I tell your emergency contacts and the legal team."
    ]
    assert to(world, asked, BEA_DM) == [] and cases(world).opened == []
    alarm = await world.advance_to(chicago("2026-03-03 14:45"))
    assert to(world, alarm, BEA_DM) == [
        "JM did not check in after their appointment at court, planned for 14:30."
        " The network's legal team has been told."
    ]
    assert to(world, alarm, CARL_DM) == []  # never accepted: never told
    assert cases(world).opened == [("pilsen", "JM", "court", chicago("2026-03-03 14:30"))]
    assert "legal team, who opened a case" in to(world, alarm, ANA_DM)[0]
    later = await world.advance_to(chicago("2026-03-04 14:30"))
    assert direct(later) == []  # once
    # Safe after the alarm: the contact and the legal team hear it; the plan is erased.
    answer = await ana(world, "!safe")
    assert "I told your 1 contact and the legal team" in answer
    assert world.last(BEA_DM).startswith("JM checked in: they are safe")
    assert cases(world).safe == ["C7K3"]
    assert "no check-in open" in await ana(world, "!safe")


async def test_safe_in_time_ends_it_and_nobody_is_told(world: PluginWorld) -> None:
    await with_contacts(world)
    await ana(world, "!aviso 14:30 corte alias=JM")
    assert "Your check-in is over" in await ana(world, "!safe")
    assert direct(await world.advance_to(chicago("2026-03-03 16:00"))) == []
    assert cases(world).opened == []


async def test_safe_between_the_question_and_the_alarm_tells_nobody(world: PluginWorld) -> None:
    await with_contacts(world)
    await ana(world, "!checkin 14:30 alias=JM")
    await world.advance_to(chicago("2026-03-03 14:31"))
    assert "Glad you are safe" in await ana(world, "!safe")
    assert direct(await world.advance_to(chicago("2026-03-03 15:00"))) == []


async def test_a_check_in_due_while_the_bot_was_down_asks_again_before_any_alarm(
    world: PluginWorld,
) -> None:
    await with_contacts(world)
    await ana(world, "!checkin 14:30 court alias=JM")
    # Down from 14:00 to 16:00: the time and the alarm passed meanwhile.
    await world.restart(down_until=chicago("2026-03-03 16:00"))
    sent = await world.advance(datetime.resolution)
    [late] = to(world, sent, ANA_DM)
    assert late.startswith("I was offline when your check-in was due (14:30)")
    assert "by 16:15" in late
    assert to(world, sent, BEA_DM) == [] and cases(world).opened == []
    alarm = await world.advance_to(chicago("2026-03-03 16:15"))
    assert len(to(world, alarm, BEA_DM)) == 1


async def test_down_when_the_alarm_was_due_asks_again(world: PluginWorld) -> None:
    await with_contacts(world)
    await ana(world, "!checkin 14:30 court alias=JM")
    await world.advance_to(chicago("2026-03-03 14:30"))
    await world.restart(down_until=chicago("2026-03-03 15:30"))
    sent = await world.advance(datetime.resolution)
    assert to(world, sent, BEA_DM) == []
    assert to(world, sent, ANA_DM)[0].startswith("I was offline")
    assert "Qué bueno que estás bien" in await ana(world, "!estoybien")
    assert direct(await world.advance_to(chicago("2026-03-03 17:00"))) == []


async def test_a_check_in_across_the_night_the_clocks_change(tmp_path: Path) -> None:
    # Saturday 7 March 2026, 23:00 in Chicago; at 02:00 the clocks jump to 03:00.
    world = await start(tmp_path, chicago("2026-03-07 23:00"))
    try:
        # A time the clocks skip becomes the time they resume at.
        assert "TOMORROW at 03:30" in await ana(world, "!checkin 02:30 alias=JM")
        assert "TOMORROW at 03:30" in await ana(world, "!checkin 03:30 alias=JM")
        assert direct(await world.advance_to(chicago("2026-03-08 01:59"))) == []
        asked = await world.advance_to(chicago("2026-03-08 03:30"))  # 3.5 h later, not 4.5
        assert world.clock is not None
        assert world.clock.now == chicago("2026-03-08 03:30")
        assert to(world, asked, ANA_DM)[0].startswith("It is 03:30")
    finally:
        await world.stop()


async def test_spanish_throughout(world: PluginWorld) -> None:
    await world.say(ANA_DM, ANA, "!idioma es", direct=True)
    assert "Le pregunté" in await ana(world, f"!contactos agregar {BEA}")
    code = re.search(r"!accept (\d{6})", world.last(BEA_DM))
    assert code is not None
    await world.say(BEA_DM, BEA, "!idioma es", direct=True)  # asked: the bot answers her
    thanks = to(world, await world.say(BEA_DM, BEA, f"!acepto {code[1]}", direct=True), BEA_DM)
    assert thanks[0].startswith("Gracias: ahora eres contacto de emergencia")
    assert world.last(ANA_DM) == f"{BEA} aceptó ser tu contacto de emergencia."
    answer = await ana(world, "!aviso 9:00 corte apodo=JM")
    assert "MAÑANA a las 09:00 (hora de Pilsen;" in answer
    await world.advance_to(chicago("2026-03-04 09:00"))
    assert world.last(ANA_DM).startswith("Son las 09:00")
    await world.advance_to(chicago("2026-03-04 09:15"))
    assert world.last(BEA_DM).startswith("JM no se reportó después de su cita en corte")
    assert "Avisé a tu 1 contacto" in await ana(world, "!bien")


# --- accompaniment ----------------------------------------------------------------------------


async def test_an_accompaniment_becomes_a_nameless_shift_and_a_claim_asks_first(
    world: PluginWorld,
) -> None:
    answer = await ana(world, "!accompany 2026-03-10 09:00 court")
    assert "court on 2026-03-10 09:00" in answer
    shift = await shift_of(world, "accompaniment-court")
    roster = world.last("dispatch")
    assert "09:00–11:00" in roster and "ana" not in roster.lower()
    await world.say("dispatch", VERA, f"!claim {shift}")
    assert world.last(ANA_DM).startswith(
        "Someone took your accompaniment to your court on 2026-03-10 09:00"
    )
    assert world.texts(VERA_DM) == []  # nothing before she says yes
    assert "Answer !share yes" in await ana(world, "!share maybe")
    assert "each have the other's contact" in await ana(world, "!share yes")
    assert world.last(ANA_DM) == (
        f"Your companion can be reached at {VERA}. Write to them to agree where to meet."
    )
    assert world.last(VERA_DM).endswith(f"The person can be reached at {ANA}.")
    assert "Nobody is waiting" in await ana(world, "!share yes")


async def test_a_person_may_decline_to_share(world: PluginWorld) -> None:
    await world.say(ANA_DM, ANA, "!idioma es", direct=True)
    assert "corte el 2026-03-10 09:00" in await ana(world, "!acompañar 2026-03-10 09:00 corte")
    shift = await shift_of(world, "acompanar-corte")
    await world.say("dispatch", VERA, f"!claim {shift}")
    assert "no se comparte" in await ana(world, "!compartir no")
    assert world.texts(VERA_DM) == [
        "The person you offered to accompany prefers not to share contact details. Thank you."
    ]
    assert ANA not in world.texts(VERA_DM)[0]


async def test_accompaniment_bad_input(world: PluginWorld) -> None:
    assert "!accompany 2026-03-10 09:00 court" in await ana(world, "!accompany tuesday")
    assert "!accompany" in await ana(world, "!accompany 2026-13-40 09:00 court")
    assert "passed" in await ana(world, "!accompany 2026-03-02 09:00 court")
    answer = await ana(world, "!accompany tomorrow 09:00 checkin little-village")
    assert "keeps no rota" in answer


# --- privacy ----------------------------------------------------------------------------------


async def test_forgetme_erases_plan_contacts_and_the_case_alias(world: PluginWorld) -> None:
    await with_contacts(world)
    await ana(world, "!checkin 14:30 Broadview alias=Tia Rosa")
    await ana(world, "!accompany 2026-03-10 09:00 court")
    await world.advance_to(chicago("2026-03-03 14:45"))
    raw = world.raw_bytes()
    # (The test network's direct chats are named after people; ids are scanned on Synapse.)
    for secret in (b"Broadview", b"Tia Rosa"):
        assert secret not in raw
    answer = await ana(world, "!forgetme yes")
    assert "Your check-in plan, emergency contacts and accompaniment requests were erased" in (
        answer
    )
    assert cases(world).forgotten == ["C7K3"]
    assert "no check-in open" in await ana(world, "!safe")
    assert "You have no emergency contacts" in await ana(world, "!contacts")
