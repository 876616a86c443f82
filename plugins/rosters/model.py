"""What a roster is made of: sites with windows, the shifts generated from them, and claims."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, date, datetime, time
from zoneinfo import ZoneInfo

from bot.api import RoomRef
from plugins.rosters.windows import WatchWindow


@dataclass(frozen=True)
class Site:
    slug: str
    name: str
    area: str
    timezone: str
    room: RoomRef
    windows: tuple[WatchWindow, ...]
    skip: frozenset[date]
    coordinators: tuple[str, ...]

    @property
    def zone(self) -> ZoneInfo:
        return ZoneInfo(self.timezone)

    def window(self, name: str) -> WatchWindow | None:
        return next((w for w in self.windows if w.name == name), None)

    def today(self, now: datetime) -> date:
        return now.astimezone(self.zone).date()

    def moment(self, day: date, at: time) -> datetime:
        """The UTC instant of a wall-clock time at the site.

        A time skipped by a daylight-saving change (02:30 on the spring-forward day) is
        read with the offset before the change, so it lands one hour later on the clock.
        """
        return datetime.combine(day, at, tzinfo=self.zone).astimezone(UTC)

    def local(self, moment: datetime) -> datetime:
        return moment.astimezone(self.zone)


@dataclass(frozen=True)
class Shift:
    id: int
    site: str  # keyed hash of the site slug
    window: str
    day: date
    starts_at: datetime
    ends_at: datetime
    need: int
    cap: int
    cancelled: bool = False


@dataclass(frozen=True)
class Claim:
    shift_id: int
    person: str
    user_id: str
    offered: bool
    checked_in: bool
    checked_out: bool


@dataclass(frozen=True)
class Staffed:
    """A shift with the claims on it."""

    shift: Shift
    claims: tuple[Claim, ...]

    @property
    def taken(self) -> int:
        return len(self.claims)

    @property
    def short(self) -> bool:
        return self.taken < self.shift.need

    def holds(self, person: str) -> Claim | None:
        return next((c for c in self.claims if c.person == person), None)

    @property
    def offered(self) -> bool:
        return any(c.offered for c in self.claims)


class RosterError(Exception):
    """Something a person asked for that cannot be done; `key` names the localized answer."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params
