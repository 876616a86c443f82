"""Seeding a throwaway homeserver for `vecinos demo`: people, encrypted rooms and a config.

Accounts are made with Synapse's shared-secret registration; rooms, joins and power levels
go through the client-server API with each person's own token, as their clients would.
"""

from __future__ import annotations

import json
import os
import secrets
import urllib.parse
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import tomli_w

from bot.core.config import DEFAULT_DATA_DIR, Language
from bot.core.context import MODERATOR_POWER
from bot.devtools.local_synapse import LocalSynapse, RegisteredUser
from bot.storage.keys import DataKey, write_key_file

BOT = "vecinos"
ADMIN = "admin"
MODERATOR = "mod"
# Demo people and what they play.
PEOPLE = {"ana": "neighbor", "beto": "neighbor", MODERATOR: "moderator", ADMIN: "admin"}
MEGOLM = "m.megolm.v1.aes-sha2"

CONFIG_FILE = "config.toml"
KEY_FILE = "vecinos.key"
PASSWORD_FILE = "bot-password"
ACCOUNTS_FILE = "demo.json"

AREAS = (
    {"slug": "pilsen", "name_en": "Pilsen", "name_es": "Pilsen"},
    {"slug": "little-village", "name_en": "Little Village", "name_es": "La Villita"},
)


@dataclass(frozen=True)
class DemoRoom:
    name: str
    role: str
    areas: tuple[str, ...]
    members: tuple[str, ...] = ()  # demo people who join (the admin creates every room)
    moderators: tuple[str, ...] = ()  # given moderator power in the room
    language: Language | None = None


ROOMS = (
    DemoRoom("Pilsen – vecinos", "neighborhood", ("pilsen",), ("ana", "beto"), language="es"),
    DemoRoom(
        "Moderación",
        "moderation",
        ("pilsen", "little-village"),
        (MODERATOR,),
        moderators=(MODERATOR,),
    ),
    DemoRoom("Alertas", "alerts", ("pilsen", "little-village"), language="es"),
    DemoRoom("Escuela Jungman – vigilancia", "watch", ("pilsen",), ("ana", "beto")),
)
# The school the watch room covers, so `!roster` / `!turnos` work out of the box.
WATCH_SITE = {
    "slug": "jungman",
    "name": "Escuela Jungman",
    "area": "pilsen",
    "timezone": "America/Chicago",
    "windows": ["entrada mon-fri 07:30-08:15 need 2 max 4", "salida mon-fri 14:45-15:30 need 2"],
}


@dataclass(frozen=True)
class Demo:
    homeserver: str
    bot: RegisteredUser
    people: dict[str, RegisteredUser]
    room_ids: dict[str, str]  # room name -> room id

    def rooms_of(self, name: str) -> list[str]:
        """Names of the rooms a demo person is in."""
        return [room.name for room in ROOMS if name == ADMIN or name in room.members]


def seed(synapse: LocalSynapse) -> Demo:
    """Register the bot and the people, then create the rooms with the bot invited."""
    bot = synapse.register(BOT, _password())
    people = {name: synapse.register(name, _password()) for name in PEOPLE}
    room_ids = {room.name: create_room(synapse, room, people, bot.user_id) for room in ROOMS}
    return Demo(synapse.base_url, bot, people, room_ids)


def create_room(
    synapse: LocalSynapse, room: DemoRoom, people: Mapping[str, RegisteredUser], bot_id: str
) -> str:
    """Create `room` as the admin (encrypted from the first event) and join its members."""
    token = people[ADMIN].access_token
    body = {
        "name": room.name,
        "preset": "private_chat",
        "invite": [people[name].user_id for name in room.members] + [bot_id],
        "initial_state": [
            {"type": "m.room.encryption", "state_key": "", "content": {"algorithm": MEGOLM}}
        ],
    }
    path = "/_matrix/client/v3/createRoom"
    room_id = str(synapse.admin_request("POST", path, body, token=token)["room_id"])
    for name in room.members:
        synapse.admin_request(
            "POST", f"/_matrix/client/v3/join/{_q(room_id)}", {}, token=people[name].access_token
        )
    if room.moderators:
        _grant_power(synapse, room_id, token, [people[name].user_id for name in room.moderators])
    return room_id


def _grant_power(synapse: LocalSynapse, room_id: str, token: str, user_ids: list[str]) -> None:
    # Read-modify-write rather than a createRoom override: room version 12 forbids listing
    # the creator in `users`, while older versions need the creator kept there.
    path = f"/_matrix/client/v3/rooms/{_q(room_id)}/state/m.room.power_levels/"
    levels = synapse.admin_request("GET", path, token=token)
    levels["users"] = {**levels.get("users", {}), **dict.fromkeys(user_ids, MODERATOR_POWER)}
    synapse.admin_request("PUT", path, levels, token=token)


def _q(value: str) -> str:
    return urllib.parse.quote(value, safe="")


def write_files(demo: Demo, directory: Path) -> Path:
    """Write the config, the bot's password, a data key and the accounts; returns the config."""
    write_private_file(directory / PASSWORD_FILE, demo.bot.password + "\n")
    write_key_file(directory / KEY_FILE, DataKey.generate())
    write_private_file(directory / ACCOUNTS_FILE, json.dumps(accounts(demo), indent=2) + "\n")
    config = directory / CONFIG_FILE
    config.write_text(tomli_w.dumps(demo_config(demo)), encoding="utf-8")
    return config


def demo_config(demo: Demo) -> dict[str, Any]:
    """The bot's configuration for the seeded server (paths relative to the config file)."""
    admin = demo.people[ADMIN].user_id
    return {
        "admins": [admin],
        "moderators": [demo.people[MODERATOR].user_id],
        "bot": {"data_dir": str(DEFAULT_DATA_DIR), "data_key_file": KEY_FILE},
        "matrix": {
            "homeserver": demo.homeserver,
            "user_id": demo.bot.user_id,
            "device_name": "Vecinos demo",
            "password_file": PASSWORD_FILE,
        },
        "invites": {"allowed_users": [admin]},
        "areas": list(AREAS),
        "rooms": [_room_config(room, demo.room_ids[room.name]) for room in ROOMS],
        "sites": [{**WATCH_SITE, "room": _watch_room_id(demo), "coordinators": [admin]}],
    }


def _watch_room_id(demo: Demo) -> str:
    return next(demo.room_ids[room.name] for room in ROOMS if room.role == "watch")


def _room_config(room: DemoRoom, room_id: str) -> dict[str, Any]:
    config: dict[str, Any] = {"id": room_id, "role": room.role, "areas": list(room.areas)}
    if room.language is not None:
        config["language"] = room.language
    return config


def accounts(demo: Demo) -> dict[str, Any]:
    """What a person needs to log in and look around (also kept in demo.json)."""
    return {
        "homeserver": demo.homeserver,
        "people": {
            name: {
                "user_id": user.user_id,
                "password": user.password,
                "role": PEOPLE[name],
                "rooms": demo.rooms_of(name),
            }
            for name, user in demo.people.items()
        },
        "rooms": demo.room_ids,
    }


def write_private_file(path: Path, text: str) -> None:
    # Created 0600 from the first instant: these files hold passwords.
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w", encoding="utf-8") as handle:
        handle.write(text)


def _password() -> str:
    return secrets.token_urlsafe(9)
