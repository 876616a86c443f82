"""What the rosters plugin publishes for other plugins: `bot.service(Rotas)`.

A room whose role has the `ROTA` trait keeps a roster: sites (or on-call rotas) attached to
it have shifts that people claim with the roster commands. Another plugin asks who holds a
shift there now, and who stands by in its backup pool, to call them first; and when the
next shift starts, to hand over to the incoming team.
"""

from __future__ import annotations

from datetime import datetime

from bot.api import RoomRef
from plugins.rosters.sites import SiteBook
from plugins.rosters.store import RosterStore


class Rotas:
    def __init__(self, sites: SiteBook, store: RosterStore) -> None:
        self._sites = sites
        self._store = store

    async def on_duty(self, room: RoomRef, at: datetime) -> list[str]:
        """User ids holding a shift of `room`'s rosters running at `at`, checked in first."""
        sites = [self._sites.key(site.slug) for site in self._sites.in_room(room)]
        if not sites:
            return []
        claims = [c for staffed in await self._store.around(sites, at, at) for c in staffed.claims]
        claims.sort(key=lambda claim: not claim.checked_in)
        return list(dict.fromkeys(claim.user_id for claim in claims))

    async def backup_pool(self, room: RoomRef) -> list[str]:
        """User ids in the backup pools of `room`'s rosters, longest-standing first."""
        pool: list[str] = []
        for site in self._sites.in_room(room):
            pool += (await self._store.backups(self._sites.key(site.slug))).values()
        return list(dict.fromkeys(pool))

    async def next_shift_start(self, room: RoomRef, after: datetime) -> datetime | None:
        """When the next shift of `room`'s rosters starts after `after` (the on-call team
        changes hands then), or None if none is planned. Times follow each site's wall
        clock, across daylight-saving changes."""
        sites = {self._sites.key(site.slug) for site in self._sites.in_room(room)}
        if not sites:
            return None
        return next(
            (shift.starts_at for shift in await self._store.upcoming(after) if shift.site in sites),
            None,
        )
