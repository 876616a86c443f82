"""Dispatch records: calls, the people answering them, and observations from the scene.

People are stored as keyed hashes; their ids, names and notes only encrypted.
"""

from __future__ import annotations

import sqlite3
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from bot.api import Database, FieldCipher, Transaction, utc_timestamp

WHO = "dispatch.who"
DETAIL = "dispatch.detail"


class State(StrEnum):
    GOING = "going"
    NOT_GOING = "notgoing"
    ON_SCENE = "onscene"


class Outcome(StrEnum):
    CONFIRMED = "confirmed"
    NOTHING = "nothing"
    GONE = "gone"


# When a report's first verifier said they go, and when the first arrived.
Firsts = tuple[datetime | None, datetime | None]


@dataclass(frozen=True)
class Call:
    report_id: str
    area: str
    called_at: datetime
    confirmed_at: datetime | None
    closed_at: datetime | None


@dataclass(frozen=True)
class Person:
    person: str
    user_id: str
    name: str
    responder: bool
    state: State
    eta: datetime | None
    going_at: datetime | None
    onscene_at: datetime | None
    heard_at: datetime
    asked_at: datetime | None


@dataclass(frozen=True)
class Observation:
    name: str
    outcome: Outcome
    note: str | None
    at: datetime


class DispatchStore:
    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self._db = db
        self._cipher = cipher

    # --- calls --------------------------------------------------------------------------

    async def add_call(self, report_id: str, area: str, at: datetime, tx: Transaction) -> None:
        await tx.execute(
            "INSERT OR IGNORE INTO dispatch_calls (report_id, area, called_at) VALUES (?, ?, ?)",
            (report_id, area, utc_timestamp(at)),
        )

    async def call(self, report_id: str) -> Call | None:
        row = await self._db.fetchone(
            "SELECT * FROM dispatch_calls WHERE report_id = ?", (report_id,)
        )
        return None if row is None else _call(row)

    async def calls(self, *, open_only: bool = False) -> list[Call]:
        """Every call, or only those not closed yet (no stand-down, no decision)."""
        rows = await self._db.fetchall(
            "SELECT * FROM dispatch_calls WHERE NOT ? OR closed_at IS NULL ORDER BY called_at",
            (open_only,),
        )
        return [_call(row) for row in rows]

    async def mark_confirmed(self, report_id: str, at: datetime) -> None:
        await self._db.execute(
            "UPDATE dispatch_calls SET confirmed_at = COALESCE(confirmed_at, ?)"
            " WHERE report_id = ?",
            (utc_timestamp(at), report_id),
        )

    async def close(self, report_id: str, at: datetime) -> None:
        await self._db.execute(
            "UPDATE dispatch_calls SET closed_at = COALESCE(closed_at, ?) WHERE report_id = ?",
            (utc_timestamp(at), report_id),
        )

    async def drop(self, report_id: str) -> None:
        """Erase a call and everything about it (its report is gone)."""
        await self._db.execute("DELETE FROM dispatch_calls WHERE report_id = ?", (report_id,))

    # --- people -------------------------------------------------------------------------

    async def answer(
        self,
        report_id: str,
        person: str,
        who: tuple[str, str],
        *,
        responder: bool,
        state: State,
        at: datetime,
        eta: datetime | None = None,
    ) -> None:
        """Record `state` for the person; times of first going and arriving are kept."""
        going = utc_timestamp(at) if state is State.GOING else None
        onscene = utc_timestamp(at) if state is State.ON_SCENE else None
        await self._db.execute(
            "INSERT INTO dispatch_people (report_id, person, who, responder, state, eta,"
            " going_at, onscene_at, heard_at) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)"
            " ON CONFLICT (report_id, person, responder) DO UPDATE SET who = excluded.who,"
            " state = excluded.state, eta = COALESCE(excluded.eta, eta),"
            " going_at = COALESCE(going_at, excluded.going_at),"
            " onscene_at = COALESCE(onscene_at, excluded.onscene_at),"
            " heard_at = excluded.heard_at, asked_at = NULL",
            (
                report_id,
                person,
                self._cipher.encrypt_json(list(who), WHO),
                int(responder),
                state.value,
                utc_timestamp(eta) if eta else None,
                going,
                onscene,
                utc_timestamp(at),
            ),
        )

    async def heard(self, report_id: str, person: str, at: datetime) -> bool:
        """A sign of life from someone who went; False if they had not said they go."""
        updated = await self._db.execute(
            "UPDATE dispatch_people SET heard_at = ?, asked_at = NULL"
            " WHERE report_id = ? AND person = ? AND responder = 0",
            (utc_timestamp(at), report_id, person),
        )
        return updated > 0

    async def asked(self, report_id: str, person: str, at: datetime) -> None:
        await self._db.execute(
            "UPDATE dispatch_people SET asked_at = ? WHERE report_id = ? AND person = ?"
            " AND responder = 0",
            (utc_timestamp(at), report_id, person),
        )

    async def people(self, report_id: str, *, responder: bool | None = None) -> list[Person]:
        rows = await self._db.fetchall(
            "SELECT * FROM dispatch_people WHERE report_id = ?"
            " AND (? IS NULL OR responder = ?) ORDER BY COALESCE(going_at, heard_at), rowid",
            (report_id, responder, responder),
        )
        return [self._person(row) for row in rows]

    async def verifier(self, report_id: str, person: str) -> Person | None:
        row = await self._db.fetchone(
            "SELECT * FROM dispatch_people WHERE report_id = ? AND person = ? AND responder = 0",
            (report_id, person),
        )
        return None if row is None else self._person(row)

    def _person(self, row: sqlite3.Row) -> Person:
        user_id, name = self._cipher.decrypt_json(row["who"], WHO)
        return Person(
            person=row["person"],
            user_id=user_id,
            name=name,
            responder=bool(row["responder"]),
            state=State(row["state"]),
            eta=_time(row["eta"]),
            going_at=_time(row["going_at"]),
            onscene_at=_time(row["onscene_at"]),
            heard_at=datetime.fromisoformat(row["heard_at"]),
            asked_at=_time(row["asked_at"]),
        )

    # --- observations -------------------------------------------------------------------

    async def observe(
        self,
        report_id: str,
        person: str,
        name: str,
        outcome: Outcome,
        note: str | None,
        at: datetime,
    ) -> None:
        await self._db.execute(
            "INSERT INTO dispatch_observations (report_id, person, outcome, detail, at)"
            " VALUES (?, ?, ?, ?, ?)",
            (
                report_id,
                person,
                outcome.value,
                self._cipher.encrypt_json({"name": name, "note": note}, DETAIL),
                utc_timestamp(at),
            ),
        )

    async def observations(self, report_id: str) -> list[Observation]:
        rows = await self._db.fetchall(
            "SELECT outcome, detail, at FROM dispatch_observations WHERE report_id = ? ORDER BY id",
            (report_id,),
        )
        observations = []
        for row in rows:
            detail = self._cipher.decrypt_json(row["detail"], DETAIL)
            at = datetime.fromisoformat(row["at"])
            observations.append(
                Observation(detail["name"], Outcome(row["outcome"]), detail["note"], at)
            )
        return observations

    # --- times for !stats ---------------------------------------------------------------

    async def firsts(self, report_id: str) -> Firsts:
        """When a verifier first said they go, and first arrived."""
        return (await self.firsts_of([report_id]))[report_id]

    async def firsts_of(self, report_ids: list[str]) -> dict[str, Firsts]:
        """`firsts` of several reports, in one query."""
        if not report_ids:
            return {}
        rows = await self._db.fetchall(
            "SELECT report_id, MIN(going_at) AS going, MIN(onscene_at) AS onscene"
            " FROM dispatch_people WHERE responder = 0 AND report_id IN"
            f" ({', '.join('?' * len(report_ids))}) GROUP BY report_id",
            report_ids,
        )
        found = {row["report_id"]: (_time(row["going"]), _time(row["onscene"])) for row in rows}
        return {report_id: found.get(report_id, (None, None)) for report_id in report_ids}

    # --- !forgetme ----------------------------------------------------------------------

    async def forget(self, person: str) -> list[str]:
        """Erase the person's answers and observations; the reports they were on."""
        rows = await self._db.fetchall(
            "SELECT DISTINCT report_id FROM dispatch_people WHERE person = ?"
            " UNION SELECT DISTINCT report_id FROM dispatch_observations WHERE person = ?",
            (person, person),
        )
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM dispatch_people WHERE person = ?", (person,))
            await tx.execute("DELETE FROM dispatch_observations WHERE person = ?", (person,))
        return [str(row["report_id"]) for row in rows]


def _call(row: sqlite3.Row) -> Call:
    return Call(
        report_id=row["report_id"],
        area=row["area"],
        called_at=datetime.fromisoformat(row["called_at"]),
        confirmed_at=_time(row["confirmed_at"]),
        closed_at=_time(row["closed_at"]),
    )


def _time(value: str | None) -> datetime | None:
    return datetime.fromisoformat(value) if value else None
