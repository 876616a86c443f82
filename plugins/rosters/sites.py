"""Sites: those of the config file, plus what admins add with `!site` (kept in the database).

A config site can gain windows and skip dates by command; a window added under an existing
name replaces it. Definitions are stored encrypted under a keyed hash of the slug, so the
database names no school.
"""

from __future__ import annotations

import re
import zoneinfo
from dataclasses import astuple, replace
from datetime import UTC, date, datetime
from typing import Any

from bot.api import BotContext, RoomRef, utc_timestamp
from plugins.rosters.config import ROTA_ROOMS, RostersConfig, SiteConfig
from plugins.rosters.model import RosterError, Site
from plugins.rosters.windows import WatchWindow, parse_window

DATA_CONTEXT = "rosters.site"
KEY_PURPOSE = "rosters.site"
SLUG_RE = re.compile(r"[a-z0-9-]{1,32}")


class SiteBook:
    def __init__(self, bot: BotContext) -> None:
        self._bot = bot
        self._stored: dict[str, dict[str, Any]] = {}
        self._sites: dict[str, Site] = {}
        self._by_key: dict[str, Site] = {}

    async def load(self) -> None:
        for row in await self._bot.db.fetchall("SELECT data FROM roster_sites"):
            data = self._bot.cipher.decrypt_json(row["data"], DATA_CONTEXT)
            self._stored[data["slug"]] = data
        self._rebuild()

    def key(self, slug: str) -> str:
        return self._bot.cipher.keyed_hash(slug, KEY_PURPOSE)

    def all(self) -> list[Site]:
        return list(self._sites.values())

    def get(self, slug: str) -> Site | None:
        return self._sites.get(slug.lower())

    def by_key(self, key: str) -> Site | None:
        return self._by_key.get(key)

    def in_room(self, room: RoomRef) -> list[Site]:
        return [site for site in self._sites.values() if site.room == room]

    def in_area(self, slug: str) -> list[Site]:
        return [site for site in self._sites.values() if site.area == slug]

    async def room_replaced(self, old: RoomRef, new: RoomRef) -> None:
        """Sites watched from `old` are watched from its successor (a config site follows
        by itself: the settings know the successor)."""
        for data in list(self._stored.values()):
            base = data.get("base")
            if base is not None and (base["transport"], base["room"]) == astuple(old):
                await self._save({**data, "base": {**base, "room": new.room_id}})
        self._rebuild()

    # --- changes by command ---------------------------------------------------------------

    async def add(
        self, slug: str, name: str, area: str, timezone: str, *, room: RoomRef, coordinator: str
    ) -> Site:
        """A new site watched from `room`; whoever adds it coordinates it."""
        slug = slug.lower()
        if not SLUG_RE.fullmatch(slug):
            raise RosterError("site.bad_slug", slug=slug)
        if slug in self._sites:
            raise RosterError("site.exists", site=slug)
        if self._bot.settings.area(area) is None:
            known = ", ".join(a.slug for a in self._bot.settings.areas)
            raise RosterError("site.bad_area", area=area, known=known)
        if not _valid_zone(timezone):
            raise RosterError("site.bad_timezone", timezone=timezone)
        base = {"name": name, "area": area, "timezone": timezone, "coordinators": [coordinator]}
        base |= {"transport": room.transport, "room": room.room_id}
        await self._save({"slug": slug, "base": base, "windows": [], "skip": []})
        return self._sites[slug]

    async def set_window(self, site: Site, window: WatchWindow) -> Site:
        data = self._stored_for(site)
        kept = [t for t in data["windows"] if parse_window(t).name != window.name]
        await self._save({**data, "windows": [*kept, window.text()]})
        return self._sites[site.slug]

    async def add_one_off(self, site: Site, window: WatchWindow, today: date) -> Site:
        """A one-off window kept beside the site's own (several may share a name on
        different dates); those dated before `today` are dropped on the way."""
        data = self._stored_for(site)
        kept = [t for t in data.get("one_offs", []) if _dated(t) >= today]
        await self._save({**data, "one_offs": [*kept, window.text()]})
        return self._sites[site.slug]

    async def skip(self, site: Site, day: date) -> Site:
        data = self._stored_for(site)
        await self._save({**data, "skip": sorted({*data["skip"], day.isoformat()})})
        return self._sites[site.slug]

    def _stored_for(self, site: Site) -> dict[str, Any]:
        return self._stored.get(site.slug) or {"slug": site.slug, "windows": [], "skip": []}

    async def _save(self, data: dict[str, Any]) -> None:
        await self._bot.db.execute(
            "INSERT INTO roster_sites (key, data, updated_at) VALUES (?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET data = excluded.data,"
            " updated_at = excluded.updated_at",
            (
                self.key(data["slug"]),
                self._bot.cipher.encrypt_json(data, DATA_CONTEXT),
                utc_timestamp(datetime.now(UTC)),
            ),
        )
        self._stored[data["slug"]] = data
        self._rebuild()

    # --- merging ----------------------------------------------------------------------------

    def _rebuild(self) -> None:
        configured = {site.slug: site for site in self._bot.settings.section(RostersConfig).sites}
        sites = [self._from_config(config) for config in configured.values()]
        sites += [
            _from_stored(data)
            for slug, data in self._stored.items()
            if slug not in configured and "base" in data
        ]
        merged = [_with_additions(site, self._stored.get(site.slug)) for site in sites]
        self._sites = {site.slug: site for site in merged}
        self._by_key = {self.key(site.slug): site for site in merged}

    def _from_config(self, config: SiteConfig) -> Site:
        settings = self._bot.settings
        room_id = settings.room_now(config.room)
        room = next(
            r for r in settings.rooms if r.id == room_id and settings.room_fits(r, ROTA_ROOMS)
        )
        return Site(
            slug=config.slug,
            name=config.name,
            area=config.area,
            timezone=config.timezone,
            room=RoomRef(room.transport, room.id),
            windows=tuple(parse_window(text) for text in config.windows),
            skip=frozenset(config.skip),
            coordinators=config.coordinators,
        )


def _from_stored(data: dict[str, Any]) -> Site:
    base = data["base"]
    return Site(
        slug=data["slug"],
        name=base["name"],
        area=base["area"],
        timezone=base["timezone"],
        room=RoomRef(base["transport"], base["room"]),
        windows=(),
        skip=frozenset(),
        coordinators=tuple(base["coordinators"]),
    )


def _with_additions(site: Site, data: dict[str, Any] | None) -> Site:
    if data is None:
        return site
    added = [parse_window(text) for text in data["windows"]]
    names = {window.name for window in added}
    one_offs = [parse_window(text) for text in data.get("one_offs", [])]
    windows = (*(w for w in site.windows if w.name not in names), *added, *one_offs)
    skip = site.skip | {date.fromisoformat(day) for day in data["skip"]}
    return replace(site, windows=windows, skip=frozenset(skip))


def _dated(text: str) -> date:
    day = parse_window(text).on
    assert day is not None  # only one-off windows are kept as such
    return day


def _valid_zone(name: str) -> bool:
    try:
        zoneinfo.ZoneInfo(name)
    except (zoneinfo.ZoneInfoNotFoundError, ValueError):
        return False
    return True
