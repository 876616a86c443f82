"""The check-ins plugin's config: ``[checkins]``."""

from __future__ import annotations

import zoneinfo
from datetime import timedelta

from pydantic import Field

from bot.api import Settings
from bot.api.config import (
    PluginConfig,
    Problem,
    Section,
    Slug,
    TimeZone,
    system_time_zone,
    unknown_area,
)


class CheckinsSection(Section):
    """``[checkins]``: safety check-ins, emergency contacts, accompaniment requests."""

    # After the time of a check-in without `!safe`, the person is asked once; this long
    # after that, their contacts and the legal team are told.
    grace_minutes: int = Field(default=15, ge=1, le=240)
    # A request to be someone's emergency contact can be accepted this long.
    request_hours: int = Field(default=48, ge=1, le=720)
    # How long an accompaniment shift on the dispatch rota lasts.
    accompaniment_minutes: int = Field(default=120, ge=15, le=720)
    # The areas' wall clock ("!checkin 14:30" is read in it); unset, the machine's.
    timezone: TimeZone | None = None
    # Areas on another clock than `timezone` (their inner areas follow them).
    area_timezones: dict[Slug, TimeZone] = Field(default_factory=dict)

    @property
    def grace(self) -> timedelta:
        return timedelta(minutes=self.grace_minutes)

    def zone(self, settings: Settings, area: str) -> zoneinfo.ZoneInfo:
        for slug in (area, *settings.ancestors(area)):
            if slug in self.area_timezones:
                return zoneinfo.ZoneInfo(self.area_timezones[slug])
        return zoneinfo.ZoneInfo(self.timezone or system_time_zone())


class CheckinsConfig(PluginConfig):
    checkins: CheckinsSection = Field(default_factory=CheckinsSection)

    def problems(self, settings: Settings) -> list[Problem]:
        known = {area.slug for area in settings.areas}
        return [
            (("checkins", "area_timezones", slug), unknown_area(slug, known))
            for slug in self.checkins.area_timezones
            if slug not in known
        ]
