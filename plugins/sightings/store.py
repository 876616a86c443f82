"""Reports at rest: fields and contact details encrypted, people as keyed hashes only.

Every change that a moderator card shows bumps the report's `version`; a change is applied
only if the version is still the one its decision was based on (compare-and-set), so of two
moderators acting at once exactly one wins.
"""

from __future__ import annotations

import secrets
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from itertools import groupby
from typing import Any

from bot.api import Database, FieldCipher, RoomRef, Transaction, utc_timestamp
from plugins.sightings.ids import LENGTH, random_id
from plugins.sightings.lifecycle import CLOSED, NEWS, OPEN, SETTLING, UNDECIDED, Action, Status
from plugins.sightings.model import Report
from plugins.sightings.places import place_key

FIELDS = "reports.fields"
ORIGIN = "reports.origin"
DETAIL = "reports.decision"
# Ids are random; after this many collisions in a row the next ones get longer.
_ID_ATTEMPTS = 20


def _marks(values: Sequence[str]) -> str:
    return ", ".join("?" for _ in values) or "NULL"


_OPEN_STATUSES = tuple(sorted(status.value for status in OPEN))
# A new report, noting the newest open report of the same area and place filed since a
# time (none without a place) as the one it may repeat.
_INSERT_REPORT = (
    "INSERT INTO sighting_reports (id, area, status, reporter, thread, intake, fields, origin,"
    " created_at, status_since, place, similar_to) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?,"
    " (SELECT o.id FROM sighting_reports o WHERE o.area = ? AND o.place = ?"
    " AND o.created_at >= ?"
    f" AND o.status IN ({_marks(_OPEN_STATUSES)})"
    " ORDER BY o.created_at DESC LIMIT 1))"
    " ON CONFLICT DO NOTHING RETURNING similar_to"
)


@dataclass(frozen=True)
class Origin:
    """Where a report was made: the reporter's room, thread root and user id."""

    transport: str
    room_id: str
    thread_root: str
    user_id: str

    @property
    def room(self) -> RoomRef:
        return RoomRef(self.transport, self.room_id)


@dataclass(frozen=True)
class Card:
    """A report's card in one moderation room: its outbox key, and its event once sent."""

    report_id: str
    room: RoomRef
    key: str
    event_id: str | None
    # How many edits were queued, and a digest of the last text queued.
    edits: int = 0
    shown: str | None = None


@dataclass(frozen=True)
class Erased:
    """What a person's erased reports had shown: moderator cards, and the acknowledgements
    in the reporter's room (room, event id)."""

    cards: list[Card]
    acks: list[tuple[RoomRef, str]]


@dataclass(frozen=True)
class Actor:
    user_id: str
    name: str


@dataclass(frozen=True)
class Decision:
    seq: int
    action: Action
    status: Status
    at: datetime
    actor: Actor | None
    note: str | None


@dataclass(frozen=True)
class StoredReport:
    id: str
    area: str
    status: Status
    version: int
    reporter: str
    report: Report
    origin: Origin
    duplicate_of: str | None
    created_at: datetime
    corroborations: int
    history: tuple[Decision, ...]
    # An open report at the same place filed shortly before: possibly the same sighting.
    similar_to: str | None = None

    @property
    def last_decision(self) -> Decision | None:
        return self.history[-1] if self.history else None

    @property
    def last_news(self) -> datetime | None:
        """When the alert was last confirmed or updated (None: it never was)."""
        return max((d.at for d in self.history if d.action in NEWS), default=None)

    @property
    def marked_stale(self) -> bool:
        """A confirmed alert said to be maybe over, with no news since."""
        last = self.last_decision
        return last is not None and last.action is Action.STALE

    @property
    def key(self) -> str:
        """Base of idempotency keys for this report's messages; unique even when a purged
        report's id is given again later."""
        return f"sightings:{self.id}:{self.created_at.timestamp():.6f}"


@dataclass(frozen=True)
class ReportState:
    """Where a report stands, without its contents (for other plugins' counts)."""

    report_id: str
    area: str
    status: Status
    filed_at: datetime
    # The first decision other than asking for more information (confirm, false alarm, ...).
    settled_at: datetime | None

    @property
    def undecided(self) -> bool:
        return self.status in UNDECIDED


@dataclass(frozen=True)
class Change:
    """A status change to record: what was done, by whom, why, and the event behind it."""

    action: Action
    status: Status
    at: datetime
    actor: Actor | None = None
    note: str | None = None
    duplicate_of: str | None = None
    cause: str | None = None


class ReportStore:
    def __init__(self, db: Database, cipher: FieldCipher) -> None:
        self._db = db
        self._cipher = cipher

    def _hash(self, value: str, purpose: str) -> str:
        return self._cipher.keyed_hash(value, purpose)

    # --- reports ------------------------------------------------------------------------

    async def file(
        self,
        report: Report,
        reporter: str,
        origin: Origin,
        intake_event: str,
        now: datetime,
        similar_since: datetime,
    ) -> StoredReport:
        """Store a new report, noting the newest open one of the same area and place filed
        since `similar_since` as the one it may repeat; the report as stored (a replay of
        `intake_event`: the one it filed before, as it is now)."""
        intake = self._hash(intake_event, "reports.intake")
        stamp = utc_timestamp(now)
        words = place_key(report.location)
        place = self._hash("|".join(sorted(words)), "reports.place") if words else None
        row = (
            report.area,
            Status.NEW.value,
            reporter,
            self._hash(origin.thread_root, "reports.thread"),
            intake,
            self._encrypt_report(report),
            self._cipher.encrypt_json(origin.__dict__, ORIGIN),
            stamp,
            stamp,
            place,
            # The report it may repeat: of this area and place, filed since then, open.
            report.area,
            place,
            utc_timestamp(similar_since),
            *_OPEN_STATUSES,
        )
        inserted = await self._insert(row, intake)
        if inserted is None:  # a replay: filed before
            stored = await self._by_intake(intake)
            assert stored is not None
            return stored
        report_id, similar_to = inserted
        # Just written: as `get` would read it back, without reading it back.
        return StoredReport(
            id=report_id,
            area=report.area,
            status=Status.NEW,
            version=1,
            reporter=reporter,
            report=report,
            origin=origin,
            duplicate_of=None,
            created_at=datetime.fromisoformat(stamp),
            corroborations=0,
            history=(),
            similar_to=similar_to,
        )

    async def _insert(self, row: tuple[object, ...], intake: str) -> tuple[str, str | None] | None:
        """The new report's id and the report it may repeat; None when its intake event
        filed a report before. One statement: it fails on a taken id or on a replayed
        intake alike, and only then is the (rare) cause looked up."""
        length = LENGTH
        while True:
            for _ in range(_ID_ATTEMPTS):
                report_id = random_id(length)
                stored = await self._db.fetchone(_INSERT_REPORT, (report_id, *row))
                if stored is not None:
                    return report_id, stored["similar_to"]
                if await self._db.fetchone(
                    "SELECT 1 FROM sighting_reports WHERE intake = ?", (intake,)
                ):
                    return None
            length += 1

    async def _by_intake(self, intake: str) -> StoredReport | None:
        """The report filed for an intake event (its keyed hash)."""
        return _first(await self._reports("intake = ?", (intake,)))

    async def state(self, report_id: str) -> ReportState | None:
        states = await self._states("r.id = ?", (report_id,))
        return states[0] if states else None

    async def get(self, report_id: str) -> StoredReport | None:
        return _first(await self._reports("id = ?", (report_id,)))

    async def by_thread(self, thread_root: str) -> StoredReport | None:
        """The report whose reporter's thread starts at `thread_root`."""
        thread = self._hash(thread_root, "reports.thread")
        return _first(await self._reports("thread = ? ORDER BY created_at DESC LIMIT 1", (thread,)))

    async def waiting_for_answer(self, reporter: str) -> list[StoredReport]:
        """The person's reports whose moderators wait for their answer, oldest first."""
        return await self._reports(
            "reporter = ? AND status = ?", (reporter, Status.NEEDS_INFO.value)
        )

    async def ack_event(self, report_id: str) -> str | None:
        """The event of the report's acknowledgement in the reporter's room, once posted."""
        row = await self._db.fetchone(
            "SELECT ack_event FROM sighting_reports WHERE id = ?", (report_id,)
        )
        return None if row is None or row["ack_event"] is None else str(row["ack_event"])

    async def by_card(self, room: RoomRef, event_id: str) -> StoredReport | None:
        return _first(
            await self._reports(
                "id = (SELECT report_id FROM sighting_cards WHERE event_id = ?"
                " AND transport = ? AND room_id = ?)",
                (event_id, room.transport, room.room_id),
            )
        )

    async def open_in(self, areas: Iterable[str], statuses: Iterable[Status]) -> list[StoredReport]:
        area_list, status_list = list(areas), [s.value for s in statuses]
        return await self._reports(
            f"area IN ({_marks(area_list)}) AND status IN ({_marks(status_list)})",
            (*area_list, *status_list),
        )

    async def states_since(self, since: datetime) -> list[ReportState]:
        """The reports filed since then, oldest first, with when each was settled."""
        return await self._states("r.created_at >= ?", (utc_timestamp(since),))

    async def _states(self, where: str, params: tuple[object, ...]) -> list[ReportState]:
        settling = [a.value for a in SETTLING]
        rows = await self._db.fetchall(
            "SELECT r.id, r.area, r.status, r.created_at, (SELECT MIN(d.at) FROM"
            f" sighting_decisions d WHERE d.report_id = r.id AND d.action IN ({_marks(settling)}))"
            f" AS settled_at FROM sighting_reports r WHERE {where} ORDER BY r.created_at",
            (*settling, *params),
        )
        return [
            ReportState(
                report_id=str(row["id"]),
                area=str(row["area"]),
                status=Status(row["status"]),
                filed_at=datetime.fromisoformat(row["created_at"]),
                settled_at=datetime.fromisoformat(row["settled_at"]) if row["settled_at"] else None,
            )
            for row in rows
        ]

    async def settled_in(self, area: str, since: datetime) -> list[StoredReport]:
        """The reports of `area` confirmed now, or whose status changed since `since`."""
        return await self._reports(
            "area = ? AND (status = ? OR status_since >= ?)",
            (area, Status.CONFIRMED.value, utc_timestamp(since)),
        )

    async def nth_newest_since(self, reporter: str, since: datetime, n: int) -> datetime | None:
        """When the reporter filed their `n`th newest report filed after `since`; None when
        they filed fewer."""
        row = await self._db.fetchone(
            "SELECT created_at FROM sighting_reports WHERE reporter = ? AND created_at > ?"
            " ORDER BY created_at DESC LIMIT 1 OFFSET ?",
            (reporter, utc_timestamp(since), n - 1),
        )
        return None if row is None else datetime.fromisoformat(row["created_at"])

    async def _reports(self, where: str, params: tuple[object, ...]) -> list[StoredReport]:
        """The reports matching `where`, oldest first, each with its corroboration count
        and history: one query, one row per decision (or one without a decision)."""
        rows = await self._db.fetchall(
            "SELECT r.*, d.seq, d.action, d.status AS decision_status, d.at, d.detail,"
            " (SELECT COUNT(*) FROM sighting_corroborations c WHERE c.report_id = r.id)"
            " AS corroborations"
            f" FROM (SELECT * FROM sighting_reports WHERE {where}) AS r"
            " LEFT JOIN sighting_decisions d ON d.report_id = r.id"
            " ORDER BY r.created_at, r.id, d.seq",
            params,
        )
        reports: list[StoredReport] = []
        for report_id, group in groupby(rows, key=lambda row: str(row["id"])):
            report_rows = list(group)
            history = tuple(self._decision(row) for row in report_rows if row["seq"] is not None)
            reports.append(self._load(report_id, report_rows[0], history))
        return reports

    def _load(self, report_id: str, row: Any, history: tuple[Decision, ...]) -> StoredReport:
        return StoredReport(
            id=report_id,
            area=str(row["area"]),
            status=Status(row["status"]),
            version=int(row["version"]),
            reporter=str(row["reporter"]),
            report=Report.model_validate(self._cipher.decrypt_json(row["fields"], FIELDS)),
            origin=Origin(**self._cipher.decrypt_json(row["origin"], ORIGIN)),
            duplicate_of=row["duplicate_of"],
            created_at=datetime.fromisoformat(row["created_at"]),
            corroborations=int(row["corroborations"]),
            history=history,
            similar_to=row["similar_to"],
        )

    def _encrypt_report(self, report: Report) -> bytes:
        return self._cipher.encrypt_json(report.model_dump(mode="json"), FIELDS)

    # --- changes ------------------------------------------------------------------------

    async def change_status(self, report_id: str, expected: int, change: Change) -> int | None:
        """Record `change` if the report is still at version `expected`: its seq, else None."""
        closed_at = utc_timestamp(change.at) if change.status in CLOSED else None
        async with self._db.transaction() as tx:
            updated = await tx.execute(
                "UPDATE sighting_reports SET status = ?, version = version + 1,"
                " status_since = ?, closed_at = ?, duplicate_of = COALESCE(?, duplicate_of)"
                " WHERE id = ? AND version = ?",
                (
                    change.status.value,
                    utc_timestamp(change.at),
                    closed_at,
                    change.duplicate_of,
                    report_id,
                    expected,
                ),
            )
            if updated != 1:
                return None
            return await self._record(tx, report_id, change)

    async def _record(self, tx: Transaction, report_id: str, change: Change) -> int:
        detail = {
            "actor": change.actor.__dict__ if change.actor else None,
            "note": change.note,
        }
        await tx.execute(
            "INSERT INTO sighting_decisions (report_id, action, status, at, cause, detail)"
            " VALUES (?, ?, ?, ?, ?, ?)",
            (
                report_id,
                change.action.value,
                change.status.value,
                utc_timestamp(change.at),
                self._hash(change.cause, "reports.cause") if change.cause else None,
                self._cipher.encrypt_json(detail, DETAIL),
            ),
        )
        row = await tx.fetchone("SELECT last_insert_rowid() AS seq")
        assert row is not None
        return int(row["seq"])

    async def decision_caused_by(self, event_id: str) -> tuple[str, int] | None:
        """(report id, seq) of the decision an event already caused, for replays."""
        row = await self._db.fetchone(
            "SELECT report_id, seq FROM sighting_decisions WHERE cause = ?",
            (self._hash(event_id, "reports.cause"),),
        )
        return None if row is None else (str(row["report_id"]), int(row["seq"]))

    async def replace_report(self, report_id: str, expected: int, report: Report) -> bool:
        """New fields (an attachment added) if the report is still at version `expected`."""
        updated = await self._db.execute(
            "UPDATE sighting_reports SET fields = ?, version = version + 1"
            " WHERE id = ? AND version = ?",
            (self._encrypt_report(report), report_id, expected),
        )
        return updated == 1

    async def corroborate(self, report_id: str, person: str, at: datetime) -> bool:
        """Count `person` once; False if they already had."""
        async with self._db.transaction() as tx:
            added = await tx.execute(
                "INSERT OR IGNORE INTO sighting_corroborations (report_id, person, at)"
                " VALUES (?, ?, ?)",
                (report_id, person, utc_timestamp(at)),
            )
            if added != 1:
                return False
            await tx.execute(
                "UPDATE sighting_reports SET version = version + 1 WHERE id = ?", (report_id,)
            )
        return True

    def _decision(self, row: Any) -> Decision:
        detail = self._cipher.decrypt_json(row["detail"], DETAIL)
        actor = detail.get("actor")
        return Decision(
            seq=int(row["seq"]),
            action=Action(row["action"]),
            status=Status(row["decision_status"]),
            at=datetime.fromisoformat(row["at"]),
            actor=Actor(**actor) if actor else None,
            note=detail.get("note"),
        )

    async def decisions_after(
        self, seq: int, actions: Iterable[Action]
    ) -> list[tuple[str, Decision]]:
        """(report id, decision) of the given kinds after `seq`, oldest first."""
        action_list = [a.value for a in actions]
        rows = await self._db.fetchall(
            "SELECT report_id, seq, action, status AS decision_status, at, detail"
            " FROM sighting_decisions"
            f" WHERE seq > ? AND action IN ({_marks(action_list)}) ORDER BY seq",
            (seq, *action_list),
        )
        return [(str(row["report_id"]), self._decision(row)) for row in rows]

    # --- cards --------------------------------------------------------------------------

    async def add_cards(
        self, report_id: str, cards: Iterable[tuple[RoomRef, str]], tx: Transaction
    ) -> None:
        """Record the report's card (room, outbox key) in each moderation room."""
        await tx.executemany(
            "INSERT OR IGNORE INTO sighting_cards (report_id, transport, room_id, key)"
            " VALUES (?, ?, ?, ?)",
            [(report_id, room.transport, room.room_id, key) for room, key in cards],
        )

    async def cards(self, report_id: str) -> list[Card]:
        rows = await self._db.fetchall(
            "SELECT * FROM sighting_cards WHERE report_id = ?", (report_id,)
        )
        return [_card(row) for row in rows]

    async def unresolved_cards(self, room: RoomRef) -> list[Card]:
        rows = await self._db.fetchall(
            "SELECT * FROM sighting_cards WHERE event_id IS NULL AND transport = ? AND room_id = ?",
            (room.transport, room.room_id),
        )
        return [_card(row) for row in rows]

    async def card_edited(self, card: Card, shown: str) -> None:
        """One more edit of `card` was queued, showing the text with digest `shown`."""
        await self._db.execute(
            "UPDATE sighting_cards SET edits = ?, shown = ? WHERE key = ?",
            (card.edits + 1, shown, card.key),
        )

    async def card_sent(self, card: Card, event_id: str) -> None:
        await self._db.execute(
            "UPDATE sighting_cards SET event_id = ? WHERE key = ?", (event_id, card.key)
        )

    # --- forgetting a person -------------------------------------------------------------

    async def forget(self, person: str, user_id: str) -> Erased:
        """Erase a person: their `!seen` marks, their name on decisions, and the reports
        they filed that never went out as alerts (returned: the cards and acknowledgements
        those had). Those that did stay, without a trace of who filed them."""
        async with self._db.transaction() as tx:
            await tx.execute("DELETE FROM sighting_corroborations WHERE person = ?", (person,))
            filed = await tx.fetchall(
                "SELECT id, origin, ack_event, EXISTS (SELECT 1 FROM sighting_decisions d"
                " WHERE d.report_id = r.id AND d.action = ?) AS alerted"
                " FROM sighting_reports r WHERE reporter = ?",
                (Action.CONFIRM.value, person),
            )
            erased = [str(row["id"]) for row in filed if not row["alerted"]]
            acks = [
                (Origin(**self._cipher.decrypt_json(row["origin"], ORIGIN)).room, row["ack_event"])
                for row in filed
                if not row["alerted"] and row["ack_event"]
            ]
            cards = await tx.fetchall(
                f"SELECT * FROM sighting_cards WHERE report_id IN ({_marks(erased)})", erased
            )
            await tx.execute(f"DELETE FROM sighting_reports WHERE id IN ({_marks(erased)})", erased)
            for row in (row for row in filed if row["alerted"]):
                origin = {**self._cipher.decrypt_json(row["origin"], ORIGIN), "user_id": ""}
                await tx.execute(
                    "UPDATE sighting_reports SET reporter = ?, origin = ? WHERE id = ?",
                    # Shaped like a keyed hash, and unlinked from every other report.
                    (secrets.token_hex(32), self._cipher.encrypt_json(origin, ORIGIN), row["id"]),
                )
            for row in await tx.fetchall("SELECT seq, detail FROM sighting_decisions"):
                detail = self._cipher.decrypt_json(row["detail"], DETAIL)
                if (detail.get("actor") or {}).get("user_id") == user_id:
                    await tx.execute(
                        "UPDATE sighting_decisions SET detail = ? WHERE seq = ?",
                        (self._cipher.encrypt_json({**detail, "actor": None}, DETAIL), row["seq"]),
                    )
        return Erased([_card(row) for row in cards], acks)

    async def acknowledged(self, report_id: str, event_id: str) -> None:
        """The report's acknowledgement was posted as `event_id`."""
        await self._db.execute(
            "UPDATE sighting_reports SET ack_event = ? WHERE id = ?", (event_id, report_id)
        )

    # --- housekeeping -------------------------------------------------------------------

    async def in_status_since_before(
        self, statuses: Iterable[Status], cutoff: datetime
    ) -> list[str]:
        """Ids of reports in one of `statuses` since before `cutoff`, oldest first."""
        status_list = [s.value for s in statuses]
        rows = await self._db.fetchall(
            f"SELECT id FROM sighting_reports WHERE status IN ({_marks(status_list)})"
            " AND status_since < ? ORDER BY status_since",
            (*status_list, utc_timestamp(cutoff)),
        )
        return [str(row["id"]) for row in rows]

    async def count_by_status(self) -> dict[str, float]:
        """How many stored reports are in each status (every status, zeros included)."""
        rows = await self._db.fetchall(
            "SELECT status, COUNT(*) AS n FROM sighting_reports GROUP BY status"
        )
        counts = {status.value: 0.0 for status in Status}
        counts.update({str(row["status"]): float(row["n"]) for row in rows})
        return counts

    async def purge_closed_before(self, cutoff: datetime) -> int:
        """Delete reports closed before `cutoff`, with their cards, corroborations, history."""
        return await self._db.execute(
            "DELETE FROM sighting_reports WHERE closed_at IS NOT NULL AND closed_at < ?",
            (utc_timestamp(cutoff),),
        )


def _card(row: Any) -> Card:
    room = RoomRef(row["transport"], row["room_id"])
    key, edits = str(row["key"]), int(row["edits"])
    return Card(str(row["report_id"]), room, key, row["event_id"], edits, row["shown"])


def _first(reports: list[StoredReport]) -> StoredReport | None:
    return reports[0] if reports else None
