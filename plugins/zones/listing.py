"""`!rooms`: the network as it stands, areas as a tree and rooms by role, each marked
where it was added from chat (the rest is in the config file).

A network has hundreds of areas and rooms: the names and origins are looked up once for
the whole listing, not once per line that shows them.
"""

from __future__ import annotations

from bot.api import Area, BotContext, Language, RoomConfig, RoomRef, Structure, Translator
from plugins.zones.shape import role_word

INDENT = "  "


async def network_listing(bot: BotContext, lang: Language) -> str:
    t = bot.translator(lang)
    settings = bot.settings
    lines = [t("zones.listing_areas", count=len(settings.areas)), *_area_tree(bot, t, lang)]
    lines.append(t("zones.listing_rooms", count=len(settings.rooms)))
    lines += await _room_lines(bot, t, lang)
    return "\n".join(lines)


async def _room_lines(bot: BotContext, t: Translator, lang: Language) -> list[str]:
    """The rooms by role, each with its name, areas, language, origin and transport."""
    settings = bot.settings
    names = {area.slug: area.name(lang) for area in settings.areas}
    by_role: dict[str, list[RoomConfig]] = {}
    for room in settings.rooms:
        by_role.setdefault(room.role, []).append(room)
    from_chat = _rooms_from_chat(bot.structure)
    lines: list[str] = []
    for role in settings.role_names():
        rooms = by_role.get(role)
        if not rooms:
            continue
        lines.append(f"{role_word(t, role).capitalize()} ({len(rooms)})")
        for room in rooms:
            areas = ", ".join([names.get(slug, slug) for slug in room.areas])
            details = [areas, *([room.language] if room.language else [])]
            chat = (room.transport, room.id) in from_chat
            details += [*([t("zones.from_chat")] if chat else []), room.transport]
            name = await bot.structure.room_name(RoomRef(room.transport, room.id))
            lines.append(f"• “{name}” · {' · '.join(details)}")
    return lines


def _area_tree(bot: BotContext, t: Translator, lang: Language) -> list[str]:
    areas = bot.settings.areas
    children: dict[str | None, list[Area]] = {}
    for area in areas:
        children.setdefault(area.parent, []).append(area)
    from_chat = _areas_from_chat(bot.structure)
    lines: list[str] = []

    def walk(parent: str | None, depth: int) -> None:
        for area in children.get(parent, []):
            details = [area.slug]
            if area.near:
                details.append(t("zones.listing_near", areas=", ".join(area.near)))
            if area.slug in from_chat:
                details.append(t("zones.from_chat"))
            lines.append(f"{INDENT * depth}• {area.name(lang)} ({' · '.join(details)})")
            walk(area.slug, depth + 1)

    walk(None, 0)
    return lines


def _areas_from_chat(structure: Structure) -> set[str]:
    """The areas added from chat: only those the shape holds can be (the file's win)."""
    return {slug for slug in structure.shape.areas if structure.area_origin(slug) == "chat"}


def _rooms_from_chat(structure: Structure) -> set[tuple[str, str]]:
    """The rooms adopted from chat, as (transport, id): only those the shape holds can be
    (the file's win)."""
    return {key for key in structure.shape.rooms if structure.room_origin(RoomRef(*key)) == "chat"}
