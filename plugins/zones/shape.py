"""The network's areas and rooms as admins change them in chat: what they type, checked.

Every check happens before anything is stored, so bad input changes nothing; the core's
structure then checks the whole network again and refuses what would break it.
"""

from __future__ import annotations

import difflib
import re
from dataclasses import dataclass

from bot.api import Area, BotContext, Language, RoomConfig, RoomRef, Translator, fold

SLUG_RE = re.compile(r"[a-z0-9-]{1,32}")
# "!area add loomis in pilsen ...": the word before the parent, in either language.
PARENT_WORDS = frozenset({"in", "en"})
LANGUAGES: tuple[Language, ...] = ("en", "es")


class ZoneError(Exception):
    """Input that changes nothing; `key` and `params` say why."""

    def __init__(self, key: str, **params: object) -> None:
        super().__init__(key)
        self.key = key
        self.params = params


@dataclass(frozen=True)
class Adoption:
    role: str
    areas: tuple[str, ...]
    language: Language | None


def parse_area(text: str) -> Area:
    """`SLUG [in PARENT] NAME_EN / NAME_ES` (one name serves both when there is no "/")."""
    words = text.split()
    if not words:
        raise ZoneError("zones.area_usage")
    slug, rest = words[0].lower(), words[1:]
    check_slug(slug)
    parent = None
    if len(rest) >= 3 and rest[0].lower() in PARENT_WORDS:
        parent, rest = rest[1].lower(), rest[2:]
    name_en, _, name_es = " ".join(rest).partition("/")
    name_en, name_es = name_en.strip(), name_es.strip() or name_en.strip()
    if not name_en:
        raise ZoneError("zones.area_needs_name", slug=slug)
    return Area(slug=slug, name_en=name_en, name_es=name_es, parent=parent)


def check_slug(slug: str) -> None:
    if not SLUG_RE.fullmatch(slug):
        raise ZoneError("zones.bad_slug", slug=slug)


def known_area(bot: BotContext, slug: str) -> str:
    """`slug` as a known area, or the error naming those nearest in spelling."""
    slug = slug.lower()
    if bot.settings.area(slug) is not None:
        return slug
    names = [area.slug for area in bot.settings.areas]
    close = difflib.get_close_matches(slug, names, n=3, cutoff=0.5)
    raise ZoneError("zones.unknown_area", area=slug, known=", ".join(close or names) or "-")


def parse_adoption(bot: BotContext, t: Translator, words: list[str]) -> Adoption:
    """`ROLE AREA[,AREA] [en|es]`, the role as the person calls it in either language."""
    if len(words) < 2 or len(words) > 3:
        raise ZoneError("zones.room_here_usage")
    role = known_role(bot, t, words[0])
    areas = tuple(dict.fromkeys(known_area(bot, a) for a in words[1].split(",") if a))
    language = None
    if len(words) == 3:
        if words[2].lower() not in LANGUAGES:
            raise ZoneError("zones.bad_language", language=words[2])
        language = words[2].lower()
    return Adoption(role, areas, language)  # type: ignore[arg-type]


def known_role(bot: BotContext, t: Translator, typed: str) -> str:
    roles = bot.settings.role_names()
    wanted = fold(typed)
    for role in roles:
        words = {role, *(role_word(bot.translator(lang), role) for lang in LANGUAGES)}
        if wanted in {fold(word) for word in words}:
            return role
    listing = ", ".join(role_word(t, role) for role in roles)
    raise ZoneError("zones.unknown_role", role=typed, roles=listing)


def role_word(t: Translator, role: str) -> str:
    key = f"role.{role}"
    return t(key) if t.has(key) else role


def room_config(room: RoomRef, adoption: Adoption) -> RoomConfig:
    """The config entry of an adopted room; what `RoomConfig` refuses (a Signal group
    with message retention) is a role this room's network cannot serve."""
    try:
        return RoomConfig(
            id=room.room_id,
            transport=room.transport,  # type: ignore[arg-type]
            role=adoption.role,
            areas=adoption.areas,
            language=adoption.language,
        )
    except ValueError as error:
        raise ZoneError("zones.cannot_serve", why=str(error).splitlines()[-1]) from None
