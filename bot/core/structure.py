"""The network's shape: the config file's areas and rooms, and what admins changed in chat.

The config file is the starting point. Areas and links added from chat, rooms adopted or
created there, and rooms replaced by a successor (rotation) are stored, encrypted, and
applied at once: the settings are rebuilt and checked as the file would be, so a change
that would leave the network broken is refused whole and nothing of it is kept. For the
same room or area, the config file wins over what was said in chat.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from typing import Any, Literal, Protocol

from pydantic_core import PydanticCustomError

from bot.core.config import Area, RoomConfig, Settings
from bot.core.events import RoomRef
from bot.core.transport import Transport
from bot.storage.cipher import FieldCipher
from bot.storage.database import Database, Transaction, utc_timestamp

log = logging.getLogger(__name__)

Kind = Literal["area", "near", "room", "moved"]
Origin = Literal["config", "chat"]
CONTEXT = "structure"
# Entries are applied in this order at start: what an entry names comes before it.
KINDS: tuple[Kind, ...] = ("area", "near", "room", "moved")
# A stored entry to write (a body) or delete (None), by kind and name.
Write = tuple[Kind, str, Mapping[str, Any] | None]


class Hooks(Protocol):
    """What the plugins say about a change of the network (the runtime asks them)."""

    async def room_replaced(self, old: RoomRef, new: RoomRef) -> None:
        """Each plugin moves what is bound to `old` over to `new`."""

    def area_uses(self, slug: str) -> list[str]:
        """What the plugins have in the area `slug` (sites...), as people name it."""


class StructureError(Exception):
    """A change that would leave the network broken; the message says why, in one line."""


@dataclass(frozen=True)
class Shape:
    """What was changed from chat: areas, links (area, near area), rooms, and replaced
    rooms (old id -> successor id)."""

    areas: Mapping[str, Area] = field(default_factory=dict)
    near: frozenset[tuple[str, str]] = frozenset()
    rooms: Mapping[tuple[str, str], RoomConfig] = field(default_factory=dict)
    moved: Mapping[str, str] = field(default_factory=dict)

    def with_entry(self, kind: Kind, body: Mapping[str, Any]) -> Shape:
        if kind == "area":
            area = Area.model_validate(body)
            return replace(self, areas={**self.areas, area.slug: area})
        if kind == "near":
            return replace(self, near=self.near | {(body["area"], body["other"])})
        if kind == "room":
            room = RoomConfig.model_validate(body)
            return replace(self, rooms={**self.rooms, (room.transport, room.id): room})
        return replace(self, moved={**self.moved, body["old"]: body["new"]})


class Structure:
    """The settings in force, and the changes made from chat that shaped them."""

    def __init__(
        self,
        base: Settings,
        db: Database,
        cipher: FieldCipher,
        transports: Mapping[str, Transport],
        now: Callable[[], datetime] = lambda: datetime.now(UTC),
    ) -> None:
        self._base = base
        self._db = db
        self._cipher = cipher
        self._transports = transports
        self._now = now
        self.shape = Shape()
        self.settings = base
        # What `load` could not apply any more, one line each.
        self.skipped: list[str] = []
        # The plugins' side of a change (the runtime sets it).
        self.hooks: Hooks | None = None

    async def load(self) -> list[str]:
        """Apply what was changed from chat before. An entry the config file no longer
        allows (its area was removed from the file) is skipped; the lines say which."""
        rows = await self._db.fetchall("SELECT kind, body FROM structure ORDER BY changed_at")
        entries = [(row["kind"], self._cipher.decrypt_json(row["body"], CONTEXT)) for row in rows]
        skipped = self.skipped = []
        for kind in KINDS:
            for entry_kind, body in entries:
                if entry_kind != kind:
                    continue
                try:
                    shape = self.shape.with_entry(kind, body)
                    self.settings, self.shape = self._build(shape), shape
                except (StructureError, ValueError) as error:
                    skipped.append(f"a {kind} changed from chat no longer applies: {error}")
        return skipped

    # What is there, and where it comes from.

    def area_origin(self, slug: str) -> Origin | None:
        if self._base.area(slug) is not None:
            return "config"
        return "chat" if slug in self.shape.areas else None

    def room_origin(self, room: RoomRef) -> Origin | None:
        if room.room_id in self.shape.moved:
            return None
        if self._base.room(room.transport, room.room_id) is not None:
            return "config"
        return "chat" if (room.transport, room.room_id) in self.shape.rooms else None

    def clashes(self) -> list[str]:
        """Entries from chat that the config file overrides (`vecinos check` says them)."""
        found = [
            f"area {slug} is both in the config file and added from chat: the file's is used"
            for slug in self.shape.areas
            if self._base.area(slug) is not None
        ]
        found += [
            f"room {room_id} ({transport}) is both in the config file and adopted from chat:"
            " the file's is used"
            for transport, room_id in self.shape.rooms
            if self._base.room(transport, room_id) is not None
        ]
        return found

    # Changes; each is applied whole or not at all.

    async def add_area(self, area: Area) -> None:
        body = area.model_dump(mode="json", exclude_defaults=True)
        await self._change(self.shape.with_entry("area", body), [("area", area.slug, body)])

    async def link(self, slug: str, other: str) -> None:
        """Make two areas near each other: the alerts of each reach the other's rooms."""
        pairs = [(slug, other), (other, slug)]
        shape = replace(self.shape, near=self.shape.near | set(pairs))
        await self._change(shape, [("near", f"{a}>{b}", {"area": a, "other": b}) for a, b in pairs])

    async def drop_area(self, slug: str) -> None:
        """Remove an area added from chat and its links."""
        links = {pair for pair in self.shape.near if slug in pair}
        areas = {key: area for key, area in self.shape.areas.items() if key != slug}
        shape = replace(self.shape, areas=areas, near=self.shape.near - links)
        gone: list[Write] = [("area", slug, None)]
        gone += [("near", f"{a}>{b}", None) for a, b in links]
        await self._change(shape, gone)

    async def adopt(self, room: RoomConfig) -> None:
        body = room.model_dump(mode="json", exclude_defaults=True)
        await self._change(self.shape.with_entry("room", body), [("room", _room_name(room), body)])

    async def drop_room(self, room: RoomRef) -> None:
        key = (room.transport, room.room_id)
        rooms = {k: config for k, config in self.shape.rooms.items() if k != key}
        name = f"{room.transport}:{room.room_id}"
        await self._change(replace(self.shape, rooms=rooms), [("room", name, None)])

    async def replace_room(self, old: RoomRef, new_id: str) -> RoomConfig:
        """The successor of `old` takes its place: same role, areas, language and
        retention. Stored in one step, so after a crash exactly one of them serves; then
        what is bound to `old` follows (`follow`)."""
        config = self.settings.room(old.transport, old.room_id)
        if config is None:
            raise StructureError("that room is not part of the network")
        successor = config.model_copy(update={"id": new_id})
        body = successor.model_dump(mode="json", exclude_defaults=True)
        rooms = {
            k: room for k, room in self.shape.rooms.items() if k != (old.transport, old.room_id)
        }
        rooms[(old.transport, new_id)] = successor
        shape = replace(self.shape, rooms=rooms, moved={**self.shape.moved, old.room_id: new_id})
        moved = {"transport": old.transport, "old": old.room_id, "new": new_id}
        await self._change(
            shape,
            [
                ("room", f"{old.transport}:{old.room_id}", None),
                ("room", _room_name(successor), body),
                ("moved", f"{old.transport}:{old.room_id}", moved),
            ],
        )
        await self.follow(old, RoomRef(old.transport, new_id))
        return successor

    async def _change(self, shape: Shape, writes: Sequence[Write]) -> None:
        settings = self._build(shape)
        async with self._db.transaction() as tx:
            for kind, name, body in writes:
                await self._write(tx, kind, name, body)
        self.settings, self.shape = settings, shape
        log.info("the network changed from chat (%s)", ", ".join(kind for kind, _, _ in writes))

    async def _write(
        self, tx: Transaction, kind: Kind, name: str, body: Mapping[str, Any] | None
    ) -> None:
        key = self._cipher.keyed_hash(f"{kind}:{name}", CONTEXT)
        if body is None:
            await tx.execute("DELETE FROM structure WHERE key = ?", (key,))
            return
        await tx.execute(
            "INSERT INTO structure (key, kind, body, changed_at) VALUES (?, ?, ?, ?)"
            " ON CONFLICT (key) DO UPDATE SET body = excluded.body,"
            " changed_at = excluded.changed_at",
            (key, kind, self._cipher.encrypt_json(dict(body), CONTEXT), utc_timestamp(self._now())),
        )

    def _build(self, shape: Shape) -> Settings:
        """The config file's network with `shape` laid over it, checked."""
        base = self._base
        areas = [*base.areas, *(a for s, a in shape.areas.items() if base.area(s) is None)]
        # The links grouped once: only the few areas linked from chat are copied.
        near = _near_by_area(shape.near)
        areas = [_with_near(area, near[area.slug]) if area.slug in near else area for area in areas]
        rooms = [room for room in base.rooms if room.id not in shape.moved]
        rooms += [
            room for (t, room_id), room in shape.rooms.items() if base.room(t, room_id) is None
        ]
        try:
            return base.with_network(areas, rooms, shape.moved)
        except PydanticCustomError as error:
            problems = (error.context or {}).get("problems", [])
            raise StructureError("; ".join(message for _, message in problems)) from None

    # The rooms themselves, on their networks.

    def connected(self, transport: str) -> bool:
        """Whether the network is up: the bot has heard from it (Matrix: a first sync,
        which shows who is in each room)."""
        found = self._transports.get(transport)
        return found is not None and found.last_activity is not None

    def transport(self, name: str) -> Transport:
        if not self.connected(name):
            raise StructureError(f"the bot is not connected to {name} yet")
        return self._transports[name]

    async def members(self, room: RoomRef) -> list[str]:
        return await self.transport(room.transport).members(room.room_id)

    async def room_name(self, room: RoomRef) -> str:
        """How people know the room: its name on the network, else its id."""
        transport = self._transports.get(room.transport)
        name = await transport.room_name(room.room_id) if transport is not None else None
        return name or room.room_id

    async def follow(self, old: RoomRef, new: RoomRef) -> None:
        """Move what is bound to `old` over to its successor `new` (again after a crash:
        each step is idempotent)."""
        if self.hooks is not None:
            await self.hooks.room_replaced(old, new)

    def area_uses(self, slug: str) -> list[str]:
        """What uses the area `slug`: rooms, the areas inside it, the plugins' things."""
        uses = [f"area {a.slug}" for a in self.settings.areas if a.parent == slug]
        uses += [f"room {r.id} ({r.role})" for r in self.settings.rooms if slug in r.areas]
        return uses + (self.hooks.area_uses(slug) if self.hooks is not None else [])


def _near_by_area(near: frozenset[tuple[str, str]]) -> dict[str, list[str]]:
    """The areas linked from chat to each area, sorted."""
    found: dict[str, list[str]] = {}
    for slug, other in near:
        found.setdefault(slug, []).append(other)
    return {slug: sorted(others) for slug, others in found.items()}


def _with_near(area: Area, added: list[str]) -> Area:
    return area.model_copy(update={"near": tuple(dict.fromkeys([*area.near, *added]))})


def _room_name(room: RoomConfig) -> str:
    return f"{room.transport}:{room.id}"
