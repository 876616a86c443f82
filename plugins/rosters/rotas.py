"""What the rosters plugin publishes for other plugins: `bot.service(Rotas)`.

A room whose role has the `ROTA` trait keeps a roster: sites (or on-call rotas) attached to
it have shifts that people claim with the roster commands. Another plugin asks who holds a
shift there now, and who stands by in its backup pool, to call them first; and when the
next shift starts, to hand over to the incoming team. It may also put a one-off shift on a
roster (going with someone to a hearing) and hear when someone claims a shift.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime, time

from bot.api import RoomRef
from plugins.rosters.model import Site
from plugins.rosters.shifts import ShiftPlanner
from plugins.rosters.sites import SiteBook
from plugins.rosters.store import RosterStore
from plugins.rosters.windows import MAX_PEOPLE, WatchWindow, fold

log = logging.getLogger(__name__)

_NOT_NAME = re.compile(r"[^a-z0-9-]+")
_NAME_LENGTH = 20
# A one-off shift that would run past midnight ends at the day's last minute.
_LAST_MINUTE = time(23, 59)


@dataclass(frozen=True)
class ClaimedShift:
    shift: str  # the shift's number, as people type it: `!claim 42`
    user_id: str  # who claimed it (to reach them by direct message)
    room: RoomRef  # the roster's room


ClaimListener = Callable[[ClaimedShift], Awaitable[None]]


class Rotas:
    def __init__(
        self,
        sites: SiteBook,
        store: RosterStore,
        planner: ShiftPlanner,
        now: Callable[[], datetime],
    ) -> None:
        self._sites = sites
        self._store = store
        self._planner = planner
        self._now = now
        self._listeners: list[ClaimListener] = []

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

    async def add_one_off(
        self, room: RoomRef, label: str, starts_at: datetime, ends_at: datetime, need: int = 1
    ) -> str:
        """A one-off shift (e.g. "accompaniment", "hearing") on the roster kept in `room`
        (a room whose role has the ROTA trait: an area's dispatch room), reminded like any
        shift; returns its shift number. Raises LookupError when `room` keeps no roster,
        ValueError when the shift would not start in the future."""
        here = sorted(self._sites.in_room(room), key=lambda site: site.slug)
        if not here:
            raise LookupError("this room keeps no roster")
        site = here[0]
        window = _one_off(site, label, starts_at, ends_at, need)
        assert window.on is not None
        await self._sites.add_one_off(site, window, site.today(self._now()))
        await self._planner.generate()
        shift = await self._store.find(self._sites.key(site.slug), window.name, window.on)
        if shift is None or shift.starts_at <= self._now():
            raise ValueError("a one-off shift must start in the future")
        return str(shift.id)

    def on_claimed(self, listener: ClaimListener) -> None:
        """Called after someone claims any shift (the listener filters the ids it made)."""
        self._listeners.append(listener)

    async def claimed(self, shift_id: int, user_id: str, room: RoomRef) -> None:
        """Tell the listeners; one that fails is logged and keeps the others going."""
        claimed = ClaimedShift(str(shift_id), user_id, room)
        for listener in self._listeners:
            try:
                await listener(claimed)
            except Exception:
                log.exception("a listener failed on a claimed shift")


def _one_off(
    site: Site, label: str, starts_at: datetime, ends_at: datetime, need: int
) -> WatchWindow:
    """The window of a one-off shift in the site's wall clock, under a name that no other
    window of the site has on that date."""
    start, end = site.local(starts_at), site.local(ends_at)
    last = end.time().replace(second=0, microsecond=0) if end.date() == start.date() else None
    first = start.time().replace(second=0, microsecond=0)
    if last is None or last <= first:
        last = _LAST_MINUTE
    if last <= first:
        raise ValueError("a one-off shift must end after it starts, the same day")
    need = max(1, min(need, MAX_PEOPLE))
    day = start.date()
    taken = {w.name for w in site.windows if w.falls_on(day)}
    base = _NOT_NAME.sub("-", fold(label)).strip("-")[:_NAME_LENGTH] or "shift"
    name, number = base, 1
    while name in taken:
        number += 1
        suffix = f"-{number}"
        name = base[: _NAME_LENGTH - len(suffix)] + suffix
    return WatchWindow(name, frozenset(), first, last, need, need, day)
