"""The rooms, people and config templates of the test networks, all in one place.

`SIGHTINGS`: two Pilsen neighborhood rooms (English, Spanish), a Little Village one and a
moderation room for each area, with moderators rosa and luis.
`ROSTERS`: two school-watch rooms with a site each (Whittier, Juárez) and a neighborhood
room, with an admin, a moderator and a coordinator.
`DISPATCH`: a Pilsen neighborhood room, its moderation room, two Pilsen dispatch rooms
(English, Spanish; the English one keeps the on-call rota) and a Little Village one.
`TREE`: nested areas, Chicago > Pilsen > two zones (East, near West), with alerts,
neighborhood, moderation and dispatch rooms at several levels.
`CONSOLE`: the one room of the console transport.

Every template has a `{data}` field (see `testkit.config.write_settings`); a `Network`'s
other fields have defaults that a test may override.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

from bot.core.plugin import Plugin
from plugins.dispatch import Dispatch
from plugins.relay import Relay
from plugins.rosters import Rosters
from plugins.sightings import Sightings
from plugins.zones import ZonesPlugin as Zones


@dataclass(frozen=True)
class Network:
    """A config template, its fields' defaults, and the plugins it is written for."""

    template: str
    defaults: Mapping[str, str]
    plugins: tuple[type[Plugin], ...]


# --- sightings ------------------------------------------------------------------------------

PILSEN_EN = "pilsen-en"
PILSEN_ES = "pilsen-es"
VILLITA = "villita"
MODS = "mods"
MODS_LV = "mods-lv"
MODERATORS = ("rosa", "luis")

# `reports`: lines of the [reports] table; `rooms`: more [[rooms]] tables, at the end.
SIGHTINGS = Network(
    template="""
moderators = ["rosa", "luis"]

[bot]
data_dir = "{data}"

[reports]
timezone = "America/Chicago"
{reports}

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"

[[areas]]
slug = "little-village"
name_en = "Little Village"
name_es = "La Villita"

[[rooms]]
id = "pilsen-en"
transport = "console"
role = "neighborhood"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "pilsen-es"
transport = "console"
role = "neighborhood"
areas = ["pilsen"]
language = "es"

[[rooms]]
id = "villita"
transport = "console"
role = "neighborhood"
areas = ["little-village"]
language = "es"

[[rooms]]
id = "mods"
transport = "console"
role = "moderation"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "mods-lv"
transport = "console"
role = "moderation"
areas = ["little-village"]
language = "es"
{rooms}""",
    defaults={"reports": "", "rooms": ""},
    plugins=(Sightings, Rosters),
)

# --- rosters --------------------------------------------------------------------------------

WHITTIER = "whittier-room"  # English watch room of the Whittier site
JUAREZ = "juarez-room"  # Spanish watch room of the Juárez site
HOOD = "pilsen-hood"  # a neighborhood room: no roster commands there
CHICAGO = "America/Chicago"

ADMIN = "@ana:example.org"
MODERATOR = "@rosa:example.org"
COORDINATOR = "@coco:example.org"
MARIA = "@maria:example.org"
JUAN = "@juan:example.org"
LUPE = "@lupe:example.org"
PEDRO = "@pedro:example.org"

WINDOWS = '["dropoff mon-fri 07:30-08:15 need 2 max 3", "pickup mon-fri 14:45-15:30 need 2"]'

# `rosters`: lines of the [rosters] table; `windows` and `skip`: the Whittier site's.
ROSTERS = Network(
    template="""
admins = ["@ana:example.org"]
moderators = ["@rosa:example.org"]

[bot]
data_dir = "{data}"
commands_per_minute = 1000

[rosters]
{rosters}

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"

[[rooms]]
id = "whittier-room"
transport = "console"
role = "watch"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "juarez-room"
transport = "console"
role = "watch"
areas = ["pilsen"]
language = "es"

[[rooms]]
id = "pilsen-hood"
transport = "console"
role = "neighborhood"
areas = ["pilsen"]

[[sites]]
slug = "whittier"
name = "Whittier Elementary"
area = "pilsen"
timezone = "America/Chicago"
room = "whittier-room"
windows = {windows}
skip = {skip}
coordinators = ["@coco:example.org"]

[[sites]]
slug = "juarez"
name = "Escuela Juárez"
area = "pilsen"
timezone = "America/Chicago"
room = "juarez-room"
windows = ["entrada lun-vie 07:45-08:15 necesita 1"]
""",
    defaults={"rosters": "", "windows": WINDOWS, "skip": "[]"},
    plugins=(Rosters,),
)


def chicago(text: str) -> datetime:
    """`"2026-03-09 07:30"` in Chicago wall-clock time, as an aware UTC datetime."""
    local = datetime.fromisoformat(text).replace(tzinfo=ZoneInfo(CHICAGO))
    return local.astimezone(UTC)


def wall(moment: datetime) -> str:
    """An instant as Chicago wall-clock text, to assert on what people would see."""
    return moment.astimezone(ZoneInfo(CHICAGO)).strftime("%Y-%m-%d %H:%M")


MONDAY = chicago("2026-03-02 09:00")  # when a rosters world starts unless told otherwise

# --- dispatch ------------------------------------------------------------------------------

HOOD_EN = "hood"  # the Pilsen neighborhood room, where reports come in
MODS_PILSEN = "mods"
DISPATCH_EN = "dispatch-en"  # keeps the Pilsen on-call rota
DISPATCH_ES = "dispatch-es"
DISPATCH_LV = "dispatch-lv"  # Little Village's: never hears of Pilsen

# `dispatch`: lines of the [dispatch] table; `windows`: the on-call rota's.
DISPATCH = Network(
    template="""
moderators = ["rosa"]
admins = ["ada"]

[bot]
data_dir = "{data}"
commands_per_minute = 1000

[reports]
timezone = "America/Chicago"

[dispatch]
{dispatch}

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
language = "en"

[[rooms]]
id = "mods"
transport = "console"
role = "moderation"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "dispatch-en"
transport = "console"
role = "dispatch"
areas = ["pilsen"]
language = "en"

[[rooms]]
id = "dispatch-es"
transport = "console"
role = "dispatch"
areas = ["pilsen"]
language = "es"

[[rooms]]
id = "dispatch-lv"
transport = "console"
role = "dispatch"
areas = ["little-village"]

[[sites]]
slug = "pilsen-oncall"
name = "Pilsen on call"
area = "pilsen"
timezone = "America/Chicago"
room = "dispatch-en"
windows = {windows}
""",
    defaults={"dispatch": "", "windows": '["oncall mon-sun 06:00-22:00 need 2"]'},
    plugins=(Sightings, Relay, Rosters, Dispatch),
)

# --- the console transport's one room -------------------------------------------------------

# `head` goes before the first table (moderators, admins), `bot` into [bot], `sections` are
# whole tables of their own, `role` the room's role and `room` extra keys of the room.
CONSOLE = """
{head}

[bot]
data_dir = "{data}"
{bot}

{sections}

[[areas]]
slug = "pilsen"
name_en = "Pilsen"
name_es = "Pilsen"

[[rooms]]
id = "console"
transport = "console"
role = "{role}"
areas = ["pilsen"]
{room}
"""

# --- nested areas --------------------------------------------------------------------------

# Chicago > Pilsen > two zones, East and West; East lists West as near. Every room in
# English. Moderation rooms: the city's, Pilsen's and East's (West is moderated by Pilsen's);
# dispatch rooms: the city's, Pilsen's and West's (East is served by Pilsen's).
CITY_ALERTS = "city-alerts"
PILSEN_HOOD = "pilsen-hood"
EAST_HOOD = "east-hood"
WEST_HOOD = "west-hood"
MODS_CITY = "mods-city"
MODS_HOOD = "mods-pilsen"
MODS_EAST = "mods-east"
DISPATCH_CITY = "dispatch-city"
DISPATCH_HOOD = "dispatch-pilsen"
DISPATCH_WEST = "dispatch-west"
_TREE_ROOMS = (
    (CITY_ALERTS, "alerts", "chicago"),
    (PILSEN_HOOD, "neighborhood", "pilsen"),
    (EAST_HOOD, "neighborhood", "pilsen-east"),
    (WEST_HOOD, "neighborhood", "pilsen-west"),
    (MODS_CITY, "moderation", "chicago"),
    (MODS_HOOD, "moderation", "pilsen"),
    (MODS_EAST, "moderation", "pilsen-east"),
    (DISPATCH_CITY, "dispatch", "chicago"),
    (DISPATCH_HOOD, "dispatch", "pilsen"),
    (DISPATCH_WEST, "dispatch", "pilsen-west"),
)

TREE = Network(
    template="""
moderators = ["rosa"]

[bot]
data_dir = "{data}"
commands_per_minute = 1000

[reports]
timezone = "America/Chicago"

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
slug = "pilsen-east"
name_en = "Pilsen East"
name_es = "Pilsen Este"
parent = "pilsen"
near = ["pilsen-west"]

[[areas]]
slug = "pilsen-west"
name_en = "Pilsen West"
name_es = "Pilsen Oeste"
parent = "pilsen"
"""
    + "".join(
        f'\n[[rooms]]\nid = "{room}"\ntransport = "console"\nrole = "{role}"\n'
        f'areas = ["{area}"]\nlanguage = "en"\n'
        for room, role, area in _TREE_ROOMS
    ),
    defaults={},
    plugins=(Sightings, Relay, Rosters, Dispatch),
)

# --- zones ---------------------------------------------------------------------------------

# The nested-areas network with an admin, the zones plugin, and one more room in West that
# its coordinator may rotate: `room` adds lines to it (`rotate_days = 30`, `size_warning`).
ZONE_ADMIN = "ada"
ZONE_COORDINATOR = "cora"
LOOMIS_HOOD = "loomis-hood"
ZONES = Network(
    template='admins = ["ada"]\n'
    + TREE.template
    + f"""
[[rooms]]
id = "{LOOMIS_HOOD}"
transport = "console"
role = "neighborhood"
areas = ["pilsen-west"]
language = "es"
coordinators = ["cora"]
{{room}}
""",
    defaults={"room": ""},
    plugins=(*TREE.plugins, Zones),
)
