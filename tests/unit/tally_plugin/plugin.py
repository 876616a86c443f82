"""The tally plugin: one command, one table, one config section, one room role."""

from __future__ import annotations

from datetime import UTC, datetime

from bot.api import (
    ALERTS,
    CommandContext,
    Level,
    Note,
    Plugin,
    Role,
    command,
    utc_timestamp,
)
from tally_plugin.config import TallyConfig

WORD_CONTEXT = "tally.word"


class Tally(Plugin):
    name = "tally"
    locales = "tally_plugin.locales"
    migrations = "tally_plugin.migrations"
    config = TallyConfig
    roles = (Role("counting", Level.NEIGHBOR, frozenset({ALERTS})),)

    @command("tally", level=Level.NEIGHBOR, aliases={"es": ("cuenta",)})
    async def tally(self, ctx: CommandContext, word: str) -> None:
        person = self.bot.person(ctx.event.sender.user_id)
        limit = self.bot.settings.section(TallyConfig).tally.max_per_person
        if await self._count(person) >= limit:
            await ctx.reply(ctx.t("tally.full", limit=limit))
            return
        await self.bot.db.execute(
            "INSERT INTO tally_words (person, word, at) VALUES (?, ?, ?)",
            (person, self.bot.cipher.encrypt(word, WORD_CONTEXT), utc_timestamp(datetime.now(UTC))),
        )
        await ctx.reply(ctx.t("tally.counted", count=await self._count(person)))

    async def _count(self, person: str) -> int:
        row = await self.bot.db.fetchone(
            "SELECT COUNT(*) AS n FROM tally_words WHERE person = ?", (person,)
        )
        return 0 if row is None else int(row["n"])

    async def forget(self, user_id: str) -> list[Note]:
        person = self.bot.person(user_id)
        await self.bot.db.execute("DELETE FROM tally_words WHERE person = ?", (person,))
        return []
