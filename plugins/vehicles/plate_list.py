"""The network's plate list: plates the moderators know, by category.

`agency` (a confirmed agency vehicle), `suspected` (for `[vehicles] suspected_days`, then
gone) and `cleared` (looked into: not an agency vehicle, with a note saying what it is).
Each entry is one row under the keyed hash of its canonical plate: the plate, category,
note and the moderator's name are encrypted together; the moderator is also kept as a keyed
hash, so that `!forgetme` can take their name out. No entry names a reporter.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import StrEnum
from typing import Any

from bot.api import Database, FieldCipher, utc_timestamp
from plugins.vehicles.index import plate_hash
from plugins.vehicles.plates import canonical, could_be, is_partial

ENTRY = "vehicles.list"  # cipher context


class Category(StrEnum):
    AGENCY = "agency"
    SUSPECTED = "suspected"
    CLEARED = "cleared"


@dataclass(frozen=True)
class Entry:
    plate: str  # as the moderator wrote it, in capitals
    category: Category
    note: str | None
    who: str | None  # the moderator's name; None once they asked to be forgotten
    set_at: datetime

    def expires_at(self, suspected_for: timedelta) -> datetime | None:
        return self.set_at + suspected_for if self.category is Category.SUSPECTED else None

    def live(self, now: datetime, suspected_for: timedelta) -> bool:
        expiry = self.expires_at(suspected_for)
        return expiry is None or now < expiry


class PlateList:
    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self._db = db
        self._cipher = cipher
        # The entries by keyed hash, read once, then kept current (in this process's memory
        # only): every report with a plate is compared with the list, without a look at
        # the database.
        self._listed: dict[str, Entry] | None = None

    async def put(self, entry: Entry, person: str) -> Entry | None:
        """Set the plate's entry (a whole plate); the entry it replaces, if any."""
        key = plate_hash(self._cipher, _form(entry.plate))
        listed = await self._entries()
        await self._db.execute(
            "INSERT INTO vehicle_plate_list (plate_hash, entry, set_by, set_at) VALUES"
            " (?, ?, ?, ?) ON CONFLICT (plate_hash) DO UPDATE SET entry = excluded.entry,"
            " set_by = excluded.set_by, set_at = excluded.set_at",
            (key, self._seal(entry), person, utc_timestamp(entry.set_at)),
        )
        before, listed[key] = listed.get(key), entry
        return before

    async def remove(self, plate: str) -> Entry | None:
        """Take the plate off the list; the entry it had, if any."""
        key = plate_hash(self._cipher, _form(plate))
        await self._db.execute("DELETE FROM vehicle_plate_list WHERE plate_hash = ?", (key,))
        return (await self._entries()).pop(key, None)

    async def find(self, plate: str, now: datetime, suspected_for: timedelta) -> list[Entry]:
        """The live entries `plate` (canonical) could be: its own, or for a partial plate
        those of every plate it could be."""
        listed = await self._entries()
        if not is_partial(plate):
            entry = listed.get(plate_hash(self._cipher, plate))
            found = [] if entry is None else [entry]
        else:
            found = [e for e in listed.values() if could_be(plate, _form(e.plate))]
        return [e for e in found if e.live(now, suspected_for)]

    async def entries(self) -> list[Entry]:
        """Every entry, expired ones included, oldest first."""
        return sorted((await self._entries()).values(), key=lambda entry: entry.set_at)

    async def live(self, now: datetime, suspected_for: timedelta) -> list[Entry]:
        return [e for e in await self.entries() if e.live(now, suspected_for)]

    async def sweep(self, now: datetime, suspected_for: timedelta) -> int:
        """Delete the suspected entries past their time; how many."""
        gone = [e for e in await self.entries() if not e.live(now, suspected_for)]
        for entry in gone:
            await self.remove(entry.plate)
        return len(gone)

    async def forget(self, person: str) -> int:
        """Take the moderator's name out of the entries they set (the entries stay)."""
        rows = await self._db.fetchall(
            "SELECT plate_hash, entry FROM vehicle_plate_list WHERE set_by = ?", (person,)
        )
        listed = await self._entries()
        for row in rows:
            nameless = replace(self._open(row["entry"]), who=None)
            await self._db.execute(
                "UPDATE vehicle_plate_list SET entry = ?, set_by = '' WHERE plate_hash = ?",
                (self._seal(nameless), row["plate_hash"]),
            )
            listed[row["plate_hash"]] = nameless
        return len(rows)

    async def _entries(self) -> dict[str, Entry]:
        if self._listed is None:
            rows = await self._db.fetchall("SELECT plate_hash, entry FROM vehicle_plate_list")
            self._listed = {row["plate_hash"]: self._open(row["entry"]) for row in rows}
        return self._listed

    def _seal(self, entry: Entry) -> bytes:
        data: dict[str, Any] = {
            "plate": entry.plate,
            "category": entry.category.value,
            "note": entry.note,
            "who": entry.who,
            "set_at": entry.set_at.isoformat(),
        }
        return self._cipher.encrypt_json(data, ENTRY)

    def _open(self, blob: bytes) -> Entry:
        data = self._cipher.decrypt_json(blob, ENTRY)
        return Entry(
            plate=data["plate"],
            category=Category(data["category"]),
            note=data["note"],
            who=data["who"],
            set_at=datetime.fromisoformat(data["set_at"]),
        )


def _form(plate: str) -> str:
    form = canonical(plate)
    if form is None:
        raise ValueError("not a plate")
    return form
