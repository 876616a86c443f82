"""`!rooms`: the network as it stands, areas as a tree and rooms by role, each marked
where it was added from chat (the rest is in the config file)."""

from __future__ import annotations

from bot.api import Area, BotContext, Language, RoomRef, Translator
from plugins.zones.shape import role_word

INDENT = "  "


async def network_listing(bot: BotContext, lang: Language) -> str:
    t = bot.translator(lang)
    settings = bot.settings
    lines = [t("zones.listing_areas", count=len(settings.areas)), *_area_tree(bot, t, lang)]
    lines.append(t("zones.listing_rooms", count=len(settings.rooms)))
    for role in settings.role_names():
        rooms = [room for room in settings.rooms if room.role == role]
        if not rooms:
            continue
        lines.append(f"{role_word(t, role).capitalize()} ({len(rooms)})")
        for room in rooms:
            ref = RoomRef(room.transport, room.id)
            areas = ", ".join(_area_name(bot, slug, lang) for slug in room.areas)
            details = [areas, *([room.language] if room.language else [])]
            details += [*_origin(bot, t, ref), room.transport]
            name = await bot.structure.room_name(ref)
            lines.append(f"• “{name}” · {' · '.join(details)}")
    return "\n".join(lines)


def _area_tree(bot: BotContext, t: Translator, lang: Language) -> list[str]:
    areas = bot.settings.areas
    children: dict[str | None, list[Area]] = {}
    for area in areas:
        children.setdefault(area.parent, []).append(area)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for area in children.get(parent, []):
            details = [area.slug]
            if area.near:
                details.append(t("zones.listing_near", areas=", ".join(area.near)))
            if bot.structure.area_origin(area.slug) == "chat":
                details.append(t("zones.from_chat"))
            lines.append(f"{INDENT * depth}• {area.name(lang)} ({' · '.join(details)})")
            walk(area.slug, depth + 1)

    walk(None, 0)
    return lines


def _area_name(bot: BotContext, slug: str, lang: Language) -> str:
    area = bot.settings.area(slug)
    return area.name(lang) if area is not None else slug


def _origin(bot: BotContext, t: Translator, room: RoomRef) -> list[str]:
    return [t("zones.from_chat")] if bot.structure.room_origin(room) == "chat" else []
