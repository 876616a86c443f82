"""A case: an alias, where and when, and the checklist of the first days after a detention.

A case names nobody: an alias or initials, a place, what the legal team wrote. Its whole
content is one encrypted record (see store.py); this module is its shape and the words
people use for its parts.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from plugins.sightings import ShortIds

CASE_IDS = ShortIds("C")
# The longest text a case keeps in one field; longer text is refused, not cut.
MAX_TEXT = 300
MAX_ALIAS = 24
MAX_ALIAS_WORDS = 2


class Origin(StrEnum):
    REPORT = "report"  # `!detained R7K3` on a sighting report
    ROOM = "room"  # `!case new` in a legal room
    CHECKIN = "checkin"  # a missed safety check-in


class Item(StrEnum):
    """The checklist, in the order it is shown; each is due this long after opening."""

    LOCATE = "locate"
    LAWYER = "lawyer"
    NEEDS = "needs"
    BOND = "bond"
    HEARING = "hearing"


DUE = {
    Item.LOCATE: timedelta(hours=6),
    Item.LAWYER: timedelta(hours=24),
    Item.NEEDS: timedelta(hours=24),
    Item.BOND: timedelta(hours=48),
    Item.HEARING: timedelta(hours=72),
}
_DUE = tuple(DUE.items())
# The field of the case that holds each item, but the needs (a list, or "none").
_FIELDS = {
    Item.LOCATE: "located",
    Item.LAWYER: "lawyer",
    Item.BOND: "bond",
    Item.HEARING: "hearing",
}
# The legal room is reminded of what is overdue at these times after opening, then daily.
REMINDERS = (timedelta(hours=6), timedelta(hours=24), timedelta(hours=48))
DAILY = timedelta(hours=24)

# Family needs, as the card lists them, and the mutual-aid kind each becomes.
NEEDS = {
    "childcare": "childcare",
    "groceries": "groceries",
    "rides": "ride",
    "rent": "money",
    "medicine": "medicine",
}


class Outcome(StrEnum):
    RELEASED = "released"
    BONDED = "bonded"
    TRANSFERRED = "transferred"
    DEPORTED = "deported"
    OTHER = "other"
    SAFE = "safe"  # a missed check-in, then the person wrote that they are safe


CLOSING = tuple(o for o in Outcome if o is not Outcome.SAFE)


@dataclass(frozen=True)
class Entry:
    """Something written on the case, and when."""

    text: str
    at: datetime


@dataclass(frozen=True)
class Hearing:
    at: datetime
    place: str
    shift: str | None  # the accompaniment shift on the dispatch rota, if one keeps it


@dataclass(frozen=True)
class Need:
    kind: str
    request: str | None = None  # the mutual-aid request it became
    state: str | None = None  # that request's last change: taken, done, expired, ...


@dataclass(frozen=True)
class Case:
    id: str
    area: str
    origin: Origin
    opened_at: datetime
    report_id: str | None = None
    alias: str | None = None
    where: str | None = None
    seen_at: datetime | None = None
    located: Entry | None = None
    lawyer: Entry | None = None
    bond: Entry | None = None
    hearing: Hearing | None = None
    needs: tuple[Need, ...] = ()
    no_needs: bool = False
    notes: tuple[Entry, ...] = ()
    closed: Outcome | None = None
    closed_at: datetime | None = None
    # Counts the changes: each edit of the card is keyed by it.
    version: int = 0

    def changed(self, **changes: Any) -> Case:
        return replace(self, version=self.version + 1, **changes)

    def done(self, item: Item) -> bool:
        if item is Item.NEEDS:
            return bool(self.needs) or self.no_needs
        return getattr(self, _FIELDS[item]) is not None

    def overdue(self, now: datetime) -> list[Item]:
        """What is past its due time and not done (`!cases` asks this of every open case:
        the due times are compared first, as most cases are on time)."""
        if self.closed is not None:
            return []
        elapsed = now - self.opened_at
        return [item for item, due in _DUE if elapsed >= due and not self.done(item)]

    def next_due(self, now: datetime) -> datetime | None:
        """The next due time after `now`, when what is overdue may change by itself."""
        elapsed = now - self.opened_at
        later = [due for _item, due in _DUE if due > elapsed]
        return self.opened_at + min(later) if later else None

    @property
    def finished(self) -> bool:
        """Closed, or nothing left on the checklist: no more reminders."""
        return self.closed is not None or all(self.done(item) for item in Item)

    def next_reminder(self, after: datetime) -> datetime:
        """The first reminder time after `after`: 6, 24 and 48 hours in, then daily."""
        for offset in REMINDERS:
            if self.opened_at + offset > after:
                return self.opened_at + offset
        days = (after - self.opened_at - REMINDERS[-1]) // DAILY + 1
        return self.opened_at + REMINDERS[-1] + days * DAILY


class Lateness:
    """What each case has overdue, worked out again only when the case changed or one of
    its due times passed: `!cases` asks it of every open case of the room."""

    def __init__(self) -> None:
        # case id -> (its version, worked out at, valid until, what is overdue)
        self._known: dict[str, tuple[int, datetime, datetime | None, list[Item]]] = {}

    def of(self, case: Case, now: datetime) -> list[Item]:
        known = self._known.get(case.id)
        if known is not None:
            version, since, until, items = known
            if version == case.version and since <= now and (until is None or now < until):
                return items
        items = case.overdue(now)
        self._known[case.id] = (case.version, now, case.next_due(now), items)
        return items

    def drop(self, case_ids: list[str]) -> None:
        for case_id in case_ids:
            self._known.pop(case_id, None)


# --- stored form ------------------------------------------------------------------------------


def to_json(case: Case) -> dict[str, Any]:
    return {
        "id": case.id,
        "area": case.area,
        "origin": case.origin.value,
        "opened_at": case.opened_at.isoformat(),
        "report_id": case.report_id,
        "alias": case.alias,
        "where": case.where,
        "seen_at": _time(case.seen_at),
        "located": _entry(case.located),
        "lawyer": _entry(case.lawyer),
        "bond": _entry(case.bond),
        "hearing": None
        if case.hearing is None
        else {
            "at": case.hearing.at.isoformat(),
            "place": case.hearing.place,
            "shift": case.hearing.shift,
        },
        "needs": [[n.kind, n.request, n.state] for n in case.needs],
        "no_needs": case.no_needs,
        "notes": [_entry(note) for note in case.notes],
        "closed": case.closed.value if case.closed else None,
        "closed_at": _time(case.closed_at),
        "version": case.version,
    }


def from_json(data: dict[str, Any]) -> Case:
    hearing = data["hearing"]
    return Case(
        id=data["id"],
        area=data["area"],
        origin=Origin(data["origin"]),
        opened_at=datetime.fromisoformat(data["opened_at"]),
        report_id=data["report_id"],
        alias=data["alias"],
        where=data["where"],
        seen_at=_parse_time(data["seen_at"]),
        located=_parse_entry(data["located"]),
        lawyer=_parse_entry(data["lawyer"]),
        bond=_parse_entry(data["bond"]),
        hearing=None
        if hearing is None
        else Hearing(datetime.fromisoformat(hearing["at"]), hearing["place"], hearing["shift"]),
        needs=tuple(Need(*need) for need in data["needs"]),
        no_needs=data["no_needs"],
        notes=tuple(e for note in data["notes"] if (e := _parse_entry(note)) is not None),
        closed=Outcome(data["closed"]) if data["closed"] else None,
        closed_at=_parse_time(data["closed_at"]),
        version=data["version"],
    )


def _time(moment: datetime | None) -> str | None:
    return moment.isoformat() if moment else None


def _parse_time(text: str | None) -> datetime | None:
    return datetime.fromisoformat(text) if text else None


def _entry(entry: Entry | None) -> list[str] | None:
    return None if entry is None else [entry.text, entry.at.isoformat()]


def _parse_entry(data: list[str] | None) -> Entry | None:
    return None if data is None else Entry(data[0], datetime.fromisoformat(data[1]))
