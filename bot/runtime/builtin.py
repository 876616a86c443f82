"""Commands every Vecinos bot has: ping, help, language choice and `!forgetme`."""

from __future__ import annotations

import logging
import unicodedata
from typing import Annotated, Literal

from bot.core.commands import CommandSpec, Words, command
from bot.core.context import CommandContext
from bot.core.formatting import Rich
from bot.core.plugin import Note, Plugin
from bot.core.registry import BoundCommand
from bot.runtime.services import Runtime

log = logging.getLogger(__name__)

# The rank of the commands that keep the bot itself going: listed last by `!help`.
HOUSEKEEPING = 90
# `!idioma español`, `!lang english`: the languages by their names too.
LanguageChoice = Annotated[
    Literal["en", "es"],
    Words(
        {
            "english": "en",
            "ingles": "en",
            "spanish": "es",
            "espanol": "es",
            "castellano": "es",
        }
    ),
]


class CorePlugin(Plugin):
    """Built into the runtime, so it may use what plugins may not: the registry, the
    language choices."""

    name = "core"

    def __init__(self, runtime: Runtime) -> None:
        super().__init__(runtime.bot)
        self.runtime = runtime

    @command("ping", rank=HOUSEKEEPING)
    async def ping(self, ctx: CommandContext) -> None:
        await ctx.reply(ctx.t("core.pong"))

    @command("help", aliases={"es": ("ayuda",)}, rank=HOUSEKEEPING)
    async def help(self, ctx: CommandContext, command_name: str | None = None) -> None:
        if command_name is None:
            await ctx.reply(self._overview(ctx))
            return
        bound = self.runtime.registry.find(
            command_name.removeprefix(ctx.bot.settings.bot.command_prefix)
        )
        if bound is None or bound.spec.level > ctx.level:
            await ctx.reply(ctx.t("core.help_unknown", name=command_name, help=ctx.help_command()))
            return
        await ctx.reply(self._details(ctx, bound))

    @command("yes", aliases={"es": ("sí", "si")}, rank=HOUSEKEEPING)
    async def yes(self, ctx: CommandContext) -> None:
        """Runs a suggested command (the dispatcher sees to that); here nothing was pending."""
        await ctx.reply(ctx.t("core.yes_nothing"))

    @command("lang", aliases={"es": ("idioma",)}, rank=HOUSEKEEPING)
    async def lang(self, ctx: CommandContext, language: LanguageChoice | None = None) -> None:
        if language is None:
            await ctx.reply(ctx.t("core.lang_current", usage=ctx.usage()))
            return
        await self.runtime.languages.choose(ctx.event.sender.user_id, language)
        await ctx.reply(ctx.bot.translator(language)("core.lang_set"))

    @command("forgetme", aliases={"es": ("olvidame", "olvídame")}, rank=HOUSEKEEPING)
    async def forgetme(self, ctx: CommandContext, answer: str | None = None) -> None:
        """Erase what the bot keeps about the sender, once they have confirmed."""
        if answer is None or not _is_yes(answer):
            confirm = f"{ctx.typed_name()} {ctx.t('core.forget_yes')}"
            await ctx.reply(ctx.t("core.forget_ask", confirm=confirm))
            return
        user_id = ctx.event.sender.user_id
        # A moderator's identity pin guards the moderation room: it is not theirs to drop.
        keeps_identity = await self.runtime.moderates(ctx.room.transport, user_id)
        plugins = self.runtime.registry.plugins()
        notes = [note for plugin in plugins for note in await plugin.forget(user_id)]
        if not keeps_identity:
            await ctx.bot.identities.forget(user_id)
        log.info("erased a person's data on request")
        lines = [ctx.t("core.forget_done"), *(ctx.t(n.key, **n.params) for n in notes)]
        if keeps_identity:
            lines.append(ctx.t("core.forget_kept_identity"))
        await ctx.reply("\n".join(lines))

    async def forget(self, user_id: str) -> list[Note]:
        await self.runtime.languages.forget(user_id)
        return []

    def _overview(self, ctx: CommandContext) -> Rich:
        """The commands usable here: this kind of room's own first, then those of every
        room, then housekeeping; in each, the most used first (rank), then by name as the
        reader types it (Spanish names sorted as Spanish)."""
        rich = Rich().bold(ctx.t("core.help_title")).newline()
        bound_for = self.runtime.registry.bound_for(ctx.level)
        usable = [bound for bound in bound_for if _here(ctx, bound)]
        usable.sort(key=lambda bound: _place(ctx, bound.spec))
        for bound in usable:
            rich.code(ctx.usage(bound.spec)).text(f" — {_help_text(ctx, bound)}").newline()
        return rich.italic(ctx.t("core.help_more", help=ctx.help_command()))

    def _details(self, ctx: CommandContext, bound: BoundCommand) -> Rich:
        spec = bound.spec
        rich = Rich().code(ctx.usage(spec)).newline().text(_help_text(ctx, bound))
        names = sorted(spec.all_names() - {spec.display_name(ctx.lang)})
        if names:
            prefix = ctx.bot.settings.bot.command_prefix
            also = ", ".join(f"{prefix}{name}" for name in names)
            rich.newline().italic(ctx.t("core.help_aliases", names=also))
        return rich


def _here(ctx: CommandContext, bound: BoundCommand) -> bool:
    """Usable in this room: not one the dispatcher refuses for this room's role."""
    roles, config = bound.spec.roles, ctx.bot.room_config(ctx.room)
    if roles is None or (ctx.direct and bound.spec.direct):
        return True
    return config is not None and ctx.bot.settings.room_fits(config, roles)


def _place(ctx: CommandContext, spec: CommandSpec) -> tuple[int, int, str]:
    group = 0 if spec.roles is not None else 1 if spec.rank < HOUSEKEEPING else 2
    return group, spec.rank, _folded(ctx.typed_name(spec))


def _help_text(ctx: CommandContext, bound: BoundCommand) -> str:
    return ctx.t(f"help.{bound.spec.name}", **bound.plugin.help_params(ctx.room, ctx.lang))


def _folded(name: str) -> str:
    """For sorting names as people read them: case and accents aside (ayuda before éxito)."""
    decomposed = unicodedata.normalize("NFKD", name.casefold())
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _is_yes(answer: str) -> bool:
    """Whether the answer is yes or sí (with or without the accent), in any case."""
    return _folded(answer) in {"yes", "si"}
