"""Plans, contacts and accompaniment requests, as stored: keyed hashes for people, the
rest encrypted. Nothing here names anyone without the data key."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import datetime
from typing import Any

from bot.api import BotContext, RoomRef, utc_timestamp

PLAN = "checkins.plan"
CONTACT = "checkins.contact"
ACCOMPANIMENT = "checkins.accompaniment"
CONTACT_PURPOSE = "checkins.contact"
CODE_PURPOSE = "checkins.code"


@dataclass(frozen=True)
class Address:
    """A person and their direct chat with the bot."""

    transport: str
    room: str
    user: str

    @property
    def ref(self) -> RoomRef:
        return RoomRef(self.transport, self.room)


def _address(data: dict[str, Any]) -> Address:
    return Address(data["transport"], data["room"], data["user"])


@dataclass
class Plan:
    owner: Address
    area: str
    due_at: datetime
    place: str = ""
    alias: str = ""
    state: str = "planned"
    alarm_at: datetime | None = None
    case: str | None = None


@dataclass(frozen=True)
class Contact:
    typed: str  # the id as the person typed it
    transport: str
    user: str
    accepted: bool
    chat: Address | None  # where they accepted: where they are told


@dataclass(frozen=True)
class Accompaniment:
    id: str
    owner: Address
    kind: str
    area: str
    starts_at: datetime
    state: str
    volunteer: Address | None = None


class Plans:
    def __init__(self, bot: BotContext) -> None:
        self.bot = bot

    async def save(self, plan: Plan, now: datetime) -> None:
        body = {
            "owner": asdict(plan.owner),
            "area": plan.area,
            "place": plan.place,
            "alias": plan.alias,
            "case": plan.case,
        }
        alarm = utc_timestamp(plan.alarm_at) if plan.alarm_at else None
        await self.bot.db.execute(
            "INSERT INTO checkin_plans (person, body, state, due_at, alarm_at, created_at)"
            " VALUES (?, ?, ?, ?, ?, ?) ON CONFLICT (person) DO UPDATE SET body = excluded.body,"
            " state = excluded.state, due_at = excluded.due_at, alarm_at = excluded.alarm_at",
            (
                self.bot.person(plan.owner.user),
                self.bot.cipher.encrypt_json(body, PLAN),
                plan.state,
                utc_timestamp(plan.due_at),
                alarm,
                utc_timestamp(now),
            ),
        )

    async def of(self, user_id: str) -> Plan | None:
        return await self.by_person(self.bot.person(user_id))

    async def by_person(self, person: str) -> Plan | None:
        row = await self.bot.db.fetchone(
            "SELECT body, state, due_at, alarm_at FROM checkin_plans WHERE person = ?", (person,)
        )
        if row is None:
            return None
        body = self.bot.cipher.decrypt_json(row["body"], PLAN)
        alarm = row["alarm_at"]
        return Plan(
            owner=_address(body["owner"]),
            area=body["area"],
            due_at=datetime.fromisoformat(row["due_at"]),
            place=body["place"],
            alias=body["alias"],
            state=row["state"],
            alarm_at=datetime.fromisoformat(alarm) if alarm else None,
            case=body["case"],
        )

    async def erase(self, user_id: str) -> bool:
        person = self.bot.person(user_id)
        return bool(
            await self.bot.db.execute("DELETE FROM checkin_plans WHERE person = ?", (person,))
        )

    async def erase_before(self, moment: datetime) -> int:
        """Plans due long ago that nobody ended (an alarm raised weeks ago)."""
        return await self.bot.db.execute(
            "DELETE FROM checkin_plans WHERE due_at < ?", (utc_timestamp(moment),)
        )


class Contacts:
    def __init__(self, bot: BotContext) -> None:
        self.bot = bot

    def key(self, transport: str, user: str) -> str:
        return self.bot.cipher.keyed_hash(f"{transport}:{user}", CONTACT_PURPOSE)

    def code_key(self, code: str) -> str:
        return self.bot.cipher.keyed_hash(code.strip().upper(), CODE_PURPOSE)

    async def ask(
        self, owner: Address, typed: str, transport: str, user: str, code: str, now: datetime
    ) -> bool:
        """A new request (False: already asked or accepted)."""
        body = {"typed": typed, "transport": transport, "user": user, "owner": asdict(owner)}
        return bool(
            await self.bot.db.execute(
                "INSERT OR IGNORE INTO checkin_contacts (owner, contact, code, body, asked_at)"
                " VALUES (?, ?, ?, ?, ?)",
                (
                    self.bot.person(owner.user),
                    self.key(transport, user),
                    self.code_key(code),
                    self.bot.cipher.encrypt_json(body, CONTACT),
                    utc_timestamp(now),
                ),
            )
        )

    async def pending_for(self, chat: Address, code: str, asked_after: datetime) -> list[Any]:
        """Requests this person may accept: by their code, else those sent to their id."""
        where, key = (
            ("code", self.code_key(code))
            if code
            else ("contact", self.key(chat.transport, chat.user))
        )
        return await self.bot.db.fetchall(
            f"SELECT owner, contact, body FROM checkin_contacts WHERE {where} = ?"
            " AND code IS NOT NULL AND asked_at >= ?",
            (key, utc_timestamp(asked_after)),
        )

    async def accept(self, row: Any, chat: Address) -> Address:
        """The contact accepted (from `chat`); the owner's address, to tell them."""
        body = self.bot.cipher.decrypt_json(row["body"], CONTACT)
        body["chat"] = asdict(chat)
        await self.bot.db.execute(
            "UPDATE checkin_contacts SET code = NULL, body = ? WHERE owner = ? AND contact = ?",
            (self.bot.cipher.encrypt_json(body, CONTACT), row["owner"], row["contact"]),
        )
        return _address(body["owner"])

    async def of(self, user_id: str) -> list[Contact]:
        rows = await self.bot.db.fetchall(
            "SELECT code, body FROM checkin_contacts WHERE owner = ? ORDER BY asked_at",
            (self.bot.person(user_id),),
        )
        contacts = []
        for row in rows:
            body = self.bot.cipher.decrypt_json(row["body"], CONTACT)
            chat = _address(body["chat"]) if "chat" in body else None
            accepted = row["code"] is None
            contacts.append(Contact(body["typed"], body["transport"], body["user"], accepted, chat))
        return contacts

    async def remove(self, user_id: str, transport: str, user: str) -> bool:
        return bool(
            await self.bot.db.execute(
                "DELETE FROM checkin_contacts WHERE owner = ? AND contact = ?",
                (self.bot.person(user_id), self.key(transport, user)),
            )
        )

    async def known(self, transport: str, user: str) -> bool:
        """Whether someone asked this person to be their contact (they may then write)."""
        row = await self.bot.db.fetchone(
            "SELECT 1 FROM checkin_contacts WHERE contact = ? LIMIT 1", (self.key(transport, user),)
        )
        return row is not None

    async def pending_on(self, transport: str, asked_after: datetime) -> bool:
        """Whether a request on this network waits: a Signal contact named by phone number
        writes from an id the bot cannot tie to that number before they answer."""
        rows = await self.bot.db.fetchall(
            "SELECT body FROM checkin_contacts WHERE code IS NOT NULL AND asked_at >= ?",
            (utc_timestamp(asked_after),),
        )
        return any(
            self.bot.cipher.decrypt_json(row["body"], CONTACT)["transport"] == transport
            for row in rows
        )

    async def forget(self, user_id: str, transport: str) -> int:
        """Erase the person's list, and their place on others' lists."""
        async with self.bot.db.transaction() as tx:
            mine = await tx.execute(
                "DELETE FROM checkin_contacts WHERE owner = ?", (self.bot.person(user_id),)
            )
            theirs = await tx.execute(
                "DELETE FROM checkin_contacts WHERE contact = ?", (self.key(transport, user_id),)
            )
        return mine + theirs


class Accompaniments:
    def __init__(self, bot: BotContext) -> None:
        self.bot = bot

    async def add(self, request: Accompaniment, room: RoomRef, shift: str) -> None:
        body = {"owner": asdict(request.owner), "kind": request.kind, "area": request.area}
        await self.bot.db.execute(
            "INSERT INTO accompaniments (id, person, room, shift, body, state, starts_at)"
            " VALUES (?, ?, ?, ?, ?, ?, ?)",
            (
                request.id,
                self.bot.person(request.owner.user),
                f"{room.transport}:{room.room_id}",
                shift,
                self.bot.cipher.encrypt_json(body, ACCOMPANIMENT),
                request.state,
                utc_timestamp(request.starts_at),
            ),
        )

    async def open_for(self, room: RoomRef, shift: str) -> Accompaniment | None:
        row = await self.bot.db.fetchone(
            "SELECT * FROM accompaniments WHERE room = ? AND shift = ? AND state = 'open'",
            (f"{room.transport}:{room.room_id}", shift),
        )
        return None if row is None else self._request(row)

    async def asking(self, user_id: str) -> Accompaniment | None:
        """The person's latest request whose volunteer waits for their answer."""
        row = await self.bot.db.fetchone(
            "SELECT * FROM accompaniments WHERE person = ? AND state = 'asked'"
            " ORDER BY starts_at DESC LIMIT 1",
            (self.bot.person(user_id),),
        )
        return None if row is None else self._request(row)

    async def claimed(self, request: Accompaniment, volunteer: Address) -> bool:
        """Record who claimed it; False when someone else came first."""
        row = await self.bot.db.fetchone(
            "SELECT body FROM accompaniments WHERE id = ?", (request.id,)
        )
        if row is None:
            return False
        body = self.bot.cipher.decrypt_json(row["body"], ACCOMPANIMENT)
        body["volunteer"] = asdict(volunteer)
        return bool(
            await self.bot.db.execute(
                "UPDATE accompaniments SET state = 'asked', volunteer = ?, body = ?"
                " WHERE id = ? AND state = 'open'",
                (
                    self.bot.person(volunteer.user),
                    self.bot.cipher.encrypt_json(body, ACCOMPANIMENT),
                    request.id,
                ),
            )
        )

    async def answered(self, request_id: str, state: str) -> None:
        await self.bot.db.execute(
            "UPDATE accompaniments SET state = ? WHERE id = ?", (state, request_id)
        )

    async def erase_before(self, moment: datetime) -> int:
        return await self.bot.db.execute(
            "DELETE FROM accompaniments WHERE starts_at < ?", (utc_timestamp(moment),)
        )

    async def forget(self, user_id: str) -> int:
        person = self.bot.person(user_id)
        return await self.bot.db.execute(
            "DELETE FROM accompaniments WHERE person = ? OR volunteer = ?", (person, person)
        )

    def _request(self, row: Any) -> Accompaniment:
        body = self.bot.cipher.decrypt_json(row["body"], ACCOMPANIMENT)
        volunteer = body.get("volunteer")
        return Accompaniment(
            id=row["id"],
            owner=_address(body["owner"]),
            kind=body["kind"],
            area=body["area"],
            starts_at=datetime.fromisoformat(row["starts_at"]),
            state=row["state"],
            volunteer=_address(volunteer) if volunteer else None,
        )
