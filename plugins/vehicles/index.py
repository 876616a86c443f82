"""The plates of the reports still kept, to compare a new report's plates with.

Stored: each plate encrypted (as written), with a keyed hash of its canonical form, the
report and when it was filed. A whole plate is found by its hash, in the database's index.
A partial one ("ABC1**") has no hash to look up: it is compared with the canonical plates of
its length, which this process keeps in memory (decrypted once at start, then kept current;
never written anywhere), in order, so that those beginning as it begins are found by
bisection; the plates it could be are then looked up by their hashes. Every plate is also
compared with the partial plates stored, so "ABC123" finds an earlier "ABC1**" too: those
are kept by the places they were read at, so that a plate read at all those places is
looked up, not compared with each.
"""

from __future__ import annotations

from bisect import bisect_left, insort
from collections.abc import Awaitable, Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from operator import itemgetter

from bot.api import Database, FieldCipher, utc_timestamp
from plugins.vehicles.plates import (
    UNKNOWN,
    canonical,
    is_partial,
    matchable,
    pattern,
)

PLATE = "vehicles.plate"  # cipher context, and keyed-hash purpose


@dataclass(frozen=True)
class Seen:
    """A plate of a report still kept."""

    seq: int  # the order it was stored in: lower is earlier
    report_id: str
    plate: str  # as written
    filed_at: datetime


def plate_hash(cipher: FieldCipher, plate: str) -> str:
    """The keyed hash a canonical plate is stored and found under."""
    return cipher.keyed_hash(plate, PLATE)


class ReportPlates:
    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self._db = db
        self._cipher = cipher
        # Whether the plates below were read from the table (again after a purge).
        self._read = False
        # Canonical plates stored, by length: partial ones, by the places they were read at;
        # whole ones in order, and as one text, a line each, for a partial plate whose first
        # character was not read (scanned at C speed; made when needed).
        self._partial: dict[int, dict[tuple[int, ...], set[str]]] = {}
        self._sorted: dict[int, list[str]] = {}
        self._joined: dict[int, str] = {}
        # When each canonical plate was first stored, and each report's plates (most reports
        # have none: their cards ask nothing more), as `seq`: a new plate's own row is then
        # never read back to find that nothing came before it.
        self._first: dict[str, int] = {}
        self._reports: dict[str, int] = {}

    async def add(self, report_id: str, plates: Iterable[str], filed_at: datetime) -> None:
        """Keep the report's plates (again: nothing changes)."""
        await self._loaded()
        for plate in plates:
            form = canonical(plate)
            if form is None or not matchable(form):
                continue
            row = await self._db.fetchone(
                "INSERT OR IGNORE INTO vehicle_report_plates (report_id, plate_hash, plate,"
                " filed_at) VALUES (?, ?, ?, ?) RETURNING seq",
                (
                    report_id,
                    plate_hash(self._cipher, form),
                    self._cipher.encrypt(plate, PLATE),
                    utc_timestamp(filed_at),
                ),
            )
            if row is not None:
                self._remember(report_id, form, int(row["seq"]))

    async def has_plates(self, report_id: str) -> bool:
        """Whether the report's plates are kept (without a look at the database)."""
        return await self.seq_of(report_id) is not None

    async def seq_of(self, report_id: str) -> int | None:
        """Where the report's plates stand in the order they were stored, if it has any."""
        await self._loaded()
        return self._reports.get(report_id)

    async def matching(self, plate: str, before: int | None = None) -> list[Seen]:
        """The stored plates that `plate` (canonical) could be, oldest first; with `before`,
        only those of plates first stored before that `seq`."""
        forms = await self.could_be(plate)
        if before is not None:
            forms = [form for form in forms if self._first[form] < before]
        hashes = [plate_hash(self._cipher, form) for form in forms]
        if not hashes:
            return []
        marks = ", ".join("?" for _ in hashes)
        rows = await self._db.fetchall(
            "SELECT seq, report_id, plate, filed_at FROM vehicle_report_plates"
            f" WHERE plate_hash IN ({marks}) ORDER BY seq",
            hashes,
        )
        return [
            Seen(
                int(row["seq"]),
                row["report_id"],
                self._cipher.decrypt(row["plate"], PLATE),
                datetime.fromisoformat(row["filed_at"]),
            )
            for row in rows
        ]

    async def could_be(self, plate: str) -> list[str]:
        """The canonical plates stored that `plate` could be (itself, if stored)."""
        if not matchable(plate):
            return []
        await self._loaded()
        found = self._partial_matching(plate)
        if not is_partial(plate):
            return [plate, *found] if plate in self._first else found
        return found + self._whole_matching(plate)

    async def reports(self) -> list[str]:
        rows = await self._db.fetchall("SELECT DISTINCT report_id FROM vehicle_report_plates")
        return [row["report_id"] for row in rows]

    async def drop_gone(self, gone: Callable[[str], Awaitable[bool]]) -> int:
        """Forget the plates of the reports that are no longer kept; how many reports."""
        dropped: Sequence[str] = [r for r in await self.reports() if await gone(r)]
        for report_id in dropped:
            await self._db.execute(
                "DELETE FROM vehicle_report_plates WHERE report_id = ?", (report_id,)
            )
        if dropped:
            self._read = False  # read again at the next comparison
        return len(dropped)

    async def _loaded(self) -> None:
        if not self._read:
            self._read = True
            self._partial, self._sorted, self._joined = {}, {}, {}
            self._first, self._reports = {}, {}
            rows = await self._db.fetchall(
                "SELECT seq, report_id, plate FROM vehicle_report_plates ORDER BY seq"
            )
            for row in rows:
                form = canonical(self._cipher.decrypt(row["plate"], PLATE))
                if form is not None:
                    self._remember(row["report_id"], form, int(row["seq"]))

    def _remember(self, report_id: str, form: str, seq: int) -> None:
        """Note a plate stored under `seq` (stored in increasing order)."""
        self._reports.setdefault(report_id, seq)
        if form in self._first:
            return
        self._first[form] = seq
        if is_partial(form):
            by_places = self._partial.setdefault(len(form), {})
            by_places.setdefault(_read_at(form), set()).add(form)
            return
        insort(self._sorted.setdefault(len(form), []), form)
        self._joined.pop(len(form), None)

    def _partial_matching(self, plate: str) -> list[str]:
        """The partial plates stored that agree with `plate` wherever both were read: of
        those read at places where `plate` was read too, the one it would be, looked up."""
        found: list[str] = []
        for places, forms in self._partial.get(len(plate), {}).items():
            both = tuple(place for place in places if plate[place] != UNKNOWN)
            if both == places:
                read = "".join(plate[i] if i in places else UNKNOWN for i in range(len(plate)))
                found += [read] if read in forms else []
            else:
                found += _agreeing_at(plate, both, forms)
        return found

    def _whole_matching(self, plate: str) -> list[str]:
        """The whole plates stored that the partial `plate` could be."""
        ordered = self._sorted.get(len(plate), [])
        read_first = plate[: plate.index(UNKNOWN)]
        if not read_first:
            if len(plate) not in self._joined:
                self._joined[len(plate)] = "\n".join(ordered)
            return pattern(plate).findall(self._joined[len(plate)])
        # Canonical plates are capitals and digits: every one that begins with
        # `read_first` sorts before `read_first` followed by "~".
        begin, end = bisect_left(ordered, read_first), bisect_left(ordered, read_first + "~")
        return _agreeing_at(plate, _read_at(plate), ordered[begin:end])


def _read_at(plate: str) -> tuple[int, ...]:
    """The places where a canonical plate was read."""
    return tuple(i for i, ch in enumerate(plate) if ch != UNKNOWN)


def _agreeing_at(plate: str, places: tuple[int, ...], forms: Collection[str]) -> list[str]:
    """The plates among `forms` (of its length) that read as `plate` reads at `places`."""
    if not places:
        return list(forms)
    read = itemgetter(*places)  # the characters at those places, taken at C speed
    wanted = read(plate)
    return [form for form in forms if read(form) == wanted]
