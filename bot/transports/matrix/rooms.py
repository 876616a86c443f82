"""Rooms the bot makes, fills, links to their successors and leaves."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import Any

import nio

log = logging.getLogger(__name__)

ENCRYPTION = {"algorithm": "m.megolm.v1.aes-sha2"}
# Someone let in later does not read what was said before they joined.
HISTORY = {"history_visibility": "joined"}
TOMBSTONE = "m.room.tombstone"
TOMBSTONE_BODY = "This room has been replaced"


class RoomError(Exception):
    """The homeserver refused to make or change a room."""


def joined_members(client: nio.AsyncClient, room_id: str) -> list[str]:
    room = client.rooms.get(room_id)
    if room is None:
        return []
    return sorted(
        user_id
        for user_id, member in room.users.items()
        if not member.invited and user_id != client.user_id
    )


async def create_room(
    client: nio.AsyncClient, name: str, invite: Sequence[str], successor_of: str | None
) -> str:
    response = await client.room_create(
        name=name,
        preset=nio.RoomPreset.private_chat,
        invite=list(invite),
        initial_state=[
            {"type": "m.room.encryption", "state_key": "", "content": ENCRYPTION},
            {"type": "m.room.history_visibility", "state_key": "", "content": HISTORY},
        ],
        power_level_override=_powers(client, successor_of),
        predecessor={"room_id": successor_of} if successor_of else None,
    )
    if isinstance(response, nio.RoomCreateError):
        raise RoomError(f"creating a room failed: {response.status_code}")
    return str(response.room_id)


def _powers(client: nio.AsyncClient, predecessor: str | None) -> dict[str, Any] | None:
    """The people's powers of the room being replaced, the bot's own kept highest."""
    room = client.rooms.get(predecessor) if predecessor else None
    if room is None:
        return None
    users = {user: int(level) for user, level in room.power_levels.users.items()}
    users[client.user_id] = max(100, *users.values())
    return {"users": users}


async def invite(client: nio.AsyncClient, room_id: str, user_ids: Sequence[str]) -> None:
    for user_id in user_ids:
        response = await client.room_invite(room_id, user_id)
        if isinstance(response, nio.RoomInviteError):
            # One refused invite (a deactivated account) must not keep the others out.
            log.warning("an invite failed: %s", response.status_code)


async def tombstone(client: nio.AsyncClient, room_id: str, successor: str) -> bool:
    room = client.rooms.get(room_id)
    if room is None or not room.power_levels.can_user_send_state(client.user_id, TOMBSTONE):
        return False
    content = {"body": TOMBSTONE_BODY, "replacement_room": successor}
    response = await client.room_put_state(room_id, TOMBSTONE, content)
    if isinstance(response, nio.RoomPutStateError):
        log.warning("the tombstone was refused: %s", response.status_code)
        return False
    return True


async def leave(client: nio.AsyncClient, room_id: str) -> None:
    response = await client.room_leave(room_id)
    if isinstance(response, nio.RoomLeaveError):
        raise RoomError(f"leaving a room failed: {response.status_code}")
