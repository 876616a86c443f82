"""Which days `!roster` shows: the coming seven, whatever day of the week it is asked on.

They start today while a shift of today has not ended, else tomorrow: on a Sunday a school's
roster shows the school week ahead, not the one just past. `next` shows the seven after.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from bot.api import RoomRef
from plugins.rosters.model import Site, Staffed
from plugins.rosters.sites import SiteBook
from plugins.rosters.store import RosterStore

SPAN = 7


@dataclass(frozen=True)
class Days:
    """The days shown, their shifts, and the site's skip dates among them (days off)."""

    first: date
    last: date
    shifts: list[Staffed]
    days_off: list[date]


class ComingDays:
    def __init__(self, sites: SiteBook, store: RosterStore, now: Callable[[], datetime]) -> None:
        self._sites = sites
        self._store = store
        self._now = now

    async def of(self, site: Site, *, later: bool = False) -> Days:
        now = self._now()
        today = site.today(now)
        ahead = await self._store.week(
            [self._sites.key(site.slug)], today, today + timedelta(days=2 * SPAN)
        )
        on_today = any(s.shift.day == today and s.shift.ends_at > now for s in ahead)
        first = today + timedelta(days=(0 if on_today else 1) + (SPAN if later else 0))
        last = first + timedelta(days=SPAN - 1)
        # A day off today is worth saying too, though today is not shown.
        since = first if later else today
        return Days(
            first,
            last,
            [s for s in ahead if first <= s.shift.day <= last],
            sorted(day for day in site.skip if since <= day <= last),
        )

    async def with_shifts(self, room: RoomRef) -> str:
        """Which roster of the room has shifts: "coming" (`!roster`), "next" or "none"."""
        for later in (False, True):
            for site in self._sites.in_room(room):
                if (await self.of(site, later=later)).shifts:
                    return "next" if later else "coming"
        return "none"
