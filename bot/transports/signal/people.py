"""What signal-cli knows about people: who is in a group and administers it, identity keys.

Groups are read with `listGroups`, whose members and admins are `{"number", "uuid"}`
objects; the bot itself is among them (by its account number) and is kept apart.
"""

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
    """A group as signal-cli lists it; `admins` and `members` are uuids, the bot excepted."""

    admins: frozenset[str]
    members: frozenset[str]
    name: str | None = None
    # Whether the bot is in the group (signal-cli keeps listing groups it left) and
    # among its admins.
    bot_is_member: bool = False
    bot_is_admin: bool = False
    # The members whose phone number the account sees: (number, uuid) pairs.
    numbers: tuple[tuple[str, str], ...] = ()


class People:
    def __init__(self, daemon: Daemon, account: str) -> None:
        self._daemon = daemon
        self._account = account
        self._groups: dict[str, tuple[float, Group]] = {}

    async def group_admins(self, group_id: str) -> frozenset[str]:
        """The uuids of the group's admins, the bot excepted (the last known ones if
        signal-cli fails)."""
        return (await self._group(group_id)).admins

    async def group_members(self, group_id: str) -> frozenset[str]:
        """The uuids of the group's members, the bot excepted (the last known ones if
        signal-cli fails)."""
        return (await self._group(group_id)).members

    async def group_name(self, group_id: str) -> str | None:
        return (await self._group(group_id)).name

    async def group(self, group_id: str, *, fresh: bool = False) -> Group:
        """The group as last read (at most `GROUP_TTL_SECONDS` ago, or now if `fresh`);
        raises `RpcError` or `DaemonUnavailable` when signal-cli cannot tell."""
        now = asyncio.get_running_loop().time()
        cached = self._groups.get(group_id)
        if cached is not None and cached[0] > now and not fresh:
            return cached[1]
        groups = await self._daemon.call("listGroups", {"groupId": group_id})
        group = _group_of(groups, group_id, self._account)
        self._groups[group_id] = (now + GROUP_TTL_SECONDS, group)
        return group

    def forget(self, group_id: str) -> None:
        """The group changed: read it again next time."""
        self._groups.pop(group_id, None)

    async def _group(self, group_id: str) -> Group:
        try:
            return await self.group(group_id)
        except (RpcError, DaemonUnavailable) as error:
            log.warning("could not read a group's members: %s", type(error).__name__)
        cached = self._groups.get(group_id)
        return cached[1] if cached is not None else Group(frozenset(), frozenset())

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


def _group_of(groups: Any, group_id: str, account: str) -> Group:
    for group in groups if isinstance(groups, list) else ():
        if isinstance(group, dict) and group.get("id") == group_id:
            name = group.get("name")
            admins, bot_is_admin = _uuids(group.get("admins"), account)
            members, bot_listed = _uuids(group.get("members"), account)
            return Group(
                admins,
                members,
                name if isinstance(name, str) and name else None,
                bot_is_member=bot_listed and group.get("isMember") is not False,
                bot_is_admin=bot_is_admin,
                numbers=_numbers(group.get("members"), account),
            )
    return Group(frozenset(), frozenset())


def _numbers(people: Any, account: str) -> tuple[tuple[str, str], ...]:
    """(number, uuid) of the listed people whose number is shown, the bot excepted."""
    listed = [p for p in (people if isinstance(people, list) else ()) if isinstance(p, dict)]
    return tuple(
        (str(person["number"]), str(person["uuid"]))
        for person in listed
        if person.get("number") and person.get("uuid") and person.get("number") != account
    )


def _uuids(people: Any, account: str) -> tuple[frozenset[str], bool]:
    """The uuids of the listed people but the bot, and whether the bot was listed."""
    listed = [p for p in (people if isinstance(people, list) else ()) if isinstance(p, dict)]
    others = [person for person in listed if person.get("number") != account]
    uuids = frozenset(str(person["uuid"]) for person in others if person.get("uuid"))
    return uuids, len(others) < len(listed)
