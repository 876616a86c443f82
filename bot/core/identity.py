"""People's identity keys, trusted on first use; a changed key flags the person.

A transport reports each user's identity key (Matrix: the cross-signing master key) as it
learns it. The first key seen is trusted. A different key later flags the person: a
flagged moderator or admin acts with a neighbor's rights only, until an admin has checked
with them (in person) and runs `!trust`. The moderation rooms are told of the change.
People are stored as keyed hashes only; the keys are public.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from enum import Enum

from bot.storage.database import Database, utc_timestamp

log = logging.getLogger(__name__)


def readable_key(key: str, group: int = 4) -> str:
    """An identity key in groups of four, to read out over the phone or compare by eye."""
    return " ".join(key[i : i + group] for i in range(0, len(key), group))


class Seen(Enum):
    KNOWN = "known"  # nothing new
    FIRST = "first"  # first sight: trusted from now on
    CHANGED = "changed"  # a key other than the trusted one: flagged
    RESTORED = "restored"  # back to the trusted key: no longer flagged


class TrustResult(Enum):
    TRUSTED = "trusted"  # the new key is trusted now
    NOT_FLAGGED = "not_flagged"
    UNKNOWN = "unknown"  # no key seen for this person


class IdentityRegistry:
    def __init__(self, db: Database, person: Callable[[str], str]) -> None:
        self._db = db
        self._person = person

    async def seen(self, user_id: str, key: str) -> Seen:
        person = self._person(user_id)
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT trusted_key, current_key FROM identities WHERE person = ?", (person,)
            )
            if row is None:
                await tx.execute(
                    "INSERT INTO identities (person, trusted_key, current_key, first_seen)"
                    " VALUES (?, ?, ?, ?)",
                    (person, key, key, utc_timestamp()),
                )
                return Seen.FIRST
            if row["current_key"] == key:
                return Seen.KNOWN
            await tx.execute(
                "UPDATE identities SET current_key = ?, changed_at = ? WHERE person = ?",
                (key, utc_timestamp(), person),
            )
        return Seen.RESTORED if key == row["trusted_key"] else Seen.CHANGED

    async def flagged(self, user_id: str) -> bool:
        row = await self._db.fetchone(
            "SELECT 1 FROM identities WHERE person = ? AND trusted_key != current_key",
            (self._person(user_id),),
        )
        return row is not None

    async def trust(self, user_id: str) -> TrustResult:
        """Trust the person's current key (an admin checked it with them)."""
        person = self._person(user_id)
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT trusted_key, current_key FROM identities WHERE person = ?", (person,)
            )
            if row is None:
                return TrustResult.UNKNOWN
            if row["trusted_key"] == row["current_key"]:
                return TrustResult.NOT_FLAGGED
            await tx.execute(
                "UPDATE identities SET trusted_key = current_key WHERE person = ?", (person,)
            )
        return TrustResult.TRUSTED

    async def forget(self, user_id: str) -> None:
        await self._db.execute("DELETE FROM identities WHERE person = ?", (self._person(user_id),))

    async def current_key(self, user_id: str) -> str | None:
        row = await self._db.fetchone(
            "SELECT current_key FROM identities WHERE person = ?", (self._person(user_id),)
        )
        return None if row is None else str(row["current_key"])
