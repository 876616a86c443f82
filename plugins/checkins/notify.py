"""Messages to people's direct chats, each in its reader's language, through the outbox
(kept across a crash; the key keeps each single)."""

from __future__ import annotations

from bot.api import BotContext, Delivery, Language, plain_message
from plugins.checkins.store import Address


class Notifier:
    def __init__(self, bot: BotContext) -> None:
        self.bot = bot

    async def tell(self, to: Address, key: str, string: str, **params: object) -> None:
        lang = await self.bot.language_for(to.ref, to.user)
        text = self.bot.translator(lang)(string, **params)
        await self.bot.outbox.enqueue([Delivery(key, to.ref, plain_message(text))])

    async def lang_of(self, to: Address) -> Language:
        return await self.bot.language_for(to.ref, to.user)

    async def chat_with(self, transport: str, user: str) -> Address:
        """The person's direct chat, opened when they never wrote to the bot."""
        room = await self.bot.direct_chat(transport, user)
        return Address(transport, room.room_id, user)
