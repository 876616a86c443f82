"""What signal-cli knows about people: who is in a group and administers it, identity keys."""

from __future__ import annotations

import asyncio
import logging
from dataclasses import dataclass
from typing import Any

from bot.transports.signal.rpc import Daemon, DaemonUnavailable, RpcError

log = logging.getLogger(__name__)

# Admins and members change rarely; every moderator check and direct message asks.
GROUP_TTL_SECONDS = 60.0


@dataclass(frozen=True)
class Group:
    admins: frozenset[str]
    members: frozenset[str]
    name: str | None = None


class People:
    def __init__(self, daemon: Daemon) -> None:
        self._daemon = daemon
        self._groups: dict[str, tuple[float, Group]] = {}

    async def group_admins(self, group_id: str) -> frozenset[str]:
        """The uuids of the group's admins (the last known ones if signal-cli fails)."""
        return (await self._group(group_id)).admins

    async def group_members(self, group_id: str) -> frozenset[str]:
        """The uuids of the group's members (the last known ones if signal-cli fails)."""
        return (await self._group(group_id)).members

    async def group_name(self, group_id: str) -> str | None:
        return (await self._group(group_id)).name

    async def _group(self, group_id: str) -> Group:
        now = asyncio.get_running_loop().time()
        cached = self._groups.get(group_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            groups = await self._daemon.call("listGroups", {"groupId": group_id})
        except (RpcError, DaemonUnavailable) as error:
            log.warning("could not read a group's members: %s", type(error).__name__)
            return cached[1] if cached is not None else Group(frozenset(), frozenset())
        group = _group_of(groups, group_id)
        self._groups[group_id] = (now + GROUP_TTL_SECONDS, group)
        return group

    async def identity_key(self, user_id: str) -> str | None:
        """The fingerprint of the identity key signal-cli holds for `user_id`, if any."""
        try:
            identities = await self._daemon.call("listIdentities", {"number": user_id})
        except (RpcError, DaemonUnavailable) as error:
            log.warning("could not read a sender's identity key: %s", type(error).__name__)
            return None
        for identity in identities if isinstance(identities, list) else ():
            if isinstance(identity, dict) and identity.get("uuid") == user_id:
                fingerprint = identity.get("fingerprint")
                return fingerprint if isinstance(fingerprint, str) else None
        return None


def _group_of(groups: Any, group_id: str) -> Group:
    for group in groups if isinstance(groups, list) else ():
        if isinstance(group, dict) and group.get("id") == group_id:
            name = group.get("name")
            return Group(
                _uuids(group.get("admins")),
                _uuids(group.get("members")),
                name if isinstance(name, str) and name else None,
            )
    return Group(frozenset(), frozenset())


def _uuids(people: Any) -> frozenset[str]:
    listed = people if isinstance(people, list) else ()
    return frozenset(
        str(person["uuid"]) for person in listed if isinstance(person, dict) and person.get("uuid")
    )
