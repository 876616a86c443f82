"""What the cases plugin publishes for other plugins: `bot.service(Cases)`.

The safety check-ins open a case when someone does not come back from an appointment, say
when they turn up safe, and erase the alias they chose when they use `!forgetme`.
"""

from __future__ import annotations

from datetime import datetime

from plugins.cases.desk import Desk
from plugins.cases.model import MAX_ALIAS, MAX_TEXT, Case, Origin, Outcome
from plugins.cases.privacy import refusal


class Cases:
    def __init__(self, desk: Desk) -> None:
        self._desk = desk

    async def open_for_missed_checkin(
        self, area: str, alias: str, place: str | None, planned_at: datetime
    ) -> str:
        """Opens a case in `area`'s legal rooms (nearest area up the tree that has one) for
        a person who did not check in; returns the case id ("C..."). The card says it came
        from a missed safety check-in. An alias or place the cases would refuse (an
        A-number, a date of birth, too long) is left out rather than stored."""
        case, _ = await self._desk.open(
            area,
            Origin.CHECKIN,
            alias=self._kept(alias, MAX_ALIAS),
            where=self._kept(place, MAX_TEXT),
            seen_at=planned_at,
        )
        return case.id

    async def mark_safe(self, case_id: str) -> None:
        """The person checked in late: the legal rooms are told they are safe, and the case
        closes as "safe" (erased like any closed case)."""
        case = self._desk.store.get(case_id)
        if case is None or case.closed is not None:
            return
        now = self._desk.now()

        def safe(case: Case) -> Case:
            return case.changed(closed=Outcome.SAFE, closed_at=now)

        await self._desk.change(case_id, safe, lambda view: view.t("cases.safe", id=case_id))

    async def forget_alias(self, case_id: str) -> None:
        """The person behind a check-in used !forgetme: erase the case's alias."""
        if self._desk.store.get(case_id) is not None:
            await self._desk.change(case_id, lambda case: case.changed(alias=None))

    def _kept(self, text: str | None, longest: int) -> str | None:
        if text is None or not text.strip() or len(text) > longest:
            return None
        return None if refusal(text, self._desk.now().date()) else text.strip()
