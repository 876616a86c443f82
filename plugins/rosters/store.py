"""Shifts, claims and the backup pool in the database.

Every change to who holds a slot runs in one `BEGIN IMMEDIATE` transaction that re-reads the
shift and its claims before writing, so two people racing for the last slot (or for an
offered one) can never both get it, even from two processes.
"""

from __future__ import annotations

import sqlite3
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime
from enum import Enum

from bot.api import Database, FieldCipher, Transaction, utc_timestamp
from plugins.rosters.model import Claim, Shift, Staffed
from plugins.rosters.windows import WatchWindow

WHO_CONTEXT = "rosters.who"


class Outcome(Enum):
    DONE = "done"
    KEPT = "kept"  # `!claim` of a slot you had offered: the offer is withdrawn
    WALK_UP = "walk_up"  # checked in on a shift you had not claimed
    ALREADY = "already"
    FULL = "full"
    STARTED = "started"
    GONE = "gone"
    NOT_YOURS = "not_yours"
    NONE_OFFERED = "none_offered"
    OWN = "own"


class Change(Enum):
    NEW = "new"
    MOVED = "moved"  # new times, or back after a cancellation: reminders are re-planned
    UPDATED = "updated"
    SAME = "same"


@dataclass(frozen=True)
class Taken:
    outcome: Outcome
    giver: str | None = None


class _Refused(Exception):
    def __init__(self, outcome: Outcome) -> None:
        super().__init__(outcome.value)
        self.outcome = outcome


class RosterStore:
    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self._db = db
        self._cipher = cipher

    # --- shifts -----------------------------------------------------------------------------

    async def upsert(
        self, site: str, window: WatchWindow, day: date, starts_at: datetime, ends_at: datetime
    ) -> tuple[Shift, Change]:
        times = (utc_timestamp(starts_at), utc_timestamp(ends_at))
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT * FROM roster_shifts WHERE site = ? AND window_name = ? AND day = ?",
                (site, window.name, day.isoformat()),
            )
            if row is None:
                await tx.execute(
                    "INSERT INTO roster_shifts"
                    " (site, window_name, day, starts_at, ends_at, need, cap)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?)",
                    (site, window.name, day.isoformat(), *times, window.need, window.cap),
                )
                change = Change.NEW
            else:
                change = _change(row, times, window)
                await tx.execute(
                    "UPDATE roster_shifts SET starts_at = ?, ends_at = ?, need = ?, cap = ?,"
                    " cancelled = 0 WHERE id = ?",
                    (*times, window.need, window.cap, row["id"]),
                )
            shift = await tx.fetchone(
                "SELECT * FROM roster_shifts WHERE site = ? AND window_name = ? AND day = ?",
                (site, window.name, day.isoformat()),
            )
        assert shift is not None
        return _shift(shift), change

    async def upcoming(self, after: datetime) -> list[Shift]:
        rows = await self._db.fetchall(
            "SELECT * FROM roster_shifts WHERE cancelled = 0 AND starts_at > ? ORDER BY starts_at",
            (utc_timestamp(after),),
        )
        return [_shift(row) for row in rows]

    async def cancel(self, shift_id: int) -> list[Claim]:
        """Cancel a shift; its claims are removed and returned (to tell those people)."""
        async with self._db.transaction() as tx:
            claims = await self._claims(tx, [shift_id])
            await tx.execute("DELETE FROM roster_claims WHERE shift_id = ?", (shift_id,))
            await tx.execute("UPDATE roster_shifts SET cancelled = 1 WHERE id = ?", (shift_id,))
        return claims

    async def shift(self, shift_id: int, *, cancelled: bool = False) -> Shift | None:
        """The shift, unless it was cancelled (or `cancelled` asks for it even so)."""
        row = await self._db.fetchone("SELECT * FROM roster_shifts WHERE id = ?", (shift_id,))
        return _shift(row) if row is not None and (cancelled or not row["cancelled"]) else None

    async def find(self, site: str, window: str, day: date) -> Shift | None:
        row = await self._db.fetchone(
            "SELECT * FROM roster_shifts WHERE site = ? AND window_name = ? AND day = ?"
            " AND cancelled = 0",
            (site, window, day.isoformat()),
        )
        return _shift(row) if row is not None else None

    async def staffed(self, shift_id: int) -> Staffed | None:
        shift = await self.shift(shift_id)
        if shift is None:
            return None
        async with self._db.transaction() as tx:
            return Staffed(shift, tuple(await self._claims(tx, [shift_id])))

    async def week(self, sites: Sequence[str], first: date, last: date) -> list[Staffed]:
        marks = ",".join("?" * len(sites))
        rows = await self._db.fetchall(
            f"SELECT * FROM roster_shifts WHERE cancelled = 0 AND site IN ({marks})"
            " AND day BETWEEN ? AND ? ORDER BY starts_at",
            (*sites, first.isoformat(), last.isoformat()),
        )
        return await self._with_claims([_shift(row) for row in rows])

    async def of_person(self, person: str, ending_after: datetime) -> list[Staffed]:
        rows = await self._db.fetchall(
            "SELECT s.* FROM roster_shifts s JOIN roster_claims c ON c.shift_id = s.id"
            " WHERE c.person = ? AND s.cancelled = 0 AND s.ends_at > ? ORDER BY s.starts_at",
            (person, utc_timestamp(ending_after)),
        )
        return await self._with_claims([_shift(row) for row in rows])

    async def around(
        self, sites: Sequence[str], start_before: datetime, end_after: datetime
    ) -> list[Staffed]:
        """Shifts of `sites` that start before `start_before` and end after `end_after`."""
        marks = ",".join("?" * len(sites))
        rows = await self._db.fetchall(
            f"SELECT * FROM roster_shifts WHERE cancelled = 0 AND site IN ({marks})"
            " AND starts_at <= ? AND ends_at > ? ORDER BY starts_at",
            (*sites, utc_timestamp(start_before), utc_timestamp(end_after)),
        )
        return await self._with_claims([_shift(row) for row in rows])

    async def purge(self, ended_before: datetime) -> int:
        """Erase shifts (and who held them) that ended before the retention cut-off."""
        return await self._db.execute(
            "DELETE FROM roster_shifts WHERE ends_at < ?", (utc_timestamp(ended_before),)
        )

    # --- slots ------------------------------------------------------------------------------

    async def claim(self, shift_id: int, user_id: str, person: str, now: datetime) -> Outcome:
        try:
            async with self._db.transaction() as tx:
                shift = await _live(tx, shift_id, now)
                mine = await _claim_row(tx, shift_id, person)
                if mine is not None and mine["offered_at"] is not None:
                    await _set(tx, "offered_at", None, shift_id, person)
                    return Outcome.KEPT
                if mine is not None:
                    return Outcome.ALREADY
                await self._insert(tx, shift, user_id, person, now)
        except _Refused as refused:
            return refused.outcome
        return Outcome.DONE

    async def unclaim(self, shift_id: int, person: str, now: datetime) -> Outcome:
        try:
            async with self._db.transaction() as tx:
                await _live(tx, shift_id, now)
                deleted = await tx.execute(
                    "DELETE FROM roster_claims WHERE shift_id = ? AND person = ?",
                    (shift_id, person),
                )
        except _Refused as refused:
            return refused.outcome
        return Outcome.DONE if deleted else Outcome.NOT_YOURS

    async def offer(self, shift_id: int, person: str, now: datetime) -> Outcome:
        try:
            async with self._db.transaction() as tx:
                await _live(tx, shift_id, now)
                mine = await _claim_row(tx, shift_id, person)
                if mine is None:
                    return Outcome.NOT_YOURS
                if mine["offered_at"] is not None:
                    return Outcome.ALREADY
                await _set(tx, "offered_at", utc_timestamp(now), shift_id, person)
        except _Refused as refused:
            return refused.outcome
        return Outcome.DONE

    async def take(self, shift_id: int, user_id: str, person: str, now: datetime) -> Taken:
        """Move the oldest offered slot of the shift to `person`; nobody else can get it."""
        try:
            async with self._db.transaction() as tx:
                await _live(tx, shift_id, now)
                mine = await _claim_row(tx, shift_id, person)
                if mine is not None:
                    return Taken(Outcome.OWN if mine["offered_at"] else Outcome.ALREADY)
                offered = await tx.fetchone(
                    "SELECT person, who FROM roster_claims WHERE shift_id = ?"
                    " AND offered_at IS NOT NULL ORDER BY offered_at, claimed_at LIMIT 1",
                    (shift_id,),
                )
                if offered is None:
                    return Taken(Outcome.NONE_OFFERED)
                await tx.execute(
                    "DELETE FROM roster_claims WHERE shift_id = ? AND person = ?",
                    (shift_id, offered["person"]),
                )
                await self._write_claim(tx, shift_id, user_id, person, now)
        except _Refused as refused:
            return Taken(refused.outcome)
        return Taken(Outcome.DONE, self._cipher.decrypt(offered["who"], WHO_CONTEXT))

    async def check_in(self, shift_id: int, user_id: str, person: str, now: datetime) -> Outcome:
        """Check in; someone who had not claimed the shift gets a slot if one is free."""
        try:
            async with self._db.transaction() as tx:
                shift = await _shift_row(tx, shift_id)
                mine = await _claim_row(tx, shift_id, person)
                if mine is not None and mine["checked_in_at"] is not None:
                    return Outcome.ALREADY
                if mine is not None:
                    await _set(tx, "checked_in_at", utc_timestamp(now), shift_id, person)
                    return Outcome.DONE
                await self._insert(tx, shift, user_id, person, now, checked_in=True)
        except _Refused as refused:
            return refused.outcome
        return Outcome.WALK_UP

    async def check_out(self, shift_id: int, person: str, now: datetime) -> bool:
        changed = await self._db.execute(
            "UPDATE roster_claims SET checked_out_at = ? WHERE shift_id = ? AND person = ?"
            " AND checked_in_at IS NOT NULL AND checked_out_at IS NULL",
            (utc_timestamp(now), shift_id, person),
        )
        return changed > 0

    async def _insert(
        self,
        tx: Transaction,
        shift: Shift,
        user_id: str,
        person: str,
        now: datetime,
        *,
        checked_in: bool = False,
    ) -> None:
        row = await tx.fetchone(
            "SELECT COUNT(*) AS n FROM roster_claims WHERE shift_id = ?", (shift.id,)
        )
        if row is not None and row["n"] >= shift.cap:
            raise _Refused(Outcome.FULL)
        await self._write_claim(tx, shift.id, user_id, person, now, checked_in=checked_in)

    async def _write_claim(
        self,
        tx: Transaction,
        shift_id: int,
        user_id: str,
        person: str,
        now: datetime,
        *,
        checked_in: bool = False,
    ) -> None:
        await tx.execute(
            "INSERT INTO roster_claims (shift_id, person, who, claimed_at, checked_in_at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                shift_id,
                person,
                self._cipher.encrypt(user_id, WHO_CONTEXT),
                utc_timestamp(now),
                utc_timestamp(now) if checked_in else None,
            ),
        )

    async def forget(self, person: str) -> None:
        """Every claim of the person, past and future, and their place in backup pools; a
        shift left short is announced by its coverage check as any other."""
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM roster_claims WHERE person = ?", (person,))
            await tx.execute("DELETE FROM roster_backups WHERE person = ?", (person,))

    # --- backup pool ------------------------------------------------------------------------

    async def set_backup(
        self, site: str, user_id: str, person: str, on: bool, now: datetime
    ) -> None:
        if on:
            await self._db.execute(
                "INSERT INTO roster_backups (site, person, who, since) VALUES (?, ?, ?, ?)"
                " ON CONFLICT (site, person) DO NOTHING",
                (site, person, self._cipher.encrypt(user_id, WHO_CONTEXT), utc_timestamp(now)),
            )
        else:
            await self._db.execute(
                "DELETE FROM roster_backups WHERE site = ? AND person = ?", (site, person)
            )

    async def backups(self, site: str) -> dict[str, str]:
        """The backup pool of a site: person -> user id, oldest member first."""
        rows = await self._db.fetchall(
            "SELECT person, who FROM roster_backups WHERE site = ? ORDER BY since, person",
            (site,),
        )
        return {row["person"]: self._cipher.decrypt(row["who"], WHO_CONTEXT) for row in rows}

    # --- reading claims ---------------------------------------------------------------------

    async def _with_claims(self, shifts: list[Shift]) -> list[Staffed]:
        if not shifts:
            return []
        async with self._db.transaction() as tx:
            claims = await self._claims(tx, [shift.id for shift in shifts])
        return [
            Staffed(shift, tuple(c for c in claims if c.shift_id == shift.id)) for shift in shifts
        ]

    async def _claims(self, tx: Transaction, shift_ids: Iterable[int]) -> list[Claim]:
        ids = list(shift_ids)
        rows = await tx.fetchall(
            f"SELECT * FROM roster_claims WHERE shift_id IN ({','.join('?' * len(ids))})"
            " ORDER BY claimed_at, person",
            ids,
        )
        return [self._claim(row) for row in rows]

    def _claim(self, row: sqlite3.Row) -> Claim:
        return Claim(
            shift_id=row["shift_id"],
            person=row["person"],
            user_id=self._cipher.decrypt(row["who"], WHO_CONTEXT),
            offered=row["offered_at"] is not None,
            checked_in=row["checked_in_at"] is not None,
            checked_out=row["checked_out_at"] is not None,
        )


async def _shift_row(tx: Transaction, shift_id: int) -> Shift:
    row = await tx.fetchone("SELECT * FROM roster_shifts WHERE id = ?", (shift_id,))
    if row is None or row["cancelled"]:
        raise _Refused(Outcome.GONE)
    return _shift(row)


async def _live(tx: Transaction, shift_id: int, now: datetime) -> Shift:
    """The shift, if it still takes changes: not cancelled and not started."""
    shift = await _shift_row(tx, shift_id)
    if shift.starts_at <= now:
        raise _Refused(Outcome.STARTED)
    return shift


async def _claim_row(tx: Transaction, shift_id: int, person: str) -> sqlite3.Row | None:
    return await tx.fetchone(
        "SELECT * FROM roster_claims WHERE shift_id = ? AND person = ?", (shift_id, person)
    )


async def _set(tx: Transaction, column: str, value: str | None, shift_id: int, person: str) -> None:
    # `column` is always one of the literal names above, never user input.
    await tx.execute(
        f"UPDATE roster_claims SET {column} = ? WHERE shift_id = ? AND person = ?",
        (value, shift_id, person),
    )


def _change(row: sqlite3.Row, times: tuple[str, str], window: WatchWindow) -> Change:
    if row["cancelled"] or (row["starts_at"], row["ends_at"]) != times:
        return Change.MOVED
    if (row["need"], row["cap"]) != (window.need, window.cap):
        return Change.UPDATED
    return Change.SAME


def _shift(row: sqlite3.Row) -> Shift:
    return Shift(
        id=row["id"],
        site=row["site"],
        window=row["window_name"],
        day=date.fromisoformat(row["day"]),
        starts_at=datetime.fromisoformat(row["starts_at"]),
        ends_at=datetime.fromisoformat(row["ends_at"]),
        need=row["need"],
        cap=row["cap"],
        cancelled=bool(row["cancelled"]),
    )
