"""The running bot as the runtime holds it: the plugins' face and what only the runtime uses.

Plugins get `bot` (a `BotContext`). The registry of what they declared, the transports,
the retention of the bot's own messages and the store of language choices are the
runtime's own: plugins reach none of them.
"""

from __future__ import annotations

from collections.abc import Mapping

from bot.core.commands import CommandSpec
from bot.core.config import Settings
from bot.core.context import BotContext, holds_moderator_power
from bot.core.events import OutgoingMessage, RoomRef, SentMessage
from bot.core.i18n import Catalog
from bot.core.languages import Languages
from bot.core.metrics import Metrics
from bot.core.registry import Registry
from bot.core.retention import Retention
from bot.core.scheduler import Scheduler
from bot.core.transport import Transport
from bot.storage.cipher import FieldCipher
from bot.storage.database import Database


class Runtime:
    def __init__(
        self, settings: Settings, db: Database, cipher: FieldCipher, metrics: Metrics
    ) -> None:
        self.catalog = Catalog()
        self.catalog.add_package("bot.core.locales")
        # One registry per runtime: several bots in one process (tests) stay apart.
        self.registry = Registry()
        self._transports: dict[str, Transport] = {}
        # The bot's own messages to delete once old, where a room asks for it.
        self.languages = Languages(db, lambda user_id: cipher.keyed_hash(user_id, "person"))
        self.bot = BotContext(
            settings=settings,
            db=db,
            cipher=cipher,
            scheduler=Scheduler(db, cipher, metrics=metrics),
            metrics=metrics,
            catalog=self.catalog,
            languages=self.languages,
            network=self,
        )
        self.retention = Retention(db, lambda: self.settings)
        self.bot.structure.hooks = self

    @property
    def settings(self) -> Settings:
        """The settings in force (the network changes while the bot runs)."""
        return self.bot.settings

    # What the plugins' face asks of the running bot.

    @property
    def transports(self) -> Mapping[str, Transport]:
        return self._transports

    async def send(self, room: RoomRef, message: OutgoingMessage, key: str) -> SentMessage:
        event_id = await self._transports[room.transport].send(room.room_id, message, key=key)
        await self.retention.record(room, event_id, key)
        return SentMessage(room, event_id)

    def command(self, name: str) -> CommandSpec | None:
        bound = self.registry.find(name)
        return bound.spec if bound is not None else None

    # What the network's structure asks of the plugins.

    async def room_replaced(self, old: RoomRef, new: RoomRef) -> None:
        await self.bot.broadcasts.move(old, new)
        for plugin in self.registry.plugins():
            await plugin.room_replaced(old, new)

    def area_uses(self, slug: str) -> list[str]:
        return [use for plugin in self.registry.plugins() for use in plugin.area_uses(slug)]

    # The runtime's own.

    def add_transport(self, transport: Transport) -> None:
        self._transports[transport.name] = transport

    async def room_name(self, room: RoomRef) -> str:
        """How people know the room: its name on the network, else its id."""
        return await self.bot.structure.room_name(room)

    async def serves_direct_chat(self, transport: str, user_id: str) -> bool:
        """Whether the bot talks with `user_id` one to one: they share one of its rooms (or
        may invite it anywhere, as admins do), or a plugin welcomes anyone (see
        `Plugin.welcomes`)."""
        if self.settings.invite_allowed(user_id):
            return True
        if self.settings.invites.direct_chats and await self.bot.shared_rooms(transport, user_id):
            return True
        return any([await p.welcomes(transport, user_id) for p in self.registry.plugins()])

    async def moderates(self, transport: str, user_id: str) -> bool:
        """Admin or moderator by config or power level, identity flags aside."""
        return (
            user_id in self.settings.admins
            or user_id in self.settings.moderators
            or await holds_moderator_power(self.settings, self._transports, transport, user_id)
        )
