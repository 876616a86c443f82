"""The context handed to plugins: the bot's services by name, and one event's replies.

There is no global state: everything a handler needs comes through these objects. The
runtime builds them; what only it uses (the registry of plugins, the transports, the
retention of its own messages, the store of language choices) stays there.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass, replace
from typing import Any, Generic, Protocol, TypeVar, cast

from bot.core.broadcast import Broadcasts
from bot.core.commands import CommandSpec
from bot.core.config import MODERATION, RoomConfig, Settings
from bot.core.cursors import Cursors
from bot.core.events import Event, MessageEvent, OutgoingMessage, RoomRef, SentMessage
from bot.core.formatting import Rich, plain_message
from bot.core.i18n import Catalog, Language, Translator
from bot.core.identity import IdentityRegistry
from bot.core.languages import Languages
from bot.core.metrics import Metrics
from bot.core.outbox import Delivery, Outbox
from bot.core.permissions import Level
from bot.core.scheduler import Scheduler
from bot.core.structure import Structure
from bot.core.transport import Transport
from bot.storage.cipher import FieldCipher
from bot.storage.database import Database

log = logging.getLogger(__name__)

E = TypeVar("E", bound=Event)
S = TypeVar("S")


# The Matrix power level that makes a member of a moderation room one of its moderators.
MODERATOR_POWER = 50


async def holds_moderator_power(
    settings: Settings, transports: Mapping[str, Transport], transport_name: str, user_id: str
) -> bool:
    """Whether `user_id` has a moderator's power level in one of the moderation rooms."""
    transport = transports.get(transport_name)
    if transport is None:
        return False
    for config in settings.rooms_with_role("moderation"):
        if (
            config.transport == transport_name
            and await transport.power_level(config.id, user_id) >= MODERATOR_POWER
        ):
            return True
    return False


class Network(Protocol):
    """What the plugins' face needs of the running bot, which the runtime provides."""

    @property
    def transports(self) -> Mapping[str, Transport]:
        """The running transports, by name."""

    async def send(self, room: RoomRef, message: OutgoingMessage, key: str) -> SentMessage:
        """Send now, idempotent by `key`."""

    def command(self, name: str) -> CommandSpec | None:
        """The declared command of that name or alias."""


class BotContext:
    """What a plugin may use of the bot, by name: `settings`, the network's `structure`,
    `db`, `cipher`, `scheduler`,
    `metrics`, the durable `outbox`, `broadcasts` to audiences, `cursors` in ordered logs,
    `identities`; and what the core answers about people and rooms (`person`, `level_of`,
    `language_for`, `shared_rooms`, ...). Plugins get it as `self.bot`."""

    def __init__(
        self,
        *,
        settings: Settings,
        db: Database,
        cipher: FieldCipher,
        scheduler: Scheduler,
        metrics: Metrics,
        catalog: Catalog,
        languages: Languages,
        network: Network,
    ) -> None:
        # The network's shape: the config file's, with what admins changed from chat.
        self.structure = Structure(settings, db, cipher, network.transports)
        self.db = db
        self.cipher = cipher
        self.scheduler = scheduler
        # Plugins may add their own gauges: `bot.metrics.gauge_callback(...)`.
        self.metrics = metrics
        # Messages that must arrive (alerts) go through the durable outbox.
        self.outbox = Outbox(
            db, cipher, network.send, settings.bot.sends_in_flight, metrics=metrics
        )
        # Messages to every room of an audience and area, with their later edits.
        self.broadcasts = Broadcasts(db, self.outbox, lambda: self.structure.settings)
        # How far followers of ordered logs got (a relay in the reports' changes).
        self.cursors = Cursors(db)
        # People's identity keys, and who must be trusted again.
        self.identities = IdentityRegistry(db, self.person)
        self._catalog = catalog
        self._languages = languages
        self._network = network
        # What plugins publish for each other, by the published type (see `provide`).
        self._services: dict[type[Any], Any] = {}

    @property
    def settings(self) -> Settings:
        """The configuration in force: the file's, with the network as changed from chat."""
        return self.structure.settings

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

    async def _send(self, room: RoomRef, message: OutgoingMessage, key: str) -> SentMessage:
        """Send now, for replies (`EventContext.reply`); idempotent by `key`."""
        return await self._network.send(room, message, key)

    def identity_keys(self) -> dict[str, str]:
        """The bot's own identity key on each network that has one (Matrix: its
        cross-signing master key), by transport: what partner networks pin."""
        return {
            name: transport.identity_key
            for name, transport in self._network.transports.items()
            if transport.identity_key is not None
        }

    async def retract(self, room: RoomRef, event_id: str) -> bool:
        """Delete one of the bot's own messages for everyone, where the network lets it
        (Matrix: a redaction; Signal: a remote delete); whether it did."""
        transport = self._network.transports.get(room.transport)
        return transport is not None and await transport.retract(room.room_id, event_id)

    async def remove(self, room: RoomRef, event_id: str, reason: str) -> bool:
        """Remove someone's message from the room where the bot may; whether it did.
        `reason` is seen by the server: never put what the message said in it."""
        transport = self._network.transports.get(room.transport)
        return transport is not None and await transport.remove(room.room_id, event_id, reason)

    def person(self, user_id: str) -> str:
        """The pseudonymous id under which a person's data is stored."""
        return self.cipher.keyed_hash(user_id, "person")

    def room_config(self, room: RoomRef) -> RoomConfig | None:
        return self.settings.room(room.transport, room.room_id)

    async def language_for(self, room: RoomRef, user_id: str | None) -> Language:
        """The person's own choice (`!lang`), else the room's, else the bot's default."""
        chosen = None if user_id is None else await self._languages.chosen(user_id)
        return chosen or self.settings.room_language(room.transport, room.room_id)

    def translator(self, lang: Language) -> Translator:
        return Translator(self._catalog, lang)

    def command_name(self, name: str, lang: Language) -> str:
        """A command as typed in `lang`, prefix included: "claim" -> "!tomar"."""
        spec = self._network.command(name)
        shown = spec.display_name(lang) if spec is not None else name
        return f"{self.settings.bot.command_prefix}{shown}"

    async def level_of(self, room: RoomRef, user_id: str, *, direct: bool = False) -> Level:
        """Decided here, server-side, from config, room power levels and identity flags.
        In a `direct` chat a person has the highest level their configured rooms give."""
        if user_id in self.settings.admins:
            level = Level.ADMIN
        elif user_id in self.settings.moderators or await holds_moderator_power(
            self.settings, self._network.transports, room.transport, user_id
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

    async def direct_chat(self, transport_name: str, user_id: str) -> RoomRef:
        """The one-to-one chat with `user_id`, opened by the bot when there is none yet
        (to ask or tell someone who never wrote to it); LookupError: no such network."""
        transport = self._network.transports.get(transport_name)
        if transport is None:
            raise LookupError(f"no {transport_name} network is running")
        rooms = {config.id for config in self.settings.rooms if config.transport == transport_name}
        return RoomRef(transport_name, await transport.direct_chat(user_id, rooms))

    async def shared_rooms(self, transport_name: str, user_id: str) -> list[RoomConfig]:
        """The configured rooms on the transport that `user_id` is in now: the bot accepts
        their direct chats, and serves there what those rooms allow."""
        transport = self._network.transports.get(transport_name)
        if transport is None:
            return []
        return [
            config
            for config in self.settings.rooms
            if config.transport == transport_name and await transport.is_member(config.id, user_id)
        ]

    async def tell_moderators(
        self, string_key: str, *, key: str, about: str | None = None, **params: object
    ) -> None:
        """A notice in the moderation rooms, each in its language, sent now (retried by
        the outbox if that fails); `key` keeps it single. `about` an area: only the rooms
        moderating it (its own, or its nearest parent's); else every moderation room. A
        parameter may be a function of the room's translator, for words in its language
        (an area's name, "5 minutes")."""
        rooms = (
            self.settings.serving_rooms(MODERATION, about)
            if about is not None
            else self.settings.rooms_with_role(MODERATION)
        )
        for config in rooms:
            if config.transport not in self._network.transports:
                continue
            room = RoomRef(config.transport, config.id)
            lang = self.settings.room_language(config.transport, config.id)
            t = self.translator(lang)
            text = t(string_key, **{k: v(t) if callable(v) else v for k, v in params.items()})
            delivery = Delivery(f"{key}:{config.id}", room, plain_message(text))
            try:
                await self.outbox.send_now(delivery)
            except Exception as error:
                log.warning("a moderation room will be told later (%s)", type(error).__name__)


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
        self,
        message: str | Rich | OutgoingMessage,
        *,
        mentions: tuple[str, ...] = (),
        threaded: bool = True,
    ) -> SentMessage:
        """Answer the event's sender, now: in a thread on their message, or, not
        `threaded`, in the room's timeline (or the thread they wrote in) for everyone."""
        key, outgoing = self._answer(message, mentions, threaded)
        return await self.bot._send(self.event.room, outgoing, key)

    async def reply_queued(
        self,
        message: str | Rich | OutgoingMessage,
        *,
        mentions: tuple[str, ...] = (),
        threaded: bool = True,
    ) -> None:
        """As `reply`, through the durable outbox: after the urgent deliveries (alerts) the
        command queued, which the homeserver then serves first, and retried if it fails."""
        key, outgoing = self._answer(message, mentions, threaded)
        await self.bot.outbox.enqueue([Delivery(key, self.event.room, outgoing)])

    def _answer(
        self, message: str | Rich | OutgoingMessage, mentions: tuple[str, ...], threaded: bool
    ) -> tuple[str, OutgoingMessage]:
        """The next answer to the event: its key and message."""
        if isinstance(message, str):
            message = plain_message(message)
        elif isinstance(message, Rich):
            message = message.message()
        message = replace(
            message,
            reply_to=self.event.event_id,
            thread_root=self.event.thread_root or (self.event.event_id if threaded else None),
            mentions=mentions or message.mentions,
        )
        self._replies += 1
        # Derived from the event, so a replay after a crash cannot post the answer twice.
        return f"reply:{self.event.event_id}:{self._replies}", message


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
        return self.t(key) if self.t.has(key) else name
