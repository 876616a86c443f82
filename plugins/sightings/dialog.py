"""The guided report: where? what? how many? vehicles? anything else? — one at a time.

A dialog is stored (encrypted) after every answer, so it survives a restart; one person
has at most one. Its steps only collect raw text per field, checked as they come in; the
finished dialog is turned into a report by the same code as a written report.
"""

from __future__ import annotations

import re
from dataclasses import asdict, dataclass, field
from datetime import datetime
from typing import Any

from bot.api import Database, FieldCipher, Language, RoomRef, utc_timestamp
from plugins.sightings import vocabulary as words
from plugins.sightings.model import AttachmentNote, Problem, ProblemError
from plugins.sightings.parser import keyed_fields, merge_fields, parse_count, parse_vehicles

STEPS = ("location", "what", "agents", "vehicles", "more")
STATE = "reports.dialog"
_GEO = re.compile(r"^geo:(-?[0-9]{1,3}(?:\.[0-9]+)?),(-?[0-9]{1,3}(?:\.[0-9]+)?)")


@dataclass
class Dialog:
    transport: str
    room_id: str
    # The `!report` message that started it: the dialog's thread, and later the report's.
    root: str
    user_id: str
    lang: Language
    started_at: str
    step: int = 0
    raw: dict[str, str] = field(default_factory=dict)
    geo: str | None = None
    attachments: list[dict[str, str | None]] = field(default_factory=list)
    # The report's area where the room does not say (a direct chat).
    area: str | None = None
    # The answers that carried the plate: removed from the room once the report is filed.
    plate_events: list[str] = field(default_factory=list)
    # Started by a written report that lacked its place: filed once the place is given.
    written: bool = False

    @property
    def room(self) -> RoomRef:
        return RoomRef(self.transport, self.room_id)

    @property
    def step_name(self) -> str:
        return STEPS[self.step]

    def observed_default(self) -> datetime:
        return datetime.fromisoformat(self.started_at)

    def attachment_notes(self) -> list[AttachmentNote]:
        return [AttachmentNote.model_validate(a) for a in self.attachments]

    def belongs(self, room: RoomRef, thread_root: str | None) -> bool:
        """An answer is in the dialog's thread, or in the same room outside any thread
        (Signal and the console have no threads, and not everyone finds the thread)."""
        return room == self.room and thread_root in (None, self.root)


@dataclass(frozen=True)
class Ask:
    """Ask the question of the dialog's current step."""


@dataclass(frozen=True)
class Retry:
    problem: Problem


@dataclass(frozen=True)
class Finished:
    pass


@dataclass(frozen=True)
class Cancelled:
    pass


Outcome = Ask | Retry | Finished | Cancelled


def answer(dialog: Dialog, text: str) -> Outcome:
    """Apply a typed answer to the current step; the dialog is changed in place."""
    folded = words.fold(text)
    if folded in words.CANCEL_WORDS:
        return Cancelled()
    skipped = folded in words.SKIP_WORDS
    try:
        if not skipped:
            _take(dialog, dialog.step_name, text.strip())
        elif dialog.step_name == "location":
            return Retry(Problem("location_required", "location"))
    except ProblemError as error:
        return Retry(error.problem)
    return _advance(dialog)


def answer_location(dialog: Dialog, geo_uri: str, description: str) -> Outcome:
    """A shared location (Matrix m.location) answers "where?" at any step."""
    match = _GEO.match(geo_uri.strip())
    if match is None:
        return Retry(Problem("bad_geo", "location"))
    place = description.strip()
    if not place or "geo:" in place:
        place = f"{float(match[1]):.5f}, {float(match[2]):.5f}"
    dialog.raw["location"], dialog.geo = place, geo_uri.strip()
    return _advance(dialog) if dialog.step_name == "location" else Ask()


def add_attachment(dialog: Dialog, note: AttachmentNote) -> None:
    dialog.attachments.append(note.model_dump())


def _take(dialog: Dialog, step: str, text: str) -> None:
    if step == "location":
        if not text:
            raise ProblemError(Problem("empty_location", "location"))
        dialog.raw["location"] = text
    elif step == "what":
        dialog.raw["what"] = text
    elif step == "agents":
        parse_count("agents", text)  # checked now, so the person can fix it now
        dialog.raw["agents"] = text
    elif step == "vehicles":
        parse_vehicles(text)
        dialog.raw["vehicles"] = text
    elif words.fold(text) not in words.NONE_WORDS:
        # "plate: ABC1** | direction: N" fills those fields; anything else is a note.
        dialog.raw = merge_fields(dialog.raw, keyed_fields(text) or {"notes": text})


def _advance(dialog: Dialog) -> Outcome:
    if dialog.step + 1 >= len(STEPS) or dialog.written:
        return Finished()
    dialog.step += 1
    return Ask()


class DialogStore:
    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self._db = db
        self._cipher = cipher

    async def load(self, person: str, now: datetime) -> Dialog | None:
        """The person's dialog unless it has timed out."""
        row = await self._db.fetchone(
            "SELECT state FROM sighting_dialogs WHERE person = ? AND expires_at > ?",
            (person, utc_timestamp(now)),
        )
        return None if row is None else self._decode(row["state"])

    async def save(self, person: str, dialog: Dialog, expires_at: datetime) -> None:
        await self._db.execute(
            "INSERT INTO sighting_dialogs (person, state, expires_at) VALUES (?, ?, ?)"
            " ON CONFLICT (person) DO UPDATE SET state = excluded.state,"
            " expires_at = excluded.expires_at",
            (person, self._cipher.encrypt_json(asdict(dialog), STATE), utc_timestamp(expires_at)),
        )

    async def delete(self, person: str) -> None:
        await self._db.execute("DELETE FROM sighting_dialogs WHERE person = ?", (person,))

    async def take_expired(self, person: str, now: datetime) -> Dialog | None:
        """Remove and return the person's dialog if it has timed out."""
        async with self._db.transaction() as tx:
            row = await tx.fetchone(
                "SELECT state FROM sighting_dialogs WHERE person = ? AND expires_at <= ?",
                (person, utc_timestamp(now)),
            )
            if row is None:
                return None
            await tx.execute("DELETE FROM sighting_dialogs WHERE person = ?", (person,))
        return self._decode(row["state"])

    async def delete_expired_before(self, cutoff: datetime) -> int:
        return await self._db.execute(
            "DELETE FROM sighting_dialogs WHERE expires_at < ?", (utc_timestamp(cutoff),)
        )

    def _decode(self, blob: Any) -> Dialog:
        return Dialog(**self._cipher.decrypt_json(blob, STATE))
