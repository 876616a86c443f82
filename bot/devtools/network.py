"""The small network `vecinos demo` (on a local Synapse) and `vecinos console` (in this
terminal) both set up: two areas, a room of every kind, a school watch site, people to play,
and a walk-through of the whole flow (report, card, confirm, alert, dispatch, roster)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from bot.core.config import Language

BOT = "vecinos"
ADMIN = "admin"
MODERATOR = "mod"
# Sample people and what they play.
PEOPLE = {
    "ana": "neighbor",
    "beto": "neighbor and responder",
    MODERATOR: "moderator",
    ADMIN: "admin",
}
HOTLINE = "(773) 555-0100 (sample number)"

AREAS = (
    {"slug": "pilsen", "name_en": "Pilsen", "name_es": "Pilsen"},
    {"slug": "little-village", "name_en": "Little Village", "name_es": "La Villita"},
)


@dataclass(frozen=True)
class SampleRoom:
    name: str
    # Short and typeable: the console's room id (`/room pilsen`).
    short: str
    role: str
    areas: tuple[str, ...]
    members: tuple[str, ...] = ()  # sample people in it (the admin is in every room)
    moderators: tuple[str, ...] = ()  # given moderator power in the room
    language: Language = "en"  # written into every room's config


ROOMS = (
    SampleRoom(
        "Pilsen – vecinos", "pilsen", "neighborhood", ("pilsen",), ("ana", "beto"), language="es"
    ),
    SampleRoom(
        "Little Village – vecinos", "villita", "neighborhood", ("little-village",), ("beto",)
    ),
    SampleRoom(
        "Moderación",
        "moderacion",
        "moderation",
        ("pilsen", "little-village"),
        (MODERATOR,),
        moderators=(MODERATOR,),
    ),
    SampleRoom("Alertas", "alertas", "alerts", ("pilsen", "little-village"), language="es"),
    SampleRoom("Despacho Pilsen", "despacho", "dispatch", ("pilsen",), ("beto",)),
    SampleRoom(
        "Escuela Jungman – vigilancia",
        "jungman",
        "watch",
        ("pilsen",),
        ("ana", "beto"),
        language="es",
    ),
)
# The school the watch room covers, so `!roster` / `!turnos` work out of the box.
WATCH_SITE = {
    "slug": "jungman",
    "name": "Escuela Jungman",
    "area": "pilsen",
    "timezone": "America/Chicago",
    "windows": ["entrada mon-fri 07:30-08:15 need 2 max 4", "salida mon-fri 14:45-15:30 need 2"],
}


def rooms_of(person: str) -> list[SampleRoom]:
    """The rooms a sample person is in."""
    return [room for room in ROOMS if person == ADMIN or person in room.members]


def sample_config(room_ids: dict[str, str], people: dict[str, str]) -> dict[str, Any]:
    """The config's people, areas, rooms, site and hotline; `room_ids` by room name and
    `people` (user ids) by sample name. The transport's own section is the caller's."""
    admin = people[ADMIN]
    watch = next(room for room in ROOMS if room.role == "watch")
    return {
        "admins": [admin],
        "moderators": [people[MODERATOR]],
        "reports": {"timezone": "America/Chicago"},
        "resources": {"hotline": HOTLINE},
        "areas": list(AREAS),
        "rooms": [_room_config(room, room_ids[room.name]) for room in ROOMS],
        "sites": [{**WATCH_SITE, "room": room_ids[watch.name], "coordinators": [admin]}],
    }


def _room_config(room: SampleRoom, room_id: str) -> dict[str, Any]:
    # Every room says its language: a room without one would speak the bot's default.
    return {
        "id": room_id,
        "role": room.role,
        "areas": list(room.areas),
        "language": room.language,
    }


def walkthrough(names: dict[str, str]) -> list[str]:
    """What to try as whom, in order; `names` gives each sample room's name as the reader
    finds it (its Matrix room name, or its console room id)."""

    def at(room: str) -> str:
        return names[room]

    return [
        "Try the whole flow:",
        f"  1. As ana in {at('Pilsen – vecinos')}: !reporte 18 y Ashland; dos agentes deteniendo",
        f"     (verifiers are called in {at('Despacho Pilsen')}; as beto there: !going ID 10)",
        f"  2. As mod in {at('Moderación')}: the card is there; !confirm ID (its id, like R7K3)",
        f"  3. The alert reaches {at('Pilsen – vecinos')} and {at('Alertas')},"
        f" not {at('Little Village – vecinos')}: another area",
        "  4. Anyone, anywhere: !status, !rights, !hotline; !ayuda in Spanish",
        f"  5. As ana in {at('Escuela Jungman – vigilancia')}: !turnos, then !tomar TURNO",
    ]
