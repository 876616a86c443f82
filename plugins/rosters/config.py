"""The rosters plugin's config: ``[rosters]`` and the schools, ``[[sites]]``."""

from __future__ import annotations

from datetime import date, time
from typing import Annotated, Self

from pydantic import AfterValidator, Field, model_validator

from bot.api import ALERTS, REPORTS, Level, Role, Settings
from bot.api.config import (
    ClockTime,
    PluginConfig,
    Problem,
    Section,
    Slug,
    Text,
    TimeZone,
    UserId,
    problems_error,
    unknown_area,
)
from plugins.rosters.windows import WindowError, parse_window


def _window(value: str) -> str:
    try:
        parse_window(value)
    except WindowError as exc:
        raise ValueError(str(exc)) from None
    return value


WindowText = Annotated[str, AfterValidator(_window)]

# The trait of rooms that keep a roster: a site's shifts are claimed there. Another plugin
# whose room role has it (a dispatch room's on-call rota) gets the roster commands there.
ROTA = "rota"
ROTA_ROOMS = frozenset({ROTA})
# The room role of a site's watch team: volunteers, who also file reports and hear alerts.
WATCH_ROLE = Role("watch", Level.VOLUNTEER, frozenset({ALERTS, REPORTS, ROTA}))


class RostersSection(Section):
    """``[rosters]``: school watch rosters; the schools themselves are ``[[sites]]``."""

    # Shifts are created this many days ahead.
    days_ahead: int = Field(default=14, ge=1, le=60)
    # Past shifts, with who claimed and checked in, are erased this long after they ended.
    retention_days: int = Field(default=14, ge=1, le=365)
    # Site-local time of the reminder on the evening before a shift.
    evening_reminder: ClockTime = "18:00"
    # The second reminder comes this many minutes before the start.
    reminder_minutes: int = Field(default=30, ge=1, le=240)
    # A shift below its need is announced, with the backup pool, this many hours ahead.
    coverage_hours: tuple[Annotated[int, Field(ge=1, le=72)], ...] = (24, 2)
    # The site's coordinators are told when nobody checked in this long after the start.
    checkin_minutes: int = Field(default=10, ge=1, le=120)

    def evening_time(self) -> time:
        return time.fromisoformat(self.evening_reminder)


class SiteConfig(Section):
    """``[[sites]]``: a school that a watch room covers, with its shift windows."""

    slug: Slug
    name: Text
    area: Slug
    timezone: TimeZone
    # The id of a watch room in [[rooms]].
    room: Text
    windows: tuple[WindowText, ...] = ()
    # Dates without shifts (holidays), in the site's calendar.
    skip: tuple[date, ...] = ()
    coordinators: tuple[UserId, ...] = ()

    @model_validator(mode="after")
    def _check_window_names(self) -> Self:
        first: dict[str, int] = {}
        problems: list[Problem] = []
        for index, text in enumerate(self.windows):
            name = parse_window(text).name
            if name in first:
                problems.append((("windows", index), f'window "{name}" is defined twice'))
            first.setdefault(name, index)
        if problems:
            raise problems_error(problems)
        return self


class RostersConfig(PluginConfig):
    rosters: RostersSection = Field(default_factory=RostersSection)
    sites: tuple[SiteConfig, ...] = ()

    def problems(self, settings: Settings) -> list[Problem]:
        if not self.sites:  # checked on every change of the network from chat
            return []
        known = {area.slug for area in settings.areas}
        fitting = settings.roles_fitting(ROTA_ROOMS)
        # A room fits when its role does (`room_fits`): the roles are looked up once.
        rota_roles = frozenset(fitting)
        rota_rooms = {room.id for room in settings.rooms if room.role in rota_roles}
        roles = " or ".join(f'role = "{role}"' for role in fitting)
        first: dict[str, int] = {}
        problems: list[Problem] = []
        for index, site in enumerate(self.sites):
            if site.area not in known:
                problems.append((("sites", index, "area"), unknown_area(site.area, known)))
            if settings.room_now(site.room) not in rota_rooms:
                message = f'"{site.room}" is not a room with {roles} in [[rooms]]'
                problems.append((("sites", index, "room"), message))
            if site.slug in first:
                message = f"duplicate of sites[{first[site.slug]}]"
                problems.append((("sites", index, "slug"), message))
            first.setdefault(site.slug, index)
        return problems
