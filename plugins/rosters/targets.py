"""Which shift a person means: `42`, `#42`, `tue pickup`, `whittier tue pickup`, `hoy recogida`.

Only shifts of the sites watched from the room the command came from can be named, so a
volunteer cannot claim (or be reminded in) another team's room.
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import date, datetime, timedelta

from bot.api import RoomRef
from plugins.rosters.model import RosterError, Shift, Site
from plugins.rosters.sites import SiteBook
from plugins.rosters.store import RosterStore
from plugins.rosters.windows import fold

_WEEKDAYS = (
    ("monday", "tuesday", "wednesday", "thursday", "friday", "saturday", "sunday"),
    ("lunes", "martes", "miercoles", "jueves", "viernes", "sabado", "domingo"),
)
_RELATIVE = {"today": 0, "hoy": 0, "tomorrow": 1, "manana": 1}
# A weekday names the next such day with a shift, within this many days.
_LOOKAHEAD = 14


def weekday(word: str) -> int | None:
    """`tue`, `Tuesday`, `mar`, `miércoles`: any three or more first letters of a day name."""
    word = fold(word)
    if len(word) < 3:
        return None
    for names in _WEEKDAYS:
        for index, name in enumerate(names):
            if name.startswith(word):
                return index
    return None


def parse_id(word: str) -> int | None:
    digits = word.removeprefix("#")
    return int(digits) if digits.isdigit() else None


class ShiftFinder:
    def __init__(self, sites: SiteBook, store: RosterStore, now: Callable[[], datetime]) -> None:
        self._sites = sites
        self._store = store
        self._now = now

    async def find(self, room: RoomRef, text: str) -> tuple[Shift, Site]:
        words = text.split()
        if len(words) == 1:
            return await self._by_id(room, words[0])
        if len(words) not in (2, 3):
            raise RosterError("target.shape")
        site = self.site_here(room, words[0] if len(words) == 3 else None)
        day_word, window_word = words[-2:]
        if site.window(fold(day_word)) and not site.window(fold(window_word)):
            day_word, window_word = window_word, day_word  # `pickup tue` works too
        window = site.window(fold(window_word))
        if window is None:
            names = ", ".join(w.name for w in site.windows)
            raise RosterError("target.window", window=window_word, windows=names)
        return await self._by_day(site, window.name, day_word), site

    def site_here(self, room: RoomRef, slug: str | None) -> Site:
        """The named site, or the room's only one; an error names the room's sites."""
        here = self._sites.in_room(room)
        if not here:
            raise RosterError("no_sites")
        chosen = [s for s in here if slug is None or s.slug == fold(slug)]
        if len(chosen) != 1:
            names = ", ".join(s.slug for s in here)
            raise RosterError("target.which_site" if slug is None else "target.site", sites=names)
        return chosen[0]

    async def _by_id(self, room: RoomRef, word: str) -> tuple[Shift, Site]:
        shift_id = parse_id(word)
        if shift_id is None:
            raise RosterError("target.shape")
        shift = await self._store.shift(shift_id)
        site = None if shift is None else self._sites.by_key(shift.site)
        if shift is None or site is None or site.room != room:
            raise RosterError("target.unknown", id=shift_id)
        return shift, site

    async def _by_day(self, site: Site, window: str, word: str) -> Shift:
        now = self._now()
        key = self._sites.key(site.slug)
        found = [
            shift
            for day in self._days(site, word, now)
            if (shift := await self._store.find(key, window, day)) is not None
        ]
        if not found:
            raise RosterError("target.none", window=window, day=word)
        # `tue` on a Tuesday afternoon means next Tuesday's morning shift.
        return next((s for s in found if s.starts_at > now), found[0])

    def _days(self, site: Site, word: str, now: datetime) -> list[date]:
        today = site.today(now)
        folded = fold(word)
        if folded in _RELATIVE:
            return [today + timedelta(days=_RELATIVE[folded])]
        day_of_week = weekday(folded)
        if day_of_week is not None:
            coming = (today + timedelta(days=n) for n in range(_LOOKAHEAD))
            return [day for day in coming if day.weekday() == day_of_week]
        try:
            return [date.fromisoformat(word)]
        except ValueError:
            raise RosterError("target.day", day=word) from None
