"""Each person's chosen language (`!lang`), stored under their keyed hash."""

from __future__ import annotations

from collections.abc import Callable

from cachetools import LRUCache

from bot.core.i18n import Language, parse_language
from bot.storage.database import Database

CACHE_SIZE = 10_000


class Languages:
    def __init__(self, db: Database, person: Callable[[str], str]) -> None:
        self._db = db
        self._person = person
        # None: no choice made. Asked for every message; this process is the table's only
        # writer, so the cache is kept exact by `choose` and `forget`.
        self._cache: LRUCache[str, Language | None] = LRUCache(maxsize=CACHE_SIZE)

    async def chosen(self, user_id: str) -> Language | None:
        person = self._person(user_id)
        if person in self._cache:
            return self._cache[person]
        row = await self._db.fetchone(
            "SELECT language FROM person_prefs WHERE person = ?", (person,)
        )
        chosen = parse_language(row["language"]) if row is not None else None
        self._cache[person] = chosen
        return chosen

    async def choose(self, user_id: str, lang: Language) -> None:
        person = self._person(user_id)
        await self._db.execute(
            "INSERT INTO person_prefs (person, language) VALUES (?, ?)"
            " ON CONFLICT (person) DO UPDATE SET language = excluded.language",
            (person, lang),
        )
        self._cache[person] = lang

    async def forget(self, user_id: str) -> None:
        person = self._person(user_id)
        await self._db.execute("DELETE FROM person_prefs WHERE person = ?", (person,))
        self._cache.pop(person, None)
