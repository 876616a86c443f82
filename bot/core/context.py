"""The context handed to plugins: the bot's services, and one event's reply helpers.

There is no global state: everything a handler needs comes through these objects.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field, replace
from typing import Any, Generic, TypeVar, cast

from cachetools import LRUCache

from bot.core.broadcast import Broadcasts
from bot.core.commands import CommandSpec
from bot.core.config import RoomConfig, Settings
from bot.core.cursors import Cursors
from bot.core.events import Event, MessageEvent, OutgoingMessage, RoomRef, SentMessage
from bot.core.formatting import Rich, plain_message
from bot.core.i18n import Catalog, Language, Translator, parse_language
from bot.core.identity import IdentityRegistry
from bot.core.metrics import Metrics
from bot.core.outbox import Outbox
from bot.core.permissions import Level
from bot.core.registry import Registry
from bot.core.retention import Retention
from bot.core.scheduler import Scheduler
from bot.core.transport import Transport
from bot.storage.cipher import FieldCipher
from bot.storage.database import Database

log = logging.getLogger(__name__)

MODERATOR_POWER = 50
LANGUAGE_CACHE_SIZE = 10_000
E = TypeVar("E", bound=Event)
S = TypeVar("S")


@dataclass
class BotContext:
    settings: Settings
    db: Database
    cipher: FieldCipher
    catalog: Catalog
    scheduler: Scheduler
    registry: Registry
    transports: dict[str, Transport] = field(default_factory=dict)
    # Plugins may add their own gauges: `bot.metrics.gauge_callback(...)`.
    metrics: Metrics = field(default_factory=Metrics)
    # Messages that must arrive (alerts) go through the durable outbox, not `send`.
    outbox: Outbox = field(init=False)
    # Messages to every room of an audience and area, with their later edits.
    broadcasts: Broadcasts = field(init=False)
    # How far followers of ordered logs got (a relay in the reports' changes).
    cursors: Cursors = field(init=False)
    # The bot's own messages to delete once old, where a room asks for it.
    retention: Retention = field(init=False)
    # What plugins publish for each other, by the published type (see `provide`).
    _services: dict[type[Any], Any] = field(init=False, default_factory=dict)
    # Each person's `!lang` choice (None: none made), by keyed hash.
    _languages: LRUCache[str, Language | None] = field(
        init=False, default_factory=lambda: LRUCache(maxsize=LANGUAGE_CACHE_SIZE)
    )

    def __post_init__(self) -> None:
        self.outbox = Outbox(self.db, self.cipher, self._send_keyed, metrics=self.metrics)
        self.broadcasts = Broadcasts(self.db, self.outbox, self.settings)
        self.cursors = Cursors(self.db)
        self.retention = Retention(self.db, self.settings)

    def provide(self, kind: type[S], service: S) -> None:
        """Publish `service` for other plugins, under the type they ask for it by."""
        if kind in self._services:
            raise ValueError(f"{kind.__name__} is provided twice")
        self._services[kind] = service

    def service(self, kind: type[S]) -> S:
        """What another plugin published as `kind`; ask in `start()`, when all are loaded."""
        try:
            return cast(S, self._services[kind])
        except KeyError:
            raise LookupError(f"no loaded plugin provides {kind.__name__}") from None

    async def _send_keyed(self, room: RoomRef, message: OutgoingMessage, key: str) -> SentMessage:
        return await self.send(room, message, key=key)

    def transport(self, name: str) -> Transport:
        return self.transports[name]

    async def send(
        self, room: RoomRef, message: OutgoingMessage, *, key: str | None = None
    ) -> SentMessage:
        """Send to a room; a `key` makes the send idempotent across retries and crashes."""
        event_id = await self.transport(room.transport).send(room.room_id, message, key=key)
        await self.retention.record(room, event_id, key)
        return SentMessage(room, event_id)

    async def react(self, room: RoomRef, event_id: str, emoji: str) -> None:
        await self.transport(room.transport).react(room.room_id, event_id, emoji)

    async def room_name(self, room: RoomRef) -> str:
        """How people know the room: its name on the network, else its id."""
        transport = self.transports.get(room.transport)
        name = await transport.room_name(room.room_id) if transport is not None else None
        return name or room.room_id

    def identity_keys(self) -> dict[str, str]:
        """The bot's own identity key on each network that has one (Matrix: its
        cross-signing master key), by transport: what partner networks pin."""
        return {
            name: transport.identity_key
            for name, transport in self.transports.items()
            if transport.identity_key is not None
        }

    async def retract(self, room: RoomRef, event_id: str) -> bool:
        """Delete one of the bot's own messages for everyone, where the network lets it
        (Matrix: a redaction; Signal: a remote delete); whether it did."""
        return await self.transport(room.transport).retract(room.room_id, event_id)

    async def remove(self, room: RoomRef, event_id: str, reason: str) -> bool:
        """Remove someone's message from the room where the bot may; whether it did.
        `reason` is seen by the server: never put what the message said in it."""
        return await self.transport(room.transport).remove(room.room_id, event_id, reason)

    def person(self, user_id: str) -> str:
        """The pseudonymous id under which a person's data is stored."""
        return self.cipher.keyed_hash(user_id, "person")

    def room_config(self, room: RoomRef) -> RoomConfig | None:
        return self.settings.room(room.transport, room.room_id)

    async def language_for(self, room: RoomRef, user_id: str | None) -> Language:
        """The person's own choice (`!lang`), else the room's, else the bot's default."""
        chosen = None if user_id is None else await self.chosen_language(user_id)
        return chosen or self.settings.room_language(room.transport, room.room_id)

    async def chosen_language(self, user_id: str) -> Language | None:
        person = self.person(user_id)
        # Asked for every message; this process is the table's only writer, so the cache
        # is kept exact by `set_language`.
        if person in self._languages:
            return self._languages[person]
        row = await self.db.fetchone(
            "SELECT language FROM person_prefs WHERE person = ?", (person,)
        )
        chosen = parse_language(row["language"]) if row is not None else None
        self._languages[person] = chosen
        return chosen

    async def set_language(self, user_id: str, lang: Language) -> None:
        person = self.person(user_id)
        await self.db.execute(
            "INSERT INTO person_prefs (person, language) VALUES (?, ?)"
            " ON CONFLICT (person) DO UPDATE SET language = excluded.language",
            (person, lang),
        )
        self._languages[person] = lang

    async def forget_language(self, user_id: str) -> None:
        person = self.person(user_id)
        await self.db.execute("DELETE FROM person_prefs WHERE person = ?", (person,))
        self._languages.pop(person, None)

    def translator(self, lang: Language) -> Translator:
        return Translator(self.catalog, lang)

    @property
    def identities(self) -> IdentityRegistry:
        return IdentityRegistry(self.db, self.person)

    async def level_of(self, room: RoomRef, user_id: str, *, direct: bool = False) -> Level:
        """Decided here, server-side, from config, room power levels and identity flags.
        In a `direct` chat a person has the highest level their configured rooms give."""
        if user_id in self.settings.admins:
            level = Level.ADMIN
        elif user_id in self.settings.moderators or await self._moderates_by_power(
            room.transport, user_id
        ):
            level = Level.MODERATOR
        else:
            return await self._member_level(room, user_id, direct)
        # A changed identity may be someone else holding the account: no rights until an
        # admin has checked (`!trust`).
        if await self.identities.flagged(user_id):
            return await self._member_level(room, user_id, direct)
        return level

    async def _member_level(self, room: RoomRef, user_id: str, direct: bool) -> Level:
        config = self.room_config(room)
        if config is not None:
            return self.settings.role(config.role).level
        if not direct:
            return Level.GUEST
        rooms = await self.shared_rooms(room.transport, user_id)
        return max((self.settings.role(shared.role).level for shared in rooms), default=Level.GUEST)

    async def serves_direct_chat(self, transport: str, user_id: str) -> bool:
        """Whether the bot talks with `user_id` one to one: they share one of its rooms (or
        may invite it anywhere, as admins do)."""
        if self.settings.invite_allowed(user_id):
            return True
        return self.settings.invites.direct_chats and bool(
            await self.shared_rooms(transport, user_id)
        )

    async def shared_rooms(self, transport_name: str, user_id: str) -> list[RoomConfig]:
        """The configured rooms on the transport that `user_id` is in now: the bot accepts
        their direct chats, and serves there what those rooms allow."""
        transport = self.transports.get(transport_name)
        if transport is None:
            return []
        return [
            config
            for config in self.settings.rooms
            if config.transport == transport_name and await transport.is_member(config.id, user_id)
        ]

    async def moderates(self, transport: str, user_id: str) -> bool:
        """Admin or moderator by config or power level, identity flags aside."""
        return (
            user_id in self.settings.admins
            or user_id in self.settings.moderators
            or await self._moderates_by_power(transport, user_id)
        )

    async def _moderates_by_power(self, transport_name: str, user_id: str) -> bool:
        transport = self.transports.get(transport_name)
        if transport is None:
            return False
        for config in self.settings.rooms_with_role("moderation"):
            if (
                config.transport == transport_name
                and await transport.power_level(config.id, user_id) >= MODERATOR_POWER
            ):
                return True
        return False

    async def tell_moderators(self, string_key: str, *, key: str, **params: object) -> None:
        """A notice in every moderation room, each in its language; `key` keeps it single."""
        for config in self.settings.rooms_with_role("moderation"):
            if config.transport not in self.transports:
                continue
            room = RoomRef(config.transport, config.id)
            lang = self.settings.room_language(config.transport, config.id)
            text = self.translator(lang)(string_key, **params)
            try:
                await self.send(room, plain_message(text), key=f"{key}:{config.id}")
            except Exception:
                log.exception("could not tell a moderation room")


@dataclass
class EventContext(Generic[E]):
    """One incoming event, with replies that land in the sender's thread."""

    bot: BotContext
    event: E
    lang: Language
    _replies: int = 0

    @property
    def t(self) -> Translator:
        return self.bot.translator(self.lang)

    @property
    def room(self) -> RoomRef:
        return self.event.room

    @property
    def direct(self) -> bool:
        """In a direct chat with the sender (a configured room never is one)."""
        return self.event.direct and self.bot.room_config(self.event.room) is None

    async def reply(
        self, message: str | Rich | OutgoingMessage, *, mentions: tuple[str, ...] = ()
    ) -> SentMessage:
        if isinstance(message, str):
            message = plain_message(message)
        elif isinstance(message, Rich):
            message = message.message()
        message = replace(
            message,
            reply_to=self.event.event_id,
            thread_root=self.event.thread_root or self.event.event_id,
            mentions=mentions or message.mentions,
        )
        self._replies += 1
        # Derived from the event, so a replay after a crash cannot post the reply twice.
        key = f"reply:{self.event.event_id}:{self._replies}"
        return await self.bot.send(self.event.room, message, key=key)

    async def react(self, emoji: str) -> None:
        await self.bot.react(self.event.room, self.event.event_id, emoji)


@dataclass
class CommandContext(EventContext[MessageEvent]):
    spec: CommandSpec | None = None
    level: Level = Level.GUEST

    def usage(self, spec: CommandSpec | None = None) -> str:
        spec = spec or self.spec
        assert spec is not None
        params = " ".join(p.usage(self.arg_name(p.name)) for p in spec.params)
        return f"{self.typed_name(spec)} {params}".rstrip()

    def typed_name(self, spec: CommandSpec | None = None) -> str:
        """The command as this person types it, in their language: `!olvidame`."""
        spec = spec or self.spec
        assert spec is not None
        return f"{self.bot.settings.bot.command_prefix}{spec.display_name(self.lang)}"

    def help_command(self) -> str:
        return f"{self.bot.settings.bot.command_prefix}{self.t('core.help_name')}"

    def arg_name(self, name: str) -> str:
        key = f"arg.{name}"
        return self.t(key) if self.bot.catalog.has(key) else name
