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
    return {f"cmd_{name}": bot.command_name(name, t.lang) for name in COMMANDS}


def answer(ctx: CommandContext, key: str, **params: object) -> str:
    """A string for the sender of a command, which may name commands and its usage."""
    return ctx.t(key, usage=ctx.usage(), **command_names(ctx.bot, ctx.t), **params)
