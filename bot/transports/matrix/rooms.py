"""Rooms the bot makes, fills, links to their successors and leaves."""

from __future__ import annotations

import logging
from collections.abc import Collection, Sequence
from typing import Any

import nio

from bot.transports.matrix import api

log = logging.getLogger(__name__)

ENCRYPTION = {"algorithm": "m.megolm.v1.aes-sha2"}
# Someone let in later does not read what was said before they joined.
HISTORY = {"history_visibility": "joined"}
# A direct room's invitee reads what the bot wrote since inviting them.
DIRECT_HISTORY = {"history_visibility": "invited"}
TOMBSTONE = "m.room.tombstone"
TOMBSTONE_BODY = "This room has been replaced"
# The first room version whose creators hold all power and are not in the power levels.
PRIVILEGED_CREATORS = 12


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
        power_level_override=_powers(client, successor_of, await _creator_listed(client)),
    )
    if isinstance(response, nio.RoomCreateError):
        raise RoomError(f"creating a room failed: {response.status_code} {response.message}")
    return str(response.room_id)


def _powers(
    client: nio.AsyncClient, predecessor: str | None, creator_listed: bool
) -> dict[str, Any] | None:
    """The people's powers of the room being replaced; the bot, its creator, keeps the
    highest (listed where the room version lists creators at all)."""
    room = client.rooms.get(predecessor) if predecessor else None
    if room is None:
        return None
    users = {
        user: int(level)
        for user, level in room.power_levels.users.items()
        if user != client.user_id
    }
    if creator_listed:
        users[client.user_id] = max([100, *users.values()])
    return {"users": users}


async def _creator_listed(client: nio.AsyncClient) -> bool:
    """Whether new rooms list their creator in the power levels: not from room version
    12 on, whose creators hold all power by being creators."""
    capabilities = await api.call_ok(client, "capabilities", "GET", "/capabilities")
    versions = capabilities.get("capabilities", {}).get("m.room_versions", {})
    default = str(versions.get("default", "1"))
    return not (default.isdigit() and int(default) >= PRIVILEGED_CREATORS)


def direct_room(client: nio.AsyncClient, user_id: str, avoid: Collection[str]) -> str | None:
    """A room where the bot and `user_id` are alone (joined or invited)."""
    for room in client.rooms.values():
        if room.room_id not in avoid and room.member_count == 2 and user_id in room.users:
            return str(room.room_id)
    return None


async def create_direct(client: nio.AsyncClient, user_id: str) -> str:
    """An encrypted direct room with `user_id` invited, who reads from the invite on (a
    message sent before they accept is theirs to read)."""
    response = await client.room_create(
        is_direct=True,
        preset=nio.RoomPreset.trusted_private_chat,
        invite=[user_id],
        initial_state=[
            {"type": "m.room.encryption", "state_key": "", "content": ENCRYPTION},
            {"type": "m.room.history_visibility", "state_key": "", "content": DIRECT_HISTORY},
        ],
    )
    if isinstance(response, nio.RoomCreateError):
        raise RoomError(f"creating a room failed: {response.status_code} {response.message}")
    return str(response.room_id)


async def invite(client: nio.AsyncClient, room_id: str, user_ids: Sequence[str]) -> None:
    for user_id in user_ids:
        response = await client.room_invite(room_id, user_id)
        if isinstance(response, nio.RoomInviteError):
            # One refused invite (a deactivated account) must not keep the others out.
            log.warning("an invite failed: %s", response.status_code)


class Creators:
    """Which rooms the bot created, where that alone gives it every power (room version
    12 on: creators are not in the power levels, and nio does not know them)."""

    def __init__(self, client: nio.AsyncClient) -> None:
        self._client = client
        self._known: dict[str, bool] = {}

    async def privileged(self, room: nio.MatrixRoom) -> bool:
        version = room.room_version
        if not (version.isdigit() and int(version) >= PRIVILEGED_CREATORS):
            return False
        if room.room_id not in self._known:
            self._known[room.room_id] = await self._created_by_bot(room.room_id)
        return self._known[room.room_id]

    async def _created_by_bot(self, room_id: str) -> bool:
        response = await self._client.room_get_state(room_id)
        if not isinstance(response, nio.RoomGetStateResponse):
            return False
        own = self._client.user_id
        for event in response.events:
            if event.get("type") == "m.room.create":
                creators = event.get("content", {}).get("additional_creators", [])
                return bool(event.get("sender") == own or own in creators)
        return False

    async def may_send_state(self, room: nio.MatrixRoom, event_type: str) -> bool:
        own = self._client.user_id
        return await self.privileged(room) or bool(
            room.power_levels.can_user_send_state(own, event_type)
        )


async def tombstone(
    client: nio.AsyncClient, creators: Creators, room_id: str, successor: str
) -> bool:
    room = client.rooms.get(room_id)
    if room is None or not await creators.may_send_state(room, TOMBSTONE):
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
