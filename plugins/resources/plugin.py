"""Know-your-rights text and the hotline, in the reader's language, from the config.

Organizations word these differently and keep them current, so the config's texts win;
the built-in ones are a widely used minimum.
"""

from __future__ import annotations

from bot.api import CommandContext, Plugin, Rich, command
from plugins.resources.config import ResourcesConfig


class Resources(Plugin):
    name = "resources"
    locales = "plugins.resources.locales"
    config = ResourcesConfig

    @command("rights", aliases={"es": ("derechos",)})
    async def rights(self, ctx: CommandContext) -> None:
        configured = self.bot.settings.section(ResourcesConfig).resources.rights(ctx.lang)
        text = configured or ctx.t("resources.rights")
        rich = Rich().bold(ctx.t("resources.rights_title")).newline().text(text)
        await ctx.reply(self._with_hotline(rich, ctx))

    @command("hotline", aliases={"es": ("linea",)})
    async def hotline(self, ctx: CommandContext) -> None:
        hotline = self.bot.settings.section(ResourcesConfig).resources.hotline
        if not hotline:
            await ctx.reply(ctx.t("resources.no_hotline"))
            return
        await ctx.reply(Rich().text(ctx.t("resources.hotline", hotline=hotline)))

    def _with_hotline(self, rich: Rich, ctx: CommandContext) -> Rich:
        hotline = self.bot.settings.section(ResourcesConfig).resources.hotline
        if hotline:
            rich.newline().newline().bold(ctx.t("resources.hotline", hotline=hotline))
        return rich
