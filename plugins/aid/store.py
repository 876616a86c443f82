"""Aid requests, standing offers and the direct chats of the people in them, as stored.

A person is a keyed hash; what they wrote and where to reach them is encrypted with the
bot's cipher. Without the data key the tables show kinds, areas and times, never whom.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import Enum
from typing import Any

from bot.api import BotContext, Language, RoomRef, utc_timestamp
from plugins.sightings import ShortIds

IDS = ShortIds("A")
BODY = "aid.request"
ADDRESS = "aid.address"
OFFER = "aid.offer"
# Ids are random; after this many collisions in a row the next ones get longer, up to
# this many letters after the A (so they never look like another plugin's codes).
_ID_ATTEMPTS = 20
LONGEST = 4


class State(Enum):
    OPEN = "open"
    OFFERED = "offered"  # a volunteer gave; the person who asked has not answered yet
    TAKEN = "taken"
    DONE = "done"
    EXPIRED = "expired"
    WITHDRAWN = "withdrawn"


ACTIVE = (State.OPEN, State.OFFERED)
CLOSED = (State.DONE, State.EXPIRED, State.WITHDRAWN)


@dataclass(frozen=True)
class Address:
    """Where the bot writes to a person: their direct chat with it, in the language they
    last wrote to the bot in."""

    room: RoomRef
    user_id: str
    lang: Language


@dataclass(frozen=True)
class AidRequest:
    id: str
    kind: str
    area: str
    state: State
    when: str
    text: str
    lang: Language
    requester: str | None
    requester_address: Address | None
    volunteer: str | None
    volunteer_address: Address | None
    revision: int
    head_start: bool
    filed_at: datetime
    posted_at: datetime | None
    reposted_at: datetime | None
    asked_at: datetime | None

    @property
    def for_case(self) -> bool:
        """Filed for a legal team's case: nobody to ask, nobody to introduce."""
        return self.requester is None


@dataclass(frozen=True)
class Filing:
    kind: str
    area: str
    when: str
    text: str
    lang: Language
    requester: Address | None
    intake: str | None


@dataclass(frozen=True)
class StandingOffer:
    kind: str
    area: str
    when: str


class Requests:
    def __init__(self, bot: BotContext) -> None:
        self.bot = bot

    # --- requests ------------------------------------------------------------------------

    async def file(self, filing: Filing, now: datetime, *, head_start: bool) -> str:
        """Store a new request (`head_start`: standing offers get it before the rooms);
        its id. The same intake again files nothing and gives the first one's id."""
        if filing.intake is not None:
            row = await self.bot.db.fetchone(
                "SELECT id FROM aid_requests WHERE intake = ?", (filing.intake,)
            )
            if row is not None:
                return str(row["id"])
        requester = filing.requester
        values = (
            filing.kind,
            filing.area,
            State.OPEN.value,
            self.bot.cipher.encrypt_json({"when": filing.when, "text": filing.text}, BODY),
            filing.lang,
            None if requester is None else self.bot.person(requester.user_id),
            None if requester is None else self._seal(requester),
            filing.intake,
            int(head_start),
            utc_timestamp(now),
            utc_timestamp(now),
        )
        length = 3
        while True:
            for _ in range(_ID_ATTEMPTS):
                request_id = IDS.random(length)
                if await self.bot.db.fetchone(
                    "INSERT INTO aid_requests (id, kind, area, state, body, lang, requester,"
                    " requester_address, intake, head_start, filed_at, changed_at)"
                    " VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?)"
                    " ON CONFLICT (id) DO NOTHING RETURNING id",
                    (request_id, *values),
                ):
                    return request_id
            length = min(length + 1, LONGEST)

    async def get(self, request_id: str) -> AidRequest | None:
        row = await self.bot.db.fetchone("SELECT * FROM aid_requests WHERE id = ?", (request_id,))
        return None if row is None else self._request(row)

    async def active(self) -> list[AidRequest]:
        rows = await self.bot.db.fetchall(
            "SELECT * FROM aid_requests WHERE state IN (?, ?) ORDER BY filed_at",
            tuple(state.value for state in ACTIVE),
        )
        return [self._request(row) for row in rows]

    async def involving(self, person: str) -> list[AidRequest]:
        """The requests the person asked for, offered on or took."""
        rows = await self.bot.db.fetchall(
            "SELECT * FROM aid_requests WHERE requester = ? OR volunteer = ?", (person, person)
        )
        return [self._request(row) for row in rows]

    async def change(
        self,
        request_id: str,
        state: State,
        now: datetime,
        *,
        was: Sequence[State],
        volunteer: Address | None = None,
        keep_volunteer: bool = True,
    ) -> AidRequest | None:
        """Move the request from one of `was` to `state` (one change wins when two people
        act at once); `volunteer` records who offered or took it, `keep_volunteer=False`
        forgets them. The request as it is now, or None when it was not in `was`."""
        sets = "state = ?, revision = revision + 1, changed_at = ?"
        params: list[Any] = [state.value, utc_timestamp(now)]
        if volunteer is not None:
            sets += ", volunteer = ?, volunteer_address = ?"
            params += [self.bot.person(volunteer.user_id), self._seal(volunteer)]
        elif not keep_volunteer:
            sets += ", volunteer = NULL, volunteer_address = NULL"
        marks = ", ".join("?" * len(was))
        row = await self.bot.db.fetchone(
            f"UPDATE aid_requests SET {sets} WHERE id = ? AND state IN ({marks}) RETURNING *",
            (*params, request_id, *(s.value for s in was)),
        )
        return None if row is None else self._request(row)

    async def mark(self, request_id: str, moment: str, at: datetime) -> None:
        """Note when it was posted, posted again or its requester asked
        (`moment`: posted, reposted, asked)."""
        assert moment in ("posted", "reposted", "asked")
        await self.bot.db.execute(
            f"UPDATE aid_requests SET {moment}_at = ? WHERE id = ?", (utc_timestamp(at), request_id)
        )

    async def renew(self, request_id: str, now: datetime) -> None:
        """Still needed: its time to expire starts again."""
        await self.bot.db.execute(
            "UPDATE aid_requests SET filed_at = ?, asked_at = NULL WHERE id = ?",
            (utc_timestamp(now), request_id),
        )

    async def erase(self, request_ids: Sequence[str]) -> None:
        await self.bot.db.executemany(
            "DELETE FROM aid_requests WHERE id = ?", [(rid,) for rid in request_ids]
        )

    async def drop_volunteer(self, person: str) -> None:
        """Forget the person as the volunteer of requests (done ones keep no trace)."""
        await self.bot.db.execute(
            "UPDATE aid_requests SET volunteer = NULL, volunteer_address = NULL"
            " WHERE volunteer = ?",
            (person,),
        )

    async def finished_before(self, moment: datetime) -> list[str]:
        """Requests closed, or taken, before `moment`."""
        rows = await self.bot.db.fetchall(
            "SELECT id FROM aid_requests WHERE state NOT IN (?, ?) AND changed_at < ?",
            (*(s.value for s in ACTIVE), utc_timestamp(moment)),
        )
        return [str(row["id"]) for row in rows]

    # --- people's direct chats -----------------------------------------------------------

    async def remember(self, address: Address) -> None:
        await self.bot.db.execute(
            "INSERT INTO aid_people (person, address) VALUES (?, ?)"
            " ON CONFLICT (person) DO UPDATE SET address = excluded.address",
            (self.bot.person(address.user_id), self._seal(address)),
        )

    async def address_of(self, user_id: str) -> Address | None:
        row = await self.bot.db.fetchone(
            "SELECT address FROM aid_people WHERE person = ?", (self.bot.person(user_id),)
        )
        return None if row is None else self._open(row["address"])

    # --- standing offers -----------------------------------------------------------------

    async def offer(self, address: Address, offer: StandingOffer, now: datetime) -> None:
        await self.bot.db.execute(
            "INSERT INTO aid_offers (person, kind, area, detail, address, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (person, kind, area) DO UPDATE SET"
            " detail = excluded.detail, address = excluded.address",
            (
                self.bot.person(address.user_id),
                offer.kind,
                offer.area,
                self.bot.cipher.encrypt_json({"when": offer.when}, OFFER),
                self._seal(address),
                utc_timestamp(now),
            ),
        )

    async def offers_of(self, user_id: str) -> list[StandingOffer]:
        rows = await self.bot.db.fetchall(
            "SELECT kind, area, detail FROM aid_offers WHERE person = ? ORDER BY kind, area",
            (self.bot.person(user_id),),
        )
        return [
            StandingOffer(
                str(row["kind"]),
                str(row["area"]),
                str(self.bot.cipher.decrypt_json(row["detail"], OFFER)["when"]),
            )
            for row in rows
        ]

    async def stop_offers(self, user_id: str, kind: str) -> int:
        return await self.bot.db.execute(
            "DELETE FROM aid_offers WHERE person = ? AND kind = ?",
            (self.bot.person(user_id), kind),
        )

    async def offering(self, kind: str, areas: Sequence[str], but: str | None) -> list[Address]:
        """Where to reach the volunteers with a standing offer of `kind` in any of
        `areas`, once each, leaving out the person `but` (a keyed hash)."""
        marks = ", ".join("?" * len(areas))
        rows = await self.bot.db.fetchall(
            f"SELECT person, MIN(address) AS address FROM aid_offers WHERE kind = ?"
            f" AND area IN ({marks}) GROUP BY person ORDER BY MIN(created_at)",
            (kind, *areas),
        )
        return [self._open(row["address"]) for row in rows if row["person"] != but]

    # --- forgetting ----------------------------------------------------------------------

    async def forget_person(self, user_id: str) -> bool:
        """Erase the person's standing offers and direct chat; whether there were any."""
        person = self.bot.person(user_id)
        async with self.bot.db.transaction() as tx:
            offers = await tx.execute("DELETE FROM aid_offers WHERE person = ?", (person,))
            chat = await tx.execute("DELETE FROM aid_people WHERE person = ?", (person,))
        return bool(offers or chat)

    # --- rows ----------------------------------------------------------------------------

    def _seal(self, address: Address) -> bytes:
        room = address.room
        return self.bot.cipher.encrypt_json(
            {
                "transport": room.transport,
                "room": room.room_id,
                "user": address.user_id,
                "lang": address.lang,
            },
            ADDRESS,
        )

    def _open(self, sealed: bytes) -> Address:
        data = self.bot.cipher.decrypt_json(sealed, ADDRESS)
        return Address(RoomRef(data["transport"], data["room"]), data["user"], data["lang"])

    def _maybe(self, sealed: bytes | None) -> Address | None:
        return None if sealed is None else self._open(sealed)

    def _request(self, row: Any) -> AidRequest:
        body = self.bot.cipher.decrypt_json(row["body"], BODY)
        return AidRequest(
            id=str(row["id"]),
            kind=str(row["kind"]),
            area=str(row["area"]),
            state=State(row["state"]),
            when=str(body["when"]),
            text=str(body["text"]),
            lang=row["lang"],
            requester=row["requester"],
            requester_address=self._maybe(row["requester_address"]),
            volunteer=row["volunteer"],
            volunteer_address=self._maybe(row["volunteer_address"]),
            revision=int(row["revision"]),
            head_start=bool(row["head_start"]),
            filed_at=datetime.fromisoformat(row["filed_at"]),
            posted_at=_moment(row["posted_at"]),
            reposted_at=_moment(row["reposted_at"]),
            asked_at=_moment(row["asked_at"]),
        )


def _moment(text: str | None) -> datetime | None:
    return None if text is None else datetime.fromisoformat(text)
