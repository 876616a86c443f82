"""Words every roster message shares: command names as the reader types them."""

from __future__ import annotations

from bot.api import BotContext, CommandContext, Translator

COMMANDS = (
    "roster",
    "myshifts",
    "claim",
    "unclaim",
    "swap",
    "take",
    "here",
    "done",
    "backup",
    "site",
)


def command_names(bot: BotContext, t: Translator) -> dict[str, str]:
    """`{cmd_claim}`, `{cmd_swap}`, ...: `!claim` in English, `!tomar` in Spanish."""
    prefix = bot.settings.bot.command_prefix
    found = {name: bot.registry.find(name) for name in COMMANDS}
    return {
        f"cmd_{name}": prefix + (bound.spec.display_name(t.lang) if bound else name)
        for name, bound in found.items()
    }


def answer(ctx: CommandContext, key: str, **params: object) -> str:
    """A string for the sender of a command, which may name commands and its usage."""
    return ctx.t(key, usage=ctx.usage(), **command_names(ctx.bot, ctx.t), **params)
