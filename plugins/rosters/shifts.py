"""Shift generation: the sites' windows, `days_ahead` days ahead, in each site's calendar.

Generation is idempotent: a shift is keyed by (site, window, day), so running it again only
creates what is missing, updates what the config changed, and cancels future shifts that no
longer exist (a skip date, a removed window or site). Times are computed from the site's
wall clock, so 07:30 stays 07:30 across daylight-saving changes.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import date, datetime, timedelta

from plugins.rosters.config import RostersSection
from plugins.rosters.model import Site
from plugins.rosters.reminders import Reminders
from plugins.rosters.sites import SiteBook
from plugins.rosters.store import Change, RosterStore
from plugins.rosters.windows import WatchWindow

log = logging.getLogger(__name__)


@dataclass
class Generated:
    created: int = 0
    cancelled: int = 0


def planned(site: Site, first: date, days: int) -> Iterator[tuple[date, WatchWindow]]:
    """(day, window) for every shift of the site in `days` days from `first`, and every
    one-off shift from `first` on however far ahead: it was asked for on that date, and
    whoever asked needs its shift now."""
    for offset in range(days):
        day = first + timedelta(days=offset)
        if day in site.skip:
            continue
        for window in site.windows:
            if window.on is None and window.falls_on(day):
                yield day, window
    for window in site.windows:
        if window.on is not None and window.on >= first:
            yield window.on, window


class ShiftPlanner:
    def __init__(
        self,
        config: RostersSection,
        sites: SiteBook,
        store: RosterStore,
        reminders: Reminders,
        now: Callable[[], datetime],
    ) -> None:
        self._config = config
        self._sites = sites
        self._store = store
        self._reminders = reminders
        self._now = now

    async def generate(self, *, replan: bool = False) -> Generated:
        """Bring future shifts in line with the sites. `replan` re-schedules the jobs of
        every future shift (at start, when config times may have changed)."""
        now = self._now()
        result = Generated()
        wanted: set[int] = set()
        for site in self._sites.all():
            key = self._sites.key(site.slug)
            for day, window in planned(site, site.today(now), self._config.days_ahead):
                starts_at = site.moment(day, window.start)
                if starts_at <= now:
                    continue
                shift, change = await self._store.upsert(
                    key, window, day, starts_at, site.moment(day, window.end)
                )
                wanted.add(shift.id)
                result.created += change is Change.NEW
                if replan or change in (Change.NEW, Change.MOVED):
                    await self._reminders.plan(shift, site, moved=change is Change.MOVED)
        for shift in await self._store.upcoming(now):
            if shift.id not in wanted:
                claims = await self._store.cancel(shift.id)
                await self._reminders.drop(shift)
                await self._reminders.cancelled(shift, claims)
                result.cancelled += 1
        if result.created or result.cancelled:
            log.info("shifts: %d created, %d cancelled", result.created, result.cancelled)
        return result

    async def purge(self) -> int:
        cutoff = self._now() - timedelta(days=self._config.retention_days)
        purged = await self._store.purge(cutoff)
        if purged:
            log.info("purged %d past shifts", purged)
        return purged
