"""Commands every Vecinos bot has: ping, help, language choice and `!forgetme`."""

from __future__ import annotations

import logging
import unicodedata
from typing import Literal

from bot.core.commands import CommandSpec, command
from bot.core.context import CommandContext
from bot.core.formatting import Rich
from bot.core.plugin import Plugin

log = logging.getLogger(__name__)


class CorePlugin(Plugin):
    name = "core"

    @command("ping")
    async def ping(self, ctx: CommandContext) -> None:
        await ctx.reply(ctx.t("core.pong"))

    @command("help", aliases={"es": ("ayuda",)})
    async def help(self, ctx: CommandContext, command_name: str | None = None) -> None:
        if command_name is None:
            await ctx.reply(self._overview(ctx))
            return
        bound = self.bot.registry.find(
            command_name.removeprefix(ctx.bot.settings.bot.command_prefix)
        )
        if bound is None or bound.spec.level > ctx.level:
            await ctx.reply(ctx.t("core.help_unknown", name=command_name, help=ctx.help_command()))
            return
        await ctx.reply(self._details(ctx, bound.spec))

    @command("yes", aliases={"es": ("sí", "si")})
    async def yes(self, ctx: CommandContext) -> None:
        """Runs a suggested command (the dispatcher sees to that); here nothing was pending."""
        await ctx.reply(ctx.t("core.yes_nothing"))

    @command("lang", aliases={"es": ("idioma",)})
    async def lang(self, ctx: CommandContext, language: Literal["en", "es"] | None = None) -> None:
        if language is None:
            await ctx.reply(ctx.t("core.lang_current", usage=ctx.usage()))
            return
        await ctx.bot.set_language(ctx.event.sender.user_id, language)
        await ctx.reply(ctx.bot.translator(language)("core.lang_set"))

    @command("forgetme", aliases={"es": ("olvidame", "olvídame")})
    async def forgetme(self, ctx: CommandContext, answer: str | None = None) -> None:
        """Erase what the bot keeps about the sender, once they have confirmed."""
        if answer is None or not _is_yes(answer):
            confirm = f"{ctx.typed_name()} {ctx.t('core.forget_yes')}"
            await ctx.reply(ctx.t("core.forget_ask", confirm=confirm))
            return
        user_id = ctx.event.sender.user_id
        # A moderator's identity pin guards the moderation room: it is not theirs to drop.
        keeps_identity = await ctx.bot.moderates(ctx.room.transport, user_id)
        for plugin in self.bot.registry.plugins():
            await plugin.forget(user_id)
        if not keeps_identity:
            await ctx.bot.identities.forget(user_id)
        log.info("erased a person's data on request")
        done = ctx.t("core.forget_done")
        if keeps_identity:
            done = f"{done}\n{ctx.t('core.forget_kept_identity')}"
        await ctx.reply(done)

    async def forget(self, user_id: str) -> None:
        await self.bot.forget_language(user_id)

    def _overview(self, ctx: CommandContext) -> Rich:
        rich = Rich().bold(ctx.t("core.help_title")).newline()
        # "Commands you can use here": not those the dispatcher refuses in this room's role.
        config = ctx.bot.room_config(ctx.room)
        for spec in self.bot.registry.commands_for(ctx.level):
            if spec.roles is not None and (
                config is None or not ctx.bot.settings.room_fits(config, spec.roles)
            ):
                continue
            rich.code(ctx.usage(spec)).text(f" — {ctx.t(f'help.{spec.name}')}").newline()
        return rich.italic(ctx.t("core.help_more", help=ctx.help_command()))

    def _details(self, ctx: CommandContext, spec: CommandSpec) -> Rich:
        rich = Rich().code(ctx.usage(spec)).newline().text(ctx.t(f"help.{spec.name}"))
        names = sorted(spec.all_names() - {spec.display_name(ctx.lang)})
        if names:
            prefix = ctx.bot.settings.bot.command_prefix
            also = ", ".join(f"{prefix}{name}" for name in names)
            rich.newline().italic(ctx.t("core.help_aliases", names=also))
        return rich


def _is_yes(answer: str) -> bool:
    """Whether the answer is yes or sí (with or without the accent), in any case."""
    folded = unicodedata.normalize("NFKD", answer.casefold())
    return "".join(c for c in folded if not unicodedata.combining(c)) in {"yes", "si"}
