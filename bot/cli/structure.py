"""`vecinos structure`: the whole network, the config file's with what admins changed in
chat, as `[[areas]]` and `[[rooms]]` TOML that the config file accepts: to review it, back
it up, or move the chat's changes into the file."""

from __future__ import annotations

import argparse
import asyncio
import sys
from typing import Any

import tomli_w

from bot.cli.common import CONFIG_ENV, CliError, config_path, read_key, read_settings
from bot.core.events import RoomRef
from bot.core.structure import Structure
from bot.runtime.app import Application
from bot.runtime.plugins import default_plugins

HEADER = """\
# The network as the bot runs it: the config file's areas and rooms, with the changes
# made from chat (each marked). Paste into the config file to keep them there."""


def cmd_structure(args: argparse.Namespace) -> int:
    path = config_path(args.config)
    if path is None:
        raise CliError([f"no config: give -c FILE or set ${CONFIG_ENV}"])
    settings = read_settings(path)
    sys.stdout.write(
        asyncio.run(_structure(Application(settings, read_key(settings), default_plugins())))
    )
    return 0


async def _structure(app: Application) -> str:
    await app.open()
    try:
        return structure_toml(app.bot.structure)
    finally:
        await app.stop()


def structure_toml(structure: Structure) -> str:
    """`[[areas]]` then `[[rooms]]`, as the config file writes them; "# from chat" above
    each entry added from chat."""
    settings = structure.settings
    parts = [HEADER]
    for area in settings.areas:
        chat = structure.area_origin(area.slug) == "chat"
        parts.append(_table("areas", area.model_dump(mode="json", exclude_defaults=True), chat))
    for room in settings.rooms:
        chat = structure.room_origin(RoomRef(room.transport, room.id)) == "chat"
        body = room.model_dump(mode="json", exclude_defaults=True)
        parts.append(_table("rooms", {"transport": room.transport, **body}, chat))
    return "\n\n".join(parts) + "\n"


def _table(name: str, values: dict[str, Any], from_chat: bool) -> str:
    """One `[[name]]` table. Written by hand, not as `{name: [values]}`: tomli_w writes a
    short table inline (`areas = [{...}]`), and two such lines are a repeated key, which
    no TOML parser accepts. The values are scalars and arrays (no nested tables)."""
    text = f"[[{name}]]\n{tomli_w.dumps(values)}".strip()
    return f"# from chat\n{text}" if from_chat else text
