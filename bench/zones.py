"""The network changed from chat, and alerts routed through a large one (p99 <= 5 ms each).

Like `bench.processing`, the whole bot runs in this process on the console transport, with
its SQLite database on disk and its durable outbox, and a sample is the wall time of one
`ConsoleTransport.say()`, followed by one sample of the same line said to a host that only
echoes it (the baseline: the harness alone, in the same state of the machine). The outbox
sends what a command queued between samples, untimed.

The network is generated: 200 areas in a tree (a city, 9 neighborhoods, 190 zones; every
fifth zone near the next one, some near a zone across the city) and 500 console rooms of
every role (neighborhood, alerts, moderation, dispatch, watch) at every level: five in
the city and in each neighborhood, a neighborhood room in every zone and 260 more spread
over the zones. About a fifth of the zones have a moderation room of their own; the
others are moderated by their neighborhood's.

Structure commands, typed by an admin: `!rooms` (the listing of the whole network),
`!area add` of a fresh area inside a neighborhood, `!area drop` of it right after (so the
network does not grow), and `!room here` in a room outside the config, alternating two
roles. Each rebuilds and checks the whole network and stores the change.

Alerts: a report is filed in a zone's neighborhood room (untimed, its card sent), then a
moderator types `!confirm` in the moderation room serving the zone. That is the sample:
the decision is stored, and the relay, within the command, works out every room the
zone's alerts reach (the zone, its ancestors, its near zones) and queues one rendered
alert per room in the durable outbox. Sending them is the outbox worker's, after the
command: on the console it is a function call, on Matrix it is `bench.fanout`'s figure;
the worker runs in the same event loop, so what it starts before the command has answered
is counted in the sample. The rooms each alert went to are those of its broadcast. The
same is measured, without a budget, for reports in the city's own room, whose alerts
reach every alert room of the network.
"""

from __future__ import annotations

import itertools
import statistics
import tempfile
from collections import Counter
from collections.abc import AsyncIterator, Callable, Iterator, Sequence
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from functools import partial
from pathlib import Path
from typing import Any

import tomli_w

from bench.common import percentile
from bench.processing import (
    PEOPLE,
    PLACES,
    SIGHTINGS,
    Say,
    drain,
    echo_transport,
    milliseconds,
    p99_figure,
    speaker,
    stats,
)
from bench.report import Figure
from bot.core.config import Settings, load_settings
from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins, default_schema
from bot.storage.keys import DataKey
from bot.transports.console import TRANSPORT, ConsoleTransport
from plugins.relay.plugin import PREFIX as ALERT_TOPIC
from plugins.sightings import FiledReport, ReportFeed

BUDGET_MS = 5.0
CITY = "city"
NEIGHBORHOODS = 9
ZONES = 190
ROOMS = 500
ROLES = ("neighborhood", "alerts", "moderation", "dispatch", "watch")
# The zones' rooms past their neighborhood room, round-robin over the zones; 190 is one
# more than a multiple of 7, so a zone that gets two has two neighbours of this cycle.
EXTRA_ROLES = ("alerts", "watch", "alerts", "moderation", "alerts", "dispatch", "watch")
SHAPE = f"{1 + NEIGHBORHOODS + ZONES} areas, {ROOMS} rooms"
# Several of each, so nobody reaches the limit of 1,000 commands a minute.
ADMINS = tuple(f"admin{n}" for n in range(10))
MODERATORS = tuple(f"mod{n}" for n in range(10))
ADMIN_ROOM = f"moderation-{CITY}"
ADOPTED = "adopted"  # a console room outside the config, adopted from chat
ADOPTED_ROLES = ("neighborhood", "alerts")
ADOPTED_AREA = "z0"


@dataclass(frozen=True)
class Sizes:
    warm_up: int
    structure: int  # samples of each structure command
    alerts: int  # zone reports confirmed
    city_alerts: int  # city reports confirmed


@dataclass(frozen=True)
class Line:
    person: str
    room: str
    text: str


@dataclass(frozen=True)
class Step:
    """A structure command, and whether the network shows it afterwards."""

    command: str
    line: Line
    took: Callable[[Settings], bool]


@dataclass
class Sampled:
    """Milliseconds per sample, the echo host's, and for alerts the rooms each reached."""

    bot: list[float] = field(default_factory=list)
    floor: list[float] = field(default_factory=list)
    rooms: list[int] = field(default_factory=list)


async def measure(sizes: Sizes) -> tuple[list[Figure], dict[str, Any]]:
    with tempfile.TemporaryDirectory(prefix="vecinos-bench-zones-") as tmp:
        async with _running(Path(tmp)) as rig:
            zone, city = await _alert_samples(rig, sizes)
            structure = await _structure_samples(rig, sizes)
    figures = [_command_figure(name, s) for name, s in structure.items()]
    figures += _alert_figures("a zone's report", zone, budget=True)
    figures += _alert_figures("a city report", city, budget=False)
    sampled = {**structure, "confirm (zone)": zone, "confirm (city)": city}
    details = {
        "network": _network_summary(),
        "samples": {name: len(s.bot) for name, s in sampled.items()},
        "ms": {name: stats(s.bot) for name, s in sampled.items()},
        "echo_host_ms": {name: stats(s.floor) for name, s in sampled.items()},
        "rooms_per_alert": {"zone": _spread(zone.rooms), "city": _spread(city.rooms)},
    }
    return figures, details


# --- figures --------------------------------------------------------------------------------


def _command_figure(command: str, sampled: Sampled) -> Figure:
    return p99_figure(f"structure p99, {command}", f"{SHAPE}; ", sampled.bot, sampled.floor)


def _alert_figures(what: str, sampled: Sampled, *, budget: bool) -> list[Figure]:
    p99, spread = percentile(sampled.bot, 99), _spread(sampled.rooms)
    p50 = statistics.median(sampled.bot)
    timed = Figure(
        name=f"alert p99, !confirm of {what} ({SHAPE}; p50 {p50:.2f} ms)",
        value=p99,
        baseline=percentile(sampled.floor, 99),
        unit="ms",
        baseline_name="echo host",
        budget=f"p99 <= {BUDGET_MS:g} ms" if budget else "",
        within=p99 <= BUDGET_MS if budget else None,
        show_ratio=False,
    )
    rooms = Figure(
        name=f"rooms each alert of {what} went to",
        value=spread["median"],
        baseline=None,
        unit="",
        baseline_name="-",
        value_text=f"{spread['min']:g}-{spread['max']:g}, median {spread['median']:g}",
    )
    return [timed, rooms]


def _spread(values: Sequence[int]) -> dict[str, float]:
    return {
        "min": min(values),
        "median": statistics.median(values),
        "max": max(values),
        "mean": statistics.fmean(values),
    }


# --- the network ----------------------------------------------------------------------------


def _areas() -> list[dict[str, Any]]:
    areas: list[dict[str, Any]] = [_area(CITY, "City", "Ciudad", None)]
    areas += [
        _area(_neighborhood(n), f"Neighborhood {n}", f"Barrio {n}", CITY)
        for n in range(NEIGHBORHOODS)
    ]
    for z in range(ZONES):
        zone = _area(f"z{z}", f"Zone {z}", f"Zona {z}", _neighborhood(z * NEIGHBORHOODS // ZONES))
        near = [f"z{z + 1}"] if z % 5 == 0 and z + 1 < ZONES else []
        near += [f"z{(z + ZONES // 2) % ZONES}"] if z % 10 == 3 else []
        areas.append({**zone, "near": near} if near else zone)
    return areas


def _area(slug: str, name_en: str, name_es: str, parent: str | None) -> dict[str, Any]:
    area = {"slug": slug, "name_en": name_en, "name_es": name_es}
    return {**area, "parent": parent} if parent else area


def _neighborhood(n: int) -> str:
    return f"n{n}"


def _rooms() -> list[dict[str, Any]]:
    upper = [CITY, *(_neighborhood(n) for n in range(NEIGHBORHOODS))]
    placed = [(role, area) for area in upper for role in ROLES]
    placed += [("neighborhood", f"z{z}") for z in range(ZONES)]
    extra = ROOMS - len(placed)
    placed += [(EXTRA_ROLES[k % len(EXTRA_ROLES)], f"z{k % ZONES}") for k in range(extra)]
    return [
        {"id": f"{role}-{area}", "transport": TRANSPORT, "role": role, "areas": [area]}
        for role, area in placed
    ]


def _network_summary() -> dict[str, Any]:
    areas, rooms = _areas(), _rooms()
    return {
        "areas": len(areas),
        "near_links": sum(len(area.get("near", ())) for area in areas),
        "rooms": len(rooms),
        "rooms_by_role": dict(Counter(room["role"] for room in rooms)),
    }


def _write_config(workdir: Path) -> Path:
    config = {
        "admins": list(ADMINS),
        "moderators": list(MODERATORS),
        "bot": {"data_dir": str(workdir / "data"), "commands_per_minute": 1000},
        "reports": {"per_person_limit": 100, "timezone": "America/Chicago"},
        "health": {"enabled": False},  # no network in these figures
        "areas": _areas(),
        "rooms": _rooms(),
    }
    path = workdir / "config.toml"
    path.write_text(tomli_w.dumps(config))
    return path


# --- the bot --------------------------------------------------------------------------------


class Rig:
    """The bot on the console transport with the generated network, and the echo host."""

    def __init__(self, app: Application, transport: ConsoleTransport, echo: Say) -> None:
        self.app = app
        self._transport = transport
        self._echo = echo
        self._filed: list[FiledReport] = []

    @property
    def settings(self) -> Settings:
        return self.app.bot.settings

    async def on_filed(self, filed: FiledReport) -> None:
        self._filed.append(filed)

    async def say(self, line: Line) -> None:
        self._transport.current, self._transport.user = line.room, line.person
        await self._transport.say(line.text)

    async def pair(self, line: Line) -> tuple[float, float]:
        """The line said to the bot, the outbox drained (untimed), then to the echo host."""
        bot = await milliseconds(self.say(line))
        await drain(self.app)
        return bot, await milliseconds(self._echo(line.person, line.text))

    async def file_report(self, line: Line) -> str:
        """The id of the report `line` files; its card and acknowledgement sent."""
        filed = len(self._filed)
        await self.say(line)
        await drain(self.app)
        if len(self._filed) != filed + 1:
            raise RuntimeError(f"{line.person} filed no report in {line.room}")
        return self._filed[-1].report_id

    def moderation_room(self, room: str) -> str:
        """The moderation room serving the area of `room` (its own or an ancestor's)."""
        config = self.settings.room(TRANSPORT, room)
        assert config is not None, room
        return self.settings.serving_rooms("moderation", config.areas[0])[0].id

    async def alert_rooms(self, report_id: str) -> int:
        broadcast = await self.app.bot.broadcasts.latest(f"{ALERT_TOPIC}{report_id}")
        if broadcast is None:
            raise RuntimeError(f"confirming {report_id} sent no alert")
        return len(broadcast.targets)


@asynccontextmanager
async def _running(workdir: Path) -> AsyncIterator[Rig]:
    settings = load_settings(_write_config(workdir), env={}, schema=default_schema())
    app = Application(settings, DataKey.generate(), default_plugins())
    rooms = [*(room.id for room in settings.rooms), ADOPTED]
    transport = ConsoleTransport(write=lambda _line: None, rooms=rooms)
    await app.start([transport])
    try:
        rig = Rig(app, transport, speaker(await echo_transport()))
        app.bot.service(ReportFeed).subscribe_filings(rig.on_filed)
        yield rig
    finally:
        await app.stop()


# --- alerts ---------------------------------------------------------------------------------


async def _alert_samples(rig: Rig, sizes: Sizes) -> tuple[Sampled, Sampled]:
    zones = [f"neighborhood-z{z}" for z in range(ZONES)]
    reports = itertools.count()
    await _confirm(rig, zones, sizes.warm_up, reports)
    zone = await _confirm(rig, zones, sizes.alerts, reports)
    city = await _confirm(rig, [f"neighborhood-{CITY}"], sizes.city_alerts, reports)
    return zone, city


async def _confirm(
    rig: Rig, reporting: Sequence[str], count: int, reports: Iterator[int]
) -> Sampled:
    """`count` reports filed in the `reporting` rooms in turn, each confirmed (timed)."""
    sampled = Sampled()
    for n in itertools.islice(reports, count):
        room = reporting[n % len(reporting)]
        report_id = await rig.file_report(Line(f"person{n % PEOPLE}", room, _report(n)))
        moderator = MODERATORS[n % len(MODERATORS)]
        confirm = Line(moderator, rig.moderation_room(room), f"!confirm {report_id}")
        bot, floor = await rig.pair(confirm)
        sampled.bot.append(bot)
        sampled.floor.append(floor)
        sampled.rooms.append(await rig.alert_rooms(report_id))
    return sampled


def _report(n: int) -> str:
    return f"!report {PLACES[n % len(PLACES)]}; {SIGHTINGS[n % len(SIGHTINGS)]}"


# --- structure commands ---------------------------------------------------------------------


async def _structure_samples(rig: Rig, sizes: Sizes) -> dict[str, Sampled]:
    steps = _steps()
    await _structure(rig, itertools.islice(steps, sizes.warm_up * 4))
    return await _structure(rig, itertools.islice(steps, sizes.structure * 4))


async def _structure(rig: Rig, steps: Iterator[Step]) -> dict[str, Sampled]:
    sampled: dict[str, Sampled] = {}
    for step in steps:
        bot, floor = await rig.pair(step.line)
        if not step.took(rig.settings):
            raise RuntimeError(f"{step.line.text!r} did not change the network")
        sampled.setdefault(step.command, Sampled()).bot.append(bot)
        sampled[step.command].floor.append(floor)
    return sampled


def _steps() -> Iterator[Step]:
    """Rounds of `!rooms`, `!area add`, `!area drop` of that area, `!room here`."""
    for n in itertools.count():
        admin, slug, role = ADMINS[n % len(ADMINS)], f"tmp{n}", ADOPTED_ROLES[n % 2]
        parent = _neighborhood(n % NEIGHBORHOODS)
        added = f"!area add {slug} in {parent} Temp {n} / Temporal {n}"
        yield Step("!rooms", Line(admin, ADMIN_ROOM, "!rooms"), _unchanged)
        yield Step("!area add", Line(admin, ADMIN_ROOM, added), partial(_has_area, slug))
        yield Step(
            "!area drop", Line(admin, ADMIN_ROOM, f"!area drop {slug}"), partial(_lacks_area, slug)
        )
        here = f"!room here {role} {ADOPTED_AREA}"
        yield Step("!room here", Line(admin, ADOPTED, here), partial(_adopted_as, role))


def _unchanged(settings: Settings) -> bool:
    return True


def _has_area(slug: str, settings: Settings) -> bool:
    return settings.area(slug) is not None


def _lacks_area(slug: str, settings: Settings) -> bool:
    return settings.area(slug) is None


def _adopted_as(role: str, settings: Settings) -> bool:
    room = settings.room(TRANSPORT, ADOPTED)
    return room is not None and room.role == role
