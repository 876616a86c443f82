"""What signal-cli knows about people: who administers a group, and identity keys."""

from __future__ import annotations

import asyncio
import logging
from typing import Any

from bot.transports.signal.rpc import Daemon, DaemonUnavailable, RpcError

log = logging.getLogger(__name__)

# Admins change rarely; every moderator check asks for them.
ADMINS_TTL_SECONDS = 60.0


class People:
    def __init__(self, daemon: Daemon) -> None:
        self._daemon = daemon
        self._admins: dict[str, tuple[float, frozenset[str]]] = {}

    async def group_admins(self, group_id: str) -> frozenset[str]:
        """The uuids of the group's admins (the last known ones if signal-cli fails)."""
        now = asyncio.get_running_loop().time()
        cached = self._admins.get(group_id)
        if cached is not None and cached[0] > now:
            return cached[1]
        try:
            groups = await self._daemon.call("listGroups", {"groupId": group_id})
        except (RpcError, DaemonUnavailable) as error:
            log.warning("could not read a group's admins: %s", type(error).__name__)
            return cached[1] if cached is not None else frozenset()
        admins = frozenset(_admin_uuids(groups, group_id))
        self._admins[group_id] = (now + ADMINS_TTL_SECONDS, admins)
        return admins

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


def _admin_uuids(groups: Any, group_id: str) -> list[str]:
    for group in groups if isinstance(groups, list) else ():
        if isinstance(group, dict) and group.get("id") == group_id:
            return [
                str(admin["uuid"])
                for admin in group.get("admins") or ()
                if isinstance(admin, dict) and admin.get("uuid")
            ]
    return []
