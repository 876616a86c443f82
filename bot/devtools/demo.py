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

from bot.core.config import DEFAULT_DATA_DIR
from bot.core.context import MODERATOR_POWER
from bot.devtools.local_synapse import LocalSynapse, RegisteredUser
from bot.devtools.network import (
    ADMIN,
    BOT,
    PEOPLE,
    ROOMS,
    SampleRoom,
    rooms_of,
    sample_config,
)
from bot.storage.keys import DataKey, write_key_file

MEGOLM = "m.megolm.v1.aes-sha2"

CONFIG_FILE = "config.toml"
KEY_FILE = "vecinos.key"
PASSWORD_FILE = "bot-password"
ACCOUNTS_FILE = "demo.json"


@dataclass(frozen=True)
class Demo:
    homeserver: str
    bot: RegisteredUser
    people: dict[str, RegisteredUser]
    room_ids: dict[str, str]  # room name -> room id

    def rooms_of(self, name: str) -> list[str]:
        """Names of the rooms a demo person is in."""
        return [room.name for room in rooms_of(name)]


def seed(synapse: LocalSynapse) -> Demo:
    """Register the bot and the people, then create the rooms with the bot invited."""
    bot = synapse.register(BOT, _password())
    people = {name: synapse.register(name, _password()) for name in PEOPLE}
    room_ids = {room.name: create_room(synapse, room, people, bot.user_id) for room in ROOMS}
    return Demo(synapse.base_url, bot, people, room_ids)


def create_room(
    synapse: LocalSynapse, room: SampleRoom, people: Mapping[str, RegisteredUser], bot_id: str
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
    people = {name: user.user_id for name, user in demo.people.items()}
    return {
        **sample_config(demo.room_ids, people),
        "bot": {"data_dir": str(DEFAULT_DATA_DIR), "data_key_file": KEY_FILE},
        "matrix": {
            "homeserver": demo.homeserver,
            "user_id": demo.bot.user_id,
            "device_name": "Vecinos demo",
            "password_file": PASSWORD_FILE,
        },
        "invites": {"allowed_users": [people[ADMIN]]},
    }


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
