"""Cases in the database, and in memory while the bot runs.

A case is one encrypted row; the bot reads them all once at start and keeps them, so a
listing of a thousand open cases decrypts nothing. Every change goes to the database first,
under one lock, so two changes to one case at once cannot lose either.
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from datetime import datetime

from bot.api import Database, FieldCipher, utc_timestamp
from plugins.cases.model import CASE_IDS, Case, from_json, to_json

DATA_CONTEXT = "cases.case"
REPORT_PURPOSE = "cases.report"


class CaseStore:
    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self._db = db
        self._cipher = cipher
        self._cases: dict[str, Case] = {}
        self._lock = asyncio.Lock()

    async def load(self) -> None:
        rows = await self._db.fetchall("SELECT data FROM cases ORDER BY opened_at, id")
        cases = (from_json(self._cipher.decrypt_json(row["data"], DATA_CONTEXT)) for row in rows)
        self._cases = {case.id: case for case in cases}

    def get(self, case_id: str) -> Case | None:
        return self._cases.get(case_id)

    def open_cases(self) -> list[Case]:
        """Open cases, oldest first (kept in the order they were opened)."""
        return [case for case in self._cases.values() if case.closed is None]

    async def of_report(self, report_id: str) -> Case | None:
        row = await self._db.fetchone(
            "SELECT id FROM cases WHERE report = ?", (self._report_key(report_id),)
        )
        return None if row is None else self._cases.get(row["id"])

    async def add(self, report_id: str | None, make: Callable[[str], Case]) -> tuple[Case, bool]:
        """A new case under a fresh id (`make` builds it), and True; for a report that
        already has one, that one and False."""
        async with self._lock:
            if report_id is not None and (found := await self.of_report(report_id)):
                return found, False
            case = make(self._fresh_id())
            report = self._report_key(report_id) if report_id else None
            await self._db.execute(
                "INSERT INTO cases (id, report, opened_at, data) VALUES (?, ?, ?, ?)",
                (case.id, report, utc_timestamp(case.opened_at), self._sealed(case)),
            )
            self._cases[case.id] = case
            return case, True

    async def update(self, case_id: str, change: Callable[[Case], Case]) -> Case:
        """Apply `change` to the case as it stands, store and return the result."""
        async with self._lock:
            case = change(self._cases[case_id])
            closed = utc_timestamp(case.closed_at) if case.closed_at else None
            await self._db.execute(
                "UPDATE cases SET data = ?, closed_at = ? WHERE id = ?",
                (self._sealed(case), closed, case.id),
            )
            self._cases[case.id] = case
            return case

    async def purge(self, closed_before: datetime) -> list[str]:
        """Erase the cases closed before the cut-off; returns their ids."""
        async with self._lock:
            gone = [
                case.id
                for case in self._cases.values()
                if case.closed_at is not None and case.closed_at < closed_before
            ]
            await self._db.execute(
                "DELETE FROM cases WHERE closed_at < ?", (utc_timestamp(closed_before),)
            )
            for case_id in gone:
                del self._cases[case_id]
            return gone

    def _fresh_id(self) -> str:
        # Three characters give 24,000 ids; longer ones once a third of those are in use.
        length = 3 if len(self._cases) < 8000 else 4
        while (case_id := CASE_IDS.random(length)) in self._cases:
            pass
        return case_id

    def _sealed(self, case: Case) -> bytes:
        return self._cipher.encrypt_json(to_json(case), DATA_CONTEXT)

    def _report_key(self, report_id: str) -> str:
        return self._cipher.keyed_hash(report_id, REPORT_PURPOSE)
