"""The sightings plugin's config: ``[reports]``."""

from __future__ import annotations

import zoneinfo
from typing import Self

from pydantic import Field, model_validator

from bot.api import Settings
from bot.api.config import (
    PluginConfig,
    Problem,
    Section,
    TimeZone,
    problems_error,
    system_time_zone,
)


class ReportsSection(Section):
    """``[reports]``: sighting reports and their moderation."""

    # Undecided reports (new / needs info) expire after this long without a decision.
    expire_hours: int = Field(default=4, ge=1, le=72)
    # Closed reports are erased this long after they were closed.
    retention_days: int = Field(default=7, ge=1, le=365)
    # A sighting observed longer ago than this is flagged stale (still accepted).
    stale_minutes: int = Field(default=30, ge=1, le=1440)
    # Reports one person may file per window; more get a polite "please wait".
    per_person_limit: int = Field(default=5, ge=1, le=100)
    per_person_window_minutes: int = Field(default=10, ge=1, le=1440)
    # A confirmed alert with no update for this long may be over: it says so everywhere and
    # the moderators are asked for an update or an all clear.
    alert_stale_hours: int = Field(default=2, ge=1, le=48)
    # ... and after this long without an update it closes as expired.
    alert_expire_hours: int = Field(default=12, ge=2, le=168)
    # A guided report dialog is dropped after this long without an answer.
    dialog_timeout_minutes: int = Field(default=10, ge=1, le=120)
    # A report message that carries a plate is removed from the room once it is filed,
    # where the bot has the power to (Matrix: redact), and the reporter is told why...
    redact_plates: bool = True
    # ... except in these rooms (ids of [[rooms]]).
    keep_plates_in: tuple[str, ...] = ()
    # Local time of the areas: "when: 14:05" is read, and times are shown, in this zone;
    # unset, the machine's.
    timezone: TimeZone | None = None

    @model_validator(mode="after")
    def _stale_before_expiry(self) -> Self:
        if self.alert_expire_hours <= self.alert_stale_hours:
            message = f"must be more than alert_stale_hours ({self.alert_stale_hours})"
            raise problems_error([(("alert_expire_hours",), message)])
        return self

    def zone(self) -> zoneinfo.ZoneInfo:
        return zoneinfo.ZoneInfo(self.timezone or system_time_zone())


_UTC = {"UTC", "Etc/UTC", "Etc/UCT", "UCT", "Etc/Universal", "Universal", "Zulu", "Etc/Zulu"}


class SightingsConfig(PluginConfig):
    reports: ReportsSection = Field(default_factory=ReportsSection)

    def problems(self, settings: Settings) -> list[Problem]:
        rooms = {room.id for room in settings.rooms}
        return [
            (("reports", "keep_plates_in", index), f'"{room}" is not a room in [[rooms]]')
            for index, room in enumerate(self.reports.keep_plates_in)
            if room not in rooms
        ]

    def warnings(self, settings: Settings) -> list[str]:
        fix = 'set [reports] timezone = "America/Chicago" (your zone)'
        if self.reports.timezone is None and system_time_zone() == "UTC":
            return [
                "reports.timezone is not set and this machine's time zone is UTC, so people "
                f"see UTC times; {fix}"
            ]
        if self.reports.timezone in _UTC:
            # `vecinos init` on a server set to UTC writes it: rarely the areas' own clock.
            return [
                f"reports.timezone is UTC: people see UTC times; if they do not live by it, {fix}"
            ]
        return []
